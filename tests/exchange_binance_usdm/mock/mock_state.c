/* mock_state.c — see mock_state.h. */
#include "mock_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t h32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h % MS_HASH;
}

static qtr_dec dec(const char *t)
{
    qtr_dec v = 0;
    qtr_dec_parse(t, (size_t)-1, &v);
    return v;
}

static void add_symbol(ms_state *s, const char *name, const char *tick, const char *minp, const char *maxp,
                       const char *step, const char *minq, const char *maxq, const char *mkt_max,
                       const char *notional, int pp, int qp, const char *price)
{
    ms_symbol *y = &s->symbols[s->n_symbols++];
    memset(y, 0, sizeof *y);
    snprintf(y->name, sizeof y->name, "%s", name);
    y->tick = dec(tick);
    y->min_price = dec(minp);
    y->max_price = dec(maxp);
    y->step = dec(step);
    y->min_qty = dec(minq);
    y->max_qty = dec(maxq);
    y->mkt_step = y->step;
    y->mkt_min = y->min_qty;
    y->mkt_max = dec(mkt_max);
    y->min_notional = dec(notional);
    y->price_precision = pp;
    y->qty_precision = qp;
    y->price = dec(price);
    y->leverage = 20;
}

void ms_reset(ms_state *s)
{
    s->time_offset_ms = 0;
    s->n_symbols = 0;
    add_symbol(s, "BTCUSDT", "0.10", "261.10", "809484", "0.001", "0.001", "1000", "120", "100", 2, 3, "50000");
    add_symbol(s, "ETHUSDT", "0.01", "39.86", "306177", "0.001", "0.001", "10000", "2000", "20", 2, 3, "3000");
    s->n_orders = 0;
    s->n_placements = 0;
    memset(s->order_head, -1, sizeof s->order_head);
    memset(s->placement_head, -1, sizeof s->placement_head);
    s->next_order_id = 4100000000;
    s->weight = (ms_limit){ 2400, 60000, 0, 0 };
    s->orders_a = (ms_limit){ 300, 10000, 0, 0 };
    s->orders_b = (ms_limit){ 1200, 60000, 0, 0 };
    s->balance = QTR_DEC_INT(10000);
    s->plan_armed = false;
    s->n_trades = 0;
    s->next_trade_id = 5520000000;
    s->taker_rate = dec("0.0005");
    s->maker_rate = dec("0.0002");
    snprintf(s->commission_asset, sizeof s->commission_asset, "USDT");
    s->commission_negative = false;
    s->limit_violations = s->signature_failures = s->timestamp_failures = s->key_failures = 0;
    s->faults_fired = 0;
    s->n_request_kinds = 0;
    s->n_log = 0;
}

ms_state *ms_new(const char *api_key, const char *secret)
{
    ms_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->orders = calloc(MS_MAX_ORDERS, sizeof *s->orders);
    s->placements = calloc(MS_MAX_ORDERS, sizeof *s->placements);
    s->log = calloc(MS_LOG_MAX, sizeof *s->log);
    s->log_t0_us = ms_mono_us();
    if (!s->orders || !s->placements || !s->log) {
        ms_free(s);
        return NULL;
    }
    snprintf(s->api_key, sizeof s->api_key, "%s", api_key);
    snprintf(s->secret, sizeof s->secret, "%s", secret);
    ms_reset(s);
    return s;
}

void ms_free(ms_state *s)
{
    if (!s) return;
    free(s->orders);
    free(s->placements);
    free(s->log);
    free(s->trades);
    free(s);
}

int64_t ms_now(const ms_state *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + s->time_offset_ms;
}

ms_symbol *ms_symbol_find(ms_state *s, const char *name)
{
    for (int i = 0; name && i < s->n_symbols; i++)
        if (!strcmp(s->symbols[i].name, name)) return &s->symbols[i];
    return NULL;
}

/* The newest order with this client id (regular or algo). */
static ms_order *by_cid(ms_state *s, const char *cid, int algo)
{
    for (int i = s->order_head[h32(cid)]; i >= 0; i = s->orders[i].hnext)
        if (!strcmp(s->orders[i].cid, cid) && (algo < 0 || s->orders[i].algo == (algo == 1))) return &s->orders[i];
    return NULL;
}

ms_order *ms_order_by_cid(ms_state *s, const char *cid) { return by_cid(s, cid, 0); }
ms_order *ms_algo_by_cid(ms_state *s, const char *cid) { return by_cid(s, cid, 1); }

ms_order *ms_order_by_id(ms_state *s, int64_t id)
{
    for (int i = 0; i < s->n_orders; i++)
        if (s->orders[i].order_id == id && !s->orders[i].algo) return &s->orders[i];
    return NULL;
}

