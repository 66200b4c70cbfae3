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

#include <lua.h>

#include <qtr/money.h>

typedef struct qh_policy_caps {
    qtr_dec max_order_notional;      /* limits.max_order_notional <= this     */
    qtr_dec max_position_notional;   /* limits.max_position_notional <= this  */
    int32_t max_leverage;            /* limits.max_leverage <= this           */
    qtr_dec ess_max_drawdown_pct;    /* ess.max_drawdown_pct <= this          */
} qh_policy_caps;

/* Where a bad cap is ("caps.max_leverage") and what is wrong with it. */
typedef struct qh_caps_error {
    char where[48];
    char why[200];
} qh_caps_error;

/* Read the `caps` table at idx of L (the config's sandbox). 0, or -1 with
 * *e filled. Nothing is read from metatables. */
int qh_config_caps_parse(lua_State *L, int idx, qh_policy_caps *out, qh_caps_error *e);

#endif
