/*
 * exits_glue.c — the engine's side of the exit manager (exits/exit_manager.h):
 * its services (the order path, the trading clock, the store, the log) and
 * the bus events it follows. Exit orders go through qh_pipeline_submit_order
 * like any plugin's: the ESS (which lets reduce-only orders through when
 * tripped), the policy and the risk plugins see each one.
 */
#include "engine/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "exits/exit_manager.h"

#define LOGC "exits"

static int64_t sv_now(void *ud) { return qh_clock_now_ms(((qh_engine *)ud)->clock); }

static int sv_submit(void *ud, const qtr_order_intent *o)
{
    return qh_pipeline_submit_order(ud, "exits", o, NULL);
}

static int sv_cancel(void *ud, const char *symbol, const char *cid) { return qh_pipeline_cancel(ud, symbol, cid); }

static bool sv_position(void *ud, const char *symbol, qtr_position *out)
{
    return qh_portfolio_get_position(((qh_engine *)ud)->pf, symbol, out) == 0;
}

typedef struct glue_timer {
    void (*cb)(void *);
    void *arg;
} glue_timer;

static void *sv_timer_at(void *ud, int64_t at_ms, void (*cb)(void *arg), void *arg)
{
    qh_engine *e = ud;
    int64_t delay = at_ms - qh_clock_now_ms(e->clock);
    return qh_timer_start(e->clock, delay > 0 ? delay : 0, false, cb, arg, e->exits);
}

static void sv_timer_stop(void *ud, void *timer) { qh_timer_stop_checked(((qh_engine *)ud)->clock, timer, ((qh_engine *)ud)->exits); }

static int sv_store_plan(void *ud, const char *symbol, const char *owner, const qtr_exit_plan *plan, int64_t opened_ms)
{
    qh_engine *e = ud;
    if (!e->store) return QTR_OK;   /* a backtest without a store: nothing to keep */
    char err[256];
    int rc = plan ? qh_store_exit_plan_put(e->store, symbol, owner, plan, sizeof *plan, opened_ms,
                                           qh_clock_now_ms(e->clock), err, sizeof err)
                  : qh_store_exit_plan_delete(e->store, symbol, err, sizeof err);
    if (rc != QTR_OK) qh_error(LOGC, "%s", err);
    return rc;
}

static void sv_log(void *ud, qtr_log_level level, const char *line)
{
    (void)ud;
    qh_log((qh_log_level)level, LOGC, "%s", line);
}

static void sv_client_id(void *ud, char out[QTR_CLIENT_ID_MAX])
{
    qh_engine *e = ud;
    snprintf(out, QTR_CLIENT_ID_MAX, "%s-%s-e%llu", e->cfg->client_id_prefix, e->run_id,
             (unsigned long long)++e->order_seq);
    if (!qtr_client_id_valid(out)) out[0] = '\0';   /* too long: the order path names it */
}

static qtr_regime sv_regime(void *ud, const char *symbol)
{
    qtr_regime_event r;
    return qh_regime_glue_get(ud, symbol, &r) == QTR_OK ? r.regime : QTR_REGIME_UNKNOWN;
}

static void on_fill(void *ud, const qtr_event *ev) { qh_exits_on_fill(ud, &ev->u.fill); }

static void on_position(void *ud, const qtr_event *ev)
{
    if (ev->flags & QTR_EVF_REPLAY) return;   /* restored from the store: qh_exits_glue_start reconciles */
    qh_exits_on_position(ud, &ev->u.position);
}

static void on_update(void *ud, const qtr_event *ev) { qh_exits_on_order_update(ud, &ev->u.order_update); }

/* The working prices, for whether a trailing stop has activated (shown by
 * list_exit_plans): a candle's range is the last price's path, a mark
 * price event the mark's. */
static void on_candle(void *ud, const qtr_event *ev)
{
    const qtr_candle *c = &ev->u.candle;
    qh_exits_on_price(ud, c->symbol, QTR_WORKING_LAST, c->low, c->high);
}

static void on_mark(void *ud, const qtr_event *ev)
{
    const qtr_mark_price *mp = &ev->u.mark_price;
    qh_exits_on_price(ud, mp->symbol, QTR_WORKING_MARK, mp->mark_price, mp->mark_price);
}

