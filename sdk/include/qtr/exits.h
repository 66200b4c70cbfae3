/*
 * qtr/exits.h — exit plans: stop-loss, take-profit ladder, trailing stop and
 * time stop that the HOST keeps on the exchange for a strategy's positions.
 *
 * A strategy describes how a symbol's positions should be exited, once,
 * with host->set_exit_plan(ctx, symbol, &plan) (usually from init() or when
 * it enters), and then only trades entries. The host's exit manager does the
 * rest, for every position of that symbol, whoever opened it:
 *
 *   - When the position opens or changes (a fill), it cancels the exit
 *     orders it had for the symbol and places new ones for the new size and
 *     entry price, all REDUCE-ONLY conditional orders through the normal
 *     order path (the ESS, the risk policy and the risk plugins see each one;
 *     a tripped ESS still lets reduce-only orders through, so exits keep
 *     working when entries are blocked):
 *         stop-loss     STOP_MARKET for the whole position
 *         take-profit   TAKE_PROFIT_MARKET, one order per ladder level
 *         trailing      TRAILING_STOP_MARKET for the whole position
 *     The exchange closes with the first that triggers; the others are
 *     reduce-only, so they can never open a position the other way, and the
 *     host cancels them when the position is flat.
 *   - Time stop: time_stop_ms after the position was opened (on the host's
 *     trading clock: simulated time in a backtest), a reduce-only MARKET
 *     order closes whatever is left.
 *   - When the position closes, every exit order still open is cancelled.
 *   - The plan is kept in the store. After a restart, a position without a
 *     live stop gets its exits placed again; exit orders the exchange still
 *     has (adopted at start) are kept, never doubled.
 *
 * Paper trading and backtests simulate the three conditional types on the
 * candle path as Binance triggers them (docs/backtest.md, "Conditional
 * orders"); live they are Binance algo orders.
 *
 * Example: 1.5% stop, half off at +2%, the rest at +4%, and a 1% trailing
 * stop once +1% is reached; wider stop when the market is volatile:
 *
 *     qtr_exit_plan plan = QTR_SIZED(qtr_exit_plan);
 *     qtr_dec_parse("0.001", 5, &plan.qty_step);     // the symbol's lot step
 *     qtr_dec_parse("0.1", 3, &plan.price_tick);     // and price tick
 *     plan.base.stop_loss.bps = 150;
 *     plan.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 5000 };
 *     plan.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 400 }, .share_bps = 5000 };
 *     plan.base.n_take_profit = 2;
 *     plan.base.trailing_activation.bps = 100;
 *     plan.base.trailing_callback_bps = 100;
 *     plan.regime[QTR_REGIME_VOLATILE] = plan.base;
 *     plan.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 300;
 *     plan.regime_mask = 1u << QTR_REGIME_VOLATILE;
 *     if (host->set_exit_plan(ctx, "BTCUSDT", &plan, err, sizeof err) != QTR_OK) ...
 *
 * Rules the host enforces (set_exit_plan refuses a plan that breaks one,
 * QTR_EINVAL with err naming the field; the mock host in tests/support does
 * the same checks, through the same code):
 *   - A distance (qtr_exit_distance) is either bps from the entry price
 *     (1..100000), or an absolute price (> 0), or neither (the exit is off);
 *     never both. The side follows the position: a long's stop-loss is
 *     below the entry and its take-profits above; a short's the other way.
 *     An absolute price on the wrong side of the entry when the position
 *     opens is not placed (it would trigger at once) and is logged.
 *   - Stop and take-profit prices made from bps are rounded to price_tick:
 *     a stop-loss toward the entry (never a wider loss than asked), a
 *     take-profit away from it (never a smaller profit than asked).
 *   - Take-profit ladder: 0..QTR_EXIT_TP_MAX levels, each share_bps 1..10000
 *     of the position at placement, shares summing to at most 10000, levels
 *     strictly farther from the entry one after the other. Quantities are
 *     cumulative shares rounded DOWN to qty_step, each level taking the
 *     difference: the ladder never exceeds the position, and when the
 *     shares sum to 10000 the last level takes exactly what is left, so no
 *     dust remains. A level that rounds to nothing is skipped (its share
 *     rides with the next). qty_step > 0 is required with a ladder of
 *     shares below 10000 in total or more than one level.
 *   - Trailing stop: trailing_callback_bps 0 (off) or 10..1000 (Binance's
 *     0.1%..10%); trailing_activation as a distance (bps in profit from the
 *     entry, or a price), neither = active at once.
 *   - time_stop_ms: 0 (off) or 1000 .. 366 days.
 *   - working_type: which price triggers the conditional orders, LAST (the
 *     last trade price, Binance's CONTRACT_PRICE) or MARK.
 *   - Regimes: bit r of regime_mask set means regime[r] replaces base while
 *     the symbol's regime (qtr/regime.h, the host's classifier) is r, at the
 *     moment the exits are placed (an entry, a change of size, a restart).
 *     Exits already placed are not moved when the regime changes later.
 *     Each enabled regime[r] follows the same rules as base.
 *
 * Money is qtr_dec (qtr/money.h) throughout; bps are integers.
 */
