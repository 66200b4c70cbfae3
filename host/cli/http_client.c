/* http_client.c — see http_client.h. */
#include "cli/http_client.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pending {
    qh_http_req *req;
    struct evhttp_connection *conn;
    struct event_base *base;
    size_t *left;
    struct timespec t0;
    bool done;
    enum evhttp_request_error failure;   /* set by on_error before on_done(NULL) */
    bool failed;
} pending;

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void finish(pending *p)
{
    if (p->done) return;
    p->done = true;
    p->req->elapsed_ms = ms_since(&p->t0);
    if (--*p->left == 0) event_base_loopexit(p->base, NULL);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
    pending *p = arg;
    p->failure = e;
    p->failed = true;
}

static void on_done(struct evhttp_request *r, void *arg)
{
    pending *p = arg;
    qh_http_req *q = p->req;
    if (!r || evhttp_request_get_response_code(r) == 0) {
        /* evhttp stops reading at the caps and fails the request: a body
         * too long is DATA_TOO_LONG, a head too long INVALID_HEADER */
        if (p->failed && p->failure == EVREQ_HTTP_DATA_TOO_LONG)
            snprintf(q->error, sizeof q->error, "the answer is larger than %u bytes; refused", QH_HTTP_MAX_RESPONSE);
        else if (p->failed && p->failure == EVREQ_HTTP_INVALID_HEADER)
            snprintf(q->error, sizeof q->error, "the answer's head is malformed or larger than %u bytes; refused",
                     QH_HTTP_MAX_HEAD);
        else
            snprintf(q->error, sizeof q->error, "unreachable: no answer (connection refused, reset or timed out)");
        finish(p);
        return;
    }
    q->status = evhttp_request_get_response_code(r);
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    size_t len = evbuffer_get_length(in);
    if (len > QH_HTTP_MAX_RESPONSE) {   /* a backstop: evhttp's cap stops it first */
        snprintf(q->error, sizeof q->error, "the answer is larger than %u bytes; refused", QH_HTTP_MAX_RESPONSE);
        q->status = 0;
    } else {
        q->response = malloc(len + 1);
        if (q->response) {
            evbuffer_remove(in, q->response, len);
            q->response[len] = '\0';
            q->response_len = len;
        }
    }
    finish(p);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    event_base_loopexit(arg, NULL);
}

/* Split http://host[:port]/path?query; false with a reason in req->error. */
static bool start(pending *p)
{
    qh_http_req *q = p->req;
    struct evhttp_uri *u = evhttp_uri_parse(q->url);
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    if (!u || !scheme || strcmp(scheme, "http") != 0 || !host) {
        snprintf(q->error, sizeof q->error, "not an http:// URL: %.200s", q->url);
        if (u) evhttp_uri_free(u);
        return false;
    }
    int port = evhttp_uri_get_port(u);
    char target[1200];
    const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
    snprintf(target, sizeof target, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
    p->conn = evhttp_connection_base_new(p->base, NULL, host, (ev_uint16_t)(port > 0 ? port : 80));
    struct evhttp_request *r = p->conn ? evhttp_request_new(on_done, p) : NULL;
    if (!r) {
        snprintf(q->error, sizeof q->error, "out of memory");
        evhttp_uri_free(u);
        return false;
    }
    long ms = q->timeout_ms > 0 ? q->timeout_ms : 10000;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evhttp_connection_set_timeout_tv(p->conn, &tv);
    evhttp_connection_set_retries(p->conn, 0);
    evhttp_connection_set_max_headers_size(p->conn, QH_HTTP_MAX_HEAD);
    evhttp_connection_set_max_body_size(p->conn, QH_HTTP_MAX_RESPONSE - QH_HTTP_MAX_HEAD);
    evhttp_request_set_error_cb(r, on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Connection", "close");
    if (q->bearer && *q->bearer) {
        char auth[600];
        snprintf(auth, sizeof auth, "Bearer %s", q->bearer);
        evhttp_add_header(h, "Authorization", auth);
    }
    bool post = q->method && strcmp(q->method, "POST") == 0;
    if (post) {
        evhttp_add_header(h, "Content-Type", "application/json");
        if (q->body) evbuffer_add(evhttp_request_get_output_buffer(r), q->body, strlen(q->body));
    }
    evhttp_uri_free(u);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    if (evhttp_make_request(p->conn, r, post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, target) != 0) {
        snprintf(q->error, sizeof q->error, "cannot send the request");
        return false;
    }
    return true;
}

void qh_http_run(qh_http_req *reqs, size_t n)
{
    struct event_base *base = event_base_new();
    pending *ps = calloc(n ? n : 1, sizeof *ps);
    if (!base || !ps) {
        for (size_t i = 0; i < n; i++) snprintf(reqs[i].error, sizeof reqs[i].error, "out of memory");
        free(ps);
        if (base) event_base_free(base);
        return;
    }
    size_t left = 0;
    long longest = 0;
    for (size_t i = 0; i < n; i++) {
        reqs[i].status = 0;
        reqs[i].error[0] = '\0';
        reqs[i].response = NULL;
        reqs[i].response_len = 0;
        ps[i] = (pending){ .req = &reqs[i], .base = base, .left = &left };
        long t = reqs[i].timeout_ms > 0 ? reqs[i].timeout_ms : 10000;
        if (t > longest) longest = t;
        left++;
        if (!start(&ps[i])) { ps[i].done = true; left--; }
    }
    if (left) {
        /* a backstop beside evhttp's own timeouts: this call always returns */
        struct timeval dl = { longest / 1000 + 2, 0 };
        struct event *deadline = evtimer_new(base, on_deadline, base);
        if (deadline) evtimer_add(deadline, &dl);
        event_base_dispatch(base);
        if (deadline) event_free(deadline);
        for (size_t i = 0; i < n; i++)
            if (!ps[i].done) snprintf(reqs[i].error, sizeof reqs[i].error, "unreachable: no answer within %ld ms", longest);
    }
    for (size_t i = 0; i < n; i++)
        if (ps[i].conn) evhttp_connection_free(ps[i].conn);
    free(ps);
    event_base_free(base);
}

void qh_http_free(qh_http_req *r)
{
    free(r->response);
    r->response = NULL;
    r->response_len = 0;
}

int qh_http_base_url(const char *flag, const char *command, char *buf, size_t cap)
{
    const char *env = getenv("QTR_URL");
    const char *from = flag && *flag ? "--url" : env && *env ? "$QTR_URL" : NULL;
    const char *url = flag && *flag ? flag : env && *env ? env : "http://127.0.0.1:8080";
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL, *host = u ? evhttp_uri_get_host(u) : NULL;
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    bool ok = scheme && strcmp(scheme, "http") == 0 && host && *host && !evhttp_uri_get_userinfo(u) &&
              evhttp_uri_get_port(u) != 0 && !evhttp_uri_get_query(u) && !evhttp_uri_get_fragment(u) &&
              (!path || strspn(path, "/") == strlen(path));
    if (u) evhttp_uri_free(u);
    size_t len = strlen(url);
    if (!ok || len >= cap) {
        fprintf(stderr, "qtr %s: %s %.200s: not an http://host[:port] URL\n", command, from ? from : "the default",
                url);
        return -1;
    }
    while (len > 0 && url[len - 1] == '/') len--;   /* the path is only slashes: what remains is http://host[:port] */
    memcpy(buf, url, len);
    buf[len] = '\0';
    return 0;
}
