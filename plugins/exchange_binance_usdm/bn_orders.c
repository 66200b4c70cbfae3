/*
 * bn_orders.c — orders that are never doubled.
 *
 * Each order carries newClientOrderId = the host's client_id. When a send's
 * fate is unknown (timeout, 5xx, dropped connection, unreadable answer) the
 * order is published UNKNOWN and queried by origClientOrderId after a
 * backoff. A -2013 (not found) is not trusted at once: the matching engine
 * can lag the API. The order is queried again after each delay until the
 * last send's recvWindow has passed (after that the exchange refuses it),
 * then looked for in GET /fapi/v1/allOrders by its client id; only with no
 * trace of it there is it sent again, and every such resend is counted
 * (exchange_order_resends_total) and alerted (exchange_order_resent).
 * A -4116 (duplicate id) means an earlier send landed: query, never resend. When an order's executedQty grows, its executions are read
 * from GET /fapi/v1/userTrades (each with its price and commission) and
 * published as fills; the order's new state follows once they all are, so
 * the host never sees a filled quantity without its fills and fees. A
 * child that ends under min_fill_ratio of the logical
 * quantity is followed by a new child "<id>-rN" for the remainder; the host
 * only ever sees the original client_id with cumulative totals.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_algo.h"
#include "bn_codes.h"
#include "kx_buf.h"
#include "bn_json.h"
#include "bn_order_json.h"
#include "bn_plugin.h"
#include "qc/hash.h"
#include "qc/strmap.h"

/* The project's one string hash (common/include/qc/hash.h); the follow-up
 * and fill ids below are made with it, so it must not change. */
static uint32_t fnv1a(const char *s) { return qc_hash_str(s); }

bool bn_client_id_valid(const char *cid) { return qtr_client_id_valid(cid); }

void bn_followup_id(const char *cid, int n, char out[QTR_CLIENT_ID_MAX])
{
    char suffix[16];
    snprintf(suffix, sizeof suffix, "-r%d", n);
    size_t cl = strlen(cid), sl = strlen(suffix);
    if (cl + sl <= 36) {
        memcpy(out, cid, cl);
        memcpy(out + cl, suffix, sl + 1);
        return;
    }
    /* Too long: keep a prefix and a hash of the whole id, so it stays unique. */
    int keep = (int)(36 - sl - 9);
    snprintf(out, QTR_CLIENT_ID_MAX, "%.*s-%08x%s", keep, cid, fnv1a(cid), suffix);
}

/* "<symbol>:<trade id>:<B|S>": the exchange's own id for the execution, so
 * the same execution has the same fill id whoever reads it and when. The
 * side is there because both sides of a self-trade share the trade id. */
void bn_trade_fill_id(const char *symbol, int64_t trade_id, qtr_side side, char out[QTR_CLIENT_ID_MAX])
{
    char tail[32];
    int tl = snprintf(tail, sizeof tail, ":%lld:%c", (long long)trade_id, side == QTR_SIDE_BUY ? 'B' : 'S');
    size_t sl = strlen(symbol), keep = sl;
    char hash[10] = "";
    if (sl + (size_t)tl >= QTR_CLIENT_ID_MAX) {
        /* A symbol too long to fit: a prefix and its hash keep it unique. */
        snprintf(hash, sizeof hash, "~%08x", fnv1a(symbol));
        keep = QTR_CLIENT_ID_MAX - 1 - (size_t)tl - 9;
    }
    size_t hl = strlen(hash);
    memcpy(out, symbol, keep);
    memcpy(out + keep, hash, hl);
    memcpy(out + keep + hl, tail, (size_t)tl + 1);
}

/* ---------------------------------------------------------------- table */

/* The project's one hash map, client id -> order. It grows with use (no
 * memory taken for orders never placed) and is bounded by max_open_orders
 * (checked before an order is added) plus done_orders_kept (retire()). */
int bn_orders_init(bn_plugin *p)
{
    p->by_cid = qc_strmap_new(QTR_CLIENT_ID_MAX, 0);
    if (p->by_cid) return 0;
    p->h->log(p->ctx, QTR_LOG_ERROR, "out of memory for the order table");
    return -1;
}

const bn_order *bn_orders_find(const bn_plugin *p, const char *cid)
{
    int64_t v;
    return qc_strmap_get(p->by_cid, cid, &v) ? (const bn_order *)(intptr_t)v : NULL;
}

/* Room for one more order not yet finished (the kept finished ones aside). */
static bool open_room(const bn_plugin *p) { return p->n_orders - p->n_done < (size_t)p->cfg.max_open; }

bool bn_orders_known_child(const bn_plugin *p, const char *child_cid)
{
    if (bn_orders_find(p, child_cid)) return true;
    for (const bn_order *o = p->active; o; o = o->anext)
        if (!strcmp(o->child_cid, child_cid)) return true;
    return false;
}

static void active_remove(bn_plugin *p, bn_order *o)
{
    if (o->aprev) o->aprev->anext = o->anext;
    else if (p->active == o) p->active = o->anext;
    if (o->anext) o->anext->aprev = o->aprev;
    o->anext = o->aprev = NULL;
}

static void count_in_memory(bn_plugin *p)
{
    if (p->metrics.orders_in_memory) p->h->metric_set(p->metrics.orders_in_memory, (double)p->n_orders);
}

/* Into the table and the list of orders not yet done; -1 if the table
 * could not grow (out of memory: nothing changed). */
static int table_add(bn_plugin *p, bn_order *o)
{
    if (qc_strmap_put(p->by_cid, o->intent.client_id, (int64_t)(intptr_t)o) != QC_STRMAP_ADDED) return -1;
    o->anext = p->active;
    if (p->active) p->active->aprev = o;
    p->active = o;
    p->n_orders++;
    count_in_memory(p);
    return 0;
}

