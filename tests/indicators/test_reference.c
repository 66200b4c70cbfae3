/*
 * Every indicator against a reference written here from its definition:
 * whole arrays, each window summed afresh (O(n * period)), long double, no
 * code shared with the library. Over the real XRPUSDT candles of
 * ../shared/data (1h: 100 candles, 5m: 1,999), read at test time; skipped
 * with a message when the folder is absent.
 *
 * Tolerance: 1e-9 relative (absolute below 1). The library's doubles carry
 * 53 bits (1e-16); Wilder and EMA recursions forget old rounding, so after
 * 2,000 candles their error stays near 1e-14. A formula slip (a seed one
 * candle off, sample instead of population deviation, SMA instead of Wilder
 * smoothing) moves these values by 1e-4 or more on this data, five orders
 * above the tolerance. Warm-ups are checked exactly: WARMUP before the
 * documented candle, READY from it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <qtr/indicators.h>

#include "market/candles.h"

typedef long double ld;
#define NaN ((ld)NAN)

static qh_candle_vec g_data[2];
static const char *const g_files[2] = { "XRPUSDT-perp-1h.csv", "XRPUSDT-perp-5m.csv" };
static size_t g_n_files;

static int g_param;   /* the period under test, for failure messages */

static ld P(qtr_dec v) { return (ld)v / 100000000.0L; }

static void near(double got, ld want, const char *what, size_t i)
{
    ld tol = 1e-9L * (fabsl(want) > 1 ? fabsl(want) : 1);
    if (isnan((double)want) || fabsl((ld)got - want) > tol)
        fail_msg("%s (period %d) at candle %zu: got %.15g, want %.15Lg", what, g_param, i + 1, got, want);
}

/* A qtr_dec output rounded half-even to 1e-8: within half a unit. */
static void near_dec(qtr_dec got, ld want, const char *what, size_t i)
{
    if (fabsl(P(got) - want) > 0.5e-8L + 1e-12L)
        fail_msg("%s (period %d) at candle %zu: got %.8Lf, want %.15Lg", what, g_param, i + 1, P(got), want);
}

static void status_at(qtr_ind_status st, size_t i, size_t warmup, const char *what)
{
    qtr_ind_status want = i + 1 < warmup ? QTR_IND_WARMUP : QTR_IND_READY;
    if (st != want) fail_msg("%s: candle %zu returned %d, want %d (warm-up %zu)", what, i + 1, st, want, warmup);
}

/* ---- the references: out[i] for candle i, NaN before the first value ---- */

static void ref_sma(const ld *x, size_t n, int p, ld *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NaN;
        if (i + 1 < (size_t)p) continue;
        ld s = 0;
        for (int k = 0; k < p; k++) s += x[i - k];
        out[i] = s / p;
    }
}

/* TA-Lib's EMA from index `start`: the SMA of the p values ending there,
 * then the recursion. */
static void ref_ema_from(const ld *x, size_t n, int p, size_t start, ld *out)
{
    for (size_t i = 0; i < n; i++) out[i] = NaN;
    if (start >= n || start + 1 < (size_t)p) return;
    ld s = 0;
    for (int k = 0; k < p; k++) s += x[start - k];
    ld e = s / p, a = 2.0L / (p + 1);
    out[start] = e;
    for (size_t i = start + 1; i < n; i++) out[i] = e = e + a * (x[i] - e);
}

static void ref_wma(const ld *x, size_t n, int p, ld *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NaN;
        if (i + 1 < (size_t)p) continue;
        ld s = 0;
        for (int k = 0; k < p; k++) s += (p - k) * x[i - k];
        out[i] = s / (p * (p + 1) / 2.0L);
    }
}

static void ref_rsi(const ld *x, size_t n, int p, ld *out)
{
    ld g = 0, l = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = NaN;
        if (i == 0) continue;
        ld d = x[i] - x[i - 1], up = d > 0 ? d : 0, dn = d < 0 ? -d : 0;
        if (i < (size_t)p) { g += up; l += dn; continue; }
        if (i == (size_t)p) { g = (g + up) / p; l = (l + dn) / p; }
        else { g = (g * (p - 1) + up) / p; l = (l * (p - 1) + dn) / p; }
        out[i] = g + l == 0 ? 0 : 100 * g / (g + l);
    }
}

