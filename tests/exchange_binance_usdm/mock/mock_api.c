/* mock_api.c — the Binance USD-M REST endpoints the plugin uses, answering
 * with the exchange's field names and error codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_server.h"
#include "mock_ws.h"

static bool parse_dec(const char *t, qtr_dec *out) { return t && qtr_dec_parse(t, (size_t)-1, out) == QTR_DEC_OK; }

static int decimals(qtr_dec v)
{
    int d = 0;
    for (qtr_dec f = qtr_dec_abs(v) % QTR_DEC_SCALE; f; f = (f * 10) % QTR_DEC_SCALE) d++;
    return d;
}

static bool on_grid(qtr_dec v, qtr_dec base, qtr_dec step) { return step <= 0 || (v - base) % step == 0; }

static bool cid_valid(const char *c)
{
    size_t n = strlen(c);
    if (n < 1 || n > 36) return false;
    for (; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr(".:/_-", *c)))
            return false;
    return true;
}

json_t *mj_order(const ms_order *o)
{
    qtr_dec avg = 0;
    if (o->executed > 0) qtr_dec_div(o->cum_quote, o->executed, QTR_ROUND_HALF_EVEN, &avg);
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:b,s:b,s:s,s:s,s:o,s:s,s:b,s:s,s:s,s:s,s:i,s:I,s:I}",
                     "orderId", (json_int_t)o->order_id, "symbol", o->symbol, "status", o->status, "clientOrderId",
                     o->cid, "price", mj_dec(o->price), "avgPrice", mj_dec(avg), "origQty", mj_dec(o->orig_qty),
                     "executedQty", mj_dec(o->executed), "cumQty", mj_dec(o->executed), "cumQuote",
                     mj_dec(o->cum_quote), "timeInForce", o->tif[0] ? o->tif : "GTC", "type", o->type, "reduceOnly",
                     o->reduce_only, "closePosition", 0, "side", o->side, "positionSide", "BOTH", "stopPrice",
                     mj_dec(o->stop), "workingType", "CONTRACT_PRICE", "priceProtect", 0, "origType", o->type,
                     "priceMatch", "NONE", "selfTradePreventionMode", "EXPIRE_MAKER", "goodTillDate", 0, "updateTime",
                     (json_int_t)o->update_time, "time", (json_int_t)o->time);
}

json_t *mj_algo(const ms_order *o)
{
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:i,s:i,s:I}",
                          "algoId", (json_int_t)o->algo_id, "clientAlgoId", o->cid, "algoType", "CONDITIONAL",
                          "orderType", o->type, "symbol", o->symbol, "side", o->side, "positionSide", "BOTH",
                          "timeInForce", "GTC", "quantity", mj_dec(o->orig_qty), "algoStatus", o->algo_status,
                          "triggerPrice", mj_dec(o->stop), "price", "0", "workingType",
                          o->mark_price ? "MARK_PRICE" : "CONTRACT_PRICE", "closePosition", 0, "reduceOnly",
                          o->reduce_only, "priceProtect", 0, "createTime", (json_int_t)o->time, "updateTime",
                          (json_int_t)o->update_time, "triggerTime", 0, "goodTillDate", 0, "actualOrderId",
                          (json_int_t)o->actual_order_id);
    if (!strcmp(o->type, "TRAILING_STOP_MARKET")) {
        char rate[16];
        snprintf(rate, sizeof rate, "%u.%u", o->callback_bps / 100u, o->callback_bps % 100u / 10u);
        json_object_set_new(j, "callbackRate", json_string(rate));
        json_object_set_new(j, "activatePrice", mj_dec(o->activation));
    }
    return j;
}

/* ------------------------------------------------------------ market */

static void h_ping(mock_server *s, mock_req *r, mock_reply *out) { (void)s; (void)r; out->body = json_object(); }

static void h_time(mock_server *s, mock_req *r, mock_reply *out)
{
    (void)r;
    out->body = json_pack("{s:I}", "serverTime", (json_int_t)ms_now(s->st));
}

static json_t *limit_json(const char *type, const ms_limit *l)
{
    bool minutes = l->interval_ms % 60000 == 0;
    return json_pack("{s:s,s:s,s:I,s:I}", "rateLimitType", type, "interval", minutes ? "MINUTE" : "SECOND",
                     "intervalNum", (json_int_t)(minutes ? l->interval_ms / 60000 : l->interval_ms / 1000), "limit",
                     (json_int_t)l->limit);
}

