/* exit_manager.c — a symbol's exit orders follow its position (exit_manager.h). */
#include "exits/exit_manager.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qc/strmap.h>

#include "exits/exit_plan_check.h"

#define LIVE_MAX (QH_EXIT_ORDERS_MAX * 3)   /* placed + still cancelling */

typedef struct exit_symbol {
    char symbol[QTR_SYMBOL_MAX];
    char owner[QTR_NAME_MAX];
    bool has_plan;
    qtr_exit_plan plan;
    qtr_regime regime;
    qtr_dec qty;              /* the position the exits were placed for (signed) */
    qtr_dec entry;
    bool expect_set;          /* an own exit filled: the qty the next position shows */
    qtr_dec expect_qty;
    int64_t opened_ms;        /* when the position opened; 0 flat */
    void *time_timer;
    bool time_sent;
    uint32_t replaces;        /* re-placements since the position opened */
    qh_exit_live live[LIVE_MAX];
    size_t n_live;
    qh_exits *m;
} exit_symbol;

struct qh_exits {
    qh_exit_services sv;
    qc_strmap *index;         /* symbol -> slot in syms */
    exit_symbol *syms;
    size_t n_syms;
    /* Set from start until the first reconcile: the exchange's open orders
     * are not known yet, so placing exits then could double the ones still
     * resting there (a strategy's set_exit_plan in init, or a fill adopted
     * at start). The plan is kept; qh_exits_reconcile places what lacks. */
    bool hold;
    /* Live trailing stops not yet activated, over every symbol: while 0, a
     * price (each candle, each mark) costs no lookup at all. */
    size_t n_waiting;
    /* The symbol found last: an order's update, fill and position events
     * name the same one, so a strcmp with it spares a map lookup. Slots in
     * syms are never removed, so it stays valid. */
    exit_symbol *last;
};