static ld tr_at(const qtr_candle *c, size_t i)
{
    ld h = P(c[i].high), l = P(c[i].low), pc = P(c[i - 1].close);
    return fmaxl(h - l, fmaxl(fabsl(h - pc), fabsl(l - pc)));
}

static void ref_atr(const qtr_candle *c, size_t n, int p, ld *out)
{
    ld a = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = NaN;
        if (i < (size_t)p) continue;
        if (i == (size_t)p) {
            a = 0;
            for (size_t k = 1; k <= (size_t)p; k++) a += tr_at(c, k);
            a /= p;
        } else {
            a = (a * (p - 1) + tr_at(c, i)) / p;
        }
        out[i] = a;
    }
}

/* population deviation, two passes over each window */
static void ref_sd(const ld *x, size_t n, int p, ld *mean, ld *sd)
{
    for (size_t i = 0; i < n; i++) {
        mean[i] = sd[i] = NaN;
        if (i + 1 < (size_t)p) continue;
        ld m = 0, v = 0;
        for (int k = 0; k < p; k++) m += x[i - k];
        m /= p;
        for (int k = 0; k < p; k++) v += (x[i - k] - m) * (x[i - k] - m);
        mean[i] = m;
        sd[i] = sqrtl(v / p);
    }
}

/* TA-Lib's ADX, written out from its definition over arrays. */
static void ref_adx(const qtr_candle *c, size_t n, int p, ld *adx, ld *pdi, ld *mdi)
{
    ld *pdm = calloc(n, sizeof *pdm), *mdm = calloc(n, sizeof *mdm), *dx = calloc(n, sizeof *dx);
    for (size_t i = 1; i < n; i++) {
        /* the definition compares the exact moves: a tie gives neither DM */
        ld up = P(c[i].high - c[i - 1].high), down = P(c[i - 1].low - c[i].low);
        pdm[i] = up > 0 && up > down ? up : 0;
        mdm[i] = down > 0 && down > up ? down : 0;
    }
    ld sp = 0, sm = 0, st = 0;
    for (size_t i = 0; i < n; i++) {
        adx[i] = pdi[i] = mdi[i] = NaN;
        if (i == 0) continue;
        if (i < (size_t)p) { sp += pdm[i]; sm += mdm[i]; st += tr_at(c, i); continue; }
        sp = sp - sp / p + pdm[i];
        sm = sm - sm / p + mdm[i];
        st = st - st / p + tr_at(c, i);
        pdi[i] = st != 0 ? 100 * sp / st : 0;
        mdi[i] = st != 0 ? 100 * sm / st : 0;
        dx[i] = pdi[i] + mdi[i] != 0 ? 100 * fabsl(pdi[i] - mdi[i]) / (pdi[i] + mdi[i]) : NaN;
    }
    ld a = 0;
    for (size_t i = 2 * (size_t)p - 1; i < n; i++) {
        if (i == 2 * (size_t)p - 1) {
            a = 0;
            for (size_t k = (size_t)p; k <= i; k++) a += isnan((double)dx[k]) ? 0 : dx[k];
            a /= p;
        } else if (!isnan((double)dx[i])) {
            a = (a * (p - 1) + dx[i]) / p;
        }
        adx[i] = a;
    }
    free(pdm);
    free(mdm);
    free(dx);
}

static void ref_stoch(const qtr_candle *c, size_t n, int kp, int ks, int dp, ld *k, ld *d)
{
    ld *raw = malloc(n * sizeof *raw);
    for (size_t i = 0; i < n; i++) {
        raw[i] = k[i] = d[i] = NaN;
        if (i + 1 < (size_t)kp) continue;
        ld hh = P(c[i].high), ll = P(c[i].low);
        for (int j = 1; j < kp; j++) {
            hh = fmaxl(hh, P(c[i - j].high));
            ll = fminl(ll, P(c[i - j].low));
        }
        raw[i] = hh - ll != 0 ? 100 * (P(c[i].close) - ll) / (hh - ll) : 0;
        if (i + 2 < (size_t)(kp + ks)) continue;
        ld s = 0;
        for (int j = 0; j < ks; j++) s += raw[i - j];
        k[i] = s / ks;
        if (i + 3 < (size_t)(kp + ks + dp)) continue;
        s = 0;
        for (int j = 0; j < dp; j++) s += k[i - j];
        d[i] = s / dp;
    }
    free(raw);
}

/* ---- the comparisons ------------------------------------------------------ */

