/* pipeline.c — the order path: signals, orders, the ESS and risk gates,
 * exchange answers, fills into the portfolio. See engine.h. */
#include "engine/engine_internal.h"

#include <event2/event.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus/log_sample.h"
#include "core/log.h"
#include "exits/exit_order_check.h"
#include "qc/field_copy.h"

#define LOGC "orders"

/* ---- helpers ---- */

void qh_publish_alert(qh_engine *e, qtr_alert_severity sev, const char *source, const char *kind, const char *fmt, ...)
{
    qtr_alert a;
    memset(&a, 0, sizeof a);
    a.time_ms = qh_clock_now_ms(e->clock);
    a.severity = sev;
    qtr_strlcpy(a.source, source, sizeof a.source);
    qtr_strlcpy(a.kind, kind, sizeof a.kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a.text, sizeof a.text, fmt, ap);
    va_end(ap);
    QH_PUBLISH(e, QTR_EV_ALERT, 0, a.time_ms, alert, a);
}

/* "<prefix>-<run>-<tag><n>", cut to the field as snprintf would: written
 * by hand, as it is on every order (snprintf cost ~900 instructions). */
static void format_client_id(const qh_engine *e, const char *tag, uint64_t n, char out[QTR_CLIENT_ID_MAX])
{
    char buf[QTR_CLIENT_ID_MAX + 64], digits[24];
    size_t k = 0, d = 0;
    for (const char *p = e->cfg->client_id_prefix; *p && k < QTR_CLIENT_ID_MAX; p++) buf[k++] = *p;
    buf[k++] = '-';
    for (const char *p = e->run_id; *p && k < QTR_CLIENT_ID_MAX + 16; p++) buf[k++] = *p;
    buf[k++] = '-';
    for (const char *p = tag; *p && k < QTR_CLIENT_ID_MAX + 32; p++) buf[k++] = *p;
    do digits[d++] = (char)('0' + n % 10); while ((n /= 10) && d < sizeof digits);
    while (d) buf[k++] = digits[--d];
    size_t len = k < QTR_CLIENT_ID_MAX - 1 ? k : QTR_CLIENT_ID_MAX - 1;   /* qtr_strlcpy's cut */
    memcpy(out, buf, len);
    out[len] = '\0';
}

static void next_client_id(qh_engine *e, char out[QTR_CLIENT_ID_MAX])
{
    format_client_id(e, "", ++e->order_seq, out);
}

static bool valid_symbol(const char *s)
{
    size_t n = strnlen(s, QTR_SYMBOL_MAX);
    if (n < 2 || n >= QTR_SYMBOL_MAX) return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return false;
    return true;
}

/* Publish the refusal of an order that never reached the exchange. */
static void reject_local(qh_engine *e, const qtr_order_intent *o, const char *reason, qh_metric *counter)
{
    qh_metric_add(counter, 1);
    int64_t now = qh_clock_now_ms(e->clock);
    qtr_order_update u;
    qtr_order_update_for_intent(o, QTR_OS_REJECTED, reason, now, &u);
    qh_info(LOGC, "order %s %s %s refused: %s", o->client_id[0] ? o->client_id : "(no id)", qtr_side_name(o->side),
            o->symbol, reason);
    QH_PUBLISH(e, QTR_EV_ORDER_UPDATE, 0, now, order_update, u);
}

/* Hand an order that passed every gate to the exchange. The ORDER_INTENT
 * (stored as the order's PENDING record) says the order goes to the
 * exchange: it is published only once nothing on the host can refuse it. */
