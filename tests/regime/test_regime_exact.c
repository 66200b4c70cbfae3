/*
 * The regime classifier (sdk/indicators/regime.c with the steps of
 * sdk/indicators/steps.h) and the rolling standard deviation, equal to the
 * last bit to a reference written here the plain way: every return's
 * standard deviation from its whole window summed afresh in 128 bits
 * (S1 = sum x, S2 = sum x^2, then the documented exact-variance formula),
 * ADX and ATR by TA-Lib's recurrences over arrays, the rules and their
 * hysteresis, each double computed in the same order as documented. The
 * faster code must give the same values, not close ones: regimes and their
 * inputs are published and reported.
 *
 * Series: long random walks (calm, wild, with gaps of refused candles),
 * constant prices, one-unit prices, prices jumping between one unit and
 * the library's bound 2^50 (returns clamped to the bound, sums of squares
 * near 2^113), highs and lows at the bounds, and periods from the least to
 * QTR_IND_PERIOD_MAX.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <qtr/regime_classifier.h>
#include "test_rng.h"

#define BOUND QTR_IND_PRICE_MAX

/* ---- series ------------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) { return test_rng_next(&rng); }
static int64_t between(int64_t lo, int64_t hi) { return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1)); }

static qtr_dec clampp(qtr_dec x, qtr_dec lo) { return x < lo ? lo : x > BOUND ? BOUND : x; }

typedef enum { WALK, WILD, CONSTANT, ONE_UNIT, JUMPS, AT_BOUNDS, GAPS, RETURN_EDGES } kind;

/* closes whose returns sit at the edges of the return's arithmetic: a move
 * whose (close - prev) * 1e8 is just within or past 2^63 from a close of 1
 * or 2, and returns just below, at and past the clamp 2^50 from 0.5 */
static qtr_dec edge_close(void)
{
    static unsigned step;
    static const qtr_dec from_one[] = { 92233720368, 92233720369, 92233720367, 92233720370 };
    static const qtr_dec half = QTR_DEC_INT(1) / 2;
    switch (step++ % 6) {
    case 0: return 1 + (qtr_dec)(next() % 2);
    case 1: return from_one[next() % 4] - (qtr_dec)(next() % 2);
    case 2: return half;
    case 3: return half + ((qtr_dec)1 << 49) + between(-2, 1);
    case 4: return half + between(-3, 3);
    default: return (qtr_dec)1 + between(0, 50);
    }
}

/* candle i of a series of `k`; *refused: the classifier must refuse it */
static qtr_candle make(kind k, qtr_dec *price, bool *refused)
{
    qtr_candle c = { .symbol = "TESTUSDT", .volume = QTR_DEC_INT(5) };
    qtr_dec p = *price, close = p;
    *refused = false;
    switch (k) {
    case WALK: close = clampp(p + between(-p / 200, p / 200), 1); break;
    case WILD: close = clampp(p + between(-p / 4, p / 3), 1); break;
    case CONSTANT: break;
    case ONE_UNIT: close = between(1, 3); break;
    case JUMPS: close = (next() % 2) ? 1 : BOUND - between(0, 3); break;
    case AT_BOUNDS: close = between(1, BOUND); break;
    case RETURN_EDGES: close = edge_close(); break;
    case GAPS:
        close = clampp(p + between(-p / 50, p / 50), 1);
        if (next() % 17 == 0) {   /* a candle the classifier refuses: nothing may change */
            *refused = true;
            c.open = c.high = c.low = c.close = close;
            if (next() % 2) c.close = -between(0, 1000);   /* a close <= 0 */
            else c.high = BOUND + between(1, 5);            /* a high past the bound */
            return c;
        }
        break;
    }
    /* an open away from the previous close now and then (a gap between
     * candles): the true range must come from the previous close */
    qtr_dec open = next() % 3 ? p : clampp(p + between(-p / 100 - 1, p / 100 + 1), 1);
    c.open = open;
    c.close = close;
    qtr_dec hi = open > close ? open : close, lo = open < close ? open : close;
    if (k == AT_BOUNDS) {   /* any high and low within the bounds, even crossed */
        c.high = between(-BOUND, BOUND);
        c.low = next() % 3 ? -BOUND : between(-BOUND, BOUND);
        if (next() % 4 == 0) c.high = BOUND;
    } else if (k == CONSTANT) {
        c.high = c.low = p;
    } else {
        c.high = clampp(hi + between(0, hi / 100 + 1), 0);
        c.low = clampp(lo - between(0, lo / 100 + 1), -BOUND);
    }
    *price = close;
    return c;
}

/* ---- the reference -------------------------------------------------------- */

static double d(qtr_dec x) { return (double)x / (double)QTR_DEC_SCALE; }

