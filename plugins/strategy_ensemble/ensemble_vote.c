/* ensemble_vote: see ensemble_vote.h for the formula. */
#include "ensemble_vote.h"

#include <math.h>

strategy_vote ensemble_model_vote(double p_up)
{
    double v = 2.0 * p_up - 1.0;
    return (strategy_vote){ v > 0 ? 1 : v < 0 ? -1 : 0, fabs(v) };
}

ensemble_decision ensemble_combine(const double weights[ENSEMBLE_N_VOTERS], const ensemble_ballot *ballot,
                                   double threshold)
{
    double sum = 0, total = 0;
    for (int i = 0; i < ENSEMBLE_N_VOTERS; i++) {
        if (!ballot->present[i] || weights[i] <= 0) continue;
        sum += weights[i] * ballot->vote[i].side * ballot->vote[i].confidence;
        total += weights[i];
    }
    ensemble_decision d = { 0 };
    if (total <= 0) return d;
    d.decided = true;
    d.score = sum / total;
    d.confidence = 0.5 + 0.5 * fabs(d.score);
    d.side = fabs(d.score) >= threshold && d.score != 0 ? (d.score > 0 ? 1 : -1) : 0;
    return d;
}
