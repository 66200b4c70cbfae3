/* The orders an exit plan makes for one position: pure arithmetic on the
 * plan, the position's size and its entry price (no state, no I/O). */
#ifndef QH_EXIT_BUILD_H
#define QH_EXIT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <qtr/exits.h>
#include <qtr/plugin.h>

typedef enum qh_exit_role {
    QH_EXIT_STOP = 1,        /* STOP_MARKET, whole position          */
    QH_EXIT_TAKE_PROFIT,     /* TAKE_PROFIT_MARKET, one ladder level  */
    QH_EXIT_TRAILING,        /* TRAILING_STOP_MARKET, whole position  */
    QH_EXIT_TIME             /* MARKET close at the time stop         */
} qh_exit_role;

const char *qh_exit_role_name(qh_exit_role role);

#define QH_EXIT_ORDERS_MAX (QTR_EXIT_TP_MAX + 2)

typedef struct qh_exit_order {
    qh_exit_role role;
    uint32_t level;              /* ladder level, for take-profits      */
    qtr_order_intent intent;     /* reduce-only, client_id left empty   */
} qh_exit_order;

/*
 * The conditional exit orders of params p (plan gives the working type,
 * step and tick) for a position of signed qty (!= 0) entered at entry
 * (> 0). Returns how many it wrote to out. An exit it cannot place (a price
 * on the wrong side of the entry, a stop at or below 0, a ladder level that
 * rounds to nothing) is left out and named in skipped (one line, may be
 * empty; skipped may be NULL).
 */
size_t qh_exit_build(const qtr_exit_plan *plan, const qtr_exit_params *p, const char *symbol, qtr_dec qty,
                     qtr_dec entry, qh_exit_order out[QH_EXIT_ORDERS_MAX], char *skipped, size_t skippedlen);

/*
 * The ladder's quantities for a position of abs_qty (> 0): level i gets
 * round_down(abs_qty * cum_share_i / 10000, step) minus what the levels
 * before it got, so the total never exceeds abs_qty and is exactly abs_qty
 * when the shares sum to 10000 (the last level takes the rest: no dust).
 * step 0: no rounding (a single level of 10000 bps). out[i] may be 0.
 */
void qh_exit_ladder_qty(const qtr_exit_params *p, qtr_dec abs_qty, qtr_dec step, qtr_dec out[QTR_EXIT_TP_MAX]);

/* The time stop's reduce-only MARKET close of a position of signed qty. */
void qh_exit_time_close(const char *symbol, qtr_dec qty, qtr_order_intent *out);

#endif
