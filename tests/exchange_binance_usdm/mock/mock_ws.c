/* mock_ws.c — see mock_ws.h. */
#include "mock_ws.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bn_ws.h"

#define HEAD_MAX 8192
#define MAX_STREAMS 32
#define MAX_HELD 64

typedef struct mw_conn {
    struct mw_conn *next;
    mock_ws *w;
    struct bufferevent *bev;
    bool open, user, stalled;
    char key[64];
    int n_streams;
    char streams[MAX_STREAMS][64];
} mw_conn;

struct mock_ws {
    struct event_base *base;
    struct evconnlistener *lis;
    int port;
    ms_state *st;
    SSL_CTX *tls;
    mw_conn *conns;
    char key[64];
    bool key_valid;
    int key_no;
    bool refuse;
    bool tracking;            /* a user stream was opened: events are tracked */
    int trades_sent;          /* executions already turned into events */
    int reorder_n, n_held;
    char *held[MAX_HELD];
    bool holding;             /* events kept until "release" (in order)  */
    int n_kept;
    char *kept[MAX_HELD];
    int64_t dropped;          /* kept beyond MAX_HELD: never sent        */
    int64_t connections, events_sent, keepalives, pings;
};

/* ------------------------------------------------------------- frames */

static void send_frame(mw_conn *c, int opcode, const char *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) h[1] = (unsigned char)len;
    else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    evbuffer_add(out, h, hl);
    evbuffer_add(out, data, len);
}

static void conn_free(mw_conn *c)
{
    mock_ws *w = c->w;
    for (mw_conn **q = &w->conns; *q; q = &(*q)->next)
        if (*q == c) {
            *q = c->next;
            break;
        }
    bufferevent_free(c->bev);
    free(c);
}

static void send_text_user(mock_ws *w, const char *text)
{
    for (mw_conn *c = w->conns; c; c = c->next)
        if (c->open && c->user && !c->stalled && w->key_valid && !strcmp(c->key, w->key)) {
            send_frame(c, 1, text, strlen(text));
            w->events_sent++;
        }
}

static void deliver_user(mock_ws *w, json_t *ev)
{
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (!text) return;
    if (w->holding) {
        if (w->n_kept < MAX_HELD) w->kept[w->n_kept++] = text;
        else {
            w->dropped++;
            free(text);
        }
        return;
    }
    if (w->reorder_n > 0) {
        /* held, then sent newest first: out of order */
        w->held[w->n_held++] = text;
        if (w->n_held >= w->reorder_n || w->n_held == MAX_HELD) {
            for (int i = w->n_held - 1; i >= 0; i--) {
                send_text_user(w, w->held[i]);
                free(w->held[i]);
            }
            w->n_held = w->reorder_n = 0;
        }
        return;
    }
    send_text_user(w, text);
    free(text);
}

/* ------------------------------------------------------------- user events */

static json_t *dec(qtr_dec v)
{
    char b[QTR_DEC_STRLEN];
    return json_string(qtr_dec_format(v, b));
}

static json_t *order_event(mock_ws *w, const ms_order *o, const char *x, const char *X, qtr_dec z, const ms_trade *t)
{
    int64_t now = ms_now(w->st);
    qtr_dec avg = 0;
    if (o->executed > 0) qtr_dec_div(o->cum_quote, o->executed, QTR_ROUND_HALF_EVEN, &avg);
    qtr_dec comm = t ? t->commission : 0;
    if (t && w->st->commission_negative && comm > 0) comm = -comm;
    json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:s,s:o,s:I,s:I,s:b,s:b,s:s,s:s,s:o}",
                          "s", o->symbol, "c", o->cid, "S", o->side, "o", o->type, "f", o->tif[0] ? o->tif : "GTC",
                          "q", dec(o->orig_qty), "p", dec(o->price), "ap", dec(avg), "sp", "0", "x", x, "X", X,
                          "i", (json_int_t)o->order_id, "l", dec(t ? t->qty : 0), "z", dec(z), "L", dec(t ? t->price : 0),
                          "N", w->st->commission_asset, "n", dec(comm), "T", (json_int_t)(t ? t->time : now),
                          "t", (json_int_t)(t ? t->id : 0), "m", t ? t->maker : false, "R", o->reduce_only, "ps", "BOTH",
                          "ot", o->type, "rp", dec(t ? t->realized_pnl : 0));
    return json_pack("{s:s,s:I,s:I,s:o}", "e", "ORDER_TRADE_UPDATE", "E", (json_int_t)now, "T", (json_int_t)now, "o", d);
}

