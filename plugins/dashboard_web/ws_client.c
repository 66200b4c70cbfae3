/* ws_client.c — see ws_client.h. */
#include "ws_client.h"
#include "client_queue.h"
#include "write_now.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#define WS_CLOSE_RESERVE 128            /* room kept under the cap for a close frame */
#define WS_FRAME_HEADER_MAX 10          /* a server frame's header: unmasked */
/* Input goes to wslay only until this many control frames were read in a
 * round (plus what already sits in wslay's 4 KiB frame buffer); then their
 * answers are counted against the cap before more is read, so a ping flood's
 * pongs never pile up unseen inside wslay. */
#define WS_CTRL_PER_ROUND 16
#define WS_CLOSE_GRACE_S 5              /* how long a closing client may take to drain */
#define WS_ALL_TYPES 0xffffffffu
/* A fixed kernel send buffer per client: with autotuning the kernel would
 * hide megabytes of backlog from client_buffer_bytes. 128 KiB still carries
 * far more than max_msgs_per_sec needs, even over a slow link. */
#define WS_SNDBUF_BYTES (128 * 1024)

typedef struct frame_guard {
    uint8_t hdr[14];
    uint8_t have;                       /* header bytes of the current frame so far */
    uint64_t skip;                      /* payload bytes still to pass */
} frame_guard;

typedef struct ws_client {
    struct ws_client *prev, *next;
    dash *d;
    struct bufferevent *bev;
    wslay_event_context_ptr ws;
    char peer[64];
    client_queue q;
    uint32_t type_mask;                 /* bit per qtr_event_type */
    uint64_t seq;                       /* messages sent */
    /* unsent() when last asked plus every byte queued since: never below
     * the truth, for the kernel and the output buffer only drain meanwhile.
     * Lets most frames skip the TIOCOUTQ ioctl (one per frame was a tenth
     * of the loop's time in the fan-out bench). */
    size_t unsent_bound;
    int64_t due_ns;                     /* when a partial batch must go */
    int64_t tat_ns;                     /* rate limit (GCRA): when the next message is due */
    struct event *timer;
    int64_t timer_at_ns;                /* 0: not armed */
    frame_guard guard;                  /* declared frame sizes, seen before wslay buffers them */
    unsigned ctrl_this_round;           /* control frames read since the last pump */
    size_t wslay_queued;                /* bytes wslay wrote in the current pump */
    bool too_big;                       /* a frame declared more than DASH_WS_MAX_RECV */
    bool closing;                       /* our close frame is written: nothing more goes out */
} ws_client;

/* A frame header's declared payload length, checked the moment the header
 * is whole: wslay checks only once payload bytes arrive, so a frame that
 * declares a gigabyte and then sends nothing would hold the client open. */
static bool guard_feed(frame_guard *g, const uint8_t *p, size_t n, uint64_t max)
{
    while (n) {
        if (g->skip) {
            uint64_t k = g->skip < n ? g->skip : n;
            g->skip -= k;
            p += k;
            n -= (size_t)k;
            continue;
        }
        g->hdr[g->have++] = *p++;
        n--;
        if (g->have < 2) continue;
        uint8_t len7 = g->hdr[1] & 0x7f;
        size_t need = 2u + (len7 == 126 ? 2u : len7 == 127 ? 8u : 0u) + ((g->hdr[1] & 0x80) ? 4u : 0u);
        if (g->have < need) continue;
        uint64_t len = len7;
        if (len7 == 126) len = (uint64_t)g->hdr[2] << 8 | g->hdr[3];
        else if (len7 == 127)
            for (int i = 0; i < 8; i++) len = (i ? len << 8 : 0) | g->hdr[2 + i];
        g->have = 0;
        if (len > max) return true;
        g->skip = len;
    }
    return false;
}

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

/* Every byte queued for the client and not yet taken by it: our output
 * buffer plus the kernel's send queue (which is real memory too, and what a
 * client that does not read leaves behind). */
static size_t unsent(const ws_client *c)
{
    int in_kernel = 0;
    if (ioctl(bufferevent_getfd(c->bev), TIOCOUTQ, &in_kernel) != 0 || in_kernel < 0) in_kernel = 0;
    return evbuffer_get_length(bufferevent_get_output(c->bev)) + (size_t)in_kernel;
}

static size_t measure_unsent(ws_client *c)
{
    c->unsent_bound = unsent(c);
    return c->unsent_bound;
}

/* True if len more bytes fit under client_buffer_bytes, with the room for a
 * close frame kept back. The kernel is asked only when the bound says it
 * might not fit. */
static bool fits(ws_client *c, size_t len)
{
    size_t cap = (size_t)c->d->opt.client_buffer_bytes;
    if (c->unsent_bound + len + WS_CLOSE_RESERVE <= cap) return true;
    return measure_unsent(c) + len + WS_CLOSE_RESERVE <= cap;
}

