/* ensemble_features: see ensemble_features.h for the list and formulas. */
#include "ensemble_features.h"

#include <string.h>

const char *const ensemble_feature_names[ENSEMBLE_N_FEATURES] = {
    "ret_1",       "rsi_14",     "ema_gap_12_26", "macd_hist_rel", "bb_pos_20_2",     "atr_rel_14",
    "adx_14",      "di_diff_14", "stoch_k_14_3",  "zscore_20",     "donchian_pos_20", "vwap_gap_20",
};

#define TREND_FAST 10   /* the trend voter's averages (ma_cross's defaults) */
#define TREND_SLOW 30

bool ensemble_indicators_init(ensemble_indicators *ind)
{
    memset(ind, 0, sizeof *ind);
    bool ok = qtr_ind_rsi_init(&ind->rsi, 14) && qtr_ind_ema_init(&ind->ema_fast, 12) &&
              qtr_ind_ema_init(&ind->ema_slow, 26) && qtr_ind_macd_init(&ind->macd, 12, 26, 9) &&
              qtr_ind_bbands_init(&ind->bands, 20, 200) && qtr_ind_atr_init(&ind->atr, 14) &&
              qtr_ind_adx_init(&ind->adx, 14) && qtr_ind_stoch_init(&ind->stoch, 14, 3, 3) &&
              qtr_ind_stddev_init(&ind->zscore, 20) && qtr_ind_donchian_init(&ind->channel, 20) &&
              qtr_ind_vwap_init(&ind->vwap, 20) && qtr_ind_sma_init(&ind->trend_fast, TREND_FAST) &&
              qtr_ind_sma_init(&ind->trend_slow, TREND_SLOW);
    if (!ok) ensemble_indicators_free(ind);
    return ok;
}

void ensemble_indicators_free(ensemble_indicators *ind)
{
    /* every free is safe on a zeroed or already freed indicator */
    qtr_ind_rsi_free(&ind->rsi);
    qtr_ind_ema_free(&ind->ema_fast);
    qtr_ind_ema_free(&ind->ema_slow);
    qtr_ind_macd_free(&ind->macd);
    qtr_ind_bbands_free(&ind->bands);
    qtr_ind_atr_free(&ind->atr);
    qtr_ind_adx_free(&ind->adx);
    qtr_ind_stoch_free(&ind->stoch);
    qtr_ind_stddev_free(&ind->zscore);
    qtr_ind_donchian_free(&ind->channel);
    qtr_ind_vwap_free(&ind->vwap);
    qtr_ind_sma_free(&ind->trend_fast);
    qtr_ind_sma_free(&ind->trend_slow);
}

/* (x - lo) / (hi - lo), 0.5 for a flat range. */
static double position_in(double x, double lo, double hi) { return hi > lo ? (x - lo) / (hi - lo) : 0.5; }

bool ensemble_indicators_update(ensemble_indicators *ind, const qtr_candle *c, float out[ENSEMBLE_N_FEATURES])
{
    qtr_dec close = c->close;
    /* the channel as it stood before this candle, for the breakout voter */
    ind->prev_channel_ready = ind->channel_ready;
    ind->prev_upper = ind->channel.upper;
    ind->prev_lower = ind->channel.lower;

    qtr_ind_status st[13] = {
        qtr_ind_rsi_update(&ind->rsi, close),          qtr_ind_ema_update(&ind->ema_fast, close),
        qtr_ind_ema_update(&ind->ema_slow, close),     qtr_ind_macd_update(&ind->macd, close),
        qtr_ind_bbands_update(&ind->bands, close),     qtr_ind_atr_update(&ind->atr, c),
        qtr_ind_adx_update(&ind->adx, c),              qtr_ind_stoch_update(&ind->stoch, c),
        qtr_ind_stddev_update(&ind->zscore, close),    qtr_ind_donchian_update(&ind->channel, c),
        qtr_ind_vwap_update(&ind->vwap, c),            qtr_ind_sma_update(&ind->trend_fast, close),
        qtr_ind_sma_update(&ind->trend_slow, close),
    };
    qtr_dec prev_close = ind->prev_close;
    ind->prev_close = close;
    ind->candles++;
    ind->channel_ready = st[9] == QTR_IND_READY;
    ind->trend_ready = st[11] == QTR_IND_READY && st[12] == QTR_IND_READY;
    ind->bands_rsi_ready = st[0] == QTR_IND_READY && st[4] == QTR_IND_READY;
    bool all = prev_close > 0 && close > 0;
    for (int i = 0; i < 11; i++) all = all && st[i] == QTR_IND_READY;   /* the features' eleven */
    if (!all) return false;

    double x = qtr_dec_to_display_double(close);
    double f[ENSEMBLE_N_FEATURES] = {
        x / qtr_dec_to_display_double(prev_close) - 1.0,
        ind->rsi.value / 100.0,
        ind->ema_fast.value / ind->ema_slow.value - 1.0,
        ind->macd.histogram / x,
        position_in(x, ind->bands.lower, ind->bands.upper),
        ind->atr.value / x,
        ind->adx.adx / 100.0,
        (ind->adx.plus_di - ind->adx.minus_di) / 100.0,
        ind->stoch.k / 100.0,
        ind->zscore.zscore,
        position_in(x, qtr_dec_to_display_double(ind->channel.lower), qtr_dec_to_display_double(ind->channel.upper)),
        x / ind->vwap.value - 1.0,
    };
    for (int i = 0; i < ENSEMBLE_N_FEATURES; i++) out[i] = (float)f[i];
    return true;
}
