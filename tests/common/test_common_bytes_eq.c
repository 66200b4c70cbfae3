/* qc_bytes_eq (common/include/qc/bytes_eq.h): for every length 1..40, equal
 * buffers compare equal and a difference at any one position is seen (every
 * path: 1-3 bytes, 4-7, whole words, the overlapping last word); bytes past
 * n do not count, and the buffers are allocated at exactly n bytes, so a
 * sanitizer build catches a read past them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qc/bytes_eq.h"

static void test_each_length_and_position(void **st)
{
    (void)st;
    for (size_t n = 1; n <= 40; n++) {
        char *a = malloc(n), *b = malloc(n);
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++) a[i] = b[i] = (char)('A' + i % 26);
        assert_true(qc_bytes_eq(a, b, n));
        for (size_t at = 0; at < n; at++) {
            b[at] ^= 0x20;
            assert_false(qc_bytes_eq(a, b, n));
            assert_false(qc_bytes_eq(b, a, n));
            b[at] ^= 0x20;
        }
        free(a);
        free(b);
    }
}

/* Only the first n bytes count: names in fields with different bytes after
 * their NUL compare equal over len + 1 bytes, and unequal when one is a
 * prefix of the other. */
static void test_only_first_n_bytes(void **st)
{
    (void)st;
    char x[24] = "S01USDT", y[24];
    memset(y, 0x7f, sizeof y);
    memcpy(y, "S01USDT", 8);
    assert_true(qc_bytes_eq(x, y, 8));
    assert_false(qc_bytes_eq(x, y, 9));
    memcpy(y, "S01USDTX", 9);
    assert_false(qc_bytes_eq(x, y, 8));   /* "S01USDT" is a prefix of y */
    memcpy(y, "S01", 4);
    assert_false(qc_bytes_eq(x, y, 8));   /* y a prefix of "S01USDT" */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_length_and_position),
        cmocka_unit_test(test_only_first_n_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