/* ALGO_UPDATE for a conditional order (reference §7). */
static json_t *algo_event(mock_ws *w, const ms_order *a)
{
    int64_t now = ms_now(w->st);
    json_t *d = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:I,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:i,s:i,s:s}",
                          "caid", a->cid, "aid", (json_int_t)a->algo_id, "at", "CONDITIONAL", "o", a->type, "s",
                          a->symbol, "S", a->side, "ps", "BOTH", "f", "GTC", "q", dec(a->orig_qty), "X",
                          a->algo_status, "ai", (json_int_t)a->actual_order_id, "ap", "0", "aq", "0", "act", "0",
                          "tp", dec(a->stop), "p", "0", "V", "EXPIRE_MAKER", "wt",
                          a->mark_price ? "MARK_PRICE" : "CONTRACT_PRICE", "pm", "NONE", "cp", 0, "pP", 0, "R",
                          a->reduce_only, "tt", 0, "gtd", 0, "rm", "");
    return json_pack("{s:s,s:I,s:I,s:o}", "e", "ALGO_UPDATE", "E", (json_int_t)now, "T", (json_int_t)now, "o", d);
}

/* What changed since the last flush, as events in the order it happened
 * in: conditional orders' states, new orders, then executions, then other
 * state changes. */
void mock_ws_flush(mock_ws *w)
{
    ms_state *st = w->st;
    if (!w->tracking) return;
    if (w->trades_sent > st->n_trades) w->trades_sent = 0; /* a reset */
    for (int i = 0; i < st->n_orders; i++) {
        ms_order *a = &st->orders[i];
        if (!a->algo || !strcmp(a->ws_algo, a->algo_status)) continue;
        snprintf(a->ws_algo, sizeof a->ws_algo, "%s", a->algo_status);
        deliver_user(w, algo_event(w, a));
    }
    for (int i = 0; i < st->n_orders; i++) {
        ms_order *o = &st->orders[i];
        if (o->algo || o->ws_status[0]) continue;
        snprintf(o->ws_status, sizeof o->ws_status, "NEW");
        deliver_user(w, order_event(w, o, "NEW", "NEW", 0, NULL));
    }
    for (; w->trades_sent < st->n_trades; w->trades_sent++) {
        const ms_trade *t = &st->trades[w->trades_sent];
        ms_order *o = ms_order_by_id(st, t->order_id);
        if (!o) continue;
        o->ws_z += t->qty;
        const char *X = o->ws_z >= o->orig_qty ? "FILLED" : "PARTIALLY_FILLED";
        snprintf(o->ws_status, sizeof o->ws_status, "%s", X);
        deliver_user(w, order_event(w, o, "TRADE", X, o->ws_z, t));
    }
    for (int i = 0; i < st->n_orders; i++) {
        ms_order *o = &st->orders[i];
        if (o->algo || !strcmp(o->ws_status, o->status)) continue;
        snprintf(o->ws_status, sizeof o->ws_status, "%s", o->status);
        deliver_user(w, order_event(w, o, o->status, o->status, o->ws_z, NULL));
    }
}

/* From the first user stream on, changes are events; earlier ones are not. */
static void start_tracking(mock_ws *w)
{
    if (w->tracking) return;
    w->tracking = true;
    ms_state *st = w->st;
    for (int i = 0; i < st->n_orders; i++) {
        snprintf(st->orders[i].ws_status, sizeof st->orders[i].ws_status, "%s", st->orders[i].status);
        snprintf(st->orders[i].ws_algo, sizeof st->orders[i].ws_algo, "%s", st->orders[i].algo_status);
        st->orders[i].ws_z = st->orders[i].executed;
    }
    w->trades_sent = st->n_trades;
}

/* ------------------------------------------------------------- market */

