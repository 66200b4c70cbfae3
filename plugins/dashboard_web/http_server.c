/* http_server.c — see http_server.h. */
#include "http_server.h"
#include "log_text.h"
#include "router.h"
#include "ws_client.h"
#include "ws_handshake.h"
#include "write_now.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct http_conn {
    struct http_conn *prev, *next;
    dash *d;
    struct bufferevent *bev;           /* writes, and the input buffer */
    /* Reading is ours, not the bufferevent's: libevent asks the kernel how
     * much there is (ioctl FIONREAD) before every read, one syscall in four
     * per request. Persistent with the idle timeout: it runs from the last read. */
    struct event *readable;
    char peer[64];
    char addr[INET6_ADDRSTRLEN];       /* the peer without its port: the per-address cap */
    struct event *deadline;            /* the request being read must be whole by then */
    int64_t since_ns;                  /* accepted, or last answered: who yields a slot first */
    bool operator_request;             /* the request in hand must get through (router_is_operator) */
    bool closing;                      /* answer sent; close once flushed */
    bool lingering;                    /* flushed and half-closed: reading what still comes (linger) */
    bool peer_eof;                     /* the peer closed its side: nothing to linger for */
    size_t linger_bytes;               /* dropped while lingering */
    bool paused;                       /* output over HTTP_OUTPUT_PAUSE: further requests wait */
    /* the request being read */
    char unparsed_line[128];           /* its first line for the log (log_text) while it is not parsed */
    bool have_head;
    char *head;
    http_request req;
} http_conn;

