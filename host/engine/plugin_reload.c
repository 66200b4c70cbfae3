/* plugin_reload.c — an operator's reload reaches the strategies that re-read
 * files of their own (qtr_strategy_ops.reload: a model). */
#include "engine/engine_internal.h"

#include "core/log.h"

void qh_engine_reload_plugins(qh_engine *e)
{
    for (size_t i = 0; i < e->n_plugins; i++) {
        qh_plugin_rt *p = &e->plugins[i];
        /* the loader's copy is zero-extended: NULL for an older plugin */
        if (p->ld.desc.kind != QTR_KIND_STRATEGY || !p->inited || p->stopped || !p->ld.strategy.reload) continue;
        qh_info("host", "reloading plugin %s", p->ld.desc.name);
        p->ld.strategy.reload(p->state);
    }
}
