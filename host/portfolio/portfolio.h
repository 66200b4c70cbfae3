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
/* Open positions (qty != 0), in the order symbols were first seen; at most
 * cap of them (qh_portfolio_open_count() says how many there are). */
size_t qh_portfolio_list_positions(const qh_portfolio *pf, qtr_position *out, size_t cap);
size_t qh_portfolio_open_count(const qh_portfolio *pf);
void qh_portfolio_account(const qh_portfolio *pf, int64_t now_ms, qtr_account *out);

/* Restoring state after a restart (the trade store calls these). */
int qh_portfolio_restore_position(qh_portfolio *pf, const qtr_position *pos);
void qh_portfolio_restore_account(qh_portfolio *pf, qtr_dec wallet_balance, qtr_dec equity_peak,
                                  qtr_dec day_start_equity, int64_t day_start_ms,
                                  qtr_dec realized_pnl, qtr_dec fees, qtr_dec funding);

/* ---- Appended: limits, errors and the rounding rules ------------------
 *
 * Rounding: every product or quotient rounds HALF_EVEN to 8 decimals, once
 * per step:
 *   average entry  = (old_qty * old_entry + add_qty * price) / new_qty
 *                    (128-bit numerator, one rounding);
 *   realized PnL   = (price - entry) * closed_qty   (negated for a short);
 *   unrealized PnL = (mark - entry) * signed_qty;
 *   exposure       = sum of |qty| * mark per symbol;
 *   funding        = -((qty * mark) * rate), two roundings, as Binance does;
 *   percentages    = (reference - equity) * 100 / reference.
 *
 * Marks: only qh_portfolio_mark() moves a symbol's mark price; a fill on a
 * symbol never marked uses the fill price as its first mark. A mark, fill,
 * funding or restore on a new symbol adds it (at most
 * QH_PORTFOLIO_MAX_SYMBOLS; memory is taken once by qh_portfolio_new(), so
 * nothing allocates later). Bad input (qty or price <= 0, bad side or
 * symbol) is refused like an overflow: -1, nothing changed.
 *
 * Days: each update first checks its time's UTC day; on the first update of
 * a later day, day_start_equity becomes the equity just before that update
 * (the equity at 00:00 UTC). An update dated on an earlier day than the
 * current one does not move the day back. Drawdowns are 0 when the reference
 * (peak or day start) is not positive.
 *
 * position.realized_pnl, .fees and .funding add up over the symbol's whole
 * life in this portfolio; they do not restart when the position goes flat.
 */
#define QH_PORTFOLIO_MAX_SYMBOLS 1024

/* Every symbol the portfolio holds a position record for (open or flat),
 * by index in first-seen order: 0 <= i < qh_portfolio_symbol_count(). An
 * index never changes and the count only grows, so a caller may walk them
 * with no copy and no cap while fills change the positions (the ESS
 * flatten). qh_portfolio_position_at(): 0, or QTR_ENOTFOUND past the end. */
size_t qh_portfolio_symbol_count(const qh_portfolio *pf);
int qh_portfolio_position_at(const qh_portfolio *pf, size_t i, qtr_position *out);

/* Marking by index, for a caller that marks the same symbols again and
 * again (the engine, on every candle): qh_portfolio_index_of() is the
 * symbol's index (-1: never seen), fixed from then on, and
 * qh_portfolio_mark_at() does exactly what qh_portfolio_mark() does for the
 * symbol at that index, without finding it by name (-1 past the end). */
int32_t qh_portfolio_index_of(const qh_portfolio *pf, const char *symbol);
int qh_portfolio_mark_at(qh_portfolio *pf, size_t i, qtr_dec price, int64_t time_ms);

/* Why the last call that returned -1 failed ("fill f1 BTCUSDT: qty must be
 * > 0", "mark ETHUSDT: overflow in unrealized PnL"); "" if none yet. */
const char *qh_portfolio_last_error(const qh_portfolio *pf);

/* qh_portfolio_restore_account() that says whether it worked: -1 (nothing
 * restored, reason in qh_portfolio_last_error()) if equity would overflow. */
int qh_portfolio_try_restore_account(qh_portfolio *pf, qtr_dec wallet_balance, qtr_dec equity_peak,
                                     qtr_dec day_start_equity, int64_t day_start_ms,
                                     qtr_dec realized_pnl, qtr_dec fees, qtr_dec funding);

#endif
