/* The report's state, shared by its files (report.c, report_html.c). */
#ifndef QH_REPORT_INTERNAL_H
#define QH_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/plugin.h>   /* qtr_strlcpy */

#include "portfolio/symbol_index.h"
#include "report/report.h"
#include "report/report_activity.h"
#include "report/report_exposure.h"
#include "report/report_months.h"
#include "report/report_series.h"

/* As many symbols as the portfolio tracks. */
#define REPORT_MAX_SYMBOLS 1024

/* One symbol's current round trip. */
typedef struct trip {
    bool open;
    qtr_dec realized, fees;
    int64_t open_ms;
    int side;                  /* +1 long, -1 short */
} trip;

/* A finished round trip, for the trades list. */
typedef struct closed_trade {
    int32_t sym;
    int side;
    int64_t open_ms, close_ms;
    qtr_dec realized, fees;
} closed_trade;

/* One symbol's figures (indexed like trips). */
typedef struct sym_stats {
    int64_t trades, wins;
    qtr_dec closed_realized, fees, funding;
    bool in_market;
    qtr_position last;                 /* its last POSITION event          */
    bool has_mark;                     /* a mark price was published       */
    qtr_dec mark, close;               /* the last mark and candle close   */
    qh_exposure_sym exp;               /* its exposure and traded notional */
    bool has_candle;                   /* a candle of it was seen          */
    char name[QTR_SYMBOL_MAX];         /* set by its first candle: the
                                        * per-candle guess reads it here  */
    size_t name_len;                   /* strlen(name)                     */
} sym_stats;

/* Running mean and variance of returns (Welford): no history kept. */
typedef struct welford {
    int64_t n;
    double mean, m2;
    double down_sq;            /* sum of squared negative returns (Sortino) */
    bool undefined;            /* a return from a non-positive equity */
} welford;

struct qh_report {
    qtr_dec start_equity;
    int64_t candles, fills, trades, wins, losses;
    qtr_dec fees, realized;
    /* equity path */
    bool have_account;
    qtr_dec end_equity, funding, peak, max_drawdown_pct;
    /* Sharpe: the pending sample (latest equity at sample_ms) becomes a
     * return only once a later time arrives. */
    bool have_sample;
    int64_t sample_ms;
    qtr_dec sample_equity, prev_equity;
    double prev_equity_d;              /* qtr_dec_to_display_double(prev_equity) */
    welford ret;
    qh_report_months months;
    qh_series equity_series;           /* for the HTML charts             */
    qh_series price_series, position_series;   /* of chart_symbol          */
    char chart_symbol[QTR_SYMBOL_MAX]; /* the first symbol traded          */
    int32_t chart_index;               /* its number in trip_symbols       */
    /* candles */
    int64_t first_ms, last_ms, interval_ms;
    int64_t candle_symbols;            /* symbols with a candle            */
    qh_symbol_index *trip_symbols;
    size_t next_candle_symbol;         /* symbol_cycle.h: the likely next  */
    trip *trips;
    sym_stats *syms;
    closed_trade *closed;
    size_t n_closed, cap_closed;
    qtr_dec unrealized;                /* of the last account update      */
    qh_report_activity act;
    int32_t symbols_in_market;
    int64_t in_market_ms, in_market_since, last_event_ms;
    int64_t volumes_rounded;
    qh_exposure exposure;              /* report_exposure.h                */
    char error[192];
};

/* One symbol's row, as the JSON, the console table and the HTML show it. */
typedef struct qh_symbol_row {
    const char *symbol;
    int64_t trades, wins;
    qtr_dec realized;          /* closed trades and the open one's reductions */
    qtr_dec unrealized;        /* of its open position at the last mark, or 0 */
    qtr_dec fees, funding, traded;
    double turnover, avg_exposure;
    bool open;                 /* position holds the open position      */
    qtr_position position;
} qh_symbol_row;

/* The row of the report's i-th symbol (0 <= i < the symbols traded). */
void qh_report_symbol_row(const qh_report *r, size_t i, qh_symbol_row *out);
size_t qh_report_symbol_count(const qh_report *r);

#endif
