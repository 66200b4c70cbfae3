/* ess.c — the Emergency Stop System (see ess.h). Single-threaded: every call
 * comes from the host's event loop. */
#include "risk/ess.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "portfolio/dec_mul.h"
#include "risk/ess_store.h"

#define LOG_COMP "ess"
#define DEFAULT_COOLDOWN_MS (15 * 60 * 1000)

/* Conditions, as bits, so a breach that persists is recorded once. */
enum { COND_DRAWDOWN = 1u, COND_DAILY = 2u, COND_ERRORS = 4u };

struct qh_ess {
    qtr_ess_state state;            /* first: the one field qh_ess_allows reads */
    qh_ess_hooks hooks;
    qh_ess_limits limits;
    char *state_path;
    char trip_reason[QTR_REASON_MAX];
    int64_t tripped_at_ms, cooldown_until_ms;
    uint32_t trips, resets;
    int32_t consecutive_errors;
    char last_user[QTR_NAME_MAX];
    bool cooldown_over;
    bool in_trip;                   /* trip actions running (hooks may re-enter) */
    unsigned held;                  /* COND_* bits true at the last observation */
    uint32_t blocked_breaches;
    char last_breach[QTR_REASON_MAX];
    char persist_error[QTR_TEXT_MAX];
};

/* snprintf that may cut the text short on purpose (reasons have fixed
 * fields); via vsnprintf so the compiler does not flag the intent. */
static void text_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void text_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static bool has_text(const char *s)
{
    if (!s) return false;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return true;
    return false;
}

/* Reasons are shown on one line and stored in a line-based file. */
static void copy_line(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
    dst[i] = '\0';
}

static void to_saved(const qh_ess *e, qh_ess_saved *s)
{
    memset(s, 0, sizeof *s);
    s->state = e->state;
    qtr_strlcpy(s->trip_reason, e->trip_reason, sizeof s->trip_reason);
    s->tripped_at_ms = e->tripped_at_ms;
    s->cooldown_until_ms = e->cooldown_until_ms;
    s->trips = e->trips;
    s->resets = e->resets;
    s->consecutive_errors = e->consecutive_errors;
    qtr_strlcpy(s->last_user, e->last_user, sizeof s->last_user);
}

static int persist_saved(qh_ess *e, const qh_ess_saved *s)
{
    if (!e->state_path) return 0;
    char err[QTR_TEXT_MAX];
    if (qh_ess_store_save(e->state_path, s, err, sizeof err) != 0) {
        qtr_strlcpy(e->persist_error, err, sizeof e->persist_error);
        qh_error(LOG_COMP, "ESS state not saved: %s", err);
        return -1;
    }
    e->persist_error[0] = '\0';
    return 0;
}

static int persist(qh_ess *e)
{
    qh_ess_saved s;
    to_saved(e, &s);
    return persist_saved(e, &s);
}

static void emit(qh_ess *e, qtr_ess_state previous, const char *reason, const char *user, int64_t now_ms)
{
    if (!e->hooks.on_transition) return;
    qtr_ess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = now_ms;
    ev.state = e->state;
    ev.previous = previous;
    copy_line(ev.reason, sizeof ev.reason, reason);
    copy_line(ev.user, sizeof ev.user, user);
    ev.cooldown_until_ms = e->cooldown_until_ms;
    ev.trips = e->trips;
    ev.resets = e->resets;
    e->hooks.on_transition(e->hooks.ud, &ev);
}

