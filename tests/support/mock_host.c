/* mock_host.c — see mock_host.h. Simple on purpose: it is a test double. */
#include "mock_host.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loader.h"
#include "core/option_check.h"
#include "core/plugin_needs.h"
#include "core/publish_rule.h"
#include "core/sized_copy.h"
#include "exits/exit_plan_check.h"

struct qtr_ctx { mock_host *m; };

typedef struct mock_sub {
    struct mock_sub *next;
    qtr_event_type type;
    char symbol[QTR_SYMBOL_MAX];
    qtr_event_cb cb;
    void *ud;
    bool dead;
} mock_sub;

typedef struct mock_timer {
    struct mock_timer *next;
    mock_host *m;
    int64_t interval_ms, due_ms;
    bool repeat, dead;
    qtr_timer_cb cb;
    void *ud;
    struct event *ev;
} mock_timer;

static mock_host *M(qtr_ctx *ctx) { return ctx->m; }

qtr_dec D(const char *text)
{
    qtr_dec v = 0;
    if (qtr_dec_parse(text, (size_t)-1, &v) != QTR_DEC_OK) {
        fprintf(stderr, "mock_host: bad decimal in test: '%s'\n", text);
        abort();
    }
    return v;
}

/* As the host's: a level outside the enum is INFO; below log_level nothing. */
static bool m_log_enabled(qtr_ctx *ctx, qtr_log_level level)
{
    if (level < QTR_LOG_DEBUG || level > QTR_LOG_ERROR) level = QTR_LOG_INFO;
    return level >= M(ctx)->log_level;
}

static void m_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    mock_host *m = M(ctx);
    m->n_log_calls++;
    if (!m_log_enabled(ctx, level)) return;
    m->n_logs++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->last_log, sizeof m->last_log, fmt, ap);
    va_end(ap);
    if (level >= QTR_LOG_ERROR) m->n_logs_error++;
    else if (level == QTR_LOG_WARN) m->n_logs_warn++;
    if (getenv("MOCK_HOST_VERBOSE") || level >= QTR_LOG_WARN)
        fprintf(stderr, "[plugin %s] %s\n", level >= QTR_LOG_ERROR ? "error" : level == QTR_LOG_WARN ? "warn" : "info",
                m->last_log);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t m_now_ms(qtr_ctx *ctx) { mock_host *m = M(ctx); return m->real_time ? wall_ms() : m->now_ms; }
