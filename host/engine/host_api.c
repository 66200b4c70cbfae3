/* host_api.c — the qtr_host table: what plugins may ask of the host. */
#include "engine/engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/abi_signature.h"
#include "core/log.h"
#include "core/plugin_needs.h"
#include "core/sized_copy.h"
#include "exits/exit_manager.h"

static qh_engine *E(qtr_ctx *ctx) { return ctx->eng; }
static const char *who(qtr_ctx *ctx) { return ctx->name ? ctx->name : "plugin"; }

static void api_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    if (level < QTR_LOG_DEBUG || level > QTR_LOG_ERROR) level = QTR_LOG_INFO;
    qh_plugin_rt *p = ctx->plugin;
    if (p && !p->inited && level == QTR_LOG_ERROR) {
        va_list copy;
        va_start(copy, fmt);
        vsnprintf(p->init_error, sizeof p->init_error, fmt, copy);
        va_end(copy);
        for (char *c = p->init_error; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';   /* it ends up in a one-line refusal */
    }
    if (!qh_log_enabled((qh_log_level)level)) return;
    va_list ap;
    va_start(ap, fmt);
    qh_logv((qh_log_level)level, who(ctx), fmt, ap);
    va_end(ap);
}

static bool api_log_enabled(qtr_ctx *ctx, qtr_log_level level)
{
    if (level < QTR_LOG_DEBUG || level > QTR_LOG_ERROR) level = QTR_LOG_INFO;   /* as api_log */
    const qh_plugin_rt *p = ctx ? ctx->plugin : NULL;
    if (p && !p->inited && level == QTR_LOG_ERROR) return true;   /* it becomes the refusal (api_log) */
    return qh_log_enabled((qh_log_level)level);
}

static int64_t api_now_ms(qtr_ctx *ctx) { return qh_clock_now_ms(E(ctx)->clock); }
static int64_t api_mono_ns(qtr_ctx *ctx) { (void)ctx; return qh_mono_ns(); }
static bool api_is_simulated(qtr_ctx *ctx) { return qh_clock_simulated(E(ctx)->clock); }

/* Timers and subscriptions are tagged with the plugin, so unloading it
 * removes them all (every register has an unregister). */
static void *owner_of(qtr_ctx *ctx) { return ctx->plugin ? (void *)ctx->plugin : (void *)ctx->eng; }

static qtr_timer *api_timer_start(qtr_ctx *ctx, int64_t interval_ms, bool repeat, qtr_timer_cb cb, void *ud)
{
    return (qtr_timer *)qh_timer_start(E(ctx)->clock, interval_ms, repeat, cb, ud, owner_of(ctx));
}

static void api_timer_stop(qtr_ctx *ctx, qtr_timer *t)
{
    qh_timer_stop_checked(E(ctx)->clock, (qh_timer *)t, owner_of(ctx));
}

/* A service the plugin must declare in its descriptor's needs
 * (core/plugin_needs.h, the mock host's rule too): true if it may use it;
 * else false, with an ERROR line the first time. The host's own context
 * declares nothing and needs nothing declared. */
static bool may_use(qtr_ctx *ctx, uint32_t need, const char *service)
{
    qh_plugin_rt *p = ctx->plugin;
    if (!p || qh_plugin_needs(&p->ld.desc, need)) return true;
    if (!(p->needs_refusal_logged & need)) {
        p->needs_refusal_logged |= need;
        char line[320];
        qh_plugin_needs_refusal(line, sizeof line, p->ld.desc.name, service, need);
        qh_error("engine", "%s", line);
    }
    return false;
}

static qtr_sub *api_subscribe(qtr_ctx *ctx, qtr_event_type type, const char *symbol, qtr_event_cb cb, void *ud)
{
    if (type == QTR_EV_REGIME && !may_use(ctx, QTR_NEEDS_REGIME, "subscribing to REGIME events")) return NULL;
    return (qtr_sub *)qh_bus_subscribe(E(ctx)->bus, type, symbol, cb, ud, owner_of(ctx));
}

static void api_unsubscribe(qtr_ctx *ctx, qtr_sub *sub)
{
    qh_bus_unsubscribe_checked(E(ctx)->bus, (qh_bus_sub *)sub, owner_of(ctx));
}