#ifndef QTR_EXITS_H
#define QTR_EXITS_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/events.h>
#include <qtr/money.h>
#include <qtr/regime.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QTR_EXIT_TP_MAX 8          /* take-profit ladder levels                  */
#define QTR_EXIT_REGIME_SLOTS 8    /* room for qtr_regime values (5 used today)  */
#define QTR_EXIT_BPS_MAX 100000u   /* a distance of at most 1000%                */
#define QTR_EXIT_TIME_STOP_MAX_MS (366LL * 24 * 3600 * 1000)

/* Where an exit sits: bps from the entry price, or an absolute price, or
 * neither (off). */
typedef struct qtr_exit_distance {
    uint32_t bps;                  /* 1..QTR_EXIT_BPS_MAX; 0: not by distance   */
    qtr_dec price;                 /* > 0: this price; 0: not by price          */
} qtr_exit_distance;

/* One take-profit level. */
typedef struct qtr_exit_tp {
    qtr_exit_distance at;          /* where it triggers (in profit)             */
    uint32_t share_bps;            /* share of the position, 1..10000           */
} qtr_exit_tp;

/* One set of exit parameters (the base, or one regime's). */
typedef struct qtr_exit_params {
    qtr_exit_distance stop_loss;          /* STOP_MARKET, whole position      */
    uint32_t n_take_profit;               /* ladder levels in use             */
    qtr_exit_tp take_profit[QTR_EXIT_TP_MAX];
    qtr_exit_distance trailing_activation;/* neither set: active at once      */
    uint32_t trailing_callback_bps;       /* 0: no trailing; 10..1000         */
    int64_t time_stop_ms;                 /* 0: none; after the entry         */
} qtr_exit_params;

/* A symbol's exit plan. Starts with its size (QTR_SIZED(qtr_exit_plan)). */
typedef struct qtr_exit_plan {
    uint32_t size;                        /* sizeof(qtr_exit_plan) as built   */
    qtr_working_type working_type;        /* LAST or MARK                     */
    qtr_dec qty_step;                     /* the symbol's lot step (ladders)  */
    qtr_dec price_tick;                   /* the symbol's tick; 0: no rounding */
    qtr_exit_params base;
    uint32_t regime_mask;                 /* bit r: regime[r] replaces base   */
    qtr_exit_params regime[QTR_EXIT_REGIME_SLOTS]; /* by qtr_regime value     */
} qtr_exit_plan;

/* ---------------------------------------------------------------------------
 * What the host shows of its exit plans (appended in 2.2: qtr_host's
 * list_exit_plans). One qtr_exit_state per symbol with a plan, filled
 * through a qtr_list (the host writes min(your item size, its own) bytes of
 * each item and zeroes the rest, as for every list).
 * ------------------------------------------------------------------------- */