static int64_t m_mono_ns(qtr_ctx *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static bool m_is_simulated(qtr_ctx *ctx) { return !M(ctx)->real_time; }

static void timer_fire_real(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    mock_timer *t = arg;
    if (t->dead) return;
    if (!t->repeat) t->dead = true;
    t->cb(t->ud);
}

static qtr_timer *m_timer_start(qtr_ctx *ctx, int64_t interval_ms, bool repeat, qtr_timer_cb cb, void *ud)
{
    mock_host *m = M(ctx);
    if (!cb || interval_ms < 0) return NULL;
    mock_timer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->m = m; t->interval_ms = interval_ms; t->repeat = repeat; t->cb = cb; t->ud = ud;
    t->due_ms = m->now_ms + interval_ms;
    if (m->real_time) {
        t->ev = event_new(m->base, -1, repeat ? EV_PERSIST : 0, timer_fire_real, t);
        struct timeval tv = { (time_t)(interval_ms / 1000), (suseconds_t)((interval_ms % 1000) * 1000) };
        event_add(t->ev, &tv);
    }
    t->next = m->timers;
    m->timers = t;
    return (qtr_timer *)t;
}

static void m_timer_stop(qtr_ctx *ctx, qtr_timer *timer)
{
    (void)ctx;
    mock_timer *t = (mock_timer *)timer;
    if (!t) return;
    t->dead = true;
    if (t->ev) event_del(t->ev);
}

static void dispatch_pending(mock_host *m)
{
    if (m->dispatch_depth) return;       /* the outer call drains */
    m->dispatch_depth++;
    while (m->dispatch_next < m->n_events) {
        const qtr_event *ev = &m->events[m->dispatch_next++];
        const char *sym = qtr_event_symbol(ev);
        for (mock_sub *s = m->subs; s; s = s->next) {
            if (s->dead || s->type != ev->type) continue;
            if (s->symbol[0] && (!sym || strcmp(sym, s->symbol) != 0)) continue;
            s->cb(s->ud, ev);
        }
    }
    m->dispatch_depth--;
}

static const qtr_plugin_desc *g_desc; /* the plugin under test */

/* A service the plugin must declare (the host's rule, core/plugin_needs.h):
 * true if it may use it; else counted, and an ERROR line the first time.
 * No plugin loaded (a test calling the table itself): allowed. */
static bool may_use(mock_host *m, uint32_t need, const char *service)
{
    if (!g_desc || qh_plugin_needs(g_desc, need)) return true;
    m->n_needs_refused++;
    if (!(m->needs_refusal_logged & need)) {
        m->needs_refusal_logged |= need;
        qh_plugin_needs_refusal(m->last_log, sizeof m->last_log, g_desc->name, service, need);
        m->n_logs_error++;
        fprintf(stderr, "[mock host] %s\n", m->last_log);
    }
    return false;
}

static qtr_sub *m_subscribe(qtr_ctx *ctx, qtr_event_type type, const char *symbol, qtr_event_cb cb, void *ud)
{
    mock_host *m = M(ctx);
    if (!cb || type <= QTR_EV_NONE || type >= QTR_EV__COUNT) return NULL;
    if (type == QTR_EV_REGIME && !may_use(m, QTR_NEEDS_REGIME, "subscribing to REGIME events")) return NULL;
    mock_sub *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->type = type; s->cb = cb; s->ud = ud;
    if (symbol) qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    /* append, so subscribers run in subscription order */
    mock_sub **pp = &m->subs;
    while (*pp) pp = &(*pp)->next;
    *pp = s;
    return (qtr_sub *)s;
}

static void m_unsubscribe(qtr_ctx *ctx, qtr_sub *sub)
{
    (void)ctx;
    if (sub) ((mock_sub *)sub)->dead = true;
}

void mock_host_publish(mock_host *m, const qtr_event *ev)
{
    if (m->n_events >= MOCK_MAX_EVENTS) {
        fprintf(stderr, "mock_host: more than %d events; raise MOCK_MAX_EVENTS\n", MOCK_MAX_EVENTS);
        abort();
    }
    m->events[m->n_events] = *ev;
    if (!m->events[m->n_events].time_ms) m->events[m->n_events].time_ms = m->real_time ? wall_ms() : m->now_ms;
    m->n_events++;
    dispatch_pending(m);
}

static qtr_metric *metric_new(qtr_ctx *ctx, const char *name, const char *lv, bool gauge);
static void m_metric_add(qtr_metric *mm, int64_t d);

/* The host's rule (host/core/publish_rule.c), for the plugin under test. */
static int m_publish(qtr_ctx *ctx, const qtr_event *ev)
{
    mock_host *m = M(ctx);
    if (!ev || ev->type <= QTR_EV_NONE || ev->type >= QTR_EV__COUNT) return QTR_EINVAL;
    qtr_event copy = *ev;
    if (g_desc) {
        bool active = g_desc->kind == QTR_KIND_EXCHANGE && !m->exchange_not_active;
        const char *why = qh_publish_admit(g_desc->kind, active, g_desc->name, &copy);
        if (why) {
            m->n_publish_refused++;
            m_metric_add(metric_new(ctx, "plugin_events_refused_total", g_desc->name, false), 1);
            snprintf(m->last_log, sizeof m->last_log, "plugin %s (%s) may not publish %s events: refused (%s)",
                     g_desc->name, qtr_kind_name(g_desc->kind), qtr_event_type_name(ev->type), why);
            m->n_logs_error++;
            fprintf(stderr, "[mock host] %s\n", m->last_log);
            return QTR_EREFUSED;
        }
    }
    mock_host_publish(m, &copy);
    return QTR_OK;
}

static const char *opt_text(mock_host *m, const char *name)
{
    for (size_t i = 0; i < m->n_options; i++)
        if (strcmp(m->options[i].name, name) == 0) return m->options[i].value;
    return NULL;
}

void mock_host_set_option(mock_host *m, const char *name, const char *value)
{
    for (size_t i = 0; i < m->n_options; i++)
        if (strcmp(m->options[i].name, name) == 0) {
            qtr_strlcpy(m->options[i].value, value, sizeof m->options[i].value);
            return;
        }
    if (m->n_options >= MOCK_MAX_OPTIONS) abort();
    qtr_strlcpy(m->options[m->n_options].name, name, sizeof m->options[0].name);
    qtr_strlcpy(m->options[m->n_options].value, value, sizeof m->options[0].value);
    m->n_options++;
}

/* Falls back to the plugin descriptor's default, as the real host does. */
static const qtr_option *find_decl(mock_host *m, const char *name);
static const char *opt_or_default(mock_host *m, const char *name)
{
    const char *v = opt_text(m, name);
    if (v) return v;
    const qtr_option *o = find_decl(m, name);
    return o ? o->default_value : NULL;
}

static const qtr_option *find_decl(mock_host *m, const char *name)
{
    (void)m;
    if (!g_desc || !g_desc->options) return NULL;
    for (const qtr_option *o = g_desc->options; o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

void mock_host_set_config_dir(mock_host *m, const char *dir) { qtr_strlcpy(m->config_dir, dir, sizeof m->config_dir); }

/* A PATH option relative to the config's folder, with the host's own
 * resolver (core/option_check.h); a PATH's default is "" or absolute. */
static int m_config_string(qtr_ctx *ctx, const char *name, const char **out)
{
    mock_host *m = M(ctx);
    const char *v = opt_or_default(m, name);
    if (!v) return QTR_ENOTFOUND;
    const qtr_option *d = find_decl(m, name);
    for (size_t i = 0; d && d->type == QTR_OPT_PATH && i < m->n_options; i++)
        if (strcmp(m->options[i].name, name) == 0) {
            if (qh_option_path_resolve(m->config_dir, v, m->options[i].path, sizeof m->options[i].path) != 0)
                return QTR_EINVAL;
            v = m->options[i].path;
        }
    *out = v;
    return QTR_OK;
}

static int m_config_int(qtr_ctx *ctx, const char *name, int64_t *out)
{
    const char *v = opt_or_default(M(ctx), name);
    if (!v) return QTR_ENOTFOUND;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end) return QTR_EINVAL;
    *out = x;
    return QTR_OK;
}

static int m_config_bool(qtr_ctx *ctx, const char *name, bool *out)
{
    const char *v = opt_or_default(M(ctx), name);
    if (!v) return QTR_ENOTFOUND;
    if (strcmp(v, "true") == 0) *out = true;
    else if (strcmp(v, "false") == 0) *out = false;
    else return QTR_EINVAL;
    return QTR_OK;
}

static int m_config_decimal(qtr_ctx *ctx, const char *name, qtr_dec *out)
{
    const char *v = opt_or_default(M(ctx), name);
    if (!v) return QTR_ENOTFOUND;
    return qtr_dec_parse(v, (size_t)-1, out) == QTR_DEC_OK ? QTR_OK : QTR_EINVAL;
}

static int m_config_double(qtr_ctx *ctx, const char *name, double *out)
{
    const char *v = opt_or_default(M(ctx), name);
    if (!v) return QTR_ENOTFOUND;
    char *end;
    *out = strtod(v, &end);
    return *end ? QTR_EINVAL : QTR_OK;
}

/* Lists are comma-separated in the mock; kept until the host is freed. */
static struct { char *buf; const char *items[64]; size_t n; char name[64]; } g_lists[16];
static size_t g_n_lists;
static int m_config_list(qtr_ctx *ctx, const char *name, const char *const **items, size_t *n)
{
    const char *v = opt_or_default(M(ctx), name);
    if (!v) return QTR_ENOTFOUND;
    if (g_n_lists >= 16) return QTR_EFULL;
    g_lists[g_n_lists].buf = strdup(v);
    size_t k = 0;
    for (char *save = NULL, *tok = strtok_r(g_lists[g_n_lists].buf, ",", &save); tok && k < 64;
         tok = strtok_r(NULL, ",", &save))
        g_lists[g_n_lists].items[k++] = tok;
    g_lists[g_n_lists].n = k;
    *items = g_lists[g_n_lists].items;
    *n = k;
    g_n_lists++;
    return QTR_OK;
}

static qtr_metric *metric_new(qtr_ctx *ctx, const char *name, const char *lv, bool gauge)
{
    mock_host *m = M(ctx);
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].name, name) == 0 && strcmp(m->metrics[i].label, lv ? lv : "") == 0)
            return (qtr_metric *)&m->metrics[i];
    if (m->n_metrics >= MOCK_MAX_METRICS) return NULL;
    mock_metric *mm = &m->metrics[m->n_metrics++];
    qtr_strlcpy(mm->name, name, sizeof mm->name);
    qtr_strlcpy(mm->label, lv ? lv : "", sizeof mm->label);
    mm->gauge = gauge;
    return (qtr_metric *)mm;
}
static qtr_metric *m_metric_counter(qtr_ctx *ctx, const char *name, const char *help, const char *ln, const char *lv)
{ (void)help; (void)ln; return metric_new(ctx, name, lv, false); }
static qtr_metric *m_metric_gauge(qtr_ctx *ctx, const char *name, const char *help, const char *ln, const char *lv)
{ (void)help; (void)ln; return metric_new(ctx, name, lv, true); }
static void m_metric_add(qtr_metric *mm, int64_t d) { if (mm) ((mock_metric *)mm)->count += d; }
static void m_metric_set(qtr_metric *mm, double v) { if (mm) ((mock_metric *)mm)->value = v; }

