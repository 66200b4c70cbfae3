/* risk_policy — kept so configs that name `{ kind = "risk", name = "policy" }`
 * still load. The host itself enforces the active policy on every order
 * (limits, judge() and the ESS: host/policy/policy_enforce.c), whatever
 * risk plugins are loaded, so this plugin adds no check of its own: it
 * approves what the policy approved. A risk plugin can only refuse or
 * shrink an order after the policy; see docs/plugins.md. */
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct rp_state {
    const qtr_host *h;
    qtr_ctx *ctx;
} rp_state;

static int rp_init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    rp_state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->h = h;
    s->ctx = ctx;
    /* tell the operator once: the entry can go from the config */
    h->log(ctx, QTR_LOG_INFO, "the host enforces the risk policy itself; this plugin adds no check");
    *out = s;
    return 0;
}

static void rp_destroy(void *state) { free(state); }

static void rp_check_order(void *state, const qtr_order_intent *o, qtr_risk_decision *out)
{
    (void)state;
    memset(out, 0, sizeof *out);
    out->verdict = QTR_RISK_APPROVE;
    out->qty = o ? o->qty : 0;
    /* the literal with its NUL, copied whole: on every order, where
     * qtr_strlcpy's byte loop cost ~100 instructions */
    static const char reason[] = "policy_enforced_by_host";
    _Static_assert(sizeof reason <= sizeof out->reason, "the reason fits its field");
    memcpy(out->reason, reason, sizeof reason);
}

static const qtr_option rp_options[] = { { .name = NULL } };
static const qtr_risk_ops rp_ops = { .size = sizeof rp_ops, .check_order = rp_check_order };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_RISK, .name = "policy", .version = "2.0.0",
                  .description = "No check of its own: the host enforces the risk policy on every order",
                  .options = rp_options, .init = rp_init, .destroy = rp_destroy, .risk = &rp_ops);
