/*
 * The exit manager: keeps each symbol's exit plan (qtr/exits.h) on the
 * exchange as reduce-only conditional orders while the symbol has a
 * position, and closes at the time stop. It owns no I/O: the engine hands
 * it its services (the order path, the trading clock's timers, the store)
 * and feeds it the bus events it needs (engine/exits_glue.c), so it is
 * tested on its own with fake services (tests/exits).
 *
 * Rules (docs/strategies.md, "Exits"):
 *   - A position opens or changes size, not by one of its own exits: every
 *     live exit order of the symbol is cancelled and the plan's orders are
 *     placed for the new size and entry, with the parameters of the
 *     symbol's regime at that moment.
 *   - One of its exits fills part of the position: the others stay (they
 *     are reduce-only: the exchange never lets them exceed what is left).
 *   - The position is flat: every live exit order is cancelled.
 *   - A stop, trailing stop or take-profit that ends without filling, not
 *     cancelled by the manager (the ESS's cancel-all, an operator), while
 *     the position is open, is placed again, at most QH_EXITS_REPLACE_MAX
 *     times per position. A rejected exit is logged, not retried.
 *   - A position with a plan and no live exit at all (each refused or not
 *     sent) gets them again from qh_exits_check, bounded the same way.
 *   - Time stop: at opened + time_stop_ms on the trading clock, the live
 *     exits are cancelled and a reduce-only MARKET order closes the rest.
 *   - After a restart (qh_exits_reconcile): a position with a plan keeps
 *     the exit orders still open on the exchange, and each of the plan's
 *     orders with no resting counterpart of its role is placed: the stop,
 *     the trailing stop (one does not stand for the other: an inactive
 *     trailing stop protects nothing), and a take-profit rung that cannot
 *     have filled while qtr was down (none rests, or a nearer one does).
 *     A resting stop or trailing stop for less than the position (it grew
 *     while qtr was down): all are cancelled and the plan placed afresh.
 *     A symbol with a plan and no position: its resting exits are
 *     cancelled (they would act on the next position).
 */
#ifndef QH_EXIT_MANAGER_H
#define QH_EXIT_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/exits.h>
#include <qtr/plugin.h>

#include "exits/exit_build.h"

#define QH_EXITS_MAX_SYMBOLS 1024
#define QH_EXITS_REPLACE_MAX 5

typedef struct qh_exits qh_exits;

typedef struct qh_exit_services {
    void *ud;
    int64_t (*now_ms)(void *ud);
    /* The normal order path (ESS, policy, risk plugins). o->client_id is
     * set by the manager (qh_exit_client_id). QTR_OK if it went on. */
    int (*submit)(void *ud, const qtr_order_intent *o);
    int (*cancel)(void *ud, const char *symbol, const char *client_id);
    /* The symbol's position now (false if none). */
    bool (*position)(void *ud, const char *symbol, qtr_position *out);
    /* A one-shot timer on the trading clock, at at_ms (now if past). */
    void *(*timer_at)(void *ud, int64_t at_ms, void (*cb)(void *arg), void *arg);
    void (*timer_stop)(void *ud, void *timer);
    /* Keep (plan != NULL) or forget (NULL) the symbol's plan; opened_ms is
     * when its position opened (0: flat). QTR_OK, or QTR_EIO. May be NULL
     * (nothing kept: a backtest without a store). */
    int (*store_plan)(void *ud, const char *symbol, const char *owner, const qtr_exit_plan *plan, int64_t opened_ms);
    /* One line for the log: level as qtr_log_level. */
    void (*log)(void *ud, qtr_log_level level, const char *line);
    /* A fresh client id for an exit order, ending in "-e<n>" (qh_exit_client_id_is_exit). */
    void (*client_id)(void *ud, char out[QTR_CLIENT_ID_MAX]);
    /* The symbol's regime now (the host's classifier); NULL: the last one
     * given to qh_exits_set_regime. */
    qtr_regime (*regime)(void *ud, const char *symbol);
} qh_exit_services;