typedef struct series {
    const qtr_candle *c;
    size_t n;
    ld *close;
} series;

static void each_file(void (*check)(const series *s))
{
    if (g_n_files == 0) {
        skip();
        return;
    }
    for (size_t f = 0; f < g_n_files; f++) {
        series s = { g_data[f].items, g_data[f].len, malloc(g_data[f].len * sizeof(ld)) };
        for (size_t i = 0; i < s.n; i++) s.close[i] = P(s.c[i].close);
        check(&s);
        free(s.close);
    }
}

static const int periods[] = { 1, 2, 5, 14, 20, 50 };
#define N_PERIODS (sizeof periods / sizeof periods[0])

static void check_averages(const series *s)
{
    ld *want = malloc(s->n * sizeof *want);
    for (size_t q = 0; q < N_PERIODS; q++) {
        int p = periods[q];
        g_param = p;
        qtr_ind_sma sma;
        qtr_ind_ema ema;
        qtr_ind_wma wma;
        assert_true(qtr_ind_sma_init(&sma, p) && qtr_ind_ema_init(&ema, p) && qtr_ind_wma_init(&wma, p));
        ld *sw = malloc(s->n * sizeof *sw), *ew = malloc(s->n * sizeof *ew);
        ref_sma(s->close, s->n, p, sw);
        ref_ema_from(s->close, s->n, p, (size_t)p - 1, ew);
        ref_wma(s->close, s->n, p, want);
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_sma_update(&sma, s->c[i].close), i, (size_t)p, "sma");
            status_at(qtr_ind_ema_update(&ema, s->c[i].close), i, (size_t)p, "ema");
            status_at(qtr_ind_wma_update(&wma, s->c[i].close), i, (size_t)p, "wma");
            if (i + 1 < (size_t)p) continue;
            near(sma.value, sw[i], "sma", i);
            near_dec(sma.value_dec, sw[i], "sma_dec", i);
            near(ema.value, ew[i], "ema", i);
            near(wma.value, want[i], "wma", i);
        }
        free(sw);
        free(ew);
        qtr_ind_sma_free(&sma);
        qtr_ind_wma_free(&wma);
    }
    free(want);
}

static void check_rsi_atr(const series *s)
{
    ld *r = malloc(s->n * sizeof *r), *a = malloc(s->n * sizeof *a);
    for (size_t q = 0; q < N_PERIODS; q++) {
        int p = periods[q];
        g_param = p;
        qtr_ind_rsi rsi;
        qtr_ind_atr atr;
        assert_true(qtr_ind_rsi_init(&rsi, p) && qtr_ind_atr_init(&atr, p));
        ref_rsi(s->close, s->n, p, r);
        ref_atr(s->c, s->n, p, a);
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_rsi_update(&rsi, s->c[i].close), i, (size_t)p + 1, "rsi");
            status_at(qtr_ind_atr_update(&atr, &s->c[i]), i, (size_t)p + 1, "atr");
            if (i < (size_t)p) continue;
            near(rsi.value, r[i], "rsi", i);
            near(atr.value, a[i], "atr", i);
        }
    }
    free(r);
    free(a);
}

static void check_deviation(const series *s)
{
    ld *m = malloc(s->n * sizeof *m), *sd = malloc(s->n * sizeof *sd);
    for (size_t q = 0; q < N_PERIODS; q++) {
        int p = periods[q];
        g_param = p;
        qtr_ind_stddev dev;
        qtr_ind_bbands bb;
        assert_true(qtr_ind_stddev_init(&dev, p) && qtr_ind_bbands_init(&bb, p, 250));
        ref_sd(s->close, s->n, p, m, sd);
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_stddev_update(&dev, s->c[i].close), i, (size_t)p, "stddev");
            status_at(qtr_ind_bbands_update(&bb, s->c[i].close), i, (size_t)p, "bbands");
            if (i + 1 < (size_t)p) continue;
            near(dev.value, sd[i], "stddev", i);
            near(dev.zscore, sd[i] > 0 ? (s->close[i] - m[i]) / sd[i] : 0, "zscore", i);
            near(bb.middle, m[i], "bbands middle", i);
            near(bb.upper, m[i] + 2.5L * sd[i], "bbands upper", i);
            near(bb.lower, m[i] - 2.5L * sd[i], "bbands lower", i);
        }
        qtr_ind_stddev_free(&dev);
        qtr_ind_bbands_free(&bb);
    }
    free(m);
    free(sd);
}

