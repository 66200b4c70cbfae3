/*
 * strategy_target — move a symbol's position to a target, for the strategy
 * plugins in this tree (ma_cross, breakout, mean_reversion compile it in;
 * a strategy built out of tree copies these two files).
 *
 * Sizing counts the orders still open or in flight (the host's exposure),
 * so a target is never overshot while fills are delayed. A move across
 * zero (a flip, or going flat) is a reduce-only close of the WHOLE position
 * (its exact quantity as the host reports it, less what orders in flight
 * already close) and then, if the target is not flat, a separate entry: if
 * risk resizes the entry, the old side is still closed exactly and no dust
 * of it is left. A move that only shrinks a position is one reduce-only
 * order; one that opens or grows it, one plain order. All are market GTC.
 */
#ifndef QTR_STRATEGY_TARGET_H
#define QTR_STRATEGY_TARGET_H

#include <qtr/plugin.h>

/* Submit what takes `symbol` to the signed quantity `target` (0: flat).
 * `signals`, if not NULL, counts each signal queued. Returns the number of
 * signals queued; if the close is not queued the entry is not sent (it would
 * only net against the old side). */
int strategy_go_to_target(const qtr_host *host, qtr_ctx *ctx, qtr_metric *signals, const char *symbol,
                          qtr_dec target, double confidence, const char *reason);

#endif
