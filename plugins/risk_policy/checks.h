/* The policy's limits applied to one order, in a fixed order, each with its
 * reason code; and the combination with the policy's own judge(). */
#ifndef RP_CHECKS_H
#define RP_CHECKS_H

#include <qtr/plugin.h>

#include "context.h"

typedef struct rp_verdict {
    qtr_risk_verdict verdict;
    qtr_dec qty;                       /* the quantity to send (APPROVE/RESIZE)     */
    char reason[QTR_REASON_MAX];       /* a reason code                              */
    char detail[QTR_TEXT_MAX];         /* the figures behind it, for the log         */
} rp_verdict;

/* True if o is reduce-only and shrinks the position it faces: such orders
 * skip every entry limit (they must always be able to close). */
bool rp_is_closing(const qtr_order_intent *o, qtr_dec position_qty);

/* The limits, in order: symbol_not_allowed, min_confidence, max_positions,
 * max_symbols, max_order_notional, max_position_notional,
 * max_total_exposure, max_leverage, funding_rate, spread, depth. A reject
 * stops at once; resizes carry the smaller quantity on. */
void rp_check_limits(const qtr_policy_limits *lim, const qtr_order_intent *o, const rp_inputs *in,
                     rp_verdict *v);

/* Merge the policy judge's answer into v: the stricter wins (reject beats
 * resize, the smaller resize wins). judge_rc is what policy_judge returned. */
void rp_combine_judge(rp_verdict *v, int judge_rc, const qtr_risk_decision *judged);

#endif
