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

/* What publish() does with a plugin's event before the bus sees it: the
 * rule above, then *copy made the host's (flags cleared: a plugin's event is
 * live, never a replay; an alert's source set to plugin_name, so none poses
 * as the host). NULL when admitted; else why not, and copy is untouched. */
const char *qh_publish_admit(qtr_kind kind, bool active_exchange, const char *plugin_name, qtr_event *copy);

#endif
