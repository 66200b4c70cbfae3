/* config_sections.c — see config_sections.h. */
#include "core/config_sections.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define AT(member) offsetof(qh_config, member)
#define SIZE(member) sizeof(((qh_config *)0)->member)

/* ---- rules a table cannot say ---- */

static const char *symbol_rule(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) return "is not a symbol like BTCUSDT";
    return n < 2 || n >= QTR_SYMBOL_MAX ? "is not a symbol like BTCUSDT" : NULL;
}

static const char *client_id_prefix_rule(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return "only a-z, 0-9 and - (at most 15)";
    return NULL;
}

/* ---- the top level ---- */

static const char *const modes[] = { "paper", "live", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };

static const qh_conf_field top_fields[] = {
    { .opt = { .name = "mode", .type = QTR_OPT_STRING, .default_value = "paper", .allowed = modes,
               .help = "live sends orders to a real exchange plugin" },
      .store = QH_CONF_CHOICE, .offset = AT(live), .size = SIZE(live) },
    { .opt = { .name = "log_level", .type = QTR_OPT_STRING, .default_value = "info", .allowed = log_levels },
      .store = QH_CONF_STR, .offset = AT(log_level), .size = SIZE(log_level) },
    { .opt = { .name = "state_dir", .type = QTR_OPT_STRING, .default_value = "./var",
               .help = "ESS state and the trade store" },
      .store = QH_CONF_STR, .offset = AT(state_dir), .size = SIZE(state_dir) },
    { .opt = { .name = "plugin_path", .type = QTR_OPT_STRING_LIST, .help = "folders searched first for plugins" },
      .store = QH_CONF_LIST, .offset = AT(plugin_path), .count_offset = AT(n_plugin_path) },
    { .opt = { .name = "client_id_prefix", .type = QTR_OPT_STRING, .default_value = "qtr", .min = "1", .max = "15",
               .help = "client order ids are <prefix>-<run>-<n>" },
      .store = QH_CONF_STR, .offset = AT(client_id_prefix), .size = SIZE(client_id_prefix),
      .text_rule = client_id_prefix_rule },
    { .opt = { .name = NULL } },
};

/* Read by their own tables or hooks in config.c. */
static const char *const top_also[] = { "market", "account", "policy", "signals", "store", "ess", "plugins",
                                        "caps", "host_id", "role", "bus", "regime", NULL };

const qh_conf_section qh_section_top = { .name = "", .fields = top_fields, .also = top_also };

/* ---- market ---- */

static const char *const sources[] = { "synthetic", "csv", "exchange", NULL };