qh_ess *qh_ess_new(const qh_ess_hooks *hooks, const char *state_path, char *err, size_t errlen)
{
    qh_ess *e = calloc(1, sizeof *e);
    if (!e) {
        text_fmt(err, errlen, "ESS: out of memory");
        return NULL;
    }
    if (hooks) e->hooks = *hooks;
    e->state = QTR_ESS_ARMED;
    e->limits.cooldown_ms = DEFAULT_COOLDOWN_MS;
    if (state_path && state_path[0]) {
        e->state_path = strdup(state_path);
        if (!e->state_path) {
            text_fmt(err, errlen, "ESS: out of memory");
            free(e);
            return NULL;
        }
        qh_ess_saved s;
        bool found = false;
        if (qh_ess_store_load(state_path, &s, &found, err, errlen) != 0) {
            free(e->state_path);
            free(e);
            return NULL;
        }
        if (found) {
            e->state = s.state;
            qtr_strlcpy(e->trip_reason, s.trip_reason, sizeof e->trip_reason);
            e->tripped_at_ms = s.tripped_at_ms;
            e->cooldown_until_ms = s.cooldown_until_ms;
            e->trips = s.trips;
            e->resets = s.resets;
            e->consecutive_errors = s.consecutive_errors;
            qtr_strlcpy(e->last_user, s.last_user, sizeof e->last_user);
            if (e->state != QTR_ESS_ARMED)
                qh_warn(LOG_COMP, "restored %s from %s: %s", qtr_ess_state_name(e->state), state_path,
                        e->trip_reason);
        }
    }
    return e;
}

void qh_ess_free(qh_ess *e)
{
    if (!e) return;
    free(e->state_path);
    free(e);
}

void qh_ess_set_limits(qh_ess *e, const qh_ess_limits *limits)
{
    if (!e || !limits) {
        qh_error(LOG_COMP, "qh_ess_set_limits: no limits given; keeping the current ones");
        return;
    }
    /* A negative figure is a broken policy: keep the field we had, loudly. */
    qh_ess_limits next = *limits;
    if (next.max_drawdown_pct < 0) {
        qh_error(LOG_COMP, "limit max_drawdown_pct is negative; keeping the previous value");
        next.max_drawdown_pct = e->limits.max_drawdown_pct;
    }
    if (next.daily_loss_pct < 0) {
        qh_error(LOG_COMP, "limit daily_loss_pct is negative; keeping the previous value");
        next.daily_loss_pct = e->limits.daily_loss_pct;
    }
    if (next.max_consecutive_errors < 0) {
        qh_error(LOG_COMP, "limit max_consecutive_errors is negative; keeping the previous value");
        next.max_consecutive_errors = e->limits.max_consecutive_errors;
    }
    if (next.cooldown_ms < 0) {
        qh_error(LOG_COMP, "limit cooldown_ms is negative; keeping the previous value");
        next.cooldown_ms = e->limits.cooldown_ms;
    }
    e->limits = next;
}

bool qh_ess_allows(const qh_ess *e, bool reduce_only)
{
    /* Fail closed without an ESS: nothing passes. */
    return e && (e->state == QTR_ESS_ARMED || reduce_only);
}

qtr_ess_state qh_ess_state(const qh_ess *e) { return e ? e->state : QTR_ESS_TRIPPED; }
uint32_t qh_ess_trip_count(const qh_ess *e) { return e ? e->trips : 0; }

/* value * 100 / base, rounded down. Rounding down keeps ">= limit" exact:
 * the limit is itself a multiple of 1e-8. */
static qtr_dec percent_of(qtr_dec value, qtr_dec base)
{
    qtr_dec pct;
    if (!qtr_dec_muldiv(value, QTR_DEC_INT(100), base, QTR_ROUND_DOWN, &pct)) return QTR_DEC_MAX;
    return pct;
}

/* Drawdown from the peak, recomputed from equity and peak; the stricter of
 * that and the figure the portfolio reported. */
static qtr_dec drawdown_pct(const qtr_account *a)
{
    qtr_dec pct = a->drawdown_pct, loss;
    if (a->equity_peak > 0 && a->equity < a->equity_peak) {
        if (!qtr_dec_sub(a->equity_peak, a->equity, &loss)) return QTR_DEC_MAX;
        pct = qtr_dec_max(pct, percent_of(loss, a->equity_peak));
    }
    return pct;
}