static void logf_(qh_exits *m, qtr_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(qh_exits *m, qtr_log_level level, const char *fmt, ...)
{
    if (!m->sv.log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    m->sv.log(m->sv.ud, level, line);
}

bool qh_exit_client_id_is_exit(const char *cid)
{
    const char *dash = cid ? strrchr(cid, '-') : NULL;
    if (!dash || dash[1] != 'e' || !dash[2]) return false;
    for (const char *c = dash + 2; *c; c++)
        if (*c < '0' || *c > '9') return false;
    return true;
}

qh_exits *qh_exits_new(const qh_exit_services *sv)
{
    qh_exits *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->sv = *sv;
    m->index = qc_strmap_new(QTR_SYMBOL_MAX, QH_EXITS_MAX_SYMBOLS);
    m->syms = calloc(QH_EXITS_MAX_SYMBOLS, sizeof *m->syms);
    if (!m->index || !m->syms) {
        qh_exits_free(m);
        return NULL;
    }
    return m;
}

void qh_exits_free(qh_exits *m)
{
    if (!m) return;
    for (size_t i = 0; m->syms && i < m->n_syms; i++)
        if (m->syms[i].time_timer && m->sv.timer_stop) m->sv.timer_stop(m->sv.ud, m->syms[i].time_timer);
    qc_strmap_free(m->index);
    free(m->syms);
    free(m);
}

static exit_symbol *lookup(const qh_exits *m, const char *symbol)
{
    int64_t slot;
    if (!m->n_syms) return NULL;   /* no plan on any symbol (a run without exits): every event, no lookup */
    if (!symbol || !qc_strmap_key_ok(m->index, symbol) || !qc_strmap_get(m->index, symbol, &slot)) return NULL;
    return &m->syms[slot];
}

/* lookup, trying the symbol found last first (equal to it: a valid key). */
static exit_symbol *find(qh_exits *m, const char *symbol)
{
    if (symbol && m->last && strcmp(m->last->symbol, symbol) == 0) return m->last;
    exit_symbol *s = lookup(m, symbol);
    if (s) m->last = s;
    return s;
}

static exit_symbol *get(qh_exits *m, const char *symbol)
{
    exit_symbol *s = find(m, symbol);
    if (s || !symbol || !qc_strmap_key_ok(m->index, symbol) || m->n_syms >= QH_EXITS_MAX_SYMBOLS) return s;
    if (qc_strmap_put(m->index, symbol, (int64_t)m->n_syms) != QC_STRMAP_ADDED) return NULL;
    s = &m->syms[m->n_syms++];
    memset(s, 0, sizeof *s);
    qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    s->m = m;
    return s;
}

static const qtr_exit_params *params_now(const exit_symbol *s)
{
    return qtr_exit_plan_params(&s->plan, s->regime);
}

static qh_exit_live *live_find(exit_symbol *s, const char *cid)
{
    for (size_t i = 0; i < s->n_live; i++)
        if (strcmp(s->live[i].client_id, cid) == 0) return &s->live[i];
    return NULL;
}

static bool waiting(const qh_exit_live *x) { return x->role == QH_EXIT_TRAILING && !x->activated; }

/* x was just filled in at the end of s->live. */
static void live_added(exit_symbol *s, const qh_exit_live *x)
{
    if (waiting(x)) s->m->n_waiting++;
}

static void live_remove(exit_symbol *s, qh_exit_live *x)
{
    if (waiting(x)) s->m->n_waiting--;
    size_t i = (size_t)(x - s->live);
    s->live[i] = s->live[--s->n_live];
}

/* Send one exit order; remembered as live when the order path took it. */
static bool send(exit_symbol *s, qh_exit_role role, uint32_t level, const qtr_order_intent *in)
{
    qh_exits *m = s->m;
    if (s->n_live >= LIVE_MAX) {
        logf_(m, QTR_LOG_ERROR, "%s: too many exit orders in flight; %s not placed", s->symbol, qh_exit_role_name(role));
        return false;
    }
    qtr_order_intent o = *in;
    m->sv.client_id(m->sv.ud, o.client_id);
    qh_exit_live *x = &s->live[s->n_live++];
    memset(x, 0, sizeof *x);
    qtr_strlcpy(x->client_id, o.client_id, sizeof x->client_id);
    x->role = role;
    x->level = level;
    x->activated = role == QH_EXIT_TRAILING && o.activation_price == 0;
    x->intent = o;
    live_added(s, x);
    /* live before the call: the order path may answer (REJECTED) inside it */
    int rc = m->sv.submit(m->sv.ud, &o);
    if (rc != QTR_OK) {
        qh_exit_live *still = live_find(s, o.client_id);
        if (still) live_remove(s, still);
        logf_(m, QTR_LOG_ERROR, "%s: %s %s refused by the order path (%d)", s->symbol, qh_exit_role_name(role),
              o.client_id, rc);
        return false;
    }
    return true;
}

static void cancel_all(exit_symbol *s)
{
    for (size_t i = 0; i < s->n_live; i++) {
        qh_exit_live *x = &s->live[i];
        if (x->cancelling || x->role == QH_EXIT_TIME) continue;
        x->cancelling = true;
        s->m->sv.cancel(s->m->sv.ud, s->symbol, x->client_id);
    }
}

static void stop_time_timer(exit_symbol *s)
{
    if (s->time_timer && s->m->sv.timer_stop) s->m->sv.timer_stop(s->m->sv.ud, s->time_timer);
    s->time_timer = NULL;
}

static void on_time_stop(void *arg)
{
    exit_symbol *s = arg;
    s->time_timer = NULL;
    if (s->qty == 0 || s->time_sent || !s->has_plan) return;
    s->time_sent = true;
    cancel_all(s);
    qtr_order_intent o;
    qh_exit_time_close(s->symbol, s->qty, &o);
    char q[QTR_DEC_STRLEN];
    logf_(s->m, QTR_LOG_INFO, "%s: time stop reached; closing %s at market", s->symbol, qtr_dec_format(s->qty, q));
    send(s, QH_EXIT_TIME, 0, &o);
}

static void arm_time_stop(exit_symbol *s)
{
    const qtr_exit_params *p = params_now(s);
    if (s->time_timer || s->time_sent || !p->time_stop_ms || !s->opened_ms || !s->m->sv.timer_at) return;
    s->time_timer = s->m->sv.timer_at(s->m->sv.ud, s->opened_ms + p->time_stop_ms, on_time_stop, s);
}

static void keep_plan(exit_symbol *s)
{
    if (s->m->sv.store_plan && s->has_plan &&
        s->m->sv.store_plan(s->m->sv.ud, s->symbol, s->owner, &s->plan, s->opened_ms) != QTR_OK)
        logf_(s->m, QTR_LOG_ERROR, "%s: the store could not keep the exit plan's state", s->symbol);
}

/* The symbol's regime, asked only of a plan with regime parameters: the
 * base is in force whatever it is otherwise, and the regime is a service
 * a plugin must declare (QTR_NEEDS_REGIME): UNKNOWN then, in every mode. */
static qtr_regime regime_now(const exit_symbol *s)
{
    if (!s->plan.regime_mask) return QTR_REGIME_UNKNOWN;
    /* without the host's service: the last one heard (qh_exits_set_regime) */
    return s->m->sv.regime ? s->m->sv.regime(s->m->sv.ud, s->symbol) : s->regime;
}

/* Place the plan's exits for the position (qty, entry), with the
 * parameters of the symbol's regime at this moment. */
static void place(exit_symbol *s)
{
    s->regime = regime_now(s);
    qh_exit_order orders[QH_EXIT_ORDERS_MAX];
    char skipped[256];
    size_t n = qh_exit_build(&s->plan, params_now(s), s->symbol, s->qty, s->entry, orders, skipped, sizeof skipped);
    if (skipped[0]) logf_(s->m, QTR_LOG_WARN, "%s: %s", s->symbol, skipped);
    for (size_t i = 0; i < n; i++) send(s, orders[i].role, orders[i].level, &orders[i].intent);
    char q[QTR_DEC_STRLEN], e[QTR_DEC_STRLEN];
    logf_(s->m, QTR_LOG_INFO, "%s: %zu exit order%s placed for %s @ %s (regime %s)", s->symbol, n, n == 1 ? "" : "s",
          qtr_dec_format(s->qty, q), qtr_dec_format(s->entry, e), qtr_regime_name(s->regime));
}

/* The position is now (qty, entry) for a reason other than an own exit. */
static void follow(exit_symbol *s, qtr_dec qty, qtr_dec entry)
{
    qtr_dec was = s->qty;
    s->expect_set = false;
    cancel_all(s);
    s->qty = qty;
    s->entry = entry;
    if (qty == 0) {
        stop_time_timer(s);
        s->opened_ms = 0;
        s->time_sent = false;
        keep_plan(s);
        return;
    }
    if (was == 0 || (was > 0) != (qty > 0)) {     /* opened, or flipped: a new position */
        stop_time_timer(s);
        s->opened_ms = s->m->sv.now_ms(s->m->sv.ud);
        s->time_sent = false;
        s->replaces = 0;
        keep_plan(s);
    }
    if (!s->has_plan || s->time_sent) return;
    place(s);
    arm_time_stop(s);
}

int qh_exits_set_plan(qh_exits *m, const char *symbol, const char *owner, const qtr_exit_plan *plan, char *err,
                      size_t errlen)
{
    qtr_exit_plan copy;
    if (qh_exit_plan_accept(symbol, plan, &copy, err, errlen) != 0) return QTR_EINVAL;
    exit_symbol *s = get(m, symbol);
    if (!s) {
        if (err && errlen) snprintf(err, errlen, "symbol %s: too many symbols with exit plans (%d)", symbol,
                                    QH_EXITS_MAX_SYMBOLS);
        return QTR_EFULL;
    }
    s->plan = copy;
    s->has_plan = true;
    qtr_strlcpy(s->owner, owner ? owner : "", sizeof s->owner);
    qtr_position pos;
    bool open = m->sv.position && m->sv.position(m->sv.ud, symbol, &pos) && pos.qty != 0;
    if (open && s->qty == 0) s->opened_ms = m->sv.now_ms(m->sv.ud);   /* counted from now */
    if (m->sv.store_plan && m->sv.store_plan(m->sv.ud, symbol, s->owner, &s->plan, s->opened_ms) != QTR_OK) {
        if (err && errlen) snprintf(err, errlen, "symbol %s: the store could not keep the exit plan", symbol);
        return QTR_EIO;
    }
    logf_(m, QTR_LOG_INFO, "%s: exit plan set by %s", symbol, s->owner[0] ? s->owner : "?");
    if (open && !m->hold) {
        cancel_all(s);
        s->qty = pos.qty;
        s->entry = pos.entry_price;
        s->expect_set = false;
        place(s);
        arm_time_stop(s);
    }
    return QTR_OK;
}

int qh_exits_clear_plan(qh_exits *m, const char *symbol)
{
    exit_symbol *s = find(m, symbol);
    if (!s || !s->has_plan) return QTR_ENOTFOUND;
    cancel_all(s);
    stop_time_timer(s);
    s->has_plan = false;
    if (m->sv.store_plan) m->sv.store_plan(m->sv.ud, symbol, s->owner, NULL, 0);
    logf_(m, QTR_LOG_INFO, "%s: exit plan cleared; its exit orders cancelled", symbol);
    return QTR_OK;
}

int qh_exits_load_plan(qh_exits *m, const char *symbol, const char *owner, const qtr_exit_plan *plan,
                       int64_t opened_ms)
{
    char err[QTR_TEXT_MAX];
    qtr_exit_plan copy;
    if (qh_exit_plan_copy_in(plan, &copy, err, sizeof err) != 0 || qh_exit_plan_check(&copy, err, sizeof err) != 0) {
        logf_(m, QTR_LOG_ERROR, "%s: the stored exit plan is refused: %s", symbol, err);
        return QTR_EINVAL;
    }
    exit_symbol *s = get(m, symbol);
    if (!s) return QTR_EFULL;
    s->plan = copy;
    s->has_plan = true;
    s->opened_ms = opened_ms;
    qtr_strlcpy(s->owner, owner ? owner : "", sizeof s->owner);
    return QTR_OK;
}

void qh_exits_set_regime(qh_exits *m, const char *symbol, qtr_regime regime)
{
    exit_symbol *s = get(m, symbol);
    if (s) s->regime = regime;
}

void qh_exits_on_fill(qh_exits *m, const qtr_fill *f)
{
    exit_symbol *s = find(m, f->symbol);
    if (!s || !live_find(s, f->client_id)) return;
    qtr_dec from = s->expect_set ? s->expect_qty : s->qty;
    s->expect_qty = f->side == QTR_SIDE_BUY ? from + f->qty : from - f->qty;
    s->expect_set = true;
}

void qh_exits_on_position(qh_exits *m, const qtr_position *p)
{
    exit_symbol *s = find(m, p->symbol);
    if (!s || m->hold) return;   /* held: the reconcile reads the positions then */
    if (s->expect_set && p->qty == s->expect_qty) {   /* one of its exits filled: the others stay */
        s->expect_set = false;
        s->qty = p->qty;
        if (p->qty == 0) follow(s, 0, 0);
        return;
    }
    if (p->qty == s->qty && (p->qty == 0 || p->entry_price == s->entry)) return;   /* marked, funded */
    follow(s, p->qty, p->entry_price);
}

void qh_exits_on_order_update(qh_exits *m, const qtr_order_update *u)
{
    exit_symbol *s = find(m, u->symbol);
    qh_exit_live *x = s ? live_find(s, u->client_id) : NULL;
    if (!x || !qtr_order_status_final(u->status)) return;
    qh_exit_live ended = *x;
    live_remove(s, x);
    if (u->status == QTR_OS_FILLED || ended.cancelling || ended.role == QH_EXIT_TIME) return;
    if (u->status == QTR_OS_REJECTED) {
        logf_(m, QTR_LOG_ERROR, "%s: %s %s rejected: %s (not placed again)", s->symbol, qh_exit_role_name(ended.role),
              ended.client_id, u->reason);
        return;
    }
    /* cancelled or expired by someone else while the position is open */
    if (s->qty == 0 || !s->has_plan) return;
    if (s->replaces >= QH_EXITS_REPLACE_MAX) {
        logf_(m, QTR_LOG_ERROR, "%s: %s %s ended (%s) and was placed again %u times already; left off", s->symbol,
              qh_exit_role_name(ended.role), ended.client_id, qtr_order_status_name(u->status), s->replaces);
        return;
    }
    s->replaces++;
    logf_(m, QTR_LOG_WARN, "%s: %s %s ended (%s: %s) with the position open; placing it again", s->symbol,
          qh_exit_role_name(ended.role), ended.client_id, qtr_order_status_name(u->status), u->reason);
    ended.intent.client_id[0] = '\0';
    send(s, ended.role, ended.level, &ended.intent);
}

static qh_exit_role role_of(qtr_order_type t)
{
    return t == QTR_ORDER_STOP_MARKET ? QH_EXIT_STOP
         : t == QTR_ORDER_TRAILING_STOP_MARKET ? QH_EXIT_TRAILING
         : t == QTR_ORDER_TAKE_PROFIT_MARKET ? QH_EXIT_TAKE_PROFIT : QH_EXIT_TIME;
}

/* An open order of the exchange's, as an intent to place again if needed. */
static void adopt(exit_symbol *s, const qtr_order_update *u)
{
    if (s->n_live >= LIVE_MAX) return;
    qh_exit_live *x = &s->live[s->n_live++];
    memset(x, 0, sizeof *x);
    qtr_strlcpy(x->client_id, u->client_id, sizeof x->client_id);
    x->role = role_of(u->type);
    qtr_order_intent *o = &x->intent;
    qtr_strlcpy(o->symbol, u->symbol, sizeof o->symbol);
    qtr_strlcpy(o->client_id, u->client_id, sizeof o->client_id);
    qtr_strlcpy(o->strategy, "exits", sizeof o->strategy);
    o->side = u->side;
    o->type = u->type;
    o->qty = u->qty - u->filled_qty;
    o->stop_price = u->stop_price;
    o->activation_price = u->activation_price;
    o->callback_bps = u->callback_bps;
    o->working_type = u->working_type;
    o->reduce_only = true;
    o->confidence = 1.0;
    qtr_strlcpy(o->reason, "exit: adopted after a restart", sizeof o->reason);
    x->activated = x->role == QH_EXIT_TRAILING && o->activation_price == 0;
    live_added(s, x);
}

void qh_exits_hold(qh_exits *m) { m->hold = true; }

/* An open exit order of the exchange's on s's symbol, not followed yet. */
static bool adoptable(exit_symbol *s, const qtr_order_update *u)
{
    return strcmp(u->symbol, s->symbol) == 0 && u->reduce_only && qh_exit_client_id_is_exit(u->client_id) &&
           !qtr_order_status_final(u->status) && !live_find(s, u->client_id);
}

static size_t adopt_resting(exit_symbol *s, const qtr_order_update *open, size_t n_open)
{
    size_t adopted = 0;
    for (size_t j = 0; j < n_open; j++)
        if (adoptable(s, &open[j])) {
            adopt(s, &open[j]);
            adopted++;
        }
    return adopted;
}

/* A resting stop or trailing stop for less than the whole position. */
static bool smaller_stop(const exit_symbol *s)
{
    for (size_t i = 0; i < s->n_live; i++) {
        const qh_exit_live *x = &s->live[i];
        if ((x->role == QH_EXIT_STOP || x->role == QH_EXIT_TRAILING) && !x->cancelling && x->intent.qty > 0 &&
            x->intent.qty < qtr_dec_abs(s->qty))
            return true;
    }
    return false;
}

static bool has_live(const exit_symbol *s, qh_exit_role role)
{
    for (size_t i = 0; i < s->n_live; i++)
        if (s->live[i].role == role && !s->live[i].cancelling) return true;
    return false;
}

/* A take-profit rung the plan has but no resting take-profit matches (by
 * trigger price). Placed again only if it cannot have filled while qtr was
 * down: no take-profit rests at all (its send never landed), or one nearer
 * to the entry still rests (the price never reached that one, so never this
 * one either). A missing rung nearer than every resting one may have filled:
 * left off. */
static bool tp_missing(const exit_symbol *s, const qtr_order_intent *rung)
{
    bool any = false, nearer_rests = false;
    for (size_t i = 0; i < s->n_live; i++) {
        const qh_exit_live *x = &s->live[i];
        if (x->role != QH_EXIT_TAKE_PROFIT || x->cancelling) continue;
        if (x->intent.stop_price == rung->stop_price) return false;
        any = true;
        if (rung->side == QTR_SIDE_SELL ? x->intent.stop_price < rung->stop_price
                                        : x->intent.stop_price > rung->stop_price)
            nearer_rests = true;
    }
    return !any || nearer_rests;
}

static qtr_dec tp_resting_qty(const exit_symbol *s)
{
    qtr_dec sum = 0;
    for (size_t i = 0; i < s->n_live; i++)
        if (s->live[i].role == QH_EXIT_TAKE_PROFIT && !s->live[i].cancelling) sum += s->live[i].intent.qty;
    return sum;
}

/* A position with a plan after a restart: the exits still resting are kept
 * and each of the plan's orders without a resting counterpart of its role is
 * placed (a stop-loss whose send never landed is placed even when the
 * trailing stop survived: until its activation price, that one protects
 * nothing). */
static void reconcile_open(exit_symbol *s, const qtr_order_update *open, size_t n_open)
{
    size_t adopted = adopt_resting(s, open, n_open);
    if (smaller_stop(s)) {
        /* the position grew while qtr was down (an entry filled): as for any
         * change of size, its exits are placed afresh for the new size */
        logf_(s->m, QTR_LOG_WARN, "%s: a resting stop covers less than the position after the restart: exits "
              "placed afresh", s->symbol);
        cancel_all(s);
        place(s);
        return;
    }
    s->regime = regime_now(s);
    qh_exit_order orders[QH_EXIT_ORDERS_MAX];
    char skipped[256];
    size_t n = qh_exit_build(&s->plan, params_now(s), s->symbol, s->qty, s->entry, orders, skipped, sizeof skipped);
    if (skipped[0]) logf_(s->m, QTR_LOG_WARN, "%s: %s", s->symbol, skipped);
    bool had_stop = has_live(s, QH_EXIT_STOP), had_trailing = has_live(s, QH_EXIT_TRAILING);
    /* what the resting take-profits leave uncovered: a rung placed is cut to
     * it, so the take-profits never exceed the position */
    qtr_dec tp_left = qtr_dec_abs(s->qty) - tp_resting_qty(s);
    size_t placed = 0;
    for (size_t i = 0; i < n; i++) {
        qh_exit_order *o = &orders[i];
        bool place_it = o->role == QH_EXIT_STOP       ? !had_stop
                      : o->role == QH_EXIT_TRAILING   ? !had_trailing
                      : o->role == QH_EXIT_TAKE_PROFIT ? tp_missing(s, &o->intent) && tp_left > 0
                                                       : false;
        if (!place_it) continue;
        if (o->role == QH_EXIT_TAKE_PROFIT) {
            if (o->intent.qty > tp_left) o->intent.qty = tp_left;
            tp_left -= o->intent.qty;
        }
        logf_(s->m, QTR_LOG_WARN, "%s: no %s rests on the exchange after the restart: placing it", s->symbol,
              qh_exit_role_name(o->role));
        if (send(s, o->role, o->level, &o->intent)) placed++;
    }
    logf_(s->m, QTR_LOG_INFO, "%s: after the restart %zu exit order%s kept, %zu placed", s->symbol, adopted,
          adopted == 1 ? "" : "s", placed);
}

/* A symbol with a plan, flat after a restart (a stop closed the position
 * while qtr was down): its exits still resting would act on the next
 * position, so they are cancelled. */
static void reconcile_flat(exit_symbol *s, const qtr_order_update *open, size_t n_open)
{
    size_t adopted = adopt_resting(s, open, n_open);
    if (adopted)
        logf_(s->m, QTR_LOG_WARN, "%s: flat after the restart: cancelling its %zu exit order%s still resting",
              s->symbol, adopted, adopted == 1 ? "" : "s");
    if (adopted || s->opened_ms) follow(s, 0, 0);   /* the store learns it is flat */
}

static const qtr_position *position_of(const qtr_position *positions, size_t n, const char *symbol)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(positions[i].symbol, symbol) == 0) return &positions[i];
    return NULL;
}

