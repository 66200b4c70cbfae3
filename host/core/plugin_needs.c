/* plugin_needs.c — the rule of qtr_plugin_desc.needs (plugin_needs.h). */
#include "plugin_needs.h"

#include <stdio.h>

bool qh_plugin_needs(const qtr_plugin_desc *d, uint32_t need)
{
    if (d->abi_major == 2 && d->abi_minor < 4) return true;   /* before the field */
    return (d->needs & need) == need;
}

uint32_t qh_exit_plan_needs(const qtr_exit_plan *plan)
{
    if (!plan || plan->size < offsetof(qtr_exit_plan, regime_mask) + sizeof plan->regime_mask) return 0;
    return plan->regime_mask ? QTR_NEEDS_REGIME : 0;
}

static const char *need_name(uint32_t need)
{
    switch (need) {
    case QTR_NEEDS_REGIME: return "QTR_NEEDS_REGIME";
    default: return "a QTR_NEEDS_ flag";
    }
}

void qh_plugin_needs_refusal(char *out, size_t len, const char *name, const char *service, uint32_t need)
{
    snprintf(out, len, "plugin '%s': %s refused: the plugin does not declare %s (add .needs = %s to its "
             "QTR_PLUGIN_DEFINE; docs/plugins.md)", name ? name : "?", service, need_name(need), need_name(need));
}
