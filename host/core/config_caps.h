/*
 * Hard caps from the server config (`caps = { ... }`, docs/config.md): the
 * most any risk policy may allow. A policy file whose limits go beyond one is
 * refused at load (initial or hot reload) with its file:line, and the last
 * good policy stays: only a config change, which needs a restart, can raise
 * a cap. A cap of 0 is no cap.
 */
#ifndef QH_CONFIG_CAPS_H
#define QH_CONFIG_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

typedef struct qh_policy_caps {
    qtr_dec max_order_notional;      /* limits.max_order_notional <= this     */
    qtr_dec max_position_notional;   /* limits.max_position_notional <= this  */
    int32_t max_leverage;            /* limits.max_leverage <= this           */
    qtr_dec ess_max_drawdown_pct;    /* ess.max_drawdown_pct <= this          */
} qh_policy_caps;

/* The `caps` section (over a qh_policy_caps) is declared in config_caps.c
 * as qh_section_caps (core/config_sections.h). */

#endif
