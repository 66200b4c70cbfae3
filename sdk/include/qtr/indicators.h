/*
 * qtr/indicators.h — streaming technical indicators for strategy plugins.
 *
 * Link: libqtr-indicators (a static archive; pkg-config qtr-indicators).
 *   cc -shared -fPIC $(pkg-config --cflags qtr-indicators) my_strategy.c \
 *      $(pkg-config --libs qtr-indicators) -o my_strategy.so
 * The archive is compiled with -fPIC and hidden visibility: its code lands
 * inside your plugin, so a plugin never links against the host, and two
 * plugins built against different releases never see each other's copy.
 *
 * Every indicator is a struct you own (on the stack, in your plugin state):
 *   qtr_ind_X_init(&x, params...)   checks the parameters and allocates the
 *                                   window (the only allocation); false on a
 *                                   bad parameter or out of memory
 *   qtr_ind_X_update(&x, input)     one candle (or one value), O(1), never
 *                                   allocates; returns a qtr_ind_status
 *   qtr_ind_X_free(&x)              releases the window (safe twice; OBV
 *                                   has no window and no free)
 * Outputs are the struct's documented public fields, valid once update has
 * returned QTR_IND_READY (or the field's own *_ready flag is set). Before
 * that they hold 0 and must not be used: the "warm-up" below says how many
 * candles each indicator needs. The indicators with a monotonic deque
 * (stochastic, Donchian) are amortised O(1): one update may drop many old
 * extremes, but each value is dropped at most once.
 *
 * Conventions (where the textbooks differ, TA-Lib's choice is followed, so
 * values match TA-Lib, and the charting tools that use it, to rounding):
 *   - "warm-up N" means the first value comes with the N-th candle (N - 1
 *     candles give QTR_IND_WARMUP first); TA-Lib calls N - 1 the lookback.
 *   - EMA seed: the simple average of the first `period` values (TA-Lib's
 *     default compatibility mode), then k = 2 / (period + 1).
 *   - Wilder smoothing (RSI, ATR, ADX): avg = (avg * (n - 1) + x) / n, seeded
 *     with the simple average of the first n values.
 *   - standard deviation is the population one (divide by n), as TA-Lib's
 *     STDDEV and BBANDS.
 *
 * Money stays exact. Inputs are qtr_dec (qtr/money.h). Outputs are double
 * where they are scores or levels to compare with (RSI, EMA, bands); a double
 * is never an order price: an order's price comes from the candle or the
 * book and is rounded to the tick with qtr_dec_round_step(). Where a level
 * is exactly representable it is also given as a qtr_dec: the SMA and
 * Bollinger middle (rounded half-even), the Donchian channel (a real high
 * and low), the windowed VWAP (rounded half-even).
 *
 * No drift: rolling sums of fixed-point inputs (SMA, WMA, standard deviation,
 * z-score, Bollinger, VWAP, OBV) are exact 128-bit integer sums, so a value
 * after a million candles is what a fresh computation over the window gives.
 * Recursive smoothers (EMA, MACD, RSI, ATR, ADX) are double, as in TA-Lib:
 * they forget their past geometrically, so rounding does not accumulate.
 *
 * Input range: prices within +-QTR_IND_PRICE_MAX (about 11.26 million per
 * unit), volumes within [0, QTR_DEC_MAX], periods 1..QTR_IND_PERIOD_MAX
 * (some need 2, see each). An input out of range returns QTR_IND_REFUSED and
 * leaves the indicator unchanged; these bounds keep every 128-bit sum exact.
 */
#ifndef QTR_INDICATORS_H
#define QTR_INDICATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>
#include <qtr/money.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QTR_IND_PERIOD_MAX 5000
#define QTR_IND_PRICE_MAX ((qtr_dec)1 << 50)

typedef enum qtr_ind_status {
    QTR_IND_REFUSED = -1, /* input out of range: nothing changed            */
    QTR_IND_WARMUP = 0,   /* accepted; not enough candles for a value yet   */
    QTR_IND_READY = 1     /* accepted; the outputs hold this candle's value */
} qtr_ind_status;

/* ---- private building blocks (fields you do not touch) -------------------- */

/* The last `cap` values, oldest first overwritten. */
typedef struct qtr_ind_ring {
    qtr_dec *v;
    int cap, len, head; /* head: where the next value goes */
} qtr_ind_ring;

/* The same for doubles, with a running sum recomputed from the window
 * every `cap` values so its rounding cannot accumulate (amortised O(1)). */
typedef struct qtr_ind_dring {
    double *v;
    int cap, len, head, since_resum;
    double sum;
} qtr_ind_dring;

