/*
 * bench_regime [candles] — nanoseconds per candle of the regime classifier
 * (qtr/regime_classifier.h) at periods 14/20, 200 and 2000 (a cost that does
 * not grow with the period is the O(1) claim), and of the host's book
 * (host/regime) spreading the same candles over 1 and 50 symbols (the
 * per-symbol lookup). Median of 7 runs with the lowest and highest beside
 * it, over a seeded random walk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qtr/regime_classifier.h>

#include "regime/regime_book.h"

#define RUNS 7

static qtr_candle *g_candles;
static size_t g_n;
static volatile int g_sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void make_candles(size_t n)
{
    g_candles = calloc(n, sizeof *g_candles);
    if (!g_candles) exit(1);
    g_n = n;
    uint64_t s = 42;
    qtr_dec p = QTR_DEC_INT(100);
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        qtr_dec step = ((qtr_dec)(s >> 44) - (1 << 19)) * 100;   /* about +-0.5 */
        if (p + step > QTR_DEC_INT(10)) p += step;
        qtr_candle *c = &g_candles[i];
        c->open = p;
        c->close = p + (qtr_dec)((s >> 30) & 0xfffff) * 10 - 5000000;
        c->high = (c->open > c->close ? c->open : c->close) + (qtr_dec)((s >> 20) & 0xfffff) * 10;
        c->low = (c->open < c->close ? c->open : c->close) - (qtr_dec)((s >> 10) & 0xfffff) * 10;
        c->volume = QTR_DEC_INT(1);
    }
}

static double classifier_once(int period)
{
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    p.adx_period = p.atr_period = period;
    p.vol_period = period == 14 ? 20 : period;
    qtr_regime_classifier rc;
    if (!qtr_regime_classifier_init(&rc, &p)) exit(1);
    int acc = 0;
    double t0 = now_ns();
    for (size_t i = 0; i < g_n; i++) {
        qtr_regime_classifier_update(&rc, &g_candles[i]);
        acc += (int)rc.regime;
    }
    double ns = (now_ns() - t0) / (double)g_n;
    g_sink = acc;
    qtr_regime_classifier_free(&rc);
    return ns;
}

static double book_once(int symbols)
{
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    char err[160];
    qh_regime_book *b = qh_regime_book_new(&p, err, sizeof err);
    if (!b) exit(1);
    char names[50][QTR_SYMBOL_MAX];
    for (int k = 0; k < symbols; k++) snprintf(names[k], sizeof names[k], "SYM%02dUSDT", k);
    qtr_regime_event out;
    int acc = 0;
    double t0 = now_ns();
    for (size_t i = 0; i < g_n; i++) {
        qtr_candle c = g_candles[i];
        memcpy(c.symbol, names[i % (size_t)symbols], QTR_SYMBOL_MAX);
        acc += qh_regime_book_on_candle(b, &c, &out, err, sizeof err);
    }
    double ns = (now_ns() - t0) / (double)g_n;
    g_sink = acc;
    qh_regime_book_free(b);
    return ns;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double (*fn)(int), int arg)
{
    double r[RUNS];
    for (int k = 0; k < RUNS; k++) r[k] = fn(arg);
    qsort(r, RUNS, sizeof r[0], cmp);
    printf("%-34s %8.1f ns/candle  (min %.1f, max %.1f)\n", what, r[RUNS / 2], r[0], r[RUNS - 1]);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 10000) n = 10000;
    make_candles(n);
    printf("bench_regime: %zu candles, median of %d runs\n", n, RUNS);
    report("classifier, periods 14/14/20", classifier_once, 14);
    report("classifier, periods 200", classifier_once, 200);
    report("classifier, periods 2000", classifier_once, 2000);
    report("host book, 1 symbol", book_once, 1);
    report("host book, 50 symbols", book_once, 50);
    free(g_candles);
    return 0;
}