const char *http_status_text(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 421: return "Misdirected Request";
    case 426: return "Upgrade Required";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void http_add_header(http_response *res, const char *fmt, ...)
{
    size_t used = strlen(res->headers);
    if (!strchr(fmt, '%')) {           /* a plain line, the usual case: no printf machinery */
        qtr_strlcpy(res->headers + used, fmt, sizeof res->headers - used);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->headers + used, sizeof res->headers - used, fmt, ap);
    va_end(ap);
}

void http_error(http_response *res, int status, const char *message)
{
    res->status = status;
    res->content_type = "application/json";
    evbuffer_drain(res->body, evbuffer_get_length(res->body));
    /* messages are ours (no user text), but escape quotes anyway */
    evbuffer_add_printf(res->body, "{\"error\":\"");
    for (const char *c = message; *c; c++) {
        if (*c == '"' || *c == '\\') evbuffer_add_printf(res->body, "\\%c", *c);
        else if ((unsigned char)*c >= 0x20) evbuffer_add(res->body, c, 1);
    }
    evbuffer_add_printf(res->body, "\"}\n");
}

static void conn_free(http_conn *c)
{
    dash *d = c->d;
    if (c->prev) c->prev->next = c->next; else d->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    d->n_conns--;
    if (c->readable) event_free(c->readable);
    if (c->deadline) event_free(c->deadline);
    if (c->bev) bufferevent_free(c->bev);
    free(c->head);
    free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg);
static void on_read(struct bufferevent *bev, void *arg);

/* Input held at most: a whole head and body, and a little of the next. */
#define HTTP_INPUT_MAX (DASH_MAX_HEADER_BYTES + DASH_MAX_BODY_BYTES + 1024)
#define HTTP_READ_CHUNK 16384

/* Unsent output a connection may hold before its further requests wait
 * unread: a client that pipelines requests and never reads would otherwise
 * have every answer queued here. An answer always goes whole, so a
 * connection holds at most this plus its largest answer. */
#define HTTP_OUTPUT_PAUSE (256 * 1024)
/* ...and its requests are read again once the output has drained to this. */
#define HTTP_OUTPUT_RESUME (64 * 1024)

static void on_output_drained(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (!c->paused) return;
    c->paused = false;
    bufferevent_setcb(bev, NULL, NULL, on_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    struct timeval idle = { DASH_HTTP_IDLE_S, 0 };
    if (event_add(c->readable, &idle) != 0) { conn_free(c); return; }
    on_read(bev, c);                   /* the requests already buffered; may free c */
}

/* Stops reading and answering until the peer has taken most of the output.
 * The idle timer stops with the reads; the bufferevent's write timeout
 * (DASH_HTTP_IDLE_S without progress) closes a peer that never reads. */
static void pause_requests(http_conn *c)
{
    c->paused = true;
    event_del(c->readable);
    event_del(c->deadline);            /* our wait, not the peer's: on_read re-arms it */
    bufferevent_setwatermark(c->bev, EV_WRITE, HTTP_OUTPUT_RESUME, 0);
    bufferevent_setcb(c->bev, NULL, on_output_drained, on_event, c);
}

/* How long, and how much, a closed connection still reads (linger). */
#define HTTP_LINGER_MS 2000
#define HTTP_LINGER_BYTES (1024 * 1024)

/* The answer is with the kernel: our FIN goes after it, and what the peer
 * still sends is read and dropped until it closes too, HTTP_LINGER_MS pass or
 * HTTP_LINGER_BYTES came (RFC 9112 9.6). A close() with unread input sends a
 * reset, which can destroy the answer before the peer reads it: a client
 * still sending the body of a 413 would never see the 413. */
static void linger(http_conn *c)
{
    if (c->peer_eof || shutdown(bufferevent_getfd(c->bev), SHUT_WR) != 0) { conn_free(c); return; }
    c->lingering = true;
    c->operator_request = false;
    c->since_ns = INT64_MIN;           /* answered: the first to give way to a new connection */
    bufferevent_setcb(c->bev, NULL, NULL, on_event, c);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    /* the deadline bounds the whole linger; reads no longer move it */
    struct timeval tv = { HTTP_LINGER_MS / 1000, (HTTP_LINGER_MS % 1000) * 1000 };
    if (event_add(c->readable, NULL) != 0 || event_add(c->deadline, &tv) != 0) conn_free(c);
}

/* One read while lingering: dropped, counted; the peer's close ends it. */
static void linger_read(http_conn *c, evutil_socket_t fd)
{
    char sink[HTTP_READ_CHUNK];
    ssize_t n = recv(fd, sink, sizeof sink, 0);
    if (n > 0) {
        c->linger_bytes += (size_t)n;
        if (c->linger_bytes >= HTTP_LINGER_BYTES) conn_free(c);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    conn_free(c);
}

static void on_flushed_close(struct bufferevent *bev, void *arg)
{
    (void)bev;
    http_conn *c = arg;
    if (c->closing && !c->lingering && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) linger(c);
}

/* Nothing more is read or answered; c is freed once its output is sent
 * (all_sent: it is already). */
static void close_when_flushed(http_conn *c, bool all_sent)
{
    c->closing = true;
    event_del(c->deadline);
    event_del(c->readable);
    /* on_event still frees it if the peer never takes the answer */
    bufferevent_setcb(c->bev, NULL, on_flushed_close, on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    /* all of it went already: no write will come to call on_flushed_close */
    if (all_sent) bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS | BEV_TRIG_IGNORE_WATERMARKS);
}

/* Appends s (n bytes) at *o if it fits before end; false if it does not. */
static bool head_put(char **o, const char *end, const char *s, size_t n)
{
    if ((size_t)(end - *o) < n) return false;
    memcpy(*o, s, n);
    *o += n;
    return true;
}

#define HEAD_PUT_LIT(o, end, lit) head_put((o), (end), (lit), sizeof(lit) - 1)

/* The status line and headers of an answer into buf (cap bytes); its
 * length, 0 if it did not fit. Built by hand: snprintf of the same text was a
 * quarter of the server's instructions for a small answer (/health/all). */
static size_t response_head(char *buf, size_t cap, const http_response *res, size_t body_len, bool close)
{
    char *o = buf;
    const char *end = buf + cap;
    char num[24];
    char *p = num + sizeof num;
    size_t v = body_len;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    const char *reason = http_status_text(res->status);
    const char *type = res->content_type ? res->content_type : "application/json";
    char status[3] = { (char)('0' + res->status / 100 % 10), (char)('0' + res->status / 10 % 10),
                       (char)('0' + res->status % 10) };
    bool ok = HEAD_PUT_LIT(&o, end, "HTTP/1.1 ") && head_put(&o, end, status, 3) && HEAD_PUT_LIT(&o, end, " ") &&
              head_put(&o, end, reason, strlen(reason)) && HEAD_PUT_LIT(&o, end, "\r\nContent-Type: ") &&
              head_put(&o, end, type, strlen(type)) && HEAD_PUT_LIT(&o, end, "\r\nContent-Length: ") &&
              head_put(&o, end, p, (size_t)(num + sizeof num - p)) &&
              HEAD_PUT_LIT(&o, end, "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n") &&
              head_put(&o, end, res->headers, strnlen(res->headers, sizeof res->headers)) &&
              (!close || HEAD_PUT_LIT(&o, end, "Connection: close\r\n")) && HEAD_PUT_LIT(&o, end, "\r\n");
    return ok ? (size_t)(o - buf) : 0;
}

/* why: the refusal's reason for the log (ours, no client text), or NULL. */
static void send_response(http_conn *c, const http_request *req, http_response *res, bool head_only, bool close,
                          const char *why)
{
    size_t len = evbuffer_get_length(res->body);
    char head[1024];                   /* the fixed lines and res->headers (512) always fit */
    size_t n = response_head(head, sizeof head, res, len, close);
    if (head_only) evbuffer_drain(res->body, len);
    evbuffer_prepend(res->body, head, n);
    bool all_sent = write_now(c->bev, res->body);
    size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));
    if (queued > c->d->metrics.http_queued_bytes_peak) c->d->metrics.http_queued_bytes_peak = queued;
    metrics_count_http(&c->d->metrics, res->status);
    const char *why_open = why ? " (" : "", *why_close = why ? ")" : "";
    if (!why) why = "";
    if (res->status >= 400 && req)
        c->d->h->log(c->d->ctx, res->status >= 500 ? QTR_LOG_WARN : QTR_LOG_INFO, "http %s %s %s from %s: %d%s%s%s",
                     req->method, req->path, "answered", c->peer, res->status, why_open, why, why_close);
    else if (res->status >= 400)       /* no request parsed: what there is of its first line */
        c->d->h->log(c->d->ctx, res->status >= 500 ? QTR_LOG_WARN : QTR_LOG_INFO,
                     "http \"%s\" answered from %s: %d%s%s%s", c->unparsed_line, c->peer, res->status, why_open, why,
                     why_close);
    if (close) close_when_flushed(c, all_sent);
}

/* An error before or instead of routing: answer and close. */
static void fail(http_conn *c, int status, const char *message)
{
    http_response res = { .status = status };
    res.body = evbuffer_new();
    if (!res.body) { conn_free(c); return; }
    http_error(&res, status, message);
    send_response(c, c->have_head ? &c->req : NULL, &res, false, true, message);
    evbuffer_free(res.body);
}

/* What a refusal before parsing logs: the first line of text (len bytes),
 * cut to fit, control characters as '?' (a NUL too: binary input shows). */
static void note_first_line(http_conn *c, const char *text, size_t len)
{
    char line[sizeof c->unparsed_line];
    size_t n = 0;
    for (; n < len && n + 1 < sizeof line && text[n] != '\r' && text[n] != '\n'; n++) line[n] = text[n] ? text[n] : '?';
    line[n] = '\0';
    log_text(c->unparsed_line, sizeof c->unparsed_line, line);
}

static void reset_request(http_conn *c)
{
    c->unparsed_line[0] = '\0';
    free(c->head);
    c->head = NULL;
    c->have_head = false;
    c->operator_request = false;
    c->since_ns = dash_now_ns(c->d);
}

static void arm_deadline(http_conn *c)
{
    int64_t ms = c->d->opt.request_timeout_ms;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
    event_add(c->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    http_conn *c = arg;
    if (c->lingering) { conn_free(c); return; }   /* HTTP_LINGER_MS are over */
    if (c->closing) return;
    c->d->metrics.http_request_timeouts++;
    if (!c->have_head) {               /* what came of the head */
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in);
        size_t look = avail < sizeof c->unparsed_line ? avail : sizeof c->unparsed_line;
        const char *bytes = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
        if (bytes) note_first_line(c, bytes, look);
    }
    char why[96];
    snprintf(why, sizeof why, "request not received whole within %lld ms (request_timeout_ms)",
             (long long)c->d->opt.request_timeout_ms);
    fail(c, 408, why);
}

/* Blank lines before a request line are allowed (RFC 9112 2.2): drop them.
 * False if a lone CR is all there is so far. */
static bool skip_blank_lines(struct evbuffer *in)
{
    for (;;) {
        unsigned char two[2];
        ev_ssize_t n = evbuffer_copyout(in, two, 2);
        if (n >= 1 && two[0] == '\n') evbuffer_drain(in, 1);
        else if (n == 2 && two[0] == '\r' && two[1] == '\n') evbuffer_drain(in, 2);
        else return !(n == 1 && two[0] == '\r');
    }
}

/* Returns true if the connection now belongs to a WebSocket client. */
static bool try_upgrade(http_conn *c)
{
    dash *d = c->d;
    const char *why = NULL;
    int status = ws_check_upgrade(&c->req, &d->hosts, &why);
    if (status == 0 && (int64_t)d->n_clients >= d->opt.max_ws_clients) {
        status = 503;
        why = "too many WebSocket clients";
    }
    if (status) {
        d->h->log(d->ctx, QTR_LOG_WARN, "ws handshake from %s refused: %s", c->peer, why);
        http_response res = { .status = status };
        res.body = evbuffer_new();
        if (!res.body) { conn_free(c); return true; }
        http_error(&res, status, why);
        if (status == 426) http_add_header(&res, "Sec-WebSocket-Version: 13\r\n");
        send_response(c, &c->req, &res, false, true, NULL);   /* logged above */
        evbuffer_free(res.body);
        return false;
    }
    char accept[WS_ACCEPT_LEN];
    ws_accept_key(http_header_get(&c->req, "Sec-WebSocket-Key"), accept);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    metrics_count_http(&d->metrics, 101);
    struct bufferevent *bev = c->bev;
    char peer[sizeof c->peer];
    memcpy(peer, c->peer, sizeof peer);
    c->bev = NULL;                      /* the WebSocket client owns it now */
    conn_free(c);
    ws_client_adopt(d, bev, peer);
    return true;
}

/* Dispatch one complete request. Returns true if the connection is gone or
 * no longer HTTP (upgraded, or closing). */
static bool handle_request(http_conn *c, const char *body, size_t body_len)
{
    dash *d = c->d;
    /* No Host at all is no browser, so no rebinding: curl and the CLI always send one anyway. */
    const char *host = http_header_get(&c->req, "Host");
    bool misdirected = host && !host_allow_has(&d->hosts, host, strlen(host));
    if (!misdirected && router_is_ws(c->req.path) && http_header_get(&c->req, "Upgrade"))
        return try_upgrade(c) || c->closing;
    http_response res = { .status = 200 };
    res.body = evbuffer_new();
    if (!res.body) { conn_free(c); return true; }
    if (misdirected) {
        d->h->log(d->ctx, QTR_LOG_WARN,
                  "http %s %s from %s refused: Host '%.100s' is not this server's (allowed_hosts)", c->req.method,
                  c->req.path, c->peer, host);
        http_error(&res, 421, "Host is not a name of this server: add it to the dashboard's allowed_hosts option");
    } else {
        router_dispatch(d, &c->req, body, body_len, c->peer, &res);
    }
    bool close = !c->req.keep_alive || misdirected;   /* nothing more for a stranger */
    send_response(c, &c->req, &res, strcmp(c->req.method, "HEAD") == 0, close, NULL);
    evbuffer_free(res.body);
    reset_request(c);
    return close;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->closing) {
        if (!c->have_head) {
            if (evbuffer_get_length(bufferevent_get_output(bev)) > HTTP_OUTPUT_PAUSE) {
                pause_requests(c);
                return;
            }
            /* the first byte of a request, blank lines included, starts its clock */
            if (evbuffer_get_length(in) && !event_pending(c->deadline, EV_TIMEOUT, NULL)) arm_deadline(c);
            if (!skip_blank_lines(in)) return;
            size_t avail = evbuffer_get_length(in);
            if (!avail) return;
            /* the head ends at its own blank line, LF or CRLF: never at one
             * further on, which would swallow a pipelined request or a body */
            size_t look = avail < DASH_MAX_HEADER_BYTES ? avail : DASH_MAX_HEADER_BYTES;
            const char *bytes = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
            if (!bytes) { conn_free(c); return; }
            size_t head_len = http_head_length(bytes, look);
            if (!head_len) {
                /* TLS, binary, anything but HTTP: refused now, not at the deadline */
                if (!http_request_line_viable(bytes, look)) {
                    note_first_line(c, bytes, look);
                    fail(c, 400, "not an HTTP/1.x request");
                    return;
                }
                if (avail >= DASH_MAX_HEADER_BYTES) {
                    note_first_line(c, bytes, look);
                    fail(c, 413, "request head over 8 KiB");
                }
                return;
            }
            if (head_len > DASH_MAX_HEADER_BYTES) {
                note_first_line(c, bytes, look);
                fail(c, 413, "request head over 8 KiB");
                return;
            }
            c->head = malloc(head_len + 1);
            if (!c->head) { conn_free(c); return; }
            evbuffer_remove(in, c->head, head_len);
            c->head[head_len] = '\0';
            note_first_line(c, c->head, head_len);   /* parsing cuts the head into pieces */
            c->have_head = true;
            int rc = http_parse_head(c->head, head_len, &c->req);
            if (rc) {
                c->have_head = false;   /* the head is unusable for logging */
                fail(c, rc, rc == 413 ? "request head too large" : rc == 501 ? "transfer codings are not supported; send Content-Length"
                                        : rc == 505 ? "HTTP/1.0 or HTTP/1.1 only" : "malformed request");
                return;
            }
            if (c->req.content_length > DASH_MAX_BODY_BYTES) { fail(c, 413, "request body over 64 KiB"); return; }
            c->operator_request = router_is_operator(c->d, &c->req);
        }
        size_t need = c->req.content_length;
        if (evbuffer_get_length(in) < need) return;
        char *body = NULL;
        if (need) {
            body = malloc(need + 1);
            if (!body) { conn_free(c); return; }
            evbuffer_remove(in, body, need);
            body[need] = '\0';
        }
        event_del(c->deadline);         /* the request is whole */
        bool gone = handle_request(c, body, need);
        free(body);
        if (gone) return;
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    http_conn *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        c->d->h->log(c->d->ctx, QTR_LOG_INFO, "http connection from %s took no output for %d s: closed", c->peer,
                     DASH_HTTP_IDLE_S);
    conn_free(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;
    if (c->lingering) { linger_read(c, fd); return; }
    if (what & EV_TIMEOUT) {
        c->d->h->log(c->d->ctx, QTR_LOG_INFO, "http connection from %s idle for %d s: closed", c->peer, DASH_HTTP_IDLE_S);
        conn_free(c);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t have = evbuffer_get_length(in);
    if (have >= HTTP_INPUT_MAX) {      /* never reached: on_read takes or refuses a request first */
        event_del(c->readable);
        return;
    }
    size_t want = HTTP_INPUT_MAX - have < HTTP_READ_CHUNK ? HTTP_INPUT_MAX - have : HTTP_READ_CHUNK;
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(in, (ev_ssize_t)want, &v, 1) < 1) { conn_free(c); return; }
    ssize_t n = recv(fd, v.iov_base, want < v.iov_len ? want : v.iov_len, 0);
    if (n > 0) {
        v.iov_len = (size_t)n;
        evbuffer_commit_space(in, &v, 1);
        on_read(c->bev, c);            /* may free c */
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n == 0 && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
        c->peer_eof = true;
        close_when_flushed(c, false);  /* done sending, maybe not reading: its answers go first */
        return;
    }
    conn_free(c);                      /* closed by the peer, or reset */
}

/* "ip:port" into out, and the ip alone into addr. */
static void format_peer(const struct sockaddr *sa, char *out, size_t cap, char *addr, size_t addr_cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "?");
    }
    if (addr) snprintf(addr, addr_cap, "%s", host);
}