int64_t mock_host_metric(const mock_host *m, const char *name, const char *label_value)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].name, name) == 0 &&
            strcmp(m->metrics[i].label, label_value ? label_value : "") == 0)
            return m->metrics[i].count;
    return 0;
}

double mock_host_gauge(const mock_host *m, const char *name, const char *label_value)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].name, name) == 0 &&
            strcmp(m->metrics[i].label, label_value ? label_value : "") == 0)
            return m->metrics[i].value;
    return -1;
}

static int m_submit_signal(qtr_ctx *ctx, const qtr_signal *s)
{
    mock_host *m = M(ctx);
    if (m->n_signals >= MOCK_MAX_SIGNALS) return QTR_EFULL;
    m->signals[m->n_signals] = *s;
    m->signals[m->n_signals].time_ms = m_now_ms(ctx);
    m->n_signals++;
    return m->submit_signal_result;
}

static int m_submit_order(qtr_ctx *ctx, const qtr_order_intent *o, char cid[QTR_CLIENT_ID_MAX])
{
    mock_host *m = M(ctx);
    if (m->n_orders >= MOCK_MAX_ORDERS) return QTR_EFULL;
    qtr_order_intent *c = &m->orders[m->n_orders++];
    *c = *o;
    if (!c->client_id[0]) snprintf(c->client_id, sizeof c->client_id, "mock-%llu", (unsigned long long)++m->order_seq);
    if (cid) qtr_strlcpy(cid, c->client_id, QTR_CLIENT_ID_MAX);
    return m->submit_order_result;
}