/* ---- who may publish what: the registry's rule (core/publish_rule.c) ----
 * The active exchange is the one the engine sends orders to (e->exchange);
 * an exchange plugin loaded beside it may publish alerts only. */

_Static_assert(QTR_EV__COUNT <= 32, "one bit per event type in qh_plugin_rt.publish_refused_logged");

qh_metric *qh_publish_refused_metric(qh_engine *e, qh_plugin_rt *p)
{
    if (!p->m_publish_refused)
        p->m_publish_refused = qh_metrics_counter(e->metrics, "plugin_events_refused_total",
                                                  "Events a plugin published that were not its to publish (refused)",
                                                  "plugin", p->ld.desc.name);
    return p->m_publish_refused;
}

static void publish_refused(qtr_ctx *ctx, const qtr_event *ev, const char *why)
{
    qh_plugin_rt *p = ctx->plugin;
    qh_metric_add(qh_publish_refused_metric(E(ctx), p), 1);
    uint32_t bit = 1u << (unsigned)ev->type;
    if (p->publish_refused_logged & bit) return;
    p->publish_refused_logged |= bit;
    qh_error(who(ctx), "plugin %s (%s) may not publish %s events: refused (%s); further refusals of this plugin and "
             "type are only counted in qtr_plugin_events_refused_total",
             p->ld.desc.name, qtr_kind_name(p->ld.desc.kind), qtr_event_type_name(ev->type), why);
}

static int api_publish(qtr_ctx *ctx, const qtr_event *ev)
{
    if (!ev || ev->type <= QTR_EV_NONE || ev->type >= QTR_EV__COUNT) return QTR_EINVAL;
    qh_engine *e = E(ctx);
    /* A copy, as the SDK promises (qtr/plugin.h: "publish() copies *ev"):
     * the plugin may build its next event in the same memory from a call
     * the delivery makes into it, and every subscriber still gets this one
     * as published. 177793b delivered the plugin's own memory to save the
     * copy (~90 instructions, three times an order: 0.6% of a backtest). */
    qtr_event copy = *ev;
    if (ctx->plugin && ev->flags == 0 && ev->time_ms != 0 && ev->type != QTR_EV_ALERT) {
        /* nothing for the admission to change (flags 0, a time, not an
         * alert): the rule alone decides */
        qh_plugin_rt *p = ctx->plugin;
        const char *why = qh_publish_refusal(p->ld.desc.kind, p == e->exchange, ev);
        if (why) {
            publish_refused(ctx, ev, why);
            return QTR_EREFUSED;
        }
        return qh_bus_publish(e->bus, &copy);
    }
    if (ctx->plugin) {
        qh_plugin_rt *p = ctx->plugin;
        /* the rule, flags and alert source: the same code as the mock host's */
        const char *why = qh_publish_admit(p->ld.desc.kind, p == e->exchange, p->ld.desc.name, &copy);
        if (why) {
            publish_refused(ctx, ev, why);
            return QTR_EREFUSED;
        }
    }
    if (!copy.time_ms) copy.time_ms = qh_clock_now_ms(e->clock);
    return qh_bus_publish(e->bus, &copy);
}

/* ---- options: configured value, else the declared default ---- */

