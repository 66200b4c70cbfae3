/* risk_policy — the risk plugin that applies the host's active policy: its
 * limits (checks.c) over the account and market (context.c), then the
 * policy's own judge(). Every verdict is counted by reason. */
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

#include "checks.h"
#include "context.h"

#define RP_METRIC "risk_decisions_total"
#define RP_METRIC_CACHE 48

typedef struct rp_state {
    const qtr_host *h;
    qtr_ctx *ctx;
    rp_scratch scratch;
    /* Counters by reason, looked up once: reasons from judge() are the
     * policy author's, so the cache is bounded and falls back to the host. */
    struct { char reason[QTR_REASON_MAX]; qtr_metric *m; } metrics[RP_METRIC_CACHE];
    size_t n_metrics;
} rp_state;

static int rp_init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    /* Every service a check needs must be there: judging blind is not an option. */
    if (!QTR_HOST_HAS(h, log)) return -1;
    if (!QTR_HOST_HAS(h, policy_limits) || !QTR_HOST_HAS(h, policy_judge) || !QTR_HOST_HAS(h, get_account) ||
        !QTR_HOST_HAS(h, get_position) || !QTR_HOST_HAS(h, list_positions) ||
        !QTR_HOST_HAS(h, list_open_orders) || !QTR_HOST_HAS(h, get_mark_price) ||
        !QTR_HOST_HAS(h, get_last_candle) || !QTR_HOST_HAS(h, get_book_top) ||
        !QTR_HOST_HAS(h, metric_counter) || !QTR_HOST_HAS(h, metric_add)) {
        h->log(ctx, QTR_LOG_ERROR, "risk_policy: the host lacks a service this plugin needs");
        return -1;
    }
    rp_state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->h = h;
    s->ctx = ctx;
    *out = s;
    return 0;
}

static void rp_destroy(void *state) { free(state); }

static void count(rp_state *s, const char *reason)
{
    for (size_t i = 0; i < s->n_metrics; i++)
        if (strcmp(s->metrics[i].reason, reason) == 0) {
            s->h->metric_add(s->metrics[i].m, 1);
            return;
        }
    qtr_metric *m = s->h->metric_counter(s->ctx, RP_METRIC, "Risk verdicts by reason", "reason", reason);
    if (!m) return;
    if (s->n_metrics < RP_METRIC_CACHE) {
        qtr_strlcpy(s->metrics[s->n_metrics].reason, reason, sizeof s->metrics[0].reason);
        s->metrics[s->n_metrics++].m = m;
    }
    s->h->metric_add(m, 1);
}

static void finish(rp_state *s, const qtr_order_intent *o, const rp_verdict *v, qtr_risk_decision *out)
{
    memset(out, 0, sizeof *out);
    out->verdict = v->verdict;
    out->qty = v->verdict == QTR_RISK_REJECT ? 0 : v->qty;
    qtr_strlcpy(out->reason, v->reason, sizeof out->reason);
    count(s, v->reason);
    if (v->verdict != QTR_RISK_APPROVE) {
        char q[QTR_DEC_STRLEN], nq[QTR_DEC_STRLEN];
        s->h->log(s->ctx, QTR_LOG_INFO, "%s %s %s qty %s%s%s: %s (%s)",
                  v->verdict == QTR_RISK_REJECT ? "reject" : "resize", o->symbol, qtr_side_name(o->side),
                  qtr_dec_format(o->qty, q), v->verdict == QTR_RISK_RESIZE ? " -> " : "",
                  v->verdict == QTR_RISK_RESIZE ? qtr_dec_format(v->qty, nq) : "", v->reason, v->detail);
    }
}

static void reject(rp_verdict *v, const char *reason, const char *detail)
{
    v->verdict = QTR_RISK_REJECT;
    v->qty = 0;
    qtr_strlcpy(v->reason, reason, sizeof v->reason);
    qtr_strlcpy(v->detail, detail, sizeof v->detail);
}

static bool order_malformed(const qtr_order_intent *o)
{
    return !o->symbol[0] || !memchr(o->symbol, '\0', sizeof o->symbol) || o->qty <= 0 ||
           (o->side != QTR_SIDE_BUY && o->side != QTR_SIDE_SELL) || o->price < 0 || o->stop_price < 0;
}

static void rp_check_order(void *state, const qtr_order_intent *o, qtr_risk_decision *out)
{
    rp_state *s = state;
    rp_verdict v;
    memset(&v, 0, sizeof v);
    if (!o || order_malformed(o)) {
        static const qtr_order_intent none;
        reject(&v, "invalid_order", "symbol, side or quantity missing or out of range");
        finish(s, o ? o : &none, &v, out);
        return;
    }
    /* Closing must never depend on a policy being loaded or agreeing. */
    qtr_position pos;
    if (o->reduce_only && s->h->get_position(s->ctx, o->symbol, &pos) == QTR_OK && rp_is_closing(o, pos.qty)) {
        v.verdict = QTR_RISK_APPROVE;
        v.qty = o->qty;
        qtr_strlcpy(v.reason, "reduce_only", sizeof v.reason);
        finish(s, o, &v, out);
        return;
    }
    qtr_policy_limits lim;
    if (s->h->policy_limits(s->ctx, &lim) != QTR_OK) {
        reject(&v, "no_policy", "no risk policy is loaded");
        finish(s, o, &v, out);
        return;
    }
    rp_inputs in;
    char detail[QTR_TEXT_MAX] = "";
    const char *missing = rp_build_inputs(s->h, s->ctx, o, &s->scratch, &in, detail, sizeof detail);
    if (missing) {
        reject(&v, missing, detail);
        finish(s, o, &v, out);
        return;
    }
    rp_check_limits(&lim, o, &in, &v);
    if (v.verdict != QTR_RISK_REJECT) {
        /* judge() sees the order as it would be sent. */
        qtr_order_intent sized = *o;
        sized.qty = v.qty;
        in.rc.order_notional = rp_notional(v.qty, in.exec_price);
        qtr_risk_decision judged;
        memset(&judged, 0, sizeof judged);
        int rc = s->h->policy_judge(s->ctx, &sized, &in.rc, &judged);
        judged.reason[sizeof judged.reason - 1] = '\0';
        rp_combine_judge(&v, rc, &judged);
    }
    finish(s, o, &v, out);
}

static void rp_health(void *state, qtr_health *out)
{
    rp_state *s = state;
    qtr_policy_limits lim;
    memset(out, 0, sizeof *out);
    if (s->h->policy_limits(s->ctx, &lim) != QTR_OK) {
        out->status = QTR_HEALTH_DEGRADED;
        qtr_strlcpy(out->reason, "no risk policy loaded: every entry is rejected", sizeof out->reason);
        return;
    }
    out->status = QTR_HEALTH_OK;
    lim.name[sizeof lim.name - 1] = '\0';
    qtr_strlcpy(out->reason, "policy ", sizeof out->reason);
    strncat(out->reason, lim.name, sizeof out->reason - strlen(out->reason) - 1);
}

static const qtr_option rp_options[] = { { .name = NULL } };
static const qtr_risk_ops rp_ops = { .size = sizeof rp_ops, .check_order = rp_check_order };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_RISK, .name = "policy", .version = "1.0.0",
                  .description = "Applies the active risk policy's limits and judge() to every order",
                  .options = rp_options, .init = rp_init, .destroy = rp_destroy, .health = rp_health,
                  .risk = &rp_ops);
