/*
 * The backtest report: fed by the host during a backtest, it prints a table
 * for the terminal and writes the JSON of `qtr backtest --json`.
 *
 * Definitions:
 *   trade      a round trip of one symbol, from flat to flat. A fill that
 *              crosses zero (a flip) closes one trade and opens the next; its
 *              fee is split between the two in proportion to the quantity
 *              that closed and the quantity that opened (HALF_EVEN).
 *              Positions still open at the end are not trades ("open_trades").
 *   trade PnL  realized PnL of the round trip minus its fees (funding is
 *              reported for the whole account, not per trade).
 *   win/loss   a trade with PnL > 0 is a win; every other closed trade (PnL
 *              <= 0) is a loss, so wins + losses == trades.
 *   win_rate   wins / trades (0 with no trades).
 *   fees       sum of the fees of every fill (rebates count negative).
 *   funding    the account's cumulative funding in the last account update.
 *   unrealized the last account update's unrealized PnL (at the last mark);
 *              realized_pnl_total adds the realized PnL of open trades to
 *              realized_pnl (closed trades), and net_pnl = realized_pnl_total
 *              + unrealized - fees + funding (identity_residual: what is left).
 *   end_equity equity of the last account update (start_equity if none);
 *              net_pnl = end_equity - start_equity.
 *   max_drawdown_pct
 *              largest (peak - equity) / peak * 100 over every account update,
 *              the peak starting at start_equity (HALF_EVEN, 8 decimals,
 *              printed with at least 2).
 *   sharpe     mean / sample standard deviation of the per-period equity
 *              returns, times sqrt(periods per year), periods being the
 *              candle interval (close - open + 1 ms of the shortest candle)
 *              over a 365-day year (crypto trades every day). One sample per
 *              distinct account time: several symbols' candles closing at the
 *              same time make one period. Computed in double (a statistic,
 *              not money); 0 when undefined (fewer than 2 returns, no spread,
 *              no interval, or a non-positive equity to return from).
 *
 * exposure, turnover
 *              report_exposure.h: gross exposure as a share of equity
 *              (time-weighted average, and the largest), traded notional
 *              over the time-weighted average equity.
 *
 * Output is deterministic: same calls, same bytes (fixed key order, money as
 * exact decimal strings, doubles printed "%.6f").
 */
#ifndef QH_REPORT_H
#define QH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <qtr/events.h>

typedef struct qh_report qh_report;

/* Every figure of the report, for the host and for tests. */
typedef struct qh_report_summary {
    int64_t candles, trades, wins, losses, open_trades, fills;
    qtr_dec start_equity, end_equity, net_pnl;
    qtr_dec fees, funding, realized_pnl;   /* realized: of closed trades    */
    qtr_dec max_drawdown_pct;
    double win_rate, sharpe;
    int64_t symbols;                       /* distinct symbols in candles   */
    int64_t first_candle_ms, last_candle_ms; /* open times; 0 if no candle  */
    int64_t interval_ms;                   /* 0 if no candle                */
    int64_t volumes_rounded;               /* input volumes with > 8 decimals, rounded */
    /* The identity: net_pnl = realized_pnl_total + unrealized_pnl - fees
     * + funding, identity_residual being what is left (0 when it holds). */
    qtr_dec unrealized_pnl;                /* of the last account update, at the last mark */
    qtr_dec realized_pnl_total;            /* closed trades and the realized part of open ones */
    qtr_dec identity_residual;
    int64_t signals, orders;               /* signals published; orders submitted */
    int64_t refusals[5];                   /* by qh_refusal_kind (report_activity.h) */
    int64_t ess_trips;
    int64_t guard_first_ms, guard_last_ms; /* the drawdown guard's refusals; 0 if none */
    int64_t time_in_market_ms;             /* with at least one position open */
    double sortino, calmar, annual_return_pct;   /* statistics (docs/backtest.md) */
    /* exposure and turnover (report_exposure.h) */
    qtr_dec avg_equity, traded_notional;
    double avg_gross_exposure, max_gross_exposure, turnover;
} qh_report_summary;

/* NULL if memory is short. */
qh_report *qh_report_new(qtr_dec start_equity);
void qh_report_free(qh_report *r);

void qh_report_on_candle(qh_report *r, const qtr_candle *candle);
/* One fill with the position of its symbol just before and just after it
 * (as qh_portfolio_apply_fill() leaves it). */
void qh_report_on_fill(qh_report *r, const qtr_fill *fill, const qtr_position *before,
                       const qtr_position *after);
/* The account after each candle (or any update). */
void qh_report_on_account(qh_report *r, const qtr_account *account);

/* Signals, order intents and updates (refusals), positions (funding per
 * symbol, time in the market, the open positions), mark prices (to value
 * them; else the last close, as the host does) and ESS states of the run,
 * from the bus. */
void qh_report_on_event(qh_report *r, const qtr_event *ev);

/* How many candle volumes the data files gave with more than 8 decimals
 * (rounded half-even when read): "volumes_rounded" in the JSON. */
void qh_report_set_volumes_rounded(qh_report *r, int64_t n);

/* -1 if an input was refused or a sum overflowed; qh_report_error() says
 * which. The report stops counting at the first error. */
int qh_report_summary_get(const qh_report *r, qh_report_summary *out);
const char *qh_report_error(const qh_report *r);

/* One line of JSON and a newline. -1 (nothing written) after an error, or
 * if the stream fails. */
int qh_report_write_json(const qh_report *r, FILE *out);
/* `--html FILE`: one self-contained page (no script, no network) with the
 * summary, equity, drawdown and position charts, trade markers on the price
 * of the first symbol, monthly returns and the trades. -1 after an error. */
int qh_report_write_html(const qh_report *r, FILE *out);
/* A table for people; after an error, the error line instead. */
void qh_report_print(const qh_report *r, FILE *out);

#endif
