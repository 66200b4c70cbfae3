/* engine.c — lifecycle: create, load the policy and plugins, start the live
 * timers, stop, free; and the host's one publish helper. */
#include "engine/engine_internal.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "market/candles.h"

#define LOGC "engine"

static int mkdir_p(const char *path)
{
    char tmp[512];
    qtr_strlcpy(tmp, path, sizeof tmp);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
    return 0;
}

qh_plugin_rt *qh_engine_plugin_by_ctx(qtr_ctx *ctx) { return ctx ? ctx->plugin : NULL; }

void qh_event_make(qtr_event *ev, qtr_event_type type, uint32_t flags, int64_t time_ms, const void *payload,
                   size_t size)
{
    /* every byte written once: the header zeroed (padding too), then the
     * payload, then zeros after it to the union's end */
    size_t n = size < sizeof ev->u ? size : sizeof ev->u;
    memset(ev, 0, offsetof(qtr_event, u));
    ev->type = type;
    ev->flags = flags;
    ev->time_ms = time_ms;
    memcpy(&ev->u, payload, n);
    memset((unsigned char *)&ev->u + n, 0, sizeof ev->u - n);
}

int qh_engine_publish(qh_engine *e, qtr_event_type type, uint32_t flags, int64_t time_ms, const void *payload,
                      size_t size)
{
    /* no one listens (a backtest's equity points without a store): the
     * event is counted and not built */
    if (qh_bus_drop_unheard(e->bus, type)) return QTR_OK;
    if (type > QTR_EV_NONE && type < QTR_EV__COUNT && !qh_bus_dispatching(e->bus)) {
        /* as qh_event_make, without zeroing the union's tail again */
        qtr_event *in_place = &e->pub_ev[type];
        size_t n = size < sizeof in_place->u ? size : sizeof in_place->u;
        in_place->type = type;
        in_place->flags = flags;
        in_place->time_ms = time_ms;
        memcpy(&in_place->u, payload, n);
        if (n < e->pub_len[type]) memset((unsigned char *)&in_place->u + n, 0, e->pub_len[type] - n);
        e->pub_len[type] = n;
        return qh_bus_publish(e->bus, in_place);
    }
    qtr_event ev;
    qh_event_make(&ev, type, flags, time_ms, payload, size);
    return qh_bus_publish(e->bus, &ev);
}

static void register_metrics(qh_engine *e)
{
    qh_metrics *m = e->metrics;
    e->m.orders_sent = qh_metrics_counter(m, "orders_total", "Orders by outcome at the host", "result", "sent");
    e->m.orders_rejected_ess = qh_metrics_counter(m, "orders_total", "Orders by outcome at the host", "result", "rejected_ess");
    e->m.orders_rejected_risk = qh_metrics_counter(m, "orders_total", "Orders by outcome at the host", "result", "rejected_risk");
    e->m.orders_rejected_invalid = qh_metrics_counter(m, "orders_total", "Orders by outcome at the host", "result", "rejected_invalid");
    e->m.orders_rejected_exchange = qh_metrics_counter(m, "orders_total", "Orders by outcome at the host", "result", "rejected_exchange");
    e->m.fills = qh_metrics_counter(m, "fills_total", "Fills applied to the portfolio", NULL, NULL);
    e->m.duplicate_fills = qh_metrics_counter(m, "duplicate_fills_total", "Fills ignored because their id was already applied", NULL, NULL);
    e->m.signals_in = qh_metrics_counter(m, "signals_total", "Signals submitted by strategies", NULL, NULL);
    e->m.candles = qh_metrics_counter(m, "candles_total", "Candles published", NULL, NULL);
    e->m.policy_loads_ok = qh_metrics_counter(m, "policy_loads_total", "Policy loads by result", "result", "ok");
    e->m.policy_loads_failed = qh_metrics_counter(m, "policy_loads_total", "Policy loads by result", "result", "failed");
    e->m.policy_timeouts = qh_metrics_counter(m, "policy_timeouts_total",
                                              "Orders refused because judge() overran its time or allocation budget",
                                              NULL, NULL);
    e->m.ess_trips = qh_metrics_counter(m, "ess_trips_total", "ESS trips", NULL, NULL);
    e->m.exchange_errors = qh_metrics_counter(m, "exchange_errors_seen_total", "Exchange errors seen by the host (they feed the ESS)", NULL, NULL);
    e->m.fills_settled = qh_metrics_counter(m, "fills_settled_total", "Fills durable in the trade store", NULL, NULL);
}