void mock_ws_market(mock_ws *w, const char *prefix, json_t *data)
{
    size_t pl = strlen(prefix);
    for (mw_conn *c = w->conns; c; c = c->next) {
        if (!c->open || c->user || c->stalled) continue;
        for (int k = 0; k < c->n_streams; k++)
            if (!strncasecmp(c->streams[k], prefix, pl)) {
                json_t *msg = json_pack("{s:s,s:O}", "stream", c->streams[k], "data", data);
                char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
                json_decref(msg);
                if (text) send_frame(c, 1, text, strlen(text));
                free(text);
                w->events_sent++;
                break;
            }
    }
    json_decref(data);
}

static void stream_prefix(char *out, size_t len, const char *symbol, const char *suffix)
{
    size_t i = 0;
    for (; symbol[i] && i + 1 < len; i++) out[i] = (char)tolower((unsigned char)symbol[i]);
    snprintf(out + i, len - i, "%s", suffix);
}

void mock_ws_kline(mock_ws *w, const ms_symbol *y, int k)
{
    char prefix[64];
    stream_prefix(prefix, sizeof prefix, y->name, "@kline_");
    int64_t now = ms_now(w->st);
    json_t *kl = json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:i}", "t", (json_int_t)y->klines[k].open, "T",
                           (json_int_t)y->klines[k].close, "s", y->name, "o", dec(y->klines[k].o), "h", dec(y->klines[k].h),
                           "l", dec(y->klines[k].l), "c", dec(y->klines[k].c), "v", dec(y->klines[k].v), "x",
                           y->klines[k].close < now, "n", 1);
    mock_ws_market(w, prefix, json_pack("{s:s,s:I,s:s,s:o}", "e", "kline", "E", (json_int_t)now, "s", y->name, "k", kl));
}

void mock_ws_mark(mock_ws *w, const ms_symbol *y)
{
    char prefix[64];
    stream_prefix(prefix, sizeof prefix, y->name, "@markprice");
    mock_ws_market(w, prefix,
                   json_pack("{s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:I}", "e", "markPriceUpdate", "E", (json_int_t)ms_now(w->st), "s",
                             y->name, "p", dec(y->mark), "i", dec(y->index), "P", dec(y->mark), "r", dec(y->funding), "T",
                             (json_int_t)y->next_funding));
}

void mock_ws_book(mock_ws *w, const ms_symbol *y)
{
    if (y->n_bids == 0 || y->n_asks == 0) return;
    char prefix[64];
    stream_prefix(prefix, sizeof prefix, y->name, "@bookticker");
    int64_t now = ms_now(w->st);
    mock_ws_market(w, prefix,
                   json_pack("{s:s,s:I,s:I,s:I,s:s,s:o,s:o,s:o,s:o}", "e", "bookTicker", "u", (json_int_t)now, "E",
                             (json_int_t)now, "T", (json_int_t)now, "s", y->name, "b", dec(y->bids[0][0]), "B",
                             dec(y->bids[0][1]), "a", dec(y->asks[0][0]), "A", dec(y->asks[0][1])));
}

/* ------------------------------------------------------------- connections */

static void refuse(mw_conn *c, const char *status)
{
    evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        status);
    bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
    c->open = false;
    c->stalled = true; /* nothing more goes out; the client closes */
}

static void parse_streams(mw_conn *c, const char *q)
{
    const char *s = strstr(q, "streams=");
    if (!s) return;
    s += 8;
    while (*s && *s != ' ' && *s != '&' && c->n_streams < MAX_STREAMS) {
        size_t n = strcspn(s, "/ &");
        if (n > 0 && n < sizeof c->streams[0]) {
            memcpy(c->streams[c->n_streams], s, n);
            c->streams[c->n_streams++][n] = '\0';
        }
        s += n;
        if (*s == '/') s++;
    }
}

