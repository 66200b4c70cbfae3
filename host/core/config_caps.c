/* config_caps.c — the `caps` table of the server config (see config_caps.h),
 * declared like the other sections (core/config_table.h): its keys, types
 * and ranges are checked by the one table reader. */
#include "core/config_caps.h"

#include <stddef.h>

#include "core/config_sections.h"

#define AT(member) offsetof(qh_policy_caps, member)

/* A cap is never needed: each one is off (0) unless given, and a given one
 * must be > 0 (leave it out for no cap). Decimals are strings or integers,
 * never Lua floats. max_leverage's ceiling is the policy's own (1-125,
 * policy_validate.c); a drawdown is a percentage. */
static const qh_conf_field caps_fields[] = {
    { .opt = { .name = "max_order_notional", .type = QTR_OPT_DECIMAL, .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
               .help = "most limits.max_order_notional may be" },
      .store = QH_CONF_DEC, .offset = AT(max_order_notional) },
    { .opt = { .name = "max_position_notional", .type = QTR_OPT_DECIMAL, .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
               .help = "most limits.max_position_notional may be" },
      .store = QH_CONF_DEC, .offset = AT(max_position_notional) },
    { .opt = { .name = "max_leverage", .type = QTR_OPT_INT, .min = "1", .max = "125",
               .help = "most limits.max_leverage may be" },
      .store = QH_CONF_I32, .offset = AT(max_leverage) },
    { .opt = { .name = "ess_max_drawdown_pct", .type = QTR_OPT_DECIMAL, .min = "0", .max = "100",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "most ess.max_drawdown_pct may be" },
      .store = QH_CONF_DEC, .offset = AT(ess_max_drawdown_pct) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_caps = { .name = "caps", .fields = caps_fields };
