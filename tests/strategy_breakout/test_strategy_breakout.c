/* strategy_breakout, loaded from its .so into the mock host, against a short
 * series worked out by hand: the channel warms up, a close above the
 * previous channel buys with the documented confidence and size, a repeat
 * breakout on the same side does nothing, a close below flips with a
 * reduce-only close of exactly the position and a separate entry; the
 * host refuses options out of their declared range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "mock_host.h"

#define T0 INT64_C(1704067200000)
#define MIN_MS INT64_C(60000)

static int load(mock_host **m, mock_plugin *p, const char *const *opts)
{
    *m = mock_host_new(false);
    for (size_t i = 0; opts && opts[i]; i += 2) mock_host_set_option(*m, opts[i], opts[i + 1]);
    return mock_plugin_load(*m, mock_plugin_path("strategy_breakout"), p);
}

static void feed(mock_plugin *p, int i, const char *high, const char *low, const char *close)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "XRPUSDT", sizeof c.symbol);
    c.open_time_ms = T0 + i * MIN_MS;
    c.close_time_ms = c.open_time_ms + MIN_MS - 1;
    c.open = D(close);
    c.high = D(high);
    c.low = D(low);
    c.close = D(close);
    c.volume = QTR_DEC_INT(1);
    p->desc->strategy->on_candle(p->state, &c);
}

/* period 3. high / low / close:
 *   1: 10   9    9.5
 *   2: 11   9   10
 *   3: 10.5 8.5  9     channel of 1-3: upper 11, lower 8.5 (first value)
 *   4: 12  10   11.5   11.5 > 11: long. confidence 0.5 + 0.5 * 0.5/2.5 = 0.6,
 *                      size 100 / 11.5 = 8.69565217 (rounded down)
 *   5: 12.5 11  12.2   channel of 2-4: 12 / 8.5; 12.2 > 12 but long already
 *   6: 9    8    8.2   channel of 3-5: 12.5 / 8.5; 8.2 < 8.5: short.
 *                      confidence 0.5 + 0.5 * 0.3/4 = 0.5375,
 *                      size 100 / 8.2 = 12.19512195 */
static void test_hand_computed_series(void **unused)
{
    (void)unused;
    mock_host *m;
    mock_plugin p;
    const char *const opts[] = { "period", "3", NULL };
    assert_int_equal(load(&m, &p, opts), 0);
    feed(&p, 1, "10", "9", "9.5");
    feed(&p, 2, "11", "9", "10");
    feed(&p, 3, "10.5", "8.5", "9");
    assert_int_equal(m->n_signals, 0);   /* warming up, then inside */
    feed(&p, 4, "12", "10", "11.5");
    assert_int_equal(m->n_signals, 1);
    assert_int_equal(m->signals[0].side, QTR_SIDE_BUY);
    assert_int_equal(m->signals[0].qty, D("8.69565217"));
    assert_false(m->signals[0].reduce_only);
    assert_true(fabs(m->signals[0].confidence - 0.6) < 1e-12);
    assert_non_null(strstr(m->signals[0].reason, "above the 3-candle channel"));

    /* the long fills */
    memset(&m->positions[0], 0, sizeof m->positions[0]);
    qtr_strlcpy(m->positions[0].symbol, "XRPUSDT", sizeof m->positions[0].symbol);
    m->positions[0].qty = D("8.69565217");
    m->n_positions = 1;

    feed(&p, 5, "12.5", "11", "12.2");
    assert_int_equal(m->n_signals, 1);
    feed(&p, 6, "9", "8", "8.2");
    assert_int_equal(m->n_signals, 3);
    assert_int_equal(m->signals[1].side, QTR_SIDE_SELL);   /* close, exactly */
    assert_int_equal(m->signals[1].qty, D("8.69565217"));
    assert_true(m->signals[1].reduce_only);
    assert_int_equal(m->signals[2].side, QTR_SIDE_SELL);   /* entry */
    assert_int_equal(m->signals[2].qty, D("12.19512195"));
    assert_false(m->signals[2].reduce_only);
    assert_true(fabs(m->signals[2].confidence - 0.5375) < 1e-12);
    assert_int_equal(mock_host_metric(m, "breakout_signals_total", NULL), 3);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* min_confidence 0.7 skips the 0.6 breakout of the same series. */
static void test_min_confidence_skips(void **unused)
{
    (void)unused;
    mock_host *m;
    mock_plugin p;
    const char *const opts[] = { "period", "3", "min_confidence", "0.7", NULL };
    assert_int_equal(load(&m, &p, opts), 0);
    feed(&p, 1, "10", "9", "9.5");
    feed(&p, 2, "11", "9", "10");
    feed(&p, 3, "10.5", "8.5", "9");
    feed(&p, 4, "12", "10", "11.5");
    assert_int_equal(m->n_signals, 0);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* Ranges are declared in the option table; the host refuses before init. */
static void test_options_out_of_range_refused(void **unused)
{
    (void)unused;
    static const char *const bad[][3] = {
        { "period", "1", NULL }, { "period", "1001", NULL },
        { "order_notional", "0", NULL }, { "min_confidence", "1.5", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mock_host *m;
        mock_plugin p;
        memset(&p, 0, sizeof p);
        assert_int_not_equal(load(&m, &p, bad[i]), 0);
        if (p.dl) mock_plugin_unload(m, &p);
        mock_host_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_series),
        cmocka_unit_test(test_min_confidence_skips),
        cmocka_unit_test(test_options_out_of_range_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