static void handshake(mw_conn *c)
{
    mock_ws *w = c->w;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0 || (size_t)end.pos + 4 > HEAD_MAX) {
        if (evbuffer_get_length(in) > HEAD_MAX) conn_free(c);
        return;
    }
    char head[HEAD_MAX + 1];
    size_t hl = (size_t)end.pos + 4;
    evbuffer_remove(in, head, hl);
    head[hl] = '\0';
    char path[1024] = "";
    if (sscanf(head, "GET %1023s HTTP/1.1", path) != 1) {
        refuse(c, "400 Bad Request");
        return;
    }
    const char *k = strcasestr(head, "\r\nSec-WebSocket-Key:");
    char key[64] = "";
    if (k) sscanf(k + 20, " %63s", key);
    if (!key[0]) {
        refuse(c, "400 Bad Request");
        return;
    }
    if (w->refuse) {
        refuse(c, "503 Service Unavailable");
        return;
    }
    const char *lk = !strncmp(path, "/private/ws/", 12) ? path + 12 : !strncmp(path, "/ws/", 4) ? path + 4 : NULL;
    if (lk) {
        if (!w->key_valid || strcmp(lk, w->key) != 0) {
            refuse(c, "400 Bad Request");
            return;
        }
        c->user = true;
        snprintf(c->key, sizeof c->key, "%.63s", lk); /* equal to w->key: it fits */
        start_tracking(w);
    } else if (!strncmp(path, "/market/stream?", 15) || !strncmp(path, "/public/stream?", 15) ||
               !strncmp(path, "/stream?", 8)) {
        parse_streams(c, strchr(path, '?'));
    } else {
        refuse(c, "404 Not Found");
        return;
    }
    char accept[32];
    bn_ws_accept_key(key, accept);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    c->open = true;
    w->connections++;
}

/* Client frames: masked; only control frames matter here. */
static void read_frames(mw_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[14];
        if (avail < 2) return;
        evbuffer_copyout(in, h, avail < sizeof h ? avail : sizeof h);
        int op = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (avail < 4) return;
            len = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10) return;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
            hl = 10;
        }
        if (!(h[1] & 0x80) || len > 65536) { /* unmasked or huge: protocol error */
            conn_free(c);
            return;
        }
        if (avail < hl + 4 + len) return;
        unsigned char mask[4], payload[65536];
        evbuffer_drain(in, hl);
        evbuffer_remove(in, mask, 4);
        evbuffer_remove(in, payload, (size_t)len);
        for (uint64_t i = 0; i < len; i++) payload[i] ^= mask[i % 4];
        if (c->stalled) continue;
        if (op == 9) {
            c->w->pings++;
            send_frame(c, 10, (const char *)payload, (size_t)len);
        } else if (op == 8) {
            send_frame(c, 8, (const char *)payload, len >= 2 ? 2 : 0);
            bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
            c->open = false;
            c->stalled = true;
        }
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    mw_conn *c = arg;
    if (!c->open && !c->stalled) handshake(c);
    else read_frames(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    (void)l; (void)sa; (void)salen;
    mock_ws *w = arg;
    mw_conn *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->w = w;
    SSL *ssl = w->tls ? SSL_new(w->tls) : NULL;
    c->bev = ssl ? bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                 : w->tls ? NULL : bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        if (ssl) SSL_free(ssl);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = w->conns;
    w->conns = c;
}

/* ------------------------------------------------------------- listenKey */

const char *mock_ws_key_new(mock_ws *w)
{
    if (!w->key_valid) {
        snprintf(w->key, sizeof w->key, "mockListenKey%04dpQeVxT7", ++w->key_no);
        w->key_valid = true;
    }
    return w->key;
}

bool mock_ws_key_keepalive(mock_ws *w)
{
    w->keepalives++;
    return w->key_valid;
}

void mock_ws_key_close(mock_ws *w) { w->key_valid = false; }

/* ------------------------------------------------------------- control */

static void close_all(mock_ws *w, const char *kind)
{
    for (mw_conn *c = w->conns, *n; c; c = n) {
        n = c->next;
        bool user = c->user;
        if (!kind || !kind[0] || (!strcmp(kind, "user") && user) || (!strcmp(kind, "market") && !user)) conn_free(c);
    }
}