/* len bytes were just queued: the peak metric, asked of the kernel only
 * when the bound says this could be a new peak (so the peak is the same as
 * if every frame had been measured). */
static void note_queued(ws_client *c, size_t len)
{
    c->unsent_bound += len;
    if (c->unsent_bound <= c->d->metrics.ws_queued_bytes_peak) return;
    size_t n = measure_unsent(c);
    if (n > c->d->metrics.ws_queued_bytes_peak) c->d->metrics.ws_queued_bytes_peak = n;
}

static size_t frame_header(uint8_t *h, uint8_t opcode, size_t len)
{
    h[0] = (uint8_t)(0x80 | opcode);                 /* FIN, no mask: server to client */
    if (len < 126) { h[1] = (uint8_t)len; return 2; }
    if (len <= 0xffff) { h[1] = 126; h[2] = (uint8_t)(len >> 8); h[3] = (uint8_t)len; return 4; }
    h[1] = 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* ---- wslay glue: the bufferevent's buffers are wslay's socket ---------- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_client *c = ud;
    int n = c->ctrl_this_round >= WS_CTRL_PER_ROUND || c->too_big ? 0
            : evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (guard_feed(&c->guard, buf, (size_t)n, DASH_WS_MAX_RECV)) c->too_big = true;
    return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_client *c = ud;
    /* wslay sends only what it answers by itself (pongs, the echo of a
     * close); pump() checked that it fits before calling wslay_event_send.
     * Taking it all keeps wslay from ever leaving half a frame behind, so
     * our own frames can go straight into the same buffer. */
    if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    c->wslay_queued += len;
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
    if (arg->opcode & 0x8) c->ctrl_this_round++;   /* ping, pong, close */
    if (arg->opcode == WSLAY_TEXT_FRAME) apply_subscribe(c, arg->msg, arg->msg_length);
    else if (arg->opcode == WSLAY_BINARY_FRAME) begin_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary frames are not accepted");
    else if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->msg_length == 1) {
        /* a close body is empty or starts with a 2-byte code (RFC 6455
         * 5.5.1); wslay would echo an empty close. Ours goes first: wslay
         * sends nothing more once begin_close has run. */
        c->d->metrics.ws_protocol_closes++;
        c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s sent a close frame with a 1-byte body: closed with 1002",
                     c->peer);
        begin_close(c, WSLAY_CODE_PROTOCOL_ERROR, "protocol error");
    }
}

static void slow_close(ws_client *c, size_t adding)
{
    dash *d = c->d;
    d->metrics.ws_slow_disconnects++;
    d->h->log(d->ctx, QTR_LOG_WARN,
              "ws client %s too slow: %zu bytes unsent, %zu more would pass client_buffer_bytes %lld; closing with 1008",
              c->peer, unsent(c), adding, (long long)d->opt.client_buffer_bytes);
    begin_close(c, WSLAY_CODE_POLICY_VIOLATION, "too slow: output buffer full");
}

/* Push what wslay has queued (pongs, a close echo) into the output buffer,
 * if it fits under the cap; close when the handshake is over. Returns false
 * if c is gone. */
static bool pump(ws_client *c)
{
    size_t count = wslay_event_get_queued_msg_count(c->ws);
    if (count && !c->closing) {
        size_t bytes = wslay_event_get_queued_msg_length(c->ws) + count * WS_FRAME_HEADER_MAX;
        c->wslay_queued = 0;
        if (!fits(c, bytes)) slow_close(c, bytes);
        else if (wslay_event_send(c->ws) != 0) { client_free(c); return false; }
        else note_queued(c, c->wslay_queued);
    }
    if (!c->closing && !wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
        /* the peer closed and wslay echoed it, or wslay closed on a protocol error */
        c->closing = true;
        if (wslay_event_get_close_sent(c->ws)) {
            uint16_t code = wslay_event_get_status_code_sent(c->ws);
            if (code == WSLAY_CODE_PROTOCOL_ERROR || code == WSLAY_CODE_MESSAGE_TOO_BIG) {
                c->d->metrics.ws_protocol_closes++;
                c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s closed with %u (%s)", c->peer, code,
                             code == WSLAY_CODE_PROTOCOL_ERROR ? "protocol error" : "message too big");
            }
        }
        bufferevent_disable(c->bev, EV_READ);
        struct timeval grace = { WS_CLOSE_GRACE_S, 0 };
        bufferevent_set_timeouts(c->bev, NULL, &grace);
    }
    if (c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        client_free(c);
        return false;
    }
    return true;
}