static int send_to_exchange(qh_engine *e, const qtr_order_intent *o)
{
    /* tracked before the intent is published: a subscriber of the intent
     * may send orders of its own, and the slot taken here is this one's */
    qtr_order_update pending;
    qtr_order_update_for_intent(o, QTR_OS_PENDING, "", o->time_ms, &pending);
    qh_order_put put = qh_order_table_put(e->open_orders, &pending);
    if (put != QH_ORDER_ADDED) {
        bool full = put == QH_ORDER_FULL;
        qh_error(LOGC, "order %s on %s refused: %s", o->client_id, o->symbol,
                 full ? "the open-order table is full (the most the host tracks)" : "its client id is already open");
        reject_local(e, o, full ? "too_many_open_orders" : "invalid: client id already in use",
                     e->m.orders_rejected_invalid);
        return full ? QTR_EFULL : QTR_EINVAL;
    }
    QH_PUBLISH(e, QTR_EV_ORDER_INTENT, 0, o->time_ms, order_intent, *o);
    int rc = e->exchange->ld.exchange.submit_order(e->exchange->state, o);
    if (rc != QTR_OK) {
        qtr_order_update *still = qh_order_table_find(e->open_orders, o->client_id);
        if (still && still->status == QTR_OS_PENDING) qh_order_table_remove(e->open_orders, o->client_id);
        qh_metric_add(e->m.exchange_errors, 1);
        qh_ess_on_exchange_result(e->ess, true, qh_clock_now_ms(e->clock));
        char why[64];
        snprintf(why, sizeof why, "exchange_refused (%d)", rc);
        reject_local(e, o, why, e->m.orders_rejected_exchange);
        return QTR_EIO;
    }
    qh_metric_add(e->m.orders_sent, 1);
    return QTR_OK;
}

/* ---- the check step: the policy, always; then the risk plugins ---- */

static bool has_position(void *ud, const char *symbol)
{
    qh_engine *e = ud;
    qtr_position p;
    return qh_portfolio_get_position(e->pf, symbol, &p) == 0 && p.qty != 0;
}

static void verdict_set(qh_policy_verdict *v, qtr_risk_verdict verdict, qtr_dec qty, const char *reason)
{
    v->verdict = verdict;
    v->qty = qty;
    qtr_strlcpy(v->reason, reason, sizeof v->reason);
    v->detail[0] = '\0';
}

/* The host's policy on one order: reduce-only closes pass (closing must
 * never depend on a policy being loaded or agreeing); every other order
 * gets the limits and judge(). */
static void policy_step(qh_engine *e, const qtr_order_intent *o, qh_policy_verdict *v)
{
    qtr_position pos;
    bool have_pos = qh_portfolio_get_position(e->pf, o->symbol, &pos) == 0;
    if (qh_policy_is_closing(o, have_pos ? pos.qty : 0)) {
        verdict_set(v, QTR_RISK_APPROVE, o->qty, "reduce_only");
        return;
    }
    qtr_account acct;
    qh_portfolio_account(e->pf, o->time_ms, &acct);
    const qh_market_sym *m = qh_market_get(e, o->symbol, false);
    qh_policy_view view = {
        .account = &acct,
        .position = have_pos ? &pos : NULL,
        .mark = m && m->has_mark ? &m->mark : NULL,
        .candle = m && m->has_candle ? &m->candle : NULL,
        .book = m && m->has_book ? &m->book : NULL,
        .open_orders = qh_order_table_items(e->open_orders),
        .n_open = qh_order_table_count(e->open_orders),
        .has_position = has_position,
        .ud = e,
    };
    qh_policy_inputs in;
    const char *missing = qh_policy_build_inputs(&view, o, &in, v->detail, sizeof v->detail);
    if (missing) {
        char detail[QTR_TEXT_MAX];
        qtr_strlcpy(detail, v->detail, sizeof detail);
        verdict_set(v, QTR_RISK_REJECT, 0, missing);
        qtr_strlcpy(v->detail, detail, sizeof v->detail);
        return;
    }
    qh_policy_enforce(e->policy, o, &in, v);
}

/* A risk plugin's reply that would loosen the policy's verdict (approve
 * more than it approved, or answer nothing valid) is refused and counted:
 * qtr_risk_plugin_replies_refused_total{plugin="<name>"}. */
static void plugin_reply_refused(qh_engine *e, const qh_plugin_rt *p, const qtr_order_intent *o, const char *why)
{
    qh_metric *m = qh_metrics_counter(e->metrics, "risk_plugin_replies_refused_total",
                                      "Risk plugin replies refused: they would have loosened the policy's verdict",
                                      "plugin", p->ctx.name);
    qh_metric_add(m, 1);
    qh_warn(LOGC, "order %s: risk plugin %s %s; the order is refused", o->client_id, p->ctx.name, why);
}