static void order_free(bn_order *o)
{
    if (o->retry_ev) event_free(o->retry_ev);
    if (o->trades_ev) event_free(o->trades_ev);
    free(o->pub_ids);
    free(o);
}

/* A finished order joins the FIFO of kept ones; the oldest beyond
 * done_orders_kept leaves the table and is freed once no request names it. */
static void retire(bn_plugin *p, bn_order *o)
{
    o->dnext = NULL;
    if (p->done_tail) p->done_tail->dnext = o;
    else p->done_head = o;
    p->done_tail = o;
    if ((int64_t)++p->n_done <= p->cfg.done_kept) return;
    bn_order *old = p->done_head;
    p->done_head = old->dnext;
    if (!p->done_head) p->done_tail = NULL;
    p->n_done--;
    qc_strmap_remove(p->by_cid, old->intent.client_id, NULL);
    p->n_orders--;
    count_in_memory(p);
    if (old->refs > 0) {
        old->evicted = true; /* its last callback frees it */
        old->dnext = p->limbo;
        p->limbo = old;
    } else {
        order_free(old);
    }
}

int bn_order_enqueue(bn_order *o, const bn_call *c, bn_rest_cb cb)
{
    int rc = bn_rest_enqueue(o->p, c, cb, o);
    if (rc == QTR_OK) o->refs++;
    return rc;
}

bool bn_order_release(bn_order *o)
{
    o->refs--;
    if (!o->evicted || o->refs > 0) return false;
    bn_plugin *p = o->p;
    for (bn_order **q = &p->limbo; *q; q = &(*q)->dnext)
        if (*q == o) {
            *q = o->dnext;
            break;
        }
    order_free(o);
    return true;
}

/* ---------------------------------------------------------------- events */

/* What the host has been told: the executions published as fills. */
static qtr_dec total_filled(const bn_order *o) { return o->done_qty + o->tr_qty; }
static qtr_dec total_quote(const bn_order *o) { return o->done_quote + o->tr_quote; }

static qtr_order_status logical_status(const bn_order *o)
{
    if (o->phase == BN_PH_DONE) return o->pub_status;
    if (o->phase == BN_PH_UNKNOWN) return QTR_OS_UNKNOWN;
    if (total_filled(o) > 0) return QTR_OS_PARTIALLY_FILLED;
    return o->phase == BN_PH_OPEN ? QTR_OS_NEW : QTR_OS_PENDING;
}

static void publish_update_status(bn_order *o, qtr_order_status st, const char *reason, bool force)
{
    bn_plugin *p = o->p;
    qtr_dec filled = total_filled(o);
    if (!force && o->published && o->pub_status == st && o->pub_filled == filled) return;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = p->h->now_ms(p->ctx);
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, o->intent.symbol, sizeof u->symbol);
    u->time_ms = ev.time_ms;
    qtr_strlcpy(u->client_id, o->intent.client_id, sizeof u->client_id);
    qtr_strlcpy(u->exchange_id, o->exchange_id, sizeof u->exchange_id);
    u->side = o->intent.side;
    u->type = o->intent.type;
    u->status = st;
    u->qty = o->intent.qty;
    u->price = o->intent.type == QTR_ORDER_LIMIT ? o->intent.price : 0;
    u->filled_qty = filled;
    u->avg_price = bn_avg_price(total_quote(o), filled);
    u->reduce_only = o->intent.reduce_only;
    u->stop_price = o->intent.stop_price;
    u->activation_price = o->intent.activation_price;
    u->callback_bps = o->intent.callback_bps;
    u->working_type = o->intent.working_type;
    qtr_strlcpy(u->reason, reason ? reason : "", sizeof u->reason);
    o->published = true;
    o->pub_status = st;
    o->pub_filled = filled;
    p->h->publish(p->ctx, &ev);
}

static void publish_update(bn_order *o, const char *reason)
{
    publish_update_status(o, logical_status(o), reason, false);
}

static void reject_intent(bn_plugin *p, const qtr_order_intent *in, const char *reason)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = p->h->now_ms(p->ctx);
    qtr_order_update_for_intent(in, QTR_OS_REJECTED, reason, ev.time_ms, &ev.u.order_update);
    p->h->log(p->ctx, QTR_LOG_WARN, "order %s refused: %s", in->client_id, reason);
    p->h->publish(p->ctx, &ev);
}

/* ---------------------------------------------------------------- flow */

static void send_place(bn_order *o);
static void do_query(bn_order *o);
static void not_found(bn_order *o);
static void send_cancel(bn_order *o);

static void finalize(bn_order *o, qtr_order_status st, const char *reason)
{
    bn_plugin *p = o->p;
    if (o->phase == BN_PH_DONE) return;
    o->phase = BN_PH_DONE;
    if (o->retry_ev) event_del(o->retry_ev);
    if (o->trades_ev) event_del(o->trades_ev);
    active_remove(p, o);
    publish_update_status(o, st, reason, true);
    retire(p, o);
}

int64_t bn_backoff_at(const bn_plugin *p, int i)
{
    if (i < 0) i = 0;
    if (i >= p->cfg.n_backoff) i = p->cfg.n_backoff - 1;
    return p->cfg.backoff_ms[i];
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    do_query(arg);
}

static void query_later(bn_order *o, int64_t ms)
{
    if (!o->retry_ev) o->retry_ev = evtimer_new(o->p->base, on_retry, o);
    if (o->retry_ev) bn_timer_once(o->retry_ev, ms);
}

static void mark_unknown(bn_order *o, const char *why)
{
    char reason[QTR_REASON_MAX];
    o->phase = BN_PH_UNKNOWN;
    kx_fmt(reason, sizeof reason, "fate unknown (%s); querying %s", why, o->child_cid);
    publish_update(o, reason);
    query_later(o, bn_backoff_at(o->p, o->sends - 1)); /* 1 s, 2 s, 4 s ... by send */
}

