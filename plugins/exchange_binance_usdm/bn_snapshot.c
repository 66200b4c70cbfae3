/*
 * bn_snapshot.c — fetch_snapshot: open orders (GET /fapi/v1/openOrders),
 * open conditional orders (GET /fapi/v1/openAlgoOrders: stops, take-profits
 * and trailing stops, with their trigger, activation, callback, working
 * type and reduce-only, so the host's exit manager sees which exits the
 * exchange holds), positions (GET /fapi/v2/positionRisk) and balances (GET
 * /fapi/v2/balance) for reconciliation at start. The callback runs exactly
 * once, after all four answered; if any failed it gets QTR_EIO and nothing
 * half-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_algo.h"
#include "bn_fills.h"
#include "bn_json.h"
#include "bn_order_json.h"
#include "bn_plugin.h"

typedef struct bn_snap {
    struct bn_snap *next;     /* in p->snaps until its callback has run */
    bn_plugin *p;
    qtr_snapshot_cb cb;
    void *ud;
    int pending;
    bool failed;
    qtr_order_update *orders;
    size_t n_orders;
    qtr_order_update *algos;  /* open algo orders, appended to orders at the end */
    size_t n_algos;
    qtr_position *positions;
    size_t n_positions;
} bn_snap;

static void snap_free(bn_snap *s)
{
    for (bn_snap **q = &s->p->snaps; *q; q = &(*q)->next)
        if (*q == s) {
            *q = s->next;
            break;
        }
    free(s->orders);
    free(s->algos);
    free(s->positions);
    free(s);
}

static void finish_part(bn_snap *s)
{
    if (--s->pending > 0) return;
    if (!s->failed && s->n_algos) {
        qtr_order_update *all = realloc(s->orders, (s->n_orders + s->n_algos) * sizeof *all);
        if (!all) {
            s->failed = true;
        } else {
            memcpy(all + s->n_orders, s->algos, s->n_algos * sizeof *all);
            s->orders = all;
            s->n_orders += s->n_algos;
        }
    }
    if (s->failed) s->cb(s->ud, QTR_EIO, NULL, 0, NULL, 0);
    else s->cb(s->ud, QTR_OK, s->orders, s->n_orders, s->positions, s->n_positions);
    snap_free(s);
}

void bn_snapshot_free(bn_plugin *p)
{
    while (p->snaps) snap_free(p->snaps);
}

static void fail_part(bn_snap *s, const char *endpoint, const char *why)
{
    bn_count_error(s->p, "malformed");
    s->p->h->log(s->p->ctx, QTR_LOG_ERROR, "snapshot: %s: %s", endpoint, why);
    s->failed = true;
}

/* The rows of one answer, read in order; a bad row fails the part. */
typedef struct snap_rows {
    bn_plugin *p;
    bn_snap *s;
    const char *ep;
} snap_rows;

/* The answer's rows through each (0 per row read, non-zero: stop), after
 * checking it is an array; false if it is not or a row stopped it. */
static bool read_rows(snap_rows *sr, const bn_result *r, size_t *count, bn_jelem_fn each)
{
    long n = r->kind == BN_RES_OK ? bn_jread_elems(r->body, r->body_len, NULL, 0, NULL, 0) : -1;
    if (r->kind != BN_RES_OK) {
        sr->s->failed = true;
        return false;
    }
    if (n < 0) {
        fail_part(sr->s, sr->ep, "answer is not an array");
        return false;
    }
    if (count) *count = (size_t)n;
    return each == NULL || bn_jread_each(r->body, r->body_len, each, sr, NULL, 0) == 0;
}

