/*
 * The live order path's latency, on the live loop (libevent) with the paper
 * exchange, the host's policy (policies/default.lua, judge() included) and
 * the trade store, as `qtr run` has them:
 *
 *   signal -> approved intent   submit_signal() to the ORDER_INTENT event,
 *                               published once the ESS, the policy's limits,
 *                               judge() and the risk plugin passed it; the
 *                               signal waits for the next loop turn (the
 *                               drain), as it does live;
 *   signal -> paper fill        submit_signal() to the FILL event (the paper
 *                               exchange fills a market order at once).
 *
 * A loop timer sends one signal every 2 ms (buy, then sell: the position
 * stays small), within the flood control's budget (signals.per_cycle 100 per
 * cycle_ms 100), so no signal waits for a cycle tick. Each run prints its
 * p50, p99 and max; the end prints the median and the spread (min..max) of
 * the runs' p50 and p99. The machine may be shared: read the spread.
 *
 *   bench_order_path [signals per run, default 2000] [runs, default 5] [nostore] [b2b] [pair]
 *
 * nostore: without the trade store (its writer thread and fsyncs share the
 * CPUs with the loop: on a 2-core machine they weigh on the figures).
 * b2b: back to back: the next signal goes as soon as the previous one's
 * fill is in (the loop never sleeps, its caches stay warm), with a flood
 * control that lets that rate through (per_cycle 256 per cycle_ms 1); the
 * default paces one signal per 2 ms timer tick, so the loop sleeps in
 * epoll between signals, as in a quiet market, and each signal finds the
 * caches as the other processes on the machine left them.
 * pair: paced, and each tick's signal is followed, as soon as its fill is
 * in, by a second one in the same wake-up; the two are reported apart
 * (first: after the sleep; second: warm). With either, each run also prints
 * the thread's CPU time from signal to intent (CLOCK_THREAD_CPUTIME_ID):
 * when it is as long as the wall time, the time went in running the path
 * (cold caches, a slower core), not in waiting for the loop, a timer or
 * another thread. bench/engine/bench_loop_wake runs a bare libevent loop at
 * the same pacing, for comparison.
 *
 * Needs QTR_PLUGIN_DIR (the built plugins) and QTR_SOURCE_DIR (policies/).
 * Goal (issue 13): signal->intent p50 <= 5 us and p99 <= 20 us; signal->fill
 * p99 <= 1 ms.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "engine/engine_internal.h"

typedef struct run {
    qh_engine *e;
    struct event_base *base;
    struct event *tick;
    size_t want, sent, intents, fills;
    int64_t t_signal;            /* mono ns of the signal in flight */
    int64_t cpu_signal;          /* thread CPU ns at the same moment */
    bool in_flight, b2b, pair, second;
    int64_t *to_intent, *to_fill, *cpu_intent;
    int64_t *warm_intent, *warm_cpu;   /* pair: the second signal of a tick */
    size_t warm;
} run;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void send_signal(run *r);

static void on_intent(void *ud, const qtr_event *ev)
{
    run *r = ud;
    (void)ev;
    int64_t wall = mono_ns() - r->t_signal, cpu = cpu_ns() - r->cpu_signal;
    if (!r->in_flight) return;
    if (r->second) {
        if (r->warm < r->want) r->warm_intent[r->warm] = wall, r->warm_cpu[r->warm] = cpu;
        return;
    }
    if (r->intents < r->want) r->to_intent[r->intents] = wall, r->cpu_intent[r->intents++] = cpu;
}

