/*
 * bench_order_table — the engine's open-order table (host/engine/orders.c):
 * the time of one lookup by client id (what every order update, fill and
 * new order's duplicate check does) with N orders open, against the linear
 * scan of the dense array the engine did before. Median and spread of 5
 * runs; each run looks up every open order once, in a shuffled order.
 *
 *   build/bench/engine/bench_order_table
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine_internal.h"

#define RUNS 5

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const qtr_order_update *linear_find(const qtr_order_update *items, size_t n, const char *cid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].client_id, cid) == 0) return &items[i];
    return NULL;
}

static void report(const char *what, size_t n, double *ns)
{
    qsort(ns, RUNS, sizeof *ns, cmp_double);
    printf("%-8s %6zu open: %9.1f ns a lookup (median of %d; min %.1f, max %.1f)\n", what, n, ns[RUNS / 2], RUNS,
           ns[0], ns[RUNS - 1]);
}

int main(void)
{
    static const size_t sizes[] = { 100, 1000, 10000, QH_MAX_OPEN_ORDERS };
    volatile uintptr_t sink = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        qh_order_table *t = qh_order_table_new(n);
        size_t *order = malloc(n * sizeof *order);
        char (*ids)[QTR_CLIENT_ID_MAX] = malloc(n * sizeof *ids);
        if (!t || !order || !ids) return 1;
        for (size_t i = 0; i < n; i++) {
            qtr_order_update u;
            memset(&u, 0, sizeof u);
            snprintf(ids[i], sizeof ids[i], "qtr-mx5k2c1q-%zu", i);
            memcpy(u.client_id, ids[i], sizeof u.client_id);
            memcpy(u.symbol, "BTCUSDT", 8);
            if (qh_order_table_put(t, &u) != QH_ORDER_ADDED) return 1;
            order[i] = i;
        }
        srand(7);
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        double hashed[RUNS], linear[RUNS];
        /* the linear scan is O(n) a lookup: fewer lookups at the large sizes keep the run short */
        size_t lin_n = n > 2000 ? 2000 : n;
        for (int r = 0; r < RUNS; r++) {
            int64_t t0 = now_ns();
            for (size_t i = 0; i < n; i++) sink += (uintptr_t)qh_order_table_find(t, ids[order[i]]);
            hashed[r] = (double)(now_ns() - t0) / (double)n;
            t0 = now_ns();
            for (size_t i = 0; i < lin_n; i++)
                sink += (uintptr_t)linear_find(qh_order_table_items(t), n, ids[order[i]]);
            linear[r] = (double)(now_ns() - t0) / (double)lin_n;
        }
        report("hashed", n, hashed);
        report("linear", n, linear);
        qh_order_table_free(t);
        free(order);
        free(ids);
    }
    return sink == 1 ? 1 : 0;
}
