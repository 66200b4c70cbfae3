/* The engine's market cache (host/engine/market.c): each symbol's last
 * candle lands in its own entry whatever order the symbols come in (a
 * backtest's round robin, one symbol repeated, a new symbol mid-way, an
 * irregular order), and a name that only shares a prefix finds nothing.
 * qh_market_get guesses the next symbol (market/symbol_cycle.h) before the
 * index: a wrong guess must still land on the right entry. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_fixture.h"

static void expect_close(efx *f, const char *symbol, qtr_dec close)
{
    qtr_candle c;
    assert_int_equal(f->e->api.get_last_candle(qh_engine_host_ctx(f->e), symbol, &c, sizeof c), QTR_OK);
    assert_string_equal(c.symbol, symbol);
    assert_true(c.close == close);
    const qh_market_sym *m = qh_market_get(f->e, symbol, false);
    assert_non_null(m);
    assert_string_equal(m->symbol, symbol);
    assert_true(m->candle.close == close);
}

static void each_symbol_its_own_entry(void **state)
{
    (void)state;
    efx *f = efx_new();
    static const char *const order[] = {
        "AUSDT", "BUSDT", "CUSDT",              /* first seen */
        "AUSDT", "BUSDT", "CUSDT",              /* round robin */
        "CUSDT", "CUSDT",                       /* one repeated */
        "BUSDT", "AUSDT",                       /* backwards */
        "DUSDT",                                /* new mid-way */
        "AUSDT", "DUSDT", "BUSDT", "BUSDT", "CUSDT",
    };
    qtr_dec last[4] = { 0 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        qtr_dec px = QTR_DEC_INT(100 + (int64_t)i);
        efx_price(f, order[i], px);
        last[order[i][0] - 'A'] = px;
        expect_close(f, order[i], px);
    }
    expect_close(f, "AUSDT", last[0]);
    expect_close(f, "BUSDT", last[1]);
    expect_close(f, "CUSDT", last[2]);
    expect_close(f, "DUSDT", last[3]);
    /* a prefix or an extension of a known name is another symbol */
    assert_null(qh_market_get(f->e, "AUSD", false));
    assert_null(qh_market_get(f->e, "AUSDTX", false));
    assert_null(qh_market_get(f->e, NULL, false));
    qtr_candle c;
    assert_int_equal(f->e->api.get_last_candle(qh_engine_host_ctx(f->e), "EUSDT", &c, sizeof c), QTR_ENOTFOUND);
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_symbol_its_own_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