static int order_row(void *ud, size_t i, const bn_jval *row)
{
    (void)i;
    snap_rows *sr = ud;
    bn_plugin *p = sr->p;
    bn_order_state st;
    char err[160];
    if (bn_order_state_read(row->p, row->n, &st, err, sizeof err) != 0) {
        fail_part(sr->s, sr->ep, err);
        return 1;
    }
    qtr_order_update *u = &sr->s->orders[sr->s->n_orders++];
    qtr_strlcpy(u->symbol, st.symbol, sizeof u->symbol);
    u->time_ms = p->h->now_ms(p->ctx);
    qtr_strlcpy(u->client_id, st.client_id, sizeof u->client_id);
    qtr_strlcpy(u->exchange_id, st.order_id, sizeof u->exchange_id);
    u->side = st.side;
    u->type = st.type;
    u->status = st.status;
    u->qty = st.orig_qty;
    u->price = st.price;
    u->filled_qty = st.executed_qty;
    u->avg_price = bn_avg_price(st.cum_quote, st.executed_qty);
    u->reduce_only = st.reduce_only;
    u->external = !bn_orders_known_child(p, st.client_id);
    return 0;
}

static void on_orders(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    snap_rows sr = { p, s, "GET /fapi/v1/openOrders" };
    size_t n = 0;
    if (read_rows(&sr, r, &n, NULL)) {
        s->orders = calloc(n ? n : 1, sizeof *s->orders);
        if (!s->orders) s->failed = true;
        else read_rows(&sr, r, NULL, order_row);
    }
    finish_part(s);
}

static int algo_row(void *ud, size_t i, const bn_jval *row)
{
    snap_rows *sr = ud;
    bn_plugin *p = sr->p;
    bn_algo_order a;
    char err[160], msg[200];
    if (bn_algo_order_read(row->p, row->n, &a, err, sizeof err) != 0) {
        snprintf(msg, sizeof msg, "row %zu: %s", i, err);
        fail_part(sr->s, sr->ep, msg);
        return 1;
    }
    qtr_order_update *u = &sr->s->algos[sr->s->n_algos++];
    qtr_strlcpy(u->symbol, a.symbol, sizeof u->symbol);
    u->time_ms = p->h->now_ms(p->ctx);
    qtr_strlcpy(u->client_id, a.st.client_id, sizeof u->client_id);
    qtr_strlcpy(u->exchange_id, a.st.algo_id, sizeof u->exchange_id);
    u->side = a.side;
    u->type = a.type;
    u->status = a.st.status;
    u->qty = a.qty;
    u->stop_price = a.type == QTR_ORDER_TRAILING_STOP_MARKET ? 0 : a.trigger;
    u->activation_price = a.activation;
    u->callback_bps = a.callback_bps;
    u->working_type = a.working_type;
    u->reduce_only = a.reduce_only;
    u->external = !bn_orders_known_child(p, a.st.client_id);
    return 0;
}

static void on_algo_orders(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    snap_rows sr = { p, s, "GET /fapi/v1/openAlgoOrders" };
    size_t n = 0;
    if (read_rows(&sr, r, &n, NULL)) {
        s->algos = calloc(n ? n : 1, sizeof *s->algos);
        if (!s->algos) s->failed = true;
        else read_rows(&sr, r, NULL, algo_row);
    }
    finish_part(s);
}

static int position_row(void *ud, size_t i, const bn_jval *row)
{
    snap_rows *sr = ud;
    qtr_position pos;
    char err[128], sym[QTR_SYMBOL_MAX];
    memset(&pos, 0, sizeof pos);
    bn_jfield f[] = { BN_JFIELD("symbol"), BN_JFIELD("positionAmt"), BN_JFIELD("entryPrice"), BN_JFIELD("markPrice"),
                      BN_JFIELD("unRealizedProfit") };
    if (bn_jread_object(row->p, row->n, f, 5, err, sizeof err) != 0 ||
        !bn_jget_str(&f[0].val, "symbol", sym, sizeof sym, err, sizeof err) ||
        !bn_jget_dec(&f[1].val, "positionAmt", &pos.qty, err, sizeof err) ||
        !bn_jget_dec(&f[2].val, "entryPrice", &pos.entry_price, err, sizeof err) ||
        !bn_jget_dec(&f[3].val, "markPrice", &pos.mark_price, err, sizeof err) ||
        !bn_jget_dec(&f[4].val, "unRealizedProfit", &pos.unrealized_pnl, err, sizeof err)) {
        char msg[160];
        snprintf(msg, sizeof msg, "row %zu: %s", i, err);
        fail_part(sr->s, sr->ep, msg);
        return 1;
    }
    if (pos.qty == 0) return 0; /* v2 lists every symbol */
    qtr_strlcpy(pos.symbol, sym, sizeof pos.symbol);
    pos.time_ms = sr->p->h->now_ms(sr->p->ctx);
    sr->s->positions[sr->s->n_positions++] = pos;
    return 0;
}