/* The logical order's final status when its last child ended with st: an
 * order with fills never ends REJECTED or CANCELED-as-refused; with some
 * filled it is EXPIRED (after PARTIALLY_FILLED), with all filled FILLED. */
static qtr_order_status final_status(const bn_order *o, qtr_order_status st)
{
    if (total_filled(o) >= o->intent.qty) return QTR_OS_FILLED;
    if (st == QTR_OS_FILLED) return QTR_OS_EXPIRED;
    if (st == QTR_OS_REJECTED && total_filled(o) > 0) return QTR_OS_EXPIRED;
    return st;
}

/* The child reached a final state: follow up the remainder or finish. */
static void child_finished(bn_order *o)
{
    bn_plugin *p = o->p;
    o->done_qty += o->tr_qty;
    o->done_quote += o->tr_quote;
    o->ft.last_qty = o->ft.last_quote = 0;
    o->tr_qty = o->tr_quote = 0;
    o->n_pub = 0;
    o->trade_queries = 0;
    qtr_dec filled = o->done_qty, threshold = o->intent.qty;
    qtr_dec_mul(o->intent.qty, p->cfg.min_fill_ratio, QTR_ROUND_UP, &threshold);
    char reason[QTR_REASON_MAX];
    if (filled >= o->intent.qty) {
        finalize(o, QTR_OS_FILLED, "");
        return;
    }
    bool can_follow = !o->cancel_requested && !o->algo && o->child_status != QTR_OS_REJECTED &&
                      filled < threshold && o->followups < p->cfg.n_backoff;
    if (can_follow) {
        const kx_symbol_rules *rules = bn_rules_find(&p->info, o->intent.symbol);
        qtr_order_intent rest = o->intent;
        rest.qty = o->intent.qty - filled;
        kx_prepared prep;
        char why[QTR_REASON_MAX];
        if (rules && kx_rules_prepare(rules, &rest, bn_market_mark(p, rest.symbol), &prep, why, sizeof why) == 0) {
            o->followups++;
            o->child_no++;
            bn_followup_id(o->intent.client_id, o->child_no, o->child_cid);
            o->child_qty = prep.qty;
            o->child_status = QTR_OS_PENDING;
            o->exchange_id[0] = '\0';
            o->sends = o->queries = o->not_found = 0;
            o->last_send_ts = 0;
            o->child_reason[0] = '\0';
            o->cancel_sent = o->landed = false;
            o->phase = BN_PH_SENDING;
            kx_fmt(reason, sizeof reason, "follow-up %s for the remainder", o->child_cid);
            p->h->log(p->ctx, QTR_LOG_INFO, "order %s: %s", o->intent.client_id, reason);
            publish_update_status(o, filled > 0 ? QTR_OS_PARTIALLY_FILLED : QTR_OS_PENDING, reason, true);
            send_place(o);
            return;
        }
        kx_fmt(reason, sizeof reason, "remainder not followed up: %s", rules ? why : "no rules");
        finalize(o, final_status(o, o->child_status), reason);
        return;
    }
    const char *why = o->child_reason[0] ? o->child_reason : o->followups ? "follow-ups done" : "";
    finalize(o, final_status(o, o->child_status), why);
}

void bn_count_bad(bn_plugin *p, const char *endpoint, const char *cid, const char *err)
{
    bn_count_error(p, "malformed");
    p->h->log(p->ctx, QTR_LOG_ERROR, "%s: order %s: %s", endpoint, cid, err);
}

/* The child's executions are all published: tell its state. */
void bn_order_settle(bn_order *o)
{
    if (qtr_order_status_final(o->child_status)) {
        child_finished(o);
        return;
    }
    o->phase = BN_PH_OPEN;
    publish_update(o, "");
}

/* An algo order placed before a restart: what it is (trigger, trailing
 * rate, activation, working type) as the exchange holds it, so the host
 * sees the real exit. The store's copy stays if the answer lacks them. */
static void adopt_algo_details(bn_order *o, const bn_result *r, const char *endpoint)
{
    bn_algo_order d;
    char err[160];
    if (bn_algo_order_read(r->body, r->body_len, &d, err, sizeof err) != 0) {
        o->p->h->log(o->p->ctx, QTR_LOG_WARN, "%s: adopted %s: its details stay as stored: %s", endpoint, o->child_cid,
                     err);
        return;
    }
    qtr_order_intent *in = &o->intent;
    in->type = d.type;
    in->stop_price = d.type == QTR_ORDER_TRAILING_STOP_MARKET ? 0 : d.trigger;
    in->activation_price = d.activation;
    in->callback_bps = d.callback_bps;
    in->working_type = d.working_type;
    in->reduce_only = d.reduce_only;
}