/* Write our close frame straight into the output (its room is always kept
 * under the cap) and stop everything else: wslay sends nothing more, reading
 * stops, what the client has not got is dropped now. */
static void begin_close(ws_client *c, uint16_t code, const char *reason)
{
    if (c->closing) return;
    c->closing = true;
    size_t rlen = strlen(reason);
    if (rlen > 123) rlen = 123;
    uint8_t frame[4 + 123];
    frame[0] = 0x88;
    frame[1] = (uint8_t)(2 + rlen);
    frame[2] = (uint8_t)(code >> 8);
    frame[3] = (uint8_t)code;
    memcpy(frame + 4, reason, rlen);
    evbuffer_add(bufferevent_get_output(c->bev), frame, 4 + rlen);
    wslay_event_shutdown_read(c->ws);
    wslay_event_shutdown_write(c->ws);
    bufferevent_disable(c->bev, EV_READ);
    /* a stalled peer never drains: the write timeout ends it */
    struct timeval grace = { WS_CLOSE_GRACE_S, 0 };
    bufferevent_set_timeouts(c->bev, NULL, &grace);
    if (c->timer) event_del(c->timer);
    c->timer_at_ns = 0;
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

/* The rate limit is a GCRA: max_msgs_per_sec on average, and after a quiet
 * spell up to one second's worth at once. Without that burst, a client that
 * reads everything would still lose events whenever the loop itself was held
 * up (a busy machine) and then handed over a second of events in one go. */
static int64_t interval_ns(const dash *d) { return 1000000000LL / d->opt.max_msgs_per_sec; }
static int64_t burst_ns(const dash *d) { return interval_ns(d) * (d->opt.max_msgs_per_sec - 1); }
static int64_t next_allowed_ns(const ws_client *c) { return c->tat_ns - burst_ns(c->d); }
static void rate_take(ws_client *c, int64_t now_ns)
{
    c->tat_ns = (c->tat_ns > now_ns ? c->tat_ns : now_ns) + interval_ns(c->d);
}

/* Begin one text frame of len bytes in d->ws_frame, its payload added by
 * parts, or close the client if it would pass its cap. */
static bool frame_begin(ws_client *c, size_t len)
{
    if (c->closing) return false;
    if (!fits(c, WS_FRAME_HEADER_MAX + len)) {
        slow_close(c, WS_FRAME_HEADER_MAX + len);
        return false;
    }
    struct evbuffer *f = c->d->ws_frame;
    uint8_t h[WS_FRAME_HEADER_MAX];
    size_t hl = frame_header(h, WSLAY_TEXT_FRAME, len);
    evbuffer_expand(f, hl + len);                    /* one contiguous run: the adds below only copy */
    evbuffer_add(f, h, hl);
    return true;
}

/* The frame is whole: out it goes, straight to the socket if it can. */
static void frame_end(ws_client *c)
{
    size_t len = evbuffer_get_length(c->d->ws_frame);
    write_now(c->bev, c->d->ws_frame);
    c->d->metrics.ws_messages_sent++;
    c->seq++;
    note_queued(c, len);
}

static bool send_text(ws_client *c, const char *text, size_t len)
{
    if (!frame_begin(c, len)) return false;
    evbuffer_add(c->d->ws_frame, text, len);
    frame_end(c);
    return true;
}

/* Decimal digits of v, ending at end; returns where they start. */
static char *format_u64(char *end, uint64_t v)
{
    do { *--end = (char)('0' + v % 10); v /= 10; } while (v);
    return end;
}

static char *put_bytes(char *o, const void *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define PUT_LIT(o, lit) put_bytes((o), (lit), sizeof(lit) - 1)

static void send_batch(ws_client *c, int64_t now_ns)
{
    dash *d = c->d;
    size_t max = (size_t)d->opt.batch_max_events;
    event_blob *stack[64];
    event_blob **items = max <= 64 ? stack : malloc(max * sizeof *items);
    if (!items) return;
    uint64_t missed = 0;
    size_t n = cq_take(&c->q, items, max, &missed);
    if (missed) d->metrics.ws_events_dropped += missed;
    /* {"type":"batch","seq":N,"events":[{"type":"missed","count":M},e1,e2...]} */
    static const char head[] = "{\"type\":\"batch\",\"seq\":", head2[] = ",\"events\":[",
                      miss[] = "{\"type\":\"missed\",\"count\":";
    char seq_buf[24], miss_buf[24];
    char *seq = format_u64(seq_buf + sizeof seq_buf, c->seq + 1), *count = format_u64(miss_buf + sizeof miss_buf, missed);
    size_t seq_len = (size_t)(seq_buf + sizeof seq_buf - seq), count_len = (size_t)(miss_buf + sizeof miss_buf - count);
    size_t len = sizeof head - 1 + seq_len + sizeof head2 - 1 + 2 + (n ? n - 1 : 0);
    if (missed) len += sizeof miss - 1 + count_len + 1 + (n ? 1 : 0);
    for (size_t i = 0; i < n; i++) len += items[i]->len;
    if (frame_begin(c, len)) {
        /* the whole payload copied into one reserved run: one evbuffer call
         * per message instead of two per event */
        struct evbuffer *out = d->ws_frame;
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) == 1 && v.iov_len >= len) {
            char *o = v.iov_base;
            o = PUT_LIT(o, head);
            o = put_bytes(o, seq, seq_len);
            o = PUT_LIT(o, head2);
            if (missed) {
                o = PUT_LIT(o, miss);
                o = put_bytes(o, count, count_len);
                o = PUT_LIT(o, "}");
                if (n) o = PUT_LIT(o, ",");
            }
            for (size_t i = 0; i < n; i++) {
                if (i) o = PUT_LIT(o, ",");
                o = put_bytes(o, items[i]->json, items[i]->len);
            }
            o = PUT_LIT(o, "]}");
            v.iov_len = len;
            evbuffer_commit_space(out, &v, 1);
            frame_end(c);
            d->metrics.ws_events_sent += n;
        } else {
            /* out of memory: no half frame goes out; the client is told it missed these */
            evbuffer_drain(out, evbuffer_get_length(out));
            c->q.missed += missed + n;
            c->q.missed_total += n;
            d->metrics.ws_events_dropped -= missed;
        }
    }
    for (size_t i = 0; i < n; i++) event_blob_unref(items[i]);
    if (items != stack) free(items);
    rate_take(c, now_ns);
}