static void on_policy_overrun(void *ud, const qh_policy_overrun *o);

qh_engine *qh_engine_new(qh_config *cfg, struct event_base *base, int64_t start_ms, char *err, size_t errlen)
{
    qh_engine *e = calloc(1, sizeof *e);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    e->cfg = cfg;
    e->backtest = base == NULL;
    e->base = base;
    e->clock = qh_clock_new(base, start_ms);
    e->bus = qh_bus_new();
    e->metrics = qh_metrics_new();
    e->syms = qh_symbol_index_new(0);   /* growing */
    e->pf = qh_portfolio_new(cfg->starting_balance);
    qh_policy_config pc = {
        .mem_limit_bytes = cfg->policy.mem_limit_bytes,
        .instr_limit = cfg->policy.instr_limit,
        .max_age_ms = cfg->policy.reload_interval_ms,
        .time_limit_ms = cfg->policy.time_limit_ms,
        .alloc_limit_bytes = cfg->policy.alloc_limit_bytes,
        .on_overrun = on_policy_overrun,
        .overrun_ud = e,
        .caps = cfg->caps,   /* hard caps no policy may loosen */
    };
    e->policy = qh_policy_new(&pc);
    qh_sigq_config sc = {
        .capacity = cfg->signals.capacity,
        .per_cycle = cfg->signals.per_cycle,
        .max_age_ms = cfg->signals.max_age_ms,
        .cycle_ms = cfg->signals.cycle_ms,
    };
    e->sigq = qh_sigq_new(&sc);
    e->open_orders = qh_order_table_new(QH_MAX_OPEN_ORDERS);
    e->fills_seen = qh_fill_dedup_new(QH_FILL_SEEN);
    if (!e->clock || !e->bus || !e->metrics || !e->syms || !e->pf || !e->policy || !e->sigq || !e->open_orders ||
        !e->fills_seen) {
        snprintf(err, errlen, "out of memory creating the engine");
        qh_engine_free(e);
        return NULL;
    }
    const char *ess_path = NULL;
    if (!e->backtest) {
        if (mkdir_p(cfg->state_dir) != 0) {
            snprintf(err, errlen, "state_dir %s: cannot create: %s", cfg->state_dir, strerror(errno));
            qh_engine_free(e);
            return NULL;
        }
        ess_path = cfg->ess_state_file;
        /* client ids must differ across restarts (a repeated id could read
         * as a duplicate order or fill): tag them with the start millisecond */
        uint64_t t = (uint64_t)qh_wall_ms();
        static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
        char tmp[16];
        int n = 0;
        do { tmp[n++] = digits[t % 36]; t /= 36; } while (t && n < 15);
        for (int i = 0; i < n; i++) e->run_id[i] = tmp[n - 1 - i];
        e->run_id[n] = '\0';
    } else {
        qtr_strlcpy(e->run_id, "bt", sizeof e->run_id);
    }
    qh_ess_hooks hooks = {
        .ud = e,
        .on_transition = qh_ess_hook_transition,
        .cancel_all_orders = qh_ess_hook_cancel_all,
        .close_all_positions = qh_ess_hook_close_all,
    };
    char eerr[256] = "";
    e->ess = qh_ess_new(&hooks, ess_path, eerr, sizeof eerr);
    if (!e->ess) {
        snprintf(err, errlen, "ESS state: %s", eerr);
        qh_engine_free(e);
        return NULL;
    }
    register_metrics(e);
    /* Live runs keep a trade store; a backtest only one of its own, on request. */
    if (cfg->store.path[0] && (!e->backtest || cfg->store.backtest_requested)) {
        char path[600];
        qh_config_resolve(cfg, cfg->store.path, path, sizeof path);
        if (qh_persist_open(e, path, e->backtest, err, errlen) != 0) {
            qh_engine_free(e);
            return NULL;
        }
    }
    qh_host_api_init(e, &e->api);
    e->host_ctx.eng = e;
    e->host_ctx.name = "host";
    return e;
}

