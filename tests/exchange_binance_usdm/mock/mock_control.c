/* mock_control.c — /mock/... endpoints: set prices and market data, arm
 * faults, fill or cancel resting orders, read the state for assertions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_server.h"
#include "mock_ws.h"

static bool dec_param(mock_req *r, const char *name, qtr_dec *out)
{
    const char *t = mr_param(r, name);
    return t && qtr_dec_parse(t, (size_t)-1, out) == QTR_DEC_OK;
}

static int int_param(mock_req *r, const char *name, int dflt)
{
    const char *t = mr_param(r, name);
    return t ? atoi(t) : dflt;
}

static void ok(mock_reply *out) { out->body = json_pack("{s:b}", "ok", 1); }

static ms_symbol *symbol_param(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = ms_symbol_find(s->st, mr_param(r, "symbol"));
    if (!y) mr_error(out, 400, -1121, "Invalid symbol.");
    return y;
}

static void c_fault(mock_server *s, mock_req *r, mock_reply *out)
{
    mf_fault f;
    memset(&f, 0, sizeof f);
    const char *path = mr_param(r, "path"), *kind = mr_param(r, "kind"), *m = mr_param(r, "method"),
               *end = mr_param(r, "end");
    if (!path || !kind) {
        mr_error(out, 400, -1102, "path and kind are required");
        return;
    }
    snprintf(f.path, sizeof f.path, "%s", path);
    snprintf(f.kind, sizeof f.kind, "%s", kind);
    snprintf(f.method, sizeof f.method, "%s", m ? m : "");
    snprintf(f.end_status, sizeof f.end_status, "%s", end ? end : "");
    f.count = int_param(r, "count", 1);
    f.exec = int_param(r, "exec", 0) != 0;
    f.retry_after = int_param(r, "retry_after", 0);
    f.delay_ms = int_param(r, "delay_ms", 3000);
    f.steps = int_param(r, "steps", 2);
    f.ratio_pct = int_param(r, "ratio", 50);
    f.status = int_param(r, "status", 0);
    f.hide = int_param(r, "hide", 0);
    if (mf_add(&s->faults, &f) != 0) mr_error(out, 400, -1, "fault table full or count <= 0");
    else ok(out);
}

/* symbol= and price= of /mock/price and /mock/mark; NULL after an error. */
static ms_symbol *symbol_and_price(mock_server *s, mock_req *r, mock_reply *out, qtr_dec *p)
{
    ms_symbol *y = symbol_param(s, r, out);
    if (y && (!dec_param(r, "price", p) || *p <= 0)) {
        mr_error(out, 400, -1, "price must be a positive decimal");
        return NULL;
    }
    return y;
}

static void c_price(mock_server *s, mock_req *r, mock_reply *out)
{
    qtr_dec p;
    ms_symbol *y = symbol_and_price(s, r, out, &p);
    if (!y) return;
    y->price = p;
    ms_price_moved(s->st, y);
    ok(out);
}

static void c_fill(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *cid = mr_param(r, "clientOrderId");
    ms_order *o = cid ? ms_order_by_cid(s->st, cid) : NULL;
    qtr_dec qty, price;
    if (!o || !ms_order_open(o) || !dec_param(r, "qty", &qty) || qty <= 0 || o->executed + qty > o->orig_qty) {
        mr_error(out, 400, -1, "needs an open clientOrderId and a qty that fits");
        return;
    }
    if (!dec_param(r, "price", &price)) price = o->price;
    ms_fill(s->st, o, qty, price, true); /* a resting order is the maker */
    ok(out);
}

