/*
 * ensemble_features — the model's inputs, from the SDK's indicator library
 * (qtr/indicators.h), and the indicators the rule voters read.
 *
 * THE FEATURE LIST (names and order) is the contract with the model: the
 * trainer (tools/train_ensemble.py) gets its rows from this same code
 * (the ensemble_features tool), writes the list into the model's sidecar,
 * and the plugin refuses a model whose list differs. Changing a feature,
 * its order or its formula means ENSEMBLE_FORMAT_VERSION + 1 and a new
 * model. Every feature is a dimensionless score (a ratio, never a price):
 *
 *   0 ret_1          close / previous close - 1
 *   1 rsi_14         RSI(14) / 100                      (Wilder, TA-Lib)
 *   2 ema_gap_12_26  EMA(12) / EMA(26) - 1
 *   3 macd_hist_rel  MACD(12,26,9) histogram / close
 *   4 bb_pos_20_2    (close - lower) / (upper - lower), Bollinger(20, 2); 0.5 when flat
 *   5 atr_rel_14     ATR(14) / close
 *   6 adx_14         ADX(14) / 100
 *   7 di_diff_14     (+DI(14) - -DI(14)) / 100
 *   8 stoch_k_14_3   stochastic %K(14, 3) / 100
 *   9 zscore_20      z-score of the close over 20 candles
 *  10 donchian_pos_20 (close - lower) / (upper - lower), Donchian(20) with
 *                    this candle; 0.5 when flat
 *  11 vwap_gap_20    close / VWAP(20) - 1
 *
 * Warm-up: the first row comes with the candle where every indicator has a
 * value, ENSEMBLE_WARMUP (34: MACD's 26 + 9 - 1); before it there is none.
 */
#ifndef QTR_ENSEMBLE_FEATURES_H
#define QTR_ENSEMBLE_FEATURES_H

#include <stdbool.h>

#include <qtr/indicators.h>

#define ENSEMBLE_N_FEATURES 12
#define ENSEMBLE_FORMAT_VERSION 1
#define ENSEMBLE_WARMUP 34

/* The names, in order: "ret_1", "rsi_14", ... (ENSEMBLE_N_FEATURES). */
extern const char *const ensemble_feature_names[ENSEMBLE_N_FEATURES];

/* One symbol's indicators. The voters read them too: trend (SMA 10 / 30),
 * mean reversion (the Bollinger bands and RSI below), breakout (the
 * Donchian channel as it stood before this candle). */
typedef struct ensemble_indicators {
    qtr_ind_rsi rsi;
    qtr_ind_ema ema_fast, ema_slow;
    qtr_ind_macd macd;
    qtr_ind_bbands bands;
    qtr_ind_atr atr;
    qtr_ind_adx adx;
    qtr_ind_stoch stoch;
    qtr_ind_stddev zscore;
    qtr_ind_donchian channel;
    qtr_ind_vwap vwap;
    qtr_ind_sma trend_fast, trend_slow;
    qtr_dec prev_close;
    int64_t candles;
    /* the channel before this candle (breakout compares the close with it) */
    bool prev_channel_ready, channel_ready;
    qtr_dec prev_upper, prev_lower;
    bool trend_ready;     /* both SMAs have a value */
    bool bands_rsi_ready; /* Bollinger and RSI have a value */
} ensemble_indicators;

/* Allocates the windows (the only allocation); false when out of memory
 * (everything freed). */
bool ensemble_indicators_init(ensemble_indicators *ind);
void ensemble_indicators_free(ensemble_indicators *ind);

/* One candle: update every indicator, then write the features into out
 * (float, as XGBoost takes them) and return true once all are ready; false
 * while warming up or when an input was refused (out untouched). O(1),
 * no allocation. */
bool ensemble_indicators_update(ensemble_indicators *ind, const qtr_candle *c, float out[ENSEMBLE_N_FEATURES]);

#endif