void qh_engine_set_observer(qh_engine *e, const qh_engine_observer *obs) { e->obs = *obs; }
const qtr_host *qh_engine_host_api(qh_engine *e) { return &e->api; }
qtr_ctx *qh_engine_host_ctx(qh_engine *e) { return &e->host_ctx; }

void qh_engine_account(qh_engine *e, qtr_account *out)
{
    qh_portfolio_account(e->pf, qh_clock_now_ms(e->clock), out);
}

/* The policy path: from config, else the built-in default (policies/default.lua
 * embedded in the binary, so it is there wherever qtr runs from). */
static void policy_path(qh_engine *e, char *out, size_t outlen)
{
    if (e->cfg->policy.file[0]) qh_config_resolve(e->cfg, e->cfg->policy.file, out, outlen);
    else qtr_strlcpy(out, QH_POLICY_BUILTIN, outlen);
}

static void apply_policy_to_ess(qh_engine *e)
{
    const qh_policy_rules *l = qh_policy_limits(e->policy);
    if (!l) return;
    qh_ess_limits el = {
        .max_drawdown_pct = l->ess_max_drawdown_pct,
        .daily_loss_pct = l->ess_daily_loss_pct,
        .max_consecutive_errors = l->ess_max_consecutive_errors,
        .cooldown_ms = l->ess_cooldown_ms,
        .close_positions = l->ess_close_positions,
    };
    qh_ess_set_limits(e->ess, &el);
}

/* A judge() that overran its deadline or allocation budget (its order was
 * refused with policy_timeout): counted and alerted; once the policy is
 * withdrawn the ESS follows the limits back in force, or trips when no
 * policy is left. */
static void on_policy_overrun(void *ud, const qh_policy_overrun *o)
{
    qh_engine *e = ud;
    qh_metric_add(e->m.policy_timeouts, 1);
    if (o->action == QH_OVERRUN_COUNTED) {
        qh_publish_alert(e, QTR_ALERT_WARNING, "policy", "policy_timeout", "%s", o->error);
        return;
    }
    qtr_policy_event last;
    if (qh_policy_history(e->policy, &last, 1) == 1)
        QH_PUBLISH(e, QTR_EV_POLICY, 0, qh_clock_now_ms(e->clock), policy, last);
    if (o->action == QH_OVERRUN_REVERTED) {
        apply_policy_to_ess(e);
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "policy", "policy_withdrawn",
                         "policy %s withdrawn after repeated judge() overruns; %s is back in force", o->withdrawn,
                         o->restored);
    } else {
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "policy", "policy_withdrawn",
                         "policy %s withdrawn after repeated judge() overruns; no good policy to go back to",
                         o->withdrawn);
        qh_ess_trip_host(e->ess, "risk policy withdrawn after repeated judge() overruns, none to go back to",
                         qh_clock_now_ms(e->clock));
    }
}

int qh_engine_policy_load(qh_engine *e, const char *why, char *err, size_t errlen)
{
    qtr_policy_event pev;
    int64_t now = qh_clock_now_ms(e->clock);
    int rc;
    if (qh_policy_path(e->policy) && qh_policy_path(e->policy)[0]) {
        rc = qh_policy_reload(e->policy, now, &pev);
    } else {
        char path[512];
        policy_path(e, path, sizeof path);
        rc = qh_policy_load(e->policy, path, now, &pev);
    }
    QH_PUBLISH(e, QTR_EV_POLICY, 0, now, policy, pev);
    if (rc == 0) {
        qh_metric_add(e->m.policy_loads_ok, 1);
        apply_policy_to_ess(e);
        qh_info("policy", "loaded %s (%s) version %u sha256 %.16s", pev.file, why, pev.version, pev.hash);
        if (err && errlen) err[0] = '\0';
    } else {
        qh_metric_add(e->m.policy_loads_failed, 1);
        bool have = qh_policy_loaded(e->policy);
        qh_error("policy", "%s: %s; %s", why, pev.error, have ? "keeping the last good policy" : "no policy loaded");
        qh_publish_alert(e, have ? QTR_ALERT_WARNING : QTR_ALERT_CRITICAL, "policy", "policy_load_failed", "%s",
                         pev.error);
        if (err) snprintf(err, errlen, "%s", pev.error);
    }
    return rc;
}

