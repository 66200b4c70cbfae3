/* The bundled plugins' option tables: every declaration is consistent (the
 * host would refuse the plugin otherwise), and a value outside a declared
 * range is refused by the host before the plugin's init() runs, with one line
 * naming plugin, option, value and range. Each case fails without the
 * bounds in the plugin's table (the host would pass the value on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/loader.h"
#include "core/option_check.h"

static void open_plugin(const char *file, qh_loaded *ld)
{
    const char *dir = getenv("QTR_PLUGIN_DIR");
    if (!dir) fail_msg("QTR_PLUGIN_DIR not set (ctest sets it)");
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (qh_loader_open(path, NULL, 0, ld, err, sizeof err) != 0) fail_msg("%s", err);
}

static void expect_refused(const char *file, const char *kind, const char *opts, const char *want)
{
    qh_loaded ld;
    open_plugin(file, &ld);
    char text[512], err[512] = "";
    snprintf(text, sizeof text, "return { plugins = { { kind = '%s', name = '%s', options = { %s } } } }", kind,
             ld.desc.name, opts);
    qh_config c;
    if (qh_config_load_string(text, "test.lua", "/tmp", &c, err, sizeof err) != 0) fail_msg("load: %s", err);
    int rc = qh_config_check_options(&c.plugins[0], ld.desc.options, err, sizeof err);
    qh_config_free(&c);
    qh_loader_close(&ld);
    if (!want) {
        if (rc != 0) fail_msg("%s: '%s' refused: %s", file, opts, err);
        return;
    }
    if (rc != -1 || strcmp(err, want) != 0) fail_msg("%s: '%s': got '%s', expected '%s'", file, opts, err, want);
}

static void every_bundled_table_is_consistent(void **s)
{
    (void)s;
    static const char *const files[] = { "strategy_ma_cross.so", "exchange_paper.so", "dashboard_web.so",
                                         "exchange_binance_usdm.so", "risk_policy.so" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        qh_loaded ld;
        open_plugin(files[i], &ld);
        char why[320];
        for (const qtr_option *o = ld.desc.options; o && o->name; o++)
            if (!qh_option_decl_valid(o, why, sizeof why)) fail_msg("%s: option %s: %s", files[i], o->name, why);
        qh_loader_close(&ld);
    }
}

static void ma_cross_ranges(void **s)
{
    (void)s;
    const char *f = "strategy_ma_cross.so";
    expect_refused(f, "strategy", "fast = 5, slow = 20, order_notional = '500', min_confidence = 0.5", NULL);
    expect_refused(f, "strategy", "fast = 0", "plugin ma_cross: option fast: 0 is out of range [1, 999]");
    expect_refused(f, "strategy", "slow = 100000", "plugin ma_cross: option slow: 100000 is out of range [2, 1000]");
    expect_refused(f, "strategy", "order_notional = '0'",
                   "plugin ma_cross: option order_notional: 0 is out of range: must be > 0");
    expect_refused(f, "strategy", "min_confidence = 1.5",
                   "plugin ma_cross: option min_confidence: 1.5 is out of range [0, 1]");
}

static void paper_ranges(void **s)
{
    (void)s;
    const char *f = "exchange_paper.so";
    expect_refused(f, "exchange", "taker_fee = '0.2'", "plugin paper: option taker_fee: 0.2 is out of range [0, 0.1]");
    expect_refused(f, "exchange", "maker_fee = '-0.2'",
                   "plugin paper: option maker_fee: -0.2 is out of range [-0.1, 0.1]");
    expect_refused(f, "exchange", "max_volume_share = 0",
                   "plugin paper: option max_volume_share: 0 is out of range (0, 1]");
    expect_refused(f, "exchange", "market_order_timeout_candles = -1",
                   "plugin paper: option market_order_timeout_candles: -1 is out of range [0, 1000000]");
}

static void dashboard_ranges(void **s)
{
    (void)s;
    const char *f = "dashboard_web.so";
    expect_refused(f, "dashboard", "listen = ''", "plugin dashboard: option listen: '' is 0 bytes long, out of range: must be >= 1");
    expect_refused(f, "dashboard", "batch_max_events = 0",
                   "plugin dashboard: option batch_max_events: 0 is out of range [1, 1000]");
    expect_refused(f, "dashboard", "alert_daily_drawdown_pct = '-1'",
                   "plugin dashboard: option alert_daily_drawdown_pct: -1 is out of range: must be >= 0");
}

static void binance_ranges(void **s)
{
    (void)s;
    const char *f = "exchange_binance_usdm.so";
    expect_refused(f, "exchange", "depth_limit = 50", "plugin binance_usdm: option depth_limit: 50 is out of range [5, 20]");
    expect_refused(f, "exchange", "leverage = 126", "plugin binance_usdm: option leverage: 126 is out of range [0, 125]");
    expect_refused(f, "exchange", "recv_window = 0", "plugin binance_usdm: option recv_window: 0 is out of range [1, 60000]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_bundled_table_is_consistent),
        cmocka_unit_test(ma_cross_ranges),
        cmocka_unit_test(paper_ranges),
        cmocka_unit_test(dashboard_ranges),
        cmocka_unit_test(binance_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