static qtr_dec daily_loss_pct(const qtr_account *a)
{
    qtr_dec pct = a->daily_drawdown_pct;
    if (a->day_start_equity > 0) {
        qtr_dec loss = a->daily_pnl < 0 ? -a->daily_pnl : 0, by_equity;
        if (!qtr_dec_sub(a->day_start_equity, a->equity, &by_equity)) return QTR_DEC_MAX;
        loss = qtr_dec_max(loss, by_equity);
        if (loss > 0) pct = qtr_dec_max(pct, percent_of(loss, a->day_start_equity));
    }
    return pct;
}

/* "drawdown 3.12% >= 3%" */
static void pct_reason(char *out, size_t cap, const char *code, qtr_dec pct, qtr_dec limit)
{
    char a[QTR_DEC_STRLEN + 8], b[QTR_DEC_STRLEN];
    if (pct == QTR_DEC_MAX) qtr_strlcpy(a, "(overflow)", sizeof a);
    else qtr_dec_format_fixed(pct, 2, QTR_ROUND_DOWN, a);
    text_fmt(out, cap, "%s %s%% >= %s%%", code, a, qtr_dec_format(limit, b));
}

/* percent_of(value, base) >= limit, without the division (the account is
 * checked on every candle): percent_of rounds down and limit is a whole
 * number of 1e-8, so floor(v * 100 / b) >= limit exactly when
 * v * 100 >= limit * b, in raw units (products below 2^127). base > 0. */
static bool percent_reaches(qtr_dec value, qtr_dec base, qtr_dec limit)
{
    return (qtr__i128)value * QTR_DEC_INT(100) >= (qtr__i128)limit * base;
}

/* drawdown_pct(a) >= limit (limit > 0), computed as cheaply. */
static bool drawdown_reaches(const qtr_account *a, qtr_dec limit)
{
    qtr_dec loss;
    if (a->drawdown_pct >= limit) return true;
    if (a->equity_peak <= 0 || a->equity >= a->equity_peak) return false;
    if (!qh_dec_sub(a->equity_peak, a->equity, &loss)) return true;   /* drawdown_pct: QTR_DEC_MAX */
    return percent_reaches(loss, a->equity_peak, limit);
}

/* daily_loss_pct(a) >= limit (limit > 0), computed as cheaply. */
static bool daily_loss_reaches(const qtr_account *a, qtr_dec limit)
{
    if (a->daily_drawdown_pct >= limit) return true;
    if (a->day_start_equity <= 0) return false;
    qtr_dec loss = a->daily_pnl < 0 ? -a->daily_pnl : 0, by_equity;
    if (!qh_dec_sub(a->day_start_equity, a->equity, &by_equity)) return true;   /* QTR_DEC_MAX */
    loss = qtr_dec_max(loss, by_equity);
    return loss > 0 && percent_reaches(loss, a->day_start_equity, limit);
}

/* Which account conditions hold now (COND_DRAWDOWN, COND_DAILY). */
static unsigned account_conditions(const qh_ess *e, const qtr_account *a)
{
    unsigned held = 0;
    if (e->limits.max_drawdown_pct > 0 && drawdown_reaches(a, e->limits.max_drawdown_pct)) held |= COND_DRAWDOWN;
    if (e->limits.daily_loss_pct > 0 && daily_loss_reaches(a, e->limits.daily_loss_pct)) held |= COND_DAILY;
    return held;
}

/* The texts of the conditions in held, with the percentages computed in full. */
static void account_reasons(const qh_ess *e, const qtr_account *a, unsigned held, char *dd_why, char *daily_why,
                            size_t cap)
{
    if (held & COND_DRAWDOWN) pct_reason(dd_why, cap, "drawdown", drawdown_pct(a), e->limits.max_drawdown_pct);
    if (held & COND_DAILY) pct_reason(daily_why, cap, "daily_loss", daily_loss_pct(a), e->limits.daily_loss_pct);
}

