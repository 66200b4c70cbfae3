/*
 * strategy_votes — the entry rules of the template strategies as pure
 * functions, so a strategy that combines them (strategy_ensemble) votes
 * with exactly the rule and the confidence the single-rule plugins trade on.
 * Each returns a vote: the side the rule wants (+1 long, -1 short, 0 no
 * opinion) and its confidence in [0, 1] (a score, never money).
 */
#ifndef QTR_STRATEGY_VOTES_H
#define QTR_STRATEGY_VOTES_H

#include <qtr/indicators.h>
#include <qtr/money.h>

typedef struct strategy_vote {
    int side;           /* +1 long, -1 short, 0 none */
    double confidence;  /* 0..1; 0 when side is 0   */
} strategy_vote;

/* ma_cross: the fast average against the slow one (both > 0, exact).
 * side = sign(fast - slow); confidence = min(1, 0.5 + 50 * |fast - slow| /
 * slow): averages 1% apart score 1.0, 0.2% apart 0.6. */
strategy_vote strategy_vote_trend(qtr_dec fast, qtr_dec slow);

/* breakout: a close above the Donchian channel of the candles BEFORE it is
 * long, below it short; confidence = min(1, 0.5 + 0.5 * (close - upper) /
 * (upper - lower)) (the mirror for a short), 1 for a flat channel. */
strategy_vote strategy_vote_breakout(qtr_dec close, qtr_dec upper, qtr_dec lower);

/* mean_reversion's entries: a close below the lower Bollinger band with the
 * RSI under `oversold` is long, confidence 0.5 + 0.5 * (oversold - rsi) /
 * oversold; above the upper band with the RSI over `overbought` short,
 * 0.5 + 0.5 * (rsi - overbought) / (100 - overbought). Bands and RSI must
 * be READY. (The exit at the middle band is the plugin's, not a vote.) */
strategy_vote strategy_vote_mean_reversion(qtr_dec close, const qtr_ind_bbands *bands, double rsi, double oversold,
                                           double overbought);

#endif
