/* report_series.c — see report_series.h. */
#include "report/report_series.h"

void qh_series_keep(qh_series *s, int64_t t, qtr_dec v)
{
    if (s->n == QH_SERIES_MAX) {
        for (size_t i = 0; i < QH_SERIES_MAX / 2; i++) {
            s->t[i] = s->t[2 * i];
            s->v[i] = s->v[2 * i];
        }
        s->n = QH_SERIES_MAX / 2;
        s->stride *= 2;
        if ((s->seen - 1) % s->stride) return;
    }
    s->t[s->n] = t;
    s->v[s->n++] = v;
}

size_t qh_series_points(const qh_series *s, int64_t *t, qtr_dec *v)
{
    size_t n = 0;
    for (; n < s->n; n++) {
        t[n] = s->t[n];
        v[n] = s->v[n];
    }
    if (s->has_last && (n == 0 || t[n - 1] != s->last_t)) {
        t[n] = s->last_t;
        v[n++] = s->last_v;
    }
    return n;
}
