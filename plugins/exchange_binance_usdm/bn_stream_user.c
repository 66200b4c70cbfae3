/*
 * bn_stream_user.c — the user data stream: a listenKey (POST, kept alive
 * with PUT, closed with DELETE /fapi/v1/listenKey) and the WebSocket
 * <stream_url>/private/ws/<listenKey>, whose ORDER_TRADE_UPDATE events
 * bring fills and order states as they happen.
 *
 * A fill is published once whatever brought it: the stream and the REST
 * path (userTrades) share the order's list of published trade ids. An
 * event is applied only when it is the order's newest news and every
 * execution up to its cumulative quantity is already published; an event
 * that shows executions never seen (a gap: a lost or reordered event) is
 * not applied but asks REST for the order, whose answer publishes the
 * missing fills in order. Older events (out of order) add only their own
 * execution, if new. While the stream is up, open orders are not polled;
 * after every (re)connect each order is queried over REST once (resync),
 * and while it is down polling goes on as before.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_codes.h"
#include "kx_buf.h"
#include "bn_json.h"
#include "bn_order_json.h"
#include "bn_plugin.h"
#include "bn_stream.h"

typedef struct bn_user_stream {
    bn_stream s;
    char listen_key[128];
    bool key_busy;
    struct event *keepalive_ev;
    int64_t last_event_ms;    /* E of the newest ORDER_TRADE_UPDATE */
    int64_t last_check_us;    /* open orders last queried while live */
} bn_user_stream;

/* One ORDER_TRADE_UPDATE, read whole before anything is applied. */
typedef struct user_event {
    int64_t event_ms;
    char exec_type[24];
    qtr_order_status status;
    qtr_dec cum_qty;
    bn_trade trade;           /* id 0 when the event is not an execution */
    char client_id[QTR_CLIENT_ID_MAX];
} user_event;

static bn_user_stream *of(bn_stream *s) { return s->ud; }

static void count(bn_plugin *p, const char *name, const char *help)
{
    qtr_metric *m = p->h->metric_counter(p->ctx, name, help, "stream", "user");
    if (m) p->h->metric_add(m, 1);
}

/* ---------------------------------------------------------------- listenKey */

static void on_key(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_user_stream *u = ud;
    u->key_busy = false;
    if (p->stopping) return;
    char err[160] = "";
    char key[sizeof u->listen_key] = "";
    bn_jfield f[] = { BN_JFIELD("listenKey") };
    bool got = r->kind == BN_RES_OK && bn_jread_object(r->body, r->body_len, f, 1, NULL, 0) == 0 &&
               bn_jget_str(&f[0].val, "listenKey", key, sizeof key, NULL, 0); /* refused if it does not fit */
    if (!got || !key[0] || strpbrk(key, "/?#% ")) {
        kx_fmt(err, sizeof err, "POST /fapi/v1/listenKey: %s", r->kind == BN_RES_OK ? "no usable listenKey" : r->msg);
        bn_stream_down(&u->s, err);
        return;
    }
    qtr_strlcpy(u->listen_key, key, sizeof u->listen_key);
    char url[512];
    kx_fmt(url, sizeof url, "%s/private/ws/%s", p->cfg.stream_url, u->listen_key);
    bn_stream_connect(&u->s, url);
}

static void op_connect(bn_stream *s)
{
    bn_user_stream *u = of(s);
    if (u->key_busy) return;
    /* A key still valid comes back the same (and extended). */
    bn_call c = { .method = "POST", .path = "/fapi/v1/listenKey", .weight = 1 };
    if (bn_rest_enqueue(s->p, &c, on_key, u) == QTR_OK) u->key_busy = true;
    else bn_stream_down(s, "POST /fapi/v1/listenKey refused (banned or stopping)");
}

static void on_keepalive_answer(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_user_stream *u = ud;
    if (r->kind == BN_RES_OK || p->stopping) return;
    if (r->kind == BN_RES_API_ERROR && r->code == BN_ERR_BAD_LISTEN_KEY) {
        u->listen_key[0] = '\0';
        bn_stream_down(&u->s, "listenKey no longer valid (-1125)");
        return;
    }
    p->h->log(p->ctx, QTR_LOG_WARN, "PUT /fapi/v1/listenKey failed: %s; trying again at the next keepalive", r->msg);
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_user_stream *u = arg;
    if (!u->listen_key[0]) return;
    bn_call c = { .method = "PUT", .path = "/fapi/v1/listenKey", .weight = 1, .expected_code = BN_ERR_BAD_LISTEN_KEY };
    bn_rest_enqueue(u->s.p, &c, on_keepalive_answer, u);
}

