/*
 * plugin_needs — which plugin may use a service it must declare
 * (qtr_plugin_desc.needs, SDK 2.4). One compiled rule, used by the host's
 * services and by the mock host plugins are tested with, so a plugin that
 * passes its tests is not refused live, nor in a backtest.
 */
#ifndef QH_PLUGIN_NEEDS_H
#define QH_PLUGIN_NEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

/* Every QTR_NEEDS_ bit this host knows: the loader refuses a plugin that
 * declares another (it asks for something the host could not grant). */
#define QH_NEEDS_KNOWN QTR_NEEDS_REGIME

/* Whether the plugin of descriptor d (the loader's zero-extended copy)
 * declares need (QTR_NEEDS_*). A plugin built before 2.4 could not
 * declare anything: it is taken to need everything, as it did then. */
bool qh_plugin_needs(const qtr_plugin_desc *d, uint32_t need);

/* What an exit plan needs declared: QTR_NEEDS_REGIME when it has a
 * regime_mask (within the size it was built with), else 0. */
uint32_t qh_exit_plan_needs(const qtr_exit_plan *plan);

/* The one-line refusal of `service` to the plugin `name` that did not
 * declare `need`, naming what to add to its descriptor. */
void qh_plugin_needs_refusal(char *out, size_t len, const char *name, const char *service, uint32_t need);

#endif