static void h_exchange_info(mock_server *s, mock_req *r, mock_reply *out)
{
    (void)r;
    ms_state *st = s->st;
    json_t *syms = json_array();
    for (int i = 0; i < st->n_symbols; i++) {
        ms_symbol *y = &st->symbols[i];
        json_t *filters = json_pack(
            "[{s:s,s:o,s:o,s:o},{s:s,s:o,s:o,s:o},{s:s,s:o,s:o,s:o},{s:s,s:i},{s:s,s:o},{s:s,s:s,s:s,s:s}]",
            "filterType", "PRICE_FILTER", "minPrice", mj_dec(y->min_price), "maxPrice", mj_dec(y->max_price),
            "tickSize", mj_dec(y->tick), "filterType", "LOT_SIZE", "minQty", mj_dec(y->min_qty), "maxQty",
            mj_dec(y->max_qty), "stepSize", mj_dec(y->step), "filterType", "MARKET_LOT_SIZE", "minQty",
            mj_dec(y->mkt_min), "maxQty", mj_dec(y->mkt_max), "stepSize", mj_dec(y->mkt_step), "filterType",
            "MAX_NUM_ORDERS", "limit", 200, "filterType", "MIN_NOTIONAL", "notional", mj_dec(y->min_notional),
            "filterType", "PERCENT_PRICE", "multiplierUp", "1.0500", "multiplierDown", "0.9500", "multiplierDecimal",
            "4");
        json_array_append_new(syms, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o}", "symbol", y->name, "pair",
                                              y->name, "contractType", "PERPETUAL", "status", "TRADING", "baseAsset",
                                              "BASE", "quoteAsset", "USDT", "marginAsset", "USDT", "pricePrecision",
                                              y->price_precision, "quantityPrecision", y->qty_precision, "filters",
                                              filters));
    }
    json_t *limits = json_array();
    json_array_append_new(limits, limit_json("REQUEST_WEIGHT", &st->weight));
    json_array_append_new(limits, limit_json("ORDERS", &st->orders_b));
    json_array_append_new(limits, limit_json("ORDERS", &st->orders_a));
    out->body = json_pack("{s:s,s:I,s:[],s:o,s:o}", "timezone", "UTC", "serverTime", (json_int_t)ms_now(st),
                          "exchangeFilters", "rateLimits", limits, "symbols", syms);
}

static ms_symbol *need_symbol(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = ms_symbol_find(s->st, mr_param(r, "symbol"));
    if (!y) mr_error(out, 400, -1121, "Invalid symbol.");
    return y;
}

static void h_klines(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    /* startTime: the oldest `limit` from there; else the newest `limit`. */
    const char *lim = mr_param(r, "limit"), *since = mr_param(r, "startTime");
    int limit = lim ? atoi(lim) : 500;
    json_t *a = json_array();
    int from = y->n_klines > limit ? y->n_klines - limit : 0, to = y->n_klines;
    if (since) {
        for (from = 0; from < y->n_klines && y->klines[from].open < atoll(since); from++) {}
        if (to > from + limit) to = from + limit;
    }
    for (int i = from; i < to; i++) {
        char v[QTR_DEC_STRLEN];
        json_array_append_new(a, json_pack("[I,o,o,o,o,o,I,s,i,s,s,s]", (json_int_t)y->klines[i].open,
                                           mj_dec(y->klines[i].o), mj_dec(y->klines[i].h), mj_dec(y->klines[i].l),
                                           mj_dec(y->klines[i].c), mj_dec(y->klines[i].v),
                                           (json_int_t)y->klines[i].close, qtr_dec_format(0, v), 10, "0", "0", "0"));
    }
    out->body = a;
}

static json_t *levels(qtr_dec (*lv)[2], int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_pack("[o,o]", mj_dec(lv[i][0]), mj_dec(lv[i][1])));
    return a;
}

