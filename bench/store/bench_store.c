/*
 * bench_store [fills] [dir] [runs] [alone|grouped|all]: fills recorded per second with durability
 * on (WAL, synchronous=FULL, group commit), each run on a fresh store in dir,
 * with the median and the spread of the runs:
 *
 *   - "fills alone": one FILL record per fill, as fast as the writer takes
 *     them (the figure docs/store.md and issue 10 speak of);
 *   - "fills as the host writes them": the fill, its order update and the
 *     position it moves, in one group (one transaction); the host writes
 *     equity once a minute or on a new peak, not with every fill;
 *   - the enqueue latency the trading loop sees per fill (p50/p99/p99.9);
 *   - one fill per commit, each waited for: the fsync-bound latency.
 *
 * The producer waits for room with qh_store_wait_room() when the ring is
 * full instead of spinning: on a small shared machine a spinning producer
 * takes the CPU the writer needs. Prints figures; not run by ctest. Wall
 * clock figures follow the machine's load: compare builds with instruction
 * counts (valgrind --tool=callgrind, see docs/store.md) when it is busy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define MAX_RUNS 32

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static qtr_event make_fill(long i)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_fill *f = &ev.u.fill;
    snprintf(f->fill_id, sizeof f->fill_id, "bench-%09ld", i);
    snprintf(f->client_id, sizeof f->client_id, "qtr-%09ld", i / 3);
    strcpy(f->symbol, "BTCUSDT");
    f->side = i % 2 ? QTR_SIDE_BUY : QTR_SIDE_SELL;
    f->qty = 1000000 + i % 1000;
    f->price = QTR_DEC_INT(42000) + i;
    f->fee = 16800;
    f->time_ms = 1700000000000 + i;
    ev.time_ms = f->time_ms;
    return ev;
}

/* The other records the host writes with every fill. */
#define COMPANIONS 2
static void make_companions(const qtr_event *fill, qtr_dec position, qtr_event out[COMPANIONS])
{
    const qtr_fill *f = &fill->u.fill;
    memset(out, 0, COMPANIONS * sizeof *out);
    out[0].type = QTR_EV_ORDER_UPDATE;
    qtr_order_update *o = &out[0].u.order_update;
    qtr_strlcpy(o->client_id, f->client_id, sizeof o->client_id);
    qtr_strlcpy(o->symbol, f->symbol, sizeof o->symbol);
    o->side = f->side;
    o->type = QTR_ORDER_MARKET;
    o->status = QTR_OS_FILLED;
    o->qty = o->filled_qty = f->qty;
    o->avg_price = f->price;
    o->time_ms = f->time_ms;
    out[1].type = QTR_EV_POSITION;
    qtr_position *p = &out[1].u.position;
    qtr_strlcpy(p->symbol, f->symbol, sizeof p->symbol);
    p->qty = position;
    p->entry_price = p->mark_price = f->price;
    p->time_ms = f->time_ms;
}

static int enqueue(qh_store *st, const qtr_event *ev, long *full)
{
    for (;;) {
        int rc = qh_store_enqueue(st, ev, NULL, NULL, 0);
        if (rc != QTR_EFULL) return rc;
        (*full)++;
        rc = qh_store_wait_room(st, 10000);
        if (rc != QTR_OK) return rc;
    }
}

typedef struct run_result {
    double fills_per_s, seconds, fills_per_tx;
    long full;
} run_result;

static qh_store *open_fresh(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    qh_store_options opt = { .queue_capacity = 65536 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    if (!st) fprintf(stderr, "bench_store: %s\n", err);
    return st;
}

static void remove_store(const char *path)
{
    char side[700];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* grouped: each fill with its companions in one group. lat (may be NULL):
 * the enqueue latency of each fill. */
static int run_once(const char *dir, long n, bool grouped, int64_t *lat, run_result *r)
{
    char path[600];
    qh_store *st = open_fresh(dir, grouped ? "grouped.db" : "fills.db", path, sizeof path);
    if (!st) return 1;
    long full = 0;
    qtr_dec position = 0;
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        qtr_event fill = make_fill(i);
        int64_t a = now_ns();
        if (grouped) qh_store_group_begin(st);
        int rc = enqueue(st, &fill, &full);
        if (grouped && rc == QTR_OK) {
            position += fill.u.fill.side == QTR_SIDE_BUY ? fill.u.fill.qty : -fill.u.fill.qty;
            qtr_event more[COMPANIONS];
            make_companions(&fill, position, more);
            for (int k = 0; k < COMPANIONS && rc == QTR_OK; k++) rc = enqueue(st, &more[k], &full);
            qh_store_group_end(st);
        }
        if (lat) lat[i] = now_ns() - a;
        if (rc != QTR_OK) {
            fprintf(stderr, "bench_store: enqueue failed (%d)\n", rc);
            return 1;
        }
    }
    if (qh_store_flush(st, -1) != QTR_OK) {
        fprintf(stderr, "bench_store: flush failed\n");
        return 1;
    }
    int64_t t1 = now_ns();
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);
    qh_store_close(st);
    remove_store(path);
    r->seconds = (double)(t1 - t0) / 1e9;
    r->fills_per_s = (double)n / r->seconds;
    r->fills_per_tx = (double)n / (double)(stats.transactions ? stats.transactions : 1);
    r->full = full;
    return 0;
}