/* The maximum (or minimum) of the last `period` values: a monotonic deque. */
typedef struct qtr_ind_extreme {
    qtr_dec *val;
    int64_t *seq;
    int cap, head, len;
    int64_t n; /* values pushed */
    bool is_max;
} qtr_ind_extreme;

/* A simple average with an exact sum; the building block of SMA, stochastic
 * smoothing and Bollinger. Public output: none (read through its owner). */
typedef struct qtr_ind_sma {
    qtr_ind_ring w;
    qtr__i128 sum;
    int period;
    /* outputs */
    double value;      /* the average, in price units              */
    qtr_dec value_dec; /* the same, rounded half-even to 1e-8      */
} qtr_ind_sma;

/* ---- moving averages ------------------------------------------------------ */

/* SMA: sum of the last n values / n. Warm-up n. */
bool qtr_ind_sma_init(qtr_ind_sma *s, int period);
qtr_ind_status qtr_ind_sma_update(qtr_ind_sma *s, qtr_dec x);
void qtr_ind_sma_free(qtr_ind_sma *s);

/* EMA: ema = ema + k * (x - ema), k = 2 / (n + 1), seeded with the SMA of
 * the first n values (TA-Lib default). Warm-up n. No window: init never
 * fails for 1 <= n <= QTR_IND_PERIOD_MAX and free is a no-op. */
typedef struct qtr_ind_ema {
    int period, count;
    double k, seed_sum;
    /* outputs */
    double value;
} qtr_ind_ema;
bool qtr_ind_ema_init(qtr_ind_ema *e, int period);
qtr_ind_status qtr_ind_ema_update(qtr_ind_ema *e, qtr_dec x);
/* The same on a double (MACD's signal line smooths the MACD line). */
qtr_ind_status qtr_ind_ema_update_double(qtr_ind_ema *e, double x);
void qtr_ind_ema_free(qtr_ind_ema *e);

/* WMA: sum(i * x_i) / (n (n + 1) / 2), the newest value weighted n, the
 * oldest 1 (TA-Lib's WMA). Warm-up n. Exact integer sums. */
typedef struct qtr_ind_wma {
    qtr_ind_ring w;
    qtr__i128 sum, weighted;
    int period;
    double value;
} qtr_ind_wma;
bool qtr_ind_wma_init(qtr_ind_wma *m, int period);
qtr_ind_status qtr_ind_wma_update(qtr_ind_wma *m, qtr_dec x);
void qtr_ind_wma_free(qtr_ind_wma *m);

/* ---- momentum ------------------------------------------------------------- */

/* RSI (Wilder), TA-Lib's: change_i = x_i - x_(i-1); the first average gain
 * and loss are the simple averages of the first n changes, then Wilder
 * smoothing. RSI = 100 * gain / (gain + loss); 0 when both are 0 (TA-Lib).
 * Warm-up n + 1 (n changes need n + 1 values). */
typedef struct qtr_ind_rsi {
    int period, changes;
    qtr_dec prev;
    double gain, loss;
    double value; /* 0..100 */
} qtr_ind_rsi;
bool qtr_ind_rsi_init(qtr_ind_rsi *r, int period);
qtr_ind_status qtr_ind_rsi_update(qtr_ind_rsi *r, qtr_dec x);
void qtr_ind_rsi_free(qtr_ind_rsi *r);

/* MACD, TA-Lib's: line = EMA_fast - EMA_slow (fast < slow; swapped if
 * given the other way), signal = EMA_signal(line), histogram = line -
 * signal. Both EMAs start at the slow EMA's first value (candle `slow`): the
 * slow one seeded with the SMA of candles 1..slow, the fast one with the SMA
 * of the fast candles ending there (TA-Lib's quirk, not candles 1..fast), so
 * the line needs warm-up `slow` and all three outputs slow + signal - 1.
 * fast >= 2, slow >= 2, signal >= 1. */
typedef struct qtr_ind_macd {
    int fast_period, slow_period;
    qtr_ind_ring recent; /* the last `fast` values, to seed the fast EMA */
    qtr__i128 recent_sum, slow_sum;
    int64_t count;
    double fast_k, slow_k, fast, slow;
    qtr_ind_ema signal_ema;
    /* outputs */
    bool line_ready; /* line valid (from candle `slow`) */
    double line, signal, histogram;
} qtr_ind_macd;
bool qtr_ind_macd_init(qtr_ind_macd *m, int fast, int slow, int signal);
qtr_ind_status qtr_ind_macd_update(qtr_ind_macd *m, qtr_dec x);
void qtr_ind_macd_free(qtr_ind_macd *m);