static void on_stored_plan(void *ud, const char *symbol, const char *owner, const void *plan, size_t size,
                           int64_t opened_ms)
{
    qtr_exit_plan p;
    memset(&p, 0, sizeof p);
    memcpy(&p, plan, size < sizeof p ? size : sizeof p);
    p.size = (uint32_t)(size < sizeof p ? size : sizeof p);
    qh_exits_load_plan(ud, symbol, owner, &p, opened_ms);
}

int qh_exits_glue_init(qh_engine *e, char *err, size_t errlen)
{
    qh_exit_services sv = {
        .ud = e, .now_ms = sv_now, .submit = sv_submit, .cancel = sv_cancel, .position = sv_position,
        .timer_at = sv_timer_at, .timer_stop = sv_timer_stop, .store_plan = sv_store_plan, .log = sv_log,
        .client_id = sv_client_id, .regime = sv_regime,
    };
    e->exits = qh_exits_new(&sv);
    if (!e->exits) {
        snprintf(err, errlen, "exits: out of memory");
        return -1;
    }
    qh_exits_hold(e->exits);   /* until reconcile_now: the exchange's open orders first */
    /* after the pipeline's own handlers: a fill has moved the portfolio
     * before the manager sees it */
    qh_bus_subscribe(e->bus, QTR_EV_FILL, NULL, on_fill, e->exits, e->exits);
    qh_bus_subscribe(e->bus, QTR_EV_POSITION, NULL, on_position, e->exits, e->exits);
    qh_bus_subscribe(e->bus, QTR_EV_ORDER_UPDATE, NULL, on_update, e->exits, e->exits);
    qh_bus_subscribe(e->bus, QTR_EV_CANDLE, NULL, on_candle, e->exits, e->exits);
    qh_bus_subscribe(e->bus, QTR_EV_MARK_PRICE, NULL, on_mark, e->exits, e->exits);
    if (e->store && qh_store_exit_plans_each(e->store, on_stored_plan, e->exits, err, errlen) != QTR_OK) return -1;
    return 0;
}

#define EXITS_CHECK_MS 2000

static void reconcile_now(qh_engine *e);

/* Live: the restored positions are reconciled once the start-up
 * reconciliation has heard from the exchange (adopted orders reported),
 * then every EXITS_CHECK_MS a position left without exits gets them. */
static void on_check(void *ud)
{
    qh_engine *e = ud;
    if (!e->running) return;                  /* stopping: no new orders */
    if (!e->exits_reconciled) {
        if (qh_recon_blocks_entries(e) && e->recon.state != QH_RS_MISMATCH) return;
        reconcile_now(e);
        return;
    }
    qh_exits_check(e->exits);
}

void qh_exits_glue_start(qh_engine *e)
{
    if (!e->exits) return;
    if (!e->backtest) {
        qh_timer_start(e->clock, EXITS_CHECK_MS, true, on_check, e, e->exits);
        if (qh_recon_blocks_entries(e)) return;   /* on_check reconciles when it has settled */
    }
    reconcile_now(e);
}

static void reconcile_now(qh_engine *e)
{
    e->exits_reconciled = true;
    size_t cap = qh_portfolio_symbol_count(e->pf);
    qtr_position *pos = cap ? calloc(cap, sizeof *pos) : NULL;
    if (cap && !pos) {
        qh_error(LOGC, "out of memory: the exits of the restored positions are not checked");
        return;
    }
    size_t n = cap ? qh_portfolio_list_positions(e->pf, pos, cap) : 0;
    qh_exits_reconcile(e->exits, pos, n, qh_order_table_items(e->open_orders), qh_order_table_count(e->open_orders));
    free(pos);
}

void qh_exits_glue_free(qh_engine *e)
{
    if (!e->exits) return;
    if (e->bus) qh_bus_unsubscribe_owner(e->bus, e->exits);
    if (e->clock) qh_timer_stop_owner(e->clock, e->exits);
    qh_exits_free(e->exits);
    e->exits = NULL;
}
