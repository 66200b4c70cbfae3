/* exits_json — a symbol's exit plan and its live state (qtr_exit_state,
 * qtr/exits.h) as the JSON of GET /api/exits: money and prices as decimal
 * strings, bps and times as integers, names as the SDK spells them. */
#ifndef DASH_EXITS_JSON_H
#define DASH_EXITS_JSON_H

#include <qtr/plugin.h>

#include "json_encode.h"

void jw_exit_state(jw *w, const qtr_exit_state *s);

#endif
