/* policy_tables.c — see policy_tables.h. The ranges here are the ones
 * docs/policies.md states (its limits and ess tables). */
#include "policy/policy_tables.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define AT(member) offsetof(qh_policy_read, member)
#define SIZE(member) sizeof(((qh_policy_read *)0)->member)

/* ---- rules a table cannot say ---- */

static const char *symbol_rule(const char *s)
{
    size_t n = strlen(s);
    bool ok = n >= 2 && n <= 20;
    for (size_t i = 0; ok && i < n; i++) ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
    return ok ? NULL : "is not a symbol: 2 to 20 of A-Z and 0-9, such as \"BTCUSDT\"";
}

static const char *name_rule(const char *s)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return "use letters, digits, '_', '-' and '.'";
    }
    return NULL;
}

#define POSITIVE_DEC(key, member, what)                                                                   \
    { .opt = { .name = key, .type = QTR_OPT_DECIMAL, .min = "0", .flags = QTR_OPT_REQUIRED | QTR_OPT_MIN_EXCLUSIVE, \
               .help = what },                                                                          \
      .store = QH_CONF_DEC, .offset = AT(member) }
#define OPTIONAL_DEC(key, member, what)                                                                   \
    { .opt = { .name = key, .type = QTR_OPT_DECIMAL, .min = "0", .help = what },                          \
      .store = QH_CONF_DEC, .offset = AT(member) }
#define PERCENT(key, member, what)                                                                        \
    { .opt = { .name = key, .type = QTR_OPT_DECIMAL, .min = "0", .max = "100",                            \
               .flags = QTR_OPT_REQUIRED | QTR_OPT_MIN_EXCLUSIVE, .help = what },                         \
      .store = QH_CONF_DEC, .offset = AT(member) }
#define COUNT(key, member, max_text, what)                                                                \
    { .opt = { .name = key, .type = QTR_OPT_INT, .min = "1", .max = max_text, .flags = QTR_OPT_REQUIRED,   \
               .help = what },                                                                          \
      .store = QH_CONF_I32, .offset = AT(member) }

/* ---- limits ---- */

static const qh_conf_field limits_fields[] = {
    { .opt = { .name = "symbols", .type = QTR_OPT_STRING_LIST, .max = "64",
               .help = "a list of symbols such as {\"BTCUSDT\"}; absent or empty: any" },
      .store = QH_CONF_LIST, .offset = AT(symbols), .count_offset = AT(n_symbols), .text_rule = symbol_rule },
    COUNT("max_positions", rules.max_positions, "1000", "an integer from 1 to 1000: open positions at once"),
    COUNT("max_symbols", rules.max_symbols, "1000", "an integer from 1 to 1000: symbols with a position or order"),
    { .opt = { .name = "min_confidence", .type = QTR_OPT_DOUBLE, .min = "0", .max = "1", .flags = QTR_OPT_REQUIRED,
               .help = "a number from 0 to 1 (a score, not money)" },
      .store = QH_CONF_DOUBLE, .offset = AT(rules.min_confidence) },
    POSITIVE_DEC("max_position_notional", rules.max_position_notional, "a decimal string such as \"100\": USDT in one symbol"),
    POSITIVE_DEC("max_order_notional", rules.max_order_notional, "a decimal string such as \"100\": USDT in one order"),
    POSITIVE_DEC("max_total_exposure", rules.max_total_exposure, "a decimal string such as \"100\": USDT over all positions"),
    COUNT("max_leverage", rules.max_leverage, "125", "an integer from 1 to 125"),
    OPTIONAL_DEC("max_abs_funding_rate", rules.max_abs_funding_rate, "a decimal string; \"0\" or absent: off"),
    OPTIONAL_DEC("max_spread_bps", rules.max_spread_bps, "a decimal string; \"0\" or absent: off"),
    OPTIONAL_DEC("min_depth_notional", rules.min_depth_notional, "a decimal string; \"0\" or absent: off"),
    { .opt = { .name = NULL } },
};

static const qh_conf_section limits_section = { .name = "limits", .fields = limits_fields };

/* ---- ess ---- */

static const qh_conf_field ess_fields[] = {
    PERCENT("max_drawdown_pct", rules.ess_max_drawdown_pct, "a decimal string, 0 < x <= 100: % below the equity peak"),
    PERCENT("daily_loss_pct", rules.ess_daily_loss_pct, "a decimal string, 0 < x <= 100: % lost since the UTC day began"),
    COUNT("max_consecutive_errors", rules.ess_max_consecutive_errors, "1000", "an integer from 1 to 1000"),
    { .opt = { .name = "cooldown_minutes", .type = QTR_OPT_INT, .min = "1", .max = "10080", .flags = QTR_OPT_REQUIRED,
               .help = "an integer from 1 to 10080 (a week)" },
      .store = QH_CONF_I64, .offset = AT(rules.ess_cooldown_ms), .scale = 60000 },
    { .opt = { .name = "close_positions", .type = QTR_OPT_BOOL, .flags = QTR_OPT_REQUIRED, .help = "true or false" },
      .store = QH_CONF_BOOL, .offset = AT(rules.ess_close_positions) },
    PERCENT("alert_daily_drawdown_pct", rules.alert_daily_drawdown_pct, "a decimal string, 0 < x <= 100"),
    { .opt = { .name = NULL } },
};

static const qh_conf_section ess_section = { .name = "ess", .fields = ess_fields };

/* ---- the top level ---- */

static const char *const money_kinds[] = { "text", "dec", NULL };

static const qh_conf_field top_fields[] = {
    { .opt = { .name = "name", .type = QTR_OPT_STRING, .min = "1", .max = "31", .flags = QTR_OPT_REQUIRED,
               .help = "a string such as name = \"phase1\"" },
      .store = QH_CONF_STR, .offset = AT(rules.name), .size = SIZE(rules.name), .text_rule = name_rule },
    { .opt = { .name = "description", .type = QTR_OPT_STRING, .help = "optional text" }, .store = QH_CONF_CHECK },
    { .opt = { .name = "limits", .flags = QTR_OPT_REQUIRED, .help = "a table" },
      .store = QH_CONF_TABLE, .section = &limits_section },
    { .opt = { .name = "ess", .flags = QTR_OPT_REQUIRED, .help = "a table" },
      .store = QH_CONF_TABLE, .section = &ess_section },
    /* how judge() gets money: decimal strings (the default) or dec values */
    { .opt = { .name = "money", .type = QTR_OPT_STRING, .allowed = money_kinds,
               .help = "\"text\" (decimal strings, the default) or \"dec\" (dec values)" },
      .store = QH_CONF_CHOICE, .offset = AT(rules.money_dec), .size = SIZE(rules.money_dec) },
    { .opt = { .name = NULL } },
};

/* checked after the read: a function is no table value */
static const char *const top_also[] = { "judge", NULL };

const qh_conf_section qh_policy_section = { .name = "", .fields = top_fields, .also = top_also };
