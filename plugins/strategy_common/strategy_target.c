/* strategy_target: see strategy_target.h. */
#include "strategy_target.h"

#include <string.h>

#include "qc/field_copy.h"   /* the signal is zeroed: its text copied as qtr_strlcpy would, faster */

/* Queue one market signal; false if the host did not take it. */
static bool send_signal(const qtr_host *host, qtr_ctx *ctx, qtr_metric *signals, const char *symbol, qtr_dec delta,
                        bool reduce_only, double confidence, const char *reason)
{
    qtr_signal sig;
    memset(&sig, 0, sizeof sig);
    qc_copy_into_zeroed(sig.symbol, symbol, sizeof sig.symbol);
    sig.side = delta > 0 ? QTR_SIDE_BUY : QTR_SIDE_SELL;
    sig.type = QTR_ORDER_MARKET;
    sig.tif = QTR_TIF_GTC;
    sig.qty = qtr_dec_abs(delta);
    sig.price = 0;
    sig.reduce_only = reduce_only;
    sig.confidence = confidence;
    qc_copy_into_zeroed(sig.reason, reason, sizeof sig.reason);
    int rc = host->submit_signal(ctx, &sig);
    if (rc == QTR_OK) {
        if (signals) host->metric_add(signals, 1);
        return true;
    }
    host->log(ctx, QTR_LOG_WARN, "%s: signal not queued (%s)", symbol, rc == QTR_EFULL ? "throttled" : "refused");
    return false;
}

/* The signed position (0 if none) and where it goes once the orders open
 * or in flight are done (`projected`). Every 2.x host has the exposure
 * service; without it, the position only. */
static qtr_dec current_qty(const qtr_host *host, qtr_ctx *ctx, const char *symbol, qtr_dec *projected)
{
    if (QTR_HOST_HAS(host, get_exposure)) {
        qtr_exposure x = QTR_SIZED(qtr_exposure);
        if (host->get_exposure(ctx, symbol, &x) == QTR_OK) {
            *projected = x.projected;
            return x.position;
        }
    }
    qtr_position pos;
    qtr_dec q = host->get_position(ctx, symbol, &pos, sizeof pos) == QTR_OK ? pos.qty : 0;
    *projected = q;
    return q;
}

int strategy_go_to_target(const qtr_host *host, qtr_ctx *ctx, qtr_metric *signals, const char *symbol,
                          qtr_dec target, double confidence, const char *reason)
{
    qtr_dec projected, have = current_qty(host, ctx, symbol, &projected), delta;
    if (!qtr_dec_sub(target, projected, &delta) || delta == 0) return 0;   /* already there, or going */

    if (have != 0 && qtr_dec_sign(have) != qtr_dec_sign(target)) {
        /* Close all of the position that orders in flight are not already
         * closing (with none in flight: exactly the position). */
        qtr_dec pending = projected - have;   /* both bounded by the host: no overflow */
        qtr_dec closing = qtr_dec_sign(pending) == -qtr_dec_sign(have) ? qtr_dec_abs(pending) : 0;
        qtr_dec close_qty = qtr_dec_abs(have) > closing ? qtr_dec_abs(have) - closing : 0;
        qtr_dec close_delta = have > 0 ? -close_qty : close_qty;
        int sent = 0;
        if (close_qty != 0) {
            if (!send_signal(host, ctx, signals, symbol, close_delta, true, confidence, reason)) return 0;
            sent++;
        }
        qtr_dec entry = target - (projected + close_delta);
        if (entry != 0 && send_signal(host, ctx, signals, symbol, entry, false, confidence, reason)) sent++;
        return sent;
    }
    /* Reduce-only when the order shrinks the position without crossing
     * zero; otherwise it opens or grows one. */
    bool reduce_only = have != 0 && projected != 0 && qtr_dec_sign(delta) != qtr_dec_sign(have) &&
                       qtr_dec_sign(projected) == qtr_dec_sign(have) && qtr_dec_abs(delta) <= qtr_dec_abs(projected);
    return send_signal(host, ctx, signals, symbol, delta, reduce_only, confidence, reason) ? 1 : 0;
}