/* The connection that gives its slot to a new one: of those without an
 * operator's request in hand (from addr only, if given), the one that has
 * waited longest since it was accepted or last answered. A slowloris
 * connection never gets answered, so it is always among the first to go;
 * the newcomer itself is the last. NULL if every one is an operator's. */
static http_conn *eviction_victim(dash *d, const char *addr)
{
    http_conn *victim = NULL;
    for (http_conn *c = d->conns; c; c = c->next) {
        if (c->operator_request || (addr && strcmp(c->addr, addr) != 0)) continue;
        if (!victim || c->since_ns < victim->since_ns) victim = c;
    }
    return victim;
}

/* A bare 503, best effort: one non-blocking send. */
static void send_busy(evutil_socket_t fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t ignored = send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)ignored;
}

static void refuse_fd(dash *d, evutil_socket_t fd, const char *peer, const char *why)
{
    send_busy(fd);
    evutil_closesocket(fd);
    d->metrics.http_connections_refused++;
    metrics_count_http(&d->metrics, 503);
    d->h->log(d->ctx, QTR_LOG_WARN, "connection from %s refused: %s", peer, why);
}

static void evict(http_conn *c, const char *why)
{
    if (c->lingering) { conn_free(c); return; }   /* answered and half-closed: nothing is cut short */
    dash *d = c->d;
    d->metrics.http_connections_evicted++;
    d->h->log(d->ctx, QTR_LOG_INFO, "http connection from %s closed to make room (%s)", c->peer, why);
    /* nothing after a final answer: a closing connection gets no 503 */
    if (!c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        send_busy(bufferevent_getfd(c->bev));
    conn_free(c);
}

/* Room for one more connection from addr: true if there is (made by
 * evicting if need be), false with *why set if not. */
static bool make_room(dash *d, const char *addr, const char **why)
{
    size_t from_addr = 0;
    for (http_conn *c = d->conns; c; c = c->next) from_addr += strcmp(c->addr, addr) == 0;
    if ((int64_t)from_addr >= d->opt.max_connections_per_address) {
        http_conn *v = eviction_victim(d, addr);
        if (!v) { *why = "max_connections_per_address reached, every one busy with an operator's request"; return false; }
        evict(v, "max_connections_per_address");
    }
    if ((int64_t)d->n_conns >= d->opt.max_http_connections) {
        http_conn *v = eviction_victim(d, NULL);
        if (!v) { *why = "max_http_connections reached, every one busy with an operator's request"; return false; }
        evict(v, "max_http_connections");
    }
    return true;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)l; (void)salen;
    dash *d = arg;
    char peer[64], addr[INET6_ADDRSTRLEN];
    format_peer(sa, peer, sizeof peer, addr, sizeof addr);
    const char *why = NULL;
    if (!make_room(d, addr, &why)) { refuse_fd(d, fd, peer, why); return; }
    /* answers and WebSocket batches are written whole: Nagle would only
     * hold them back behind the peer's delayed ACKs */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    http_conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    struct event *deadline = c ? evtimer_new(d->base, on_deadline, c) : NULL;
    if (!c || !bev || !deadline) {
        free(c);
        if (deadline) event_free(deadline);
        if (bev) bufferevent_free(bev); else evutil_closesocket(fd);
        return;
    }
    c->d = d;
    c->bev = bev;
    c->deadline = deadline;
    c->since_ns = dash_now_ns(d);
    memcpy(c->peer, peer, sizeof c->peer);
    memcpy(c->addr, addr, sizeof c->addr);
    c->next = d->conns;
    if (d->conns) d->conns->prev = c;
    d->conns = c;
    d->n_conns++;
    struct timeval idle = { DASH_HTTP_IDLE_S, 0 };
    c->readable = event_new(d->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    if (!c->readable || event_add(c->readable, &idle) != 0) { conn_free(c); return; }
    bufferevent_set_timeouts(bev, NULL, &idle);
    /* a connection that says nothing holds a slot too: it is on the clock */
    arm_deadline(c);
    /* the bufferevent keeps its input's end frozen except while it reads
     * itself (it never does here, until a WebSocket client takes it over) */
    evbuffer_unfreeze(bufferevent_get_input(bev), 0);
    bufferevent_setcb(bev, NULL, NULL, on_event, c);
    bufferevent_enable(bev, EV_WRITE);
}

static void on_listener_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    dash *d = arg;
    int err = EVUTIL_SOCKET_ERROR();
    /* e.g. EMFILE: keep serving what is open; libevent retries on the next event */
    d->h->log(d->ctx, QTR_LOG_ERROR, "accept failed: %s", evutil_socket_error_to_string(err));
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

/* "ip:port" or "[ipv6]:port" with port 0..65535 (libevent's own parser
 * refuses port 0, which tests and ephemeral setups need). */
static bool parse_listen(const char *text, struct sockaddr_storage *ss, int *sslen)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || !colon[1] || strlen(text) >= 128) return false;
    char host[128];
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (host[0] != '[' && strchr(host, ':')) return false;     /* bare IPv6 needs brackets */
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) return false;
    if (evutil_parse_sockaddr_port(host, (struct sockaddr *)ss, sslen) != 0) return false;
    if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (ss->ss_family == AF_INET6) ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else return false;
    return true;
}