json_t *mock_ws_control(mock_ws *w, const char *action, const char *arg, const char *kind, char *err, size_t errlen)
{
    bool user_only = kind && !strcmp(kind, "user"), market_only = kind && !strcmp(kind, "market");
    if (!action) action = "";
    if (!strcmp(action, "disconnect")) close_all(w, kind);
    else if (!strcmp(action, "stall")) {
        for (mw_conn *c = w->conns; c; c = c->next)
            if ((!user_only || c->user) && (!market_only || !c->user)) c->stalled = true;
    } else if (!strcmp(action, "reorder")) {
        w->reorder_n = arg ? atoi(arg) : 2;
        if (w->reorder_n < 0 || w->reorder_n > MAX_HELD) w->reorder_n = MAX_HELD;
    } else if (!strcmp(action, "hold")) {
        w->holding = true;
    } else if (!strcmp(action, "release")) {
        w->holding = false;
        for (int i = 0; i < w->n_kept; i++) {
            send_text_user(w, w->kept[i]);
            free(w->kept[i]);
        }
        w->n_kept = 0;
    } else if (!strcmp(action, "forget")) {
        w->key_valid = false; /* silently: the next keepalive gets -1125 */
    } else if (!strcmp(action, "expire")) {
        if (w->key_valid) {
            char text[160];
            snprintf(text, sizeof text, "{\"e\":\"listenKeyExpired\",\"E\":%lld,\"listenKey\":\"%s\"}",
                     (long long)ms_now(w->st), w->key);
            send_text_user(w, text);
        }
        w->key_valid = false;
    } else if (!strcmp(action, "down")) {
        w->refuse = true;
        close_all(w, NULL);
    } else if (!strcmp(action, "up")) {
        w->refuse = false;
    } else if (!strcmp(action, "raw") || !strcmp(action, "big")) {
        char *text = NULL;
        if (!strcmp(action, "big")) {
            size_t n = arg ? (size_t)atol(arg) : 100000;
            if (n < 32 || n > (64u << 20)) n = 100000;
            text = malloc(n + 1);
            if (!text) return NULL;
            memset(text, 'x', n);
            memcpy(text, "{\"e\":\"pad\",\"x\":\"", 16);
            memcpy(text + n - 2, "\"}", 2);
            text[n] = '\0';
        }
        const char *t = text ? text : arg ? arg : "";
        for (mw_conn *c = w->conns; c; c = c->next)
            if (c->open && !c->stalled && (!user_only || c->user) && (!market_only || !c->user)) {
                send_frame(c, 1, t, strlen(t));
                w->events_sent++;
            }
        free(text);
    } else {
        snprintf(err, errlen, "action must be disconnect, stall, reorder, hold, release, expire, forget, down, up, raw or big");
        return NULL;
    }
    return json_pack("{s:b}", "ok", 1);
}

json_t *mock_ws_info(const mock_ws *w)
{
    int user = 0, market = 0;
    for (const mw_conn *c = w->conns; c; c = c->next)
        if (c->open) c->user ? user++ : market++;
    return json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:s,s:b}", "port", w->port, "user_connections", user,
                     "market_connections", market, "connections", (json_int_t)w->connections, "events_sent",
                     (json_int_t)w->events_sent, "keepalives", (json_int_t)w->keepalives, "pings",
                     (json_int_t)w->pings, "listen_key", w->key, "key_valid", w->key_valid);
}

/* ------------------------------------------------------------- lifecycle */

mock_ws *mock_ws_start(struct event_base *base, ms_state *st, SSL_CTX *tls)
{
    mock_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->base = base;
    w->st = st;
    w->tls = tls;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    w->lis = evconnlistener_new_bind(base, on_accept, w, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
                                     (struct sockaddr *)&sin, sizeof sin);
    if (!w->lis) {
        free(w);
        return NULL;
    }
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    getsockname(evconnlistener_get_fd(w->lis), (struct sockaddr *)&bound, &len);
    w->port = ntohs(bound.sin_port);
    return w;
}

int mock_ws_port(const mock_ws *w) { return w->port; }

void mock_ws_free(mock_ws *w)
{
    if (!w) return;
    while (w->conns) conn_free(w->conns);
    for (int i = 0; i < w->n_held; i++) free(w->held[i]);
    for (int i = 0; i < w->n_kept; i++) free(w->kept[i]);
    evconnlistener_free(w->lis);
    free(w);
}