int qh_engine_reload_policy(qh_engine *e, char *err, size_t errlen)
{
    int rc = qh_engine_policy_load(e, "reload requested", err, errlen);
    qh_engine_reload_plugins(e);   /* a model file, whatever became of the policy */
    return rc;
}

static const char *kind_file_prefix(qtr_kind k) { return qtr_kind_name(k); }

/* Open, check and init one configured plugin. 0 ok, 1 skipped (optional), 2 refused. */
static int load_one(qh_engine *e, const qh_plugin_conf *pc, char *err, size_t errlen)
{
    char file[600], path[1200];
    /* a bare file name is looked for on the plugin path; a path is taken
     * from the config file's folder */
    if (pc->file[0] && strchr(pc->file, '/')) qh_config_resolve(e->cfg, pc->file, file, sizeof file);
    else if (pc->file[0]) qtr_strlcpy(file, pc->file, sizeof file);
    else snprintf(file, sizeof file, "%s_%s.so", kind_file_prefix(pc->kind), pc->name);
    char rel[1200];
    const char *dirs[16];
    char resolved[16][600];
    size_t nd = 0;
    for (size_t i = 0; i < e->cfg->n_plugin_path && nd < 16; i++) {
        qh_config_resolve(e->cfg, e->cfg->plugin_path[i], resolved[nd], sizeof resolved[nd]);
        dirs[nd] = resolved[nd];
        nd++;
    }
    if (!qh_loader_find(file, dirs, nd, path, sizeof path)) {
        snprintf(rel, sizeof rel, "plugin %s (%s): file %s not found on the plugin path (see `qtr plugins`)", pc->name,
                 qtr_kind_name(pc->kind), file);
        if (!pc->required) { qh_warn(LOGC, "%s; optional, skipped", rel); return 1; }
        snprintf(err, errlen, "%s", rel);
        return 2;
    }
    if (e->n_plugins >= QH_MAX_PLUGINS) { snprintf(err, errlen, "too many plugins"); return 2; }
    qh_plugin_rt *p = &e->plugins[e->n_plugins];
    memset(p, 0, sizeof *p);
    const char *taken[QH_MAX_PLUGINS];
    for (size_t i = 0; i < e->n_plugins; i++) taken[i] = e->plugins[i].ld.desc.name;
    char lerr[1400];
    if (qh_loader_open(path, taken, e->n_plugins, &p->ld, lerr, sizeof lerr) != 0) {
        if (!pc->required) { qh_warn(LOGC, "%s; optional, skipped", lerr); return 1; }
        snprintf(err, errlen, "%s", lerr);
        return 2;
    }
    const char *why = NULL;
    if (p->ld.desc.kind != pc->kind) why = "its kind differs from the config's";
    else if (strcmp(p->ld.desc.name, pc->name) != 0) why = "its name differs from the config's";
    if (why) {
        snprintf(lerr, sizeof lerr, "plugin %s refused: %s (config: %s %s, plugin: %s %s)", path, why,
                 qtr_kind_name(pc->kind), pc->name, qtr_kind_name(p->ld.desc.kind), p->ld.desc.name);
        qh_loader_close(&p->ld);
        if (!pc->required) { qh_warn(LOGC, "%s; optional, skipped", lerr); return 1; }
        snprintf(err, errlen, "%s", lerr);
        return 2;
    }
    if (qh_config_check_options(pc, p->ld.desc.options, lerr, sizeof lerr) != 0) {
        qh_loader_close(&p->ld);
        snprintf(err, errlen, "%s: %s", e->cfg->path, lerr);
        return 2;      /* a wrong option is a config error even for an optional plugin */
    }
    p->conf = pc;
    p->ctx.eng = e;
    p->ctx.plugin = p;
    p->ctx.name = p->ld.desc.name;
    e->n_plugins++;
    int rc = p->ld.desc.init(&e->api, &p->ctx, &p->state);
    if (rc != 0) {
        /* init failed: drop whatever it registered, then unload */
        qh_bus_unsubscribe_owner(e->bus, p);
        qh_timer_stop_owner(e->clock, p);
        e->n_plugins--;
        if (p->init_error[0])
            snprintf(lerr, sizeof lerr, "plugin %s (%s) failed to initialise: %s", p->ld.desc.name, path, p->init_error);
        else
            snprintf(lerr, sizeof lerr, "plugin %s (%s) failed to initialise (init returned %d)", p->ld.desc.name, path,
                     rc);
        qh_loader_close(&p->ld);
        if (!pc->required) { qh_warn(LOGC, "%s; optional, skipped", lerr); return 1; }
        snprintf(err, errlen, "%s", lerr);
        return 2;
    }
    p->inited = true;
    /* listed at 0 from the start, so a first refusal shows as an increase */
    qh_publish_refused_metric(e, p);
    qh_info(LOGC, "loaded %s plugin %s %s from %s (ABI %u.%u)", qtr_kind_name(p->ld.desc.kind), p->ld.desc.name,
            p->ld.desc.version, path, p->ld.abi_major, p->ld.abi_minor);
    return 0;
}