static int m_cancel_order(qtr_ctx *ctx, const char *symbol, const char *cid)
{ (void)ctx; (void)symbol; (void)cid; return QTR_OK; }

/* What the mock writes into the plugin's memory, it writes as the host does
 * (host/core/sized_copy.c): the caller's size, never more. */
static int payload_out(void *out, size_t out_size, const void *src, size_t src_size)
{
    if (!out || out_size == 0) return QTR_EINVAL;
    qh_sized_copy(out, out_size, src, src_size);
    return QTR_OK;
}

size_t mock_list_fill(qtr_list *l, const void *items, size_t n, size_t item_size)
{
    return qh_list_fill(l, items, n, item_size);
}

static int m_get_position(qtr_ctx *ctx, const char *symbol, qtr_position *out, size_t out_size)
{
    mock_host *m = M(ctx);
    for (size_t i = 0; i < m->n_positions; i++)
        if (strcmp(m->positions[i].symbol, symbol) == 0)
            return payload_out(out, out_size, &m->positions[i], sizeof m->positions[i]);
    return QTR_ENOTFOUND;
}

static int m_get_exposure(qtr_ctx *ctx, const char *symbol, qtr_exposure *out)
{
    mock_host *m = M(ctx);
    if (!symbol) return QTR_EINVAL;
    qtr_exposure x;
    memset(&x, 0, sizeof x);
    x.size = sizeof x;
    qtr_strlcpy(x.symbol, symbol, sizeof x.symbol);
    qtr_position pos;
    if (m_get_position(ctx, symbol, &pos, sizeof pos) == QTR_OK) x.position = pos.qty;
    for (size_t i = 0; i < m->n_pending; i++)
        if (strcmp(m->pending[i].symbol, symbol) == 0) {
            x.pending_buy = m->pending[i].pending_buy;
            x.pending_sell = m->pending[i].pending_sell;
            x.pending_orders = m->pending[i].pending_orders;
        }
    x.pending = x.pending_buy - x.pending_sell;
    x.projected = x.position + x.pending;
    return qh_sized_out(out, &x, sizeof x);
}

