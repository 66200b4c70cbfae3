/* Fuzz target: the candle CSV reader (host/market/csv.c). Whatever the bytes,
 * the reader either refuses them with a "name:line: reason" message or
 * returns candles that keep every rule the reader promises: positive low,
 * low <= open, close <= high, volume >= 0, open times strictly increasing and
 * each candle closing before the next opens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "market/candles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qh_candle_vec v = { 0 };
    char err[512] = "";
    int rc = qh_csv_parse("fuzz.csv", (const char *)data, size, "FUZZUSDT", &v, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(strncmp(err, "fuzz.csv:", 9) == 0, "refusal without file:line: '%s'", err);
        qh_candle_vec_free(&v);
        return 0;
    }
    FUZZ_CHECK(v.len > 0, "accepted with no candle");
    for (size_t i = 0; i < v.len; i++) {
        const qtr_candle *c = &v.items[i];
        FUZZ_CHECK(strcmp(c->symbol, "FUZZUSDT") == 0, "candle %zu: symbol '%s'", i, c->symbol);
        FUZZ_CHECK(c->low > 0 && c->low <= c->high, "candle %zu: low/high", i);
        FUZZ_CHECK(c->open >= c->low && c->open <= c->high, "candle %zu: open outside [low, high]", i);
        FUZZ_CHECK(c->close >= c->low && c->close <= c->high, "candle %zu: close outside [low, high]", i);
        FUZZ_CHECK(c->volume >= 0, "candle %zu: negative volume", i);
        FUZZ_CHECK(c->close_time_ms >= c->open_time_ms, "candle %zu: closes before it opens", i);
        if (i > 0) {
            FUZZ_CHECK(c->open_time_ms > v.items[i - 1].close_time_ms, "candle %zu overlaps the one before", i);
        }
    }
    qh_candle_vec_free(&v);
    return 0;
}
