/*
 * bn_market.c — market data by REST polling, each kind on its own interval:
 * klines (a QTR_EV_CANDLE for each newly closed candle, never twice),
 * premiumIndex (QTR_EV_MARK_PRICE) and depth (QTR_EV_BOOK_TOP with the quote
 * notional resting in the returned levels). A poll is skipped for a symbol
 * whose previous request of that kind has not come back yet. Every request
 * goes in the market-data lane: its errors lower health, never trip the ESS.
 *
 * Klines never skip a candle: once one is published, each poll asks from
 * the next open time (startTime) in pages of KLINE_PAGE, so candles missed
 * during a pause (429, ban, outage) are published late but in order, each
 * once; a full page of closed candles asks for the next page at once.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx_buf.h"
#include "bn_json.h"
#include "bn_plugin.h"

typedef struct bn_sym_md {
    bn_plugin *p;
    char symbol[QTR_SYMBOL_MAX];
    int64_t last_kline_open;   /* open time of the last candle published */
    qtr_dec mark;
    bool kline_busy, mark_busy, depth_busy;
} bn_sym_md;

typedef struct bn_market {
    bn_sym_md syms[BN_MAX_SYMBOLS];
    size_t n;
    struct event *kline_ev, *mark_ev, *depth_ev;
} bn_market;

#define KLINE_PAGE 99 /* the largest page of weight 1 */