static const qh_conf_field market_fields[] = {
    { .opt = { .name = "source", .type = QTR_OPT_STRING, .default_value = "synthetic", .allowed = sources,
               .help = "where candles come from in qtr run" },
      .store = QH_CONF_CHOICE, .offset = AT(market.source), .size = SIZE(market.source),
      .choice_base = QH_MARKET_SYNTHETIC },
    { .opt = { .name = "symbols", .type = QTR_OPT_STRING_LIST, .help = "synthetic market symbols" },
      .store = QH_CONF_LIST, .offset = AT(market.symbols), .count_offset = AT(market.n_symbols),
      .text_rule = symbol_rule },
    { .opt = { .name = "interval_ms", .type = QTR_OPT_INT, .default_value = "1000", .min = "1", .max = "604800000",
               .help = "synthetic candle length (and pace)" },
      .store = QH_CONF_I64, .offset = AT(market.interval_ms) },
    { .opt = { .name = "seed", .type = QTR_OPT_INT, .default_value = "42", .min = "0",
               .help = "synthetic market seed: same seed, same market" },
      .store = QH_CONF_U64, .offset = AT(market.seed) },
    { .opt = { .name = "files", .type = QTR_OPT_STRING_LIST, .help = "csv source: candle files" },
      .store = QH_CONF_LIST, .offset = AT(market.files), .count_offset = AT(market.n_files) },
    { .opt = { .name = "start_price", .type = QTR_OPT_DECIMAL, .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
               .help = "synthetic starting price; unset: each symbol's default" },
      .store = QH_CONF_DEC, .offset = AT(market.start_price) },
    { .opt = { .name = "replay_interval_ms", .type = QTR_OPT_INT, .min = "0", .max = "3600000",
               .help = "csv source in qtr run: ms between candles" },
      .store = QH_CONF_I64, .offset = AT(market.replay_interval_ms) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_market = { .name = "market", .fields = market_fields };

/* ---- account ---- */

static const qh_conf_field account_fields[] = {
    { .opt = { .name = "starting_balance", .type = QTR_OPT_DECIMAL, .default_value = "10000", .min = "0",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "paper account" },
      .store = QH_CONF_DEC, .offset = AT(starting_balance) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_account = { .name = "account", .fields = account_fields };

/* ---- policy ---- */

static const qh_conf_field policy_fields[] = {
    { .opt = { .name = "file", .type = QTR_OPT_STRING, .help = "the risk policy; unset: the built-in default" },
      .store = QH_CONF_STR, .offset = AT(policy.file), .size = SIZE(policy.file) },
    { .opt = { .name = "reload_interval_s", .type = QTR_OPT_INT, .default_value = "600", .min = "1", .max = "604800" },
      .store = QH_CONF_I64, .offset = AT(policy.reload_interval_ms), .scale = 1000 },
    { .opt = { .name = "mem_limit_kb", .type = QTR_OPT_INT, .min = "256", .max = "1048576",
               .help = "the policy sandbox's memory cap; unset: 16384" },
      .store = QH_CONF_SIZE, .offset = AT(policy.mem_limit_bytes), .scale = 1024 },
    { .opt = { .name = "instr_limit", .type = QTR_OPT_INT, .min = "1000", .max = "1000000000",
               .help = "instructions per policy call; unset: 1000000" },
      .store = QH_CONF_U64, .offset = AT(policy.instr_limit) },
    { .opt = { .name = "time_limit_ms", .type = QTR_OPT_INT, .min = "1", .max = "10000",
               .help = "wall-clock deadline of one policy call; unset: 100" },
      .store = QH_CONF_I64, .offset = AT(policy.time_limit_ms) },
    { .opt = { .name = "alloc_limit_kb", .type = QTR_OPT_INT, .min = "256", .max = "4194304",
               .help = "bytes one policy call may allocate; unset: 65536" },
      .store = QH_CONF_SIZE, .offset = AT(policy.alloc_limit_bytes), .scale = 1024 },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_policy = { .name = "policy", .fields = policy_fields };

/* ---- signals ---- */

static const qh_conf_field signals_fields[] = {
    { .opt = { .name = "capacity", .type = QTR_OPT_INT, .default_value = "100", .min = "1", .max = "100000" },
      .store = QH_CONF_SIZE, .offset = AT(signals.capacity) },
    { .opt = { .name = "per_cycle", .type = QTR_OPT_INT, .default_value = "10", .min = "1", .max = "256" },
      .store = QH_CONF_SIZE, .offset = AT(signals.per_cycle) },
    { .opt = { .name = "max_age_ms", .type = QTR_OPT_INT, .default_value = "5000", .min = "1", .max = "86400000" },
      .store = QH_CONF_I64, .offset = AT(signals.max_age_ms) },
    { .opt = { .name = "cycle_ms", .type = QTR_OPT_INT, .default_value = "100", .min = "1", .max = "60000" },
      .store = QH_CONF_I64, .offset = AT(signals.cycle_ms) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_signals = { .name = "signals", .fields = signals_fields };

/* ---- store (or store = false), ess ---- */

static const qh_conf_field store_fields[] = {
    { .opt = { .name = "path", .type = QTR_OPT_STRING, .help = "the trade store; unset: <state_dir>/qtr.db" },
      .store = QH_CONF_STR, .offset = AT(store.path), .size = SIZE(store.path) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_store = { .name = "store", .fields = store_fields };

static const qh_conf_field ess_fields[] = {
    { .opt = { .name = "state_file", .type = QTR_OPT_STRING,
               .help = "the ESS state; unset: <state_dir>/ess.state" },
      .store = QH_CONF_STR, .offset = AT(ess_state_file), .size = SIZE(ess_state_file) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_ess = { .name = "ess", .fields = ess_fields };

/* ---- regime (the per-symbol classifier; docs/indicators.md) ---- */

static const qh_conf_field regime_fields[] = {
    { .opt = { .name = "adx_period", .type = QTR_OPT_INT, .default_value = "14", .min = "2", .max = "5000" },
      .store = QH_CONF_I64, .offset = AT(regime.adx_period) },
    { .opt = { .name = "atr_period", .type = QTR_OPT_INT, .default_value = "14", .min = "1", .max = "5000" },
      .store = QH_CONF_I64, .offset = AT(regime.atr_period) },
    { .opt = { .name = "vol_period", .type = QTR_OPT_INT, .default_value = "20", .min = "2", .max = "5000",
               .help = "returns in the volatility window" },
      .store = QH_CONF_I64, .offset = AT(regime.vol_period) },
    { .opt = { .name = "trend_adx", .type = QTR_OPT_DECIMAL, .default_value = "25", .min = "0", .max = "100",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "ADX that starts a trend" },
      .store = QH_CONF_DEC, .offset = AT(regime.trend_adx) },
    { .opt = { .name = "trend_adx_exit", .type = QTR_OPT_DECIMAL, .default_value = "20", .min = "0", .max = "100",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "ADX below which a trend ends (at most trend_adx)" },
      .store = QH_CONF_DEC, .offset = AT(regime.trend_adx_exit) },
    { .opt = { .name = "volatile_atr_pct", .type = QTR_OPT_DECIMAL, .default_value = "3", .min = "0", .max = "1000",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "ATR in percent of the close: VOLATILE from here" },
      .store = QH_CONF_DEC, .offset = AT(regime.volatile_atr_pct) },
    { .opt = { .name = "volatile_vol_pct", .type = QTR_OPT_DECIMAL, .default_value = "2.5", .min = "0", .max = "1000",
               .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "deviation of returns in percent: VOLATILE from here" },
      .store = QH_CONF_DEC, .offset = AT(regime.volatile_vol_pct) },
    { .opt = { .name = "confirm", .type = QTR_OPT_INT, .default_value = "2", .min = "1", .max = "100",
               .help = "candles a new regime must hold before it is reported" },
      .store = QH_CONF_I64, .offset = AT(regime.confirm) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_regime = { .name = "regime", .fields = regime_fields };

/* ---- plugins[i]: one plugin to load (its options: config.c) ---- */

#define PLUGIN_AT(member) offsetof(qh_plugin_conf, member)
#define PLUGIN_SIZE(member) sizeof(((qh_plugin_conf *)0)->member)

static const char *const kinds[] = { "strategy", "risk", "exchange", "dashboard", NULL };   /* from QTR_KIND_STRATEGY */
_Static_assert(QTR_KIND_STRATEGY + 1 == QTR_KIND_RISK && QTR_KIND_RISK + 1 == QTR_KIND_EXCHANGE &&
                   QTR_KIND_EXCHANGE + 1 == QTR_KIND_DASHBOARD,
               "plugins[i].kind's names follow qtr_kind");
static const char *const plugin_also[] = { "options", NULL };

static const qh_conf_field plugin_fields[] = {
    { .opt = { .name = "kind", .type = QTR_OPT_STRING, .allowed = kinds, .flags = QTR_OPT_REQUIRED,
               .help = "strategy, risk, exchange or dashboard" },
      .store = QH_CONF_CHOICE, .offset = PLUGIN_AT(kind), .size = PLUGIN_SIZE(kind), .choice_base = QTR_KIND_STRATEGY },
    { .opt = { .name = "name", .type = QTR_OPT_STRING, .min = "1", .flags = QTR_OPT_REQUIRED,
               .help = "the plugin's name: <kind>_<name>.so on the plugin path" },
      .store = QH_CONF_STR, .offset = PLUGIN_AT(name), .size = PLUGIN_SIZE(name) },
    { .opt = { .name = "file", .type = QTR_OPT_STRING, .help = "an explicit .so instead of the name's" },
      .store = QH_CONF_STR, .offset = PLUGIN_AT(file), .size = PLUGIN_SIZE(file) },
    { .opt = { .name = "required", .type = QTR_OPT_BOOL, .default_value = "true",
               .help = "false: a plugin that fails to load or start is left out" },
      .store = QH_CONF_BOOL, .offset = PLUGIN_AT(required) },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_plugin = { .name = "plugins[]", .fields = plugin_fields, .also = plugin_also };