static void strategy_on_candle(void *ud, const qtr_event *ev)
{
    qh_plugin_rt *p = ud;
    p->ld.strategy.on_candle(p->state, &ev->u.candle);
}

static void strategy_on_fill(void *ud, const qtr_event *ev)
{
    qh_plugin_rt *p = ud;
    p->ld.strategy.on_fill(p->state, &ev->u.fill);
}


/* A strategy gets the candles of the symbols in its `symbols` option, or of
 * every symbol when it declares no such option or leaves it empty
 * (qtr_strategy_ops.on_candle). One subscription a symbol: the bus filters.
 * 0, or -1 with err set. */
static int subscribe_candles(qh_engine *e, qh_plugin_rt *p, char *err, size_t errlen)
{
    const char *const *only = NULL;
    size_t n = 0;
    /* ask only a plugin that declares the option: asking for an undeclared
     * one is logged as the plugin's bug */
    bool declares = false;
    for (const qtr_option *o = p->ld.desc.options; o && o->name; o++)
        declares = declares || (strcmp(o->name, "symbols") == 0 && o->type == QTR_OPT_STRING_LIST);
    if (!declares || e->api.config_list(&p->ctx, "symbols", &only, &n) != QTR_OK || n == 0)
        only = NULL, n = 0;
    for (size_t i = 0; i < (n ? n : 1); i++) {
        bool again = false;
        for (size_t j = 0; j < i; j++) again = again || strcmp(only[i], only[j]) == 0;
        if (again) continue;
        if (!qh_bus_subscribe(e->bus, QTR_EV_CANDLE, n ? only[i] : NULL, strategy_on_candle, p, p)) {
            snprintf(err, errlen, "%s: plugin %s: options.symbols[%zu]: not a symbol (at most %d characters)",
                     e->cfg->path, p->ld.desc.name, i + 1, QTR_SYMBOL_MAX - 1);
            return -1;
        }
    }
    return 0;
}

static void strategy_on_update(void *ud, const qtr_event *ev)
{
    qh_plugin_rt *p = ud;
    p->ld.strategy.on_order_update(p->state, &ev->u.order_update);
}