qh_exits *qh_exits_new(const qh_exit_services *sv);
void qh_exits_free(qh_exits *m);

/* set_exit_plan: checks the plan (err names the field), keeps it, and
 * places the exits at once if the symbol has a position. QTR_OK,
 * QTR_EINVAL, QTR_EFULL (too many symbols), QTR_EIO (store). */
int qh_exits_set_plan(qh_exits *m, const char *symbol, const char *owner, const qtr_exit_plan *plan, char *err,
                      size_t errlen);
/* clear_exit_plan: QTR_OK, QTR_ENOTFOUND. Cancels the symbol's exits. */
int qh_exits_clear_plan(qh_exits *m, const char *symbol);
/* A plan read back from the store at start (no store write, nothing placed
 * until qh_exits_reconcile). */
int qh_exits_load_plan(qh_exits *m, const char *symbol, const char *owner, const qtr_exit_plan *plan,
                       int64_t opened_ms);
/* The symbol's regime, as the classifier last published it. */
void qh_exits_set_regime(qh_exits *m, const char *symbol, qtr_regime regime);

/* Bus events, in publication order (a fill before the position it moves). */
void qh_exits_on_fill(qh_exits *m, const qtr_fill *f);
void qh_exits_on_position(qh_exits *m, const qtr_position *p);
void qh_exits_on_order_update(qh_exits *m, const qtr_order_update *u);

/* Until the next qh_exits_reconcile, place nothing: plans set and positions
 * moved are only noted (the engine holds from start until the exchange's
 * open orders are adopted, so exits still resting there are not doubled). */
void qh_exits_hold(qh_exits *m);

/* After a restart, once the exchange's open orders are known: for every
 * symbol with a plan, keep, place or cancel its exits (rules above). */
void qh_exits_reconcile(qh_exits *m, const qtr_position *positions, size_t n_positions, const qtr_order_update *open,
                        size_t n_open);

/* Live servers, every few seconds: a position with a plan but no live exit
 * order (all refused, or not sent: the exchange not ready yet) gets its
 * exits placed again, at most QH_EXITS_REPLACE_MAX times per position. */
void qh_exits_check(qh_exits *m);

/* For tests and the dashboard: the symbol's live exit orders. */
typedef struct qh_exit_live {
    char client_id[QTR_CLIENT_ID_MAX];
    qh_exit_role role;
    uint32_t level;
    bool cancelling;              /* the manager asked for its cancellation */
    bool activated;               /* trailing: its activation price was seen */
    qtr_order_intent intent;
} qh_exit_live;
size_t qh_exits_live(const qh_exits *m, const char *symbol, qh_exit_live *out, size_t cap);

/* The working price of a symbol moved: low..high (a candle's range for
 * LAST, low == high for a mark price). A live trailing stop of that working
 * type whose activation price lies in the range, or was passed, is
 * activated from then on (shown by qh_exits_list; the exchange triggers it,
 * not the host). */
void qh_exits_on_price(qh_exits *m, const char *symbol, qtr_working_type working, qtr_dec low, qtr_dec high);
/* How many live trailing stops wait for their activation price (while
 * none does, qh_exits_on_price returns at once). */
size_t qh_exits_waiting_trailing(const qh_exits *m);

/* Every symbol with a plan, as the SDK shows it (qtr_exit_state, in the
 * order the plans were first set): up to cap into out. Returns how many. */
size_t qh_exits_list(const qh_exits *m, qtr_exit_state *out, size_t cap);
/* How many symbols have a plan now. */
size_t qh_exits_plan_count(const qh_exits *m);

/* True for a client id the manager made ("...-e<digits>"; the ESS's own
 * closes end in "-x<digits>"). */
bool qh_exit_client_id_is_exit(const char *client_id);

#endif