/* One risk plugin on an order the policy approved at v->qty: it may
 * approve, shrink or refuse, nothing else. */
static bool plugin_step(qh_engine *e, qh_plugin_rt *p, const qtr_order_intent *o, qh_policy_verdict *v)
{
    qtr_order_intent sized = *o;
    sized.qty = v->qty;
    qtr_risk_decision d;
    memset(&d, 0, sizeof d);
    p->ld.risk.check_order(p->state, &sized, &d);
    d.reason[sizeof d.reason - 1] = '\0';
    char why[QTR_REASON_MAX + 8];
    switch (d.verdict) {
    case QTR_RISK_APPROVE:
        return true;
    case QTR_RISK_RESIZE:
        if (d.qty > 0 && d.qty <= v->qty) {
            if (d.qty < v->qty) {
                snprintf(v->detail, sizeof v->detail, "by risk plugin %s to qty below the policy's", p->ctx.name);
                verdict_set(v, QTR_RISK_RESIZE, d.qty, d.reason[0] ? d.reason : "risk_plugin_resize");
            }
            return true;
        }
        plugin_reply_refused(e, p, &sized, d.qty > v->qty ? "tried to grow the order" : "resized to nothing");
        verdict_set(v, QTR_RISK_REJECT, 0, "invalid resize");
        return false;
    case QTR_RISK_REJECT:
        snprintf(why, sizeof why, "%s", d.reason[0] ? d.reason : "rejected");
        verdict_set(v, QTR_RISK_REJECT, 0, why);
        return false;
    }
    plugin_reply_refused(e, p, &sized, "gave no verdict");
    verdict_set(v, QTR_RISK_REJECT, 0, "no verdict");
    return false;
}

/* 0 with *v APPROVE or RESIZE (v->qty to send); -1 with *v REJECT. */
static int check(qh_engine *e, const qtr_order_intent *o, qh_policy_verdict *v)
{
    policy_step(e, o, v);
    if (v->verdict == QTR_RISK_REJECT) {
        qh_info(LOGC, "order %s %s %s refused by the policy: %s (%s)", o->client_id, qtr_side_name(o->side),
                o->symbol, v->reason, v->detail);
        return -1;
    }
    /* A plugin may trip the ESS through the host while it judges: an entry
     * judged across a trip is not sent (the trip cancelled everything else). */
    uint32_t trips = qh_ess_trip_count(e->ess);
    for (size_t i = 0; i < e->n_plugins; i++) {
        qh_plugin_rt *p = &e->plugins[i];
        if (p->ld.desc.kind != QTR_KIND_RISK || !p->inited || !p->ld.risk.check_order) continue;
        if (!plugin_step(e, p, o, v)) return -1;
    }
    if (!o->reduce_only && qh_ess_trip_count(e->ess) != trips) {
        verdict_set(v, QTR_RISK_REJECT, 0, "ess_tripped_during_check");
        return -1;
    }
    return 0;
}

/* Why the order path refuses an order as invalid, whatever the ESS, the
 * policy and the exchange would say; NULL if it does not. */
static const char *order_invalid(qh_engine *e, const qtr_order_intent *o)
{
    if (!valid_symbol(o->symbol)) return "invalid: symbol";
    if (o->side != QTR_SIDE_BUY && o->side != QTR_SIDE_SELL) return "invalid: side";
    if (o->type < QTR_ORDER_MARKET || o->type > QTR_ORDER_TRAILING_STOP_MARKET) return "invalid: type";
    if (o->tif < QTR_TIF_GTC || o->tif > QTR_TIF_GTX) return "invalid: time in force";
    if (o->qty <= 0) return "invalid: quantity must be > 0";
    if (o->type == QTR_ORDER_LIMIT && o->price <= 0) return "invalid: limit price must be > 0";
    if ((o->type == QTR_ORDER_STOP_MARKET || o->type == QTR_ORDER_TAKE_PROFIT_MARKET) && o->stop_price <= 0)
        return "invalid: stop price must be > 0";
    if (!(o->confidence >= 0.0 && o->confidence <= 1.0)) return "invalid: confidence outside [0, 1]";
    if (o->client_id[0] && (!qtr_client_id_valid(o->client_id) || qh_order_table_find(e->open_orders, o->client_id)))
        return "invalid: client id malformed or already in use";
    return qh_exit_order_invalid(o);   /* trailing and working-type fields */
}