static size_t m_list_positions(qtr_ctx *ctx, qtr_list *out)
{
    mock_host *m = M(ctx);
    qtr_position open[64];
    size_t n = 0;
    for (size_t i = 0; i < m->n_positions && n < 64; i++)
        if (m->positions[i].qty != 0) open[n++] = m->positions[i];
    return qh_list_fill(out, open, n, sizeof open[0]);
}

static int m_get_account(qtr_ctx *ctx, qtr_account *out)
{
    qtr_account a = M(ctx)->account;
    a.size = sizeof a;
    return qh_sized_out(out, &a, sizeof a);
}
static size_t m_list_open_orders(qtr_ctx *ctx, qtr_list *out)
{ (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_order_update)); }

#define FIND_BY_SYMBOL(arr, n, symbol, out) \
    for (size_t i_ = 0; i_ < (n); i_++)     \
        if (strcmp((arr)[i_].symbol, (symbol)) == 0) return payload_out((out), out_size, &(arr)[i_], sizeof (arr)[i_]); \
    return QTR_ENOTFOUND;

static int m_get_last_candle(qtr_ctx *ctx, const char *symbol, qtr_candle *out, size_t out_size)
{ mock_host *m = M(ctx); FIND_BY_SYMBOL(m->last_candles, m->n_last_candles, symbol, out) }
static int m_get_book_top(qtr_ctx *ctx, const char *symbol, qtr_book_top *out, size_t out_size)
{ mock_host *m = M(ctx); FIND_BY_SYMBOL(m->books, m->n_books, symbol, out) }
static int m_get_mark_price(qtr_ctx *ctx, const char *symbol, qtr_mark_price *out, size_t out_size)
{ mock_host *m = M(ctx); FIND_BY_SYMBOL(m->marks, m->n_marks, symbol, out) }
static int m_get_regime(qtr_ctx *ctx, const char *symbol, qtr_regime_event *out, size_t out_size)
{
    if (!symbol || !out || out_size == 0) return QTR_EINVAL;
    mock_host *m = M(ctx);
    if (!may_use(m, QTR_NEEDS_REGIME, "get_regime")) return QTR_EREFUSED;
    FIND_BY_SYMBOL(m->regimes, m->n_regimes, symbol, out)
}

static int m_policy_info(qtr_ctx *ctx, qtr_policy_info *out)
{
    mock_host *m = M(ctx);
    return qh_policy_rules_info(m->has_limits ? &m->limits : NULL, "mock.lua", out);
}

static int m_policy_describe(qtr_ctx *ctx, qtr_write_cb write, void *ud)
{
    mock_host *m = M(ctx);
    return qh_policy_rules_describe(m->has_limits ? &m->limits : NULL, write, ud);
}

static int m_policy_reload(qtr_ctx *ctx, char *err, size_t errlen) { (void)ctx; if (errlen) err[0] = 0; return QTR_OK; }
static int m_ess_status(qtr_ctx *ctx, qtr_ess_status *out)
{
    qtr_ess_status e = M(ctx)->ess;
    e.size = sizeof e;
    return qh_sized_out(out, &e, sizeof e);
}
static int m_ess_trip(qtr_ctx *ctx, const char *user, const char *reason)
{
    (void)user;
    mock_host *m = M(ctx);
    m->ess.state = QTR_ESS_TRIPPED;
    qtr_strlcpy(m->ess.trip_reason, reason, sizeof m->ess.trip_reason);
    m->ess.trips++;
    return QTR_OK;
}
static int m_ess_reset(qtr_ctx *ctx, const char *user, const char *reason, bool force, char *err, size_t errlen)
{
    (void)user; (void)force;
    mock_host *m = M(ctx);
    if (!reason || !reason[0]) { snprintf(err, errlen, "a reset needs a reason"); return QTR_EINVAL; }
    m->ess.state = QTR_ESS_ARMED;
    m->ess.resets++;
    return QTR_OK;
}
static void m_set_health(qtr_ctx *ctx, qtr_health_status st, const char *reason)
{
    mock_host *m = M(ctx);
    m->health.status = st;
    qtr_strlcpy(m->health.reason, reason ? reason : "", sizeof m->health.reason);
}
static size_t m_health_all(qtr_ctx *ctx, qtr_list *out)
{
    mock_host *m = M(ctx);
    qtr_component_health c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.component, "mock", sizeof c.component);
    c.health = m->health;
    return qh_list_fill(out, &c, 1, sizeof c);
}
static size_t m_list_plugins(qtr_ctx *ctx, qtr_list *out) { (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_plugin_info)); }
static void m_metrics_write(qtr_ctx *ctx, qtr_write_cb w, void *ud)
{
    mock_host *m = M(ctx);
    char line[256];
    for (size_t i = 0; i < m->n_metrics; i++) {
        int n = snprintf(line, sizeof line, "qtr_%s %lld\n", m->metrics[i].name, (long long)m->metrics[i].count);
        w(ud, line, (size_t)n);
    }
}
/* The mock keeps no history: tests of dashboards set up their own data. */
static size_t m_recent_fills(qtr_ctx *ctx, qtr_list *out) { (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_fill)); }
static size_t m_recent_orders(qtr_ctx *ctx, qtr_list *out) { (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_order_update)); }
static size_t m_recent_signals(qtr_ctx *ctx, qtr_list *out) { (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_signal_record)); }
static size_t m_equity_history(qtr_ctx *ctx, qtr_list *out) { (void)ctx; return qh_list_fill(out, NULL, 0, sizeof(qtr_account)); }
static struct event_base *m_event_base(qtr_ctx *ctx) { return M(ctx)->base; }

