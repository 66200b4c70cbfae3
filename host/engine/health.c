/* health.c — health of every component, and the host's metrics. */
#include "engine/engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put(qtr_component_health *out, size_t cap, size_t *n, const char *name, qtr_health_status st,
                const char *reason)
{
    if (*n >= cap) return;
    qtr_component_health *c = &out[(*n)++];
    memset(c, 0, sizeof *c);
    qtr_strlcpy(c->component, name, sizeof c->component);
    c->health.status = st;
    qtr_strlcpy(c->health.reason, reason, sizeof c->health.reason);
}

size_t qh_engine_health(qh_engine *e, qtr_component_health *out, size_t cap)
{
    size_t n = 0;
    char why[QTR_REASON_MAX];
    int64_t now = qh_clock_now_ms(e->clock);

    qh_bus_stats bs;
    qh_bus_stats_get(e->bus, &bs);
    snprintf(why, sizeof why, "queue %zu, high water %zu", bs.queue_depth, bs.queue_high_water);
    put(out, cap, &n, "bus", bs.queue_depth > 100000 ? QTR_HEALTH_DEGRADED : QTR_HEALTH_OK, why);

    if (!e->backtest) {
        snprintf(why, sizeof why, "lag %.1f ms", e->loop_lag_ms);
        put(out, cap, &n, "loop",
            e->loop_lag_ms > 1000 ? QTR_HEALTH_CRITICAL : e->loop_lag_ms > 100 ? QTR_HEALTH_DEGRADED : QTR_HEALTH_OK, why);
    }

    qtr_health h;
    qh_ess_health(e->ess, &h);
    put(out, cap, &n, "ess", h.status, h.reason);
    qh_policy_health(e->policy, now, &h);
    put(out, cap, &n, "policy", h.status, h.reason);
    if (!e->backtest) {
        qh_persist_health(e, &h);
        put(out, cap, &n, "store", h.status, h.reason);
    }
    if (e->recon.state != QH_RS_OFF) {
        qh_recon_health(e, &h);
        put(out, cap, &n, "reconcile", h.status, h.reason);
    }

    qh_bus_link_health(e, out, cap, &n);   /* bus_redis (bus/bus_link.h) */
    size_t n_host = n;   /* names taken by the host's own components */
    for (size_t i = 0; i < e->n_plugins; i++) {
        qh_plugin_rt *p = &e->plugins[i];
        /* a plugin named like a host component (the risk plugin "policy")
         * is listed under its file name, so neither hides the other */
        char name[QTR_NAME_MAX];
        qtr_strlcpy(name, p->ld.desc.name, sizeof name);
        for (size_t k = 0; k < n_host && k < cap; k++)
            if (strcmp(out[k].component, name) == 0)
                snprintf(name, sizeof name, "%s_%.20s", qtr_kind_name(p->ld.desc.kind), p->ld.desc.name);
        qtr_health ph = { QTR_HEALTH_OK, "running" };
        if (p->has_set_health) ph = p->set_health;
        if (p->ld.desc.health) p->ld.desc.health(p->state, &ph);
        if (p->stopped) { ph.status = QTR_HEALTH_CRITICAL; qtr_strlcpy(ph.reason, "stopped", sizeof ph.reason); }
        put(out, cap, &n, name, ph.status, ph.reason);
    }
    return n;
}

typedef struct sink { qtr_write_cb write; void *ud; } sink;

static void line(sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(sink *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) s->write(s->ud, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void qh_engine_metrics_write(qh_engine *e, qtr_write_cb write, void *ud)
{
    /* refresh the gauges that are read, not pushed */
    qtr_account a;
    qh_engine_account(e, &a);
    qh_metric_set(qh_metrics_gauge(e->metrics, "equity", "Account equity in quote currency", NULL, NULL),
                  qtr_dec_to_display_double(a.equity));
    qh_metric_set(qh_metrics_gauge(e->metrics, "drawdown_pct", "Drawdown from the equity peak, percent", NULL, NULL),
                  qtr_dec_to_display_double(a.drawdown_pct));
    qh_metric_set(qh_metrics_gauge(e->metrics, "daily_drawdown_pct", "Loss from the day's start equity, percent", NULL, NULL),
                  qtr_dec_to_display_double(a.daily_drawdown_pct));
    qh_metric_set(qh_metrics_gauge(e->metrics, "open_positions", "Open positions", NULL, NULL), a.open_positions);
    qh_metric_set(qh_metrics_gauge(e->metrics, "open_orders", "Open orders", NULL, NULL), (double)qh_order_table_count(e->open_orders));
    qtr_ess_status es;
    qh_ess_status(e->ess, &es);
    static const char *const states[] = { "ARMED", "TRIPPED", "COOLDOWN" };
    for (int i = 0; i < 3; i++)
        qh_metric_set(qh_metrics_gauge(e->metrics, "ess_state", "ESS state (1 for the current one)", "state", states[i]),
                      (int)es.state == i ? 1 : 0);
    qh_bus_stats bs;
    qh_bus_stats_get(e->bus, &bs);
    qh_metric_set(qh_metrics_gauge(e->metrics, "bus_queue_depth", "Events waiting on the bus", NULL, NULL), (double)bs.queue_depth);
    qh_metric_set(qh_metrics_gauge(e->metrics, "bus_queue_high_water", "Most events ever waiting on the bus", NULL, NULL),
                  (double)bs.queue_high_water);
    qh_metric_set(qh_metrics_gauge(e->metrics, "loop_lag_seconds", "Event loop lag", NULL, NULL), e->loop_lag_ms / 1000.0);
    qh_sigq_stats ss;
    qh_sigq_stats_get(e->sigq, &ss);
    qh_metric_set(qh_metrics_gauge(e->metrics, "signal_queue_depth", "Signals waiting", NULL, NULL), (double)ss.depth);
    if (e->store) {
        qh_store_stats st;
        qh_store_get_stats(e->store, &st);
        qh_metric_set(qh_metrics_gauge(e->metrics, "store_queue_depth", "Records waiting for the store's writer", NULL, NULL),
                      st.queue_depth);
        qh_metric_set(qh_metrics_gauge(e->metrics, "store_committed", "Records committed to the trade store", NULL, NULL),
                      (double)st.committed);
        qh_metric_set(qh_metrics_gauge(e->metrics, "store_duplicate_fills", "Fills the store already had", NULL, NULL),
                      (double)st.duplicate_fills);
    }
    qh_metrics_write(e->metrics, write, ud);
    /* signal drops are counted by the queue itself; write them as a counter family */
    sink s = { write, ud };
    line(&s, "# HELP qtr_signal_drops_total Signals dropped by reason\n# TYPE qtr_signal_drops_total counter\n");
    for (int r = 0; r < QH_SIGQ_DROP__COUNT; r++)
        line(&s, "qtr_signal_drops_total{reason=\"%s\"} %llu\n", qh_sigq_drop_name((qh_sigq_drop)r),
             (unsigned long long)ss.dropped[r]);
}
