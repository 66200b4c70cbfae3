/* adopt.c — start-up reconciliation with an exchange that can adopt orders.
 *
 * Before any new entry is sent, every order the store holds as open or in
 * flight is handed to the exchange (adopt_order) with the fills already
 * recorded for it; the exchange queries it by client id and publishes its
 * state and the executions missed while we were down. Once each has told a
 * known state, the exchange's snapshot is read: orders of this host's
 * earlier runs (our client id prefix) unknown to the store are adopted the
 * same way, others are kept visible as external. Then positions are
 * compared. A difference that persists over a few snapshots is a CRITICAL
 * alert, health CRITICAL, and new entries stay refused (reduce-only and ESS
 * orders still go) until an operator acknowledges it (`qtr reconcile
 * --ack`). Never just a log line. */
#include "engine/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/abi_signature.h"
#include "core/log.h"
#include "core/sized_copy.h"

#define LOGC "reconcile"
#define ADOPT_TIMEOUT_MS 30000   /* adopted orders still unknown: check anyway */
#define CHECK_RETRIES 3          /* snapshots that must all differ             */
#define CHECK_DELAY_MS 2000      /* between them: fills in flight settle       */
#define SNAPSHOT_RETRY_MS 5000

static const char *state_name(qh_recon_state s)
{
    switch (s) {
    case QH_RS_OFF: return "off";
    case QH_RS_ADOPTING: return "adopting";
    case QH_RS_CHECKING: return "checking";
    case QH_RS_OK: return "ok";
    case QH_RS_MISMATCH: return "mismatch";
    case QH_RS_ACKED: return "acknowledged";
    }
    return "?";
}

static void set_state(qh_engine *e, qh_recon_state s)
{
    if (e->recon.state != s) qh_info(LOGC, "%s -> %s", state_name(e->recon.state), state_name(s));
    e->recon.state = s;
    e->recon.since_ms = qh_clock_now_ms(e->clock);
}

bool qh_recon_blocks_entries(const qh_engine *e)
{
    return e->recon.state == QH_RS_ADOPTING || e->recon.state == QH_RS_CHECKING || e->recon.state == QH_RS_MISMATCH;
}

static bool has_prefix(const qh_engine *e, const char *cid)
{
    size_t n = strlen(e->cfg->client_id_prefix);
    return n > 0 && strncmp(cid, e->cfg->client_id_prefix, n) == 0 && cid[n] == '-';
}

static bool waiting_remove(qh_engine *e, const char *cid)
{
    for (size_t i = 0; i < e->recon.n_waiting; i++)
        if (strcmp(e->recon.waiting[i], cid) == 0) {
            memcpy(e->recon.waiting[i], e->recon.waiting[--e->recon.n_waiting], QTR_CLIENT_ID_MAX);
            return true;
        }
    return false;
}

static void check_soon(qh_engine *e, int64_t ms);

/* Hand one order to the exchange; true if it now waits for its answer. */
static bool adopt_one(qh_engine *e, const qtr_order_update *u, const qtr_fill *fills, size_t n_fills)
{
    if (e->recon.n_waiting == e->recon.cap_waiting) {
        size_t cap = e->recon.cap_waiting ? e->recon.cap_waiting * 2 : 16;
        char(*w)[QTR_CLIENT_ID_MAX] = realloc(e->recon.waiting, cap * sizeof *w);
        if (!w) {
            qh_error(LOGC, "out of memory adopting %s", u->client_id);
            return false;
        }
        e->recon.waiting = w;
        e->recon.cap_waiting = cap;
    }
    /* listed first: the exchange may answer from inside adopt_order */
    qtr_strlcpy(e->recon.waiting[e->recon.n_waiting++], u->client_id, QTR_CLIENT_ID_MAX);
    int rc = e->exchange->ld.exchange.adopt_order(e->exchange->state, u, fills, n_fills);
    if (rc != QTR_OK) {
        waiting_remove(e, u->client_id);
        qh_error(LOGC, "order %s on %s: the exchange refused to adopt it (%d); left %s", u->client_id, u->symbol, rc,
                 qtr_order_status_name(u->status));
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "reconcile", "order_not_adopted", "order %.40s on %.24s not adopted (%d)",
                         u->client_id, u->symbol, rc);
        return false;
    }
    return true;
}