static bool errors_condition(const qh_ess *e)
{
    return e->limits.max_consecutive_errors > 0 && e->consecutive_errors >= e->limits.max_consecutive_errors;
}

/* Cancel, close, then COOLDOWN. Also finishes a trip a crash interrupted. */
static void run_trip_actions(qh_ess *e, int64_t now_ms)
{
    e->in_trip = true;
    if (e->hooks.cancel_all_orders) e->hooks.cancel_all_orders(e->hooks.ud);
    if (e->limits.close_positions && e->hooks.close_all_positions) e->hooks.close_all_positions(e->hooks.ud);
    e->in_trip = false;
    e->state = QTR_ESS_COOLDOWN;
    persist(e);
    emit(e, QTR_ESS_TRIPPED, e->trip_reason, e->last_user, now_ms);
}

static void trip(qh_ess *e, const char *reason, const char *user, int64_t now_ms)
{
    /* Block first: hooks may already send orders through qh_ess_allows. */
    e->state = QTR_ESS_TRIPPED;
    e->trips++;
    e->tripped_at_ms = now_ms;
    int64_t cooldown = e->limits.cooldown_ms;
    e->cooldown_until_ms = now_ms > INT64_MAX - cooldown ? INT64_MAX : now_ms + cooldown;
    e->cooldown_over = false;
    copy_line(e->trip_reason, sizeof e->trip_reason, reason);
    copy_line(e->last_user, sizeof e->last_user, user ? user : "");
    qh_error(LOG_COMP, "TRIPPED: %s%s%s", e->trip_reason, user ? " by " : "", user ? e->last_user : "");
    /* On disk before the hooks run: a crash in them must not come back ARMED. */
    persist(e);
    emit(e, QTR_ESS_ARMED, e->trip_reason, e->last_user, now_ms);
    run_trip_actions(e, now_ms);
}

static void record_breach(qh_ess *e, const char *why)
{
    e->blocked_breaches++;
    copy_line(e->last_breach, sizeof e->last_breach, why);
    /* Equity hovering at a threshold re-crosses it on every tick: say so on
     * the first and every 100th; the count keeps the rest. */
    if (e->blocked_breaches == 1 || e->blocked_breaches % 100 == 0)
        qh_warn(LOG_COMP, "already %s; new breach recorded: %s (%llu while blocked)", qtr_ess_state_name(e->state), why,
                (unsigned long long)e->blocked_breaches);
}

/* Trip on the first condition that newly holds while ARMED; while blocked,
 * record each condition once when it starts to hold. */
static void observe(qh_ess *e, unsigned held_now, unsigned mask, const char *const whys[3], int64_t now_ms)
{
    static const unsigned bits[3] = { COND_DRAWDOWN, COND_DAILY, COND_ERRORS };
    unsigned before = e->held;
    e->held = (e->held & ~mask) | held_now;
    bool tripped_now = false;
    for (int i = 0; i < 3; i++) {
        if (!(held_now & bits[i])) continue;
        if (e->state == QTR_ESS_ARMED) {
            trip(e, whys[i], NULL, now_ms);
            tripped_now = true;
        } else if (!(before & bits[i]) && !tripped_now) {
            record_breach(e, whys[i]);
        }
    }
}

void qh_ess_on_account(qh_ess *e, const qtr_account *acct, int64_t now_ms)
{
    if (!e || !acct) {
        qh_error(LOG_COMP, "qh_ess_on_account: no account given");
        return;
    }
    unsigned held = account_conditions(e, acct);
    if (!held) {
        /* every candle, almost always: observe() would only clear the bits */
        e->held &= ~(COND_DRAWDOWN | COND_DAILY);
        return;
    }
    char dd[QTR_REASON_MAX] = "", daily[QTR_REASON_MAX] = "";
    account_reasons(e, acct, held, dd, daily, sizeof dd);
    const char *const whys[3] = { dd, daily, "" };
    observe(e, held, COND_DRAWDOWN | COND_DAILY, whys, now_ms);
}

