/*
 * qtr/regime_classifier.h — the market regime of one symbol, candle by
 * candle, from the indicator library's ADX/+DI/-DI, ATR and a rolling
 * standard deviation of returns (libqtr-indicators; docs/indicators.md).
 *
 * Streaming like every indicator here: init allocates the one window (the
 * returns' standard deviation), update is O(1) and never allocates, free
 * releases it (safe twice). The host runs one per symbol and publishes
 * QTR_EV_REGIME when the regime changes; a strategy may run its own.
 *
 * Each closed candle, with ATR% = 100 * ATR / close and volatility = 100 *
 * the population standard deviation of the last vol_period simple returns
 * close / previous close - 1 (both percent per candle, so they depend on
 * the candle interval: tune the thresholds to it):
 *   1. VOLATILE    when ATR% >= volatile_atr_pct or volatility >= volatile_vol_pct;
 *   2. TREND_UP    when ADX >= trend_adx and +DI > -DI,
 *      TREND_DOWN  when ADX >= trend_adx and -DI > +DI
 *                  (hysteresis: a trend already reported stays while ADX >=
 *                  trend_adx_exit and its DI still leads);
 *   3. RANGE       otherwise (a DI tie included).
 * A new classification is reported only once it has held for `confirm`
 * consecutive candles (1: at once), so the regime does not flap around a
 * threshold. UNKNOWN during the warm-up: the first regime comes with candle
 * max(2 * adx_period, atr_period + 1, vol_period + 1) (the first candle
 * where all three inputs exist), reported at once, without confirmation.
 *
 * The scores are doubles: nothing here is a price that reaches an order.
 */
#ifndef QTR_REGIME_CLASSIFIER_H
#define QTR_REGIME_CLASSIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/indicators.h>
#include <qtr/regime.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qtr_regime_params {
    int adx_period;          /* ADX/+DI/-DI period, 2..QTR_IND_PERIOD_MAX      default 14   */
    int atr_period;          /* ATR period, 1..QTR_IND_PERIOD_MAX              default 14   */
    int vol_period;          /* returns in the volatility window, 2..QTR_IND_PERIOD_MAX  default 20 */
    double trend_adx;        /* ADX that starts a trend, (0, 100]             default 25   */
    double trend_adx_exit;   /* ADX below which a trend ends, (0, trend_adx]  default 20   */
    double volatile_atr_pct; /* ATR in percent of the close, > 0              default 3    */
    double volatile_vol_pct; /* stddev of returns in percent, > 0             default 2.5  */
    int confirm;             /* candles a new regime must hold, 1..QTR_REGIME_CONFIRM_MAX  default 2 */
} qtr_regime_params;

#define QTR_REGIME_CONFIRM_MAX 100

#define QTR_REGIME_PARAMS_DEFAULT                                                                     \
    ((qtr_regime_params){ .adx_period = 14, .atr_period = 14, .vol_period = 20, .trend_adx = 25.0,     \
                          .trend_adx_exit = 20.0, .volatile_atr_pct = 3.0, .volatile_vol_pct = 2.5, \
                          .confirm = 2 })

/* true if every parameter is within its range; else false with the first
 * bad one named in err ("trend_adx_exit 30 is above trend_adx 25"). */
bool qtr_regime_params_check(const qtr_regime_params *p, char *err, size_t errlen);

typedef struct qtr_regime_classifier {
    qtr_regime_params params;
    qtr_ind_adx adx_ind;
    qtr_ind_atr atr_ind;
    qtr_ind_stddev returns;  /* of close / previous close - 1, in qtr_dec */
    qtr_dec prev_close;
    int64_t count;           /* candles accepted */
    qtr_regime candidate;    /* the classification waiting for confirmation */
    int candidate_count;
    /* outputs, after each accepted candle */
    qtr_regime regime;       /* the reported regime (UNKNOWN in warm-up)    */
    qtr_regime previous;     /* the one before the last change              */
    bool changed;            /* this candle changed `regime`                */
    bool inputs_ready;       /* the five inputs below hold values           */
    double adx, plus_di, minus_di, atr_pct, volatility;
} qtr_regime_classifier;

/* Checks the parameters (qtr_regime_params_check) and allocates the window;
 * false on a bad parameter or out of memory. */
bool qtr_regime_classifier_init(qtr_regime_classifier *c, const qtr_regime_params *p);
/* One closed candle. QTR_IND_REFUSED (nothing changed) for a candle out of
 * the library's range or with a close <= 0; QTR_IND_WARMUP while the regime
 * is UNKNOWN; QTR_IND_READY once it is known. */
qtr_ind_status qtr_regime_classifier_update(qtr_regime_classifier *c, const qtr_candle *candle);
void qtr_regime_classifier_free(qtr_regime_classifier *c);

#ifdef __cplusplus
}
#endif

#endif /* QTR_REGIME_CLASSIFIER_H */