void qh_exits_reconcile(qh_exits *m, const qtr_position *positions, size_t n_positions, const qtr_order_update *open,
                        size_t n_open)
{
    m->hold = false;
    for (size_t i = 0; i < m->n_syms; i++) {
        exit_symbol *s = &m->syms[i];
        if (!s->has_plan) continue;
        const qtr_position *p = position_of(positions, n_positions, s->symbol);
        s->expect_set = false;
        if (!p || p->qty == 0) {
            reconcile_flat(s, open, n_open);
            continue;
        }
        s->qty = p->qty;
        s->entry = p->entry_price;
        if (!s->opened_ms) s->opened_ms = m->sv.now_ms(m->sv.ud);
        reconcile_open(s, open, n_open);
        arm_time_stop(s);
    }
}

void qh_exits_check(qh_exits *m)
{
    for (size_t i = 0; i < m->n_syms; i++) {
        exit_symbol *s = &m->syms[i];
        if (!s->has_plan || s->qty == 0 || s->time_sent) continue;
        bool any = false;
        for (size_t k = 0; k < s->n_live && !any; k++) any = !s->live[k].cancelling;
        if (any) continue;
        qh_exit_order orders[QH_EXIT_ORDERS_MAX];
        if (qh_exit_build(&s->plan, params_now(s), s->symbol, s->qty, s->entry, orders, NULL, 0) == 0) continue;
        if (s->replaces >= QH_EXITS_REPLACE_MAX) continue;   /* said once, when it reached the bound */
        s->replaces++;
        logf_(m, QTR_LOG_WARN, "%s: the position has no live exit order (refused or not sent): placing them "
              "again (%u of %d)", s->symbol, s->replaces, QH_EXITS_REPLACE_MAX);
        if (s->replaces == QH_EXITS_REPLACE_MAX)
            logf_(m, QTR_LOG_ERROR, "%s: last attempt; the position stays without exits if it fails", s->symbol);
        place(s);
    }
}