static void report(const char *what, run_result *r, int runs)
{
    double v[MAX_RUNS];
    for (int i = 0; i < runs; i++) v[i] = r[i].fills_per_s;
    qsort(v, (size_t)runs, sizeof v[0], cmp_double);
    printf("%s: median %.0f fills/s, min %.0f, max %.0f over %d runs\n", what, v[runs / 2], v[0], v[runs - 1], runs);
    printf("  runs:");
    for (int i = 0; i < runs; i++) printf(" %.0f", r[i].fills_per_s);
    printf("\n  %.1f fills per transaction (first run); queue-full waits: %ld\n", r[0].fills_per_tx, r[0].full);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    const char *mode = argc > 4 ? argv[4] : "all";   /* one part alone: for callgrind */
    bool do_alone = !strcmp(mode, "alone") || !strcmp(mode, "all");
    bool do_grouped = !strcmp(mode, "grouped") || !strcmp(mode, "all");
    if (n <= 0 || runs <= 0 || runs > MAX_RUNS || (!do_alone && !do_grouped)) {
        fprintf(stderr, "usage: bench_store [fills > 0] [dir] [runs 1..%d] [alone|grouped|all]\n", MAX_RUNS);
        return 2;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/qtr-bench-store-", base);
    strncat(dir, "XXXXXX", sizeof dir - strlen(dir) - 1);
    if (!mkdtemp(dir)) {
        perror("bench_store: mkdtemp");
        return 1;
    }
    int64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat) return 1;
    printf("store: %ld fills a run, WAL + synchronous=FULL, group commit, queue 65536, in %s\n", n, base);

    run_result alone[MAX_RUNS], grouped[MAX_RUNS];
    for (int i = 0; do_alone && i < runs; i++)
        if (run_once(dir, n, false, i == 0 ? lat : NULL, &alone[i]) != 0) return 1;
    if (do_alone) {
        report("durable fills alone", alone, runs);
        qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
        printf("  enqueue latency per fill (first run): p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
               (double)lat[n / 2] / 1e3, (double)lat[(long)((double)n * 0.99)] / 1e3,
               (double)lat[(long)((double)n * 0.999)] / 1e3, (double)lat[n - 1] / 1e3);
    }
    for (int i = 0; do_grouped && i < runs; i++)
        if (run_once(dir, n, true, NULL, &grouped[i]) != 0) return 1;
    if (do_grouped)
        report("durable fills with their order update and position (3 records, one transaction each)", grouped, runs);
    if (strcmp(mode, "all") != 0) {
        free(lat);
        rmdir(dir);
        return 0;
    }

    /* One fill at a time, each waited for: the fsync-bound worst case. */
    char path[600];
    qh_store *st = open_fresh(dir, "serial.db", path, sizeof path);
    if (!st) return 1;
    const int serial = 200;
    int64_t s0 = now_ns();
    for (int i = 0; i < serial; i++) {
        qtr_event f = make_fill(i);
        if (qh_store_enqueue(st, &f, NULL, NULL, 0) != QTR_OK || qh_store_flush(st, -1) != QTR_OK) return 1;
    }
    int64_t s1 = now_ns();
    qh_store_close(st);
    remove_store(path);
    printf("one fill per commit (enqueue + flush): %.0f fills/s, %.3f ms each\n", serial / ((double)(s1 - s0) / 1e9),
           (double)(s1 - s0) / 1e6 / serial);
    free(lat);
    rmdir(dir);
    return 0;
}
