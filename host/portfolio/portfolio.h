/*
 * Portfolio accounting for USD-M perpetuals, in one-way mode: one signed
 * position per symbol. Exact fixed-point throughout (qtr/money.h).
 *
 *   wallet  = starting balance + realized PnL - fees + funding
 *   equity  = wallet + unrealized PnL (marked at the last price seen)
 *   peak    = highest equity seen; drawdown_pct = (peak - equity) / peak * 100
 *   daily   = against the equity at the first update of the UTC day
 *
 * A fill that increases a position moves the average entry price (quantity
 * weighted); one that reduces it realizes (exit - entry) * qty for a long and
 * the reverse for a short; one that crosses zero closes the old side and
 * opens the rest on the other side at the fill price. Overflow anywhere is
 * refused (the call returns -1 and changes nothing).
 */
#ifndef QH_PORTFOLIO_H
#define QH_PORTFOLIO_H

#include <qtr/events.h>
#include <qtr/plugin.h>

typedef struct qh_portfolio qh_portfolio;

qh_portfolio *qh_portfolio_new(qtr_dec starting_balance);
void qh_portfolio_free(qh_portfolio *pf);

/* Apply one fill. *changed (may be NULL) receives the position after it. */
int qh_portfolio_apply_fill(qh_portfolio *pf, const qtr_fill *fill, qtr_position *changed);

/* A funding payment at `rate` for one symbol, valued at `mark`:
 * payment = -qty * mark * rate (longs pay when the rate is positive). */
int qh_portfolio_apply_funding(qh_portfolio *pf, const char *symbol, qtr_dec rate, qtr_dec mark,
                               int64_t time_ms, qtr_position *changed);

/* Mark one symbol at `price` (last close or mark price); updates unrealized
 * PnL, equity, the peak and the daily figures. Fast: called on every candle. */
int qh_portfolio_mark(qh_portfolio *pf, const char *symbol, qtr_dec price, int64_t time_ms);

int qh_portfolio_get_position(const qh_portfolio *pf, const char *symbol, qtr_position *out);
/* Open positions (qty != 0), in the order symbols were first seen. */
size_t qh_portfolio_list_positions(const qh_portfolio *pf, qtr_position *out, size_t cap);
size_t qh_portfolio_open_count(const qh_portfolio *pf);
void qh_portfolio_account(const qh_portfolio *pf, int64_t now_ms, qtr_account *out);

/* Restoring state after a restart (the trade store calls these). */
int qh_portfolio_restore_position(qh_portfolio *pf, const qtr_position *pos);
void qh_portfolio_restore_account(qh_portfolio *pf, qtr_dec wallet_balance, qtr_dec equity_peak,
                                  qtr_dec day_start_equity, int64_t day_start_ms,
                                  qtr_dec realized_pnl, qtr_dec fees, qtr_dec funding);

#endif
