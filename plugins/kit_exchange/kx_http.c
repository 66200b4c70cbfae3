/* kx_http.c — see kx_http.h. Every libcurl call goes through h->c. */
#include "kx_http.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kx_buf.h"

typedef struct kx_xfer {
    struct kx_xfer *prev, *next;
    kx_http *h;
    CURL *easy;
    struct curl_slist *headers;
    kx_buf body, hdrs;
    char errbuf[CURL_ERROR_SIZE];
    kx_http_cb cb;
    void *ud;
    bool discard;            /* the answer is not kept */
} kx_xfer;

typedef struct kx_sock {
    struct event *ev;
    kx_http *h;
} kx_sock;

struct kx_http {
    kx_curl *c;
    CURLM *multi;
    struct event_base *base;
    struct event *timer;
    kx_xfer *xfers;
    size_t n_active;
};

static void xfer_free(kx_xfer *x)
{
    if (x->easy) x->h->c->easy_cleanup(x->easy);
    x->h->c->slist_free_all(x->headers);
    kx_buf_free(&x->body);
    kx_buf_free(&x->hdrs);
    free(x);
}

static void unlink_xfer(kx_http *h, kx_xfer *x)
{
    if (x->prev) x->prev->next = x->next;
    else h->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
    h->n_active--;
}

static void check_done(kx_http *h)
{
    CURLMsg *msg;
    int left;
    const kx_curl *c = h->c;
    while ((msg = c->multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        kx_xfer *x = NULL;
        c->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        c->multi_remove_handle(h->multi, easy);
        unlink_xfer(h, x);
        kx_http_response r;
        memset(&r, 0, sizeof r);
        r.curl_code = (int)code;
        if (code == CURLE_OK) c->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
        else r.error = x->errbuf[0] ? x->errbuf : c->easy_strerror(code);
        r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        kx_buf_append(&x->body, "", 0);
        kx_buf_append(&x->hdrs, "", 0);
        r.body = kx_buf_str(&x->body);
        r.body_len = x->body.len;
        r.headers = kx_buf_str(&x->hdrs);
        r.headers_len = x->hdrs.len;
        x->cb(x->ud, &r);
        xfer_free(x);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    kx_http *h = arg;
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    h->c->multi_socket_action(h->multi, fd, action, &running);
    /* No evtimer_del when nothing runs: a callback in check_done may just
     * have started a transfer whose timer curl armed. curl clears it itself. */
    check_done(h);
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    kx_http *h = arg;
    int running = 0;
    h->c->multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    kx_http *h = userp;
    kx_sock *sock = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            event_free(sock->ev);
            free(sock);
        }
        h->c->multi_assign(h->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (!sock) {
        sock = calloc(1, sizeof *sock);
        if (!sock) return -1;
        sock->h = h;
        h->c->multi_assign(h->multi, s, sock);
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
    kx_http *h = userp;
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
    kx_xfer *x = ud;
    if (x->discard) return size * n;
    return kx_buf_append(&x->body, p, size * n) ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    kx_xfer *x = ud;
    if (x->discard) return size * n;
    return kx_buf_append(&x->hdrs, p, size * n) ? size * n : 0;
}

kx_http *kx_http_new(kx_curl *curl, struct event_base *base)
{
    if (!curl || !base || curl->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
    kx_http *h = calloc(1, sizeof *h);
    if (!h) {
        curl->global_cleanup();
        return NULL;
    }
    h->c = curl;
    h->base = base;
    h->multi = curl->multi_init();
    h->timer = evtimer_new(base, on_timer_event, h);
    if (!h->multi || !h->timer) {
        kx_http_free(h);
        return NULL;
    }
    curl->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void kx_http_free(kx_http *h)
{
    if (!h) return;
    while (h->xfers) {
        kx_xfer *x = h->xfers;
        h->c->multi_remove_handle(h->multi, x->easy); /* closes its socket */
        unlink_xfer(h, x);
        xfer_free(x);
        h->c->pinned = true;
    }
    if (h->multi) h->c->multi_cleanup(h->multi);
    if (h->timer) event_free(h->timer);
    kx_curl *c = h->c;
    free(h);
    c->global_cleanup();
}

size_t kx_http_active(const kx_http *h) { return h->n_active; }

int kx_http_send(kx_http *h, const kx_http_request *req, kx_http_cb cb, void *ud)
{
    const kx_curl *c = h->c;
    kx_xfer *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->h = h;
    x->cb = cb;
    x->ud = ud;
    x->discard = req->discard_answer;
    x->easy = c->easy_init();
    if (!x->easy) {
        free(x);
        return -1;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = c->slist_append(x->headers, req->headers[i]);
        if (!n) {
            xfer_free(x);
            return -1;
        }
        x->headers = n;
    }
    CURL *e = x->easy;
    long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : req->timeout_ms;
    c->easy_setopt(e, CURLOPT_URL, req->url);
    c->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    c->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    c->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    c->easy_setopt(e, CURLOPT_WRITEDATA, x);
    c->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    c->easy_setopt(e, CURLOPT_HEADERDATA, x);
    c->easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    c->easy_setopt(e, CURLOPT_PRIVATE, x);
    c->easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    c->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    c->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->user_agent) c->easy_setopt(e, CURLOPT_USERAGENT, req->user_agent);
    if (req->fresh_connection) c->easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (!strcmp(req->method, "POST")) {
        c->easy_setopt(e, CURLOPT_POST, 1L);
        c->easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
    } else if (strcmp(req->method, "GET") != 0) {
        c->easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body) c->easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    }
    x->next = h->xfers;
    if (h->xfers) h->xfers->prev = x;
    h->xfers = x;
    h->n_active++;
    if (c->multi_add_handle(h->multi, e) != CURLM_OK) {
        unlink_xfer(h, x);
        xfer_free(x);
        return -1;
    }
    return 0;
}

bool kx_http_header(const char *headers, const char *name, char *out, size_t outlen)
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