void qh_ess_on_exchange_result(qh_ess *e, bool error, int64_t now_ms)
{
    if (!e) return;
    if (!error) {
        e->consecutive_errors = 0;
        e->held &= ~COND_ERRORS;
        return;
    }
    if (e->consecutive_errors < INT32_MAX) e->consecutive_errors++;
    if (!errors_condition(e)) return;
    char why[QTR_REASON_MAX];
    text_fmt(why, sizeof why, "exchange_errors %d in a row", (int)e->consecutive_errors);
    const char *const whys[3] = { "", "", why };
    observe(e, COND_ERRORS, COND_ERRORS, whys, now_ms);
}

void qh_ess_tick(qh_ess *e, int64_t now_ms)
{
    if (!e || e->in_trip) return;
    if (e->state == QTR_ESS_TRIPPED) {
        /* Restored mid-trip after a crash: the actions may not have run. */
        qh_warn(LOG_COMP, "finishing an interrupted trip: %s", e->trip_reason);
        run_trip_actions(e, now_ms);
    }
    if (e->state == QTR_ESS_COOLDOWN && !e->cooldown_over && now_ms >= e->cooldown_until_ms) {
        e->cooldown_over = true;
        qh_info(LOG_COMP, "cooldown over; awaiting a manual reset (trip: %s)", e->trip_reason);
    }
}

/* A trip asked for from outside the ESS's own conditions: "<origin>: <reason>". */
static int trip_for(qh_ess *e, const char *origin, const char *user, const char *reason, int64_t now_ms)
{
    if (!e || !has_text(reason)) return QTR_EINVAL;
    char why[QTR_REASON_MAX];
    text_fmt(why, sizeof why, "%s: %s", origin, reason);
    if (e->state != QTR_ESS_ARMED) {
        record_breach(e, why);
        return QTR_EREFUSED;
    }
    trip(e, why, user, now_ms);
    return QTR_OK;
}

int qh_ess_trip(qh_ess *e, const char *user, const char *reason, int64_t now_ms)
{
    /* Stopping must never fail for want of a name. */
    return trip_for(e, "manual", has_text(user) ? user : "unknown", reason, now_ms);
}

int qh_ess_trip_host(qh_ess *e, const char *reason, int64_t now_ms)
{
    return trip_for(e, "host", "host", reason, now_ms);
}