static void on_update(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_order_update *u = &ev->u.order_update;
    if (e->recon.state != QH_RS_ADOPTING || u->status == QTR_OS_PENDING || u->status == QTR_OS_UNKNOWN) return;
    if (waiting_remove(e, u->client_id) && e->recon.n_waiting == 0) {
        qh_info(LOGC, "every adopted order has told its state");
        check_soon(e, 0);
    }
}

static void on_timer(void *ud);

static void check_soon(qh_engine *e, int64_t ms)
{
    if (e->recon.timer) qh_timer_stop(e->recon.timer);
    e->recon.timer = qh_timer_start(e->clock, ms, false, on_timer, e, e);
}

static qtr_dec exchange_qty(const qtr_position *positions, size_t n, const char *symbol, bool *found)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(positions[i].symbol, symbol) == 0) {
            *found = true;
            return positions[i].qty;
        }
    *found = false;
    return 0;
}

static void add_detail(qh_engine *e, const char *fmt, const char *sym, qtr_dec mine, qtr_dec theirs)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], line[128];
    snprintf(line, sizeof line, fmt, sym, qtr_dec_format(mine, a), qtr_dec_format(theirs, b));
    size_t used = strlen(e->recon.detail);
    snprintf(e->recon.detail + used, sizeof e->recon.detail - used, "%s%s", used ? "\n" : "", line);
    e->recon.n_diffs++;
}

/* The portfolio against the exchange's positions; the differences go to
 * e->recon.detail. */
static int compare_positions(qh_engine *e, const qtr_position *positions, size_t n_positions)
{
    e->recon.detail[0] = '\0';
    e->recon.n_diffs = 0;
    for (size_t i = 0; i < n_positions; i++) {
        qtr_position mine;
        qtr_dec q = qh_portfolio_get_position(e->pf, positions[i].symbol, &mine) == 0 ? mine.qty : 0;
        if (q != positions[i].qty)
            add_detail(e, "%s: position %s here, %s on the exchange", positions[i].symbol, q, positions[i].qty);
    }
    qtr_position pos;
    for (size_t i = 0; qh_portfolio_position_at(e->pf, i, &pos) == 0; i++) {
        bool found;
        exchange_qty(positions, n_positions, pos.symbol, &found);
        if (!found && pos.qty != 0) add_detail(e, "%s: position %s here, %s on the exchange", pos.symbol, pos.qty, 0);
    }
    return e->recon.n_diffs;
}

/* An order on the exchange this host did not place: stored as external
 * (straight to the store: the bus would treat it as one of ours). */
static void record_external(qh_engine *e, const qtr_order_update *u)
{
    qtr_order_update mine;
    if (qh_store_get_order(e->store, u->client_id, &mine) == QTR_OK) return;   /* known from an earlier start */
    qtr_event ev;
    QH_PAYLOAD_CHECK(order_update, *u);
    qh_event_make(&ev, QTR_EV_ORDER_UPDATE, 0, u->time_ms, u, sizeof *u);
    char why[QTR_TEXT_MAX];
    if (qh_store_enqueue(e->store, &ev, NULL, why, sizeof why) != QTR_OK)
        qh_error(LOGC, "external order %s not recorded: %s", u->client_id, why);
}

/* The exchange's struct size of an event payload, as its build signature
 * says (an exchange built for an older minor has smaller ones). */
static size_t exchange_size(const qh_engine *e, qtr_event_type type, size_t own)
{
    return qh_signature_payload_size(e->exchange ? e->exchange->ld.desc.signature : NULL, type, own);
}

