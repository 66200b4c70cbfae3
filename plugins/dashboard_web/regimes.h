/* regimes — the latest REGIME event of each symbol the dashboard has seen,
 * for GET /api/status ("regimes") and the page's Regimes panel. Events only
 * come on a change, so a page that opens later reads them here. Fixed size:
 * past REGIMES_MAX symbols a new one is counted, not kept. */
#ifndef DASH_REGIMES_H
#define DASH_REGIMES_H

#include <stddef.h>

#include <qtr/events.h>

#include "json_encode.h"

#define REGIMES_MAX 64

typedef struct regimes {
    qtr_regime_event items[REGIMES_MAX];
    size_t n;
    size_t dropped;   /* symbols past REGIMES_MAX */
} regimes;

/* Keep ev if it is a REGIME event (others are ignored). */
void regimes_on_event(regimes *r, const qtr_event *ev);
/* [regime event...] in first-seen order. */
void regimes_write(const regimes *r, jw *w);

#endif