static void try_flush(ws_client *c, int64_t now_ns)
{
    if (c->closing) return;
    dash *d = c->d;
    size_t pending = cq_pending(&c->q);
    if (!pending && !c->q.missed) return;
    bool full = pending >= (size_t)d->opt.batch_max_events;
    if (!full && now_ns < c->due_ns) { arm(c, c->due_ns, now_ns); return; }
    if (now_ns < next_allowed_ns(c)) { arm(c, next_allowed_ns(c), now_ns); return; }
    send_batch(c, now_ns);
    if (!c->closing && (cq_pending(&c->q) || c->q.missed)) {
        c->due_ns = now_ns;             /* what is left has waited already */
        arm(c, next_allowed_ns(c), now_ns);
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
    ws_client *c = arg;
    /* rounds of at most WS_CTRL_PER_ROUND control frames, each round's
     * answers checked against the cap before more input is read */
    while (!c->closing) {
        c->ctrl_this_round = 0;
        int rc = wslay_event_recv(c->ws);
        if (rc == WSLAY_ERR_CALLBACK_FAILURE || rc == WSLAY_ERR_PROTO) {
            /* wslay's frame parser refused a frame (a control frame over 125
             * bytes or fragmented, a length with its top bit set): our recv
             * callback never fails, so the fault is the peer's. Close with
             * 1002 like any other protocol error, not with a bare TCP close. */
            c->d->metrics.ws_protocol_closes++;
            c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s sent a malformed frame: closed with 1002", c->peer);
            begin_close(c, WSLAY_CODE_PROTOCOL_ERROR, "protocol error");
            pump(c);                    /* may free c */
            return;
        }
        if (rc != 0) {
            client_free(c);
            return;
        }
        if (c->too_big && !c->closing) {
            c->d->metrics.ws_protocol_closes++;
            c->d->h->log(c->d->ctx, QTR_LOG_WARN, "ws client %s sent a frame over %d bytes: closed with 1009", c->peer,
                         DASH_WS_MAX_RECV);
            begin_close(c, WSLAY_CODE_MESSAGE_TOO_BIG, "message too big");
        }
        bool more = c->ctrl_this_round >= WS_CTRL_PER_ROUND && evbuffer_get_length(bufferevent_get_input(bev)) > 0;
        if (!pump(c) || !more) return;
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    ws_client *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) client_free(c);
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
    rate_take(c, dash_now_ns(d));
}

void ws_client_adopt(dash *d, struct bufferevent *bev, const char *peer)
{
    ws_client *c = calloc(1, sizeof *c);
    static const struct wslay_event_callbacks callbacks = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    if (!d->ws_frame) d->ws_frame = evbuffer_new();
    if (!c || !d->ws_frame || !cq_init(&c->q, (size_t)d->opt.client_queue_events)) {
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
    measure_unsent(c);                           /* the 101 answer may still be queued */
    bufferevent_setwatermark(bev, EV_READ, 0, 64 * 1024);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    send_hello(c);
    if (!pump(c)) return;
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
            begin_close(c, WSLAY_CODE_GOING_AWAY, "server stopping");
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