void qh_snapshot_deliver(qh_engine *e, qtr_snapshot_cb cb, int status, const qtr_order_update *orders,
                         size_t n_orders, const qtr_position *positions, size_t n_positions)
{
    void *own_orders = NULL, *own_positions = NULL;
    if (status == QTR_OK) {
        if (!orders) n_orders = 0;
        if (!positions) n_positions = 0;
        orders = qh_sized_array(orders, n_orders, exchange_size(e, QTR_EV_ORDER_UPDATE, sizeof *orders),
                                sizeof *orders, &own_orders);
        positions = qh_sized_array(positions, n_positions, exchange_size(e, QTR_EV_POSITION, sizeof *positions),
                                   sizeof *positions, &own_positions);
        if ((n_orders && !orders) || (n_positions && !positions)) {
            qh_error(LOGC, "out of memory reading the exchange's snapshot (%zu orders, %zu positions)", n_orders,
                     n_positions);
            status = QTR_EIO;
        }
    }
    if (status != QTR_OK) orders = NULL, positions = NULL, n_orders = n_positions = 0;
    cb(e, status, orders, n_orders, positions, n_positions);
    free(own_orders);
    free(own_positions);
}

static void snapshot_checked(void *ud, int status, const qtr_order_update *orders, size_t n_orders,
                             const qtr_position *positions, size_t n_positions)
{
    qh_engine *e = ud;
    e->recon.snapshot_out = false;
    if (!e->running || e->recon.state != QH_RS_CHECKING) return;
    if (status != QTR_OK) {
        qh_error(LOGC, "the exchange could not report its orders and positions (%d); asking again, entries wait",
                 status);
        if (!e->recon.snapshot_alerted)
            qh_publish_alert(e, QTR_ALERT_WARNING, "reconcile", "reconciliation_failed",
                             "exchange snapshot failed (%d): new entries wait", status);
        e->recon.snapshot_alerted = true;
        check_soon(e, SNAPSHOT_RETRY_MS);
        return;
    }
    /* Orders the store does not hold as open: ours (an earlier run's) are
     * adopted and polled; others are kept visible as external. */
    size_t adopted = 0;
    for (size_t i = 0; i < n_orders; i++) {
        const qtr_order_update *u = &orders[i];
        if (qh_order_table_find(e->open_orders, u->client_id)) continue;
        qtr_order_update t = *u;
        if (has_prefix(e, u->client_id)) {
            t.external = false;
            qh_warn(LOGC, "order %s on %s: on the exchange, not open in the store; adopted (ours by its prefix)",
                    u->client_id, u->symbol);
            if (!qh_open_orders_track(e, &t, "adopting")) continue;
            if (adopt_one(e, &t, NULL, 0)) adopted++;
        } else {
            t.external = true;
            qh_warn(LOGC, "reconciliation unknown_order: %s %s: on the exchange, not placed by this host (no %s- prefix):"
                    " kept as external", u->symbol, u->client_id, e->cfg->client_id_prefix);
            record_external(e, &t);
            qh_open_orders_track(e, &t, "reconciliation");
        }
    }
    if (adopted) {
        set_state(e, QH_RS_ADOPTING);
        check_soon(e, ADOPT_TIMEOUT_MS);
        return;
    }
    int nd = compare_positions(e, positions, n_positions);
    qh_info(LOGC, "reconciliation: %d position difference%s between this host and the exchange", nd, nd == 1 ? "" : "s");
    if (nd == 0) {
        qh_info(LOGC, "positions equal the exchange's (%zu symbols, %zu open orders)", n_positions, n_orders);
        set_state(e, QH_RS_OK);
        return;
    }
    if (++e->recon.checks < CHECK_RETRIES) {
        qh_warn(LOGC, "positions differ from the exchange (check %d of %d), looking again: %s", e->recon.checks,
                CHECK_RETRIES, e->recon.detail);
        check_soon(e, CHECK_DELAY_MS);
        return;
    }
    set_state(e, QH_RS_MISMATCH);
    for (const char *line = e->recon.detail; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        qh_error(LOGC, "reconciliation position_mismatch: %.*s", len, line);
        line = nl ? nl + 1 : NULL;
    }
    qh_error(LOGC, "positions differ from the exchange after adoption: new entries stop until `qtr reconcile --ack`");
    qh_publish_alert(e, QTR_ALERT_CRITICAL, "reconcile", "position_mismatch",
                     "%d position(s) differ from the exchange; entries stopped until acknowledged: %.400s",
                     e->recon.n_diffs, e->recon.detail);
}