static void c_cancel(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *cid = mr_param(r, "clientOrderId"), *st = mr_param(r, "status"), *aid = mr_param(r, "clientAlgoId");
    if (aid) { /* a conditional order removed on the exchange's side (by hand, on the website) */
        ms_order *a = ms_algo_by_cid(s->st, aid);
        if (!a || !ms_order_open(a)) {
            mr_error(out, 400, -1, "needs an open clientAlgoId");
            return;
        }
        snprintf(a->algo_status, sizeof a->algo_status, "%s", st ? st : "CANCELED");
        a->update_time = ms_now(s->st);
        ok(out);
        return;
    }
    ms_order *o = cid ? ms_order_by_cid(s->st, cid) : NULL;
    if (!o || !ms_order_open(o)) {
        mr_error(out, 400, -1, "needs an open clientOrderId");
        return;
    }
    snprintf(o->status, sizeof o->status, "%s", st ? st : "CANCELED");
    ok(out);
}

static void c_open_order(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    const char *cid = mr_param(r, "clientOrderId"), *side = mr_param(r, "side");
    qtr_dec qty, price;
    if (!y) return;
    if (!cid || !side || !dec_param(r, "qty", &qty) || !dec_param(r, "price", &price)) {
        mr_error(out, 400, -1, "needs clientOrderId, side, qty, price");
        return;
    }
    ms_order *o = ms_order_add(s->st, cid);
    snprintf(o->symbol, sizeof o->symbol, "%s", y->name);
    snprintf(o->side, sizeof o->side, "%s", side);
    snprintf(o->type, sizeof o->type, "LIMIT");
    snprintf(o->tif, sizeof o->tif, "GTC");
    snprintf(o->status, sizeof o->status, "NEW");
    o->orig_qty = qty;
    o->price = price;
    o->external = true;
    const char *t = mr_param(r, "time"); /* placed earlier than now (ms since the epoch) */
    if (t) o->time = o->update_time = atoll(t);
    qtr_dec filled;
    if (dec_param(r, "filled", &filled) && filled > 0) ms_fill(s->st, o, filled, price, true);
    out->body = json_pack("{s:I}", "orderId", (json_int_t)o->order_id);
}

/* POST /mock/open_algo?symbol&side&type&qty&clientAlgoId[&triggerPrice]
 * [&callbackRate&activatePrice][&workingType][&reduceOnly=true]: a
 * conditional order resting since an earlier run. */
static void c_open_algo(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    const char *cid = mr_param(r, "clientAlgoId"), *side = mr_param(r, "side"), *type = mr_param(r, "type");
    qtr_dec qty;
    if (!y) return;
    if (!cid || !side || !type || !dec_param(r, "qty", &qty)) {
        mr_error(out, 400, -1, "needs clientAlgoId, side, type, qty");
        return;
    }
    ms_order c;
    memset(&c, 0, sizeof c);
    snprintf(c.side, sizeof c.side, "%s", side);
    snprintf(c.type, sizeof c.type, "%s", type);
    if (!mock_read_conditional(r, out, y, type, &c)) return;
    ms_order *o = ms_order_add(s->st, cid);
    if (!o) {
        mr_error(out, 500, -1, "order table full");
        return;
    }
    snprintf(o->symbol, sizeof o->symbol, "%s", y->name);
    snprintf(o->side, sizeof o->side, "%s", side);
    snprintf(o->type, sizeof o->type, "%s", type);
    snprintf(o->status, sizeof o->status, "NEW");
    snprintf(o->algo_status, sizeof o->algo_status, "NEW");
    o->algo = true;
    o->algo_id = o->order_id;
    o->orig_qty = qty;
    o->stop = c.stop;
    o->mark_price = c.mark_price;
    o->callback_bps = c.callback_bps;
    o->activation = c.activation;
    o->reduce_only = mr_param(r, "reduceOnly") && !strcmp(mr_param(r, "reduceOnly"), "true");
    if (!strcmp(type, "TRAILING_STOP_MARKET") && o->activation == 0) {
        o->activated = true;
        o->best = ms_algo_watch_price(y, o);
    }
    out->body = json_pack("{s:I}", "algoId", (json_int_t)o->algo_id);
}