static const qtr_option *decl_of(qtr_ctx *ctx, const char *name)
{
    if (!ctx->plugin) return NULL;
    for (const qtr_option *o = ctx->plugin->ld.desc.options; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

static const qh_optval *val_of(qtr_ctx *ctx, const char *name)
{
    if (!ctx->plugin || !ctx->plugin->conf) return NULL;
    const qh_plugin_conf *pc = ctx->plugin->conf;
    for (size_t i = 0; i < pc->n_opts; i++)
        if (strcmp(pc->opts[i].name, name) == 0) return &pc->opts[i];
    return NULL;
}

/* The option must be declared with this type: asking for an undeclared
 * option is a plugin bug, reported rather than answered. */
static const qtr_option *declared(qtr_ctx *ctx, const char *name, qtr_opt_type type)
{
    const qtr_option *d = decl_of(ctx, name);
    if (!d) {
        qh_error(who(ctx), "option %s is not declared in the plugin's option table", name);
        return NULL;
    }
    if (d->type != type) {
        qh_error(who(ctx), "option %s is declared with another type", name);
        return NULL;
    }
    return d;
}

/* A STRING as written; a PATH relative to the config file's folder (made
 * when the config was read, core/config.c; a PATH's default is "" or
 * absolute, so it needs no resolving). */
static int api_config_string(qtr_ctx *ctx, const char *name, const char **out)
{
    const qtr_option *d = decl_of(ctx, name);
    bool path = d && d->type == QTR_OPT_PATH;
    if (!path) d = declared(ctx, name, QTR_OPT_STRING);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v) { *out = path && v->path ? v->path : v->str; return QTR_OK; }
    if (!d->default_value) return QTR_ENOTFOUND;
    *out = d->default_value;
    return QTR_OK;
}

static int api_config_int(qtr_ctx *ctx, const char *name, int64_t *out)
{
    const qtr_option *d = declared(ctx, name, QTR_OPT_INT);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v) { *out = v->i; return QTR_OK; }
    if (!d->default_value) return QTR_ENOTFOUND;
    char *end;
    long long x = strtoll(d->default_value, &end, 10);
    if (*end) return QTR_EINVAL;
    *out = x;
    return QTR_OK;
}

static int api_config_bool(qtr_ctx *ctx, const char *name, bool *out)
{
    const qtr_option *d = declared(ctx, name, QTR_OPT_BOOL);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v) { *out = v->b; return QTR_OK; }
    if (!d->default_value) return QTR_ENOTFOUND;
    if (strcmp(d->default_value, "true") == 0) *out = true;
    else if (strcmp(d->default_value, "false") == 0) *out = false;
    else return QTR_EINVAL;
    return QTR_OK;
}

static int api_config_decimal(qtr_ctx *ctx, const char *name, qtr_dec *out)
{
    const qtr_option *d = declared(ctx, name, QTR_OPT_DECIMAL);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v && v->type == QH_OPTV_INT) {
        if (!qtr_dec_mul_int(QTR_DEC_SCALE, v->i, out)) return QTR_EINVAL;
        return QTR_OK;
    }
    const char *text = v ? v->str : d->default_value;
    if (!text) return QTR_ENOTFOUND;
    return qtr_dec_parse(text, (size_t)-1, out) == QTR_DEC_OK ? QTR_OK : QTR_EINVAL;
}

static int api_config_double(qtr_ctx *ctx, const char *name, double *out)
{
    const qtr_option *d = declared(ctx, name, QTR_OPT_DOUBLE);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v) { *out = v->type == QH_OPTV_INT ? (double)v->i : v->num; return QTR_OK; }
    if (!d->default_value) return QTR_ENOTFOUND;
    char *end;
    *out = strtod(d->default_value, &end);
    return *end ? QTR_EINVAL : QTR_OK;
}

static int api_config_list(qtr_ctx *ctx, const char *name, const char *const **items, size_t *n)
{
    const qtr_option *d = declared(ctx, name, QTR_OPT_STRING_LIST);
    if (!d) return QTR_EINVAL;
    const qh_optval *v = val_of(ctx, name);
    if (v) {
        *items = (const char *const *)v->list;
        *n = v->n_list;
        return QTR_OK;
    }
    if (!d->default_value) return QTR_ENOTFOUND;
    /* a default list is comma-separated text; split it once and keep it */
    qh_plugin_rt *p = ctx->plugin;
    if (p->n_list_cache >= 16) return QTR_EFULL;
    size_t len = strlen(d->default_value);
    size_t count = len ? 1 : 0;
    for (const char *s = d->default_value; *s; s++) count += *s == ',';
    char **block = malloc((count + 1) * sizeof(char *) + len + 1);
    if (!block) return QTR_EFULL;
    char *text = (char *)(block + count + 1);
    memcpy(text, d->default_value, len + 1);
    size_t k = 0;
    if (len) {
        block[k++] = text;
        for (char *s = text; *s; s++)
            if (*s == ',') { *s = '\0'; block[k++] = s + 1; }
    }
    block[k] = NULL;
    p->list_cache[p->n_list_cache++] = (const char **)block;
    *items = (const char *const *)block;
    *n = k;
    return QTR_OK;
}