typedef struct ref_out {
    qtr_ind_status st;
    qtr_regime regime, previous;
    bool changed, inputs_ready;
    double adx, plus_di, minus_di, atr_pct, volatility;
    double ret_value, ret_mean, ret_zscore;   /* of the returns' window, once it is full */
} ref_out;

/* sd, mean and z-score of the window x[0..n-1], newest last, from its sums */
static void window_stats(const qtr_dec *x, int n, double *sd_out, double *mean, double *z)
{
    qtr__i128 s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) s1 += x[i], s2 += (qtr__i128)x[i] * x[i];
    qtr__i128 q = s1 / n, r = s1 % n;
    qtr__i128 m = s2 - n * q * q - 2 * q * r;
    double nd = n, rd = (double)r;
    double var = (double)m / nd - (rd * rd) / (nd * nd);
    double sd = var > 0 ? sqrt(var) : 0.0;
    *sd_out = sd / (double)QTR_DEC_SCALE;
    *mean = ((double)s1 / (double)QTR_DEC_SCALE) / n;
    *z = sd > 0 ? (double)(n * (qtr__i128)x[n - 1] - s1) / nd / sd : 0.0;
}

/* outputs after each of the n accepted candles c[0..n-1] */
static void reference(const qtr_candle *c, size_t n, const qtr_regime_params *p, ref_out *out)
{
    qtr_dec *ret = calloc(n + 1, sizeof *ret);
    assert_non_null(ret);
    /* ADX state (TA-Lib) */
    double s_plus = 0, s_minus = 0, s_tr = 0, dx_sum = 0, adx = 0, pdi = 0, mdi = 0;
    /* ATR state (Wilder) */
    double atr_sum = 0, atr = 0;
    ref_out o = { .regime = QTR_REGIME_UNKNOWN, .previous = QTR_REGIME_UNKNOWN };
    qtr_regime candidate = QTR_REGIME_UNKNOWN;
    int candidate_count = 0;
    double ret_value = 0, ret_mean = 0, ret_z = 0;
    for (size_t k = 0; k < n; k++) {
        int64_t i = (int64_t)k + 1;
        bool adx_ready = false, atr_ready = false, vol_ready = false;
        o.changed = false;
        if (k > 0) {
            const qtr_candle *a = &c[k], *b = &c[k - 1];
            qtr_dec up = a->high - b->close, down = a->low - b->close;
            qtr_dec tr_dec = a->high - a->low;
            if ((up < 0 ? -up : up) > tr_dec) tr_dec = up < 0 ? -up : up;
            if ((down < 0 ? -down : down) > tr_dec) tr_dec = down < 0 ? -down : down;
            double tr = d(tr_dec);
            /* ADX */
            qtr_dec diff_p = a->high - b->high, diff_m = b->low - a->low;
            double np = p->adx_period;
            if (i > p->adx_period) s_minus -= s_minus / np, s_plus -= s_plus / np;
            if (diff_m > 0 && diff_p < diff_m) s_minus += d(diff_m);
            else if (diff_p > 0 && diff_p > diff_m) s_plus += d(diff_p);
            if (i <= p->adx_period) {
                s_tr += tr;
            } else {
                s_tr = s_tr - s_tr / np + tr;
                double dx = 0;
                bool has_dx = false;
                if (s_tr != 0) {
                    mdi = 100.0 * (s_minus / s_tr);
                    pdi = 100.0 * (s_plus / s_tr);
                    if (mdi + pdi != 0) dx = 100.0 * (fabs(mdi - pdi) / (mdi + pdi)), has_dx = true;
                } else {
                    mdi = pdi = 0;
                }
                if (i < 2 * (int64_t)p->adx_period) dx_sum += dx;
                else if (i == 2 * (int64_t)p->adx_period) adx = (dx_sum + dx) / np, adx_ready = true;
                else adx_ready = true, adx = has_dx ? (adx * (np - 1) + dx) / np : adx;
            }
            /* ATR: true ranges 1..period averaged, then Wilder */
            if (k <= (size_t)p->atr_period) {
                atr_sum += tr;
                if (k == (size_t)p->atr_period) atr = atr_sum / p->atr_period, atr_ready = true;
            } else {
                atr = (atr * (p->atr_period - 1) + tr) / p->atr_period;
                atr_ready = true;
            }
            /* the return, truncated toward zero, clamped to the bound */
            qtr__i128 r = (qtr__i128)(a->close - b->close) * QTR_DEC_SCALE / b->close;
            ret[k - 1] = (qtr_dec)(r > BOUND ? BOUND : r < -BOUND ? -BOUND : r);
            if (k >= (size_t)p->vol_period) {   /* k returns so far: the window is the last vol_period */
                window_stats(&ret[k - (size_t)p->vol_period], p->vol_period, &ret_value, &ret_mean, &ret_z);
                vol_ready = true;
            }
        }
        o.ret_value = ret_value, o.ret_mean = ret_mean, o.ret_zscore = ret_z;
        if (!(adx_ready && atr_ready && vol_ready)) {
            o.st = QTR_IND_WARMUP;
            out[k] = o;
            continue;
        }
        o.st = QTR_IND_READY;
        o.inputs_ready = true;
        o.adx = adx, o.plus_di = pdi, o.minus_di = mdi;
        o.atr_pct = 100.0 * atr / d(c[k].close);
        o.volatility = 100.0 * ret_value;
        qtr_regime r;
        if (o.atr_pct >= p->volatile_atr_pct || o.volatility >= p->volatile_vol_pct) {
            r = QTR_REGIME_VOLATILE;
        } else {
            bool upw = pdi > mdi, downw = mdi > pdi;
            bool holding = (o.regime == QTR_REGIME_TREND_UP && upw) || (o.regime == QTR_REGIME_TREND_DOWN && downw);
            r = QTR_REGIME_RANGE;
            if (adx >= (holding ? p->trend_adx_exit : p->trend_adx) && (upw || downw))
                r = upw ? QTR_REGIME_TREND_UP : QTR_REGIME_TREND_DOWN;
        }
        bool report = false;
        if (o.regime == QTR_REGIME_UNKNOWN) {
            report = true;
        } else if (r == o.regime) {
            candidate_count = 0;
        } else {
            if (candidate_count > 0 && r == candidate) candidate_count++;
            else candidate = r, candidate_count = 1;
            report = candidate_count >= p->confirm;
        }
        if (report) o.previous = o.regime, o.regime = r, o.changed = true, candidate_count = 0;
        out[k] = o;
    }
    free(ret);
}

