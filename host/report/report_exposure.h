/*
 * Exposure and turnover of a backtest (docs/backtest.md, "Exposure and
 * turnover"), per symbol and in total, in O(1) per candle, fill or account
 * update whatever the number of symbols:
 *
 *   exposure_s(t)  |qty_s| x price_s, price_s the symbol's last mark, else
 *                  its last close (the report's valuation of open
 *                  positions), HALF_EVEN to 1e-8; gross(t) = sum over s.
 *   E(t)           the equity of the last account update (the starting
 *                  equity before the first).
 *   period         from the first candle's open to the last candle's end
 *                  (T ms); each value holds until it changes.
 *   avg_exposure   (1/T) integral of exposure_s(t) / E(t) dt; the total is
 *                  the sum over symbols (of gross / E).
 *   max_exposure   the largest gross / E that held for some time: the state
 *                  once every update of one time is in (the candles, fills
 *                  and account updates of one time come one after another;
 *                  the states in between hold for no time).
 *   avg_equity     (1/T) integral of E(t) dt, exact, HALF_EVEN to 1e-8.
 *   traded         sum over fills of qty x price (each HALF_EVEN to 1e-8).
 *   turnover       traded / avg_equity.
 *
 * Money (exposure, equity, traded notional) is fixed point; the shares and
 * turnover are ratios (floating point, never money).
 * A non-positive equity makes the shares undefined: they read 0 (the
 * turnover too when avg_equity <= 0).
 */
#ifndef QH_REPORT_EXPOSURE_H
#define QH_REPORT_EXPOSURE_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_exposure_sym {
    qtr_dec value;             /* exposure now                              */
    double g_at;               /* the clock's G when value last changed     */
    double integral;           /* of value / E dt up to g_at (1e-8 x ms)    */
    qtr_dec traded;            /* sum of its fills' notional                */
} qh_exposure_sym;

typedef struct qh_exposure {
    bool started;
    int64_t t;                 /* the time G and the equity integral reach  */
    qtr_dec equity;            /* E now                                      */
    bool undefined;            /* an equity <= 0 was seen                    */
    double g;                  /* integral of 1/E dt                         */
    __int128 equity_ms;        /* integral of E dt, exact                    */
    qtr_dec gross;             /* sum of the symbols' values now             */
    double max_share;          /* of the states that held before t           */
    qtr_dec traded;
} qh_exposure;

typedef struct qh_exposure_figures {
    qtr_dec avg_equity, traded;
    double avg_exposure, max_exposure, turnover;
} qh_exposure_figures;

void qh_exposure_init(qh_exposure *x, qtr_dec start_equity);
/* The period starts (the first candle's open). Earlier calls only set values. */
void qh_exposure_start(qh_exposure *x, int64_t t);
/* A symbol's exposure changed at t. false on overflow. */
bool qh_exposure_set(qh_exposure *x, qh_exposure_sym *s, qtr_dec value, int64_t t);
/* |qty| x price, HALF_EVEN to 1e-8; false on overflow. */
bool qh_exposure_value(qtr_dec qty, qtr_dec price, qtr_dec *out);
/* An account update: E changes at t. false on overflow. */
bool qh_exposure_on_account(qh_exposure *x, qtr_dec equity, int64_t t);
/* A fill of qty at price. false on overflow. */
bool qh_exposure_on_fill(qh_exposure *x, qh_exposure_sym *s, qtr_dec qty, qtr_dec price);

/* The figures over the period that ends at end (span ms long); a symbol's
 * with s, the total with s NULL. */
void qh_exposure_figures_get(const qh_exposure *x, const qh_exposure_sym *s, int64_t end, int64_t span,
                             qh_exposure_figures *out);

#endif