/* Apply the exchange's view of the current child. */
static void apply_answer(bn_order *o, const bn_result *r, const char *endpoint)
{
    bn_plugin *p = o->p;
    char err[160] = "";
    if (o->phase == BN_PH_DONE) return;
    if (o->algo && !o->algo_triggered) {
        bn_algo_state a;
        if (bn_algo_state_read(r->body, r->body_len, &a, err, sizeof err) != 0 || strcmp(a.client_id, o->child_cid) != 0) {
            bn_count_bad(p, endpoint, o->child_cid, err[0] ? err : "clientAlgoId mismatch");
            mark_unknown(o, "unreadable answer");
            return;
        }
        qtr_strlcpy(o->exchange_id, a.algo_id, sizeof o->exchange_id);
        o->queries = 0;
        o->child_status = a.status;
        if (o->adopted && !o->published) adopt_algo_details(o, r, endpoint);
        if (qtr_order_status_final(a.status)) {
            child_finished(o);
            return;
        }
        if (a.triggered) {
            /* From now on follow the actual order it placed, by orderId. */
            o->algo_triggered = true;
            qtr_strlcpy(o->exchange_id, a.actual_order_id, sizeof o->exchange_id);
        }
        o->phase = BN_PH_OPEN;
        publish_update(o, a.triggered ? "triggered" : "");
        if (o->cancel_requested && !o->cancel_sent) send_cancel(o);
        return;
    }
    bn_order_state s;
    err[0] = '\0';
    if (bn_order_state_read(r->body, r->body_len, &s, err, sizeof err) != 0 ||
        (!o->algo_triggered && strcmp(s.client_id, o->child_cid) != 0)) {
        if (!err[0]) snprintf(err, sizeof err, "clientOrderId %s does not match", s.client_id);
        bn_count_bad(p, endpoint, o->child_cid, err);
        mark_unknown(o, "unreadable answer");
        return;
    }
    o->queries = 0;
    if (qtr_order_status_final(o->child_status)) return; /* a late answer */
    qtr_dec dq, px;
    bn_fill_result fr = bn_fill_step(&o->ft, s.executed_qty, s.cum_quote, &dq, &px, err, sizeof err);
    if (fr == BN_FILL_BAD) {
        bn_count_bad(p, endpoint, o->child_cid, err);
        return;
    }
    qtr_strlcpy(o->exchange_id, s.order_id, sizeof o->exchange_id);
    o->child_status = s.status;
    if (!qtr_order_status_final(s.status)) {
        o->phase = BN_PH_OPEN;
        if (o->cancel_requested && !o->cancel_sent) send_cancel(o);
    }
    if (o->tr_qty < o->ft.last_qty) {
        bn_trades_want(o); /* the new state is told once its fills are */
        return;
    }
    bn_order_settle(o);
}

static void on_place(bn_plugin *p, void *ud, const bn_result *r)
{
    (void)p;
    bn_order *o = ud;
    if (bn_order_release(o)) return;
    o->busy = false;
    if (r->sent_ts_ms) {
        o->last_send_ts = r->sent_ts_ms; /* its recvWindow counts from here */
        o->not_found = 0;
    }
    if (o->phase == BN_PH_DONE) return;
    const char *endpoint = o->algo ? "POST /fapi/v1/algoOrder" : "POST /fapi/v1/order";
    char reason[QTR_REASON_MAX];
    switch (r->kind) {
    case BN_RES_OK:
        apply_answer(o, r, endpoint);
        return;
    case BN_RES_API_ERROR:
        if (r->code == BN_ERR_DUPLICATE_CLIENT_ID) {
            /* An earlier send landed: learn its state, never send again. */
            o->landed = true;
            o->phase = BN_PH_UNKNOWN;
            publish_update(o, "duplicate clientOrderId (-4116): an earlier send landed; querying");
            query_later(o, 0);
            return;
        }
        if (bn_code_fate_unknown(r->code)) {
            kx_fmt(reason, sizeof reason, "code %d", r->code);
            mark_unknown(o, reason);
            return;
        }
        kx_fmt(reason, sizeof reason, "exchange refused: %d %s", r->code, r->msg);
        o->child_status = QTR_OS_REJECTED;
        if (o->child_no > 0) {
            kx_fmt(o->child_reason, sizeof o->child_reason, "follow-up %s refused: %d %s", o->child_cid, r->code,
                   r->msg);
            child_finished(o);
        } else {
            finalize(o, QTR_OS_REJECTED, reason);
        }
        return;
    case BN_RES_UNKNOWN:
        mark_unknown(o, r->msg);
        return;
    case BN_RES_REFUSED:
        kx_fmt(reason, sizeof reason, "not sent: %s", r->msg);
        o->child_status = QTR_OS_REJECTED;
        finalize(o, final_status(o, QTR_OS_REJECTED), reason);
        return;
    }
}

static void send_place(bn_order *o)
{
    bn_plugin *p = o->p;
    const qtr_order_intent *in = &o->intent;
    static const char *const tif[] = { "GTC", "IOC", "FOK", "GTX" };
    kx_buf q;
    kx_buf_init(&q);
    if (o->algo) kx_query_add(&q, "algoType", "CONDITIONAL");
    kx_query_add(&q, "symbol", in->symbol);
    kx_query_add(&q, "side", qtr_side_name(in->side));
    kx_query_add(&q, "type", qtr_order_type_name(in->type));
    if (in->type == QTR_ORDER_LIMIT) {
        kx_query_add(&q, "timeInForce", tif[(unsigned)in->tif < 4 ? in->tif : 0]);
        kx_query_add_dec(&q, "price", in->price);
    }
    kx_query_add_dec(&q, "quantity", o->child_qty);
    if (o->algo) bn_algo_params(&q, in); /* trigger or trailing, workingType, reduceOnly */
    else if (in->reduce_only) kx_query_add(&q, "reduceOnly", "true");
    kx_query_add(&q, o->algo ? "clientAlgoId" : "newClientOrderId", o->child_cid);
    if (!o->algo) kx_query_add(&q, "newOrderRespType", "RESULT");
    /* The ESS's reduce-only flatten goes before everything else. */
    bool ess = in->reduce_only && !strcmp(in->strategy, "ess");
    bn_call c = {
        .lane = ess ? BN_LANE_ESS : BN_LANE_ORDER,
        .method = "POST",
        .path = o->algo ? "/fapi/v1/algoOrder" : "/fapi/v1/order",
        .params = kx_buf_str(&q),
        .is_signed = true,
        .weight = 0,
        .orders = 1,
        .non_idempotent = true,
    };
    int rc = q.oom ? QTR_EREFUSED : bn_order_enqueue(o, &c, on_place);
    kx_buf_free(&q);
    if (rc != QTR_OK) {
        o->child_status = QTR_OS_REJECTED;
        finalize(o, final_status(o, QTR_OS_REJECTED),
                 p->banned ? "not sent: the exchange banned this IP (HTTP 418)" : "not sent: request refused");
        return;
    }
    o->busy = true;
    if (o->sends == 0) o->child_sent_ms = bn_server_now_ms(p); /* its executions come after this */
    o->sends++;
    if (p->metrics.orders_sent) p->h->metric_add(p->metrics.orders_sent, 1);
}