int qh_engine_load(qh_engine *e, char *err, size_t errlen)
{
    char perr[512];
    if (qh_engine_policy_load(e, "start", perr, sizeof perr) != 0) {
        snprintf(err, errlen, "policy: %s", perr);
        return 2;
    }
    if (qh_persist_restore(e, err, errlen) != 0) return 2;
    size_t n_exchange = 0;
    for (size_t i = 0; i < e->cfg->n_plugins; i++) n_exchange += e->cfg->plugins[i].kind == QTR_KIND_EXCHANGE;
    /* one, or none on a strategy host or an observer (bus/bus_link.h) */
    if (qh_bus_link_check_exchange(e->cfg, e->backtest, err, errlen) != 0) return 2;
    /* Risk plugins are optional extra checks: the host enforces the policy
     * on every order itself (pipeline.c), so none is needed. */
    /* Load order fixes who sees a candle first: the exchange (fills resting
     * orders), then the host (marks the portfolio), then strategies. */
    static const qtr_kind order[] = { QTR_KIND_EXCHANGE, QTR_KIND_RISK, QTR_KIND_DASHBOARD };
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < e->cfg->n_plugins; i++) {
            const qh_plugin_conf *pc = &e->cfg->plugins[i];
            if (pc->kind != order[k]) continue;
            if (pc->kind == QTR_KIND_DASHBOARD && e->backtest) continue;
            int rc = load_one(e, pc, err, errlen);
            if (rc == 2) return 2;
            if (rc == 0) {
                qh_plugin_rt *p = &e->plugins[e->n_plugins - 1];
                if (pc->kind == QTR_KIND_EXCHANGE) e->exchange = p;
                if (pc->kind == QTR_KIND_RISK) e->risk = p;
            }
        }
    }
    if (n_exchange && !e->exchange) {
        snprintf(err, errlen, "%s: the exchange plugin did not load", e->cfg->path);
        return 2;
    }
    qh_market_subscribe(e);
    qh_pipeline_subscribe(e);
    if (qh_regime_glue_init(e, err, errlen) != 0) return 2;
    if (qh_exits_glue_init(e, err, errlen) != 0) return 2;
    for (size_t i = 0; i < e->cfg->n_plugins; i++) {
        const qh_plugin_conf *pc = &e->cfg->plugins[i];
        if (pc->kind != QTR_KIND_STRATEGY) continue;
        int rc = load_one(e, pc, err, errlen);
        if (rc == 2) return 2;
        if (rc != 0) continue;
        qh_plugin_rt *p = &e->plugins[e->n_plugins - 1];
        if (subscribe_candles(e, p, err, errlen) != 0) return 2;
        if (p->ld.strategy.on_fill) qh_bus_subscribe(e->bus, QTR_EV_FILL, NULL, strategy_on_fill, p, p);
        if (p->ld.strategy.on_order_update)
            qh_bus_subscribe(e->bus, QTR_EV_ORDER_UPDATE, NULL, strategy_on_update, p, p);
    }
    qh_regime_glue_settle(e);
    /* the Redis bus of a live server with a `bus` section (bus/bus_link.h) */
    return qh_bus_link_open(e, err, errlen);
}

/* ---- live timers ---- */

static void publish_candle(qh_engine *e, const qtr_candle *c)
{
    QH_PUBLISH(e, QTR_EV_CANDLE, 0, qh_clock_now_ms(e->clock), candle, *c);
}

static void on_market_tick(void *ud)
{
    qh_engine *e = ud;
    if (e->synth) {
        for (size_t i = 0; i < e->cfg->market.n_symbols; i++) {
            qtr_candle c;
            qh_synth_next(e->synth, &c);
            publish_candle(e, &c);
        }
    } else if (e->replay) {
        qh_candle_vec *v = e->replay;
        if (e->replay_pos < v->len) publish_candle(e, &v->items[e->replay_pos++]);
        if (e->replay_pos == v->len) {
            qh_info(LOGC, "market replay finished (%zu candles)", v->len);
            qh_timer_stop(e->t_market);
            e->t_market = NULL;
        }
    }
}

static void on_cycle(void *ud) { qh_pipeline_cycle(ud); }

static void on_drain(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    qh_engine *e = ud;
    if (e->running) qh_pipeline_drain(e);   /* stopping: no new orders */
}

static void on_ess_tick(void *ud)
{
    qh_engine *e = ud;
    qh_ess_tick(e->ess, qh_clock_now_ms(e->clock));
    qh_pipeline_enforce_flat(e);
}

void qh_engine_policy_timer(void *ud)
{
    qh_engine *e = ud;
    qh_engine_policy_load(e, "scheduled reload", NULL, 0);
}

/* Only measures: how late this tick came. (It once also reloaded a stale
 * policy, a second reload path beside the policy's own timer.) */