/* ---------------------------------------------------------------- events */

/* event_ms and obj: the message's E and o (op_message read the message). */
static int read_event(const bn_jval *event_ms, const bn_jval *obj, user_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    char status[24], side[8], order_id[QTR_CLIENT_ID_MAX];
    if (obj->type != BN_JOBJECT) {
        kx_fmt(err, errlen, "field 'o': not an object");
        return -1;
    }
    enum { F_S, F_C, F_SIDE, F_X, F_STATUS, F_I, F_Z, F_T, F_L, F_PRICE, F_N, F_ASSET, F_TIME, F_M, F_COUNT };
    bn_jfield f[F_COUNT] = { BN_JFIELD("s"), BN_JFIELD("c"), BN_JFIELD("S"), BN_JFIELD("x"), BN_JFIELD("X"),
                             BN_JFIELD("i"), BN_JFIELD("z"), BN_JFIELD("t"), BN_JFIELD("l"), BN_JFIELD("L"),
                             BN_JFIELD("n"), BN_JFIELD("N"), BN_JFIELD("T"), BN_JFIELD("m") };
    if (bn_jread_object(obj->p, obj->n, f, F_COUNT, err, errlen) != 0 ||
        !bn_jget_int(event_ms, "E", &ev->event_ms, err, errlen) ||
        !bn_jget_str(&f[F_S].val, "s", ev->trade.symbol, sizeof ev->trade.symbol, err, errlen) ||
        !bn_jget_str(&f[F_C].val, "c", ev->client_id, sizeof ev->client_id, err, errlen) ||
        !bn_jget_str(&f[F_SIDE].val, "S", side, sizeof side, err, errlen) ||
        !bn_jget_str(&f[F_X].val, "x", ev->exec_type, sizeof ev->exec_type, err, errlen) ||
        !bn_jget_str(&f[F_STATUS].val, "X", status, sizeof status, err, errlen) ||
        !bn_jget_id(&f[F_I].val, "i", order_id, sizeof order_id, err, errlen) ||
        !bn_jget_dec(&f[F_Z].val, "z", &ev->cum_qty, err, errlen))
        return -1;
    if (!bn_order_status_parse(status, &ev->status)) {
        kx_fmt(err, errlen, "field 'X': unknown status %s", status);
        return -1;
    }
    if (!strcmp(side, "BUY")) ev->trade.side = QTR_SIDE_BUY;
    else if (!strcmp(side, "SELL")) ev->trade.side = QTR_SIDE_SELL;
    else {
        kx_fmt(err, errlen, "field 'S': unknown side %s", side);
        return -1;
    }
    qtr_strlcpy(ev->trade.order_id, order_id, sizeof ev->trade.order_id);
    if (ev->cum_qty < 0) {
        kx_fmt(err, errlen, "field 'z': negative");
        return -1;
    }
    if (strcmp(ev->exec_type, "TRADE") != 0) return 0;
    bn_trade *t = &ev->trade;
    if (!bn_jget_int(&f[F_T].val, "t", &t->id, err, errlen) || !bn_jget_dec(&f[F_L].val, "l", &t->qty, err, errlen) ||
        !bn_jget_dec(&f[F_PRICE].val, "L", &t->price, err, errlen) ||
        !bn_jget_dec(&f[F_N].val, "n", &t->commission, err, errlen) ||
        !bn_jget_str(&f[F_ASSET].val, "N", t->commission_asset, sizeof t->commission_asset, err, errlen) ||
        !bn_jget_int(&f[F_TIME].val, "T", &t->time_ms, err, errlen) || !bn_jget_bool(&f[F_M].val, "m", &t->maker, err, errlen))
        return -1;
    if (t->id <= 0 || t->qty <= 0 || t->price <= 0 || t->qty > ev->cum_qty) {
        kx_fmt(err, errlen, "execution %lld: id, qty or price out of range", (long long)t->id);
        return -1;
    }
    t->buyer = t->side == QTR_SIDE_BUY;
    qtr_dec_mul(t->qty, t->price, QTR_ROUND_HALF_EVEN, &t->quote_qty);
    return 0;
}