/* ------------------------------------------------ -2013: never resend blind */

static const char *all_orders_path(const bn_order *o);

/* No trace of the child anywhere once its recvWindow has passed: send it
 * again (counted and alerted every time), or give up past the budget. */
static void resend_lost(bn_order *o)
{
    bn_plugin *p = o->p;
    char text[QTR_REASON_MAX * 2];
    if (o->cancel_requested) {
        o->child_status = QTR_OS_CANCELED;
        if (o->child_no > 0) child_finished(o);
        else finalize(o, QTR_OS_CANCELED, "cancelled before it reached the exchange");
        return;
    }
    if (o->adopted && o->child_no == 0) {
        /* Placed before a restart and nowhere on the exchange: it never
         * landed. Sending it now would act on a decision made before the
         * restart, so it ends here. */
        char reason[QTR_REASON_MAX];
        kx_fmt(reason, sizeof reason, "adopted at start, no trace on the exchange (-2013, %s): not sent again",
               all_orders_path(o));
        p->h->log(p->ctx, QTR_LOG_WARN, "order %s: %s", o->child_cid, reason);
        o->child_status = QTR_OS_EXPIRED;
        finalize(o, QTR_OS_EXPIRED, reason);
        return;
    }
    if (o->sends > p->cfg.n_backoff) {
        char reason[QTR_REASON_MAX];
        kx_fmt(reason, sizeof reason, "not accepted by the exchange after %d sends", o->sends);
        o->child_status = QTR_OS_REJECTED;
        if (o->child_no > 0) child_finished(o);
        else finalize(o, QTR_OS_REJECTED, reason);
        return;
    }
    kx_fmt(text, sizeof text,
           "order %s: %s not found (-2013 x%d) nor in allOrders after its recvWindow; sending it again (send %d)",
           o->intent.client_id, o->child_cid, o->not_found, o->sends + 1);
    p->h->log(p->ctx, QTR_LOG_WARN, "%s", text);
    if (p->metrics.resends) p->h->metric_add(p->metrics.resends, 1);
    bn_alert(p, QTR_ALERT_WARNING, "exchange_order_resent", text);
    o->phase = BN_PH_SENDING;
    send_place(o);
}

#define ALL_ORDERS_PAGE 1000 /* the endpoint's largest limit */

/* Where the child's client id is listed: conditional orders have their own list. */
static const char *all_orders_path(const bn_order *o)
{
    return o->algo ? "/fapi/v1/allAlgoOrders" : "/fapi/v1/allOrders";
}

static void search_all_orders(bn_order *o);

typedef struct search_page {
    const bn_order *o;
    int64_t last_time;  /* the newest row's time */
    bn_jval found;      /* the child's row, type BN_JNONE if absent */
} search_page;

/* One row of allOrders (allAlgoOrders): its time, and whether it is the child. */
static int search_row(void *ud, size_t i, const bn_jval *row)
{
    (void)i;
    search_page *sp = ud;
    char id[QTR_CLIENT_ID_MAX];
    int64_t t;
    bn_jfield f[] = { { sp->o->algo ? "createTime" : "time", sp->o->algo ? 10 : 4, { NULL, 0, BN_JNONE, 0 } },
                      { sp->o->algo ? "clientAlgoId" : "clientOrderId", sp->o->algo ? 12 : 13,
                        { NULL, 0, BN_JNONE, 0 } } };
    if (bn_jread_object(row->p, row->n, f, 2, NULL, 0) != 0) return 0;
    if (bn_jget_int(&f[0].val, "time", &t, NULL, 0) && t > sp->last_time) sp->last_time = t;
    if (!bn_jget_str(&f[1].val, "clientOrderId", id, sizeof id, NULL, 0) || strcmp(id, sp->o->child_cid) != 0)
        return 0;
    sp->found = *row;
    return 1;
}

static void on_search(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_order *o = ud;
    if (bn_order_release(o)) return;
    o->searching = false;
    o->busy = false;
    if (o->phase != BN_PH_UNKNOWN) return;
    long rows = r->kind == BN_RES_OK ? bn_jread_elems(r->body, r->body_len, NULL, 0, NULL, 0) : -1;
    if (rows < 0) {
        if (r->kind == BN_RES_OK) bn_count_bad(p, all_orders_path(o), o->child_cid, "answer is not an array");
        query_later(o, bn_backoff_at(p, o->not_found - 1)); /* no answer is no proof: ask again */
        return;
    }
    search_page sp = { .o = o };
    if (bn_jread_each(r->body, r->body_len, search_row, &sp, NULL, 0) == 1) {
        /* It is there: adopt its state through the order reader, never resend. */
        p->h->log(p->ctx, QTR_LOG_WARN, "order %s: %s answered -2013 %d times but is in %s; not sent again",
                  o->intent.client_id, o->child_cid, o->not_found, all_orders_path(o));
        bn_result found = { .kind = BN_RES_OK, .body = sp.found.p, .body_len = sp.found.n };
        apply_answer(o, &found, all_orders_path(o));
        return;
    }
    int64_t last_time = sp.last_time;
    if (rows >= ALL_ORDERS_PAGE) {
        /* A full page: the order may be on the next one (from the last row's
         * time, inclusive). A page that cannot move on proves nothing. */
        if (last_time > o->search_from) {
            o->search_from = last_time;
            search_all_orders(o);
        } else {
            p->h->log(p->ctx, QTR_LOG_ERROR, "order %s: %s holds over %d orders at one time; asking again",
                      o->child_cid, all_orders_path(o), ALL_ORDERS_PAGE);
            query_later(o, bn_backoff_at(p, o->not_found - 1));
        }
        return;
    }
    resend_lost(o);
}

