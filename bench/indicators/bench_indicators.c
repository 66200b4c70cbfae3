/*
 * bench_indicators [candles] — nanoseconds per update of every indicator of
 * libqtr-indicators, each through its struct API, at periods 14, 200 and
 * 2000: constant cost per candle shows as the same figure for every period.
 * Each figure is the median of 7 runs over the same synthetic candles
 * (a seeded random walk), with the lowest and highest run beside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qtr/indicators.h>

#define RUNS 7

static qtr_candle *g_candles;
static size_t g_n;
static volatile double g_sink;

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
    qtr_dec p = QTR_DEC_INT(1);
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        qtr_dec step = (qtr_dec)(s >> 52) - 2048;   /* +-2048 units */
        if (p + step > 1000) p += step;
        qtr_candle *c = &g_candles[i];
        c->open = p;
        c->close = p + (qtr_dec)((s >> 40) & 1023) - 512;
        c->high = (c->open > c->close ? c->open : c->close) + (qtr_dec)((s >> 30) & 1023);
        c->low = (c->open < c->close ? c->open : c->close) - (qtr_dec)((s >> 20) & 1023);
        c->volume = QTR_DEC_INT(1) + (qtr_dec)((s >> 8) & 0xffffff);
    }
}

typedef enum which { SMA, EMA, WMA, RSI, ATR, STDDEV, BBANDS, MACD, ADX, STOCH, OBV, VWAP, DONCHIAN } which;
static const char *const names[] = { "sma", "ema", "wma", "rsi", "atr", "stddev/zscore", "bbands", "macd",
                                     "adx", "stoch", "obv", "vwap", "donchian" };

/* One run: init, every candle, free; ns per update. */
static double run_once(which w, int p)
{
    union {
        qtr_ind_sma sma; qtr_ind_ema ema; qtr_ind_wma wma; qtr_ind_rsi rsi; qtr_ind_atr atr;
        qtr_ind_stddev sd; qtr_ind_bbands bb; qtr_ind_macd macd; qtr_ind_adx adx; qtr_ind_stoch st;
        qtr_ind_obv obv; qtr_ind_vwap vw; qtr_ind_donchian dc;
    } u;
    bool ok = true;
    switch (w) {
    case SMA: ok = qtr_ind_sma_init(&u.sma, p); break;
    case EMA: ok = qtr_ind_ema_init(&u.ema, p); break;
    case WMA: ok = qtr_ind_wma_init(&u.wma, p); break;
    case RSI: ok = qtr_ind_rsi_init(&u.rsi, p); break;
    case ATR: ok = qtr_ind_atr_init(&u.atr, p); break;
    case STDDEV: ok = qtr_ind_stddev_init(&u.sd, p); break;
    case BBANDS: ok = qtr_ind_bbands_init(&u.bb, p, 200); break;
    case MACD: ok = qtr_ind_macd_init(&u.macd, p / 2 > 1 ? p / 2 : 2, p, 9); break;
    case ADX: ok = qtr_ind_adx_init(&u.adx, p); break;
    case STOCH: ok = qtr_ind_stoch_init(&u.st, p, 3, 3); break;
    case OBV: qtr_ind_obv_init(&u.obv); break;
    case VWAP: ok = qtr_ind_vwap_init(&u.vw, p); break;
    case DONCHIAN: ok = qtr_ind_donchian_init(&u.dc, p); break;
    }
    if (!ok) { fprintf(stderr, "init failed\n"); exit(1); }
    double acc = 0, t0 = now_ns();
    for (size_t i = 0; i < g_n; i++) {
        const qtr_candle *c = &g_candles[i];
        switch (w) {
        case SMA: qtr_ind_sma_update(&u.sma, c->close); acc += u.sma.value; break;
        case EMA: qtr_ind_ema_update(&u.ema, c->close); acc += u.ema.value; break;
        case WMA: qtr_ind_wma_update(&u.wma, c->close); acc += u.wma.value; break;
        case RSI: qtr_ind_rsi_update(&u.rsi, c->close); acc += u.rsi.value; break;
        case ATR: qtr_ind_atr_update(&u.atr, c); acc += u.atr.value; break;
        case STDDEV: qtr_ind_stddev_update(&u.sd, c->close); acc += u.sd.zscore; break;
        case BBANDS: qtr_ind_bbands_update(&u.bb, c->close); acc += u.bb.upper; break;
        case MACD: qtr_ind_macd_update(&u.macd, c->close); acc += u.macd.histogram; break;
        case ADX: qtr_ind_adx_update(&u.adx, c); acc += u.adx.adx; break;
        case STOCH: qtr_ind_stoch_update(&u.st, c); acc += u.st.d; break;
        case OBV: qtr_ind_obv_update(&u.obv, c); acc += u.obv.value; break;
        case VWAP: qtr_ind_vwap_update(&u.vw, c); acc += u.vw.value; break;
        case DONCHIAN: qtr_ind_donchian_update(&u.dc, c); acc += u.dc.middle; break;
        }
    }
    double ns = (now_ns() - t0) / (double)g_n;
    g_sink = acc;
    switch (w) {
    case SMA: qtr_ind_sma_free(&u.sma); break;
    case WMA: qtr_ind_wma_free(&u.wma); break;
    case STDDEV: qtr_ind_stddev_free(&u.sd); break;
    case BBANDS: qtr_ind_bbands_free(&u.bb); break;
    case MACD: qtr_ind_macd_free(&u.macd); break;
    case STOCH: qtr_ind_stoch_free(&u.st); break;
    case VWAP: qtr_ind_vwap_free(&u.vw); break;
    case DONCHIAN: qtr_ind_donchian_free(&u.dc); break;
    default: break;
    }
    return ns;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    if (n < 10000) n = 10000;
    make_candles(n);
    static const int periods[] = { 14, 200, 2000 };
    printf("libqtr-indicators: ns per update, median of %d runs over %zu candles [min..max]\n", RUNS, n);
    printf("%-14s", "indicator");
    for (size_t k = 0; k < 3; k++) printf("   period %-4d       ", periods[k]);
    printf("\n");
    for (int w = SMA; w <= DONCHIAN; w++) {
        printf("%-14s", names[w]);
        for (size_t k = 0; k < 3; k++) {
            double t[RUNS];
            for (int r = 0; r < RUNS; r++) t[r] = run_once((which)w, periods[k]);
            qsort(t, RUNS, sizeof t[0], cmp);
            printf("  %6.1f [%5.1f..%5.1f]", t[RUNS / 2], t[0], t[RUNS - 1]);
        }
        printf("\n");
    }
    free(g_candles);
    return 0;
}