static int submit(qh_engine *e, const char *origin, const qtr_order_intent *in, char cid_out[QTR_CLIENT_ID_MAX],
                  char *reason, size_t reasonlen)
{
    qtr_order_intent o = *in;
    o.time_ms = qh_clock_now_ms(e->clock);
    if (!o.strategy[0]) qtr_strlcpy(o.strategy, origin, sizeof o.strategy);
    if (cid_out) cid_out[0] = '\0';
    const char *bad = order_invalid(e, &o);
    if (!bad && !e->exchange) bad = "no_exchange: this host sends no orders";   /* bus/bus_link.h */
    if (!o.client_id[0]) next_client_id(e, o.client_id);
    if (cid_out) qtr_strlcpy(cid_out, o.client_id, QTR_CLIENT_ID_MAX);
    if (bad) {
        qtr_strlcpy(reason, bad, reasonlen);
        reject_local(e, &o, bad, e->m.orders_rejected_invalid);
        return QTR_EINVAL;
    }
    if (!qh_ess_allows(e->ess, o.reduce_only)) {
        snprintf(reason, reasonlen, "ess_%s", qh_ess_state(e->ess) == QTR_ESS_TRIPPED ? "tripped" : "cooldown");
        reject_local(e, &o, reason, e->m.orders_rejected_ess);
        return QTR_EREFUSED;
    }
    if (!o.reduce_only && qh_recon_blocks_entries(e)) {
        snprintf(reason, reasonlen, "reconcile_%s", e->recon.state == QH_RS_MISMATCH ? "required" : "pending");
        reject_local(e, &o, reason, e->m.orders_rejected_ess);
        return QTR_EREFUSED;
    }
    qh_policy_verdict v;
    if (check(e, &o, &v) != 0) {
        snprintf(reason, reasonlen, "risk: %.80s", v.reason);
        reject_local(e, &o, reason, e->m.orders_rejected_risk);
        return QTR_EREFUSED;
    }
    if (v.verdict == QTR_RISK_RESIZE) {
        qh_info(LOGC, "order %s resized %s (%s)", o.client_id, v.detail, v.reason);
        o.qty = v.qty;
    }
    if (reason && reasonlen) qtr_strlcpy(reason, v.verdict == QTR_RISK_RESIZE ? v.reason : "sent", reasonlen);
    return send_to_exchange(e, &o);
}

int qh_pipeline_submit_order(qh_engine *e, const char *origin, const qtr_order_intent *in, char cid_out[QTR_CLIENT_ID_MAX])
{
    char reason[QTR_REASON_MAX];
    return submit(e, origin, in, cid_out, reason, sizeof reason);
}

static void record_signal(qh_engine *e, const qtr_signal *s, const char *outcome, const char *reason)
{
    qtr_signal_record r;
    memset(&r, 0, sizeof r);
    r.signal = *s;
    /* r is zeroed: each field ends as qtr_strlcpy leaves it, without its
     * byte loop (on every signal) */
    qc_copy_into_zeroed(r.outcome, outcome, sizeof r.outcome);
    qc_copy_into_zeroed(r.reason, reason, sizeof r.reason);
    QH_RING_PUSH(e->recent_signals, r);
}

/* The order a queued signal becomes. */
static void order_of_signal(const qtr_signal *s, qtr_order_intent *o)
{
    memset(o, 0, sizeof *o);
    /* o is zeroed: as qtr_strlcpy would (a reason filling its field is
     * cut to one byte less), without its byte loop (on every signal) */
    qc_copy_into_zeroed(o->symbol, s->symbol, sizeof o->symbol);
    qc_copy_into_zeroed(o->strategy, s->strategy, sizeof o->strategy);
    qc_copy_into_zeroed(o->reason, s->reason, sizeof o->reason);
    o->side = s->side;
    o->type = s->type ? s->type : QTR_ORDER_MARKET;
    o->tif = s->tif;
    o->qty = s->qty;
    o->price = s->price;
    o->reduce_only = s->reduce_only;
    o->confidence = s->confidence;
}

