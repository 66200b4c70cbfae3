/* examples/strategy_template builds out of tree exactly as its README says
 * (one cc line, flags from the uninstalled qtr-plugin.pc, and its Makefile),
 * warning-free, and the result loads into the mock host and trades. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mock_host.h"

#define MIN_MS INT64_C(60000)

static char g_src[1024], g_out[1024], g_pc[1024];

static int setup(void **st)
{
    (void)st;
    const char *src = getenv("QTR_SOURCE_DIR"), *build = getenv("QTR_BUILD_DIR");
    if (!src || !build) {
        fprintf(stderr, "QTR_SOURCE_DIR and QTR_BUILD_DIR must be set (ctest sets them)\n");
        return -1;
    }
    snprintf(g_src, sizeof g_src, "%s/examples/strategy_template", src);
    snprintf(g_out, sizeof g_out, "%s/tests/strategy_ma_cross/template_out", build);
    snprintf(g_pc, sizeof g_pc, "%s/sdk/uninstalled", build);
    mkdir(g_out, 0755);
    return 0;
}

static int run(const char *cmd)
{
    fprintf(stderr, "$ %s\n", cmd);
    return system(cmd);
}

static void feed(mock_plugin *p, int64_t open_ms, const char *close)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "XRPUSDT", sizeof c.symbol);
    c.open_time_ms = open_ms;
    c.close_time_ms = open_ms + MIN_MS - 1;
    c.open = c.high = c.low = c.close = D(close);
    p->desc->strategy->on_candle(p->state, &c);
}

/* Load `so` and check it buys after a rise of more than 1% over 5 candles. */
static void check_plugin(const char *so)
{
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, so, &p), 0);
    assert_string_equal(p.desc->name, "momentum");
    /* 1.00 for six candles: no move, no signal */
    for (int i = 0; i < 6; i++) feed(&p, i * MIN_MS, "1");
    assert_int_equal(m->n_signals, 0);
    /* 1.02 against 1.00 five candles ago: +2% > 1%: buy 100 / 1.02 */
    feed(&p, 6 * MIN_MS, "1.02");
    assert_int_equal(m->n_signals, 1);
    assert_int_equal(m->signals[0].side, QTR_SIDE_BUY);
    assert_int_equal(m->signals[0].qty, D("98.03921568"));   /* 98.0392156862... rounded down */
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

static void test_cc_line_builds_and_trades(void **st)
{
    (void)st;
    char so[1200], cmd[4096];
    snprintf(so, sizeof so, "%s/strategy_momentum_cc.so", g_out);
    remove(so);
    snprintf(cmd, sizeof cmd,
             "cc -O2 -Wall -Wextra -Werror -fPIC -fvisibility=hidden $(PKG_CONFIG_PATH='%s' pkg-config --cflags qtr-plugin) "
             "-shared '%s/strategy_momentum.c' -o '%s'",
             g_pc, g_src, so);
    assert_int_equal(run(cmd), 0);
    check_plugin(so);
}

static void test_makefile_builds_and_trades(void **st)
{
    (void)st;
    char so[1200], cmd[4096];
    snprintf(so, sizeof so, "%s/strategy_momentum_make.so", g_out);
    remove(so);
    snprintf(cmd, sizeof cmd, "PKG_CONFIG_PATH='%s' make -s -C '%s' OUT='%s' CFLAGS='-O2 -Wall -Wextra -Werror'",
             g_pc, g_src, so);
    assert_int_equal(run(cmd), 0);
    check_plugin(so);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cc_line_builds_and_trades),
        cmocka_unit_test(test_makefile_builds_and_trades),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
