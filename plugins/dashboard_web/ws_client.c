/* ws_client.c — see ws_client.h. */
#include "ws_client.h"
#include "client_queue.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#define WS_CLOSE_RESERVE 128            /* room kept under the cap for a close frame */
#define WS_CLOSE_GRACE_S 5              /* how long a closing client may take to drain */
#define WS_ALL_TYPES 0xffffffffu
/* A fixed kernel send buffer per client: with autotuning the kernel would
 * hide megabytes of backlog from client_buffer_bytes. 128 KiB still carries
 * far more than max_msgs_per_sec needs, even over a slow link. */
#define WS_SNDBUF_BYTES (128 * 1024)

typedef struct ws_client {
    struct ws_client *prev, *next;
    dash *d;
    struct bufferevent *bev;
    wslay_event_context_ptr ws;
    char peer[64];
    client_queue q;
    uint32_t type_mask;                 /* bit per qtr_event_type */
    uint64_t seq;                       /* messages sent */
    int64_t due_ns;                     /* when a partial batch must go */
    int64_t next_send_ns;               /* rate limit: earliest next message */
    struct event *timer;
    int64_t timer_at_ns;                /* 0: not armed */
    bool closing;
} ws_client;

static void client_free(ws_client *c)
{
    dash *d = c->d;
    if (c->prev) c->prev->next = c->next; else d->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    d->n_clients--;
    if (c->timer) event_free(c->timer);
    if (c->ws) wslay_event_context_free(c->ws);
    if (c->bev) bufferevent_free(c->bev);
    cq_free(&c->q);
    free(c);
}

static size_t unsent(const ws_client *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* ---- wslay glue: the bufferevent's buffers are wslay's socket ---------- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_client *c = ud;
    int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_client *c = ud;
    /* Output is never refused here: its size is checked before a message is
     * queued (client_buffer_bytes), so this cannot grow without bound. */
    if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void begin_close(ws_client *c, uint16_t code, const char *reason);

static void apply_subscribe(ws_client *c, const uint8_t *msg, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb((const char *)msg, len, 0, &err);
    json_t *sub = root ? json_object_get(root, "subscribe") : NULL;
    if (!sub) { json_decref(root); return; }   /* anything else is ignored */
    uint32_t mask = 0;
    if (json_is_string(sub) && (strcmp(json_string_value(sub), "all") == 0 || strcmp(json_string_value(sub), "*") == 0)) {
        mask = WS_ALL_TYPES;
    } else if (json_is_array(sub)) {
        size_t i;
        json_t *v;
        json_array_foreach(sub, i, v) {
            const char *name = json_string_value(v);
            if (!name) continue;
            if (strcmp(name, "*") == 0 || strcmp(name, "all") == 0) mask = WS_ALL_TYPES;
            for (int t = 1; t < QTR_EV__COUNT; t++)
                if (strcmp(name, qtr_event_type_name((qtr_event_type)t)) == 0) mask |= 1u << t;
        }
    }
    c->type_mask = mask;
    c->d->h->log(c->d->ctx, QTR_LOG_DEBUG, "ws client %s subscribed (mask 0x%x)", c->peer, mask);
    json_decref(root);
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    (void)ctx;
    ws_client *c = ud;
    if (arg->opcode == WSLAY_TEXT_FRAME) apply_subscribe(c, arg->msg, arg->msg_length);
    else if (arg->opcode == WSLAY_BINARY_FRAME) begin_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary frames are not accepted");
}

/* Push what wslay has queued into the output buffer; close when done. */
static void pump(ws_client *c)
{
    if (wslay_event_send(c->ws) != 0) {
        client_free(c);
        return;
    }
    if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
        /* close handshake over (or failed): close once the output drains */
        if (!c->closing) {
            c->closing = true;
            if (wslay_event_get_close_sent(c->ws)) {
                uint16_t code = wslay_event_get_status_code_sent(c->ws);
                if (code == WSLAY_CODE_PROTOCOL_ERROR || code == WSLAY_CODE_MESSAGE_TOO_BIG) {
                    c->d->metrics.ws_protocol_closes++;
                    c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s closed with %u (%s)", c->peer, code,
                                 code == WSLAY_CODE_PROTOCOL_ERROR ? "protocol error" : "message too big");
                }
            }
        }
        bufferevent_disable(c->bev, EV_READ);
        struct timeval grace = { WS_CLOSE_GRACE_S, 0 };
        bufferevent_set_timeouts(c->bev, NULL, &grace);
        if (unsent(c) == 0) client_free(c);
    }
}