static int kline_weight(int64_t limit)
{
    return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

static int depth_weight(int64_t limit)
{
    return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

static void bad_data(bn_plugin *p, const char *endpoint, const char *symbol, const char *err)
{
    char text[160];
    kx_fmt(text, sizeof text, "%s %s: %s", endpoint, symbol, err);
    p->h->log(p->ctx, QTR_LOG_ERROR, "%s", text);
    bn_count_md_error(p, "malformed", text);
}

/* ------------------------------------------------------------- klines */

static void request_klines(bn_plugin *p, bn_sym_md *s);

typedef struct kline_rows {
    const bn_sym_md *s;
    int64_t now;
    qtr_candle *cs; /* one per row at most */
    size_t nc, bad;
} kline_rows;

/* One row [openTime, "o", "h", "l", "c", "v", closeTime, ...]: kept if
 * closed and newer than the last published. Non-zero stops at a bad row. */
static int read_kline_row(void *ud, size_t i, const bn_jval *row)
{
    kline_rows *k = ud;
    bn_jval v[7];
    qtr_candle c;
    memset(&c, 0, sizeof c);
    k->bad = i;
    if (bn_jread_elems(row->p, row->n, v, 7, NULL, 0) < 7 || !bn_jget_int(&v[0], "openTime", &c.open_time_ms, NULL, 0) ||
        !bn_jget_dec(&v[1], "o", &c.open, NULL, 0) || !bn_jget_dec(&v[2], "h", &c.high, NULL, 0) ||
        !bn_jget_dec(&v[3], "l", &c.low, NULL, 0) || !bn_jget_dec(&v[4], "c", &c.close, NULL, 0) ||
        !bn_jget_dec(&v[5], "v", &c.volume, NULL, 0) || !bn_jget_int(&v[6], "closeTime", &c.close_time_ms, NULL, 0))
        return 1;
    qtr_strlcpy(c.symbol, k->s->symbol, sizeof c.symbol);
    if (c.close_time_ms < k->now && c.open_time_ms > k->s->last_kline_open) k->cs[k->nc++] = c;
    return 0;
}

static void on_klines(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_sym_md *s = ud;
    s->kline_busy = false;
    if (r->kind != BN_RES_OK) return; /* logged and counted by bn_rest */
    const char *ep = "GET /fapi/v1/klines";
    char err[128];
    long count = bn_jread_elems(r->body, r->body_len, NULL, 0, err, sizeof err);
    if (count < 0) {
        bad_data(p, ep, s->symbol, "answer is not an array");
        return;
    }
    /* Read every row before publishing any, so a bad row publishes nothing. */
    size_t n = (size_t)count;
    kline_rows rows = { .s = s, .now = bn_server_now_ms(p), .cs = calloc(n ? n : 1, sizeof(qtr_candle)) };
    if (!rows.cs) return;
    if (bn_jread_each(r->body, r->body_len, read_kline_row, &rows, NULL, 0) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "row %zu is not [openTime, \"o\",\"h\",\"l\",\"c\",\"v\", closeTime, ...]", rows.bad);
        bad_data(p, ep, s->symbol, msg);
        free(rows.cs);
        return;
    }
    qtr_candle *cs = rows.cs;
    size_t nc = rows.nc;
    /* A full page asked from a startTime, all closed: more may follow. */
    bool more = s->last_kline_open > 0 && n >= KLINE_PAGE && nc == n;
    for (size_t k = 0; k < nc; k++) {
        if (cs[k].open_time_ms <= s->last_kline_open) continue; /* out of order: never twice */
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_CANDLE;
        ev.time_ms = p->h->now_ms(p->ctx);
        ev.u.candle = cs[k];
        s->last_kline_open = cs[k].open_time_ms;
        p->h->publish(p->ctx, &ev);
    }
    free(cs);
    if (more) request_klines(p, s);
}

static void request_klines(bn_plugin *p, bn_sym_md *s)
{
    /* The first poll takes the newest kline_limit; later ones go on from the
     * last candle published, so a pause never leaves a gap. */
    int64_t limit = s->last_kline_open > 0 ? KLINE_PAGE : p->cfg.kline_limit;
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", s->symbol);
    kx_query_add(&q, "interval", p->cfg.kline_interval);
    if (s->last_kline_open > 0) kx_query_add_int(&q, "startTime", s->last_kline_open + 1);
    kx_query_add_int(&q, "limit", limit);
    bn_call c = { .lane = BN_LANE_MARKET, .method = "GET", .path = "/fapi/v1/klines", .params = kx_buf_str(&q),
                  .weight = kline_weight(limit) };
    if (!q.oom && bn_rest_enqueue(p, &c, on_klines, s) == QTR_OK) s->kline_busy = true;
    kx_buf_free(&q);
}

static void poll_klines(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_plugin *p = arg;
    if (bn_market_stream_covers(p, BN_MD_KLINE)) return;
    bn_market_resync(p);
}

void bn_market_resync(bn_plugin *p)
{
    for (size_t i = 0; i < p->market->n; i++) {
        bn_sym_md *s = &p->market->syms[i];
        if (!s->kline_busy) request_klines(p, s);
    }
}

static bn_sym_md *sym_md(bn_plugin *p, const char *symbol)
{
    for (size_t i = 0; i < p->market->n; i++)
        if (!strcmp(p->market->syms[i].symbol, symbol)) return &p->market->syms[i];
    return NULL;
}

void bn_market_stream_candle(bn_plugin *p, const qtr_candle *c)
{
    bn_sym_md *s = sym_md(p, c->symbol);
    if (!s || c->open_time_ms <= s->last_kline_open) return; /* never twice, never backwards */
    bool gap = s->last_kline_open > 0 && c->open_time_ms != s->last_kline_open + p->cfg.kline_interval_ms;
    if (gap) {
        /* REST publishes the missing ones and this one, in order */
        qtr_metric *m = p->h->metric_counter(p->ctx, "exchange_stream_gaps_total",
                                             "Stream events that showed something missed (refetched over REST)", "stream", "market");
        if (m) p->h->metric_add(m, 1);
        if (!s->kline_busy) request_klines(p, s);
        return;
    }
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    ev.time_ms = p->h->now_ms(p->ctx);
    ev.u.candle = *c;
    s->last_kline_open = c->open_time_ms;
    p->h->publish(p->ctx, &ev);
}

void bn_market_stream_mark(bn_plugin *p, const qtr_mark_price *m)
{
    bn_sym_md *s = sym_md(p, m->symbol);
    if (!s) return;
    s->mark = m->mark_price;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_MARK_PRICE;
    ev.time_ms = p->h->now_ms(p->ctx);
    ev.u.mark_price = *m;
    p->h->publish(p->ctx, &ev);
}

/* ------------------------------------------------------------- mark */

static void on_mark(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_sym_md *s = ud;
    s->mark_busy = false;
    if (r->kind != BN_RES_OK) return;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_MARK_PRICE;
    qtr_mark_price *m = &ev.u.mark_price;
    char err[128], sym[QTR_SYMBOL_MAX];
    bn_jfield f[] = { BN_JFIELD("symbol"), BN_JFIELD("markPrice"), BN_JFIELD("indexPrice"),
                      BN_JFIELD("lastFundingRate"), BN_JFIELD("nextFundingTime"), BN_JFIELD("time") };
    if (bn_jread_object(r->body, r->body_len, f, 6, err, sizeof err) != 0 ||
        !bn_jget_str(&f[0].val, "symbol", sym, sizeof sym, err, sizeof err) ||
        !bn_jget_dec(&f[1].val, "markPrice", &m->mark_price, err, sizeof err) ||
        !bn_jget_dec(&f[2].val, "indexPrice", &m->index_price, err, sizeof err) ||
        !bn_jget_dec(&f[3].val, "lastFundingRate", &m->funding_rate, err, sizeof err) ||
        !bn_jget_int(&f[4].val, "nextFundingTime", &m->next_funding_ms, err, sizeof err) ||
        !bn_jget_int(&f[5].val, "time", &m->time_ms, err, sizeof err)) {
        bad_data(p, "GET /fapi/v1/premiumIndex", s->symbol, err);
        return;
    }
    if (strcmp(sym, s->symbol) != 0) {
        bad_data(p, "GET /fapi/v1/premiumIndex", s->symbol, "answer is for another symbol");
        return;
    }
    qtr_strlcpy(m->symbol, s->symbol, sizeof m->symbol);
    s->mark = m->mark_price;
    ev.time_ms = p->h->now_ms(p->ctx);
    p->h->publish(p->ctx, &ev);
}

static void poll_mark(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_plugin *p = arg;
    if (bn_market_stream_covers(p, BN_MD_MARK)) return;
    for (size_t i = 0; i < p->market->n; i++) {
        bn_sym_md *s = &p->market->syms[i];
        if (s->mark_busy) continue;
        kx_buf q;
        kx_buf_init(&q);
        kx_query_add(&q, "symbol", s->symbol);
        bn_call c = { .lane = BN_LANE_MARKET, .method = "GET", .path = "/fapi/v1/premiumIndex", .params = kx_buf_str(&q), .weight = 1 };
        if (bn_rest_enqueue(p, &c, on_mark, s) == QTR_OK) s->mark_busy = true;
        kx_buf_free(&q);
    }
}

/* ------------------------------------------------------------- depth */

typedef struct depth_side {
    qtr_dec top_p, top_q, notional;
    char err[128];
} depth_side;

/* One level ["price", "qty"]: the first is the top; all add to the notional. */
static int read_level(void *ud, size_t i, const bn_jval *lv)
{
    depth_side *d = ud;
    bn_jval v[2];
    qtr_dec px, qty, n;
    if (bn_jread_elems(lv->p, lv->n, v, 2, NULL, 0) < 2 || !bn_jget_dec(&v[0], "price", &px, NULL, 0) ||
        !bn_jget_dec(&v[1], "qty", &qty, NULL, 0)) {
        snprintf(d->err, sizeof d->err, "level %zu is not [\"price\", \"qty\"]", i);
        return 1;
    }
    if (i == 0) {
        d->top_p = px;
        d->top_q = qty;
    }
    if (!qtr_dec_mul(px, qty, QTR_ROUND_DOWN, &n) || !qtr_dec_add(d->notional, n, &d->notional)) {
        snprintf(d->err, sizeof d->err, "depth notional out of range");
        return 1;
    }
    return 0;
}

static bool read_side(const bn_jval *levels, qtr_dec *top_p, qtr_dec *top_q, qtr_dec *notional, char *err, size_t len)
{
    depth_side d = { 0 };
    if (levels->type != BN_JARRAY || bn_jread_elems(levels->p, levels->n, NULL, 0, NULL, 0) == 0) {
        snprintf(err, len, "empty or missing side");
        return false;
    }
    if (bn_jread_each(levels->p, levels->n, read_level, &d, NULL, 0) != 0) {
        snprintf(err, len, "%s", d.err);
        return false;
    }
    *top_p = d.top_p;
    *top_q = d.top_q;
    *notional = d.notional;
    return true;
}

static void on_depth(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_sym_md *s = ud;
    s->depth_busy = false;
    if (r->kind != BN_RES_OK) return;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_BOOK_TOP;
    qtr_book_top *b = &ev.u.book_top;
    char err[128], e2[140];
    bn_jfield f[] = { BN_JFIELD("bids"), BN_JFIELD("asks"), BN_JFIELD("T") };
    if (bn_jread_object(r->body, r->body_len, f, 3, err, sizeof err) != 0) {
        bad_data(p, "GET /fapi/v1/depth", s->symbol, err);
        return;
    }
    if (!read_side(&f[0].val, &b->bid_price, &b->bid_qty, &b->bid_depth_notional, err,
                   sizeof err)) {
        snprintf(e2, sizeof e2, "bids: %s", err);
        bad_data(p, "GET /fapi/v1/depth", s->symbol, e2);
        return;
    }
    if (!read_side(&f[1].val, &b->ask_price, &b->ask_qty, &b->ask_depth_notional, err,
                   sizeof err)) {
        snprintf(e2, sizeof e2, "asks: %s", err);
        bad_data(p, "GET /fapi/v1/depth", s->symbol, e2);
        return;
    }
    int64_t t = 0;
    if (!bn_jget_int(&f[2].val, "T", &t, NULL, 0)) t = bn_server_now_ms(p);
    b->time_ms = t;
    qtr_strlcpy(b->symbol, s->symbol, sizeof b->symbol);
    ev.time_ms = p->h->now_ms(p->ctx);
    p->h->publish(p->ctx, &ev);
}

static void poll_depth(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_plugin *p = arg;
    if (bn_market_stream_covers(p, BN_MD_BOOK)) return;
    for (size_t i = 0; i < p->market->n; i++) {
        bn_sym_md *s = &p->market->syms[i];
        if (s->depth_busy) continue;
        kx_buf q;
        kx_buf_init(&q);
        kx_query_add(&q, "symbol", s->symbol);
        kx_query_add_int(&q, "limit", p->cfg.depth_limit);
        bn_call c = { .lane = BN_LANE_MARKET, .method = "GET", .path = "/fapi/v1/depth", .params = kx_buf_str(&q),
                      .weight = depth_weight(p->cfg.depth_limit) };
        if (bn_rest_enqueue(p, &c, on_depth, s) == QTR_OK) s->depth_busy = true;
        kx_buf_free(&q);
    }
}

/* ------------------------------------------------------------- life */

int bn_market_init(bn_plugin *p)
{
    p->market = calloc(1, sizeof *p->market);
    if (!p->market) return -1;
    for (size_t i = 0; i < p->cfg.n_symbols && i < BN_MAX_SYMBOLS; i++) {
        bn_sym_md *s = &p->market->syms[p->market->n++];
        s->p = p;
        qtr_strlcpy(s->symbol, p->cfg.symbols[i], sizeof s->symbol);
    }
    return 0;
}

static struct event *every(bn_plugin *p, int64_t ms, event_callback_fn fn)
{
    if (ms <= 0 || p->market->n == 0) return NULL;
    struct event *ev = event_new(p->base, -1, EV_PERSIST, fn, p);
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    if (ev) event_add(ev, &tv);
    return ev;
}

void bn_market_start(bn_plugin *p)
{
    p->market->kline_ev = every(p, p->cfg.kline_poll_ms, poll_klines);
    p->market->mark_ev = every(p, p->cfg.mark_poll_ms, poll_mark);
    p->market->depth_ev = every(p, p->cfg.depth_poll_ms, poll_depth);
}

void bn_market_free(bn_plugin *p)
{
    if (!p->market) return;
    if (p->market->kline_ev) event_free(p->market->kline_ev);
    if (p->market->mark_ev) event_free(p->market->mark_ev);
    if (p->market->depth_ev) event_free(p->market->depth_ev);
    free(p->market);
    p->market = NULL;
}

qtr_dec bn_market_mark(const bn_plugin *p, const char *symbol)
{
    qtr_mark_price mp;
    if (p->h->get_mark_price && p->h->get_mark_price(p->ctx, symbol, &mp, sizeof mp) == QTR_OK && mp.mark_price > 0)
        return mp.mark_price;
    if (!p->market) return 0;
    for (size_t i = 0; i < p->market->n; i++)
        if (!strcmp(p->market->syms[i].symbol, symbol)) return p->market->syms[i].mark;
    return 0;
}
