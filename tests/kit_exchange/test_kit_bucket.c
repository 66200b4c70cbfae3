/* The kit's token buckets (kx_bucket) on a simulated clock: no window of the interval ever sees
 * more than the limit, waits are exact, and server counts only tighten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kx_bucket.h"

/* Take one token whenever possible, every 100 us for 3.5 intervals, and
 * check every sliding window of one interval. */
static void no_window_exceeds_the_limit(void **state)
{
    (void)state;
    const int64_t limit = 120, interval_ms = 1000, burst = 50;
    kx_bucket b;
    kx_bucket_init(&b, limit, interval_ms, burst, 0);
    int64_t *times = malloc(sizeof(int64_t) * 1000);
    size_t n = 0;
    for (int64_t t = 0; t < 3500000 && n < 1000; t += 100)
        if (kx_bucket_take(&b, 1, t)) {
            kx_bucket_answered(&b, 1);
            times[n++] = t;
        }
    size_t worst = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (times[i] - times[j] >= interval_ms * 1000) j++;
        if (i - j + 1 > worst) worst = i - j + 1;
    }
    assert_true(worst <= (size_t)limit);
    /* and it is not idle: over 3.5 s it used most of what it may */
    assert_true(n >= (size_t)(burst + 2 * (limit - burst)));
    free(times);
}

static void wait_is_exact(void **state)
{
    (void)state;
    kx_bucket b;
    kx_bucket_init(&b, 20, 1000, 10, 0); /* cap 10, refill 10 per second: one per 100 ms */
    for (int i = 0; i < 10; i++) assert_true(kx_bucket_take(&b, 1, 0));
    assert_false(kx_bucket_take(&b, 1, 0));
    int64_t w = kx_bucket_wait_us(&b, 1, 0);
    assert_int_equal(w, 100000);
    assert_false(kx_bucket_take(&b, 1, w - 1));
    assert_true(kx_bucket_take(&b, 1, w));
    /* a weight of 3 needs 300 ms more */
    assert_int_equal(kx_bucket_wait_us(&b, 3, w), 300000);
}

static void heavy_request_waits_for_a_full_bucket(void **state)
{
    (void)state;
    kx_bucket b;
    kx_bucket_init(&b, 100, 1000, 5, 0); /* cap 5: a weight 40 call can never have 40 tokens */
    assert_true(kx_bucket_take(&b, 40, 0)); /* full: allowed, goes negative */
    assert_false(kx_bucket_take(&b, 1, 0));
    /* -35 back to +5 needs 40 tokens at 95/s */
    int64_t w = kx_bucket_wait_us(&b, 40, 0);
    assert_int_equal(w, (40 * 1000000 + 94) / 95);
    assert_true(kx_bucket_take(&b, 40, w));
}

static void server_count_tightens_never_loosens(void **state)
{
    (void)state;
    kx_bucket b;
    kx_bucket_init(&b, 100, 60000, 50, 0);
    assert_int_equal(kx_bucket_tokens(&b, 0), 50);
    kx_bucket_observe_used(&b, 90, 0); /* others used 90 of 100: only 10 left */
    assert_int_equal(kx_bucket_tokens(&b, 0), 10);
    kx_bucket_observe_used(&b, 5, 0);  /* a lower count does not add tokens */
    assert_int_equal(kx_bucket_tokens(&b, 0), 10);
    /* requests in flight are not in the server's count yet */
    assert_true(kx_bucket_take(&b, 4, 0));
    kx_bucket_observe_used(&b, 90, 0);
    assert_int_equal(kx_bucket_tokens(&b, 0), 6);
    kx_bucket_answered(&b, 4);
    kx_bucket_observe_used(&b, 120, 0); /* over the limit: must wait */
    assert_true(kx_bucket_tokens(&b, 0) < 0);
    assert_false(kx_bucket_take(&b, 1, 0));
}

/* Refill: (limit - cap) tokens per interval, pro rata and without drift
 * (the remainder of each step is carried), never past the capacity. */
static void refill_is_pro_rata_and_capped(void **state)
{
    (void)state;
    kx_bucket b;
    kx_bucket_init(&b, 30, 1000, 10, 0);          /* cap 10, refill 20 per s */
    assert_true(kx_bucket_take(&b, 10, 0));
    kx_bucket_answered(&b, 10);
    assert_int_equal(kx_bucket_tokens(&b, 0), 0);
    assert_int_equal(kx_bucket_tokens(&b, 100000), 2);  /* 0.1 s: 2 tokens */
    /* 1000 steps of 333 us: 0.333 s = 6.66 tokens; no step alone adds one
     * whole token's worth of rounding: the carried remainder adds up */
    kx_bucket_init(&b, 30, 1000, 10, 0);
    assert_true(kx_bucket_take(&b, 10, 0));
    for (int64_t t = 333; t <= 333000; t += 333) kx_bucket_refill(&b, t);
    assert_int_equal(b.tokens_m, 6660);
    assert_int_equal(kx_bucket_tokens(&b, 10 * 1000000), 10); /* capped after a long idle */
    assert_int_equal(kx_bucket_wait_us(&b, 10, 10 * 1000000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_window_exceeds_the_limit), cmocka_unit_test(wait_is_exact),
        cmocka_unit_test(heavy_request_waits_for_a_full_bucket), cmocka_unit_test(server_count_tightens_never_loosens),
        cmocka_unit_test(refill_is_pro_rata_and_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