void qh_engine_lag_probe(void *ud)
{
    qh_engine *e = ud;
    int64_t now = qh_mono_ns();
    if (e->lag_expected_ns) {
        int64_t lag = now - e->lag_expected_ns;
        e->loop_lag_ms = lag > 0 ? (double)lag / 1e6 : 0;
    }
    e->lag_expected_ns = now + QH_LAG_PROBE_MS * 1000000LL;
}

static int start_market(qh_engine *e, char *err, size_t errlen)
{
    const qh_config *c = e->cfg;
    if (c->market.source == QH_MARKET_SYNTHETIC) {
        if (!c->market.n_symbols) {
            snprintf(err, errlen, "%s: market.symbols: the synthetic market needs at least one symbol", c->path);
            return 2;
        }
        qtr_dec *prices = NULL;
        if (c->market.start_price) {
            prices = calloc(c->market.n_symbols, sizeof *prices);
            if (!prices) return 1;
            for (size_t i = 0; i < c->market.n_symbols; i++) prices[i] = c->market.start_price;
        }
        int64_t now = qh_wall_ms();
        qh_synth_config sc = {
            .seed = c->market.seed,
            .start_ms = now - now % c->market.interval_ms,
            .interval_ms = c->market.interval_ms,
            .n_symbols = c->market.n_symbols,
            .symbols = (const char *const *)c->market.symbols,
            .start_prices = prices,
        };
        e->synth = qh_synth_new(&sc);
        free(prices);
        if (!e->synth) { snprintf(err, errlen, "cannot create the synthetic market"); return 1; }
        e->t_market = qh_timer_start(e->clock, c->market.interval_ms, true, on_market_tick, e, e);
    } else if (c->market.source == QH_MARKET_CSV) {
        qh_candle_vec *all = calloc(1, sizeof *all);
        if (!all) return 1;
        qh_candle_vec *series[64] = { 0 };
        size_t n = 0;
        for (size_t i = 0; i < c->market.n_files && n < 64; i++) {
            char path[600], sym[QTR_SYMBOL_MAX];
            qh_config_resolve(c, c->market.files[i], path, sizeof path);
            series[n] = calloc(1, sizeof *series[n]);
            if (!series[n]) return 1;
            n++;
            if (!qh_symbol_from_path(path, sym)) {
                snprintf(err, errlen, "%s: market.files[%zu]: cannot tell the symbol from the file name", c->path, i + 1);
                for (size_t k = 0; k < n; k++) { qh_candle_vec_free(series[k]); free(series[k]); }
                free(all);
                return 2;
            }
            if (qh_csv_load(path, sym, series[n - 1], err, errlen) != 0) {
                for (size_t k = 0; k < n; k++) { qh_candle_vec_free(series[k]); free(series[k]); }
                free(all);
                return 2;
            }
        }
        qh_candles_merge(series, n, all);
        for (size_t k = 0; k < n; k++) { qh_candle_vec_free(series[k]); free(series[k]); }
        e->replay = all;
        int64_t iv = c->market.replay_interval_ms > 0 ? c->market.replay_interval_ms : 1;
        e->t_market = qh_timer_start(e->clock, iv, true, on_market_tick, e, e);
    }
    return 0;
}

static void stop_plugin(qh_engine *e, qh_plugin_rt *p);

int qh_engine_start(qh_engine *e, char *err, size_t errlen)
{
    /* running from here: whatever happens below, stop() stops what started */
    e->running = true;
    for (size_t i = 0; i < e->n_plugins; i++) {
        qh_plugin_rt *p = &e->plugins[i];
        if (p->ld.desc.start && p->ld.desc.start(p->state) != 0) {
            snprintf(err, errlen, "plugin %s failed to start", p->ld.desc.name);
            if (p->conf->required) return 2;
            /* an optional plugin that cannot start is left out; the rest go on */
            qh_warn(LOGC, "%s; optional, left out", err);
            stop_plugin(e, p);
            continue;
        }
        p->started = true;
    }
    if (e->backtest || !qh_recon_start(e)) qh_persist_reconcile(e);
    qh_exits_glue_start(e);
    if (e->backtest) return 0;
    int rc = start_market(e, err, errlen);
    if (rc) return rc;
    e->t_cycle = qh_timer_start(e->clock, e->cfg->signals.cycle_ms, true, on_cycle, e, e);
    if (!e->ev_drain) e->ev_drain = event_new(e->base, -1, 0, on_drain, e);
    if (!e->ev_drain) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    e->t_ess = qh_timer_start(e->clock, 1000, true, on_ess_tick, e, e);
    e->t_policy = qh_timer_start(e->clock, e->cfg->policy.reload_interval_ms, true, qh_engine_policy_timer, e, e);
    e->t_lag = qh_timer_start(e->clock, QH_LAG_PROBE_MS, true, qh_engine_lag_probe, e, e);
    return 0;
}