ms_placement *ms_placement_get(ms_state *s, const char *cid)
{
    uint32_t h = h32(cid);
    for (int i = s->placement_head[h]; i >= 0; i = s->placements[i].hnext)
        if (!strcmp(s->placements[i].cid, cid)) return &s->placements[i];
    if (s->n_placements >= MS_MAX_ORDERS) return NULL;
    ms_placement *p = &s->placements[s->n_placements];
    memset(p, 0, sizeof *p);
    snprintf(p->cid, sizeof p->cid, "%s", cid);
    p->hnext = s->placement_head[h];
    s->placement_head[h] = s->n_placements++;
    return p;
}

ms_order *ms_order_add(ms_state *s, const char *cid)
{
    if (s->n_orders >= MS_MAX_ORDERS) return NULL;
    ms_order *o = &s->orders[s->n_orders];
    memset(o, 0, sizeof *o);
    snprintf(o->cid, sizeof o->cid, "%s", cid);
    o->order_id = s->next_order_id++;
    o->time = o->update_time = ms_now(s);
    uint32_t h = h32(cid);
    o->hnext = s->order_head[h];
    s->order_head[h] = s->n_orders++;
    return o;
}

bool ms_order_open(const ms_order *o)
{
    if (o->algo) return !strcmp(o->algo_status, "NEW");
    return !strcmp(o->status, "NEW") || !strcmp(o->status, "PARTIALLY_FILLED");
}

static void record_trade(ms_state *s, const ms_order *o, qtr_dec qty, qtr_dec price, qtr_dec quote, qtr_dec pnl,
                         bool maker)
{
    if (s->n_trades == s->cap_trades) {
        int cap = s->cap_trades ? s->cap_trades * 2 : 1024;
        ms_trade *t = realloc(s->trades, (size_t)cap * sizeof *t);
        if (!t) abort(); /* a test double: running out of memory ends the test loudly */
        s->trades = t;
        s->cap_trades = cap;
    }
    ms_trade *t = &s->trades[s->n_trades++];
    memset(t, 0, sizeof *t);
    t->id = s->next_trade_id++;
    t->order_id = o->order_id;
    t->time = ms_now(s);
    snprintf(t->symbol, sizeof t->symbol, "%s", o->symbol);
    snprintf(t->side, sizeof t->side, "%s", o->side);
    t->price = price;
    t->qty = qty;
    t->quote = quote;
    t->maker = maker;
    t->realized_pnl = pnl;
    qtr_dec fee = 0;
    qtr_dec_mul(quote, maker ? s->maker_rate : s->taker_rate, QTR_ROUND_HALF_EVEN, &fee);
    t->commission = s->commission_negative ? -fee : fee;
}

void ms_fill(ms_state *s, ms_order *o, qtr_dec qty, qtr_dec price, bool maker)
{
    qtr_dec quote = 0;
    qtr_dec_mul(qty, price, QTR_ROUND_HALF_EVEN, &quote);
    o->executed += qty;
    o->cum_quote += quote;
    o->update_time = ms_now(s);
    snprintf(o->status, sizeof o->status, "%s", o->executed >= o->orig_qty ? "FILLED" : "PARTIALLY_FILLED");
    ms_symbol *y = ms_symbol_find(s, o->symbol);
    if (!y) return;
    qtr_dec signed_qty = !strcmp(o->side, "BUY") ? qty : -qty;
    qtr_dec old = y->position, now = old + signed_qty, pnl = 0;
    if (old != 0 && (old > 0) != (signed_qty > 0)) {
        /* closing (part of) the position: PnL on the closed quantity */
        qtr_dec closed = qtr_dec_abs(old) < qty ? qtr_dec_abs(old) : qty, diff = 0;
        qtr_dec_mul(price - y->entry, closed, QTR_ROUND_HALF_EVEN, &diff);
        pnl = old > 0 ? diff : -diff;
    }
    record_trade(s, o, qty, price, quote, pnl, maker);
    if (old == 0 || (old > 0) != (now > 0) || now == 0) {
        y->entry = now == 0 ? 0 : price;
    } else if ((old > 0) == (signed_qty > 0)) {
        /* growing: weighted entry = (|old| * entry + qty * price) / |now| */
        qtr_dec a = 0, b = 0, e = 0;
        qtr_dec_mul(qtr_dec_abs(old), y->entry, QTR_ROUND_HALF_EVEN, &a);
        qtr_dec_mul(qty, price, QTR_ROUND_HALF_EVEN, &b);
        qtr_dec_div(a + b, qtr_dec_abs(now), QTR_ROUND_HALF_EVEN, &e);
        y->entry = e;
    }
    y->position = now;
}

static qtr_dec round_down(qtr_dec v, qtr_dec step)
{
    qtr_dec r = v;
    qtr_dec_round_step(v, step, QTR_ROUND_DOWN, &r);
    return r;
}

