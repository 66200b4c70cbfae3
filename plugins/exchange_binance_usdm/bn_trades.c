/*
 * bn_trades.c — fills are the exchange's executions.
 *
 * The order endpoints give running totals but no commission, so when an
 * order shows executions not yet published, its executions are read from
 * GET /fapi/v1/userTrades (weight 5) and each one is published once as a
 * fill with its own price, quantity, maker flag and commission; only then
 * does the order's new state follow (bn_order_settle).
 *
 * Weight: one request per order would cost 5 per fill, more than the order
 * limits allow at full speed. So at most one request per symbol is out at
 * a time: orders that come due meanwhile wait for it to return, then share
 * one request (symbol + startTime before the earliest of their sends). An
 * order alone is asked for by orderId, as is one that a full page left
 * short. Under light load nothing waits; under an order storm the cost is
 * one request per round trip instead of one per fill. Executions are
 * published by trade id, each once, whatever request brought them.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx_buf.h"
#include "bn_order_json.h"
#include "bn_plugin.h"

#define TRADES_PAGE 1000                       /* the endpoint's maximum limit    */
#define SEND_SKEW_MS 5000                      /* startTime margin before a send  */
#define MAX_WINDOW_MS (7LL * 24 * 3600 * 1000) /* the endpoint's longest window  */

static const char endpoint[] = "GET /fapi/v1/userTrades";

/* ---------------------------------------------- one request per symbol */

static int *symbol_inflight(bn_plugin *p, const char *symbol)
{
    for (size_t i = 0; i < p->n_tsym; i++)
        if (!strcmp(p->tsym[i].symbol, symbol)) return &p->tsym[i].inflight;
    if (p->n_tsym == BN_MAX_TRADE_SYMBOLS) return NULL; /* untracked: never held back */
    qtr_strlcpy(p->tsym[p->n_tsym].symbol, symbol, sizeof p->tsym[0].symbol);
    p->tsym[p->n_tsym].inflight = 0;
    return &p->tsym[p->n_tsym++].inflight;
}

static void symbol_sent(bn_plugin *p, const char *symbol)
{
    int *n = symbol_inflight(p, symbol);
    if (n) ++*n;
}

/* A request came back: the orders held back for its symbol go now. */
static void symbol_done(bn_plugin *p, const char *symbol)
{
    int *n = symbol_inflight(p, symbol);
    if (n && *n > 0) --*n;
    if (p->trades_wanted && p->trades_pump_ev) event_active(p->trades_pump_ev, EV_TIMEOUT, 0);
}

/* One request for the due orders of one symbol. */
typedef struct bn_tbatch {
    struct bn_tbatch *next;   /* in p->tbatches until its callback ran */
    bn_plugin *p;
    size_t n;
    bn_order *o[];
} bn_tbatch;

/* ---------------------------------------------------------------- fills */

/* The fee of one execution in the quote currency. The commission is read as
 * paid when positive; a negative one on a maker execution is a rebate. A
 * taker never earns a rebate, so a negative taker commission (as in the API
 * documentation's example) is read as paid too. A commission in another
 * asset (BNB, with the BNB fee discount on) cannot be valued without
 * guessing a price: the fill carries no fee and an alert says so. */
static qtr_dec trade_fee(bn_order *o, const bn_trade *t)
{
    bn_plugin *p = o->p;
    const kx_symbol_rules *rules = bn_rules_find(&p->info, o->intent.symbol);
    if (rules && !strcmp(t->commission_asset, rules->quote_asset))
        return !t->maker && t->commission < 0 ? -t->commission : t->commission;
    char amount[QTR_DEC_STRLEN], text[QTR_REASON_MAX * 2];
    kx_fmt(text, sizeof text, "order %s trade %lld: commission %s %s is not in %s; left out of the fees and PnL",
           o->intent.client_id, (long long)t->id, qtr_dec_format(t->commission, amount), t->commission_asset,
           rules ? rules->quote_asset : "the quote asset");
    p->h->log(p->ctx, QTR_LOG_ERROR, "%s", text);
    if (p->metrics.fees_unconverted) p->h->metric_add(p->metrics.fees_unconverted, 1);
    if (strcmp(p->fee_asset_alerted, t->commission_asset) != 0) {
        qtr_strlcpy(p->fee_asset_alerted, t->commission_asset, sizeof p->fee_asset_alerted);
        bn_alert(p, QTR_ALERT_WARNING, "exchange_fee_asset", text);
    }
    return 0;
}

static bool published(const bn_order *o, int64_t id)
{
    for (size_t i = 0; i < o->n_pub; i++)
        if (o->pub_ids[i] == id) return true;
    return false;
}