typedef enum qtr_exit_role {
    QTR_EXIT_STOP_LOSS = 1,    /* STOP_MARKET, whole position               */
    QTR_EXIT_TAKE_PROFIT = 2,  /* TAKE_PROFIT_MARKET, one ladder rung       */
    QTR_EXIT_TRAILING = 3,     /* TRAILING_STOP_MARKET, whole position      */
    QTR_EXIT_TIME_STOP = 4     /* the MARKET close at the time stop         */
} qtr_exit_role;

static inline const char *qtr_exit_role_name(qtr_exit_role r)
{
    switch (r) {
    case QTR_EXIT_STOP_LOSS: return "stop_loss";
    case QTR_EXIT_TAKE_PROFIT: return "take_profit";
    case QTR_EXIT_TRAILING: return "trailing";
    case QTR_EXIT_TIME_STOP: return "time_stop";
    }
    return "unknown";
}

/* Room for the exit orders a symbol can have at once: the plan's orders,
 * those still being cancelled after a change, and the time stop's close. */
#define QTR_EXIT_LIVE_MAX (3 * (QTR_EXIT_TP_MAX + 2))

/* One exit order the host placed (or adopted after a restart) and has not
 * seen end yet. */
typedef struct qtr_exit_order_ref {
    char client_id[QTR_CLIENT_ID_MAX];
    qtr_exit_role role;
    uint32_t level;                /* take-profit: the rung, 0 first         */
    qtr_side side;
    qtr_order_type type;
    qtr_dec qty;                   /* what it closes                         */
    qtr_dec stop_price;            /* trigger of a stop or take-profit       */
    qtr_dec activation_price;      /* trailing: 0 = active at once           */
    uint32_t callback_bps;         /* trailing                               */
    bool cancelling;               /* the host asked for its cancellation    */
    /* trailing: its activation price was reached (or it has none), as far
     * as the host saw the working price (candles' high and low for LAST,
     * mark prices for MARK) since it placed or adopted the order */
    bool activated;
} qtr_exit_order_ref;

/* A symbol's plan and what the host is doing with it now. */
typedef struct qtr_exit_state {
    char symbol[QTR_SYMBOL_MAX];
    char owner[QTR_NAME_MAX];      /* the plugin that set the plan           */
    qtr_working_type working_type;
    qtr_dec qty_step, price_tick;
    qtr_regime regime;             /* the regime whose parameters are in force (the
                                      symbol's, as of the last placement); UNKNOWN
                                      for a plan without regime_mask (2.4) */
    bool regime_override;          /* params are regime[regime], not base     */
    qtr_exit_params params;        /* the parameters in force                */
    qtr_dec position_qty;          /* signed: the position the exits cover; 0 flat */
    qtr_dec entry_price;           /* that position's entry                  */
    int64_t opened_ms;             /* when it opened (trading clock); 0 flat */
    int64_t time_stop_at_ms;       /* opened_ms + time_stop_ms; 0: none      */
    bool time_stop_sent;           /* the time stop's close went out         */
    bool held;                     /* waiting for the first reconcile after a
                                      start: nothing is placed until then    */
    uint32_t replaces;             /* exits placed again since it opened     */
    uint32_t n_orders;
    qtr_exit_order_ref orders[QTR_EXIT_LIVE_MAX]; /* resting now             */
} qtr_exit_state;

/* The parameters that apply in regime r: regime[r] if its bit is set, else
 * base. */
static inline const qtr_exit_params *qtr_exit_plan_params(const qtr_exit_plan *plan, qtr_regime r)
{
    if ((unsigned)r < QTR_EXIT_REGIME_SLOTS && (plan->regime_mask & (1u << (unsigned)r))) return &plan->regime[r];
    return &plan->base;
}

#ifdef __cplusplus
}
#endif
#endif /* QTR_EXITS_H */