/* Exit plans: the host's rules, the same compiled check (exits/exit_plan_check.h). */
static int m_set_exit_plan(qtr_ctx *ctx, const char *symbol, const qtr_exit_plan *plan, char *err, size_t errlen)
{
    mock_host *m = M(ctx);
    qtr_exit_plan copy;
    if (!may_use(m, qh_exit_plan_needs(plan), "an exit plan with a regime_mask")) {
        if (err && errlen) snprintf(err, errlen, "regime_mask needs QTR_NEEDS_REGIME in the plugin's descriptor");
        return QTR_EREFUSED;
    }
    if (qh_exit_plan_accept(symbol, plan, &copy, err, errlen) != 0) return QTR_EINVAL;
    size_t i = 0;
    while (i < m->n_exit_plans && strcmp(m->exit_plans[i].symbol, symbol) != 0) i++;
    if (i == m->n_exit_plans) {
        if (i >= sizeof m->exit_plans / sizeof m->exit_plans[0]) return QTR_EFULL;
        m->n_exit_plans++;
    }
    qtr_strlcpy(m->exit_plans[i].symbol, symbol, sizeof m->exit_plans[i].symbol);
    m->exit_plans[i].plan = copy;
    return QTR_OK;
}

static int m_clear_exit_plan(qtr_ctx *ctx, const char *symbol)
{
    mock_host *m = M(ctx);
    for (size_t i = 0; symbol && i < m->n_exit_plans; i++)
        if (strcmp(m->exit_plans[i].symbol, symbol) == 0) {
            m->exit_plans[i] = m->exit_plans[--m->n_exit_plans];
            return QTR_OK;
        }
    return QTR_ENOTFOUND;
}

/* The mock places no exit orders and holds no positions: each plan is
 * listed flat, with its base parameters (those in force outside any
 * regime override), through the host's sized list copy. */
static size_t fill_exit_states(void *ud, void *buf, size_t cap)
{
    mock_host *m = ud;
    qtr_exit_state *out = buf;
    size_t n = 0;
    for (; n < m->n_exit_plans && n < cap; n++) {
        const qtr_exit_plan *p = &m->exit_plans[n].plan;
        memset(&out[n], 0, sizeof out[n]);
        qtr_strlcpy(out[n].symbol, m->exit_plans[n].symbol, sizeof out[n].symbol);
        qtr_strlcpy(out[n].owner, g_desc && g_desc->name ? g_desc->name : "", sizeof out[n].owner);
        out[n].working_type = p->working_type;
        out[n].qty_step = p->qty_step;
        out[n].price_tick = p->price_tick;
        out[n].regime = QTR_REGIME_UNKNOWN;
        out[n].params = *qtr_exit_plan_params(p, QTR_REGIME_UNKNOWN);
        out[n].regime_override = p->regime_mask & (1u << QTR_REGIME_UNKNOWN);
    }
    return n;
}

static size_t m_list_exit_plans(qtr_ctx *ctx, qtr_list *out)
{
    return qh_list_fill_by(out, sizeof(qtr_exit_state), fill_exit_states, M(ctx));
}

