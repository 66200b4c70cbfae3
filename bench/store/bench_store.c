/*
 * bench_store [fills] [dir]: fills recorded per second with durability on
 * (WAL, synchronous=FULL, group commit), and the enqueue latency the trading
 * loop sees per fill (p50/p99/p99.9). Prints figures; not run by ctest.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static qtr_fill make_fill(long i)
{
    qtr_fill f;
    memset(&f, 0, sizeof f);
    snprintf(f.fill_id, sizeof f.fill_id, "bench-%09ld", i);
    snprintf(f.client_id, sizeof f.client_id, "qtr-%09ld", i / 3);
    strcpy(f.symbol, "BTCUSDT");
    f.side = i % 2 ? QTR_SIDE_BUY : QTR_SIDE_SELL;
    f.qty = 1000000 + i % 1000;
    f.price = QTR_DEC_INT(42000) + i;
    f.fee = 16800;
    f.time_ms = 1700000000000 + i;
    return f;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    if (n <= 0) {
        fprintf(stderr, "bench_store: fills must be > 0\n");
        return 2;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/qtr-bench-store-", base);
    strncat(dir, "XXXXXX", sizeof dir - strlen(dir) - 1);
    if (!mkdtemp(dir)) {
        perror("bench_store: mkdtemp");
        return 1;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    qh_store_options opt = { .queue_capacity = 65536 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    int64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat) return 1;
    long full = 0;
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        qtr_fill f = make_fill(i);
        for (;;) {
            int64_t a = now_ns();
            int rc = qh_store_record_fill(st, &f, NULL);
            int64_t b = now_ns();
            if (rc == QTR_OK) {
                lat[i] = b - a;
                break;
            }
            if (rc != QTR_EFULL) {
                fprintf(stderr, "bench_store: enqueue failed (%d)\n", rc);
                return 1;
            }
            full++;
            sched_yield();
        }
    }
    int64_t t_enq = now_ns();
    if (qh_store_flush(st, -1) != QTR_OK) {
        fprintf(stderr, "bench_store: flush failed\n");
        return 1;
    }
    int64_t t1 = now_ns();
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);

    /* One fill at a time, each waited for: the fsync-bound worst case. */
    const int serial = 200;
    int64_t s0 = now_ns();
    for (int i = 0; i < serial; i++) {
        qtr_fill f = make_fill(n + i);
        if (qh_store_record_fill(st, &f, NULL) != QTR_OK || qh_store_flush(st, -1) != QTR_OK) return 1;
    }
    int64_t s1 = now_ns();
    qh_store_close(st);

    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    printf("store: %ld fills, WAL + synchronous=FULL, group commit, queue %u\n", n, opt.queue_capacity);
    printf("  durable throughput: %.0f fills/s (%.3f s to commit all; %llu transactions, %.1f fills each)\n",
           (double)n / ((double)(t1 - t0) / 1e9), (double)(t1 - t0) / 1e9,
           (unsigned long long)stats.transactions, (double)stats.committed / (double)stats.transactions);
    printf("  enqueue rate: %.0f fills/s; queue-full refusals retried: %ld\n",
           (double)n / ((double)(t_enq - t0) / 1e9), full);
    printf("  enqueue latency per fill: p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
           (double)lat[n / 2] / 1e3, (double)lat[(long)((double)n * 0.99)] / 1e3,
           (double)lat[(long)((double)n * 0.999)] / 1e3, (double)lat[n - 1] / 1e3);
    printf("  one fill per commit (enqueue + flush): %.0f fills/s, %.3f ms each\n",
           serial / ((double)(s1 - s0) / 1e9), (double)(s1 - s0) / 1e6 / serial);
    free(lat);
    unlink(path);
    char side[700];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
    return 0;
}
