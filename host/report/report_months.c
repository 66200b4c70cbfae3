/* report_months.c — see report_months.h. */
#include "report/report_months.h"

#include <stdlib.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-01 (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool qh_report_months_on_equity_new_month(qh_report_months *m, int64_t t, qtr_dec equity, qtr_dec start_equity)
{
    time_t s = (time_t)(t / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) return true;
    int32_t y = tm.tm_year + 1900, mo = tm.tm_mon + 1;
    int64_t from = days_from_civil(y, mo) * 86400000, to = days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1) * 86400000;
    qh_month *last = m->n ? &m->items[m->n - 1] : NULL;
    if (last && last->year == y && last->month == mo) {
        last->end_equity = equity;
        m->last_from = from, m->last_to = to;
        return true;
    }
    /* read before growing: realloc may move the items `last` points into */
    qtr_dec opening = last ? last->end_equity : start_equity;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        qh_month *items = realloc(m->items, cap * sizeof *items);
        if (!items) return false;
        m->items = items;
        m->cap = cap;
    }
    m->items[m->n++] = (qh_month){ y, mo, opening, equity };
    m->last_from = from, m->last_to = to;
    return true;
}

void qh_report_months_write_json(const qh_report_months *m, FILE *out)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    fputs(",\"monthly_returns\":[", out);
    for (size_t i = 0; i < m->n; i++) {
        const qh_month *x = &m->items[i];
        /* a statistic, not money: double */
        double from = qtr_dec_to_display_double(x->start_equity), to = qtr_dec_to_display_double(x->end_equity);
        double pct = from > 0 ? (to / from - 1.0) * 100.0 : 0.0;
        char p[64];
        snprintf(p, sizeof p, "%.6f", pct);
        for (char *c = p; *c; c++)
            if (*c == ',') *c = '.';
        fprintf(out, "%s{\"month\":\"%04d-%02d\",\"start_equity\":\"%s\",\"end_equity\":\"%s\",\"return_pct\":%s}",
                i ? "," : "", (int)x->year, (int)x->month, qtr_dec_format(x->start_equity, a),
                qtr_dec_format(x->end_equity, b), p);
    }
    fputc(']', out);
}

void qh_report_months_free(qh_report_months *m)
{
    free(m->items);
    m->items = NULL;
    m->n = m->cap = 0;
}