static void begin_close(ws_client *c, uint16_t code, const char *reason)
{
    if (c->closing) return;
    c->closing = true;
    wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason));
    wslay_event_shutdown_read(c->ws);
    bufferevent_disable(c->bev, EV_READ);
    /* a stalled peer never drains: the write timeout ends it */
    struct timeval grace = { WS_CLOSE_GRACE_S, 0 };
    bufferevent_set_timeouts(c->bev, NULL, &grace);
    if (c->timer) event_del(c->timer);
    c->timer_at_ns = 0;
    /* what it has not got is dropped now, not kept until the socket closes */
    client_queue empty;
    if (cq_init(&empty, 1)) {
        cq_free(&c->q);
        c->q = empty;
    }
}

/* ---- batching ---------------------------------------------------------- */

static void arm(ws_client *c, int64_t at_ns, int64_t now_ns)
{
    if (c->timer_at_ns && c->timer_at_ns <= at_ns) return;   /* an earlier wake-up is set */
    int64_t delta = at_ns - now_ns;
    if (delta < 0) delta = 0;
    struct timeval tv = { (time_t)(delta / 1000000000), (suseconds_t)((delta % 1000000000) / 1000) };
    event_add(c->timer, &tv);
    c->timer_at_ns = at_ns;
}

static bool scratch_reserve(dash *d, size_t need)
{
    if (need <= d->scratch_cap) return true;
    size_t cap = d->scratch_cap ? d->scratch_cap : 16384;
    while (cap < need) cap *= 2;
    char *p = realloc(d->scratch, cap);
    if (!p) return false;
    d->scratch = p;
    d->scratch_cap = cap;
    return true;
}

/* Queue one text message, or close the client if it would pass its cap. */
static bool send_text(ws_client *c, const char *text, size_t len)
{
    dash *d = c->d;
    size_t pending = unsent(c);
    if (pending + len + 14 + WS_CLOSE_RESERVE > (size_t)d->opt.client_buffer_bytes) {
        d->metrics.ws_slow_disconnects++;
        d->h->log(d->ctx, QTR_LOG_WARN,
                  "ws client %s too slow: %zu bytes unsent, cap %lld (client_buffer_bytes); closing with 1008",
                  c->peer, pending, (long long)d->opt.client_buffer_bytes);
        begin_close(c, WSLAY_CODE_POLICY_VIOLATION, "too slow: output buffer full");
        return false;   /* the caller pumps the close frame out */
    }
    struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *)text, len };
    if (wslay_event_queue_msg(c->ws, &msg) != 0) return false;
    d->metrics.ws_messages_sent++;
    c->seq++;
    return true;
}

static void send_batch(ws_client *c, int64_t now_ns)
{
    dash *d = c->d;
    size_t max = (size_t)d->opt.batch_max_events;
    event_blob *stack[64];
    event_blob **items = max <= 64 ? stack : malloc(max * sizeof *items);
    if (!items) return;
    uint64_t missed = 0;
    size_t n = cq_take(&c->q, items, max, &missed);
    size_t need = 96;
    for (size_t i = 0; i < n; i++) need += items[i]->len + 1;
    if (scratch_reserve(d, need)) {
        char *p = d->scratch;
        p += sprintf(p, "{\"type\":\"batch\",\"seq\":%llu,\"events\":[", (unsigned long long)(c->seq + 1));
        bool first = true;
        if (missed) {
            p += sprintf(p, "{\"type\":\"missed\",\"count\":%llu}", (unsigned long long)missed);
            first = false;
            d->metrics.ws_events_dropped += missed;
        }
        for (size_t i = 0; i < n; i++) {
            if (!first) *p++ = ',';
            first = false;
            memcpy(p, items[i]->json, items[i]->len);
            p += items[i]->len;
        }
        p += sprintf(p, "]}");
        if (send_text(c, d->scratch, (size_t)(p - d->scratch))) d->metrics.ws_events_sent += n;
    }
    for (size_t i = 0; i < n; i++) event_blob_unref(items[i]);
    if (items != stack) free(items);
    c->next_send_ns = now_ns + 1000000000LL / d->opt.max_msgs_per_sec;
    if (!c->closing) {
        size_t pending = unsent(c);
        if (pending > d->metrics.ws_queued_bytes_peak) d->metrics.ws_queued_bytes_peak = pending;
    }
}