static void c_position(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    qtr_dec amt, entry;
    if (!y) return;
    if (!dec_param(r, "amt", &amt) || !dec_param(r, "entry", &entry)) {
        mr_error(out, 400, -1, "needs amt and entry");
        return;
    }
    y->position = amt;
    y->entry = entry;
    ok(out);
}

static void c_kline(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    if (!y) return;
    if (y->n_klines >= MS_MAX_KLINES) {
        mr_error(out, 400, -1, "kline table full");
        return;
    }
    const char *ot = mr_param(r, "open_time"), *ct = mr_param(r, "close_time");
    int k = y->n_klines;
    if (!ot || !ct || !dec_param(r, "o", &y->klines[k].o) || !dec_param(r, "h", &y->klines[k].h) ||
        !dec_param(r, "l", &y->klines[k].l) || !dec_param(r, "c", &y->klines[k].c) ||
        !dec_param(r, "v", &y->klines[k].v)) {
        mr_error(out, 400, -1, "needs open_time close_time o h l c v");
        return;
    }
    y->klines[k].open = atoll(ot);
    y->klines[k].close = atoll(ct);
    y->n_klines++;
    /* stream=0: on REST only, as if its stream event was lost */
    if (s->ws && int_param(r, "stream", 1)) mock_ws_kline(s->ws, y, k);
    /* kept in open-time order, as the exchange answers */
    for (int i = k; i > 0 && y->klines[i - 1].open > y->klines[i].open; i--) {
        __typeof__(y->klines[0]) t = y->klines[i];
        y->klines[i] = y->klines[i - 1];
        y->klines[i - 1] = t;
    }
    ok(out);
}

static void c_premium(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    if (!y) return;
    const char *nf = mr_param(r, "next_funding");
    if (!dec_param(r, "mark", &y->mark) || !dec_param(r, "index", &y->index) ||
        !dec_param(r, "funding", &y->funding) || !nf) {
        mr_error(out, 400, -1, "needs mark index funding next_funding");
        return;
    }
    y->next_funding = atoll(nf);
    y->has_premium = true;
    if (s->ws) mock_ws_mark(s->ws, y);
    ms_algo_price_moved(s->st, y, true);
    ok(out);
}

/* "p:q,p:q" */
static int parse_levels(const char *t, qtr_dec (*lv)[2])
{
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", t ? t : "");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < MS_MAX_LEVELS; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) return -1;
        *colon = '\0';
        if (qtr_dec_parse(tok, (size_t)-1, &lv[n][0]) != QTR_DEC_OK ||
            qtr_dec_parse(colon + 1, (size_t)-1, &lv[n][1]) != QTR_DEC_OK)
            return -1;
        n++;
    }
    return n;
}

static void c_depth(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = symbol_param(s, r, out);
    if (!y) return;
    int nb = parse_levels(mr_param(r, "bids"), y->bids), na = parse_levels(mr_param(r, "asks"), y->asks);
    if (nb < 0 || na < 0) {
        mr_error(out, 400, -1, "levels are p:q,p:q");
        return;
    }
    y->n_bids = nb;
    y->n_asks = na;
    if (s->ws) mock_ws_book(s->ws, y);
    ok(out);
}

static void c_limits(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_state *st = s->st;
    st->weight.limit = int_param(r, "weight", (int)st->weight.limit);
    st->weight.interval_ms = int_param(r, "weight_interval_ms", (int)st->weight.interval_ms);
    st->orders_a.limit = int_param(r, "orders_a", (int)st->orders_a.limit);
    st->orders_a.interval_ms = int_param(r, "orders_a_interval_ms", (int)st->orders_a.interval_ms);
    st->orders_b.limit = int_param(r, "orders_b", (int)st->orders_b.limit);
    st->orders_b.interval_ms = int_param(r, "orders_b_interval_ms", (int)st->orders_b.interval_ms);
    st->weight.window_start = st->orders_a.window_start = st->orders_b.window_start = 0;
    ok(out);
}