mock_host *mock_host_new(bool real_time)
{
    mock_host *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->events = calloc(MOCK_MAX_EVENTS, sizeof *m->events);
    m->signals = calloc(MOCK_MAX_SIGNALS, sizeof *m->signals);
    m->orders = calloc(MOCK_MAX_ORDERS, sizeof *m->orders);
    m->base = event_base_new();
    if (!m->events || !m->signals || !m->orders || !m->base) abort();
    m->real_time = real_time;
    m->now_ms = 1700000000000; /* 2023-11-14, any fixed start works */
    m->ctx = calloc(1, sizeof *m->ctx);
    m->ctx->m = m;
    qtr_host *h = &m->api;
    h->size = sizeof *h;
    h->abi_major = QTR_ABI_MAJOR;
    h->abi_minor = QTR_ABI_MINOR;
    h->host_version = "mock";
    h->log = m_log;
    h->get_exposure = m_get_exposure;
    h->now_ms = m_now_ms;
    h->mono_ns = m_mono_ns;
    h->is_simulated = m_is_simulated;
    h->timer_start = m_timer_start;
    h->timer_stop = m_timer_stop;
    h->subscribe = m_subscribe;
    h->unsubscribe = m_unsubscribe;
    h->publish = m_publish;
    h->config_string = m_config_string;
    h->config_int = m_config_int;
    h->config_bool = m_config_bool;
    h->config_decimal = m_config_decimal;
    h->config_double = m_config_double;
    h->config_list = m_config_list;
    h->metric_counter = m_metric_counter;
    h->metric_gauge = m_metric_gauge;
    h->metric_add = m_metric_add;
    h->metric_set = m_metric_set;
    h->submit_signal = m_submit_signal;
    h->submit_order = m_submit_order;
    h->cancel_order = m_cancel_order;
    h->get_position = m_get_position;
    h->list_positions = m_list_positions;
    h->get_account = m_get_account;
    h->list_open_orders = m_list_open_orders;
    h->get_last_candle = m_get_last_candle;
    h->get_book_top = m_get_book_top;
    h->get_mark_price = m_get_mark_price;
    h->policy_info = m_policy_info;
    h->policy_describe = m_policy_describe;
    h->policy_reload = m_policy_reload;
    h->ess_status = m_ess_status;
    h->ess_trip = m_ess_trip;
    h->ess_reset = m_ess_reset;
    h->set_health = m_set_health;
    h->health_all = m_health_all;
    h->list_plugins = m_list_plugins;
    h->metrics_write = m_metrics_write;
    h->recent_fills = m_recent_fills;
    h->recent_orders = m_recent_orders;
    h->recent_signals = m_recent_signals;
    h->equity_history = m_equity_history;
    h->event_base = m_event_base;
    h->set_exit_plan = m_set_exit_plan;
    h->clear_exit_plan = m_clear_exit_plan;
    h->list_exit_plans = m_list_exit_plans;
    h->log_enabled = m_log_enabled;
    h->get_regime = m_get_regime;
    return m;
}

void mock_host_free(mock_host *m)
{
    if (!m) return;
    for (mock_sub *s = m->subs, *n; s; s = n) { n = s->next; free(s); }
    for (mock_timer *t = m->timers, *n; t; t = n) {
        n = t->next;
        if (t->ev) event_free(t->ev);
        free(t);
    }
    for (size_t i = 0; i < g_n_lists; i++) free(g_lists[i].buf);
    g_n_lists = 0;
    event_base_free(m->base);
    free(m->events);
    free(m->signals);
    free(m->orders);
    free(m->ctx);
    free(m);
}

void mock_host_advance(mock_host *m, int64_t ms)
{
    int64_t target = m->now_ms + ms;
    for (;;) {
        mock_timer *next = NULL;
        for (mock_timer *t = m->timers; t; t = t->next)
            if (!t->dead && t->due_ms <= target && (!next || t->due_ms < next->due_ms)) next = t;
        if (!next) break;
        m->now_ms = next->due_ms;
        if (next->repeat) next->due_ms += next->interval_ms > 0 ? next->interval_ms : 1;
        else next->dead = true;
        next->cb(next->ud);
    }
    m->now_ms = target;
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    event_base_loopbreak(arg);
}

void mock_host_run_for(mock_host *m, int64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    struct event *ev = evtimer_new(m->base, stop_loop, m->base);
    evtimer_add(ev, &tv);
    event_base_dispatch(m->base);
    event_free(ev);
}

bool mock_host_run_until(mock_host *m, int64_t ms, bool (*pred)(void *ud), void *ud)
{
    int64_t deadline = m_mono_ns(NULL) + ms * 1000000;
    while (!pred(ud)) {
        if (m_mono_ns(NULL) >= deadline) return pred(ud);
        mock_host_run_for(m, 5);
    }
    return true;
}

