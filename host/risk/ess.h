/*
 * The Emergency Stop System. States:
 *
 *   ARMED     trading allowed.
 *   TRIPPED   a trip happened: entries blocked; the ESS asks the host to
 *             cancel open orders and (if the policy says so) close positions
 *             with reduce-only market orders. It moves to COOLDOWN at once.
 *   COOLDOWN  entries still blocked for cooldown_ms (15 min by default). After
 *             the cooldown it stays in COOLDOWN, waiting for a manual reset.
 *
 * Trips: drawdown from the equity peak >= max_drawdown_pct; the day's loss
 * >= daily_loss_pct; max_consecutive_errors exchange errors in a row; by
 * hand; or by the host on a fault it detected. Trip reasons (docs/operations.md):
 *   "drawdown 3.12% >= 3%", "daily_loss 2.50% >= 2.5%",
 *   "exchange_errors 5 in a row", "manual: <reason>", "host: <reason>". A reset needs a user and a reason; it is refused while the cooldown
 * runs or the trip condition still holds, unless forced. A reset clears the
 * trip time, trip reason and cooldown timer and counts resets.
 *
 * Every transition calls hooks.on_transition (the host publishes, logs and
 * stores it). State is persisted atomically to state_path (if set) on every
 * transition and reloaded by qh_ess_new(), so it survives a restart.
 */
#ifndef QH_ESS_H
#define QH_ESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_ess qh_ess;

typedef struct qh_ess_hooks {
    void *ud;
    void (*on_transition)(void *ud, const qtr_ess_event *ev);
    void (*cancel_all_orders)(void *ud);
    void (*close_all_positions)(void *ud);
} qh_ess_hooks;

typedef struct qh_ess_limits {
    qtr_dec max_drawdown_pct;        /* 3 means 3%; 0 disables            */
    qtr_dec daily_loss_pct;          /* 0 disables                        */
    int32_t max_consecutive_errors;  /* 0 disables                        */
    int64_t cooldown_ms;
    bool close_positions;
} qh_ess_limits;

/* state_path may be NULL (not persisted). A state file that exists but is
 * unreadable or malformed is an error (NULL, reason in err): never guessed. */
qh_ess *qh_ess_new(const qh_ess_hooks *hooks, const char *state_path, char *err, size_t errlen);
void qh_ess_free(qh_ess *e);
void qh_ess_set_limits(qh_ess *e, const qh_ess_limits *limits);

/* The check on every order: true if an order may pass. While not ARMED only
 * reduce-only orders pass. Must be cheap (< 0.1 µs). */
bool qh_ess_allows(const qh_ess *e, bool reduce_only);
qtr_ess_state qh_ess_state(const qh_ess *e);
/* Trips so far (persisted): a change tells that a trip happened between
 * two moments, e.g. while a risk plugin judged an order. */
uint32_t qh_ess_trip_count(const qh_ess *e);

/* Feed the account after every equity change: trips on drawdown or daily loss. */
void qh_ess_on_account(qh_ess *e, const qtr_account *acct, int64_t now_ms);
/* Feed every exchange outcome: errors in a row trip at the limit. */
void qh_ess_on_exchange_result(qh_ess *e, bool error, int64_t now_ms);
/* Advance time (ends a cooldown); call from a timer or on each candle. */
void qh_ess_tick(qh_ess *e, int64_t now_ms);

/* Manual trip, by an operator (qtr ess trip, the API) or a plugin: the trip
 * reason is "manual: <reason>" and user says who ("unknown" if empty).
 * QTR_EREFUSED if already tripped (recorded as a breach), QTR_EINVAL
 * without reason. */
int qh_ess_trip(qh_ess *e, const char *user, const char *reason, int64_t now_ms);
/* A trip on a condition the host itself detected (a fill it cannot apply,
 * the trade store failing ...): the trip reason is "host: <reason>" and the
 * user "host", so it is never taken for an operator's. Same results. */
int qh_ess_trip_host(qh_ess *e, const char *reason, int64_t now_ms);
/* Manual reset; acct is the current account, to test the trip condition.
 * QTR_EINVAL without user or reason; QTR_EREFUSED with the reason in err;
 * QTR_EIO (state unchanged) if the new state cannot be written to state_path.
 * A forced reset also zeroes the exchange error count. If a drawdown or daily
 * loss still holds after a forced reset, the next qh_ess_on_account() trips
 * again: raise the limit (policy) to trade on through it. */
int qh_ess_reset(qh_ess *e, const char *user, const char *reason, bool force,
                 const qtr_account *acct, int64_t now_ms, char *err, size_t errlen);

void qh_ess_status(const qh_ess *e, qtr_ess_status *out);
void qh_ess_health(const qh_ess *e, qtr_health *out);

/* Appended: details the status struct has no room for. */
/* True once qh_ess_tick() saw the cooldown end (the ESS waits for a reset). */
bool qh_ess_cooldown_over(const qh_ess *e);
/* Breaches seen while already tripped (recorded, no second trip); the last
 * one's text goes to last (may be NULL). */
uint32_t qh_ess_blocked_breaches(const qh_ess *e, char *last, size_t cap);

#endif
