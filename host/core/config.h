/*
 * Server configuration: a Lua file returning a table (docs/config.md).
 *
 *   return {
 *     mode = "paper",                      -- "paper" or "live"
 *     log_level = "info",
 *     state_dir = "./var",                 -- ESS state, trade store
 *     plugin_path = { "/opt/qtr/plugins" },
 *     market = { source = "synthetic", symbols = { "BTCUSDT" }, interval_ms = 1000, seed = 42 },
 *     account = { starting_balance = "10000" },
 *     policy = { file = "policies/default.lua", reload_interval_s = 600 },
 *     signals = { capacity = 100, per_cycle = 10, max_age_ms = 5000, cycle_ms = 100 },
 *     plugins = {
 *       { kind = "exchange", name = "paper", options = { taker_fee = "0.0004" } },
 *       { kind = "strategy", name = "ma_cross", options = { fast = 10, slow = 30 } },
 *       { kind = "risk", name = "policy" },
 *       { kind = "dashboard", name = "dashboard", required = false },
 *     },
 *   }
 *
 * The file runs in the host's one sandbox, config kind (policy/sandbox.h):
 * base, string, table and math, and of os only os.getenv; no io, require,
 * load, dofile or binary chunks, a memory, instruction and time cap. Syntax
 * and runtime errors carry file:line. Every field is checked: an
 * unknown key, a wrong type or an out-of-range value is refused with its path
 * ("plugins[2].options.fast: expected an integer"). Money is given as decimal
 * strings (or integers), never as Lua floats. Relative paths are taken from
 * the config file's folder.
 */
#ifndef QH_CONFIG_H
#define QH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

#include "bus/bus_config.h"
#include "core/config_caps.h"

typedef enum qh_optv_type {
    QH_OPTV_STRING = 1,
    QH_OPTV_INT,
    QH_OPTV_NUMBER,   /* a Lua float */
    QH_OPTV_BOOL,
    QH_OPTV_LIST      /* an array of strings */
} qh_optv_type;

typedef struct qh_optval {
    char *name;
    qh_optv_type type;
    char *str;        /* STRING; also the text of INT */
    char *path;       /* STRING: str relative to the config file's folder, as
                         a QTR_OPT_PATH option is handed to its plugin */
    int64_t i;
    double num;
    bool b;
    char **list;
    size_t n_list;
} qh_optval;

typedef struct qh_plugin_conf {
    qtr_kind kind;
    char name[QTR_NAME_MAX];
    char file[512];   /* explicit file, or "" for <kind>_<name>.so on the path */
    bool required;
    qh_optval *opts;
    size_t n_opts;
} qh_plugin_conf;

typedef enum qh_market_source {
    QH_MARKET_SYNTHETIC = 1,
    QH_MARKET_CSV,
    QH_MARKET_EXCHANGE   /* the exchange plugin publishes market data */
} qh_market_source;

typedef struct qh_config {
    char path[512];           /* "(built-in default)" for the embedded one */
    char dir[512];            /* base for relative paths */
    bool live;                /* mode = "live" */
    char log_level[16];
    char state_dir[512];
    char **plugin_path;
    size_t n_plugin_path;
    struct {
        qh_market_source source;
        char **symbols;
        size_t n_symbols;
        int64_t interval_ms;
        uint64_t seed;
        char **files;
        size_t n_files;
        qtr_dec start_price;   /* synthetic: 0 means each symbol's default */
        int64_t replay_interval_ms; /* csv in `qtr run`: ms between candles */
    } market;
    qtr_dec starting_balance;
    struct {
        char file[512];
        int64_t reload_interval_ms;
        size_t mem_limit_bytes;
        uint64_t instr_limit;
        int64_t time_limit_ms;      /* per judge() call; 0: the policy engine's default */
        size_t alloc_limit_bytes;   /* bytes one call may allocate; 0: the default */
    } policy;
    struct {
        size_t capacity, per_cycle;
        int64_t max_age_ms, cycle_ms;
    } signals;
    struct {
        char path[512];       /* default <state_dir>/qtr.db; "" with store = false */
        bool disabled;
        bool backtest_requested;  /* `qtr backtest --store FILE`: a new store of its own */
    } store;
    char ess_state_file[512];
    struct {                  /* the regime classifier (qtr/regime_classifier.h) */
        int64_t adx_period, atr_period, vol_period, confirm;
        qtr_dec trend_adx, trend_adx_exit, volatile_atr_pct, volatile_vol_pct;
    } regime;
    qh_policy_caps caps;      /* hard caps no policy may loosen (core/config_caps.h) */
    qh_bus_config bus;        /* host_id, role, bus (bus/bus_config.h, docs/bus.md) */
    char client_id_prefix[16];
    qh_plugin_conf *plugins;
    size_t n_plugins;
} qh_config;

/* 0 on success; -1 with one line "where: what" in err. */
int qh_config_load_file(const char *path, qh_config *out, char *err, size_t errlen);
int qh_config_load_string(const char *text, const char *name, const char *dir, qh_config *out, char *err,
                          size_t errlen);
void qh_config_free(qh_config *cfg);

/* The built-in configurations: `qtr run` and `qtr backtest` without -c. */
const char *qh_config_default_run(void);
const char *qh_config_default_backtest(void);

/* Check a plugin's configured options against its declared option table:
 * unknown names, wrong types and missing required options are refused. */
int qh_config_check_options(const qh_plugin_conf *pc, const qtr_option *decl, char *err, size_t errlen);

/* Resolve a path from the config against its folder (absolute paths stay). */
void qh_config_resolve(const qh_config *cfg, const char *path, char *out, size_t outlen);

#endif