/* ---- metrics ---- */

static qtr_metric *api_metric_counter(qtr_ctx *ctx, const char *name, const char *help, const char *ln, const char *lv)
{
    return (qtr_metric *)qh_metrics_counter(E(ctx)->metrics, name, help, ln, lv);
}
static qtr_metric *api_metric_gauge(qtr_ctx *ctx, const char *name, const char *help, const char *ln, const char *lv)
{
    return (qtr_metric *)qh_metrics_gauge(E(ctx)->metrics, name, help, ln, lv);
}
static void api_metric_add(qtr_metric *m, int64_t d) { qh_metric_add((qh_metric *)m, d); }
static void api_metric_set(qtr_metric *m, double v) { qh_metric_set((qh_metric *)m, v); }

/* ---- trading ---- */

/* How many bytes of a payload the plugin's struct has: its build signature
 * says (a plugin built for an older minor has a smaller one). The host
 * reads no more than that from the plugin's memory; the rest reads 0. */
/* How much of a plugin's payload to read: its own size, never more than ours. */
static size_t plugin_payload_size(qtr_ctx *ctx, qtr_event_type type, size_t own)
{
    size_t theirs = qh_signature_payload_size(ctx->plugin ? ctx->plugin->ld.desc.signature : NULL, type, own);
    return theirs < own ? theirs : own;
}

static int api_submit_signal(qtr_ctx *ctx, const qtr_signal *in)
{
    if (!in) return QTR_EINVAL;
    qtr_signal s;
    qh_sized_copy(&s, sizeof s, in, plugin_payload_size(ctx, QTR_EV_SIGNAL, sizeof s));
    return qh_pipeline_submit_signal(E(ctx), who(ctx), &s);
}

static int api_submit_order(qtr_ctx *ctx, const qtr_order_intent *in, char cid[QTR_CLIENT_ID_MAX])
{
    if (!in) return QTR_EINVAL;
    if (ctx->plugin && ctx->plugin->ld.desc.kind == QTR_KIND_RISK) return QTR_EREFUSED; /* no loops */
    qtr_order_intent o;
    qh_sized_copy(&o, sizeof o, in, plugin_payload_size(ctx, QTR_EV_ORDER_INTENT, sizeof o));
    return qh_pipeline_submit_order(E(ctx), who(ctx), &o, cid);
}

static int api_cancel_order(qtr_ctx *ctx, const char *symbol, const char *cid)
{
    return qh_pipeline_cancel(E(ctx), symbol, cid);
}

/* ---- portfolio and market ---- */

/* ---- what the host writes into a plugin's memory: min(its size, ours),
 * zeros beyond ours, nothing beyond its (core/sized_copy.h) ---- */

static int payload_out(void *out, size_t out_size, const void *src, size_t src_size)
{
    if (!out || out_size == 0) return QTR_EINVAL;
    qh_sized_copy(out, out_size, src, src_size);
    return QTR_OK;
}

static int api_get_position(qtr_ctx *ctx, const char *symbol, qtr_position *out, size_t out_size)
{
    if (!symbol || !out || out_size == 0) return QTR_EINVAL;
    qtr_position pos;
    if (qh_portfolio_get_position(E(ctx)->pf, symbol, &pos) != 0) return QTR_ENOTFOUND;
    return payload_out(out, out_size, &pos, sizeof pos);
}

void qh_engine_exposure(qh_engine *e, const char *symbol, qtr_exposure *out)
{
    qtr_exposure x;
    memset(&x, 0, sizeof x);
    qtr_strlcpy(x.symbol, symbol, sizeof x.symbol);
    qtr_position pos;
    if (qh_portfolio_get_position(e->pf, symbol, &pos) == 0) x.position = pos.qty;
    const qtr_order_update *open = qh_order_table_items(e->open_orders);
    for (size_t i = 0; i < qh_order_table_count(e->open_orders); i++) {
        const qtr_order_update *o = &open[i];
        if (strcmp(o->symbol, symbol) != 0 || qtr_order_status_final(o->status)) continue;
        qtr_dec left = o->qty - o->filled_qty;
        if (left <= 0) continue;
        if (o->side == QTR_SIDE_BUY) x.pending_buy += left;
        else x.pending_sell += left;
        x.pending_orders++;
    }
    x.pending = x.pending_buy - x.pending_sell;
    x.projected = x.position + x.pending;
    x.size = sizeof x;
    qh_sized_out(out, &x, sizeof x);
}