/* A signal from another host refused as invalid: a local plugin hears of
 * it from submit_signal's answer, a host across Redis does not, so one log
 * line names where it came from and why, sampled (bus/log_sample.h) so
 * that a flood of them does not flood the log. It is counted where a local
 * one is: qtr_signal_drops_total{reason="invalid"} when the queue refuses
 * it, qtr_orders_total{result="rejected_invalid"} when the order path's
 * checks do. */
static void remote_refused(qh_engine *e, const qtr_signal *s, const qh_signal_source *from, const char *why)
{
    uint64_t n = ++e->remote_signals_refused;
    if (!qh_log_sampled(n)) return;
    char qty[QTR_DEC_STRLEN];
    qh_warn("bus",
            "signal %s#%" PRIu64 " from another host (entry %s of %s) refused: %s; it was %s '%.*s' qty %s "
            "confidence %g (%" PRIu64 " from other hosts refused as invalid so far)",
            from->host, from->seq, from->entry ? from->entry : "?", from->stream ? from->stream : "?", why,
            qtr_side_name(s->side), (int)strnlen(s->symbol, sizeof s->symbol), s->symbol, qtr_dec_format(s->qty, qty),
            s->confidence, n);
}

/* from: NULL for a local signal. */
static int take_signal(qh_engine *e, const char *origin, const qtr_signal *in, const qh_signal_source *from)
{
    /* On a strategy host the signal goes to Redis, for the execution host's
     * pipeline, not to this queue (one from Redis never goes back). */
    int bus_rc;
    if (!from && e->bus_link && qh_bus_link_signal_out(e, origin, in, &bus_rc)) return bus_rc;
    qtr_signal s = *in;
    s.time_ms = qh_clock_now_ms(e->clock);
    qtr_strlcpy(s.strategy, origin, sizeof s.strategy);
    qh_metric_add(e->m.signals_in, 1);
    QH_PUBLISH(e, QTR_EV_SIGNAL, 0, s.time_ms, signal, s);
    /* Another host's signal whose order the drain would refuse as invalid
     * (what the queue refuses itself comes below) is refused now, with the
     * drain's reason and counter: it takes no place in the queue, where it
     * could crowd out valid signals. Nothing was ever an order, so no order
     * id and no ORDER_UPDATE: a flood of them writes nothing to the store
     * or to Redis, and its one log line is remote_refused's, sampled. */
    if (from && !qh_sigq_invalid_field(&s)) {
        qtr_order_intent o;
        order_of_signal(&s, &o);
        const char *bad = order_invalid(e, &o);
        if (bad) {
            qh_metric_add(e->m.orders_rejected_invalid, 1);
            record_signal(e, &s, "rejected", bad);
            remote_refused(e, &s, from, bad);
            return QTR_EINVAL;
        }
    }
    qtr_signal evicted;
    bool did_evict = false;
    int rc = qh_sigq_push(e->sigq, &s, &evicted, &did_evict);
    /* drain once this event has reached every subscriber: signals born of
     * one event still compete by confidence */
    if (rc == QTR_OK && e->ev_drain) event_active(e->ev_drain, EV_TIMEOUT, 1);
    if (rc == QTR_OK && did_evict) record_signal(e, &evicted, "dropped", "replaced by a higher-confidence signal");
    else if (rc == QTR_EFULL) record_signal(e, &s, "dropped", "queue full of higher-confidence signals");
    else if (rc == QTR_EINVAL) {
        char why[QTR_REASON_MAX];
        snprintf(why, sizeof why, "invalid signal: %s", qh_sigq_invalid_field(&s));
        record_signal(e, &s, "dropped", why);
        if (from) remote_refused(e, &s, from, why);
    }
    return rc;
}

int qh_pipeline_submit_signal(qh_engine *e, const char *origin, const qtr_signal *in)
{
    return take_signal(e, origin, in, NULL);
}

int qh_pipeline_submit_remote_signal(qh_engine *e, const char *origin, const qtr_signal *in,
                                     const qh_signal_source *from)
{
    return take_signal(e, origin, in, from);
}