/* Publish one execution of the current child; false if it could not be
 * remembered (out of memory): then it is not published now, but later. */
static bool publish_trade(bn_order *o, const bn_trade *t)
{
    bn_plugin *p = o->p;
    if (o->n_pub == o->cap_pub) {
        size_t cap = o->cap_pub ? o->cap_pub * 2 : 4;
        int64_t *ids = realloc(o->pub_ids, cap * sizeof *ids);
        if (!ids) return false;
        o->pub_ids = ids;
        o->cap_pub = cap;
    }
    o->pub_ids[o->n_pub++] = t->id;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = p->h->now_ms(p->ctx);
    qtr_fill *f = &ev.u.fill;
    qtr_strlcpy(f->symbol, o->intent.symbol, sizeof f->symbol);
    f->time_ms = t->time_ms;
    qtr_strlcpy(f->client_id, o->intent.client_id, sizeof f->client_id);
    bn_trade_fill_id(o->intent.symbol, t->id, t->side, f->fill_id);
    f->side = t->side;
    f->qty = t->qty;
    f->price = t->price;
    f->fee = trade_fee(o, t);
    f->maker = t->maker;
    f->reduce_only = o->intent.reduce_only;
    qtr_dec quote = 0;
    qtr_dec_mul(t->qty, t->price, QTR_ROUND_HALF_EVEN, &quote);
    o->tr_qty += t->qty;
    o->tr_quote += quote;
    p->h->publish(p->ctx, &ev);
    return true;
}

/* ---------------------------------------------------------------- asking */

static void direct(bn_order *o, int64_t from_id);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_trades_want(arg);
}

/* The answer did not (yet) hold every execution the order shows: ask again
 * after the retry delays; past the budget, alert, and the poller keeps asking. */
static void ask_later(bn_order *o, const char *why)
{
    bn_plugin *p = o->p;
    int64_t ban = bn_ban_left_ms(p);
    if (ban != 0) {
        /* Banned: this ask is not spent; ask again when the ban ends (a ban
         * until restart leaves it to the poller, whose asks are refused). */
        if (o->trade_queries > 0) o->trade_queries--;
        if (!o->trades_ev) o->trades_ev = evtimer_new(p->base, on_retry, o);
        if (o->trades_ev && ban > 0) bn_timer_once(o->trades_ev, ban);
        return;
    }
    if (o->trade_queries <= p->cfg.n_backoff) {
        if (!o->trades_ev) o->trades_ev = evtimer_new(p->base, on_retry, o);
        if (o->trades_ev) bn_timer_once(o->trades_ev, bn_backoff_at(p, o->trade_queries - 1));
        return;
    }
    if (o->trade_queries == p->cfg.n_backoff + 1) {
        char text[QTR_REASON_MAX * 2], a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
        kx_fmt(text, sizeof text, "order %s: executions of %s not all in userTrades after %d asks (%s of %s): %s",
               o->intent.client_id, o->child_cid, o->trade_queries, qtr_dec_format(o->tr_qty, a),
               qtr_dec_format(o->ft.last_qty, b), why);
        bn_count_error(p, "trades_missing");
        p->h->log(p->ctx, QTR_LOG_ERROR, "%s; the poller keeps asking", text);
        bn_alert(p, QTR_ALERT_WARNING, "exchange_fills_late", text);
    }
}