static int api_get_exposure(qtr_ctx *ctx, const char *symbol, qtr_exposure *out)
{
    if (!symbol || !out || out->size < sizeof out->size) return QTR_EINVAL;
    qh_engine_exposure(E(ctx), symbol, out);
    return QTR_OK;
}

static int api_reconcile_status(qtr_ctx *ctx, qtr_reconcile_status *out)
{
    if (!out || out->size < sizeof out->size) return QTR_EINVAL;
    qh_recon_status(E(ctx), out);
    return QTR_OK;
}

static int api_reconcile_ack(qtr_ctx *ctx, const char *user, const char *reason, char *err, size_t errlen)
{
    char tmp[8];
    if (!err || !errlen) { err = tmp; errlen = sizeof tmp; }
    return qh_recon_ack(E(ctx), user, reason, err, errlen);
}

static size_t fill_positions(void *ud, void *buf, size_t cap)
{
    return qh_portfolio_list_positions(((qh_engine *)ud)->pf, buf, cap);
}

static size_t api_list_positions(qtr_ctx *ctx, qtr_list *out)
{
    return qh_list_fill_by(out, sizeof(qtr_position), fill_positions, E(ctx));
}

static int api_get_account(qtr_ctx *ctx, qtr_account *out)
{
    qtr_account a;
    qh_engine_account(E(ctx), &a);
    a.size = sizeof a;
    return qh_sized_out(out, &a, sizeof a);
}

static size_t api_list_open_orders(qtr_ctx *ctx, qtr_list *out)
{
    qh_engine *e = E(ctx);
    return qh_list_fill(out, qh_order_table_items(e->open_orders), qh_order_table_count(e->open_orders),
                        sizeof(qtr_order_update));
}

static int api_get_last_candle(qtr_ctx *ctx, const char *symbol, qtr_candle *out, size_t out_size)
{
    qh_market_sym *m = qh_market_get(E(ctx), symbol, false);
    if (!m || !m->has_candle) return QTR_ENOTFOUND;
    return payload_out(out, out_size, &m->candle, sizeof m->candle);
}

static int api_get_book_top(qtr_ctx *ctx, const char *symbol, qtr_book_top *out, size_t out_size)
{
    qh_market_sym *m = qh_market_get(E(ctx), symbol, false);
    if (!m || !m->has_book) return QTR_ENOTFOUND;
    return payload_out(out, out_size, &m->book, sizeof m->book);
}

static int api_get_mark_price(qtr_ctx *ctx, const char *symbol, qtr_mark_price *out, size_t out_size)
{
    qh_market_sym *m = qh_market_get(E(ctx), symbol, false);
    if (!m || !m->has_mark) return QTR_ENOTFOUND;
    return payload_out(out, out_size, &m->mark, sizeof m->mark);
}

static int api_get_regime(qtr_ctx *ctx, const char *symbol, qtr_regime_event *out, size_t out_size)
{
    if (!symbol || !out || out_size == 0) return QTR_EINVAL;
    if (!may_use(ctx, QTR_NEEDS_REGIME, "get_regime")) return QTR_EREFUSED;
    qtr_regime_event r;
    int rc = qh_regime_glue_get(E(ctx), symbol, &r);
    return rc == QTR_OK ? payload_out(out, out_size, &r, sizeof r) : rc;
}

/* ---- policy and ESS ---- */

static int api_policy_info(qtr_ctx *ctx, qtr_policy_info *out) { return qh_policy_info(E(ctx)->policy, out); }

static int api_policy_describe(qtr_ctx *ctx, qtr_write_cb write, void *ud)
{
    return qh_policy_describe(E(ctx)->policy, write, ud);
}

static int api_policy_reload(qtr_ctx *ctx, char *err, size_t errlen)
{
    qh_info(who(ctx), "policy reload requested");
    return qh_engine_reload_policy(E(ctx), err, errlen) == 0 ? QTR_OK : QTR_EINVAL;
}