size_t qh_exits_live(const qh_exits *m, const char *symbol, qh_exit_live *out, size_t cap)
{
    const exit_symbol *s = lookup(m, symbol);
    size_t n = 0;
    for (size_t i = 0; s && i < s->n_live && n < cap; i++) out[n++] = s->live[i];
    return n;
}

/* A trailing stop closing a long sells: it activates once the price rises
 * to its activation price; one closing a short, once the price falls to it. */
void qh_exits_on_price(qh_exits *m, const char *symbol, qtr_working_type working, qtr_dec low, qtr_dec high)
{
    if (!m->n_waiting) return;
    exit_symbol *s = find(m, symbol);
    for (size_t i = 0; s && i < s->n_live; i++) {
        qh_exit_live *x = &s->live[i];
        if (!waiting(x) || x->intent.working_type != working) continue;
        qtr_dec at = x->intent.activation_price;
        x->activated = x->intent.side == QTR_SIDE_SELL ? high >= at : low <= at;
        if (x->activated) m->n_waiting--;
    }
}

size_t qh_exits_waiting_trailing(const qh_exits *m) { return m->n_waiting; }

static qtr_exit_role sdk_role(qh_exit_role r)
{
    switch (r) {
    case QH_EXIT_STOP: return QTR_EXIT_STOP_LOSS;
    case QH_EXIT_TAKE_PROFIT: return QTR_EXIT_TAKE_PROFIT;
    case QH_EXIT_TRAILING: return QTR_EXIT_TRAILING;
    case QH_EXIT_TIME: return QTR_EXIT_TIME_STOP;
    }
    return QTR_EXIT_STOP_LOSS;
}

