/*
 * bn_snapshot.c — fetch_snapshot: open orders (GET /fapi/v1/openOrders),
 * positions (GET /fapi/v2/positionRisk) and balances (GET /fapi/v2/balance)
 * for reconciliation at start. The callback runs exactly once, after all
 * three answered; if any failed it gets QTR_EIO and nothing half-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    free(s->positions);
    free(s);
}

static void finish_part(bn_snap *s)
{
    if (--s->pending > 0) return;
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

static void on_orders(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    const char *ep = "GET /fapi/v1/openOrders";
    if (r->kind != BN_RES_OK) s->failed = true;
    else if (!json_is_array(r->json)) fail_part(s, ep, "answer is not an array");
    else {
        size_t n = json_array_size(r->json), i;
        s->orders = calloc(n ? n : 1, sizeof *s->orders);
        json_t *o;
        if (!s->orders) s->failed = true;
        else json_array_foreach(r->json, i, o) {
            bn_order_state st;
            char err[160];
            if (bn_order_state_parse(o, &st, err, sizeof err) != 0) {
                fail_part(s, ep, err);
                break;
            }
            qtr_order_update *u = &s->orders[s->n_orders++];
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
        }
    }
    finish_part(s);
}

static void on_positions(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    const char *ep = "GET /fapi/v2/positionRisk";
    if (r->kind != BN_RES_OK) s->failed = true;
    else if (!json_is_array(r->json)) fail_part(s, ep, "answer is not an array");
    else {
        size_t n = json_array_size(r->json), i;
        s->positions = calloc(n ? n : 1, sizeof *s->positions);
        json_t *row;
        if (!s->positions) s->failed = true;
        else json_array_foreach(r->json, i, row) {
            qtr_position pos;
            char err[128], sym[QTR_SYMBOL_MAX];
            memset(&pos, 0, sizeof pos);
            if (!bn_json_str(row, "symbol", sym, sizeof sym, err, sizeof err) ||
                !bn_json_dec(row, "positionAmt", &pos.qty, err, sizeof err) ||
                !bn_json_dec(row, "entryPrice", &pos.entry_price, err, sizeof err) ||
                !bn_json_dec(row, "markPrice", &pos.mark_price, err, sizeof err) ||
                !bn_json_dec(row, "unRealizedProfit", &pos.unrealized_pnl, err, sizeof err)) {
                char msg[160];
                snprintf(msg, sizeof msg, "row %zu: %s", i, err);
                fail_part(s, ep, msg);
                break;
            }
            if (pos.qty == 0) continue; /* v2 lists every symbol */
            qtr_strlcpy(pos.symbol, sym, sizeof pos.symbol);
            pos.time_ms = p->h->now_ms(p->ctx);
            s->positions[s->n_positions++] = pos;
        }
    }
    finish_part(s);
}

static void on_balance(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_snap *s = ud;
    const char *ep = "GET /fapi/v2/balance";
    if (r->kind != BN_RES_OK) s->failed = true;
    else if (!json_is_array(r->json)) fail_part(s, ep, "answer is not an array");
    else {
        size_t i;
        json_t *row;
        json_array_foreach(r->json, i, row) {
            char asset[16], err[128], text[QTR_DEC_STRLEN];
            qtr_dec bal, avail;
            if (!bn_json_str(row, "asset", asset, sizeof asset, err, sizeof err) ||
                !bn_json_dec(row, "balance", &bal, err, sizeof err) ||
                !bn_json_dec(row, "availableBalance", &avail, err, sizeof err)) {
                fail_part(s, ep, err);
                break;
            }
            if (bal == 0) continue;
            p->h->log(p->ctx, QTR_LOG_INFO, "balance %s: %s", asset, qtr_dec_format(bal, text));
            /* display only: the gauge is a double by the metrics contract */
            qtr_metric *g = p->h->metric_gauge(p->ctx, "exchange_wallet_balance", "Wallet balance per asset",
                                               "asset", asset);
            if (g) p->h->metric_set(g, qtr_dec_to_display_double(bal));
        }
    }
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
    bn_call calls[3] = {
        { .method = "GET", .path = "/fapi/v1/openOrders", .is_signed = true, .weight = 40 },
        { .method = "GET", .path = "/fapi/v2/positionRisk", .is_signed = true, .weight = 5 },
        { .method = "GET", .path = "/fapi/v2/balance", .is_signed = true, .weight = 5 },
    };
    bn_rest_cb cbs[3] = { on_orders, on_positions, on_balance };
    int queued = 0;
    for (int i = 0; i < 3; i++) {
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
