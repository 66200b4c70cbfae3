/*
 * bench_ensemble — strategy_ensemble's work per candle per symbol: the
 * features (every indicator updated), the model's prediction through the
 * XGBoost C API, and the vote, timed one candle at a time over many
 * candles (../shared/data/XRPUSDT-perp-5m.csv replayed for SYMBOLS symbols,
 * each with its own indicators). Prints p50 / p99 / max wall time per
 * candle, CPU time per candle, the prediction alone, and the allocations
 * per candle (counted by wrapping malloc: ours and XGBoost's). Goal: p99 <=
 * 20 us. On a loaded machine the wall p99 measures the scheduler; the
 * per-candle CPU time (CLOCK_THREAD_CPUTIME_ID, about 0.3 us of its own)
 * leaves out the time the thread was not running. Never run by ctest.
 *   bench_ensemble [MODEL [CSV [ROUNDS]]]
 * Default MODEL: plugins/strategy_ensemble/model/ensemble_model.json, run
 * from the top of the checkout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench_report.h"
#include "ensemble_features.h"
#include "ensemble_model.h"
#include "ensemble_vote.h"
#include "market/candles.h"

#define SYMBOLS 8

/* Allocation counting: every malloc-family call of the process (XGBoost's
 * C++ new goes through malloc) while `counting` is set. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static volatile int counting;
static uint64_t allocations;
void *malloc(size_t n)
{
    if (counting) allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    if (counting) allocations++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    if (counting) allocations++;
    return __libc_realloc(p, n);
}

static double now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double pct(double *v, size_t n, double p) { return v[(size_t)(p * (double)(n - 1))]; }

int main(int argc, char **argv)
{
    const char *model_path = argc > 1 ? argv[1] : "plugins/strategy_ensemble/model/ensemble_model.json";
    const char *csv = argc > 2 ? argv[2] : "../shared/data/XRPUSDT-perp-5m.csv";
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    char err[512];
    ensemble_model *model = ensemble_model_load(model_path, err, sizeof err);
    if (!model) {
        fprintf(stderr, "bench_ensemble: %s: %s\n", model_path, err);
        return 2;
    }
    qh_candle_vec v = { 0 };
    if (qh_csv_load(csv, "XRPUSDT", &v, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ensemble: %s\n", err);
        return 2;
    }
    static ensemble_indicators ind[SYMBOLS];
    size_t cap = (size_t)rounds * SYMBOLS * v.len;
    double *wall = malloc(cap * sizeof *wall), *pred = malloc(cap * sizeof *pred), *cpu = malloc(cap * sizeof *cpu);
    if (!wall || !pred || !cpu) return 1;
    size_t n = 0, n_pred = 0;
    static const double weights[ENSEMBLE_N_VOTERS] = { 0.4, 0.2, 0.2, 0.2 };
    double cpu0 = 0, cpu_total = 0, sink = 0;
    uint64_t alloc_total = 0;
    printf("bench_ensemble: %s, %zu candles x %d symbols x %d rounds\n", model_path, v.len, SYMBOLS, rounds);
    bench_print_load("before");
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < SYMBOLS; s++) {
            ensemble_indicators_free(&ind[s]);
            if (!ensemble_indicators_init(&ind[s])) return 1;
        }
        for (size_t k = 0; k < v.len; k++) {
            for (int s = 0; s < SYMBOLS; s++) {
                const qtr_candle *c = &v.items[k];
                cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
                double t0 = now_ns(CLOCK_MONOTONIC);
                counting = 1;
                /* what on_candle does: features, prediction, votes, combination */
                float f[ENSEMBLE_N_FEATURES];
                bool ready = ensemble_indicators_update(&ind[s], c, f);
                double t1 = now_ns(CLOCK_MONOTONIC), t2 = t1;
                ensemble_ballot b = { 0 };
                if (ready) {
                    double p;
                    if (!ensemble_model_predict(model, f, &p, err, sizeof err)) return 1;
                    t2 = now_ns(CLOCK_MONOTONIC);
                    b.present[ENSEMBLE_MODEL] = true;
                    b.vote[ENSEMBLE_MODEL] = ensemble_model_vote(p);
                    b.present[ENSEMBLE_TREND] = ind[s].trend_ready;
                    b.vote[ENSEMBLE_TREND] = strategy_vote_trend(ind[s].trend_fast.value_dec, ind[s].trend_slow.value_dec);
                    b.present[ENSEMBLE_BREAKOUT] = ind[s].prev_channel_ready;
                    b.vote[ENSEMBLE_BREAKOUT] = strategy_vote_breakout(c->close, ind[s].prev_upper, ind[s].prev_lower);
                    b.present[ENSEMBLE_MEAN_REVERSION] = ind[s].bands_rsi_ready;
                    b.vote[ENSEMBLE_MEAN_REVERSION] =
                        strategy_vote_mean_reversion(c->close, &ind[s].bands, ind[s].rsi.value, 30, 70);
                    sink += ensemble_combine(weights, &b, 0.2).score;
                }
                double t3 = now_ns(CLOCK_MONOTONIC);
                counting = 0;
                double cpu1 = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
                cpu_total += cpu1;
                if (!ready) continue;
                cpu[n] = cpu1 / 1000.0;
                alloc_total += allocations;
                allocations = 0;
                wall[n++] = (t3 - t0) / 1000.0;
                pred[n_pred++] = (t2 - t1) / 1000.0;
            }
        }
    }
    qsort(wall, n, sizeof *wall, bench_cmp_double);
    qsort(pred, n_pred, sizeof *pred, bench_cmp_double);
    qsort(cpu, n, sizeof *cpu, bench_cmp_double);
    printf("  per candle per symbol (features + model + votes), %zu candles:\n", n);
    printf("    wall p50 %.2f us  p99 %.2f us  max %.2f us  (goal p99 <= 20 us: %s)\n", pct(wall, n, 0.5),
           pct(wall, n, 0.99), wall[n - 1], pct(wall, n, 0.99) <= 20.0 ? "met" : "NOT met");
    printf("    CPU time (this thread's, so time the scheduler gave others is left out) p50 %.2f us  p99 %.2f us\n",
           pct(cpu, n, 0.5), pct(cpu, n, 0.99));
    printf("    model alone p50 %.2f us  p99 %.2f us\n", pct(pred, n_pred, 0.5), pct(pred, n_pred, 0.99));
    printf("    CPU time %.2f us per candle on average (all candles, warm-up included)\n",
           cpu_total / 1000.0 / ((double)rounds * SYMBOLS * (double)v.len));
    printf("    allocations %.2f per candle (ours: 0; the rest is XGBoost's inplace predict)\n",
           (double)alloc_total / (double)n);
    bench_print_load("after");
    if (sink == 12345.678) printf("%f\n", sink);   /* keep the work */
    free(wall);
    free(pred);
    free(cpu);
    for (int s = 0; s < SYMBOLS; s++) ensemble_indicators_free(&ind[s]);
    ensemble_model_free(model);
    qh_candle_vec_free(&v);
    return 0;
}