int qh_pipeline_cancel(qh_engine *e, const char *symbol, const char *client_id)
{
    if (!symbol || !client_id) return QTR_EINVAL;
    if (!e->exchange) return QTR_ENOTSUP;
    return e->exchange->ld.exchange.cancel_order(e->exchange->state, symbol, client_id);
}

static void on_stale(void *ud, const qtr_signal *s) { record_signal(ud, s, "dropped", "stale"); }

void qh_pipeline_cycle(qh_engine *e)
{
    e->taken_in_cycle = 0;
    qh_pipeline_drain(e);
}

void qh_pipeline_drain(qh_engine *e)
{
    qtr_signal batch[256];
    size_t per_cycle = (size_t)e->cfg->signals.per_cycle;
    size_t left = per_cycle > e->taken_in_cycle ? per_cycle - e->taken_in_cycle : 0;
    size_t cap = left < 256 ? left : 256;
    if (cap == 0) return;                 /* over budget: the next tick takes them */
    if (qh_sigq_depth(e->sigq) == 0) return;   /* every candle of a backtest mostly: nothing to take */
    size_t n = qh_sigq_take(e->sigq, qh_clock_now_ms(e->clock), batch, cap, on_stale, e);
    e->taken_in_cycle += n;
    for (size_t i = 0; i < n; i++) {
        const qtr_signal *s = &batch[i];
        qtr_order_intent o;
        order_of_signal(s, &o);
        char reason[QTR_REASON_MAX] = "";
        int rc = submit(e, s->strategy, &o, NULL, reason, sizeof reason);
        record_signal(e, s, rc == QTR_OK ? "accepted" : "rejected", reason);
    }
}

/* ---- what comes back ---- */

static void on_order_update(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_order_update *u = &ev->u.order_update;
    qtr_order_update *o = qh_order_table_find(e->open_orders, u->client_id);
    if (o) {
        *o = *u;
        if (qtr_order_status_final(u->status)) qh_order_table_remove(e->open_orders, u->client_id);
    } else if (!qtr_order_status_final(u->status) && u->status != QTR_OS_PENDING) {
        /* an order we did not place (or lost track of): keep it visible */
        qh_open_orders_track(e, u, "order update");
        if (u->external) qh_warn(LOGC, "external order %s on %s", u->client_id, u->symbol);
    }
    QH_RING_PUSH(e->recent_orders, *u);
    if (u->status == QTR_OS_NEW || u->status == QTR_OS_PARTIALLY_FILLED || u->status == QTR_OS_FILLED)
        qh_ess_on_exchange_result(e->ess, false, ev->time_ms);
}

static void on_fill(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_fill *f = &ev->u.fill;
    /* without an id a fill can be neither stored nor told from a repeat:
     * the exchange plugin is broken, and trading stops */
    if (!f->fill_id[0] || !memchr(f->fill_id, '\0', sizeof f->fill_id)) {
        qh_error(LOGC, "a fill on %.24s without a valid fill id: not applied; tripping the ESS", f->symbol);
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "orders", "fill_without_id", "fill on %.24s without an id", f->symbol);
        qh_ess_trip_host(e->ess, "an exchange reported a fill without an id", qh_clock_now_ms(e->clock));
        return;
    }
    if (qh_fill_seen_else_remember(e->fills_seen, f->fill_id)) {
        qh_metric_add(e->m.duplicate_fills, 1);
        qh_warn(LOGC, "fill %s seen twice; applied once", f->fill_id);
        return;
    }
    qtr_position before, after;
    if (qh_portfolio_get_position(e->pf, f->symbol, &before) != 0) {
        memset(&before, 0, sizeof before);
        qtr_strlcpy(before.symbol, f->symbol, sizeof before.symbol);
    }
    if (qh_portfolio_apply_fill(e->pf, f, &after) != 0) {
        qh_error(LOGC, "fill %s on %s could not be applied (overflow); tripping the ESS", f->fill_id, f->symbol);
        qh_ess_trip_host(e->ess, "fill could not be applied to the portfolio", qh_clock_now_ms(e->clock));
        return;
    }
    qh_metric_add(e->m.fills, 1);
    if (qh_log_enabled(QH_LOG_INFO)) {
        char q[QTR_DEC_STRLEN], px[QTR_DEC_STRLEN], fee[QTR_DEC_STRLEN], pos[QTR_DEC_STRLEN];
        qh_info(LOGC, "fill %s %s %s %s @ %s fee %s (order %s); position %s", f->fill_id, f->symbol,
                qtr_side_name(f->side), qtr_dec_format(f->qty, q), qtr_dec_format(f->price, px),
                qtr_dec_format(f->fee, fee), f->client_id, qtr_dec_format(after.qty, pos));
    }
    QH_RING_PUSH(e->recent_fills, *f);
    if (e->obs.on_fill) e->obs.on_fill(e->obs.ud, f, &before, &after);
    QH_PUBLISH(e, QTR_EV_POSITION, 0, ev->time_ms, position, after);
    qh_engine_account_changed(e, f->time_ms ? f->time_ms : ev->time_ms);
}

