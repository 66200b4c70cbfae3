/*
 * publish_rule — who may publish which event type through qtr_host.publish,
 * read from the event registry (qtr/event_types.h). One compiled function,
 * used by the host's publish() and by the mock host that plugins are tested
 * with, so a plugin that passes its tests is not refused live.
 */
#ifndef QH_PUBLISH_RULE_H
#define QH_PUBLISH_RULE_H

#include <stdbool.h>

#include <qtr/plugin.h>

/* NULL if a plugin of this kind may publish ev; else why not, one line.
 * active_exchange: the plugin is the exchange the host trades on. */
const char *qh_publish_refusal(qtr_kind kind, bool active_exchange, const qtr_event *ev);

#endif
