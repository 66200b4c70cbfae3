/* What the risk step knows about the account and market when it judges one
 * order, gathered from host queries. */
#ifndef RP_CONTEXT_H
#define RP_CONTEXT_H

#include <qtr/plugin.h>

/* Enough for any real account; a host that returns this many is refused
 * (the counts would be incomplete, and so unsafe). */
#define RP_MAX_POSITIONS 256
#define RP_MAX_ORDERS 256

typedef struct rp_inputs {
    qtr_risk_context rc;
    qtr_dec exec_price;        /* price the order is valued at: the higher of market and its own prices */
    qtr_dec exposure_other;    /* exposure of every other symbol                */
    bool symbol_has_order;     /* an open order rests in the order's symbol     */
} rp_inputs;

/* Scratch buffers, kept in the plugin state so a check does not allocate. */
typedef struct rp_scratch {
    qtr_position positions[RP_MAX_POSITIONS];
    qtr_order_update orders[RP_MAX_ORDERS];
} rp_scratch;

/* Fill *in for order o. NULL on success, else a reason code ("no_account",
 * "no_price", "context_incomplete") with an explanation in detail. */
const char *rp_build_inputs(const qtr_host *h, qtr_ctx *ctx, const qtr_order_intent *o, rp_scratch *scratch,
                            rp_inputs *in, char *detail, size_t detail_len);

/* Notional of qty at price, rounded up (a risk figure errs high); saturates. */
qtr_dec rp_notional(qtr_dec qty, qtr_dec price);

#endif