static int trade_cmp(const void *a, const void *b)
{
    const bn_trade *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static void collect(void *ud, const bn_trade *t)
{
    bn_plugin *p = ud;
    if (p->n_trade_buf == p->cap_trade_buf) {
        size_t cap = p->cap_trade_buf ? p->cap_trade_buf * 2 : 16;
        bn_trade *nb = realloc(p->trade_buf, cap * sizeof *nb);
        if (!nb) return; /* found short by the caller */
        p->trade_buf = nb;
        p->cap_trade_buf = cap;
    }
    p->trade_buf[p->n_trade_buf++] = *t;
}

/* Read an answer into p->trade_buf, oldest first; -1 with err if unreadable. */
static int read_rows(bn_plugin *p, const bn_result *r, char *err, size_t errlen)
{
    p->n_trade_buf = 0;
    int n = bn_trades_read(r->body, r->body_len, collect, p, err, errlen);
    if (n >= 0 && (size_t)n != p->n_trade_buf) {
        kx_fmt(err, errlen, "out of memory reading %d executions", n);
        return -1;
    }
    if (n > 0) qsort(p->trade_buf, p->n_trade_buf, sizeof *p->trade_buf, trade_cmp);
    return n;
}

/* Publish the rows of o's current child not yet published, then tell its
 * state, or ask again: by orderId from the last row if the page was full
 * (more may follow), else later (the list lags). */
static void apply_rows(bn_order *o, bool page_full)
{
    bn_plugin *p = o->p;
    int64_t last = 0;
    for (size_t i = 0; i < p->n_trade_buf; i++) {
        const bn_trade *t = &p->trade_buf[i];
        if (strcmp(t->order_id, o->exchange_id) != 0) continue;
        last = t->id;
        if (published(o, t->id)) continue;
        if (strcmp(t->symbol, o->intent.symbol) != 0 || t->side != o->intent.side) {
            char err[160];
            kx_fmt(err, sizeof err, "trade %lld of order %s is %s %s, the order %s %s", (long long)t->id,
                   t->order_id, t->symbol, qtr_side_name(t->side), o->intent.symbol, qtr_side_name(o->intent.side));
            bn_count_bad(p, endpoint, o->child_cid, err);
            continue;
        }
        if (!publish_trade(o, t)) break;
    }
    if (o->tr_qty < o->ft.last_qty) {
        if (page_full) direct(o, last ? last + 1 : 0);
        else ask_later(o, "the list lags the order");
        return;
    }
    o->trade_queries = 0;
    bn_order_settle(o);
}

/* ------------------------------------------------- one order, by orderId */

static void on_direct(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_order *o = ud;
    symbol_done(p, o->intent.symbol);
    if (bn_order_release(o)) return;
    o->trades_busy = false;
    if (o->phase == BN_PH_DONE) return;
    if (r->kind != BN_RES_OK) {
        ask_later(o, r->msg);
        return;
    }
    char err[160];
    int n = read_rows(p, r, err, sizeof err);
    /* Asked by orderId: a row of another order means the answer is not
     * what was asked for; nothing of it is trusted. */
    for (size_t i = 0; n >= 0 && i < p->n_trade_buf; i++)
        if (strcmp(p->trade_buf[i].order_id, o->exchange_id) != 0) {
            kx_fmt(err, sizeof err, "trade %lld is of order %s, not %s", (long long)p->trade_buf[i].id,
                   p->trade_buf[i].order_id, o->exchange_id);
            n = -1;
        }
    if (n < 0) {
        bn_count_bad(p, endpoint, o->child_cid, err);
        ask_later(o, "unreadable answer");
        return;
    }
    apply_rows(o, n >= TRADES_PAGE);
}

static void direct(bn_order *o, int64_t from_id)
{
    if (o->trades_busy || o->phase == BN_PH_DONE || !o->exchange_id[0]) return;
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", o->intent.symbol);
    kx_query_add(&q, "orderId", o->exchange_id);
    if (from_id > 0) kx_query_add_int(&q, "fromId", from_id);
    kx_query_add_int(&q, "limit", TRADES_PAGE);
    bn_call c = { .method = "GET", .path = "/fapi/v1/userTrades", .params = kx_buf_str(&q), .is_signed = true,
                  .weight = 5 };
    if (!q.oom && bn_order_enqueue(o, &c, on_direct) == QTR_OK) {
        o->trades_busy = true;
        o->trade_queries++;
        symbol_sent(o->p, o->intent.symbol);
    } else {
        o->trade_queries++; /* a refusal spends the budget too */
        ask_later(o, "request refused");
    }
    kx_buf_free(&q);
}

/* ------------------------------------------ several orders, by startTime */

static void batch_free(bn_tbatch *b)
{
    for (bn_tbatch **q = &b->p->tbatches; *q; q = &(*q)->next)
        if (*q == b) {
            *q = b->next;
            break;
        }
    free(b);
}

static void on_batch(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_tbatch *b = ud;
    char err[160] = "";
    symbol_done(p, b->o[0]->intent.symbol);
    int n = r->kind == BN_RES_OK ? read_rows(p, r, err, sizeof err) : -1;
    if (r->kind == BN_RES_OK && n < 0) {
        char what[64];
        kx_fmt(what, sizeof what, "(those of %s since a time)", b->o[0]->intent.symbol);
        bn_count_bad(p, endpoint, what, err);
    }
    for (size_t i = 0; i < b->n; i++) {
        bn_order *o = b->o[i];
        o->trades_busy = false;
        if (o->phase == BN_PH_DONE) continue;
        if (n < 0) ask_later(o, r->kind == BN_RES_OK ? "unreadable answer" : r->msg);
        else apply_rows(o, n >= TRADES_PAGE);
    }
    /* References last: an order settled above may retire another one. */
    for (size_t i = 0; i < b->n; i++) bn_order_release(b->o[i]);
    batch_free(b);
}

/* The references taken by bn_trades_want move to the batch's request. */
static void send_batch(bn_plugin *p, bn_tbatch *b)
{
    int64_t start = INT64_MAX, now = bn_server_now_ms(p);
    for (size_t i = 0; i < b->n; i++)
        if (b->o[i]->child_sent_ms < start) start = b->o[i]->child_sent_ms;
    start -= SEND_SKEW_MS;
    if (start < now - MAX_WINDOW_MS + 60000) start = now - MAX_WINDOW_MS + 60000;
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", b->o[0]->intent.symbol);
    kx_query_add_int(&q, "startTime", start);
    kx_query_add_int(&q, "limit", TRADES_PAGE);
    bn_call c = { .method = "GET", .path = "/fapi/v1/userTrades", .params = kx_buf_str(&q), .is_signed = true,
                  .weight = 5 };
    int rc = q.oom ? QTR_EREFUSED : bn_rest_enqueue(p, &c, on_batch, b);
    kx_buf_free(&q);
    for (size_t i = 0; i < b->n; i++) {
        bn_order *o = b->o[i];
        if (rc == QTR_OK) {
            o->trades_busy = true;
            o->trade_queries++;
        }
    }
    if (rc == QTR_OK) {
        b->next = p->tbatches;
        p->tbatches = b;
        symbol_sent(p, b->o[0]->intent.symbol);
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->o[i]->phase != BN_PH_DONE) {
            b->o[i]->trade_queries++;
            ask_later(b->o[i], "request refused");
        }
        bn_order_release(b->o[i]);
    }
    free(b);
}

