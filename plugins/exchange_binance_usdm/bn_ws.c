/* bn_ws.c — see bn_ws.h. */
#include "bn_ws.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#define HEAD_MAX 8192 /* the server's handshake answer */

typedef enum { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN, WS_CLOSED } ws_state;

struct bn_ws {
    struct event_base *base;
    struct bufferevent *bev;
    SSL_CTX *ssl_ctx;
    wslay_event_context_ptr ctx;
    struct event *timeout_ev;
    ws_state state;
    bool tls;
    int port;
    char host[256];
    char path[1024];
    char key[32], accept[32];
    size_t max_msg;
    bn_ws_callbacks cb;
    void *ud;
};

static void fail(bn_ws *ws, const char *why)
{
    if (ws->state == WS_CLOSED) return;
    ws->state = WS_CLOSED;
    if (ws->timeout_ev) event_del(ws->timeout_ev);
    if (ws->bev) bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
    ws->cb.on_close(ws->ud, why);
}

/* ------------------------------------------------------------- wslay side */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    bn_ws *ws = ud;
    int n = evbuffer_remove(bufferevent_get_input(ws->bev), buf, len);
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    bn_ws *ws = ud;
    if (evbuffer_add(bufferevent_get_output(ws->bev), data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx; (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    (void)ctx;
    bn_ws *ws = ud;
    if (ws->state == WS_OPEN && ws->cb.on_activity) ws->cb.on_activity(ws->ud);
    if (ws->state == WS_OPEN && arg->opcode == WSLAY_TEXT_FRAME)
        ws->cb.on_message(ws->ud, (const char *)arg->msg, arg->msg_length);
}

/* Feed what arrived to wslay and send what it queued (pongs, close). */
static void pump(bn_ws *ws)
{
    if (wslay_event_recv(ws->ctx) != 0) {
        fail(ws, "WebSocket read failed");
        return;
    }
    if (ws->state != WS_OPEN) return; /* a callback closed it */
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0) {
        fail(ws, "WebSocket write failed");
        return;
    }
    if (!wslay_event_want_read(ws->ctx)) {
        char why[96];
        uint16_t sent = wslay_event_get_status_code_sent(ws->ctx);
        if (sent == WSLAY_CODE_MESSAGE_TOO_BIG)
            snprintf(why, sizeof why, "a message longer than %zu bytes (protocol error, closed)", ws->max_msg);
        else if (sent == WSLAY_CODE_PROTOCOL_ERROR || sent == WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA)
            snprintf(why, sizeof why, "WebSocket protocol error (closed with %u)", sent);
        else
            snprintf(why, sizeof why, "closed by the server (status %u)", wslay_event_get_status_code_received(ws->ctx));
        fail(ws, why);
    }
}

/* ------------------------------------------------------------- handshake */

static void send_handshake(bn_ws *ws)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        fail(ws, "no random bytes for the handshake key");
        return;
    }
    EVP_EncodeBlock((unsigned char *)ws->key, raw, sizeof raw);
    bn_ws_accept_key(ws->key, ws->accept);
    bool default_port = ws->port == (ws->tls ? 443 : 80);
    char hostport[300];
    if (default_port) snprintf(hostport, sizeof hostport, "%s", ws->host);
    else snprintf(hostport, sizeof hostport, "%s:%d", ws->host, ws->port);
    evbuffer_add_printf(bufferevent_get_output(ws->bev),
                        "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                        ws->path, hostport, ws->key);
    ws->state = WS_HANDSHAKE;
}

/* The value of header name in head (NUL-terminated), or NULL. */
static const char *header_value(char *head, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            const char *e = strstr(v, "\r\n");
            *vlen = e ? (size_t)(e - v) : strlen(v);
            while (*vlen && (v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t')) (*vlen)--;
            return v;
        }
    }
    return NULL;
}

