/* strategy_votes: see strategy_votes.h. Scores are doubles; the comparisons
 * that decide a side are made on exact values where the input is exact. */
#include "strategy_votes.h"

#define TREND_CONFIDENCE_GAIN 50.0   /* averages 1% apart: confidence 1 */

static double at_most_one(double x) { return x > 1.0 ? 1.0 : x; }

strategy_vote strategy_vote_trend(qtr_dec fast, qtr_dec slow)
{
    strategy_vote v = { qtr_dec_sign(fast - slow), 0.0 };   /* both positive: no overflow */
    if (v.side == 0 || slow <= 0) return (strategy_vote){ 0, 0.0 };
    double spread = qtr_dec_to_display_double(qtr_dec_abs(fast - slow)) / qtr_dec_to_display_double(slow);
    v.confidence = at_most_one(0.5 + spread * TREND_CONFIDENCE_GAIN);
    return v;
}

strategy_vote strategy_vote_breakout(qtr_dec close, qtr_dec upper, qtr_dec lower)
{
    int side = close > upper ? 1 : close < lower ? -1 : 0;
    if (side == 0) return (strategy_vote){ 0, 0.0 };
    double width = qtr_dec_to_display_double(upper - lower);
    double beyond = qtr_dec_to_display_double(side > 0 ? close - upper : lower - close);
    return (strategy_vote){ side, width > 0 ? at_most_one(0.5 + 0.5 * beyond / width) : 1.0 };
}

strategy_vote strategy_vote_mean_reversion(qtr_dec close, const qtr_ind_bbands *bands, double rsi, double oversold,
                                           double overbought)
{
    double c = qtr_dec_to_display_double(close);
    if (c < bands->lower && rsi < oversold) return (strategy_vote){ 1, 0.5 + 0.5 * (oversold - rsi) / oversold };
    if (c > bands->upper && rsi > overbought)
        return (strategy_vote){ -1, 0.5 + 0.5 * (rsi - overbought) / (100.0 - overbought) };
    return (strategy_vote){ 0, 0.0 };
}
