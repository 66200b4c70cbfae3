/* bus/event_seq and bus/dedupe: a restart never reuses a sequence number
 * (not even after a crash that skipped the close), a broken sequence file is
 * refused, and the consumer's window drops what it has handled (replays,
 * out-of-order duplicates) per source host, refusing what is below it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/dedupe.h"
#include "bus_tmpdir.h"
#include "bus/event_seq.h"

static char g_dir[64], g_path[96];

static int setup(void **state)
{
    (void)state;
    if (bus_tmpdir(g_dir, sizeof g_dir, "seq") != 0) return -1;
    snprintf(g_path, sizeof g_path, "%s/bus.seq", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_path);
    return rmdir(g_dir);
}

static qh_seq *open_ok(uint64_t block)
{
    char err[512] = "";
    qh_seq *s = qh_seq_open(g_path, block, err, sizeof err);
    if (!s) fail_msg("%s", err);
    return s;
}

static void sequence_survives_restart(void **state)
{
    (void)state;
    char err[256];
    qh_seq *s = open_ok(10);
    uint64_t last = 0;
    for (int i = 0; i < 25; i++) {
        uint64_t v = qh_seq_next(s, err, sizeof err);
        assert_int_equal(v, last + 1);
        last = v;
    }
    /* a crash: no close, nothing flushed on the way out */
    qh_seq *s2 = open_ok(10);
    uint64_t first = qh_seq_next(s2, err, sizeof err);
    assert_true(first > last);
    assert_int_equal(first, 31);    /* the rest of the third block is skipped */
    qh_seq_close(s2);
    qh_seq_close(s);
    /* reopening many times, each taking one number: strictly increasing */
    uint64_t prev = first;
    for (int i = 0; i < 5; i++) {
        qh_seq *r = open_ok(10);
        uint64_t v = qh_seq_next(r, err, sizeof err);
        assert_true(v > prev);
        prev = v;
        qh_seq_close(r);
    }
}

static void broken_sequence_file_is_refused(void **state)
{
    (void)state;
    FILE *f = fopen(g_path, "w");
    fputs("qtr-bus-seq 1 12x\n", f);
    fclose(f);
    char err[512] = "";
    assert_null(qh_seq_open(g_path, 10, err, sizeof err));
    assert_non_null(strstr(err, g_path));
    assert_non_null(strstr(err, "refusing to reuse numbers"));
    f = fopen(g_path, "w");
    fclose(f);
    assert_null(qh_seq_open(g_path, 10, err, sizeof err));
    unlink(g_path);
}

static void dedupe_window(void **state)
{
    (void)state;
    qh_dedupe *d = qh_dedupe_new(128, 4);
    for (uint64_t q = 1; q <= 100; q++) assert_int_equal(qh_dedupe_admit(d, "strat-1", q), QH_DEDUPE_NEW);
    /* a replay of the same numbers: every one dropped */
    for (uint64_t q = 1; q <= 100; q++) assert_int_equal(qh_dedupe_admit(d, "strat-1", q), QH_DEDUPE_DUPLICATE);
    /* another host's numbers are its own */
    assert_int_equal(qh_dedupe_admit(d, "strat-2", 5), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-2", 5), QH_DEDUPE_DUPLICATE);
    /* a gap, then the missing one arrives late (a claimed entry): new once */
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 110), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_check(d, "strat-1", 105), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 105), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 105), QH_DEDUPE_DUPLICATE);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 106), QH_DEDUPE_NEW);
    /* the bits of numbers that left the window do not come back as "seen" */
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 110 + 128 + 1), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 110), QH_DEDUPE_TOO_OLD);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 110 + 128), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 110 + 128 + 1), QH_DEDUPE_DUPLICATE);
    /* a jump of more than the window forgets everything below it */
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 10000), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 9999), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 9999 - 200), QH_DEDUPE_TOO_OLD);
    /* seq 0 is never valid; a fifth host has no room and is refused */
    assert_int_equal(qh_dedupe_admit(d, "strat-1", 0), QH_DEDUPE_TOO_OLD);
    assert_int_equal(qh_dedupe_admit(d, "h3", 1), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "h4", 1), QH_DEDUPE_NEW);
    assert_int_equal(qh_dedupe_admit(d, "h5", 1), QH_DEDUPE_NO_ROOM);
    /* asking says so too: the consumer asks before acting, and an entry it
     * could not remember would be new again at its second delivery */
    assert_int_equal(qh_dedupe_check(d, "h5", 1), QH_DEDUPE_NO_ROOM);
    assert_int_equal(qh_dedupe_check(d, "h4", 2), QH_DEDUPE_NEW);
    qh_dedupe_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequence_survives_restart),
        cmocka_unit_test(broken_sequence_file_is_refused),
        cmocka_unit_test(dedupe_window),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
