/*
 * ensemble_vote — how strategy_ensemble combines its voters into one side
 * and one confidence. Pure: no state, no host.
 *
 * Each voter present gives v_i = side_i * confidence_i in [-1, 1]:
 *   model            2p - 1, p = the model's P(next close > close)
 *   trend            strategy_vote_trend(SMA 10, SMA 30)
 *   mean_reversion   strategy_vote_mean_reversion(Bollinger 20 x 2, RSI 14, 30 / 70)
 *   breakout         strategy_vote_breakout(close, Donchian 20 before the candle)
 * and the score is their weighted mean over the voters PRESENT (a voter
 * still warming up, or the model when there is none, is left out of both
 * sums; a voter present with no opinion votes 0 and still counts):
 *     score = sum(w_i * v_i) / sum(w_i)
 * The side is sign(score) when |score| >= threshold, else none. The
 * confidence is on the scale of a probability that the side is right,
 * 0.5 + 0.5 * |score| (0.5..1): the model alone at P(up) = p gives p for a
 * long, as the rule plugins' own confidences start at 0.5. With no voter
 * present (or all weights 0) there is no decision.
 */
#ifndef QTR_ENSEMBLE_VOTE_H
#define QTR_ENSEMBLE_VOTE_H

#include <stdbool.h>

#include "strategy_votes.h"   /* plugins/strategy_common */

typedef enum ensemble_voter {
    ENSEMBLE_MODEL = 0,
    ENSEMBLE_TREND,
    ENSEMBLE_MEAN_REVERSION,
    ENSEMBLE_BREAKOUT,
    ENSEMBLE_N_VOTERS
} ensemble_voter;

typedef struct ensemble_ballot {
    bool present[ENSEMBLE_N_VOTERS];
    strategy_vote vote[ENSEMBLE_N_VOTERS];
} ensemble_ballot;

typedef struct ensemble_decision {
    bool decided;      /* at least one voter present with a weight */
    double score;      /* -1..1 */
    int side;          /* +1, -1, or 0 under the threshold */
    double confidence; /* 0.5 + 0.5 * |score| */
} ensemble_decision;

/* The model's probability as a vote: side sign(p - 0.5), confidence |2p - 1|. */
strategy_vote ensemble_model_vote(double p_up);

ensemble_decision ensemble_combine(const double weights[ENSEMBLE_N_VOTERS], const ensemble_ballot *ballot,
                                   double threshold);

#endif