static void on_fill(void *ud, const qtr_event *ev)
{
    run *r = ud;
    (void)ev;
    if (!r->in_flight) return;
    r->in_flight = false;
    if (r->second) {   /* pair: the warm one is in; the next tick sends again */
        r->second = false;
        r->warm++;
        return;
    }
    if (r->fills < r->want) r->to_fill[r->fills++] = mono_ns() - r->t_signal;
    if (r->b2b) event_active(r->tick, EV_TIMEOUT, 1);   /* the next one, on the next turn */
    if (r->pair) {                                       /* at once, in this wake-up */
        r->second = true;
        send_signal(r);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    run *r = ud;
    if (r->sent == r->want || r->in_flight) {
        if (r->sent == r->want && !r->in_flight) event_base_loopexit(r->base, NULL);
        return;
    }
    send_signal(r);
}

static void send_signal(run *r)
{
    qtr_signal s;
    memset(&s, 0, sizeof s);
    qtr_strlcpy(s.symbol, "BTCUSDT", sizeof s.symbol);
    s.side = r->sent % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    s.type = QTR_ORDER_MARKET;
    s.tif = QTR_TIF_GTC;
    s.qty = QTR_DEC_INT(1) / 1000;
    s.confidence = 0.9;
    qtr_strlcpy(s.reason, "bench", sizeof s.reason);
    r->in_flight = true;
    r->sent += !r->second;
    r->cpu_signal = cpu_ns();
    r->t_signal = mono_ns();
    if (qh_pipeline_submit_signal(r->e, "bench", &s) != QTR_OK) {
        fprintf(stderr, "signal %zu refused by the queue\n", r->sent);
        exit(1);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(int64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_i64);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;   /* us */
}

static void summary(const char *what, double *v, size_t n, const char *unit)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    printf("  %-28s median %9.2f %s   spread %.2f .. %.2f\n", what, v[n / 2], unit, v[0], v[n - 1]);
}

int main(int argc, char **argv)
{
    size_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
    size_t runs = argc > 2 ? strtoull(argv[2], NULL, 10) : 5;
    bool store = true, b2b = false, pair = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "nostore") == 0) store = false;
        else if (strcmp(argv[i], "b2b") == 0) b2b = true;
        else if (strcmp(argv[i], "pair") == 0) pair = true;
        else { fprintf(stderr, "unknown argument %s\n", argv[i]); return 2; }
    }
    if (b2b && pair) {
        fprintf(stderr, "pair is paced: not with b2b\n");
        return 2;
    }
    if (want < 10 || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: bench_order_path [signals per run >= 10] [runs 1..100]\n");
        return 2;
    }
    const char *plugins = getenv("QTR_PLUGIN_DIR") ? getenv("QTR_PLUGIN_DIR") : "build/plugins";
    const char *src = getenv("QTR_SOURCE_DIR") ? getenv("QTR_SOURCE_DIR") : ".";
    qh_log_init(stderr, QH_LOG_ERROR, false);
    double p50_i[100], p99_i[100], max_i[100], p50_f[100], p99_f[100], cpu50_i[100], warm50_i[100], warm99_i[100],
        warmcpu50_i[100];

    for (size_t k = 0; k < runs; k++) {
        char dir[64] = "/tmp/qtr-bench-path-XXXXXX";
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
        char text[2048];
        snprintf(text, sizeof text,
                 "return { plugin_path = { '%s' }, state_dir = '%s', store = %s,\n"
                 "  policy = { file = '%s/policies/default.lua' },\n"
                 "  market = { source = 'synthetic', symbols = { 'BTCUSDT' }, interval_ms = 1000 },\n"
                 "  signals = { per_cycle = %s, cycle_ms = %s },\n"
                 "  account = { starting_balance = '1000000' },\n"
                 "  plugins = { { kind = 'exchange', name = 'paper' }, { kind = 'risk', name = 'policy' } } }",
                 plugins, dir, store ? "nil" : "false", src, b2b ? "256" : "100", b2b ? "1" : "100");
        qh_config cfg;
        char err[1024];
        if (qh_config_load_string(text, "bench", ".", &cfg, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
        run r;
        memset(&r, 0, sizeof r);
        r.want = want;
        r.to_intent = calloc(want, sizeof *r.to_intent);
        r.to_fill = calloc(want, sizeof *r.to_fill);
        r.cpu_intent = calloc(want, sizeof *r.cpu_intent);
        r.warm_intent = calloc(want, sizeof *r.warm_intent);
        r.warm_cpu = calloc(want, sizeof *r.warm_cpu);
        if (!r.to_intent || !r.to_fill || !r.cpu_intent || !r.warm_intent || !r.warm_cpu) return 1;
        r.base = event_base_new();
        r.e = r.base ? qh_engine_new(&cfg, r.base, 0, err, sizeof err) : NULL;
        if (!r.e || qh_engine_load(r.e, err, sizeof err) != 0 || qh_engine_start(r.e, err, sizeof err) != 0) {
            fprintf(stderr, "engine: %s\n", err);
            return 1;
        }
        qh_bus_subscribe(r.e->bus, QTR_EV_ORDER_INTENT, NULL, on_intent, &r, &r);
        qh_bus_subscribe(r.e->bus, QTR_EV_FILL, NULL, on_fill, &r, &r);
        /* the synthetic market's first candle gives BTCUSDT its price */
        struct timeval first = { 1, 200000 };
        event_base_loopexit(r.base, &first);
        event_base_dispatch(r.base);
        r.b2b = b2b;
        r.pair = pair;
        struct timeval every = { 0, 2000 };
        r.tick = event_new(r.base, -1, EV_PERSIST, on_tick, &r);
        if (b2b) event_active(r.tick, EV_TIMEOUT, 1);
        else event_add(r.tick, &every);
        event_base_dispatch(r.base);
        event_free(r.tick);
        if (r.intents < want || r.fills < want) {
            fprintf(stderr, "run %zu: %zu signals, %zu intents, %zu fills: the path refused some\n", k + 1, r.sent,
                    r.intents, r.fills);
            return 1;
        }
        p50_i[k] = pct(r.to_intent, want, 0.50);
        p99_i[k] = pct(r.to_intent, want, 0.99);
        max_i[k] = pct(r.to_intent, want, 1.0);
        p50_f[k] = pct(r.to_fill, want, 0.50);
        p99_f[k] = pct(r.to_fill, want, 0.99);
        cpu50_i[k] = pct(r.cpu_intent, want, 0.50);
        printf("run %zu: %zu signals  signal->intent p50 %.2f us p99 %.2f us max %.2f us (CPU p50 %.2f us)   "
               "signal->fill p50 %.2f us p99 %.2f us\n",
               k + 1, want, p50_i[k], p99_i[k], max_i[k], cpu50_i[k], p50_f[k], p99_f[k]);
        if (pair) {
            size_t n = r.warm < want ? r.warm : want;
            if (n < 10) { fprintf(stderr, "run %zu: %zu second signals\n", k + 1, n); return 1; }
            warm50_i[k] = pct(r.warm_intent, n, 0.50);
            warm99_i[k] = pct(r.warm_intent, n, 0.99);
            warmcpu50_i[k] = pct(r.warm_cpu, n, 0.50);
            printf("       second signal of the same wake-up: signal->intent p50 %.2f us p99 %.2f us (CPU p50 %.2f us)\n",
                   warm50_i[k], warm99_i[k], warmcpu50_i[k]);
        }
        qh_engine_stop(r.e);
        qh_engine_free(r.e);
        event_base_free(r.base);
        qh_config_free(&cfg);
        free(r.to_intent);
        free(r.to_fill);
        free(r.cpu_intent);
        free(r.warm_intent);
        free(r.warm_cpu);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%zu runs of %zu signals (live loop, paper exchange, default policy with judge(), %s, %s):\n", runs,
           want, store ? "trade store" : "no trade store",
           b2b ? "back to back" : pair ? "two per 2 ms, the second at once" : "one per 2 ms");
    summary("signal->intent p50", p50_i, runs, "us");
    summary("signal->intent p99", p99_i, runs, "us");
    summary("signal->intent max", max_i, runs, "us");
    summary("signal->intent CPU p50", cpu50_i, runs, "us");
    if (pair) {
        summary("second: signal->intent p50", warm50_i, runs, "us");
        summary("second: signal->intent p99", warm99_i, runs, "us");
        summary("second: intent CPU p50", warmcpu50_i, runs, "us");
    }
    summary("signal->fill p50", p50_f, runs, "us");
    summary("signal->fill p99", p99_f, runs, "us");
    printf("goals: intent p50 <= 5 us, p99 <= 20 us; fill p99 <= 1000 us\n");
    return 0;
}