static void on_positions(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    snap_rows sr = { p, s, "GET /fapi/v2/positionRisk" };
    size_t n = 0;
    if (read_rows(&sr, r, &n, NULL)) {
        s->positions = calloc(n ? n : 1, sizeof *s->positions);
        if (!s->positions) s->failed = true;
        else read_rows(&sr, r, NULL, position_row);
    }
    finish_part(s);
}

static int balance_row(void *ud, size_t i, const bn_jval *row)
{
    (void)i;
    snap_rows *sr = ud;
    bn_plugin *p = sr->p;
    char asset[16], err[128], text[QTR_DEC_STRLEN];
    qtr_dec bal, avail;
    bn_jfield f[] = { BN_JFIELD("asset"), BN_JFIELD("balance"), BN_JFIELD("availableBalance") };
    if (bn_jread_object(row->p, row->n, f, 3, err, sizeof err) != 0 ||
        !bn_jget_str(&f[0].val, "asset", asset, sizeof asset, err, sizeof err) ||
        !bn_jget_dec(&f[1].val, "balance", &bal, err, sizeof err) ||
        !bn_jget_dec(&f[2].val, "availableBalance", &avail, err, sizeof err)) {
        fail_part(sr->s, sr->ep, err);
        return 1;
    }
    if (bal == 0) return 0;
    p->h->log(p->ctx, QTR_LOG_INFO, "balance %s: %s", asset, qtr_dec_format(bal, text));
    /* display only: the gauge is a double by the metrics contract */
    qtr_metric *g = p->h->metric_gauge(p->ctx, "exchange_wallet_balance", "Wallet balance per asset", "asset", asset);
    if (g) p->h->metric_set(g, qtr_dec_to_display_double(bal));
    return 0;
}

static void on_balance(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    snap_rows sr = { p, s, "GET /fapi/v2/balance" };
    read_rows(&sr, r, NULL, balance_row);
    finish_part(s);
}

int bn_snapshot_fetch(bn_plugin *p, qtr_snapshot_cb cb, void *ud)
{
    if (!cb) return QTR_EINVAL;
    bn_snap *s = calloc(1, sizeof *s);
    if (!s) return QTR_EREFUSED;
    s->p = p;
    s->cb = cb;
    s->ud = ud;
    s->next = p->snaps;
    p->snaps = s;
    s->pending = 1; /* held until every part is queued */
    /* openAlgoOrders without a symbol: counted as openOrders is (40) */
    bn_call calls[] = {
        { .method = "GET", .path = "/fapi/v1/openOrders", .is_signed = true, .weight = 40 },
        { .method = "GET", .path = "/fapi/v1/openAlgoOrders", .is_signed = true, .weight = 40 },
        { .method = "GET", .path = "/fapi/v2/positionRisk", .is_signed = true, .weight = 5 },
        { .method = "GET", .path = "/fapi/v2/balance", .is_signed = true, .weight = 5 },
    };
    bn_rest_cb cbs[] = { on_orders, on_algo_orders, on_positions, on_balance };
    _Static_assert(sizeof calls / sizeof calls[0] == sizeof cbs / sizeof cbs[0], "one callback per call");
    int queued = 0;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (bn_rest_enqueue(p, &calls[i], cbs[i], s) == QTR_OK) {
            s->pending++;
            queued++;
        } else {
            s->failed = true;
        }
    }
    if (queued == 0) {
        snap_free(s);
        return QTR_EREFUSED;
    }
    s->pending--; /* answers come later, from the loop: the callback never runs in here */
    return QTR_OK;
}
