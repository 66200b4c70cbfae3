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

void qh_series_add(qh_series *s, int64_t t, qtr_dec v);
/* The kept points plus the last one added: how many written to t/v (cap
 * QH_SERIES_MAX + 1). */
size_t qh_series_points(const qh_series *s, int64_t *t, qtr_dec *v);

#endif