/* ---- the comparison ---------------------------------------------------------- */

static void same_double(double got, double want, const char *what, size_t at, const char *series)
{
    if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("%s: candle %zu: %s %.17g, the reference %.17g", series, at, what, got, want);
}

static long compared;

static void run(kind k, const char *series, size_t n, qtr_dec start, const qtr_regime_params *p)
{
    qtr_candle *all = calloc(n, sizeof *all), *accepted = calloc(n, sizeof *accepted);
    bool *refused = calloc(n, sizeof *refused);
    ref_out *want = calloc(n, sizeof *want);
    assert_true(all && accepted && refused && want);
    qtr_dec price = start;
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        all[i] = make(k, &price, &refused[i]);
        if (!refused[i]) accepted[na++] = all[i];
    }
    reference(accepted, na, p, want);

    qtr_regime_classifier cls;
    assert_true(qtr_regime_classifier_init(&cls, p));
    size_t ka = 0;
    for (size_t i = 0; i < n; i++) {
        qtr_regime_classifier before = cls;
        qtr_ind_status st = qtr_regime_classifier_update(&cls, &all[i]);
        if (refused[i]) {
            assert_int_equal(st, QTR_IND_REFUSED);
            assert_memory_equal(&before, &cls, sizeof cls);   /* nothing changed */
            continue;
        }
        const ref_out *w = &want[ka++];
        if (st != w->st) fail_msg("%s: candle %zu: status %d, the reference %d", series, i, st, w->st);
        assert_int_equal(cls.regime, w->regime);
        assert_int_equal(cls.previous, w->previous);
        assert_int_equal(cls.changed, w->changed);
        assert_int_equal(cls.inputs_ready, w->inputs_ready);
        same_double(cls.adx, w->adx, "adx", i, series);
        same_double(cls.plus_di, w->plus_di, "plus_di", i, series);
        same_double(cls.minus_di, w->minus_di, "minus_di", i, series);
        same_double(cls.atr_pct, w->atr_pct, "atr_pct", i, series);
        same_double(cls.volatility, w->volatility, "volatility", i, series);
        same_double(cls.returns.value, w->ret_value, "returns stddev", i, series);
        same_double(cls.returns.mean, w->ret_mean, "returns mean", i, series);
        same_double(cls.returns.zscore, w->ret_zscore, "returns zscore", i, series);
        compared++;
    }
    qtr_regime_classifier_free(&cls);
    free(all);
    free(accepted);
    free(refused);
    free(want);
}

static qtr_regime_params params(int adx, int atr, int vol, int confirm)
{
    return (qtr_regime_params){ .adx_period = adx, .atr_period = atr, .vol_period = vol, .trend_adx = 25,
                                .trend_adx_exit = 20, .volatile_atr_pct = 3, .volatile_vol_pct = 2.5,
                                .confirm = confirm };
}