static void h_depth(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    const char *lim = mr_param(r, "limit");
    int limit = lim ? atoi(lim) : 500;
    qtr_dec bids[MS_MAX_LEVELS][2], asks[MS_MAX_LEVELS][2];
    int nb = y->n_bids, na = y->n_asks;
    if (!nb && !na) { /* a default book around the price */
        nb = na = 5;
        for (int i = 0; i < 5; i++) {
            bids[i][0] = y->price - (i + 1) * y->tick;
            bids[i][1] = QTR_DEC_INT(1);
            asks[i][0] = y->price + (i + 1) * y->tick;
            asks[i][1] = QTR_DEC_INT(1);
        }
    } else {
        memcpy(bids, y->bids, sizeof bids);
        memcpy(asks, y->asks, sizeof asks);
    }
    if (nb > limit) nb = limit;
    if (na > limit) na = limit;
    int64_t now = ms_now(s->st);
    out->body = json_pack("{s:I,s:I,s:I,s:o,s:o}", "lastUpdateId", (json_int_t)8812344501, "E", (json_int_t)now, "T",
                          (json_int_t)now, "bids", levels(bids, nb), "asks", levels(asks, na));
}

static void h_premium(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    int64_t now = ms_now(s->st);
    qtr_dec mark = y->has_premium ? y->mark : y->price, index = y->has_premium ? y->index : y->price;
    qtr_dec funding = y->has_premium ? y->funding : 10000; /* 0.0001 */
    int64_t next = y->has_premium ? y->next_funding : now - now % 28800000 + 28800000;
    out->body = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "symbol", y->name, "markPrice", mj_dec(mark),
                          "indexPrice", mj_dec(index), "estimatedSettlePrice", mj_dec(index), "lastFundingRate",
                          mj_dec(funding), "interestRate", mj_dec(10000), "nextFundingTime", (json_int_t)next, "time",
                          (json_int_t)now);
}

static void h_book_ticker(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    out->body = json_pack("{s:s,s:o,s:s,s:o,s:s,s:I}", "symbol", y->name, "bidPrice", mj_dec(y->price - y->tick),
                          "bidQty", "1", "askPrice", mj_dec(y->price + y->tick), "askQty", "1", "time",
                          (json_int_t)ms_now(s->st));
}

/* ------------------------------------------------------------ orders */

