/* qc_copy_into_zeroed (common/include/qc/field_copy.h): over a zeroed field
 * of cap bytes, every source length from empty to past cap ends as
 * qtr_strlcpy leaves it: the first min(len, cap - 1) bytes, then zeros to
 * the end (a NUL always within the field); NULL copies nothing; bytes after
 * the field are untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qc/field_copy.h"

static void test_every_length_against_the_cut(void **st)
{
    (void)st;
    for (size_t cap = 1; cap <= 40; cap++) {
        for (size_t len = 0; len <= cap + 5; len++) {
            char src[64], field[48];
            for (size_t i = 0; i < len; i++) src[i] = (char)('A' + i % 26);
            src[len] = '\0';
            memset(field, 0, cap);
            memset(field + cap, 0x5a, sizeof field - cap);   /* past the field: must stay */
            qc_copy_into_zeroed(field, src, cap);
            size_t kept = len < cap - 1 ? len : cap - 1;
            assert_memory_equal(field, src, kept);
            for (size_t i = kept; i < cap; i++) assert_int_equal(field[i], 0);
            for (size_t i = cap; i < sizeof field; i++) assert_int_equal(field[i], 0x5a);
        }
    }
    char field[8] = { 0 };
    qc_copy_into_zeroed(field, NULL, sizeof field);
    for (size_t i = 0; i < sizeof field; i++) assert_int_equal(field[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_length_against_the_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