/* Once per loop turn: the due orders, grouped by symbol. */
static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_plugin *p = arg;
    bn_order *list = p->trades_wanted, *held = NULL;
    p->trades_wanted = NULL;
    while (list) {
        bn_order *first = list;
        int *inflight = symbol_inflight(p, first->intent.symbol);
        if (inflight && *inflight > 0) {
            /* wait for the symbol's request to return (symbol_done) */
            for (bn_order **q = &list; *q;) {
                bn_order *o = *q;
                if (strcmp(o->intent.symbol, first->intent.symbol) != 0) {
                    q = &o->wnext;
                    continue;
                }
                *q = o->wnext;
                o->wnext = held;
                held = o;
            }
            continue;
        }
        size_t n = 0;
        for (bn_order *o = list; o; o = o->wnext)
            if (!strcmp(o->intent.symbol, first->intent.symbol)) n++;
        bn_tbatch *b = n > 1 ? malloc(sizeof *b + n * sizeof b->o[0]) : NULL;
        if (b) {
            b->p = p;
            b->n = 0;
        }
        /* Take this symbol's orders out of the list. */
        for (bn_order **q = &list; *q;) {
            bn_order *o = *q;
            if (strcmp(o->intent.symbol, first->intent.symbol) != 0) {
                q = &o->wnext;
                continue;
            }
            *q = o->wnext;
            o->trades_wanted = false;
            if (b && o->phase != BN_PH_DONE && !o->trades_busy) {
                b->o[b->n++] = o; /* its reference goes with the batch */
                continue;
            }
            if (!bn_order_release(o)) direct(o, 0); /* alone, or no memory for a batch */
        }
        if (b && b->n == 1) {
            bn_order *o = b->o[0];
            free(b);
            if (!bn_order_release(o)) direct(o, 0);
        } else if (b && b->n > 1) {
            send_batch(p, b);
        } else {
            free(b);
        }
    }
    /* Held orders keep their place (and reference) in the list. */
    while (held) {
        bn_order *o = held;
        held = o->wnext;
        o->wnext = p->trades_wanted;
        p->trades_wanted = o;
    }
}

void bn_trades_want(bn_order *o)
{
    bn_plugin *p = o->p;
    if (o->trades_busy || o->trades_wanted || o->phase == BN_PH_DONE || !o->exchange_id[0]) return;
    if (!p->trades_pump_ev) p->trades_pump_ev = event_new(p->base, -1, 0, on_pump, p);
    if (!p->trades_pump_ev) {
        direct(o, 0);
        return;
    }
    o->trades_wanted = true;
    o->refs++; /* the list names it */
    o->wnext = p->trades_wanted;
    p->trades_wanted = o;
    event_active(p->trades_pump_ev, EV_TIMEOUT, 0);
}

bool bn_trades_publish_stream(bn_order *o, const bn_trade *t)
{
    return published(o, t->id) || publish_trade(o, t);
}

void bn_trades_free(bn_plugin *p)
{
    /* After bn_rest_free (no callback runs) and with every order freed. */
    while (p->tbatches) batch_free(p->tbatches);
    p->trades_wanted = NULL;
    if (p->trades_pump_ev) event_free(p->trades_pump_ev);
    p->trades_pump_ev = NULL;
    free(p->trade_buf);
    p->trade_buf = NULL;
    p->n_trade_buf = p->cap_trade_buf = 0;
}