void mock_host_publish_candle(mock_host *m, const char *symbol, int64_t open_time_ms, const char *open,
                              const char *high, const char *low, const char *close, const char *volume)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_candle *c = &ev.u.candle;
    qtr_strlcpy(c->symbol, symbol, sizeof c->symbol);
    c->open_time_ms = open_time_ms;
    c->close_time_ms = open_time_ms + 59999;
    c->open = D(open); c->high = D(high); c->low = D(low); c->close = D(close); c->volume = D(volume);
    ev.time_ms = c->close_time_ms;
    /* remember it as the host's "last candle" too */
    size_t i = 0;
    for (; i < m->n_last_candles; i++)
        if (strcmp(m->last_candles[i].symbol, symbol) == 0) break;
    if (i < 16) {
        m->last_candles[i] = *c;
        if (i == m->n_last_candles) m->n_last_candles++;
    }
    mock_host_publish(m, &ev);
}

size_t mock_host_count_events(const mock_host *m, qtr_event_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_events; i++) n += m->events[i].type == type;
    return n;
}

const qtr_event *mock_host_last_event(const mock_host *m, qtr_event_type type)
{
    for (size_t i = m->n_events; i > 0; i--)
        if (m->events[i - 1].type == type) return &m->events[i - 1];
    return NULL;
}

const char *mock_plugin_path(const char *name)
{
    static char buf[1024];
    const char *dir = getenv("QTR_PLUGIN_DIR");
    snprintf(buf, sizeof buf, "%s/%s.so", dir ? dir : "build/plugins", name);
    return buf;
}

int mock_plugin_load(mock_host *m, const char *so_path, mock_plugin *out)
{
    memset(out, 0, sizeof *out);
    out->ld = calloc(1, sizeof *out->ld);
    if (!out->ld) abort();
    char err[1024];
    if (qh_loader_open(so_path, NULL, 0, out->ld, err, sizeof err) != 0) {
        snprintf(m->last_log, sizeof m->last_log, "%.500s", err);
        fprintf(stderr, "[mock host] %s\n", err);
        free(out->ld);
        out->ld = NULL;
        return -1;
    }
    out->dl = out->ld->dl;
    out->desc = &out->ld->desc;
    g_desc = out->desc;
    /* the host checks the options against the declaration before init() */
    if (mock_host_check_options(m, out->desc, err, sizeof err) != 0) {
        snprintf(m->last_log, sizeof m->last_log, "%.500s", err);
        m->n_logs_error++;
        fprintf(stderr, "[mock host] %s\n", err);
        goto fail;
    }
    /* a failing init or start leaves its own reason in last_log */
    if (out->desc->init(&m->api, m->ctx, &out->state) != 0) {
        goto fail;
    }
    if (out->desc->start && out->desc->start(out->state) != 0) {
        out->desc->destroy(out->state);
        goto fail;
    }
    return 0;
fail:
    g_desc = NULL;
    qh_loader_close(out->ld);
    free(out->ld);
    memset(out, 0, sizeof *out);
    return -1;
}

bool mock_plugin_reload(mock_host *m, mock_plugin *p)
{
    (void)m;
    /* the loader's zero-extended copy, as the host reads it */
    if (!p->dl || p->desc->kind != QTR_KIND_STRATEGY || !p->ld->strategy.reload) return false;
    p->ld->strategy.reload(p->state);
    return true;
}

int mock_plugin_fetch_rules(mock_host *m, mock_plugin *p, qtr_rules_cb cb, void *ud)
{
    (void)m;
    /* the loader's zero-extended copy: NULL for a table older than the op */
    if (!p->dl || p->desc->kind != QTR_KIND_EXCHANGE || !p->ld->exchange.fetch_rules) return QTR_ENOTSUP;
    return p->ld->exchange.fetch_rules(p->state, cb, ud);
}

void mock_plugin_unload(mock_host *m, mock_plugin *p)
{
    (void)m;
    if (!p->dl) return;
    if (p->desc->stop) p->desc->stop(p->state);
    p->desc->destroy(p->state);
    /* the plugin is gone: drop its subscriptions and timers */
    for (mock_sub *s = m->subs; s; s = s->next) s->dead = true;
    for (mock_timer *t = m->timers; t; t = t->next) {
        t->dead = true;
        if (t->ev) event_del(t->ev);
    }
    g_desc = NULL;
    qh_loader_close(p->ld);
    free(p->ld);
    p->ld = NULL;
    p->dl = NULL;
}