static void check_macd(const series *s)
{
    static const int cfg[][3] = { { 12, 26, 9 }, { 5, 35, 5 }, { 3, 10, 1 }, { 2, 2, 2 } };
    ld *f = malloc(s->n * sizeof *f), *sl = malloc(s->n * sizeof *sl), *line = malloc(s->n * sizeof *line),
       *sig = malloc(s->n * sizeof *sig);
    for (size_t q = 0; q < sizeof cfg / sizeof cfg[0]; q++) {
        int fp = cfg[q][0], sp = cfg[q][1], gp = cfg[q][2];
        qtr_ind_macd m;
        assert_true(qtr_ind_macd_init(&m, fp, sp, gp));
        /* TA-Lib: both EMAs start at index sp - 1 */
        ref_ema_from(s->close, s->n, sp, (size_t)sp - 1, sl);
        ref_ema_from(s->close, s->n, fp, (size_t)sp - 1, f);
        for (size_t i = 0; i < s->n; i++) line[i] = f[i] - sl[i];
        for (size_t i = 0; i < s->n; i++) sig[i] = NaN;
        if (s->n >= (size_t)(sp + gp - 1)) ref_ema_from(line, s->n, gp, (size_t)(sp + gp - 2), sig);
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_macd_update(&m, s->c[i].close), i, (size_t)(sp + gp - 1), "macd");
            assert_int_equal(m.line_ready, i + 1 >= (size_t)sp);
            if (m.line_ready) near(m.line, line[i], "macd line", i);
            if (i + 1 < (size_t)(sp + gp - 1)) continue;
            near(m.signal, sig[i], "macd signal", i);
            near(m.histogram, line[i] - sig[i], "macd hist", i);
        }
        qtr_ind_macd_free(&m);
    }
    free(f);
    free(sl);
    free(line);
    free(sig);
}

static void check_adx(const series *s)
{
    ld *a = malloc(s->n * sizeof *a), *pd = malloc(s->n * sizeof *pd), *md = malloc(s->n * sizeof *md);
    static const int ps[] = { 2, 5, 14, 30 };
    for (size_t q = 0; q < 4; q++) {
        int p = ps[q];
        qtr_ind_adx x;
        g_param = p;
        assert_true(qtr_ind_adx_init(&x, p));
        ref_adx(s->c, s->n, p, a, pd, md);
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_adx_update(&x, &s->c[i]), i, 2 * (size_t)p, "adx");
            assert_int_equal(x.di_ready, i >= (size_t)p);
            if (x.di_ready) {
                near(x.plus_di, pd[i], "+di", i);
                near(x.minus_di, md[i], "-di", i);
            }
            if (i + 1 >= 2 * (size_t)p) near(x.adx, a[i], "adx", i);
        }
    }
    free(a);
    free(pd);
    free(md);
}

static void check_stoch_donchian(const series *s)
{
    static const int cfg[][3] = { { 14, 3, 3 }, { 5, 1, 3 }, { 1, 1, 1 }, { 50, 5, 7 } };
    ld *k = malloc(s->n * sizeof *k), *d = malloc(s->n * sizeof *d);
    for (size_t q = 0; q < 4; q++) {
        qtr_ind_stoch st;
        int kp = cfg[q][0], ks = cfg[q][1], dp = cfg[q][2];
        assert_true(qtr_ind_stoch_init(&st, kp, ks, dp));
        ref_stoch(s->c, s->n, kp, ks, dp, k, d);
        qtr_ind_donchian dc;
        assert_true(qtr_ind_donchian_init(&dc, kp));
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_stoch_update(&st, &s->c[i]), i, (size_t)(kp + ks + dp - 2), "stoch");
            status_at(qtr_ind_donchian_update(&dc, &s->c[i]), i, (size_t)kp, "donchian");
            assert_int_equal(st.k_ready, i + 2 >= (size_t)(kp + ks));
            if (st.k_ready) near(st.k, k[i], "stoch k", i);
            if (i + 3 >= (size_t)(kp + ks + dp)) near(st.d, d[i], "stoch d", i);
            if (i + 1 < (size_t)kp) continue;
            qtr_dec hh = s->c[i].high, ll = s->c[i].low;
            for (int j = 1; j < kp; j++) {
                if (s->c[i - j].high > hh) hh = s->c[i - j].high;
                if (s->c[i - j].low < ll) ll = s->c[i - j].low;
            }
            assert_int_equal(dc.upper, hh);   /* exact: a real high */
            assert_int_equal(dc.lower, ll);
        }
        qtr_ind_stoch_free(&st);
        qtr_ind_donchian_free(&dc);
    }
    free(k);
    free(d);
}

