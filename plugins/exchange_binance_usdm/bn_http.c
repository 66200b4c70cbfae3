/* bn_http.c — see bn_http.h. */
#include "bn_http.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bn_buf.h"

typedef struct bn_xfer {
    struct bn_xfer *prev, *next;
    bn_http *h;
    CURL *easy;
    struct curl_slist *headers;
    bn_buf body, hdrs;
    char errbuf[CURL_ERROR_SIZE];
    bn_http_cb cb;
    void *ud;
} bn_xfer;

typedef struct bn_sock {
    struct event *ev;
    bn_http *h;
} bn_sock;

struct bn_http {
    CURLM *multi;
    struct event_base *base;
    struct event *timer;
    bn_xfer *xfers;
    size_t n_active;
};

static void xfer_free(bn_xfer *x)
{
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    bn_buf_free(&x->body);
    bn_buf_free(&x->hdrs);
    free(x);
}

static void unlink_xfer(bn_http *h, bn_xfer *x)
{
    if (x->prev) x->prev->next = x->next;
    else h->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
    h->n_active--;
}

static void check_done(bn_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        bn_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(h->multi, easy);
        unlink_xfer(h, x);
        bn_http_response r;
        memset(&r, 0, sizeof r);
        r.curl_code = (int)code;
        if (code == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
        else r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
        r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        bn_buf_append(&x->body, "", 0);
        bn_buf_append(&x->hdrs, "", 0);
        r.body = bn_buf_str(&x->body);
        r.body_len = x->body.len;
        r.headers = bn_buf_str(&x->hdrs);
        r.headers_len = x->hdrs.len;
        x->cb(x->ud, &r);
        xfer_free(x);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    bn_http *h = arg;
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(h->multi, fd, action, &running);
    /* No evtimer_del when nothing runs: a callback in check_done may just
     * have started a transfer whose timer curl armed. curl clears it itself. */
    check_done(h);
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_http *h = arg;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    bn_http *h = userp;
    bn_sock *sock = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            event_free(sock->ev);
            free(sock);
        }
        curl_multi_assign(h->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (!sock) {
        sock = calloc(1, sizeof *sock);
        if (!sock) return -1;
        sock->h = h;
        curl_multi_assign(h->multi, s, sock);
    } else if (sock->ev) {
        event_free(sock->ev);
    }
    sock->ev = event_new(h->base, s, kind, on_socket_event, h);
    if (!sock->ev) return -1;
    event_add(sock->ev, NULL);
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    bn_http *h = userp;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(h->timer, &tv);
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    bn_xfer *x = ud;
    return bn_buf_append(&x->body, p, size * n) ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    bn_xfer *x = ud;
    return bn_buf_append(&x->hdrs, p, size * n) ? size * n : 0;
}

bn_http *bn_http_new(struct event_base *base)
{
    static bool global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
        global_done = true;
    }
    bn_http *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->base = base;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, on_timer_event, h);
    if (!h->multi || !h->timer) {
        bn_http_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void bn_http_free(bn_http *h)
{
    if (!h) return;
    while (h->xfers) {
        bn_xfer *x = h->xfers;
        curl_multi_remove_handle(h->multi, x->easy);
        unlink_xfer(h, x);
        xfer_free(x);
    }
    if (h->multi) curl_multi_cleanup(h->multi);
    if (h->timer) event_free(h->timer);
    free(h);
}

size_t bn_http_active(const bn_http *h) { return h->n_active; }

int bn_http_send(bn_http *h, const bn_http_request *req, bn_http_cb cb, void *ud)
{
    bn_xfer *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->h = h;
    x->cb = cb;
    x->ud = ud;
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return -1;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(x->headers, req->headers[i]);
        if (!n) {
            xfer_free(x);
            return -1;
        }
        x->headers = n;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->fresh_connection) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (!strcmp(req->method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body) curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    }
    x->next = h->xfers;
    if (h->xfers) h->xfers->prev = x;
    h->xfers = x;
    h->n_active++;
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        unlink_xfer(h, x);
        xfer_free(x);
        return -1;
    }
    return 0;
}

bool bn_http_header(const char *headers, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    for (const char *line = headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            const char *end = line + llen;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ')) end--;
            size_t vlen = (size_t)(end - v);
            if (vlen >= outlen) vlen = outlen - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}