int http_server_start(dash *d)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (!parse_listen(d->opt.listen, &ss, &sslen)) {
        d->h->log(d->ctx, QTR_LOG_ERROR, "option listen: '%s' is not ip:port (e.g. 127.0.0.1:8080 or [::1]:8080)", d->opt.listen);
        return -1;
    }
    if (!is_loopback((struct sockaddr *)&ss))
        d->h->log(d->ctx, QTR_LOG_WARN, "listening on %s: not loopback, the dashboard is reachable from the network "
                  "(a request's Host must be a loopback name, this address or one in allowed_hosts)", d->opt.listen);
    d->listener = evconnlistener_new_bind(d->base, on_accept, d, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                          LEV_OPT_CLOSE_ON_EXEC, 128, (struct sockaddr *)&ss, sslen);
    if (!d->listener) {
        d->h->log(d->ctx, QTR_LOG_ERROR, "cannot listen on %s: %s", d->opt.listen, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(d->listener, on_listener_error);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    char bound_host[INET6_ADDRSTRLEN + 2] = "";
    if (getsockname(evconnlistener_get_fd(d->listener), (struct sockaddr *)&bound, &blen) == 0) {
        format_peer((struct sockaddr *)&bound, d->bound, sizeof d->bound, NULL, 0);
        const char *port_sep = strrchr(d->bound, ':');
        if (port_sep) snprintf(bound_host, sizeof bound_host, "%.*s", (int)(port_sep - d->bound), d->bound);
    }
    /* a browser that opens the listen address sends it as its Host */
    if (bound_host[0] && !host_allow_has(&d->hosts, bound_host, strlen(bound_host)))
        host_allow_add(&d->hosts, bound_host);
    d->h->log(d->ctx, QTR_LOG_INFO, "dashboard listening on http://%s/", d->bound);
    return 0;
}

/* How much unread input a stopping connection drops before its close. */
#define HTTP_STOP_DRAIN_BYTES (256 * 1024)
/* Connections still waiting in the listen queue that are answered at a stop. */
#define HTTP_STOP_BACKLOG 1024

/* The server stops: a 503 that says so (answer), then, after the input that
 * came is read and dropped, the FIN at once. A close with input unread
 * sends a reset instead, which destroys the 503 before the peer reads it,
 * and a health check or a load balancer counts a reset as the server
 * failing, not stopping. */
static void say_stopping(evutil_socket_t fd, bool answer)
{
    static const char stopping[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 23\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
                                   "the server is stopping\n";
    _Static_assert(sizeof "the server is stopping\n" - 1 == 23, "Content-Length is the body's");
    if (answer) {
        ssize_t ignored = send(fd, stopping, sizeof stopping - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)ignored;
    }
    char sink[HTTP_READ_CHUNK];
    size_t dropped = 0;
    ssize_t n;
    while (dropped < HTTP_STOP_DRAIN_BYTES && (n = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        dropped += (size_t)n;
    shutdown(fd, SHUT_WR);
}

/* One not answered yet (idle, a request half read or not read at all) gets
 * the 503; an answer being written gets one more non-blocking write, one
 * answered nothing more. The socket itself is closed from the loop, or at
 * exit. */
static void stop_conn(http_conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (fd >= 0) {
        bool pending = !c->lingering && evbuffer_get_length(out) > 0;
        if (pending) evbuffer_write(out, fd);
        say_stopping(fd, !pending && !c->lingering && !c->closing);
    }
    conn_free(c);
}

/* Connections the kernel completed but the loop has not accepted: closing
 * the listener would reset them. They get the 503 too. */
static void stop_backlog(evutil_socket_t lfd)
{
    for (int i = 0; i < HTTP_STOP_BACKLOG; i++) {
        evutil_socket_t fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        say_stopping(fd, true);
        evutil_closesocket(fd);
    }
}

void http_server_stop(dash *d)
{
    if (d->listener) {
        stop_backlog(evconnlistener_get_fd(d->listener));
        evconnlistener_free(d->listener);
        d->listener = NULL;
    }
    while (d->conns) stop_conn(d->conns);
}
