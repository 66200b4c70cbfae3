/*
 * A time series kept for charts in bounded memory: at most QH_SERIES_MAX
 * points; when full, every other point is dropped and only every 2nd (then
 * 4th, ...) new point is kept. Deterministic: the same inputs keep the same
 * points. The last point added is always kept (charts end where the run did).
 */
#ifndef QH_REPORT_SERIES_H
#define QH_REPORT_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

#define QH_SERIES_MAX 2048

typedef struct qh_series {
    int64_t t[QH_SERIES_MAX];
    qtr_dec v[QH_SERIES_MAX];
    size_t n;
    uint64_t stride, seen;
    bool has_last;
    int64_t last_t;
    qtr_dec last_v;
} qh_series;

/* The part of qh_series_add() for a point that is kept (not for callers). */
void qh_series_keep(qh_series *s, int64_t t, qtr_dec v);

/* Add a point. Inline: every candle and account update adds one, and
 * most of a long run's are not kept (no call for them). */
static inline void qh_series_add(qh_series *s, int64_t t, qtr_dec v)
{
    if (!s->stride) s->stride = 1;
    s->has_last = true;
    s->last_t = t;
    s->last_v = v;
    if (s->seen++ % s->stride) return;
    qh_series_keep(s, t, v);
}
/* The kept points plus the last one added: how many written to t/v (cap
 * QH_SERIES_MAX + 1). */
size_t qh_series_points(const qh_series *s, int64_t *t, qtr_dec *v);

#endif