static void test_classifier_series(void **st)
{
    (void)st;
    static const struct {
        kind k;
        const char *name;
        qtr_dec start;
    } series[] = {
        { WALK, "walk", QTR_DEC_INT(1) / 2 },   { WILD, "wild", QTR_DEC_INT(30000) },
        { CONSTANT, "constant", QTR_DEC_INT(7) }, { ONE_UNIT, "one unit", 1 },
        { JUMPS, "jumps to 2^50", 1 },            { AT_BOUNDS, "highs and lows at the bounds", BOUND / 3 },
        { GAPS, "refused candles between", QTR_DEC_INT(2) },
        { RETURN_EDGES, "returns at the edges of 64 bits and the clamp", 1 },
    };
    const qtr_regime_params ps[] = { params(14, 14, 20, 2), params(2, 1, 2, 1), params(3, 7, 5, 3),
                                     params(50, 20, 100, 100) };
    for (size_t s = 0; s < sizeof series / sizeof series[0]; s++)
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) run(series[s].k, series[s].name, 3000, series[s].start, &ps[j]);
    /* the longest windows: QTR_IND_PERIOD_MAX returns, near-bound sums of squares */
    qtr_regime_params longest = params(QTR_IND_PERIOD_MAX, QTR_IND_PERIOD_MAX, QTR_IND_PERIOD_MAX, 1);
    run(JUMPS, "jumps, longest windows", 2 * QTR_IND_PERIOD_MAX + 300, 1, &longest);
    run(WALK, "walk, longest windows", 2 * QTR_IND_PERIOD_MAX + 300, QTR_DEC_INT(1), &longest);
    assert_true(compared > 80000);
}

/* The public rolling standard deviation over prices (bbands, zscore use it):
 * every candle against its window summed afresh. */
static void stddev_series(const char *name, int period, size_t n, qtr_dec (*gen)(size_t i))
{
    qtr_ind_stddev s;
    assert_true(qtr_ind_stddev_init(&s, period));
    qtr_dec *x = calloc(n, sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        x[i] = gen(i);
        qtr_ind_status st = qtr_ind_stddev_update(&s, x[i]);
        if (i + 1 < (size_t)period) {
            assert_int_equal(st, QTR_IND_WARMUP);
            continue;
        }
        assert_int_equal(st, QTR_IND_READY);
        double sd, mean, z;
        window_stats(&x[i + 1 - (size_t)period], period, &sd, &mean, &z);
        same_double(s.value, sd, "stddev", i, name);
        same_double(s.mean, mean, "mean", i, name);
        same_double(s.zscore, z, "zscore", i, name);
        compared++;
    }
    assert_int_equal(qtr_ind_stddev_update(&s, BOUND + 1), QTR_IND_REFUSED);
    qtr_ind_stddev_free(&s);
    free(x);
}

static qtr_dec gen_random(size_t i) { return (void)i, between(-BOUND, BOUND); }
static qtr_dec gen_edges(size_t i) { return (i % 3 == 0) ? BOUND : (i % 3 == 1) ? -BOUND : between(-3, 3); }
static qtr_dec gen_small(size_t i) { return (qtr_dec)(i % 7) - 3 + (next() % 5 == 0 ? between(-1000000, 1000000) : 0); }
static qtr_dec gen_constant(size_t i) { return (void)i, -BOUND + 12345; }
/* a full window at one bound, then values at the other: n x - S1 passes 2^63 */
static qtr_dec gen_bound_swing(size_t i) { return (i / QTR_IND_PERIOD_MAX) % 2 ? BOUND - between(0, 2) : -BOUND + between(0, 2); }
static qtr_dec gen_price(size_t i) { return QTR_DEC_INT(60000) + (qtr_dec)(i * 7919 % 100000) * 1000; }

static void test_stddev_windows(void **st)
{
    (void)st;
    const int periods[] = { 1, 2, 3, 20, 257 };
    for (size_t j = 0; j < sizeof periods / sizeof periods[0]; j++) {
        stddev_series("random within the bounds", periods[j], 3000, gen_random);
        stddev_series("the bounds", periods[j], 3000, gen_edges);
        stddev_series("small", periods[j], 3000, gen_small);
        stddev_series("constant", periods[j], 1000, gen_constant);
        stddev_series("prices", periods[j], 3000, gen_price);
    }
    stddev_series("the bounds, longest window", QTR_IND_PERIOD_MAX, 2 * QTR_IND_PERIOD_MAX, gen_edges);
    stddev_series("from one bound to the other, longest window", QTR_IND_PERIOD_MAX, 3 * QTR_IND_PERIOD_MAX,
                  gen_bound_swing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier_series),
        cmocka_unit_test(test_stddev_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