static bn_order *order_of(bn_plugin *p, const char *child_cid)
{
    for (bn_order *o = p->active; o; o = o->anext)
        if (!o->algo && !strcmp(o->child_cid, child_cid)) return o;
    return NULL;
}

/* The conditional order whose trigger placed the order order_id, if ours. */
static bn_order *algo_of_child(bn_plugin *p, const char *order_id)
{
    for (bn_order *o = p->active; o; o = o->anext)
        if (o->algo && o->algo_triggered && !strcmp(o->exchange_id, order_id)) return o;
    return NULL;
}

static void apply_event(bn_user_stream *u, const user_event *ev)
{
    bn_plugin *p = u->s.p;
    bool older = ev->event_ms < u->last_event_ms;
    if (older) count(p, "exchange_stream_out_of_order_total", "Stream events older than one already seen");
    else u->last_event_ms = ev->event_ms;
    bn_order *o = order_of(p, ev->client_id);
    if (!o) {
        /* The order a triggered stop placed has the exchange's own client
         * id: its news sends us to REST, which publishes each fill once. */
        bn_order *a = algo_of_child(p, ev->trade.order_id);
        if (a) bn_orders_query(a);
        return;
    }
    if (o->phase == BN_PH_DONE) return; /* already final */
    if (o->exchange_id[0] && strcmp(o->exchange_id, ev->trade.order_id) != 0) return; /* an older order of that id */
    if (strcmp(ev->trade.symbol, o->intent.symbol) != 0 || ev->trade.side != o->intent.side) {
        bn_stream_malformed(&u->s, "ORDER_TRADE_UPDATE names an order of another symbol or side");
        return;
    }
    if (ev->trade.id > 0 && !bn_trades_publish_stream(o, &ev->trade)) return; /* no memory: REST brings it later */
    if (ev->cum_qty > o->tr_qty) {
        /* Executions before this one were never seen here: ask REST, which
         * publishes them in order (the order's state follows its fills). */
        count(p, "exchange_stream_gaps_total", "Stream events that showed something missed (refetched over REST)");
        bn_orders_query(o);
        return;
    }
    if (ev->cum_qty < o->tr_qty || ev->event_ms < o->stream_event_ms) return; /* old news */
    o->stream_event_ms = ev->event_ms;
    qtr_strlcpy(o->exchange_id, ev->trade.order_id, sizeof o->exchange_id);
    if (qtr_order_status_final(o->child_status)) return;
    o->child_status = ev->status;
    if (!qtr_order_status_final(ev->status)) o->phase = BN_PH_OPEN;
    if (o->tr_qty < o->ft.last_qty) return; /* REST fills of its own are still on their way */
    bn_order_settle(o);
}

/* ALGO_UPDATE: a conditional order of ours changed (triggered, finished,
 * cancelled, expired). Its state and the fills of the order it placed are
 * read over REST, the one path that publishes them (each fill once). */
static void apply_algo_event(bn_stream *s, const bn_jval *obj)
{
    bn_plugin *p = s->p;
    char caid[QTR_CLIENT_ID_MAX], err[160] = "";
    bn_jfield f[] = { BN_JFIELD("caid") };
    if (obj->type != BN_JOBJECT || bn_jread_object(obj->p, obj->n, f, 1, err, sizeof err) != 0 ||
        !bn_jget_str(&f[0].val, "caid", caid, sizeof caid, err, sizeof err)) {
        char why[220];
        kx_fmt(why, sizeof why, "ALGO_UPDATE: %s", err[0] ? err : "field 'o': not an object");
        bn_stream_malformed(s, why);
        return;
    }
    for (bn_order *o = p->active; o; o = o->anext)
        if (o->algo && !strcmp(o->child_cid, caid)) {
            bn_orders_query(o);
            return;
        }
}

