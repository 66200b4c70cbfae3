/* Fuzz target: the decimal parser of sdk/include/qtr/money.h against the
 * reference parser of tests/core/dec_reference.c (exact, digit strings, no
 * 128-bit arithmetic), in strict mode and every rounding mode: same status,
 * same value, and a refusal never writes its output. Then, for each value it
 * accepts, formatting and parsing back gives the same value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec_reference.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        setenv("CMOCKA_TEST_ABORT", "1", 1);   /* a failed check aborts */
        once = 1;
    }
    const char *text = (const char *)data;
    dec_agree(text, size);
    qtr_dec v = 0;
    if (qtr_dec_parse(text, size, &v) == QTR_DEC_OK) {
        char buf[QTR_DEC_STRLEN];
        const char *s = qtr_dec_format(v, buf);
        qtr_dec back = 0;
        FUZZ_CHECK(qtr_dec_parse(s, strlen(s), &back) == QTR_DEC_OK && back == v, "'%s' does not read back as %lld",
                   s, (long long)v);
    }
    return 0;
}