static void c_trigger(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *cid = mr_param(r, "clientAlgoId");
    ms_order *a = cid ? ms_algo_by_cid(s->st, cid) : NULL;
    if (!a || !ms_order_open(a)) {
        mr_error(out, 400, -1, "needs an open clientAlgoId");
        return;
    }
    ms_order *o = ms_algo_trigger(s->st, a);
    if (!o) {
        mr_error(out, 500, -1, "order table full");
        return;
    }
    out->body = json_pack("{s:I}", "actualOrderId", (json_int_t)o->order_id);
}

/* POST /mock/mark?symbol=&price=: the mark price alone (index follows it
 * unless set), told on the market stream; MARK_PRICE orders are checked. */
static void c_mark(mock_server *s, mock_req *r, mock_reply *out)
{
    qtr_dec p;
    ms_symbol *y = symbol_and_price(s, r, out, &p);
    if (!y) return;
    if (!y->has_premium) {
        y->index = p;
        y->funding = 10000;
        y->next_funding = ms_now(s->st) + 28800000;
    }
    y->mark = p;
    y->has_premium = true;
    if (s->ws) mock_ws_mark(s->ws, y);
    ms_algo_price_moved(s->st, y, true);
    ok(out);
}

/* Commission rates and how they are reported. */
static void c_fees(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_state *st = s->st;
    qtr_dec taker = st->taker_rate, maker = st->maker_rate;
    const char *asset = mr_param(r, "asset"), *neg = mr_param(r, "negative");
    if ((mr_param(r, "taker") && !dec_param(r, "taker", &taker)) ||
        (mr_param(r, "maker") && !dec_param(r, "maker", &maker)) || (asset && (!asset[0] || strlen(asset) >= 16))) {
        mr_error(out, 400, -1, "taker and maker are decimals; asset is 1-15 characters");
        return;
    }
    st->taker_rate = taker;
    st->maker_rate = maker;
    if (asset) snprintf(st->commission_asset, sizeof st->commission_asset, "%s", asset);
    if (neg) st->commission_negative = atoi(neg) != 0;
    ok(out);
}

static void c_state(mock_server *s, mock_req *r, mock_reply *out)
{
    (void)r;
    ms_state *st = s->st;
    json_t *orders = json_array(), *pl = json_object(), *pos = json_object(), *req = json_object();
    for (int i = 0; i < st->n_orders; i++) {
        ms_order *o = &st->orders[i];
        json_t *j = o->algo ? mj_algo(o) : mj_order(o);
        json_object_set_new(j, "algo", json_boolean(o->algo));
        json_object_set_new(j, "external", json_boolean(o->external));
        json_object_set_new(j, "cid", json_string(o->cid));
        json_object_set_new(j, "state", json_string(o->algo ? o->algo_status : o->status));
        json_array_append_new(orders, j);
    }
    for (int i = 0; i < st->n_placements; i++)
        json_object_set_new(pl, st->placements[i].cid,
                            json_pack("{s:i,s:i}", "attempts", st->placements[i].attempts, "accepted",
                                      st->placements[i].accepted));
    for (int i = 0; i < st->n_symbols; i++)
        json_object_set_new(pos, st->symbols[i].name,
                            json_pack("{s:o,s:o,s:i}", "amt", mj_dec(st->symbols[i].position), "entry",
                                      mj_dec(st->symbols[i].entry), "leverage", st->symbols[i].leverage));
    for (int i = 0; i < st->n_request_kinds; i++)
        json_object_set_new(req, st->requests[i].name, json_integer(st->requests[i].n));
    json_t *trades = json_array();
    for (int i = 0; i < st->n_trades; i++) json_array_append_new(trades, mj_trade(st, &st->trades[i]));
    out->body = json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:i}", "orders", orders, "placements", pl,
                          "positions", pos, "requests", req, "trades", trades, "limit_violations", (json_int_t)st->limit_violations,
                          "signature_failures", (json_int_t)st->signature_failures, "timestamp_failures",
                          (json_int_t)st->timestamp_failures, "key_failures", (json_int_t)st->key_failures,
                          "faults_fired", (json_int_t)st->faults_fired, "faults_left", s->faults.n);
}