int qh_ess_reset(qh_ess *e, const char *user, const char *reason, bool force, const qtr_account *acct,
                 int64_t now_ms, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || !errlen) { err = scratch; errlen = sizeof scratch; }
    err[0] = '\0';
    if (!e) { text_fmt(err, errlen, "no ESS"); return QTR_EINVAL; }
    if (!has_text(user)) { text_fmt(err, errlen, "a reset needs a user"); return QTR_EINVAL; }
    if (!has_text(reason)) { text_fmt(err, errlen, "a reset needs a reason"); return QTR_EINVAL; }
    if (e->state == QTR_ESS_ARMED) { text_fmt(err, errlen, "ESS is ARMED: nothing to reset"); return QTR_EREFUSED; }
    if (e->in_trip) { text_fmt(err, errlen, "a trip is in progress"); return QTR_EREFUSED; }
    if (!force) {
        if (now_ms < e->cooldown_until_ms) {
            int64_t left = e->cooldown_until_ms - now_ms;
            text_fmt(err, errlen, "cooldown runs for %lld s more (until %lld ms); force overrides",
                     (long long)((left + 999) / 1000), (long long)e->cooldown_until_ms);
            return QTR_EREFUSED;
        }
        if (errors_condition(e)) {
            text_fmt(err, errlen, "trip condition still holds: exchange_errors %d in a row >= %d",
                     (int)e->consecutive_errors, (int)e->limits.max_consecutive_errors);
            return QTR_EREFUSED;
        }
        if (e->limits.max_drawdown_pct > 0 || e->limits.daily_loss_pct > 0) {
            if (!acct) {
                text_fmt(err, errlen, "the account is needed to test the trip condition");
                return QTR_EINVAL;
            }
            char dd[QTR_REASON_MAX] = "", daily[QTR_REASON_MAX] = "";
            unsigned held = account_conditions(e, acct);
            account_reasons(e, acct, held, dd, daily, sizeof dd);
            if (held) {
                text_fmt(err, errlen, "trip condition still holds: %s", held & COND_DRAWDOWN ? dd : daily);
                return QTR_EREFUSED;
            }
        }
    }
    qh_ess_saved next;
    to_saved(e, &next);
    next.state = QTR_ESS_ARMED;
    next.trip_reason[0] = '\0';
    next.tripped_at_ms = 0;
    next.cooldown_until_ms = 0;
    next.resets = e->resets + 1;
    /* A forced reset vouches for the exchange: start counting errors afresh. */
    if (force) next.consecutive_errors = 0;
    copy_line(next.last_user, sizeof next.last_user, user);
    /* Refuse rather than re-arm a state a restart would not know about. */
    if (persist_saved(e, &next) != 0) {
        text_fmt(err, errlen, "reset not recorded: %s", e->persist_error);
        return QTR_EIO;
    }
    qtr_ess_state previous = e->state;
    e->state = QTR_ESS_ARMED;
    e->trip_reason[0] = '\0';
    e->tripped_at_ms = 0;
    e->cooldown_until_ms = 0;
    e->cooldown_over = false;
    e->resets = next.resets;
    e->consecutive_errors = next.consecutive_errors;
    qtr_strlcpy(e->last_user, next.last_user, sizeof e->last_user);
    if (force) e->held = 0;
    qh_warn(LOG_COMP, "reset%s by %s: %s", force ? " (forced)" : "", e->last_user, reason);
    emit(e, previous, reason, user, now_ms);
    return QTR_OK;
}

void qh_ess_status(const qh_ess *e, qtr_ess_status *out)
{
    memset(out, 0, sizeof *out);
    if (!e) {
        out->state = QTR_ESS_TRIPPED;
        return;
    }
    out->state = e->state;
    qtr_strlcpy(out->trip_reason, e->trip_reason, sizeof out->trip_reason);
    out->tripped_at_ms = e->tripped_at_ms;
    out->cooldown_until_ms = e->cooldown_until_ms;
    out->trips = e->trips;
    out->resets = e->resets;
    out->consecutive_exchange_errors = e->consecutive_errors;
}

void qh_ess_health(const qh_ess *e, qtr_health *out)
{
    memset(out, 0, sizeof *out);
    if (!e) {
        out->status = QTR_HEALTH_CRITICAL;
        qtr_strlcpy(out->reason, "no ESS", sizeof out->reason);
        return;
    }
    if (e->persist_error[0]) {
        out->status = QTR_HEALTH_CRITICAL;
        text_fmt(out->reason, sizeof out->reason, "state not saved: %s", e->persist_error);
        return;
    }
    if (e->state == QTR_ESS_ARMED) {
        out->status = QTR_HEALTH_OK;
        qtr_strlcpy(out->reason, "armed", sizeof out->reason);
        return;
    }
    out->status = QTR_HEALTH_CRITICAL;
    text_fmt(out->reason, sizeof out->reason, "%s (%s): %s", qtr_ess_state_name(e->state),
             e->cooldown_over ? "cooldown over, awaiting reset" : "cooldown running", e->trip_reason);
}

bool qh_ess_cooldown_over(const qh_ess *e) { return e && e->cooldown_over; }

uint32_t qh_ess_blocked_breaches(const qh_ess *e, char *last, size_t cap)
{
    if (last && cap) qtr_strlcpy(last, e ? e->last_breach : "", cap);
    return e ? e->blocked_breaches : 0;
}
