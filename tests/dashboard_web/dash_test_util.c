/* dash_test_util.c — see dash_test_util.h. */
#include "dash_test_util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

int64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool dash_start(dash_fixture *f, const char *const *options)
{
    return dash_start_on(f, mock_host_new(true), options);
}

bool dash_start_on(dash_fixture *f, mock_host *m, const char *const *options)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    mock_host_set_option(f->m, "listen", "127.0.0.1:0");
    for (size_t i = 0; options && options[i]; i += 2) mock_host_set_option(f->m, options[i], options[i + 1]);
    if (mock_plugin_load(f->m, mock_plugin_path("dashboard_web"), &f->p) != 0) {
        fprintf(stderr, "dashboard_web did not load: %s\n", f->m->last_log);
        return false;
    }
    qtr_health h;
    memset(&h, 0, sizeof h);
    f->p.desc->health(f->p.state, &h);
    const char *at = strstr(h.reason, "listening on ");
    const char *colon = at ? strchr(at + 13, ':') : NULL;
    if (!at || !colon) {
        fprintf(stderr, "no port in health reason '%s'\n", h.reason);
        return false;
    }
    f->port = atoi(colon + 1);
    return f->port > 0;
}

void dash_stop(dash_fixture *f)
{
    if (f->m) {
        mock_plugin_unload(f->m, &f->p);
        mock_host_free(f->m);
    }
    memset(f, 0, sizeof *f);
}

static bool connect_loopback(struct bufferevent *bev, int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin) == 0;
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct http_call {
    struct evbuffer *acc;
    bool done;
} http_call;

static void http_read_cb(struct bufferevent *bev, void *arg)
{
    http_call *c = arg;
    evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
}

static void http_event_cb(struct bufferevent *bev, short what, void *arg)
{
    http_call *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
        c->done = true;
    }
}

static bool call_done(void *ud) { return ((http_call *)ud)->done; }

/* Counts complete responses in text and fills the first one into out. */
static void parse_responses(const char *text, size_t len, http_result *out)
{
    size_t pos = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *end = strstr(start, "\r\n\r\n");
        if (!end || strncmp(start, "HTTP/1.", 7) != 0) break;
        size_t head_len = (size_t)(end - start) + 4;
        size_t body_len = 0;
        for (const char *p = start; p < end; p++) {
            if ((p == start || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
                body_len = (size_t)strtoull(p + 15, NULL, 10);
                break;
            }
        }
        bool head_only = out->n_responses == 0 && out->status == -1;  /* HEAD request: no body follows */
        if (head_only) body_len = 0;
        if (pos + head_len + body_len > len) body_len = len - pos - head_len;
        if (out->n_responses == 0) {
            out->status = atoi(start + 9);
            out->head = strndup(start, head_len);
            out->body = malloc(body_len + 1);
            memcpy(out->body, start + head_len, body_len);
            out->body[body_len] = '\0';
            out->body_len = body_len;
        }
        out->n_responses++;
        pos += head_len + body_len;
    }
}

static bool http_raw_ex(mock_host *m, int port, const char *raw, size_t len, http_result *out, bool head)
{
    memset(out, 0, sizeof *out);
    http_call call = { evbuffer_new(), false };
    struct bufferevent *bev = bufferevent_socket_new(m->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, http_read_cb, NULL, http_event_cb, &call);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (!connect_loopback(bev, port)) {
        bufferevent_free(bev);
        evbuffer_free(call.acc);
        return false;
    }
    bufferevent_write(bev, raw, len);
    mock_host_run_until(m, 5000, call_done, &call);
    bufferevent_free(bev);
    size_t n = evbuffer_get_length(call.acc);
    char *text = malloc(n + 1);
    evbuffer_remove(call.acc, text, n);
    text[n] = '\0';
    evbuffer_free(call.acc);
    if (head) out->status = -1;
    parse_responses(text, n, out);
    if (out->status == -1) out->status = 0;
    free(text);
    return out->status > 0;
}

bool http_raw(mock_host *m, int port, const char *raw, size_t len, http_result *out)
{
    return http_raw_ex(m, port, raw, len, out, false);
}

bool http_req(mock_host *m, int port, const char *method, const char *path, const char *extra_headers,
              const char *body, http_result *out)
{
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(path) + (extra_headers ? strlen(extra_headers) : 0) + blen + 256;
    char *raw = malloc(cap);
    int n = snprintf(raw, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
                     method, path, port, extra_headers ? extra_headers : "", blen, body ? body : "");
    bool ok = http_raw_ex(m, port, raw, (size_t)n, out, strcmp(method, "HEAD") == 0);
    free(raw);
    return ok;
}

const char *http_result_header(const http_result *r, const char *name, char *buf, size_t cap)
{
    if (!r->head) return NULL;
    size_t nlen = strlen(name);
    for (const char *p = r->head; (p = strstr(p, "\r\n")) != NULL;) {
        p += 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ') v++;
            size_t vlen = strcspn(v, "\r\n");
            if (vlen >= cap) vlen = cap - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
    }
    return NULL;
}

json_t *http_result_json(const http_result *r)
{
    if (!r->body) return NULL;
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    if (!j) fprintf(stderr, "not JSON (%s): %.200s\n", err.text, r->body);
    return j;
}

void http_result_free(http_result *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- WebSocket client ---------------------------------------------------- */

static ssize_t tc_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_tc *c = ud;
    int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    c->bytes_in += (uint64_t)n;
    return n;
}

static ssize_t tc_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags; (void)ctx;
    ws_tc *c = ud;
    bufferevent_write(c->bev, data, len);
    return (ssize_t)len;
}

