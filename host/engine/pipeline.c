/* pipeline.c — the order path: signals, orders, the ESS and risk gates,
 * exchange answers, fills into the portfolio. See engine.h. */
#include "engine/engine_internal.h"

#include <event2/event.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define LOGC "orders"

/* ---- fill ids already applied (a fill is never counted twice) ---- */

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

#define FILL_SLOTS (QH_FILL_SEEN * 2)
#define SLOT_EMPTY (-1)
#define SLOT_GONE (-2)

static bool fill_seen(const qh_engine *e, const char *id)
{
    uint32_t mask = FILL_SLOTS - 1;
    for (uint32_t i = hash_id(id) & mask, n = 0; n < FILL_SLOTS; i = (i + 1) & mask, n++) {
        int32_t v = e->fill_index[i];
        if (v == SLOT_EMPTY) return false;
        if (v >= 0 && strcmp(e->fill_ids[v], id) == 0) return true;
    }
    return false;
}

static void index_put(qh_engine *e, int32_t ring_pos)
{
    uint32_t mask = FILL_SLOTS - 1;
    for (uint32_t i = hash_id(e->fill_ids[ring_pos]) & mask;; i = (i + 1) & mask)
        if (e->fill_index[i] < 0) { e->fill_index[i] = ring_pos; return; }
}

static void fill_remember(qh_engine *e, const char *id)
{
    size_t pos = (e->fill_head + e->fill_count) % QH_FILL_SEEN;
    if (e->fill_count == QH_FILL_SEEN) {
        /* forget the oldest: tombstone its slot */
        uint32_t mask = FILL_SLOTS - 1;
        for (uint32_t i = hash_id(e->fill_ids[pos]) & mask, n = 0; n < FILL_SLOTS; i = (i + 1) & mask, n++)
            if (e->fill_index[i] == (int32_t)pos) { e->fill_index[i] = SLOT_GONE; break; }
        e->fill_head = (e->fill_head + 1) % QH_FILL_SEEN;
        e->fill_count--;
        if (e->fill_head == 0) {        /* tombstones pile up: rebuild once per lap */
            for (size_t i = 0; i < FILL_SLOTS; i++) e->fill_index[i] = SLOT_EMPTY;
            for (size_t k = 0; k < e->fill_count; k++)
                index_put(e, (int32_t)((e->fill_head + k) % QH_FILL_SEEN));
        }
    }
    qtr_strlcpy(e->fill_ids[pos], id, QTR_CLIENT_ID_MAX);
    e->fill_count++;
    index_put(e, (int32_t)pos);
}

void qh_engine_remember_fill(qh_engine *e, const char *fill_id)
{
    if (fill_id[0] && !fill_seen(e, fill_id)) fill_remember(e, fill_id);
}

/* ---- helpers ---- */

void qh_publish_alert(qh_engine *e, qtr_alert_severity sev, const char *source, const char *kind, const char *fmt, ...)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ALERT;
    ev.time_ms = qh_clock_now_ms(e->clock);
    ev.u.alert.time_ms = ev.time_ms;
    ev.u.alert.severity = sev;
    qtr_strlcpy(ev.u.alert.source, source, sizeof ev.u.alert.source);
    qtr_strlcpy(ev.u.alert.kind, kind, sizeof ev.u.alert.kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.u.alert.text, sizeof ev.u.alert.text, fmt, ap);
    va_end(ap);
    qh_bus_publish(e->bus, &ev);
}

static qtr_order_update *open_find(qh_engine *e, const char *cid)
{
    for (size_t i = 0; i < e->n_open; i++)
        if (strcmp(e->open_orders[i].client_id, cid) == 0) return &e->open_orders[i];
    return NULL;
}

static void open_remove(qh_engine *e, qtr_order_update *o)
{
    size_t i = (size_t)(o - e->open_orders);
    e->open_orders[i] = e->open_orders[--e->n_open];
}