static void on_alert(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_alert *a = &ev->u.alert;
    qh_log(a->severity == QTR_ALERT_CRITICAL ? QH_LOG_ERROR : a->severity == QTR_ALERT_WARNING ? QH_LOG_WARN : QH_LOG_INFO,
           a->source, "alert %s: %s", a->kind, a->text);
    if (strcmp(a->kind, "exchange_error") == 0) {
        qh_metric_add(e->m.exchange_errors, 1);
        qh_ess_on_exchange_result(e->ess, true, ev->time_ms);
    }
}

void qh_pipeline_subscribe(qh_engine *e)
{
    qh_bus_subscribe(e->bus, QTR_EV_ORDER_UPDATE, NULL, on_order_update, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_FILL, NULL, on_fill, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_ALERT, NULL, on_alert, e, e);
}

/* ---- the ESS's hooks ---- */

void qh_ess_hook_transition(void *ud, const qtr_ess_event *ess)
{
    qh_engine *e = ud;
    qh_log(ess->state == QTR_ESS_ARMED ? QH_LOG_INFO : QH_LOG_ERROR, "ess", "%s -> %s: %s%s%s",
           qtr_ess_state_name(ess->previous), qtr_ess_state_name(ess->state), ess->reason,
           ess->user[0] ? " by " : "", ess->user);
    QH_PUBLISH(e, QTR_EV_ESS_STATE, 0, ess->time_ms, ess, *ess);
    if (ess->state == QTR_ESS_TRIPPED) {
        qh_metric_add(e->m.ess_trips, 1);
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "ess", "ess_trip", "ESS tripped: %s", ess->reason);
    }
}

/* What the ESS's cancel-all leaves on the exchange: a reduce-only
 * conditional order (an exit's stop, trailing stop or take-profit; a stop
 * placed by hand) only ever shrinks the position it protects, which stays
 * open on a trip unless close_positions is set. The Binance and paper
 * exchanges' cancel_all keep the same ones; plain orders, reduce-only or
 * not, and conditional orders that could open a position go. */
static bool ess_keeps(const qtr_order_update *o)
{
    return o->reduce_only && (o->type == QTR_ORDER_STOP_MARKET || o->type == QTR_ORDER_TAKE_PROFIT_MARKET ||
                              o->type == QTR_ORDER_TRAILING_STOP_MARKET);
}

void qh_ess_hook_cancel_all(void *ud)
{
    qh_engine *e = ud;
    if (!e->exchange) return;
    if (e->exchange->ld.exchange.cancel_all) {
        e->exchange->ld.exchange.cancel_all(e->exchange->state, NULL);
        return;
    }
    /* copy first: cancellations change the open-order table under us */
    size_t n = qh_order_table_count(e->open_orders);
    if (n == 0) return;
    qtr_order_update *copy = malloc(n * sizeof *copy);
    if (!copy) {
        /* no memory for the copy: walk the table itself from the end. A
         * removal moves the last entry (already asked) into the hole, so no
         * order is skipped; one may be asked twice, which is harmless. */
        qh_error("ess", "out of memory copying %zu open orders: cancelling them in place", n);
        for (size_t i = n; i > 0; i--) {
            if (i > qh_order_table_count(e->open_orders)) continue;
            qtr_order_update o = qh_order_table_items(e->open_orders)[i - 1];
            if (!ess_keeps(&o)) e->exchange->ld.exchange.cancel_order(e->exchange->state, o.symbol, o.client_id);
        }
        return;
    }
    memcpy(copy, qh_order_table_items(e->open_orders), n * sizeof *copy);
    for (size_t i = 0; i < n; i++)
        if (!ess_keeps(&copy[i]))
            e->exchange->ld.exchange.cancel_order(e->exchange->state, copy[i].symbol, copy[i].client_id);
    free(copy);
}