/* Stochastic, TA-Lib's STOCH with SMA smoothing: raw %K = 100 * (close -
 * lowest low) / (highest high - lowest low) over k_period candles (0 when
 * the range is 0, as TA-Lib); %K = SMA_k_smooth(raw %K) (k_smooth 1: the
 * fast stochastic); %D = SMA_d_period(%K). %K from candle k_period +
 * k_smooth - 1 (k_ready), %D (READY) from k_period + k_smooth + d_period - 2,
 * TA-Lib's first index for both. %K and %D are not fixed-point: their
 * windows are double sums, recomputed from the window every period. */
typedef struct qtr_ind_stoch {
    qtr_ind_extreme hh, ll;
    qtr_ind_dring raw, kw; /* raw %K and %K windows */
    int k_period, k_smooth, d_period;
    /* outputs */
    bool k_ready;
    double k, d;
} qtr_ind_stoch;
bool qtr_ind_stoch_init(qtr_ind_stoch *s, int k_period, int k_smooth, int d_period);
qtr_ind_status qtr_ind_stoch_update(qtr_ind_stoch *s, const qtr_candle *c);
void qtr_ind_stoch_free(qtr_ind_stoch *s);

/* ---- volatility ----------------------------------------------------------- */

/* The true range of a candle after prev_close: max(high - low, |high -
 * prev_close|, |low - prev_close|), exact. */
qtr_dec qtr_ind_true_range(const qtr_candle *c, qtr_dec prev_close);

/* ATR (Wilder), TA-Lib's: the true range needs the previous close, so the
 * first candle gives none; ATR = the SMA of the first n true ranges (candles
 * 2..n+1), then Wilder smoothing. Warm-up n + 1. */
typedef struct qtr_ind_atr {
    int period, ranges;
    qtr_dec prev_close;
    double sum;
    double value; /* price units */
} qtr_ind_atr;
bool qtr_ind_atr_init(qtr_ind_atr *a, int period);
qtr_ind_status qtr_ind_atr_update(qtr_ind_atr *a, const qtr_candle *c);
void qtr_ind_atr_free(qtr_ind_atr *a);

/* Rolling population standard deviation sqrt(sum((x - mean)^2) / n) and the
 * z-score (x - mean) / stddev of the newest value (0 when stddev is 0, as
 * 0/0 has no sign). Exact integer sums of x and x^2; the variance is taken
 * from them without cancellation (see volatility.c). Warm-up n; n >= 1. */
typedef struct qtr_ind_stddev {
    qtr_ind_ring w;
    qtr__i128 sum, sum_sq;
    int period;
    /* outputs */
    double mean, value, zscore;
} qtr_ind_stddev;
bool qtr_ind_stddev_init(qtr_ind_stddev *s, int period);
qtr_ind_status qtr_ind_stddev_update(qtr_ind_stddev *s, qtr_dec x);
void qtr_ind_stddev_free(qtr_ind_stddev *s);

/* Bollinger bands, TA-Lib's BBANDS with an SMA: middle = SMA_n, upper and
 * lower = middle +- k * population stddev_n. Warm-up n. k_x100 is k in
 * hundredths (200 is 2.0), so a spec stays exact. The bands are double: to
 * compare with, never to price an order. middle_dec is the exact middle. */
typedef struct qtr_ind_bbands {
    qtr_ind_stddev sd;
    int k_x100;
    /* outputs */
    double upper, middle, lower;
    qtr_dec middle_dec;
} qtr_ind_bbands;
bool qtr_ind_bbands_init(qtr_ind_bbands *b, int period, int k_x100);
qtr_ind_status qtr_ind_bbands_update(qtr_ind_bbands *b, qtr_dec x);
void qtr_ind_bbands_free(qtr_ind_bbands *b);

/* ---- trend ---------------------------------------------------------------- */

/* ADX, +DI, -DI (Wilder), TA-Lib's: +DM = high - prev high when it is
 * positive and larger than prev low - low, -DM likewise; TR the true range.
 * Their Wilder sums start with the sum of the first n - 1 values (candles
 * 2..n) and then S = S - S / n + x, so +DI = 100 * S(+DM) / S(TR) and -DI
 * are first given at candle n + 1 (di_ready). DX = 100 * |+DI - -DI| / (+DI
 * + -DI); ADX = the mean of the first n DX, then Wilder smoothing; READY
 * from candle 2n. The DMs are chosen on exact differences: when up == down
 * neither counts (TA-Lib compares doubles, which may break such a tie
 * either way). As TA-Lib: a DX with +DI + -DI = 0 counts as 0 in the
 * first mean and leaves the ADX unchanged after; S(TR) = 0 gives DI 0.
 * n >= 2. */