static int api_ess_status(qtr_ctx *ctx, qtr_ess_status *out)
{
    qtr_ess_status s;
    memset(&s, 0, sizeof s);
    qh_ess_status(E(ctx)->ess, &s);
    s.size = sizeof s;
    return qh_sized_out(out, &s, sizeof s);
}

static int api_ess_trip(qtr_ctx *ctx, const char *user, const char *reason)
{
    qh_engine *e = E(ctx);
    return qh_ess_trip(e->ess, user, reason, qh_clock_now_ms(e->clock));
}

static int api_ess_reset(qtr_ctx *ctx, const char *user, const char *reason, bool force, char *err, size_t errlen)
{
    qh_engine *e = E(ctx);
    qtr_account a;
    qh_engine_account(e, &a);
    return qh_ess_reset(e->ess, user, reason, force, &a, qh_clock_now_ms(e->clock), err, errlen);
}

/* ---- operations ---- */

static void api_set_health(qtr_ctx *ctx, qtr_health_status st, const char *reason)
{
    qh_plugin_rt *p = ctx->plugin;
    if (!p) return;
    bool changed = !p->has_set_health || p->set_health.status != st;
    p->has_set_health = true;
    p->set_health.status = st;
    qtr_strlcpy(p->set_health.reason, reason ? reason : "", sizeof p->set_health.reason);
    if (!changed) return;
    qtr_health_event h = { 0 };
    h.time_ms = qh_clock_now_ms(E(ctx)->clock);
    qtr_strlcpy(h.component, p->ld.desc.name, sizeof h.component);
    h.health = p->set_health;
    QH_PUBLISH(E(ctx), QTR_EV_HEALTH, 0, h.time_ms, health, h);
}

static size_t fill_health(void *ud, void *buf, size_t cap) { return qh_engine_health(ud, buf, cap); }

static size_t api_health_all(qtr_ctx *ctx, qtr_list *out)
{
    return qh_list_fill_by(out, sizeof(qtr_component_health), fill_health, E(ctx));
}

static size_t api_list_plugins(qtr_ctx *ctx, qtr_list *out)
{
    qh_engine *e = E(ctx);
    if (!qh_list_ok(out)) return 0;
    size_t n = 0;
    for (size_t i = 0; i < e->n_plugins && n < out->cap; i++) {
        const qh_plugin_rt *p = &e->plugins[i];
        qtr_plugin_info info, *x = &info;
        memset(x, 0, sizeof *x);
        qtr_strlcpy(x->name, p->ld.desc.name, sizeof x->name);
        qtr_strlcpy(x->version, p->ld.desc.version, sizeof x->version);
        x->kind = p->ld.desc.kind;
        x->abi_major = p->ld.abi_major;
        x->abi_minor = p->ld.abi_minor;
        qtr_strlcpy(x->path, p->ld.path, sizeof x->path);
        qh_list_put(out, n++, x, sizeof *x);
    }
    out->n = n;
    return n;
}

static void api_metrics_write(qtr_ctx *ctx, qtr_write_cb write, void *ud) { qh_engine_metrics_write(E(ctx), write, ud); }

#define RING_COPY(ring, out)                                                          \
    do {                                                                              \
        if (!qh_list_ok(out)) return 0;                                               \
        size_t rcap_ = sizeof((ring).items) / sizeof((ring).items[0]);              \
        size_t n_ = (ring).count < (out)->cap ? (ring).count : (out)->cap;           \
        /* newest first */                                                            \
        for (size_t i_ = 0; i_ < n_; i_++)                                            \
            qh_list_put((out), i_, &(ring).items[((ring).head + (ring).count - 1 - i_) % rcap_], \
                        sizeof((ring).items[0]));                                     \
        (out)->n = n_;                                                                \
        return n_;                                                                    \
    } while (0)

static size_t api_recent_fills(qtr_ctx *ctx, qtr_list *out) { RING_COPY(E(ctx)->recent_fills, out); }
static size_t api_recent_orders(qtr_ctx *ctx, qtr_list *out) { RING_COPY(E(ctx)->recent_orders, out); }
static size_t api_recent_signals(qtr_ctx *ctx, qtr_list *out) { RING_COPY(E(ctx)->recent_signals, out); }
static size_t api_equity_history(qtr_ctx *ctx, qtr_list *out) { RING_COPY(E(ctx)->equity_history, out); }