static void op_message(bn_stream *s, const char *text, size_t len)
{
    bn_user_stream *u = of(s);
    bn_plugin *p = s->p;
    char err[200] = "", e[32] = "";
    bn_jfield root[] = { BN_JFIELD("e"), BN_JFIELD("E"), BN_JFIELD("o") };
    int rc = bn_jread_object(text, len, root, 3, err, sizeof err);
    if (rc != 0 || !bn_jget_str(&root[0].val, "e", e, sizeof e, NULL, 0)) {
        char why[260];
        kx_fmt(why, sizeof why, "message not readable (%s)", rc == 0 ? "no event type 'e'" : err);
        bn_stream_malformed(s, why);
        return;
    }
    if (!strcmp(e, "ORDER_TRADE_UPDATE")) {
        user_event ev;
        if (read_event(&root[1].val, &root[2].val, &ev, err, sizeof err) != 0) {
            char why[260];
            kx_fmt(why, sizeof why, "ORDER_TRADE_UPDATE: %s", err);
            bn_stream_malformed(s, why);
        } else {
            apply_event(u, &ev);
        }
    } else if (!strcmp(e, "ALGO_UPDATE")) {
        apply_algo_event(s, &root[2].val);
    } else if (!strcmp(e, "listenKeyExpired")) {
        u->listen_key[0] = '\0';
        count(p, "exchange_listen_key_expired_total", "listenKeyExpired events (a new key is taken)");
        bn_stream_down(s, "listenKey expired");
    }
    /* ACCOUNT_UPDATE and others: positions and balances come from the
     * snapshot and the store's own books; nothing to apply here. */
}

/* ---------------------------------------------------------------- live/down */

static void op_live(bn_stream *s)
{
    bn_user_stream *u = of(s);
    bn_plugin *p = s->p;
    struct timeval tv = { (time_t)(p->cfg.listen_key_keepalive_ms / 1000),
                          (suseconds_t)((p->cfg.listen_key_keepalive_ms % 1000) * 1000) };
    event_add(u->keepalive_ev, &tv);
    u->last_check_us = bn_mono_us(p); /* the resync below is this period's check */
    bn_fill_mode_changed(p);
    bn_orders_query_all(p); /* resync: whatever happened while it was down */
}

static void op_down(bn_stream *s, const char *why)
{
    (void)why;
    bn_fill_mode_changed(s->p);
}

static const bn_stream_ops user_ops = {
    .connect = op_connect, .on_live = op_live, .on_down = op_down, .on_message = op_message,
};

/* ---------------------------------------------------------------- plugin */

int bn_user_stream_init(bn_plugin *p)
{
    if (!p->cfg.stream_url[0] || !p->cfg.user_stream) return 0;
    bn_user_stream *u = calloc(1, sizeof *u);
    if (!u) return -1;
    p->ustream = u;
    u->keepalive_ev = event_new(p->base, -1, EV_PERSIST, on_keepalive, u);
    return u->keepalive_ev && bn_stream_init(&u->s, p, "user", &user_ops, u) == 0 ? 0 : -1;
}

void bn_user_stream_start(bn_plugin *p)
{
    if (p->ustream) bn_stream_start(&p->ustream->s);
}

static void on_closed_key(bn_plugin *p, void *ud, const bn_result *r)
{
    (void)p; (void)ud; (void)r;
}

void bn_user_stream_stop(bn_plugin *p)
{
    bn_user_stream *u = p->ustream;
    if (!u) return;
    u->s.stopped = true;
    if (u->keepalive_ev) event_del(u->keepalive_ev);
    if (u->listen_key[0]) {
        bn_call c = { .method = "DELETE", .path = "/fapi/v1/listenKey", .weight = 1, .expected_code = BN_ERR_BAD_LISTEN_KEY };
        bn_rest_enqueue(p, &c, on_closed_key, NULL);
    }
}

void bn_user_stream_free(bn_plugin *p)
{
    bn_user_stream *u = p->ustream;
    if (!u) return;
    bn_stream_free(&u->s);
    if (u->keepalive_ev) event_free(u->keepalive_ev);
    free(u);
    p->ustream = NULL;
}

bool bn_user_stream_live(const bn_plugin *p) { return p->ustream && p->ustream->s.live; }

bool bn_user_stream_check_due(bn_plugin *p)
{
    bn_user_stream *u = p->ustream;
    if (!u || p->cfg.stream_poll_ms <= 0) return false;
    int64_t now = bn_mono_us(p);
    if (u->last_check_us && now - u->last_check_us < p->cfg.stream_poll_ms * 1000) return false;
    u->last_check_us = now;
    return true;
}

const char *bn_user_stream_reason(const bn_plugin *p)
{
    if (!p->ustream) return p->cfg.stream_url[0] ? "user stream off" : "no stream_url";
    return p->ustream->s.reason;
}