static void on_snapshot(void *ud, int status, const qtr_order_update *orders, size_t n_orders,
                        const qtr_position *positions, size_t n_positions)
{
    qh_snapshot_deliver(ud, snapshot_checked, status, orders, n_orders, positions, n_positions);
}

static void on_timer(void *ud)
{
    qh_engine *e = ud;
    e->recon.timer = NULL;
    if (!e->running) return;
    if (e->recon.state == QH_RS_ADOPTING) {
        for (size_t i = 0; i < e->recon.n_waiting; i++)
            qh_warn(LOGC, "order %s: no known state %d s after adoption; checking positions anyway",
                    e->recon.waiting[i], ADOPT_TIMEOUT_MS / 1000);
        e->recon.n_waiting = 0;
        set_state(e, QH_RS_CHECKING);
    }
    if (e->recon.state != QH_RS_CHECKING || e->recon.snapshot_out) return;
    e->recon.snapshot_out = true;
    if (e->exchange->ld.exchange.fetch_snapshot(e->exchange->state, on_snapshot, e) != QTR_OK) {
        e->recon.snapshot_out = false;
        qh_warn(LOGC, "the exchange refused to report a snapshot; asking again");
        check_soon(e, SNAPSHOT_RETRY_MS);
    }
}

bool qh_recon_start(qh_engine *e)
{
    if (!e->store || !e->exchange || !e->exchange->ld.exchange.adopt_order || !e->exchange->ld.exchange.fetch_snapshot)
        return false;
    qh_bus_subscribe(e->bus, QTR_EV_ORDER_UPDATE, NULL, on_update, e, e);
    set_state(e, QH_RS_ADOPTING);
    /* the fills already recorded, so only the missed ones are published */
    size_t nf = 0;
    qtr_fill *fills = NULL;
    qh_store_state s;
    char err[256];
    if (qh_store_load_state(e->store, &s, err, sizeof err) == QTR_OK) {
        if (s.n_fills && (fills = malloc(s.n_fills * sizeof *fills)) != NULL)
            nf = qh_store_recent_fills(e->store, fills, s.n_fills);
        qh_store_state_free(&s);
    } else {
        qh_error(LOGC, "store: %s", err);
    }
    /* at the exchange's own stride: one built for an older minor walks
     * smaller fills, and must find each where its struct says */
    void *own_fills = NULL;
    const qtr_fill *theirs = qh_sized_array(fills, nf, sizeof *fills, exchange_size(e, QTR_EV_FILL, sizeof *fills),
                                            &own_fills);
    if (nf && !theirs) {
        qh_error(LOGC, "out of memory handing %zu recorded fills to the exchange; adopting without them", nf);
        nf = 0;
    }
    /* a copy: adopting may change the open-order table */
    size_t n = qh_order_table_count(e->open_orders);
    qtr_order_update *open = n ? malloc(n * sizeof *open) : NULL;
    if (n && !open) n = 0;
    if (open) memcpy(open, qh_order_table_items(e->open_orders), n * sizeof *open);
    size_t waiting = 0;
    for (size_t i = 0; i < n; i++) {
        if (open[i].external && !has_prefix(e, open[i].client_id)) continue;
        if (adopt_one(e, &open[i], theirs, nf)) waiting++;
    }
    qh_info(LOGC, "adopting %zu order%s open or in flight in the store (%zu fills recorded); new entries wait", waiting,
            waiting == 1 ? "" : "s", nf);
    free(open);
    free(own_fills);
    free(fills);
    if (e->recon.n_waiting == 0) set_state(e, QH_RS_CHECKING), check_soon(e, 0);
    else if (e->recon.state == QH_RS_ADOPTING) check_soon(e, ADOPT_TIMEOUT_MS);
    return true;
}