void ms_plan_advance(ms_state *s, ms_order *o)
{
    ms_plan *p = &o->plan;
    if (p->steps_left <= 0 || !ms_order_open(o)) return;
    ms_symbol *y = ms_symbol_find(s, o->symbol);
    qtr_dec qty = p->steps_left == 1 ? p->target - o->executed : p->step_qty;
    /* each step a tick further, so the average is not any single price */
    qtr_dec px = (o->price > 0 ? o->price : y->price) + (qtr_dec)p->step_no * y->tick;
    p->step_no++;
    p->steps_left--;
    if (qty > 0) ms_fill(s, o, qty, px, false);
    if (p->steps_left == 0 && o->executed < o->orig_qty) {
        snprintf(o->status, sizeof o->status, "%s", p->end_status);
        o->update_time = ms_now(s);
    }
}

void ms_match_new(ms_state *s, ms_order *o)
{
    ms_symbol *y = ms_symbol_find(s, o->symbol);
    snprintf(o->status, sizeof o->status, "NEW");
    if (s->plan_armed) {
        s->plan_armed = false;
        o->plan = s->pending_plan;
        o->plan.target = round_down((qtr_dec)((__int128)o->orig_qty * o->plan.ratio_pct / 100), y->step);
        o->plan.step_qty = round_down(o->plan.target / (o->plan.steps_left ? o->plan.steps_left : 1), y->step);
        ms_plan_advance(s, o);
        return;
    }
    bool buy = !strcmp(o->side, "BUY");
    if (!strcmp(o->type, "MARKET")) {
        /* reduce-only: never more than the position, the rest expires */
        qtr_dec qty = o->orig_qty, room = o->reduce_only ? ms_reducible(y, o->side) : qty;
        if (room < qty) qty = room;
        if (qty > 0) ms_fill(s, o, qty, y->price, false);
        if (o->executed < o->orig_qty) snprintf(o->status, sizeof o->status, "EXPIRED");
        return;
    }
    bool crosses = buy ? o->price >= y->price : o->price <= y->price;
    if (!strcmp(o->tif, "GTX") && crosses) {
        snprintf(o->status, sizeof o->status, "EXPIRED");
        return;
    }
    if (crosses) ms_fill(s, o, o->orig_qty, y->price, false);
    else if (!strcmp(o->tif, "IOC") || !strcmp(o->tif, "FOK")) snprintf(o->status, sizeof o->status, "EXPIRED");
}

void ms_price_moved(ms_state *s, ms_symbol *y)
{
    for (int i = 0; i < s->n_orders; i++) {
        ms_order *o = &s->orders[i];
        if (o->algo || strcmp(o->symbol, y->name) != 0 || !ms_order_open(o) || strcmp(o->type, "LIMIT") != 0 ||
            o->plan.steps_left > 0)
            continue;
        bool buy = !strcmp(o->side, "BUY");
        if (buy ? y->price <= o->price : y->price >= o->price) ms_fill(s, o, o->orig_qty - o->executed, o->price, true); /* resting: maker */
    }
    ms_algo_price_moved(s, y, false);
}

int64_t ms_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ms_log_request(ms_state *s, const char *method, const char *path, const char *cid)
{
    int64_t n = s->n_log++;
    struct ms_logged *e = &s->log[n % MS_LOG_MAX];
    e->t_us = ms_mono_us() - s->log_t0_us;
    snprintf(e->method, sizeof e->method, "%s", method);
    snprintf(e->path, sizeof e->path, "%s", path);
    snprintf(e->cid, sizeof e->cid, "%s", cid ? cid : "");
    e->status = 0;
    return n;
}

void ms_log_status(ms_state *s, int64_t n, int status)
{
    if (n >= 0 && n < s->n_log && n >= s->n_log - MS_LOG_MAX) s->log[n % MS_LOG_MAX].status = status;
}

void ms_count_request(ms_state *s, const char *method, const char *path)
{
    char name[64];
    snprintf(name, sizeof name, "%s %s", method, path);
    for (int i = 0; i < s->n_request_kinds; i++)
        if (!strcmp(s->requests[i].name, name)) {
            s->requests[i].n++;
            return;
        }
    if (s->n_request_kinds < 64) {
        snprintf(s->requests[s->n_request_kinds].name, sizeof s->requests[0].name, "%s", name);
        s->requests[s->n_request_kinds++].n = 1;
    }
}

bool ms_limit_charge(ms_limit *l, int64_t cost, int64_t now)
{
    int64_t start = now - now % l->interval_ms;
    if (start != l->window_start) {
        l->window_start = start;
        l->used = 0;
    }
    l->used += cost;
    return l->used <= l->limit;
}

void ms_interval_name(int64_t ms, char *out, size_t len)
{
    if (ms % 60000 == 0) snprintf(out, len, "%lldM", (long long)(ms / 60000));
    else snprintf(out, len, "%lldS", (long long)(ms / 1000));
}