static void search_all_orders(bn_order *o)
{
    bn_plugin *p = o->p;
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", o->intent.symbol);
    kx_query_add_int(&q, "startTime", o->search_from);
    kx_query_add_int(&q, "limit", ALL_ORDERS_PAGE);
    bn_call c = { .method = "GET", .path = all_orders_path(o), .params = kx_buf_str(&q), .is_signed = true,
                  .weight = 5 };
    if (!q.oom && bn_order_enqueue(o, &c, on_search) == QTR_OK) {
        o->searching = o->busy = true;
    } else {
        query_later(o, bn_backoff_at(p, o->not_found - 1));
    }
    kx_buf_free(&q);
}

/* The exchange does not have the child (yet). While the last send's
 * recvWindow is open (plus the first delay for the engine's lag) it may
 * still appear: ask again later. Then search allOrders (allAlgoOrders for a
 * conditional order) before any resend. */
static void not_found(bn_order *o)
{
    bn_plugin *p = o->p;
    o->not_found++;
    int64_t now = bn_server_now_ms(p);
    int64_t window_end = o->last_send_ts + p->cfg.recv_window_ms + bn_backoff_at(p, 0);
    if (o->last_send_ts > 0 && now <= window_end) {
        int64_t d = bn_backoff_at(p, o->not_found - 1);
        if (now + d > window_end) d = window_end - now + 1;
        p->h->log(p->ctx, QTR_LOG_INFO, "order %s: not found yet (-2013); asking again in %lld ms",
                  o->child_cid, (long long)d);
        query_later(o, d);
        return;
    }
    o->search_from = o->child_sent_ms - 5000; /* a margin for clock error */
    search_all_orders(o);
}

static void on_query(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_order *o = ud;
    if (bn_order_release(o)) return;
    o->busy = false;
    if (o->phase == BN_PH_DONE) return;
    const char *endpoint = o->algo && !o->algo_triggered ? "GET /fapi/v1/algoOrder" : "GET /fapi/v1/order";
    if (r->kind == BN_RES_OK) {
        apply_answer(o, r, endpoint);
        return;
    }
    if (r->kind == BN_RES_API_ERROR && r->code == BN_ERR_NO_SUCH_ORDER) {
        if (o->phase == BN_PH_OPEN || o->landed) {
            /* We saw it (or were told it exists): a vanished order is an error, not a resend. */
            bn_count_error(p, "order_not_found");
            p->h->log(p->ctx, QTR_LOG_ERROR, "%s: order %s known to exist answers -2013", endpoint, o->child_cid);
        } else {
            not_found(o);
            return;
        }
    }
    /* The query itself failed: try again later, never guess. */
    int64_t ban = bn_ban_left_ms(p);
    if (ban != 0) {
        if (ban > 0 && o->phase != BN_PH_OPEN) query_later(o, ban); /* the budget waits for the ban */
        return;
    }
    o->queries++;
    if (o->phase == BN_PH_OPEN) return; /* the poller asks again */
    if (o->queries <= p->cfg.n_backoff) query_later(o, bn_backoff_at(p, o->queries - 1));
    else
        p->h->log(p->ctx, QTR_LOG_ERROR, "order %s: still unknown after %d queries; the poller keeps asking",
                  o->child_cid, o->queries);
}

/* The child as the exchange knows it, into q; the path to ask or cancel it
 * at: on the algo service by clientAlgoId until it triggers, then the order
 * it placed by orderId; a plain order by its client id. */
static const char *child_ref(const bn_order *o, kx_buf *q)
{
    kx_query_add(q, "symbol", o->intent.symbol);
    if (o->algo && !o->algo_triggered) {
        kx_query_add(q, "clientAlgoId", o->child_cid);
        return "/fapi/v1/algoOrder";
    }
    if (o->algo_triggered) kx_query_add(q, "orderId", o->exchange_id);
    else kx_query_add(q, "origClientOrderId", o->child_cid);
    return "/fapi/v1/order";
}

static void do_query(bn_order *o)
{
    if (o->busy || o->phase == BN_PH_DONE) return;
    kx_buf q;
    kx_buf_init(&q);
    const char *path = child_ref(o, &q);
    bn_call c = {
        .method = "GET",
        .path = path,
        .params = kx_buf_str(&q),
        .is_signed = true,
        .weight = 1,
        .expected_code = BN_ERR_NO_SUCH_ORDER,
    };
    if (!q.oom && bn_order_enqueue(o, &c, on_query) == QTR_OK) o->busy = true;
    kx_buf_free(&q);
}

void bn_orders_query(bn_order *o) { do_query(o); }

void bn_orders_query_all(bn_plugin *p)
{
    for (bn_order *o = p->active; o; o = o->anext)
        if (o->phase == BN_PH_OPEN || o->phase == BN_PH_UNKNOWN) do_query(o);
}

static void on_cancel(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_order *o = ud;
    if (bn_order_release(o)) return;
    if (o->phase == BN_PH_DONE) return;
    if (r->kind == BN_RES_OK) {
        /* DELETE /fapi/v1/algoOrder answers {algoId, clientAlgoId, code "200",
         * msg}, not the order: its state is asked for (the poller asks again
         * if a query is already out). */
        if (o->algo && !o->algo_triggered) {
            if (!o->busy) do_query(o);
            return;
        }
        apply_answer(o, r, "DELETE /fapi/v1/order");
        return;
    }
    o->cancel_sent = false; /* the next state we read sends it again if still open */
    p->h->log(p->ctx, QTR_LOG_WARN, "cancel of %s: %s (code %d); querying", o->child_cid, r->msg, r->code);
    if (!o->busy) query_later(o, r->kind == BN_RES_API_ERROR ? 0 : bn_backoff_at(p, 0));
}