static void read_handshake(bn_ws *ws)
{
    struct evbuffer *in = bufferevent_get_input(ws->bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(in) > HEAD_MAX) fail(ws, "handshake answer too long");
        return;
    }
    size_t hl = (size_t)end.pos + 4;
    if (hl > HEAD_MAX) {
        fail(ws, "handshake answer too long");
        return;
    }
    char head[HEAD_MAX + 1];
    evbuffer_remove(in, head, hl);
    head[hl] = '\0';
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        char why[128];
        char *eol = strstr(head, "\r\n");
        if (eol) *eol = '\0';
        snprintf(why, sizeof why, "handshake refused: %.80s", head);
        fail(ws, why);
        return;
    }
    size_t vl = 0;
    const char *acc = header_value(head, "Sec-WebSocket-Accept", &vl);
    if (!acc || vl != strlen(ws->accept) || strncmp(acc, ws->accept, vl) != 0) {
        fail(ws, "handshake answer has a wrong Sec-WebSocket-Accept");
        return;
    }
    static const struct wslay_event_callbacks callbacks = {
        .recv_callback = ws_recv,
        .send_callback = ws_send,
        .genmask_callback = ws_genmask,
        .on_msg_recv_callback = ws_msg,
    };
    if (wslay_event_context_client_init(&ws->ctx, &callbacks, ws) != 0) {
        fail(ws, "out of memory");
        return;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->max_msg);
    ws->state = WS_OPEN;
    event_del(ws->timeout_ev);
    ws->cb.on_open(ws->ud);
    if (ws->state == WS_OPEN && evbuffer_get_length(in) > 0) pump(ws);
}

/* ------------------------------------------------------------- bufferevent */

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    bn_ws *ws = arg;
    if (ws->state == WS_HANDSHAKE) read_handshake(ws);
    else if (ws->state == WS_OPEN) pump(ws);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    bn_ws *ws = arg;
    if (what & BEV_EVENT_CONNECTED) {
        send_handshake(ws);
        return;
    }
    char why[160];
    if (what & BEV_EVENT_EOF) snprintf(why, sizeof why, "connection closed%s", ws->state == WS_OPEN ? "" : " during the handshake");
    else {
        unsigned long e = ws->tls ? bufferevent_get_openssl_error(bev) : 0;
        int dns = bufferevent_socket_get_dns_error(bev);
        if (e) snprintf(why, sizeof why, "TLS error: %s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");
        else if (dns) snprintf(why, sizeof why, "cannot resolve %.100s: %s", ws->host, evutil_gai_strerror(dns));
        else snprintf(why, sizeof why, "connection error: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    fail(ws, why);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    fail(arg, "connect or handshake timed out");
}

static int parse_url(bn_ws *ws, const char *url, char *err, size_t errlen)
{
    const char *rest;
    if (!strncmp(url, "wss://", 6)) ws->tls = true, rest = url + 6;
    else if (!strncmp(url, "ws://", 5)) ws->tls = false, rest = url + 5;
    else {
        snprintf(err, errlen, "stream URL must start with ws:// or wss://");
        return -1;
    }
    const char *slash = strchr(rest, '/');
    size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *colon = memchr(rest, ':', hl);
    size_t name_len = colon ? (size_t)(colon - rest) : hl;
    if (name_len == 0 || name_len >= sizeof ws->host) {
        snprintf(err, errlen, "stream URL has no usable host");
        return -1;
    }
    memcpy(ws->host, rest, name_len);
    ws->host[name_len] = '\0';
    ws->port = ws->tls ? 443 : 80;
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != rest + hl || port < 1 || port > 65535) {
            snprintf(err, errlen, "stream URL has a bad port");
            return -1;
        }
        ws->port = (int)port;
    }
    const char *path = slash ? slash : "/";
    if (strlen(path) >= sizeof ws->path) {
        snprintf(err, errlen, "stream URL path too long");
        return -1;
    }
    strcpy(ws->path, path);
    return 0;
}

/* libevent 2.1 frees a bufferevent later, from the loop: an OpenSSL one
 * after this plugin (and with it libevent_openssl, its only user) may have
 * been unloaded, so its finalizer would run unmapped code. Keep that
 * library (and OpenSSL under it) loaded for good. */