static int tc_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx; (void)ud;
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rand();
    return 0;
}

static void tc_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    (void)ctx;
    ws_tc *c = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        c->close_received = true;
        c->close_code = arg->status_code;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME) return;
    if (c->on_msg) c->on_msg(c, (const char *)arg->msg, arg->msg_length, c->ud);
    if (c->keep) {
        if (c->n_msgs == c->cap_msgs) {
            c->cap_msgs = c->cap_msgs ? c->cap_msgs * 2 : 64;
            c->msgs = realloc(c->msgs, c->cap_msgs * sizeof *c->msgs);
        }
        c->msgs[c->n_msgs++] = strndup((const char *)arg->msg, arg->msg_length);
    }
}

static void tc_pump_frames(ws_tc *c)
{
    wslay_event_context_ptr ws = c->ws;
    if (!ws) return;
    wslay_event_recv(ws);
    wslay_event_send(ws);
}

static void tc_read(struct bufferevent *bev, void *arg)
{
    ws_tc *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!c->open && !c->failed) {
        struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (end.pos < 0) return;
        size_t hl = (size_t)end.pos + 4;
        char *head = malloc(hl + 1);
        evbuffer_remove(in, head, hl);
        head[hl] = '\0';
        c->http_status = atoi(head + 9);
        const char *acc = strcasestr(head, "\r\nSec-WebSocket-Accept:");
        if (acc) {
            acc += 23;
            while (*acc == ' ') acc++;
            snprintf(c->accept, sizeof c->accept, "%.*s", (int)strcspn(acc, "\r\n"), acc);
        }
        free(head);
        if (c->http_status != 101 || strcmp(c->accept, WS_SAMPLE_ACCEPT) != 0) {
            c->failed = true;
            return;
        }
        static const struct wslay_event_callbacks cbs = {
            .recv_callback = tc_recv, .send_callback = tc_send, .genmask_callback = tc_genmask,
            .on_msg_recv_callback = tc_msg,
        };
        wslay_event_context_ptr ws;
        wslay_event_context_client_init(&ws, &cbs, c);
        wslay_event_config_set_max_recv_msg_length(ws, 64 * 1024 * 1024);
        c->ws = ws;
        c->open = true;
    }
    if (c->open) tc_pump_frames(c);
}

static void tc_event(struct bufferevent *bev, short what, void *arg)
{
    ws_tc *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->open) tc_read(bev, c);   /* frames before the FIN */
        c->eof = true;
    }
}

ws_tc *ws_tc_connect(mock_host *m, int port, const char *extra_headers, int rcvbuf)
{
    return ws_tc_connect_as(m, port, NULL, extra_headers, rcvbuf);
}

ws_tc *ws_tc_connect_as(mock_host *m, int port, const char *host, const char *extra_headers, int rcvbuf)
{
    ws_tc *c = calloc(1, sizeof *c);
    c->m = m;
    c->keep = true;
    evutil_socket_t fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(m->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, tc_read, NULL, tc_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    connect_loopback(c->bev, port);
    char req[1024], loopback[32];
    snprintf(loopback, sizeof loopback, "127.0.0.1:%d", port);
    int n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_SAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     host ? host : loopback, extra_headers ? extra_headers : "");
    bufferevent_write(c->bev, req, (size_t)n);
    return c;
}

static bool tc_opened(void *ud) { ws_tc *c = ud; return c->open || c->failed || c->eof; }
bool ws_tc_wait_open(ws_tc *c, int64_t ms)
{
    mock_host_run_until(c->m, ms, tc_opened, c);
    return c->open;
}

typedef struct msgs_wait { ws_tc *c; size_t n; } msgs_wait;
static bool tc_has_msgs(void *ud) { msgs_wait *w = ud; return w->c->n_msgs >= w->n || w->c->eof; }
bool ws_tc_wait_msgs(ws_tc *c, size_t n, int64_t ms)
{
    msgs_wait w = { c, n };
    mock_host_run_until(c->m, ms, tc_has_msgs, &w);
    return c->n_msgs >= n;
}

static bool tc_closed(void *ud) { ws_tc *c = ud; return c->eof; }
bool ws_tc_wait_closed(ws_tc *c, int64_t ms)
{
    return mock_host_run_until(c->m, ms, tc_closed, c);
}

void ws_tc_send_text(ws_tc *c, const char *text)
{
    struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text) };
    wslay_event_queue_msg(c->ws, &msg);
    wslay_event_send(c->ws);
}

void ws_tc_send_raw(ws_tc *c, const void *data, size_t len) { bufferevent_write(c->bev, data, len); }

void ws_tc_pause(ws_tc *c, bool paused)
{
    if (paused) bufferevent_disable(c->bev, EV_READ);
    else {
        bufferevent_enable(c->bev, EV_READ);
        if (c->open) tc_pump_frames(c);
    }
}

void ws_tc_free(ws_tc *c)
{
    if (!c) return;
    if (c->ws) wslay_event_context_free(c->ws);
    bufferevent_free(c->bev);
    for (size_t i = 0; i < c->n_msgs; i++) free(c->msgs[i]);
    free(c->msgs);
    free(c);
}

double metric_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    }
    return -1;
}

double dash_scrape(dash_fixture *f, const char *series)
{
    http_result r;
    double v = -1;
    if (http_req(f->m, f->port, "GET", "/metrics", NULL, NULL, &r) && r.status == 200) v = metric_value(r.body, series);
    http_result_free(&r);
    return v;
}