/* Checks shared by new orders and algo orders; sets *qty (and *price). */
static bool check_order(mock_req *r, mock_reply *out, ms_symbol *y, bool market, qtr_dec *qty,
                        qtr_dec *price)
{
    const char *side = mr_param(r, "side");
    if (!side || (strcmp(side, "BUY") && strcmp(side, "SELL"))) {
        mr_error(out, 400, -1117, "Invalid side.");
        return false;
    }
    if (!parse_dec(mr_param(r, "quantity"), qty) || *qty <= 0) {
        mr_error(out, 400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
        return false;
    }
    qtr_dec step = market ? y->mkt_step : y->step, qmin = market ? y->mkt_min : y->min_qty;
    qtr_dec qmax = market ? y->mkt_max : y->max_qty;
    if (decimals(*qty) > y->qty_precision || !on_grid(*qty, qmin, step)) {
        mr_error(out, 400, -1111, "Precision is over the maximum defined for this asset.");
        return false;
    }
    if (*qty < qmin) {
        mr_error(out, 400, -4003, "Quantity less than or equal to zero.");
        return false;
    }
    if (*qty > qmax) {
        mr_error(out, 400, -4005, "Quantity greater than max quantity.");
        return false;
    }
    *price = 0;
    if (!market) {
        if (!parse_dec(mr_param(r, "price"), price) || *price <= 0) {
            mr_error(out, 400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
            return false;
        }
        if (!on_grid(*price, y->min_price, y->tick)) {
            mr_error(out, 400, -4014, "Price not increased by tick size.");
            return false;
        }
    }
    const char *ro = mr_param(r, "reduceOnly");
    qtr_dec notional = 0;
    qtr_dec_mul(*qty, market ? y->price : *price, QTR_ROUND_DOWN, &notional);
    if (notional < y->min_notional && !(ro && !strcmp(ro, "true"))) {
        mr_error(out, 400, -4164, "Order's notional must be no smaller than the minimum (unless you choose reduce only).");
        return false;
    }
    return true;
}

/* The conditional fields of POST /fapi/v1/algoOrder into c. */
bool mock_read_conditional(mock_req *r, mock_reply *out, ms_symbol *y, const char *type, ms_order *c)
{
    const char *wt = mr_param(r, "workingType");
    if (wt && strcmp(wt, "CONTRACT_PRICE") && strcmp(wt, "MARK_PRICE")) {
        mr_error(out, 400, -1102, "Invalid workingType.");
        return false;
    }
    c->mark_price = wt && !strcmp(wt, "MARK_PRICE");
    if (strcmp(type, "TRAILING_STOP_MARKET") != 0) {
        if (!parse_dec(mr_param(r, "triggerPrice"), &c->stop) || c->stop <= 0 || !on_grid(c->stop, y->min_price, y->tick)) {
            mr_error(out, 400, -4014, "Price not increased by tick size.");
            return false;
        }
        return true;
    }
    /* callbackRate: 0.1 to 10 (%), one decimal; activatePrice optional, on the tick grid */
    qtr_dec rate;
    if (!parse_dec(mr_param(r, "callbackRate"), &rate) || rate < QTR_DEC_SCALE / 10 || rate > QTR_DEC_INT(10)) {
        mr_error(out, 400, -1102, "Mandatory parameter 'callbackRate' was not sent, was empty/null, or malformed.");
        return false;
    }
    if (rate % (QTR_DEC_SCALE / 10) != 0) {
        mr_error(out, 400, -1111, "Precision is over the maximum defined for this asset.");
        return false;
    }
    c->callback_bps = (uint32_t)(rate / (QTR_DEC_SCALE / 100));
    const char *ap = mr_param(r, "activatePrice");
    if (ap && (!parse_dec(ap, &c->activation) || c->activation <= 0 || !on_grid(c->activation, y->min_price, y->tick))) {
        mr_error(out, 400, -4014, "Price not increased by tick size.");
        return false;
    }
    return true;
}

static bool type_ok(bool algo, const char *type, mock_reply *out)
{
    static const char *const conditional[] = { "STOP_MARKET", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET" };
    bool is_conditional = false;
    for (size_t i = 0; type && i < 3; i++) is_conditional |= !strcmp(type, conditional[i]);
    if (algo ? is_conditional : type && (!strcmp(type, "MARKET") || !strcmp(type, "LIMIT"))) return true;
    if (!algo && is_conditional)
        mr_error(out, 400, -4120, "Order type not supported for this endpoint. Please use the Algo Order API.");
    else mr_error(out, 400, -1116, "Invalid orderType.");
    return false;
}

/* POST /fapi/v1/order and POST /fapi/v1/algoOrder: one path for both, the
 * differences being the id's name, the types, and the conditional fields. */
static ms_order *place(mock_server *s, mock_req *r, mock_reply *out, bool algo)
{
    ms_state *st = s->st;
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return NULL;
    const char *cid = mr_param(r, algo ? "clientAlgoId" : "newClientOrderId"), *type = mr_param(r, "type");
    if (algo && (!mr_param(r, "algoType") || strcmp(mr_param(r, "algoType"), "CONDITIONAL"))) {
        mr_error(out, 400, -1102, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.");
        return NULL;
    }
    char gen[40];
    if (!cid && !algo) {
        snprintf(gen, sizeof gen, "auto-%lld", (long long)st->next_order_id);
        cid = gen;
    }
    if (!cid || !cid_valid(cid)) {
        mr_error(out, 400, -4015, "Client order id is not valid.");
        return NULL;
    }
    ms_placement *pl = ms_placement_get(st, cid);
    if (pl) pl->attempts++;
    if (!type_ok(algo, type, out)) return NULL;
    bool market = algo || !strcmp(type, "MARKET");
    const char *tif = mr_param(r, "timeInForce");
    if (!market && !tif) {
        mr_error(out, 400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
        return NULL;
    }
    qtr_dec qty, price;
    if (!check_order(r, out, y, market, &qty, &price)) return NULL;
    ms_order c; /* what is asked, before it exists */
    memset(&c, 0, sizeof c);
    snprintf(c.symbol, sizeof c.symbol, "%s", y->name);
    snprintf(c.side, sizeof c.side, "%s", mr_param(r, "side"));
    snprintf(c.type, sizeof c.type, "%s", type);
    snprintf(c.tif, sizeof c.tif, "%s", tif ? tif : "GTC");
    const char *ro = mr_param(r, "reduceOnly");
    c.reduce_only = ro && !strcmp(ro, "true");
    if (algo && !mock_read_conditional(r, out, y, type, &c)) return NULL;
    if (c.reduce_only && ms_reducible(y, c.side) == 0) {
        mr_error(out, 400, -2022, "ReduceOnly Order is rejected.");
        return NULL;
    }
    if (algo && ms_algo_would_trigger(y, &c)) {
        mr_error(out, 400, -2021, "Order would immediately trigger.");
        return NULL;
    }
    ms_order *prev = algo ? ms_algo_by_cid(st, cid) : ms_order_by_cid(st, cid);
    if (prev && ms_order_open(prev)) {
        mr_error(out, 400, -4116, "ClientOrderId is duplicated.");
        return NULL;
    }
    ms_order *o = ms_order_add(st, cid);
    if (!o) {
        mr_error(out, 500, -1001, "Internal error; mock order table full.");
        return NULL;
    }
    if (pl) pl->accepted++;
    c.order_id = o->order_id;
    c.time = o->time;
    c.update_time = o->update_time;
    c.hnext = o->hnext;
    snprintf(c.cid, sizeof c.cid, "%s", cid);
    c.orig_qty = qty;
    c.price = price;
    c.algo = algo;
    if (algo) {
        c.algo_id = c.order_id;
        snprintf(c.algo_status, sizeof c.algo_status, "NEW");
        snprintf(c.status, sizeof c.status, "NEW");
        if (!strcmp(type, "TRAILING_STOP_MARKET") && c.activation == 0) { /* active at once, from the price now */
            c.activated = true;
            c.best = ms_algo_watch_price(y, &c);
        }
    }
    *o = c;
    if (!algo) ms_match_new(st, o);
    return o;
}

static void h_new_order(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_order *o = place(s, r, out, false);
    if (o) out->body = mj_order(o);
}

static ms_order *find_order(mock_server *s, mock_req *r)
{
    const char *cid = mr_param(r, "origClientOrderId"), *id = mr_param(r, "orderId");
    ms_order *o = cid ? ms_order_by_cid(s->st, cid) : id ? ms_order_by_id(s->st, atoll(id)) : NULL;
    if (o && strcmp(o->symbol, mr_param(r, "symbol") ? mr_param(r, "symbol") : "") != 0) return NULL;
    return o;
}

static void h_query_order(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_order *o = find_order(s, r);
    if (o && o->hidden_queries > 0) {
        o->hidden_queries--; /* the matching engine lags the API: not found yet */
        o = NULL;
    }
    if (!o) {
        mr_error(out, 400, -2013, "Order does not exist.");
        return;
    }
    ms_plan_advance(s->st, o);
    out->body = mj_order(o);
}

/* GET /fapi/v1/allOrders and /fapi/v1/allAlgoOrders: symbol required;
 * startTime, limit (default 500, at most 1000); oldest first (by time, then
 * id). Orders hidden from the single-order queries are listed here. */
static ms_order *g_list_orders; /* qsort has no user data; the loop is single-threaded */

static int by_time(const void *a, const void *b)
{
    const ms_order *x = &g_list_orders[*(const int *)a], *y = &g_list_orders[*(const int *)b];
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return (x->order_id > y->order_id) - (x->order_id < y->order_id);
}

static void list_all(mock_server *s, mock_req *r, mock_reply *out, bool algo)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    const char *lim = mr_param(r, "limit"), *since = mr_param(r, "startTime");
    long long limit = lim ? atoll(lim) : 500, start_time = since ? atoll(since) : 0;
    if (limit < 1 || limit > 1000) {
        mr_error(out, 400, -1130, "Invalid data sent for a parameter.");
        return;
    }
    int *idx = malloc((size_t)(s->st->n_orders ? s->st->n_orders : 1) * sizeof *idx), n = 0;
    if (!idx) {
        mr_error(out, 500, -1001, "Internal error; out of memory.");
        return;
    }
    for (int i = 0; i < s->st->n_orders; i++) {
        const ms_order *o = &s->st->orders[i];
        if (o->algo == algo && !strcmp(o->symbol, y->name) && o->time >= start_time) idx[n++] = i;
    }
    g_list_orders = s->st->orders;
    qsort(idx, (size_t)n, sizeof *idx, by_time);
    json_t *a = json_array();
    for (int k = 0; k < n && k < limit; k++) {
        const ms_order *o = &s->st->orders[idx[k]];
        json_array_append_new(a, algo ? mj_algo(o) : mj_order(o));
    }
    free(idx);
    out->body = a;
}

static void h_all_orders(mock_server *s, mock_req *r, mock_reply *out) { list_all(s, r, out, false); }
static void h_all_algo_orders(mock_server *s, mock_req *r, mock_reply *out) { list_all(s, r, out, true); }

static void h_cancel_order(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_order *o = find_order(s, r);
    if (!o || !ms_order_open(o)) {
        mr_error(out, 400, -2011, "Unknown order sent.");
        return;
    }
    snprintf(o->status, sizeof o->status, "CANCELED");
    o->update_time = ms_now(s->st);
    out->body = mj_order(o);
}

static void h_open_orders(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *sym = mr_param(r, "symbol");
    json_t *a = json_array();
    for (int i = 0; i < s->st->n_orders; i++) {
        ms_order *o = &s->st->orders[i];
        if (o->algo || !ms_order_open(o) || (sym && strcmp(sym, o->symbol))) continue;
        json_t *j = mj_order(o);
        json_object_del(j, "cumQty"); /* query and openOrders answers omit it */
        json_array_append_new(a, j);
    }
    out->body = a;
}

static void h_cancel_all(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    for (int i = 0; i < s->st->n_orders; i++) {
        ms_order *o = &s->st->orders[i];
        if (!o->algo && ms_order_open(o) && !strcmp(o->symbol, y->name)) snprintf(o->status, sizeof o->status, "CANCELED");
    }
    out->body = json_pack("{s:i,s:s}", "code", 200, "msg", "The operation of cancel all open order is done.");
}

static void h_position_risk(mock_server *s, mock_req *r, mock_reply *out)
{
    (void)r;
    json_t *a = json_array();
    for (int i = 0; i < s->st->n_symbols; i++) {
        ms_symbol *y = &s->st->symbols[i];
        qtr_dec upnl = 0, diff = y->price - y->entry, notional = 0;
        if (y->position) qtr_dec_mul(diff, y->position, QTR_ROUND_HALF_EVEN, &upnl);
        qtr_dec_mul(y->position, y->price, QTR_ROUND_HALF_EVEN, &notional);
        char lev[8];
        snprintf(lev, sizeof lev, "%d", y->leverage);
        json_array_append_new(a, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:I}", "symbol",
                                           y->name, "positionAmt", mj_dec(y->position), "entryPrice", mj_dec(y->entry),
                                           "breakEvenPrice", mj_dec(y->entry), "markPrice", mj_dec(y->price),
                                           "unRealizedProfit", mj_dec(upnl), "liquidationPrice", "0", "leverage", lev,
                                           "maxNotionalValue", "25000000", "marginType", "cross", "isolatedMargin",
                                           "0", "isAutoAddMargin", "false", "positionSide", "BOTH", "notional",
                                           mj_dec(notional), "isolatedWallet", "0", "updateTime",
                                           (json_int_t)ms_now(s->st)));
    }
    out->body = a;
}

static void h_balance(mock_server *s, mock_req *r, mock_reply *out)
{
    (void)r;
    out->body = json_pack("[{s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:b,s:I}]", "accountAlias", "mock", "asset", "USDT",
                          "balance", mj_dec(s->st->balance), "crossWalletBalance", mj_dec(s->st->balance), "crossUnPnl",
                          "0", "availableBalance", mj_dec(s->st->balance), "maxWithdrawAmount",
                          mj_dec(s->st->balance), "marginAvailable", 1, "updateTime", (json_int_t)ms_now(s->st));
}

static void h_leverage(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    const char *l = mr_param(r, "leverage");
    int lev = l ? atoi(l) : 0;
    if (lev < 1 || lev > 125) {
        mr_error(out, 400, -4028, "Leverage is not valid");
        return;
    }
    y->leverage = lev;
    out->body = json_pack("{s:i,s:s,s:s}", "leverage", lev, "maxNotionalValue", "25000000", "symbol", y->name);
}

/* ------------------------------------------------------------ algo */

static void h_new_algo(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_order *o = place(s, r, out, true);
    if (o) out->body = mj_algo(o);
}

/* GET /fapi/v1/openAlgoOrders: symbol optional. */
static void h_open_algo_orders(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *sym = mr_param(r, "symbol");
    json_t *a = json_array();
    for (int i = 0; i < s->st->n_orders; i++) {
        const ms_order *o = &s->st->orders[i];
        if (o->algo && ms_order_open(o) && (!sym || !strcmp(sym, o->symbol))) json_array_append_new(a, mj_algo(o));
    }
    out->body = a;
}

static void h_query_algo(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *cid = mr_param(r, "clientAlgoId");
    ms_order *o = cid ? ms_algo_by_cid(s->st, cid) : NULL;
    if (o && o->hidden_queries > 0) {
        o->hidden_queries--; /* not found yet, as for GET /fapi/v1/order */
        o = NULL;
    }
    if (!o) {
        mr_error(out, 400, -2013, "Order does not exist.");
        return;
    }
    out->body = mj_algo(o);
}

json_t *mj_trade(const ms_state *st, const ms_trade *t)
{
    return json_pack("{s:b,s:o,s:s,s:I,s:b,s:I,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:I}", "buyer", !strcmp(t->side, "BUY"),
                     "commission", mj_dec(t->commission), "commissionAsset", st->commission_asset, "id",
                     (json_int_t)t->id, "maker", t->maker, "orderId", (json_int_t)t->order_id, "price",
                     mj_dec(t->price), "qty", mj_dec(t->qty), "quoteQty", mj_dec(t->quote), "realizedPnl",
                     mj_dec(t->realized_pnl), "side", t->side, "positionSide", "BOTH", "symbol", t->symbol, "time",
                     (json_int_t)t->time);
}

/* GET /fapi/v1/userTrades: symbol required; orderId, fromId or startTime,
 * limit (default 500, at most 1000); oldest first, as the exchange answers. */
static void h_user_trades(mock_server *s, mock_req *r, mock_reply *out)
{
    ms_symbol *y = need_symbol(s, r, out);
    if (!y) return;
    const char *oid = mr_param(r, "orderId"), *from = mr_param(r, "fromId"), *lim = mr_param(r, "limit"),
               *since = mr_param(r, "startTime");
    long long limit = lim ? atoll(lim) : 500;
    if (limit < 1 || limit > 1000) {
        mr_error(out, 400, -1130, "Invalid data sent for a parameter.");
        return;
    }
    if (from && since) {
        mr_error(out, 400, -1128, "Combination of optional parameters invalid.");
        return;
    }
    int64_t order_id = oid ? atoll(oid) : 0, from_id = from ? atoll(from) : 0, start_time = since ? atoll(since) : 0;
    ms_state *st = s->st;
    /* Without fromId or startTime the exchange gives the most recent trades:
     * find where the last `limit` matching ones start. */
    int start = 0;
    if (!from && !since) {
        long long seen = 0;
        for (start = st->n_trades; start > 0; start--) {
            const ms_trade *t = &st->trades[start - 1];
            if (strcmp(t->symbol, y->name) || (order_id && t->order_id != order_id)) continue;
            if (++seen > limit) break;
        }
    }
    json_t *a = json_array();
    for (int i = start; i < st->n_trades && (long long)json_array_size(a) < limit; i++) {
        const ms_trade *t = &st->trades[i];
        if (strcmp(t->symbol, y->name) || (order_id && t->order_id != order_id) || t->id < from_id ||
            t->time < start_time)
            continue;
        json_array_append_new(a, mj_trade(st, t));
    }
    out->body = a;
}

static void h_cancel_algo(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *cid = mr_param(r, "clientAlgoId");
    ms_order *o = cid ? ms_algo_by_cid(s->st, cid) : NULL;
    if (!o || !ms_order_open(o)) {
        mr_error(out, 400, -2011, "Unknown order sent.");
        return;
    }
    snprintf(o->algo_status, sizeof o->algo_status, "CANCELED");
    o->update_time = ms_now(s->st);
    /* not the order: an acknowledgement (reference §4.2), code as a string */
    out->body = json_pack("{s:I,s:s,s:s,s:s}", "algoId", (json_int_t)o->algo_id, "clientAlgoId", o->cid, "code", "200",
                          "msg", "success");
}

/* listenKey (USER_STREAM: the key header, no signature) */
static bool key_ok(mock_server *s, mock_req *r, mock_reply *out)
{
    const char *key = evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-MBX-APIKEY");
    if (key && !strcmp(key, s->st->api_key)) return true;
    s->st->key_failures++;
    mr_error(out, 401, -2015, "Invalid API-key, IP, or permissions for action.");
    return false;
}

static void h_listen_key_new(mock_server *s, mock_req *r, mock_reply *out)
{
    if (key_ok(s, r, out)) out->body = json_pack("{s:s}", "listenKey", mock_ws_key_new(s->ws));
}

static void h_listen_key_keep(mock_server *s, mock_req *r, mock_reply *out)
{
    if (!key_ok(s, r, out)) return;
    if (mock_ws_key_keepalive(s->ws)) out->body = json_pack("{s:s}", "listenKey", mock_ws_key_new(s->ws));
    else mr_error(out, 400, -1125, "This listenKey does not exist.");
}

static void h_listen_key_close(mock_server *s, mock_req *r, mock_reply *out)
{
    if (!key_ok(s, r, out)) return;
    mock_ws_key_close(s->ws);
    out->body = json_object();
}

static const mock_endpoint endpoints[] = {
    { "GET", "/fapi/v1/ping", false, 1, false, h_ping },
    { "GET", "/fapi/v1/time", false, 1, false, h_time },
    { "GET", "/fapi/v1/exchangeInfo", false, 1, false, h_exchange_info },
    { "GET", "/fapi/v1/klines", false, 1, false, h_klines },
    { "GET", "/fapi/v1/depth", false, 2, false, h_depth },
    { "GET", "/fapi/v1/premiumIndex", false, 1, false, h_premium },
    { "GET", "/fapi/v1/ticker/bookTicker", false, 2, false, h_book_ticker },
    { "POST", "/fapi/v1/order", true, 0, true, h_new_order },
    { "GET", "/fapi/v1/order", true, 1, false, h_query_order },
    { "GET", "/fapi/v1/allOrders", true, 5, false, h_all_orders },
    { "DELETE", "/fapi/v1/order", true, 1, false, h_cancel_order },
    { "GET", "/fapi/v1/openOrders", true, 40, false, h_open_orders },
    { "DELETE", "/fapi/v1/allOpenOrders", true, 1, false, h_cancel_all },
    { "GET", "/fapi/v2/positionRisk", true, 5, false, h_position_risk },
    { "GET", "/fapi/v2/balance", true, 5, false, h_balance },
    { "POST", "/fapi/v1/leverage", true, 1, false, h_leverage },
    { "POST", "/fapi/v1/algoOrder", true, 0, true, h_new_algo },
    { "GET", "/fapi/v1/algoOrder", true, 1, false, h_query_algo },
    { "GET", "/fapi/v1/allAlgoOrders", true, 5, false, h_all_algo_orders },
    { "GET", "/fapi/v1/openAlgoOrders", true, 40, false, h_open_algo_orders },
    { "DELETE", "/fapi/v1/algoOrder", true, 1, false, h_cancel_algo },
    { "GET", "/fapi/v1/userTrades", true, 5, false, h_user_trades },
    { "POST", "/fapi/v1/listenKey", false, 1, false, h_listen_key_new },
    { "PUT", "/fapi/v1/listenKey", false, 1, false, h_listen_key_keep },
    { "DELETE", "/fapi/v1/listenKey", false, 1, false, h_listen_key_close },
};

int mock_api_weight(const mock_endpoint *ep, mock_req *r)
{
    /* openOrders and openAlgoOrders: 1 for one symbol, 40 for all (reference §3) */
    bool per_symbol = !strcmp(ep->path, "/fapi/v1/openOrders") || !strcmp(ep->path, "/fapi/v1/openAlgoOrders");
    return per_symbol && mr_param(r, "symbol") ? 1 : ep->weight;
}

const mock_endpoint *mock_api_find(const char *method, const char *path)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (!strcmp(endpoints[i].method, method) && !strcmp(endpoints[i].path, path)) return &endpoints[i];
    return NULL;
}