static void pin_libevent_openssl(void)
{
    static bool pinned;
    Dl_info di;
    if (pinned) return;
    pinned = true;
    if (dladdr((void *)(uintptr_t)bufferevent_openssl_socket_new, &di) && di.dli_fname)
        dlopen(di.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static int setup_tls(bn_ws *ws, const char *ca_file, SSL **out)
{
    pin_libevent_openssl();
    ws->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!ws->ssl_ctx) return -1;
    SSL_CTX_set_min_proto_version(ws->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ws->ssl_ctx, SSL_VERIFY_PEER, NULL);
    if ((ca_file && ca_file[0] ? SSL_CTX_load_verify_locations(ws->ssl_ctx, ca_file, NULL)
                               : SSL_CTX_set_default_verify_paths(ws->ssl_ctx)) != 1)
        return -1;
    SSL *ssl = SSL_new(ws->ssl_ctx);
    if (!ssl) return -1;
    /* the certificate must name the host; SNI only for a name, never an address */
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, ws->host, addr) == 1 || inet_pton(AF_INET6, ws->host, addr) == 1;
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ws->host)
                   : SSL_set_tlsext_host_name(ssl, ws->host) == 1 && SSL_set1_host(ssl, ws->host) == 1;
    if (!ok) {
        SSL_free(ssl);
        return -1;
    }
    *out = ssl;
    return 0;
}

bn_ws *bn_ws_open(struct event_base *base, struct evdns_base *dns, const char *url, const char *ca_file, size_t max_msg,
                  int64_t timeout_ms, const bn_ws_callbacks *cb, void *ud, char *err, size_t errlen)
{
    bn_ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ws->base = base;
    ws->max_msg = max_msg;
    ws->cb = *cb;
    ws->ud = ud;
    ws->state = WS_CONNECTING;
    if (parse_url(ws, url, err, errlen) != 0) {
        free(ws);
        return NULL;
    }
    SSL *ssl = NULL;
    if (ws->tls && setup_tls(ws, ca_file, &ssl) != 0) {
        snprintf(err, errlen, "cannot set up TLS (OpenSSL%s)", ca_file && ca_file[0] ? ", or stream_ca_file" : "");
        bn_ws_free(ws);
        return NULL;
    }
    ws->bev = ws->tls ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE)
                      : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ws->timeout_ev = evtimer_new(base, on_timeout, ws);
    if (!ws->bev || !ws->timeout_ev) {
        if (!ws->bev && ssl) SSL_free(ssl);
        snprintf(err, errlen, "out of memory");
        bn_ws_free(ws);
        return NULL;
    }
    bufferevent_setcb(ws->bev, on_read, NULL, on_event, ws);
    bufferevent_enable(ws->bev, EV_READ | EV_WRITE);
    struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000) };
    evtimer_add(ws->timeout_ev, &tv);
    /* on failure the event callback has already run (fail: on_close) */
    if (bufferevent_socket_connect_hostname(ws->bev, dns, AF_UNSPEC, ws->host, ws->port) != 0 && ws->state != WS_CLOSED)
        fail(ws, "cannot connect");
    return ws;
}

bool bn_ws_is_open(const bn_ws *ws) { return ws && ws->state == WS_OPEN; }

void bn_ws_ping(bn_ws *ws)
{
    if (!bn_ws_is_open(ws)) return;
    struct wslay_event_msg msg = { .opcode = WSLAY_PING, .msg = (const uint8_t *)"qtr", .msg_length = 3 };
    if (wslay_event_queue_msg(ws->ctx, &msg) != 0 || wslay_event_send(ws->ctx) != 0) fail(ws, "WebSocket write failed");
}

void bn_ws_free(bn_ws *ws)
{
    if (!ws) return;
    if (ws->bev) bufferevent_free(ws->bev);
    if (ws->ctx) wslay_event_context_free(ws->ctx);
    if (ws->timeout_ev) event_free(ws->timeout_ev);
    if (ws->ssl_ctx) SSL_CTX_free(ws->ssl_ctx);
    free(ws);
}