typedef struct qtr_ind_adx {
    int period;
    int64_t count;
    qtr_dec prev_high, prev_low, prev_close;
    double s_plus, s_minus, s_tr, dx_sum;
    /* outputs */
    bool di_ready;
    double plus_di, minus_di, adx;
} qtr_ind_adx;
bool qtr_ind_adx_init(qtr_ind_adx *a, int period);
qtr_ind_status qtr_ind_adx_update(qtr_ind_adx *a, const qtr_candle *c);
void qtr_ind_adx_free(qtr_ind_adx *a);

/* Donchian channel: the highest high and lowest low of the last n candles,
 * this one included (TA-Lib's MAX and MIN), exact; middle = their mean
 * (double). Warm-up n. */
typedef struct qtr_ind_donchian {
    qtr_ind_extreme hh, ll;
    int period;
    /* outputs */
    qtr_dec upper, lower;
    double middle;
} qtr_ind_donchian;
bool qtr_ind_donchian_init(qtr_ind_donchian *d, int period);
qtr_ind_status qtr_ind_donchian_update(qtr_ind_donchian *d, const qtr_candle *c);
void qtr_ind_donchian_free(qtr_ind_donchian *d);

/* ---- volume --------------------------------------------------------------- */

/* OBV, TA-Lib's: starts at the first candle's volume, then adds the volume
 * when the close rose, subtracts it when it fell, keeps it when unchanged.
 * Warm-up 1. Exact 128-bit sum; value is in contracts (a double: a running
 * total can pass qtr_dec's range on a long history). No parameters. */
typedef struct qtr_ind_obv {
    qtr__i128 total;
    qtr_dec prev_close;
    int64_t count;
    double value;
} qtr_ind_obv;
void qtr_ind_obv_init(qtr_ind_obv *o);
qtr_ind_status qtr_ind_obv_update(qtr_ind_obv *o, const qtr_candle *c);

/* VWAP over the last n candles: sum(typical * volume) / sum(volume) with
 * typical = (high + low + close) / 3, computed as one exact fraction and
 * rounded once (half-even). Not in TA-Lib. Warm-up n; while the window's
 * volume is 0 there is no VWAP: update returns QTR_IND_WARMUP. */
typedef struct qtr_ind_vwap {
    qtr_ind_ring tp3, vol; /* high + low + close, and volume, per candle */
    qtr__i128 pv_sum, v_sum;
    int period;
    /* outputs */
    qtr_dec value_dec;
    double value;
} qtr_ind_vwap;
bool qtr_ind_vwap_init(qtr_ind_vwap *v, int period);
qtr_ind_status qtr_ind_vwap_update(qtr_ind_vwap *v, const qtr_candle *c);
void qtr_ind_vwap_free(qtr_ind_vwap *v);

/* ---- any indicator from a text spec --------------------------------------- */

/*
 * "rsi:14", "ema:20", "macd:12:26:9", ... (qtr indicators --ind, and
 * strategies that take indicator lists from their options). The names and
 * their parameters:
 *   sma:N ema:N wma:N rsi:N atr:N stddev:N zscore:N vwap:N obv
 *   bbands:N:K       K the multiplier, up to 2 decimals ("2", "2.5")
 *   macd:FAST:SLOW:SIGNAL   adx:N   stoch:K:SMOOTH:D   donchian:N
 * Value indicators read the candle's close. Output columns are named
 * NAME_PARAMS[_PART]: rsi_14, macd_12_26_9_line, _signal, _hist,
 * bbands_20_2_upper, _middle, _lower, adx_14 with adx_14_plus_di and
 * adx_14_minus_di, stoch_14_3_3_k and _d, donchian_20_upper, _middle,
 * _lower.
 */
typedef struct qtr_ind qtr_ind;
#define QTR_IND_MAX_OUTPUTS 3
#define QTR_IND_SPEC_MAX 32  /* longest spec text; output names fit QTR_IND_NAME_MAX */
#define QTR_IND_NAME_MAX 48

/* A new indicator from spec (at most QTR_IND_SPEC_MAX characters; the only
 * allocation), or NULL with the reason in err: "unknown indicator 'rsx' (known: sma, ema, ...)", "macd needs 3
 * parameters (macd:FAST:SLOW:SIGNAL), got 1", "rsi: period 0 is not in
 * 1..5000", ... */
qtr_ind *qtr_ind_new(const char *spec, char *err, size_t errlen);
void qtr_ind_free(qtr_ind *ind);
int qtr_ind_outputs(const qtr_ind *ind);
const char *qtr_ind_output_name(const qtr_ind *ind, int i);
qtr_ind_status qtr_ind_update(qtr_ind *ind, const qtr_candle *c);
/* Output i of the last update: false (and *out untouched) while it has no
 * value yet. */
bool qtr_ind_value(const qtr_ind *ind, int i, double *out);

#ifdef __cplusplus
}
#endif

#endif
