/* Paper exchange: per-symbol instrument rules from an exchangeInfo file
 * (share/binance-usdm-symbols.json), applied with the live plugin's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "bn_rules.h"
#include "paper_fixture.h"

#define BUY QTR_SIDE_BUY
#define SELL QTR_SIDE_SELL
#define MKT QTR_ORDER_MARKET
#define LMT QTR_ORDER_LIMIT
#define GTC QTR_TIF_GTC
#define SHIPPED "share/binance-usdm-symbols.json"   /* tests run in the source folder */

static void start_with_rules(fx *f) { fx_start(f, "symbols_file", SHIPPED, "slippage_bps", "1", NULL); }

/* The only update of a rejected order, and its reason. */
static const char *rejected(fx *f, size_t mark, const char *cid, qtr_order_update *u)
{
    assert_int_equal(fx_updates(f, mark, cid, u, 1), 1);
    assert_int_equal(u->status, QTR_OS_REJECTED);
    return u->reason;
}

static void btc_is_priced_off_its_own_tick(void **state)
{
    (void)state;
    fx f;
    start_with_rules(&f);
    fx_candle(&f, "BTCUSDT", "43200", "43220", "43190", "43210.5", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "BTCUSDT", "b1", BUY, MKT, GTC, "0.0125", "0", false), QTR_OK);
    qtr_fill fl[2];
    assert_int_equal(fx_fills(&f, mark, "b1", fl, 2), 1);
    /* 43210.5 * 1.0001 = 43214.82105, to BTCUSDT's tick 0.1: 43214.8
     * (one tick of 0.0001 for all would give 43214.8211) */
    assert_int_equal(fl[0].price, D("43214.8"));
    /* 0.0125 down to the step 0.001 */
    assert_int_equal(fl[0].qty, D("0.012"));
    mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "BTCUSDT", "s1", SELL, MKT, GTC, "0.012", "0", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "s1", fl, 2), 1);
    assert_int_equal(fl[0].price, D("43206.2"));   /* 43210.5 * 0.9999 = 43206.17895, to the nearest 0.1 */
    fx_stop(&f);
}

static void xrp_quantities_and_limit_prices_are_rounded_as_live(void **state)
{
    (void)state;
    fx f;
    start_with_rules(&f);
    fx_candle(&f, "XRPUSDT", "1.2", "1.3", "1.1", "1.25", "1000000");
    size_t mark = f.m->n_events;
    qtr_order_update u[2];
    /* qty down to XRPUSDT's step 0.1; a buy limit down to the tick, a sell limit up */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "lb", BUY, LMT, GTC, "123.457", "1.23456", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "lb", u, 2), 1);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    assert_int_equal(u[0].qty, D("123.4"));
    assert_int_equal(u[0].price, D("1.2345"));
    assert_int_equal(fx_submit(&f, "XRPUSDT", "ls", SELL, LMT, GTC, "50.05", "1.30001", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "ls", u, 2), 1);
    assert_int_equal(u[0].qty, D("50"));
    assert_int_equal(u[0].price, D("1.3001"));
    /* DOGEUSDT: whole coins */
    fx_candle(&f, "DOGEUSDT", "0.2", "0.2", "0.2", "0.2", "1000000");
    mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "DOGEUSDT", "d", BUY, MKT, GTC, "30.9", "0", false), QTR_OK);
    qtr_fill fl[2];
    assert_int_equal(fx_fills(&f, mark, "d", fl, 2), 1);
    assert_int_equal(fl[0].qty, D("30"));
    fx_stop(&f);
}

static void minimums_and_unknown_symbols_get_the_live_refusals(void **state)
{
    (void)state;
    fx f;
    start_with_rules(&f);
    fx_candle(&f, "BTCUSDT", "43200", "43220", "43190", "43210.5", "1000");
    fx_candle(&f, "XRPUSDT", "1.2", "1.3", "1.1", "1.25", "1000000");
    fx_candle(&f, "FOOUSDT", "1", "1", "1", "1", "1000000");
    size_t mark = f.m->n_events;
    qtr_order_update u;
    /* 0.001 BTC at 43210.5 is 43.2105 USDT, below BTCUSDT's 100 */
    assert_int_equal(fx_submit(&f, "BTCUSDT", "n", BUY, MKT, GTC, "0.001", "0", false), QTR_OK);
    assert_string_equal(rejected(&f, mark, "n", &u), "notional 43.2105 is below MIN_NOTIONAL 100");
    /* a limit is valued at its own (rounded) price */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "nl", BUY, LMT, GTC, "3.9", "1.2", false), QTR_OK);
    assert_string_equal(rejected(&f, mark, "nl", &u), "notional 4.68 is below MIN_NOTIONAL 5");
    assert_int_equal(fx_submit(&f, "XRPUSDT", "q", BUY, MKT, GTC, "0.05", "0", false), QTR_OK);
    assert_string_equal(rejected(&f, mark, "q", &u), "qty 0.05 is below LOT_SIZE minQty 0.1 (step 0.1)");
    assert_int_equal(fx_submit(&f, "FOOUSDT", "x", BUY, MKT, GTC, "10", "0", false), QTR_OK);
    assert_string_equal(rejected(&f, mark, "x", &u), "unknown symbol FOOUSDT");
    /* reduce-only closes are exempt from the minimum notional, as on the exchange */
    assert_int_equal(fx_submit(&f, "BTCUSDT", "o", BUY, MKT, GTC, "0.003", "0", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "o", NULL, 0), 1);
    assert_int_equal(fx_submit(&f, "BTCUSDT", "c", SELL, MKT, GTC, "0.001", "0", true), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "c", NULL, 0), 1);
    fx_stop(&f);
}