bool qh_open_orders_track(qh_engine *e, const qtr_order_update *u, const char *what)
{
    if (e->n_open < QH_MAX_OPEN_ORDERS) {
        e->open_orders[e->n_open++] = *u;
        return true;
    }
    /* An open order the host cannot track is one the ESS might not cancel:
     * never dropped quietly. The trip cancels everything and blocks entries
     * until an operator has looked. */
    qh_error(LOGC, "%s: order %s on %s cannot be tracked (%zu orders open, the most the host tracks); tripping the ESS",
             what, u->client_id, u->symbol, e->n_open);
    qh_publish_alert(e, QTR_ALERT_CRITICAL, "orders", "open_orders_full", "%s: order %.40s on %.24s not tracked", what,
                     u->client_id, u->symbol);
    qh_ess_trip_host(e->ess, "more open orders than the host can track", qh_clock_now_ms(e->clock));
    return false;
}

static void next_client_id(qh_engine *e, char out[QTR_CLIENT_ID_MAX])
{
    snprintf(out, QTR_CLIENT_ID_MAX, "%s-%s-%llu", e->cfg->client_id_prefix, e->run_id,
             (unsigned long long)++e->order_seq);
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
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = qh_clock_now_ms(e->clock);
    qtr_order_update_for_intent(o, QTR_OS_REJECTED, reason, ev.time_ms, &ev.u.order_update);
    qh_info(LOGC, "order %s %s %s refused: %s", o->client_id[0] ? o->client_id : "(no id)", qtr_side_name(o->side),
            o->symbol, reason);
    qh_bus_publish(e->bus, &ev);
}

/* Hand an order that passed every gate to the exchange. The ORDER_INTENT
 * (stored as the order's PENDING record) says the order goes to the
 * exchange: it is published only once nothing on the host can refuse it. */