static void send_cancel(bn_order *o)
{
    kx_buf q;
    kx_buf_init(&q);
    const char *path = child_ref(o, &q);
    bn_call c = {
        .method = "DELETE",
        .path = path,
        .params = kx_buf_str(&q),
        .is_signed = true,
        .weight = 1,
    };
    if (!q.oom && bn_order_enqueue(o, &c, on_cancel) == QTR_OK) o->cancel_sent = true;
    kx_buf_free(&q);
}

/* ---------------------------------------------------------------- API */

int bn_orders_submit(bn_plugin *p, const qtr_order_intent *in)
{
    char reason[QTR_REASON_MAX];
    if (!bn_client_id_valid(in->client_id)) {
        reject_intent(p, in, "client_id must match ^[.A-Z:/a-z0-9_-]{1,36}$");
        return QTR_EINVAL;
    }
    if (bn_orders_find(p, in->client_id)) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "order %s: client_id already used; not sent", in->client_id);
        return QTR_EINVAL;
    }
    if (p->banned && bn_mono_us(p) < p->banned_until_us) {
        reject_intent(p, in, "not sent: the exchange banned this IP (HTTP 418)");
        return QTR_EREFUSED;
    }
    if (!p->info_loaded) {
        reject_intent(p, in, "not sent: exchange rules (exchangeInfo) not loaded yet");
        return QTR_EREFUSED;
    }
    const kx_symbol_rules *rules = bn_rules_find(&p->info, in->symbol);
    if (!rules) {
        kx_fmt(reason, sizeof reason, "unknown symbol %s", in->symbol);
        reject_intent(p, in, reason);
        return QTR_EINVAL;
    }
    if (in->side != QTR_SIDE_BUY && in->side != QTR_SIDE_SELL) {
        reject_intent(p, in, "side must be BUY or SELL");
        return QTR_EINVAL;
    }
    if (in->type < QTR_ORDER_MARKET || in->type > QTR_ORDER_TRAILING_STOP_MARKET) {
        reject_intent(p, in, "unknown order type");
        return QTR_EINVAL;
    }
    kx_prepared prep;
    qtr_dec activation = 0;
    int prc = bn_algo_type(in->type)
                  ? bn_algo_prepare(rules, in, bn_market_mark(p, in->symbol), &prep, &activation, reason, sizeof reason)
                  : kx_rules_prepare(rules, in, bn_market_mark(p, in->symbol), &prep, reason, sizeof reason);
    if (prc != 0) {
        reject_intent(p, in, reason);
        return QTR_EREFUSED;
    }
    if (!open_room(p)) {
        kx_fmt(reason, sizeof reason, "not sent: %lld orders already open in this plugin (max_open_orders)",
               (long long)p->cfg.max_open);
        reject_intent(p, in, reason);
        return QTR_EREFUSED;
    }
    bn_order *o = calloc(1, sizeof *o);
    if (!o) {
        reject_intent(p, in, "out of memory");
        return QTR_EREFUSED;
    }
    o->p = p;
    o->intent = *in;
    o->intent.qty = prep.qty;
    o->intent.price = prep.price;
    o->intent.stop_price = prep.stop_price;
    o->intent.activation_price = activation;
    o->algo = bn_algo_type(in->type);
    qtr_strlcpy(o->child_cid, in->client_id, sizeof o->child_cid);
    o->child_qty = prep.qty;
    o->child_status = QTR_OS_PENDING;
    o->phase = BN_PH_SENDING;
    if (table_add(p, o) != 0) {
        order_free(o);
        reject_intent(p, in, "out of memory for the order table");
        return QTR_EREFUSED;
    }
    publish_update(o, "");
    send_place(o);
    return QTR_OK;
}

/* The trade id of one of our fill ids ("<symbol>:<id>:<B|S>"), 0 if it is not one. */
static int64_t fill_trade_id(const char *symbol, const qtr_fill *f)
{
    char expect[QTR_CLIENT_ID_MAX];
    const char *tail = strrchr(f->fill_id, ':');
    if (!tail || tail == f->fill_id) return 0;
    const char *mid = tail - 1;
    while (mid > f->fill_id && *mid != ':') mid--;
    if (*mid != ':') return 0;
    char *end;
    long long id = strtoll(mid + 1, &end, 10);
    if (end != tail || id <= 0) return 0;
    bn_trade_fill_id(symbol, id, f->side, expect); /* the whole id, as we write it */
    return strcmp(expect, f->fill_id) == 0 ? (int64_t)id : 0;
}