/* The ESS's own close orders carry ids "<prefix>-<run>-x<n>". */
static void ess_client_id(qh_engine *e, char out[QTR_CLIENT_ID_MAX])
{
    format_client_id(e, "x", ++e->order_seq, out);
}

static bool is_ess_order(const qh_engine *e, const char *cid)
{
    char prefix[QTR_CLIENT_ID_MAX];
    int n = snprintf(prefix, sizeof prefix, "%s-%s-x", e->cfg->client_id_prefix, e->run_id);
    return n > 0 && strncmp(cid, prefix, (size_t)n) == 0;
}

/* One of the ESS's own close orders is open on the symbol: it is on its
 * way. A strategy's reduce-only order (a resting take-profit) is not. */
static bool close_pending(const qh_engine *e, const char *symbol)
{
    const qtr_order_update *open = qh_order_table_items(e->open_orders);
    for (size_t i = 0; i < qh_order_table_count(e->open_orders); i++)
        if (strcmp(open[i].symbol, symbol) == 0 && is_ess_order(e, open[i].client_id)) return true;
    return false;
}

/* A close for every open position, however many: the portfolio's symbols
 * are walked by index (no copy, no cap, nothing to allocate in an
 * emergency), each read when its turn comes, so a fill arriving while the
 * walk sends orders is seen. */
static void flatten(qh_engine *e)
{
    if (!e->exchange) return;
    qtr_position pos;
    for (size_t i = 0; qh_portfolio_position_at(e->pf, i, &pos) == 0; i++) {
        if (pos.qty == 0 || close_pending(e, pos.symbol)) continue;
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        qtr_strlcpy(o.symbol, pos.symbol, sizeof o.symbol);
        qtr_strlcpy(o.strategy, "ess", sizeof o.strategy);
        qtr_strlcpy(o.reason, "ESS flatten", sizeof o.reason);
        o.side = pos.qty > 0 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
        o.type = QTR_ORDER_MARKET;
        o.qty = qtr_dec_abs(pos.qty);
        o.reduce_only = true;
        o.confidence = 1.0;
        o.time_ms = qh_clock_now_ms(e->clock);
        ess_client_id(e, o.client_id);
        qh_warn("ess", "closing %s: %s %s reduce-only market", o.symbol, qtr_side_name(o.side), o.client_id);
        /* deliberately not through the risk plugin: see engine.h */
        int rc = send_to_exchange(e, &o);
        if (rc != QTR_OK)
            qh_error("ess", "the close of %s (%s) was not sent (%d): retried on the next ESS tick", o.symbol,
                     o.client_id, rc);
    }
}

void qh_ess_hook_close_all(void *ud) { flatten(ud); }

void qh_pipeline_enforce_flat(qh_engine *e)
{
    if (qh_ess_allows(e->ess, false)) return;
    /* while blocked, an order the cancel-all takes (not the ESS's own
     * closes, not the protective stops it keeps) still open means a cancel
     * the exchange failed: cancelled again each tick */
    const qtr_order_update *open = qh_order_table_items(e->open_orders);
    for (size_t i = 0; i < qh_order_table_count(e->open_orders); i++)
        if (!is_ess_order(e, open[i].client_id) && open[i].status != QTR_OS_PENDING && !ess_keeps(&open[i])) {
            qh_ess_hook_cancel_all(e);
            break;
        }
    const qh_policy_rules *l = qh_policy_limits(e->policy);
    if (l && l->ess_close_positions) flatten(e);
}