static int send_to_exchange(qh_engine *e, const qtr_order_intent *o)
{
    if (e->n_open >= QH_MAX_OPEN_ORDERS) {
        qh_error(LOGC, "order %s on %s refused: %zu orders already open (the most the host tracks)", o->client_id,
                 o->symbol, e->n_open);
        reject_local(e, o, "too_many_open_orders", e->m.orders_rejected_invalid);
        return QTR_EFULL;
    }
    /* tracked before the intent is published: a subscriber of the intent
     * may send orders of its own, and the slot checked above is this one's */
    qtr_order_update_for_intent(o, QTR_OS_PENDING, "", o->time_ms, &e->open_orders[e->n_open++]);
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_INTENT;
    ev.time_ms = o->time_ms;
    ev.u.order_intent = *o;
    qh_bus_publish(e->bus, &ev);
    int rc = e->exchange->ld.exchange.submit_order(e->exchange->state, o);
    if (rc != QTR_OK) {
        qtr_order_update *still = open_find(e, o->client_id);
        if (still && still->status == QTR_OS_PENDING) open_remove(e, still);
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

static int submit(qh_engine *e, const char *origin, const qtr_order_intent *in, char cid_out[QTR_CLIENT_ID_MAX],
                  char *reason, size_t reasonlen)
{
    qtr_order_intent o = *in;
    o.time_ms = qh_clock_now_ms(e->clock);
    if (!o.strategy[0]) qtr_strlcpy(o.strategy, origin, sizeof o.strategy);
    if (cid_out) cid_out[0] = '\0';
    const char *bad = NULL;
    if (!valid_symbol(o.symbol)) bad = "invalid: symbol";
    else if (o.side != QTR_SIDE_BUY && o.side != QTR_SIDE_SELL) bad = "invalid: side";
    else if (o.type < QTR_ORDER_MARKET || o.type > QTR_ORDER_TAKE_PROFIT_MARKET) bad = "invalid: type";
    else if (o.tif < QTR_TIF_GTC || o.tif > QTR_TIF_GTX) bad = "invalid: time in force";
    else if (o.qty <= 0) bad = "invalid: quantity must be > 0";
    else if (o.type == QTR_ORDER_LIMIT && o.price <= 0) bad = "invalid: limit price must be > 0";
    else if (o.type >= QTR_ORDER_STOP_MARKET && o.stop_price <= 0) bad = "invalid: stop price must be > 0";
    else if (!(o.confidence >= 0.0 && o.confidence <= 1.0)) bad = "invalid: confidence outside [0, 1]";
    else if (o.client_id[0] && (!qtr_client_id_valid(o.client_id) || open_find(e, o.client_id)))
        bad = "invalid: client id malformed or already in use";
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
    qtr_risk_decision d;
    memset(&d, 0, sizeof d);
    e->risk->ld.risk.check_order(e->risk->state, &o, &d);
    d.reason[sizeof d.reason - 1] = '\0';
    switch (d.verdict) {
    case QTR_RISK_APPROVE:
        break;
    case QTR_RISK_RESIZE:
        if (d.qty <= 0 || d.qty > o.qty) {
            snprintf(reason, reasonlen, "risk: invalid resize");
            reject_local(e, &o, reason, e->m.orders_rejected_risk);
            return QTR_EREFUSED;
        }
        qh_info(LOGC, "order %s resized by risk (%s)", o.client_id, d.reason);
        o.qty = d.qty;
        break;
    case QTR_RISK_REJECT:
        snprintf(reason, reasonlen, "risk: %.80s", d.reason[0] ? d.reason : "rejected");
        reject_local(e, &o, reason, e->m.orders_rejected_risk);
        return QTR_EREFUSED;
    default:
        snprintf(reason, reasonlen, "risk: no verdict");
        reject_local(e, &o, reason, e->m.orders_rejected_risk);
        return QTR_EREFUSED;
    }
    /* the risk step may have run host code that tripped the ESS */
    if (!qh_ess_allows(e->ess, o.reduce_only)) {
        snprintf(reason, reasonlen, "ess_%s", qh_ess_state(e->ess) == QTR_ESS_TRIPPED ? "tripped" : "cooldown");
        reject_local(e, &o, reason, e->m.orders_rejected_ess);
        return QTR_EREFUSED;
    }
    if (reason && reasonlen) snprintf(reason, reasonlen, "%s", d.verdict == QTR_RISK_RESIZE ? d.reason : "sent");
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
    qtr_strlcpy(r.outcome, outcome, sizeof r.outcome);
    qtr_strlcpy(r.reason, reason, sizeof r.reason);
    QH_RING_PUSH(e->recent_signals, r);
}

int qh_pipeline_submit_signal(qh_engine *e, const char *origin, const qtr_signal *in)
{
    qtr_signal s = *in;
    s.time_ms = qh_clock_now_ms(e->clock);
    qtr_strlcpy(s.strategy, origin, sizeof s.strategy);
    qh_metric_add(e->m.signals_in, 1);
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = s.time_ms;
    ev.u.signal = s;
    qh_bus_publish(e->bus, &ev);
    qtr_signal evicted;
    bool did_evict = false;
    int rc = qh_sigq_push(e->sigq, &s, &evicted, &did_evict);
    /* drain once this event has reached every subscriber: signals born of
     * one event still compete by confidence */
    if (rc == QTR_OK && e->ev_drain) event_active(e->ev_drain, EV_TIMEOUT, 1);
    if (rc == QTR_OK && did_evict) record_signal(e, &evicted, "dropped", "replaced by a higher-confidence signal");
    else if (rc == QTR_EFULL) record_signal(e, &s, "dropped", "queue full of higher-confidence signals");
    else if (rc == QTR_EINVAL) record_signal(e, &s, "dropped", "invalid signal");
    return rc;
}

int qh_pipeline_cancel(qh_engine *e, const char *symbol, const char *client_id)
{
    if (!symbol || !client_id) return QTR_EINVAL;
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
    size_t n = qh_sigq_take(e->sigq, qh_clock_now_ms(e->clock), batch, cap, on_stale, e);
    e->taken_in_cycle += n;
    for (size_t i = 0; i < n; i++) {
        const qtr_signal *s = &batch[i];
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        qtr_strlcpy(o.symbol, s->symbol, sizeof o.symbol);
        qtr_strlcpy(o.strategy, s->strategy, sizeof o.strategy);
        qtr_strlcpy(o.reason, s->reason, sizeof o.reason);
        o.side = s->side;
        o.type = s->type ? s->type : QTR_ORDER_MARKET;
        o.tif = s->tif;
        o.qty = s->qty;
        o.price = s->price;
        o.reduce_only = s->reduce_only;
        o.confidence = s->confidence;
        char reason[QTR_REASON_MAX] = "";
        int rc = submit(e, s->strategy, &o, NULL, reason, sizeof reason);
        record_signal(e, s, rc == QTR_OK ? "accepted" : "rejected", reason);
    }
}

/* ---- what comes back ---- */

static void account_changed(qh_engine *e, int64_t time_ms)
{
    qtr_account a;
    qh_portfolio_account(e->pf, time_ms, &a);
    /* the ESS acts now: a late event (an execution reported an hour after it
     * happened) must not stamp the trip, and so the cooldown, in the past */
    qh_ess_on_account(e->ess, &a, qh_clock_now_ms(e->clock));
    if (e->obs.on_account) e->obs.on_account(e->obs.ud, &a);
    /* Equity history for charts: one point a minute. A new peak is published
     * (and so stored) at once: drawdown after a crash must count from it. */
    bool minute = time_ms - e->last_equity_point_ms >= 60000 || e->equity_history.count == 0;
    bool new_peak = a.equity_peak > e->last_published_peak;
    if (minute) {
        e->last_equity_point_ms = time_ms;
        QH_RING_PUSH(e->equity_history, a);
    }
    if (minute || new_peak) {
        e->last_published_peak = a.equity_peak;
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_EQUITY;
        ev.time_ms = time_ms;
        ev.u.equity = a;
        qh_bus_publish(e->bus, &ev);
    }
}

void qh_pipeline_after_market(qh_engine *e, const char *symbol, qtr_dec price, int64_t time_ms)
{
    if (qh_portfolio_mark(e->pf, symbol, price, time_ms) != 0)
        qh_error(LOGC, "marking %s at an overflowing price refused", symbol);
    account_changed(e, time_ms);
}

static void on_candle(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_candle *c = &ev->u.candle;
    qh_market_sym *m = qh_market_get(e, c->symbol, true);
    if (!m) return;
    m->candle = *c;
    m->has_candle = true;
    qh_metric_add(e->m.candles, 1);
    /* value positions at the mark price when the exchange gives one */
    qh_pipeline_after_market(e, c->symbol, m->has_mark ? m->mark.mark_price : c->close, c->close_time_ms);
}

int qh_engine_apply_funding(qh_engine *e, const char *symbol, qtr_dec rate, int64_t time_ms)
{
    qh_market_sym *m = qh_market_get(e, symbol, false);
    qtr_position pos;
    if (qh_portfolio_get_position(e->pf, symbol, &pos) != 0 || pos.qty == 0) return 0;   /* nothing to pay */
    qtr_dec mark = m && m->has_mark ? m->mark.mark_price : m && m->has_candle ? m->candle.close : pos.mark_price;
    if (mark <= 0) return -1;
    qtr_position after;
    if (qh_portfolio_apply_funding(e->pf, symbol, rate, mark, time_ms, &after) != 0) {
        qh_error(LOGC, "%s: funding at rate %lld could not be applied: %s", symbol, (long long)rate,
                 qh_portfolio_last_error(e->pf));
        return -1;
    }
    if (qh_log_enabled(QH_LOG_INFO)) {
        char r[QTR_DEC_STRLEN], f[QTR_DEC_STRLEN];
        qh_info(LOGC, "funding %s rate %s: position funding now %s", symbol, qtr_dec_format(rate, r),
                qtr_dec_format(after.funding, f));
    }
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_POSITION;
    ev.time_ms = time_ms;
    ev.u.position = after;
    qh_bus_publish(e->bus, &ev);
    account_changed(e, time_ms);
    return 0;
}

static void on_mark(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_mark_price *mp = &ev->u.mark_price;
    qh_market_sym *m = qh_market_get(e, mp->symbol, true);
    if (!m) return;
    /* A funding time passed since the last mark: settle the rate announced
     * for it, at this mark, as the exchange does at that moment. */
    bool settle = m->has_mark && m->mark.next_funding_ms > 0 && mp->next_funding_ms > m->mark.next_funding_ms;
    qtr_mark_price before = m->mark;
    m->mark = *mp;
    m->has_mark = true;
    if (settle) qh_engine_apply_funding(e, m->symbol, before.funding_rate, before.next_funding_ms);
    qh_pipeline_after_market(e, m->symbol, m->mark.mark_price, ev->time_ms);
}

static void on_book(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    qh_market_sym *m = qh_market_get(e, ev->u.book_top.symbol, true);
    if (!m) return;
    m->book = ev->u.book_top;
    m->has_book = true;
}

static void on_order_update(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_order_update *u = &ev->u.order_update;
    qtr_order_update *o = open_find(e, u->client_id);
    if (o) {
        *o = *u;
        if (qtr_order_status_final(u->status)) open_remove(e, o);
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
    if (fill_seen(e, f->fill_id)) {
        qh_metric_add(e->m.duplicate_fills, 1);
        qh_warn(LOGC, "fill %s seen twice; applied once", f->fill_id);
        return;
    }
    fill_remember(e, f->fill_id);
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
    qtr_event pev;
    memset(&pev, 0, sizeof pev);
    pev.type = QTR_EV_POSITION;
    pev.time_ms = ev->time_ms;
    pev.u.position = after;
    qh_bus_publish(e->bus, &pev);
    account_changed(e, f->time_ms ? f->time_ms : ev->time_ms);
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
    qh_bus_subscribe(e->bus, QTR_EV_CANDLE, NULL, on_candle, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_MARK_PRICE, NULL, on_mark, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_BOOK_TOP, NULL, on_book, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_ORDER_UPDATE, NULL, on_order_update, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_FILL, NULL, on_fill, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_ALERT, NULL, on_alert, e, e);
}

/* ---- the ESS's hooks ---- */

void qh_ess_hook_transition(void *ud, const qtr_ess_event *ess)
{
    qh_engine *e = ud;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.time_ms = ess->time_ms;
    ev.u.ess = *ess;
    qh_log(ess->state == QTR_ESS_ARMED ? QH_LOG_INFO : QH_LOG_ERROR, "ess", "%s -> %s: %s%s%s",
           qtr_ess_state_name(ess->previous), qtr_ess_state_name(ess->state), ess->reason,
           ess->user[0] ? " by " : "", ess->user);
    qh_bus_publish(e->bus, &ev);
    if (ess->state == QTR_ESS_TRIPPED) {
        qh_metric_add(e->m.ess_trips, 1);
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "ess", "ess_trip", "ESS tripped: %s", ess->reason);
    }
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
    size_t n = e->n_open;
    if (n == 0) return;
    qtr_order_update *copy = malloc(n * sizeof *copy);
    if (!copy) {
        /* no memory for the copy: walk the table itself from the end. A
         * removal moves the last entry (already asked) into the hole, so no
         * order is skipped; one may be asked twice, which is harmless. */
        qh_error("ess", "out of memory copying %zu open orders: cancelling them in place", n);
        for (size_t i = n; i > 0; i--) {
            if (i > e->n_open) continue;
            qtr_order_update o = e->open_orders[i - 1];
            e->exchange->ld.exchange.cancel_order(e->exchange->state, o.symbol, o.client_id);
        }
        return;
    }
    memcpy(copy, e->open_orders, n * sizeof *copy);
    for (size_t i = 0; i < n; i++)
        e->exchange->ld.exchange.cancel_order(e->exchange->state, copy[i].symbol, copy[i].client_id);
    free(copy);
}

/* The ESS's own close orders carry ids "<prefix>-<run>-x<n>". */
static void ess_client_id(qh_engine *e, char out[QTR_CLIENT_ID_MAX])
{
    snprintf(out, QTR_CLIENT_ID_MAX, "%s-%s-x%llu", e->cfg->client_id_prefix, e->run_id,
             (unsigned long long)++e->order_seq);
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
    for (size_t i = 0; i < e->n_open; i++)
        if (strcmp(e->open_orders[i].symbol, symbol) == 0 && is_ess_order(e, e->open_orders[i].client_id)) return true;
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
    /* while blocked, orders other than the ESS's own closes are cancelled
     * again each tick: a cancel the exchange failed is not left standing */
    for (size_t i = 0; i < e->n_open; i++)
        if (!is_ess_order(e, e->open_orders[i].client_id) && e->open_orders[i].status != QTR_OS_PENDING) {
            qh_ess_hook_cancel_all(e);
            break;
        }
    const qtr_policy_limits *l = qh_policy_limits(e->policy);
    if (l && l->ess_close_positions) flatten(e);
}
