/* regimes.c — see regimes.h. */
#include "regimes.h"

#include <string.h>

void regimes_on_event(regimes *r, const qtr_event *ev)
{
    if (ev->type != QTR_EV_REGIME) return;
    const qtr_regime_event *e = &ev->u.regime;
    for (size_t i = 0; i < r->n; i++)   /* a few dozen symbols, a change now and then: a scan is enough */
        if (strncmp(r->items[i].symbol, e->symbol, sizeof e->symbol) == 0) {
            r->items[i] = *e;
            return;
        }
    if (r->n == REGIMES_MAX) {
        r->dropped++;
        return;
    }
    r->items[r->n++] = *e;
}

void regimes_write(const regimes *r, jw *w)
{
    jw_begin_array(w);
    for (size_t i = 0; i < r->n; i++) jw_regime_event(w, &r->items[i]);
    jw_end_array(w);
}