static void try_flush(ws_client *c, int64_t now_ns)
{
    if (c->closing) return;
    dash *d = c->d;
    size_t pending = cq_pending(&c->q);
    if (!pending && !c->q.missed) return;
    bool full = pending >= (size_t)d->opt.batch_max_events;
    if (!full && now_ns < c->due_ns) { arm(c, c->due_ns, now_ns); return; }
    if (now_ns < c->next_send_ns) { arm(c, c->next_send_ns, now_ns); return; }
    send_batch(c, now_ns);
    if (c->closing) { pump(c); return; }
    if (cq_pending(&c->q) || c->q.missed) {
        c->due_ns = now_ns;             /* what is left has waited already */
        arm(c, c->next_send_ns, now_ns);
    }
    pump(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    ws_client *c = arg;
    c->timer_at_ns = 0;
    try_flush(c, dash_now_ns(c->d));
}

void ws_clients_broadcast(dash *d, event_blob *b)
{
    if (!d->clients) return;
    int64_t now = dash_now_ns(d);
    for (ws_client *c = d->clients, *next; c; c = next) {
        next = c->next;                 /* try_flush may free c */
        if (c->closing || !(c->type_mask & (1u << b->type))) continue;
        if (!cq_pending(&c->q) && !c->q.missed) c->due_ns = now + d->opt.batch_max_ms * 1000000LL;
        cq_push(&c->q, b);
        try_flush(c, now);
    }
}

/* ---- connection events -------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    ws_client *c = arg;
    if (wslay_event_recv(c->ws) != 0) {
        client_free(c);
        return;
    }
    pump(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    ws_client *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0 && !wslay_event_want_write(c->ws))
        client_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    ws_client *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s did not drain its output in %d s: dropped", c->peer,
                     WS_CLOSE_GRACE_S);
    else
        c->d->h->log(c->d->ctx, QTR_LOG_DEBUG, "ws client %s disconnected", c->peer);
    client_free(c);
}

static void send_hello(ws_client *c)
{
    dash *d = c->d;
    char buf[320];
    int n = snprintf(buf, sizeof buf,
                     "{\"type\":\"hello\",\"seq\":%llu,\"time\":%lld,\"version\":\"%s\",\"batch_max_events\":%lld,"
                     "\"batch_max_ms\":%lld,\"max_msgs_per_sec\":%lld}",
                     (unsigned long long)(c->seq + 1), (long long)d->h->now_ms(d->ctx), DASH_VERSION,
                     (long long)d->opt.batch_max_events, (long long)d->opt.batch_max_ms,
                     (long long)d->opt.max_msgs_per_sec);
    send_text(c, buf, (size_t)n);
    c->next_send_ns = dash_now_ns(d) + 1000000000LL / d->opt.max_msgs_per_sec;
}

void ws_client_adopt(dash *d, struct bufferevent *bev, const char *peer)
{
    ws_client *c = calloc(1, sizeof *c);
    static const struct wslay_event_callbacks callbacks = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    if (!c || !cq_init(&c->q, (size_t)d->opt.client_queue_events)) {
        free(c);
        bufferevent_free(bev);
        return;
    }
    c->d = d;
    c->bev = bev;
    c->type_mask = WS_ALL_TYPES;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->timer = evtimer_new(d->base, on_timer, c);
    c->next = d->clients;
    if (d->clients) d->clients->prev = c;
    d->clients = c;
    d->n_clients++;
    if (!c->timer || wslay_event_context_server_init(&c->ws, &callbacks, c) != 0) {
        c->ws = NULL;
        client_free(c);
        return;
    }
    wslay_event_config_set_max_recv_msg_length(c->ws, DASH_WS_MAX_RECV);
    d->metrics.ws_connections++;
    d->h->log(d->ctx, QTR_LOG_INFO, "ws client %s connected (%zu clients)", c->peer, d->n_clients);
    bufferevent_set_timeouts(bev, NULL, NULL);   /* a quiet client is fine */
    int sndbuf = WS_SNDBUF_BYTES;
    setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    bufferevent_setwatermark(bev, EV_READ, 0, 64 * 1024);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    send_hello(c);
    pump(c);
    /* frames that came with the handshake are already in the input buffer */
    if (d->clients == c && evbuffer_get_length(bufferevent_get_input(bev))) on_read(bev, c);
}

size_t ws_clients_queued_bytes(const dash *d, size_t *worst)
{
    size_t total = 0, max = 0;
    for (const ws_client *c = d->clients; c; c = c->next) {
        size_t n = unsent(c);
        total += n;
        if (n > max) max = n;
    }
    if (worst) *worst = max;
    return total;
}

void ws_clients_close_all(dash *d)
{
    while (d->clients) {
        ws_client *c = d->clients;
        if (!c->closing) {
            wslay_event_queue_close(c->ws, WSLAY_CODE_GOING_AWAY, (const uint8_t *)"server stopping", 15);
            wslay_event_send(c->ws);
            /* best effort: one non-blocking write of what fits (the
             * bufferevent's own buffer cannot be drained from outside) */
            struct evbuffer *out = bufferevent_get_output(c->bev);
            size_t n = evbuffer_get_length(out);
            unsigned char *bytes = n ? evbuffer_pullup(out, (ssize_t)n) : NULL;
            if (bytes) {
                ssize_t ignored = send(bufferevent_getfd(c->bev), bytes, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                (void)ignored;
            }
        }
        client_free(c);
    }
}
