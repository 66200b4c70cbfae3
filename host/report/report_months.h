/*
 * Monthly returns of a backtest: the equity at the end of each UTC calendar
 * month (its last account update), and the return from the end of the month
 * before (the starting equity for the first month):
 *   return_pct = (end_equity / start_equity - 1) * 100   (a ratio: double)
 */
#ifndef QH_REPORT_MONTHS_H
#define QH_REPORT_MONTHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qtr/money.h>

typedef struct qh_month {
    int32_t year, month;               /* 1..12                          */
    qtr_dec start_equity, end_equity;
} qh_month;

typedef struct qh_report_months {
    qh_month *items;
    size_t n, cap;
    int64_t last_from, last_to;        /* the last month's UTC ms, [from, to) */
} qh_report_months;

/* qh_report_months_on_equity() for a time outside the last month. */
bool qh_report_months_on_equity_new_month(qh_report_months *m, int64_t t, qtr_dec equity, qtr_dec start_equity);

/* The equity at time t (UTC ms), in time order. false if memory is short.
 * Inline: every account update comes here, and most fall in the month of
 * the one before (no calendar work, no call). */
static inline bool qh_report_months_on_equity(qh_report_months *m, int64_t t, qtr_dec equity, qtr_dec start_equity)
{
    if (m->n && t >= m->last_from && t < m->last_to) {
        m->items[m->n - 1].end_equity = equity;
        return true;
    }
    return qh_report_months_on_equity_new_month(m, t, equity, start_equity);
}
/* ,"monthly_returns":[{"month":"2021-11","start_equity":"…","end_equity":"…","return_pct":x},…] */
void qh_report_months_write_json(const qh_report_months *m, FILE *out);
void qh_report_months_free(qh_report_months *m);

#endif