void qh_recon_status(qh_engine *e, qtr_reconcile_status *out)
{
    qtr_reconcile_status s;
    memset(&s, 0, sizeof s);
    qtr_strlcpy(s.state, state_name(e->recon.state), sizeof s.state);
    s.entries_blocked = qh_recon_blocks_entries(e);
    s.n_diffs = e->recon.n_diffs;
    s.since_ms = e->recon.since_ms;
    qtr_strlcpy(s.detail, e->recon.detail, sizeof s.detail);
    qtr_strlcpy(s.ack_user, e->recon.ack_user, sizeof s.ack_user);
    qtr_strlcpy(s.ack_reason, e->recon.ack_reason, sizeof s.ack_reason);
    s.ack_ms = e->recon.ack_ms;
    s.size = sizeof s;
    qh_sized_out(out, &s, sizeof s);   /* the caller's size: never past it, zeros beyond ours */
}

int qh_recon_ack(qh_engine *e, const char *user, const char *reason, char *err, size_t errlen)
{
    if (!reason || !reason[0]) {
        snprintf(err, errlen, "a reason is required");
        return QTR_EINVAL;
    }
    if (e->recon.state != QH_RS_MISMATCH) {
        snprintf(err, errlen, "nothing to acknowledge: reconciliation is %s", state_name(e->recon.state));
        return QTR_EREFUSED;
    }
    const char *who = user && user[0] ? user : "unknown";
    qtr_strlcpy(e->recon.ack_user, who, sizeof e->recon.ack_user);
    qtr_strlcpy(e->recon.ack_reason, reason, sizeof e->recon.ack_reason);
    e->recon.ack_ms = qh_clock_now_ms(e->clock);
    set_state(e, QH_RS_ACKED);
    qh_warn(LOGC, "position differences acknowledged by %s (%s): new entries allowed again", who, reason);
    /* the alert is the store's record of it: user, reason, time */
    qh_publish_alert(e, QTR_ALERT_WARNING, "reconcile", "reconcile_ack", "acknowledged by %.40s: %.200s; differences: %.500s",
                     who, reason, e->recon.detail);
    return QTR_OK;
}

void qh_recon_health(qh_engine *e, qtr_health *out)
{
    out->status = e->recon.state == QH_RS_MISMATCH ? QTR_HEALTH_CRITICAL
                  : qh_recon_blocks_entries(e)     ? QTR_HEALTH_DEGRADED
                                                   : QTR_HEALTH_OK;
    if (e->recon.state == QH_RS_MISMATCH)
        snprintf(out->reason, sizeof out->reason, "mismatch: %d position(s) differ from the exchange; entries stopped until `qtr reconcile --ack`",
                 e->recon.n_diffs);
    else if (e->recon.state == QH_RS_ACKED)
        snprintf(out->reason, sizeof out->reason, "acknowledged by %.30s: %.40s", e->recon.ack_user, e->recon.ack_reason);
    else
        snprintf(out->reason, sizeof out->reason, "%s", state_name(e->recon.state));
}

void qh_recon_free(qh_engine *e)
{
    free(e->recon.waiting);
    e->recon.waiting = NULL;
    e->recon.n_waiting = e->recon.cap_waiting = 0;
}