static void stop_plugin(qh_engine *e, qh_plugin_rt *p)
{
    if (p->stopped) return;
    p->stopped = true;
    if (p->started && p->ld.desc.stop) p->ld.desc.stop(p->state);
    qh_bus_unsubscribe_owner(e->bus, p);
    qh_timer_stop_owner(e->clock, p);
}

void qh_engine_stop(qh_engine *e)
{
    if (!e->running) return;
    e->running = false;
    /* strategies first: no new signals while the rest winds down */
    for (size_t i = 0; i < e->n_plugins; i++)
        if (e->plugins[i].ld.desc.kind == QTR_KIND_STRATEGY) stop_plugin(e, &e->plugins[i]);
    qh_timer_stop_owner(e->clock, e);
    if (e->ev_drain) event_del(e->ev_drain);
    e->t_market = e->t_cycle = e->t_ess = e->t_policy = e->t_lag = NULL;
    e->recon.timer = NULL;   /* stopped with the engine's other timers */
    for (size_t i = e->n_plugins; i > 0; i--) stop_plugin(e, &e->plugins[i - 1]);
    /* the last equity snapshot, so a restart resumes from this peak */
    int64_t now = qh_clock_now_ms(e->clock);
    qtr_account last;
    qh_portfolio_account(e->pf, now, &last);
    QH_PUBLISH(e, QTR_EV_EQUITY, 0, now, equity, last);
    if (e->store && qh_store_flush(e->store, 10000) != QTR_OK) qh_error(LOGC, "the trade store did not flush in 10 s");
    qh_bus_link_close(e);   /* after the last events: what Redis lacks stays in the disk buffer */
    qh_info(LOGC, "stopped");
}

void qh_engine_free(qh_engine *e)
{
    if (!e) return;
    qh_engine_stop(e);
    for (size_t i = e->n_plugins; i > 0; i--) {
        qh_plugin_rt *p = &e->plugins[i - 1];
        if (e->bus) qh_bus_unsubscribe_owner(e->bus, p);
        if (e->clock) qh_timer_stop_owner(e->clock, p);
        if (p->inited) p->ld.desc.destroy(p->state);
        for (size_t k = 0; k < p->n_list_cache; k++) free(p->list_cache[k]);
        qh_loader_close(&p->ld);
    }
    qh_exits_glue_free(e);
    qh_regime_glue_free(e);
    qh_persist_close(e);
    if (e->synth) qh_synth_free(e->synth);
    if (e->replay) { qh_candle_vec_free(e->replay); free(e->replay); }
    if (e->ev_drain) event_free(e->ev_drain);
    qh_clock_free(e->clock);
    qh_bus_free(e->bus);
    qh_metrics_free(e->metrics);
    qh_symbol_index_free(e->syms);
    free(e->market);
    if (e->pf) qh_portfolio_free(e->pf);
    if (e->policy) qh_policy_free(e->policy);
    if (e->ess) qh_ess_free(e->ess);
    if (e->sigq) qh_sigq_free(e->sigq);
    qh_recon_free(e);
    qh_order_table_free(e->open_orders);
    qh_fill_dedup_free(e->fills_seen);
    free(e);
}

void qh_engine_feed_candle(qh_engine *e, const qtr_candle *c)
{
    qh_clock_advance(e->clock, c->close_time_ms);
    publish_candle(e, c);
    qh_ess_tick(e->ess, c->close_time_ms);
    qh_pipeline_enforce_flat(e);
    qh_pipeline_cycle(e);
    if (e->obs.on_candle) e->obs.on_candle(e->obs.ud, c);
}