/* The same intents through kx_rules_prepare (what the Binance plugin runs
 * before it sends) give the same refusals, word for word. */
static void refusals_match_the_live_plugins_word_for_word(void **state)
{
    (void)state;
    json_error_t je;
    json_t *root = json_load_file(SHIPPED, 0, &je);
    assert_non_null(root);
    bn_exchange_info info;
    char err[256];
    assert_int_equal(bn_exchange_info_parse(root, &info, err, sizeof err), 0);
    json_decref(root);
    struct { const char *sym, *qty, *price; qtr_order_type type; qtr_side side; } cases[] = {
        { "BTCUSDT", "0.0004", "0", MKT, BUY },      { "BTCUSDT", "0.002", "0", MKT, SELL },
        { "ETHUSDT", "0.005", "2000.01", LMT, BUY }, { "SOLUSDT", "0.001", "150", LMT, SELL },
        { "XRPUSDT", "3", "1.25", LMT, BUY },
    };
    fx f;
    start_with_rules(&f);
    fx_candle(&f, "BTCUSDT", "43200", "43220", "43190", "43210.5", "1000");
    fx_candle(&f, "ETHUSDT", "2000", "2000", "2000", "2000", "1000");
    fx_candle(&f, "SOLUSDT", "150", "150", "150", "150", "1000");
    fx_candle(&f, "XRPUSDT", "1.25", "1.25", "1.25", "1.25", "1000");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        qtr_strlcpy(o.symbol, cases[i].sym, sizeof o.symbol);
        o.side = cases[i].side;
        o.type = cases[i].type;
        o.qty = D(cases[i].qty);
        o.price = D(cases[i].price);
        qtr_candle last;
        assert_int_equal(f.m->api.get_last_candle(f.m->ctx, cases[i].sym, &last, sizeof last), QTR_OK);
        kx_prepared prep;
        char live[QTR_REASON_MAX];
        assert_int_equal(kx_rules_prepare(bn_rules_find(&info, cases[i].sym), &o, last.close, &prep, live, sizeof live), -1);
        char cid[16];
        snprintf(cid, sizeof cid, "c%zu", i);
        size_t mark = f.m->n_events;
        assert_int_equal(fx_submit(&f, cases[i].sym, cid, cases[i].side, cases[i].type, GTC, cases[i].qty, cases[i].price,
                                   false), QTR_OK);
        qtr_order_update u;
        assert_string_equal(rejected(&f, mark, cid, &u), live);
    }
    bn_exchange_info_free(&info);
    fx_stop(&f);
}

static void a_bad_symbols_file_is_refused_with_its_place(void **state)
{
    (void)state;
    fx f;
    const char *missing[] = { "symbols_file", "/nonexistent/symbols.json", NULL };
    assert_int_not_equal(fx_try_start(&f, missing), 0);
    assert_non_null(strstr(f.m->last_log, "option 'symbols_file': /nonexistent/symbols.json"));
    fx_stop(&f);

    char path[] = "/tmp/qtr-paper-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "{\"symbols\":[\n{\"symbol\":\"XRPUSDT\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\",\n"
                      "\"filters\":[{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.1\",\"maxQty\":\"0\",\"stepSize\":\"0.1\"}]},\n"
                      "{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\",\"filters\":[]}]}\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    const char *opts[] = { "symbols_file", path, NULL };
    assert_int_not_equal(fx_try_start(&f, opts), 0);
    assert_non_null(strstr(f.m->last_log, "BTCUSDT: LOT_SIZE.stepSize missing or zero"));
    fx_stop(&f);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"symbols\":\n[,]}", 16), 16);
    close(fd);
    assert_int_not_equal(fx_try_start(&f, opts), 0);
    char where[PATH_MAX + 8];
    snprintf(where, sizeof where, "%s:2:", path);
    assert_non_null(strstr(f.m->last_log, where));
    fx_stop(&f);
    unlink(path);
}

/* Without a symbols_file the one tick and step are said once, as a warning
 * naming both and where the shipped rules are; with one, nothing is warned. */
static void without_rules_the_one_tick_and_step_are_warned(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "price_tick", "0.01", NULL);
    assert_int_equal(f.m->n_logs_warn, 1);
    assert_non_null(strstr(f.m->last_log, "no symbols_file: every symbol trades on the tick 0.01 (price_tick) and "
                                          "the lot step 0.001 (min_qty_step)"));
    assert_non_null(strstr(f.m->last_log, "/usr/share/quantum-trader/binance-usdm-symbols.json"));
    fx_stop(&f);

    start_with_rules(&f);
    assert_int_equal(f.m->n_logs_warn, 0);
    assert_non_null(strstr(f.m->last_log, "instrument rules of 11 symbols from " SHIPPED));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(btc_is_priced_off_its_own_tick),
        cmocka_unit_test(xrp_quantities_and_limit_prices_are_rounded_as_live),
        cmocka_unit_test(minimums_and_unknown_symbols_get_the_live_refusals),
        cmocka_unit_test(refusals_match_the_live_plugins_word_for_word),
        cmocka_unit_test(a_bad_symbols_file_is_refused_with_its_place),
        cmocka_unit_test(without_rules_the_one_tick_and_step_are_warned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
