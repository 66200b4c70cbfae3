/* Fuzz target: the Binance plugin's JSON reader (bn_jread, its only one),
 * differentially against a jansson oracle that reads the plugin's own field
 * tables from a tree: both must accept and refuse the same documents with
 * the same words, and read the same fields
 * (tests/exchange_binance_usdm/jread_diff.c holds the check and the five
 * known jansson quirks it adjusts for). userTrades is read all or nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "jread_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        /* a failed cmocka assertion outside a cmocka test aborts */
        setenv("CMOCKA_TEST_ABORT", "1", 1);
        once = 1;
    }
    if (size > JREAD_DIFF_MAX) return 0;
    oracle_stats st = { 0 };
    jread_diff_one((const char *)data, size, &st);
    return 0;
}