static struct event_base *api_event_base(qtr_ctx *ctx) { return E(ctx)->base; }

/* ---- exits (exits/exit_manager.h) ---- */

static int api_set_exit_plan(qtr_ctx *ctx, const char *symbol, const qtr_exit_plan *plan, char *err, size_t errlen)
{
    if (!E(ctx)->exits) return QTR_ENOTSUP;
    if (!may_use(ctx, qh_exit_plan_needs(plan), "an exit plan with a regime_mask")) {
        if (err && errlen) snprintf(err, errlen, "regime_mask needs QTR_NEEDS_REGIME in the plugin's descriptor");
        return QTR_EREFUSED;
    }
    return qh_exits_set_plan(E(ctx)->exits, symbol, who(ctx), plan, err, errlen);
}

static int api_clear_exit_plan(qtr_ctx *ctx, const char *symbol)
{
    if (!E(ctx)->exits) return QTR_ENOTSUP;
    return qh_exits_clear_plan(E(ctx)->exits, symbol);
}

static size_t fill_exit_plans(void *ud, void *buf, size_t cap) { return qh_exits_list(ud, buf, cap); }

static size_t api_list_exit_plans(qtr_ctx *ctx, qtr_list *out)
{
    if (!E(ctx)->exits) return qh_list_fill(out, NULL, 0, sizeof(qtr_exit_state));
    return qh_list_fill_by(out, sizeof(qtr_exit_state), fill_exit_plans, E(ctx)->exits);
}

void qh_host_api_init(qh_engine *e, qtr_host *h)
{
    (void)e;
    memset(h, 0, sizeof *h);
    h->size = sizeof *h;
    h->abi_major = QTR_ABI_MAJOR;
    h->abi_minor = QTR_ABI_MINOR;
    h->host_version = QTR_VERSION;
    h->log = api_log;
    h->now_ms = api_now_ms;
    h->mono_ns = api_mono_ns;
    h->is_simulated = api_is_simulated;
    h->timer_start = api_timer_start;
    h->timer_stop = api_timer_stop;
    h->subscribe = api_subscribe;
    h->unsubscribe = api_unsubscribe;
    h->publish = api_publish;
    h->config_string = api_config_string;
    h->config_int = api_config_int;
    h->config_bool = api_config_bool;
    h->config_decimal = api_config_decimal;
    h->config_double = api_config_double;
    h->config_list = api_config_list;
    h->metric_counter = api_metric_counter;
    h->metric_gauge = api_metric_gauge;
    h->metric_add = api_metric_add;
    h->metric_set = api_metric_set;
    h->submit_signal = api_submit_signal;
    h->submit_order = api_submit_order;
    h->cancel_order = api_cancel_order;
    h->get_position = api_get_position;
    h->get_exposure = api_get_exposure;
    h->reconcile_status = api_reconcile_status;
    h->reconcile_ack = api_reconcile_ack;
    h->list_positions = api_list_positions;
    h->get_account = api_get_account;
    h->list_open_orders = api_list_open_orders;
    h->get_last_candle = api_get_last_candle;
    h->get_book_top = api_get_book_top;
    h->get_mark_price = api_get_mark_price;
    h->policy_info = api_policy_info;
    h->policy_describe = api_policy_describe;
    h->policy_reload = api_policy_reload;
    h->ess_status = api_ess_status;
    h->ess_trip = api_ess_trip;
    h->ess_reset = api_ess_reset;
    h->set_health = api_set_health;
    h->health_all = api_health_all;
    h->list_plugins = api_list_plugins;
    h->metrics_write = api_metrics_write;
    h->recent_fills = api_recent_fills;
    h->recent_orders = api_recent_orders;
    h->recent_signals = api_recent_signals;
    h->equity_history = api_equity_history;
    h->event_base = api_event_base;
    h->get_regime = api_get_regime;
    h->set_exit_plan = api_set_exit_plan;
    h->clear_exit_plan = api_clear_exit_plan;
    h->list_exit_plans = api_list_exit_plans;
    h->log_enabled = api_log_enabled;
}
