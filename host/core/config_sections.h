/*
 * The server config's sections as declared tables (core/config_table.h):
 * types, defaults, ranges and allowed values of every key of qh_config,
 * in one place. docs/config.md describes the same keys.
 */
#ifndef QH_CONFIG_SECTIONS_H
#define QH_CONFIG_SECTIONS_H

#include "core/config_table.h"

extern const qh_conf_section qh_section_top;       /* mode, log_level, state_dir, ... */
extern const qh_conf_section qh_section_market;
extern const qh_conf_section qh_section_account;
extern const qh_conf_section qh_section_policy;
extern const qh_conf_section qh_section_signals;
extern const qh_conf_section qh_section_store;
extern const qh_conf_section qh_section_ess;
extern const qh_conf_section qh_section_regime;
extern const qh_conf_section qh_section_caps;      /* over a qh_policy_caps (config_caps.c) */
extern const qh_conf_section qh_section_plugin;    /* over one qh_plugin_conf: plugins[i] */

#endif