int bn_orders_adopt(bn_plugin *p, const qtr_order_update *known, const qtr_fill *fills, size_t n_fills)
{
    if (!known || (n_fills && !fills) || !bn_client_id_valid(known->client_id)) return QTR_EINVAL;
    if (qtr_order_status_final(known->status)) return QTR_EINVAL;
    if (bn_orders_find(p, known->client_id)) return QTR_OK; /* already followed */
    if (!open_room(p)) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "order %s: not adopted: %lld orders already open in this plugin (max_open_orders)",
                  known->client_id, (long long)p->cfg.max_open);
        return QTR_EREFUSED;
    }
    bn_order *o = calloc(1, sizeof *o);
    if (!o) return QTR_EREFUSED;
    o->p = p;
    o->adopted = true;
    qtr_order_intent *in = &o->intent;
    qtr_strlcpy(in->symbol, known->symbol, sizeof in->symbol);
    qtr_strlcpy(in->client_id, known->client_id, sizeof in->client_id);
    qtr_strlcpy(in->strategy, "adopted", sizeof in->strategy);
    in->side = known->side;
    in->type = known->type;
    in->qty = known->qty;
    in->price = known->price;
    in->reduce_only = known->reduce_only;
    in->stop_price = known->stop_price;
    in->activation_price = known->activation_price;
    in->callback_bps = known->callback_bps;
    in->working_type = known->working_type;
    o->algo = bn_algo_type(in->type);
    qtr_strlcpy(o->child_cid, known->client_id, sizeof o->child_cid);
    qtr_strlcpy(o->exchange_id, known->exchange_id, sizeof o->exchange_id);
    o->child_qty = known->qty;
    o->child_status = QTR_OS_UNKNOWN;
    /* Executions already recorded are not published again; the rest are
     * read from userTrades once the order's state shows them. */
    int64_t earliest = known->time_ms;
    for (size_t i = 0; i < n_fills; i++) {
        if (strcmp(fills[i].client_id, known->client_id) != 0) continue;
        int64_t id = fill_trade_id(known->symbol, &fills[i]);
        if (!id) continue;
        if (o->n_pub == o->cap_pub) {
            size_t cap = o->cap_pub ? o->cap_pub * 2 : 8;
            int64_t *ids = realloc(o->pub_ids, cap * sizeof *ids);
            if (!ids) {
                order_free(o);
                return QTR_EREFUSED;
            }
            o->pub_ids = ids;
            o->cap_pub = cap;
        }
        o->pub_ids[o->n_pub++] = id;
        qtr_dec quote = 0;
        qtr_dec_mul(fills[i].qty, fills[i].price, QTR_ROUND_HALF_EVEN, &quote);
        o->tr_qty += fills[i].qty;
        o->tr_quote += quote;
        if (fills[i].time_ms && fills[i].time_ms < earliest) earliest = fills[i].time_ms;
    }
    o->child_sent_ms = earliest > 0 ? earliest : bn_server_now_ms(p);
    /* Sent before the restart: its recvWindow is long past, so a -2013 goes
     * straight to the allOrders search (from its send, with a margin). */
    o->last_send_ts = 0;
    o->sends = 1;
    o->published = false; /* the host hears its state as soon as it is known */
    o->phase = BN_PH_UNKNOWN;
    if (table_add(p, o) != 0) {
        order_free(o);
        p->h->log(p->ctx, QTR_LOG_ERROR, "order %s: not adopted: out of memory for the order table", known->client_id);
        return QTR_EREFUSED;
    }
    p->h->log(p->ctx, QTR_LOG_INFO, "order %s: adopted at start (%s, %zu executions known); querying",
              known->client_id, qtr_order_status_name(known->status), o->n_pub);
    do_query(o);
    return QTR_OK;
}

int bn_orders_cancel(bn_plugin *p, const char *symbol, const char *client_id)
{
    bn_order *o = (bn_order *)bn_orders_find(p, client_id);
    if (!o || (symbol && strcmp(symbol, o->intent.symbol) != 0)) return QTR_ENOTFOUND;
    if (o->phase == BN_PH_DONE) return QTR_EREFUSED;
    o->cancel_requested = true;
    if (o->phase == BN_PH_OPEN && !o->cancel_sent) send_cancel(o);
    return QTR_OK;
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_plugin *p = arg;
    bool streaming = bn_user_stream_live(p) && !bn_user_stream_check_due(p);
    for (bn_order *o = p->active; o; o = o->anext) {
        bool trades_due = o->tr_qty < o->ft.last_qty && !o->trades_busy &&
                          !(o->trades_ev && evtimer_pending(o->trades_ev, NULL));
        if (trades_due) bn_trades_want(o);
        if (o->busy) continue;
        /* the user stream brings fills and states of open orders; they are
         * still checked every stream_poll_ms, in case an event never came */
        if (o->phase == BN_PH_OPEN && !o->algo && streaming) continue;
        bool waiting = o->retry_ev && evtimer_pending(o->retry_ev, NULL);
        if (o->phase == BN_PH_OPEN || (o->phase == BN_PH_UNKNOWN && !waiting)) do_query(o);
    }
}

void bn_orders_start(bn_plugin *p)
{
    p->metrics.orders_sent = p->h->metric_counter(p->ctx, "exchange_orders_sent_total",
                                                  "Order sends to the exchange (first sends and resends)", NULL, NULL);
    p->metrics.fees_unconverted = p->h->metric_counter(
        p->ctx, "exchange_fees_unconverted_total",
        "Executions whose commission was in another asset than the quote (left out of fees)", NULL, NULL);
    p->metrics.resends = p->h->metric_counter(
        p->ctx, "exchange_order_resends_total",
        "Orders sent again after -2013 with no trace of them once their recvWindow passed", NULL, NULL);
    p->metrics.orders_in_memory = p->h->metric_gauge(p->ctx, "exchange_orders_in_memory",
                                                     "Orders held in memory (open and recently finished)", NULL, NULL);
    if (p->cfg.poll_interval_ms > 0 && !p->poll_ev) {
        p->poll_ev = event_new(p->base, -1, EV_PERSIST, on_poll, p);
        struct timeval tv = { (time_t)(p->cfg.poll_interval_ms / 1000),
                              (suseconds_t)((p->cfg.poll_interval_ms % 1000) * 1000) };
        if (p->poll_ev) event_add(p->poll_ev, &tv);
    }
}

void bn_orders_free(bn_plugin *p)
{
    bn_cancel_all_free(p);
    if (p->poll_ev) event_free(p->poll_ev);
    p->poll_ev = NULL;
    if (p->by_cid) {
        size_t cursor = 0;
        int64_t v;
        while (qc_strmap_next(p->by_cid, &cursor, NULL, &v)) order_free((bn_order *)(intptr_t)v);
        qc_strmap_free(p->by_cid);
        p->by_cid = NULL;
    }
    while (p->limbo) {
        bn_order *o = p->limbo;
        p->limbo = o->dnext;
        order_free(o);
    }
    p->active = NULL;
    p->done_head = p->done_tail = NULL;
    p->n_done = p->n_orders = 0;
    bn_trades_free(p);
}