/* GET /mock/requests: the API requests as received, oldest first:
 * {t_us (since the mock started), method, path, cid, status (0: held or dropped)}. */
static void c_requests(mock_server *s, mock_reply *out)
{
    ms_state *st = s->st;
    json_t *a = json_array();
    int64_t first = st->n_log > MS_LOG_MAX ? st->n_log - MS_LOG_MAX : 0;
    for (int64_t i = first; i < st->n_log; i++) {
        const struct ms_logged *e = &st->log[i % MS_LOG_MAX];
        json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:i}", "t_us", (json_int_t)e->t_us, "method", e->method,
                                           "path", e->path, "cid", e->cid, "status", e->status));
    }
    out->body = json_pack("{s:o}", "requests", a);
}

static void on_shutdown(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    event_base_loopbreak(arg);
}

/* GET /mock/ws: port and counters; POST /mock/ws?action=&arg=&kind=user|market */
static void c_ws(mock_server *s, mock_req *r, mock_reply *out)
{
    if (!s->ws) {
        mr_error(out, 503, -1, "no WebSocket server");
        return;
    }
    if (!strcmp(r->method, "GET")) {
        out->body = mock_ws_info(s->ws);
        return;
    }
    char err[128] = "";
    out->body = mock_ws_control(s->ws, mr_param(r, "action"), mr_param(r, "arg"), mr_param(r, "kind"), err, sizeof err);
    if (!out->body) mr_error(out, 400, -1102, err[0] ? err : "out of memory");
}

void mock_control(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *p = r->path + 6; /* after "/mock/" */
    if (!strcmp(p, "state")) c_state(s, r, out);
    else if (!strcmp(p, "fault")) c_fault(s, r, out);
    else if (!strcmp(p, "requests")) c_requests(s, out);
    else if (!strcmp(p, "price")) c_price(s, r, out);
    else if (!strcmp(p, "fill")) c_fill(s, r, out);
    else if (!strcmp(p, "cancel")) c_cancel(s, r, out);
    else if (!strcmp(p, "open_order")) c_open_order(s, r, out);
    else if (!strcmp(p, "open_algo")) c_open_algo(s, r, out);
    else if (!strcmp(p, "position")) c_position(s, r, out);
    else if (!strcmp(p, "kline")) c_kline(s, r, out);
    else if (!strcmp(p, "premium")) c_premium(s, r, out);
    else if (!strcmp(p, "depth")) c_depth(s, r, out);
    else if (!strcmp(p, "limits")) c_limits(s, r, out);
    else if (!strcmp(p, "trigger")) c_trigger(s, r, out);
    else if (!strcmp(p, "mark")) c_mark(s, r, out);
    else if (!strcmp(p, "fees")) c_fees(s, r, out);
    else if (!strcmp(p, "ws")) c_ws(s, r, out);
    else if (!strcmp(p, "time_offset")) {
        s->st->time_offset_ms = atoll(mr_param(r, "ms") ? mr_param(r, "ms") : "0");
        ok(out);
    } else if (!strcmp(p, "reset")) {
        ms_reset(s->st);
        mf_clear(&s->faults);
        ok(out);
    } else if (!strcmp(p, "shutdown")) {
        struct timeval tv = { 0, 20000 };
        event_base_once(s->base, -1, EV_TIMEOUT, on_shutdown, s->base, &tv);
        ok(out);
    } else {
        mr_error(out, 404, -1, "unknown control endpoint");
    }
}