static void check_volume(const series *s)
{
    for (size_t q = 0; q < N_PERIODS; q++) {
        int p = periods[q];
        g_param = p;
        qtr_ind_vwap v;
        assert_true(qtr_ind_vwap_init(&v, p));
        for (size_t i = 0; i < s->n; i++) {
            status_at(qtr_ind_vwap_update(&v, &s->c[i]), i, (size_t)p, "vwap");
            if (i + 1 < (size_t)p) continue;
            ld pv = 0, vol = 0;
            for (int j = 0; j < p; j++) {
                const qtr_candle *c = &s->c[i - j];
                pv += (P(c->high) + P(c->low) + P(c->close)) / 3 * P(c->volume);
                vol += P(c->volume);
            }
            near(v.value, pv / vol, "vwap", i);
            near_dec(v.value_dec, pv / vol, "vwap_dec", i);
        }
        qtr_ind_vwap_free(&v);
    }
    qtr_ind_obv o;
    qtr_ind_obv_init(&o);
    ld total = 0;
    for (size_t i = 0; i < s->n; i++) {
        assert_int_equal(qtr_ind_obv_update(&o, &s->c[i]), QTR_IND_READY);
        if (i == 0) total = P(s->c[0].volume);
        else if (s->c[i].close > s->c[i - 1].close) total += P(s->c[i].volume);
        else if (s->c[i].close < s->c[i - 1].close) total -= P(s->c[i].volume);
        near(o.value, total, "obv", i);
    }
}

/* The spec layer gives the same numbers as the structs it wraps. */
static void check_spec_layer(const series *s)
{
    char err[256];
    qtr_ind *ind = qtr_ind_new("macd:12:26:9", err, sizeof err);
    qtr_ind_macd m;
    assert_non_null(ind);
    assert_true(qtr_ind_macd_init(&m, 12, 26, 9));
    for (size_t i = 0; i < s->n; i++) {
        qtr_ind_update(ind, &s->c[i]);
        qtr_ind_status st = qtr_ind_macd_update(&m, s->c[i].close);
        double v[3];
        bool has[3];
        for (int k = 0; k < 3; k++) has[k] = qtr_ind_value(ind, k, &v[k]);
        assert_int_equal(has[0], m.line_ready);
        assert_int_equal(has[1], st == QTR_IND_READY);
        if (has[0]) assert_true(v[0] == m.line);
        if (has[1]) assert_true(v[1] == m.signal && v[2] == m.histogram);
    }
    qtr_ind_free(ind);
    qtr_ind_macd_free(&m);
}

#define EACH(fn)                                                                                               \
    static void test_##fn(void **state)                                                                        \
    {                                                                                                          \
        (void)state;                                                                                           \
        each_file(fn);                                                                                         \
    }
EACH(check_averages)
EACH(check_rsi_atr)
EACH(check_deviation)
EACH(check_macd)
EACH(check_adx)
EACH(check_stoch_donchian)
EACH(check_volume)
EACH(check_spec_layer)

static int load(void **state)
{
    (void)state;
    const char *src = getenv("QTR_SOURCE_DIR");
    char path[4096], err[4096];
    for (size_t f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "%s/../shared/data/%s", src ? src : ".", g_files[f]);
        if (access(path, R_OK) != 0) {
            printf("SKIP: %s is absent: the reference comparisons over real candles are skipped\n", path);
            return 0;
        }
        if (qh_csv_load(path, "XRPUSDT", &g_data[f], err, sizeof err) != 0) {
            printf("cannot load %s\n", err);
            return -1;
        }
        g_n_files++;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) qh_candle_vec_free(&g_data[f]);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_averages), cmocka_unit_test(test_check_rsi_atr),
        cmocka_unit_test(test_check_deviation), cmocka_unit_test(test_check_macd),
        cmocka_unit_test(test_check_adx),       cmocka_unit_test(test_check_stoch_donchian),
        cmocka_unit_test(test_check_volume),    cmocka_unit_test(test_check_spec_layer),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