static void state_of(const qh_exits *m, const exit_symbol *s, qtr_exit_state *out)
{
    memset(out, 0, sizeof *out);
    qtr_strlcpy(out->symbol, s->symbol, sizeof out->symbol);
    qtr_strlcpy(out->owner, s->owner, sizeof out->owner);
    out->working_type = s->plan.working_type;
    out->qty_step = s->plan.qty_step;
    out->price_tick = s->plan.price_tick;
    out->regime = s->regime;
    out->regime_override = qtr_exit_plan_params(&s->plan, s->regime) != &s->plan.base;
    out->params = *params_now(s);
    out->position_qty = s->qty;
    out->entry_price = s->qty ? s->entry : 0;
    out->opened_ms = s->qty ? s->opened_ms : 0;
    out->time_stop_at_ms = out->opened_ms && out->params.time_stop_ms ? out->opened_ms + out->params.time_stop_ms : 0;
    out->time_stop_sent = s->time_sent;
    out->held = m->hold;
    out->replaces = s->replaces;
    for (size_t i = 0; i < s->n_live && out->n_orders < QTR_EXIT_LIVE_MAX; i++) {
        const qh_exit_live *x = &s->live[i];
        qtr_exit_order_ref *r = &out->orders[out->n_orders++];
        qtr_strlcpy(r->client_id, x->client_id, sizeof r->client_id);
        r->role = sdk_role(x->role);
        r->level = x->level;
        r->side = x->intent.side;
        r->type = x->intent.type;
        r->qty = x->intent.qty;
        r->stop_price = x->intent.stop_price;
        r->activation_price = x->intent.activation_price;
        r->callback_bps = x->intent.callback_bps;
        r->cancelling = x->cancelling;
        r->activated = x->activated;
    }
}

size_t qh_exits_list(const qh_exits *m, qtr_exit_state *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_syms && n < cap; i++)
        if (m->syms[i].has_plan) state_of(m, &m->syms[i], &out[n++]);
    return n;
}

size_t qh_exits_plan_count(const qh_exits *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_syms; i++) n += m->syms[i].has_plan;
    return n;
}
