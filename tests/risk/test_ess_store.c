/* ESS persistence: the state survives a restart; a bad file is refused by
 * name; a trip interrupted by a crash is finished; a failed write shows. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "ess_fixture.h"
#include "risk/ess_store.h"

static char err[512];

/* Drop the fixture's ESS and build a new one from the same file, as a
 * restarted host would. */
static qh_ess *restart(fixture *f)
{
    qh_ess_free(f->ess);
    f->ess = NULL;
    err[0] = '\0';
    f->ess = qh_ess_new(&f->hooks, f->path, err, sizeof err);
    if (f->ess) {
        qh_ess_limits l;
        fixture_default_limits(&l);
        qh_ess_set_limits(f->ess, &l);
    }
    return f->ess;
}

static void state_survives_restart(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    for (int i = 0; i < 2; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "line one\nline two", T0), QTR_OK);
    assert_non_null(restart(f));
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.state, QTR_ESS_COOLDOWN);
    assert_string_equal(st.trip_reason, "manual: line one line two");
    assert_int_equal(st.tripped_at_ms, T0);
    assert_int_equal(st.cooldown_until_ms, T0 + COOLDOWN_MS);
    assert_int_equal(st.trips, 1);
    assert_int_equal(st.resets, 0);
    assert_int_equal(st.consecutive_exchange_errors, 2);
    assert_false(qh_ess_allows(f->ess, false));
    /* The restored cooldown still refuses an early reset. */
    qtr_account ok = account_at("10000", "10000", "10000");
    assert_int_equal(qh_ess_reset(f->ess, "bob", "go", false, &ok, T0 + 1, err, sizeof err), QTR_EREFUSED);
    assert_int_equal(qh_ess_reset(f->ess, "bob", "go", false, &ok, T0 + COOLDOWN_MS, err, sizeof err), QTR_OK);
    assert_non_null(restart(f));
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.state, QTR_ESS_ARMED);
    assert_int_equal(st.trips, 1);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.cooldown_until_ms, 0);
    assert_true(qh_ess_allows(f->ess, false));
    /* No temporary file left behind. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_int_equal(access(tmp, F_OK), -1);
    fixture_free(f);
}

static void store_round_trip(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    qh_ess_saved in, out;
    memset(&in, 0, sizeof in);
    in.state = QTR_ESS_COOLDOWN;
    qtr_strlcpy(in.trip_reason, "drawdown 3.12% >= 3%", sizeof in.trip_reason);
    in.tripped_at_ms = T0;
    in.cooldown_until_ms = T0 + 5;
    in.trips = 4000000000u;
    in.resets = 7;
    in.consecutive_errors = 3;
    qtr_strlcpy(in.last_user, "carol", sizeof in.last_user);
    assert_int_equal(qh_ess_store_save(f->path, &in, err, sizeof err), 0);
    bool found = false;
    assert_int_equal(qh_ess_store_load(f->path, &out, &found, err, sizeof err), 0);
    assert_true(found);
    assert_memory_equal(&in, &out, sizeof in);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    fixture_free(f);
}

static void missing_file_starts_armed(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);   /* the file does not exist yet */
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    assert_int_equal(access(f->path, F_OK), -1);
    fixture_free(f);
}

static const char good_file[] =
    "# qtr ess state\n"
    "version=1\nstate=COOLDOWN\ntrip_reason=manual: x\ntripped_at_ms=1700000000000\n"
    "cooldown_until_ms=1700000900000\ntrips=1\nresets=0\nconsecutive_errors=0\nlast_user=alice\n";

/* good_file with one line replaced (or removed if repl is ""). */
static void write_variant(fixture *f, const char *line, const char *repl)
{
    char text[1024];
    const char *at = strstr(good_file, line);
    assert_non_null(at);
    size_t head = (size_t)(at - good_file);
    snprintf(text, sizeof text, "%.*s%s%s", (int)head, good_file, repl, at + strlen(line));
    fixture_write_file(f, text);
}

static void assert_refused_naming_file(fixture *f, const char *why)
{
    assert_null(restart(f));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, why));
}

static void corrupt_file_refused_with_its_name(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    fixture_write_file(f, good_file);
    assert_non_null(restart(f));                   /* the control: it loads */
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);

    fixture_write_file(f, "garbage\n");
    assert_refused_naming_file(f, "expected key=value");
    fixture_write_file(f, "");
    assert_refused_naming_file(f, "truncated");
    fixture_write_file(f, "version=1\nstate=COOLDOWN\ntrip_re");
    assert_refused_naming_file(f, "truncated");
    write_variant(f, "state=COOLDOWN\n", "state=SLEEPY\n");
    assert_refused_naming_file(f, "state is not");
    write_variant(f, "trips=1\n", "trips=-1\n");
    assert_refused_naming_file(f, "trips");
    write_variant(f, "trips=1\n", "trips=1x\n");
    assert_refused_naming_file(f, "trips");
    write_variant(f, "resets=0\n", "");
    assert_refused_naming_file(f, "missing resets");
    write_variant(f, "resets=0\n", "resets=0\nresets=0\n");
    assert_refused_naming_file(f, "duplicate");
    write_variant(f, "version=1\n", "version=2\n");
    assert_refused_naming_file(f, "version");
    write_variant(f, "last_user=alice\n", "last_user=alice\ncolour=blue\n");
    assert_refused_naming_file(f, "unknown key");
    write_variant(f, "tripped_at_ms=1700000000000\n", "tripped_at_ms=\n");
    assert_refused_naming_file(f, "tripped_at_ms");
    fixture_free(f);
}

static void unreadable_file_refused(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    assert_int_equal(mkdir(f->path, 0700), 0);     /* a directory where the file should be */
    assert_null(restart(f));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "not a regular file (a directory)"));
    assert_int_equal(rmdir(f->path), 0);
    fixture_free(f);
}

static void interrupted_trip_is_finished(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    write_variant(f, "state=COOLDOWN\n", "state=TRIPPED\n");
    assert_non_null(restart(f));
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_TRIPPED);
    assert_false(qh_ess_allows(f->ess, false));
    assert_int_equal(f->cancels, 0);
    qh_ess_tick(f->ess, T0 + 10);
    assert_int_equal(f->cancels, 1);
    assert_int_equal(f->closes, 1);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].previous, QTR_ESS_TRIPPED);
    assert_int_equal(f->events[0].state, QTR_ESS_COOLDOWN);
    qh_ess_tick(f->ess, T0 + 20);
    assert_int_equal(f->cancels, 1);
    assert_non_null(restart(f));
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    fixture_free(f);
}

static void failed_write_blocks_reset_and_shows(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    assert_int_equal(rmdir(f->dir), 0);            /* the directory is gone */
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    assert_false(qh_ess_allows(f->ess, false));    /* tripped in memory regardless */
    qtr_health h;
    qh_ess_health(f->ess, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "not saved"));
    qtr_account ok = account_at("10000", "10000", "10000");
    assert_int_equal(qh_ess_reset(f->ess, "bob", "go", true, &ok, T0 + COOLDOWN_MS, err, sizeof err), QTR_EIO);
    assert_non_null(strstr(err, f->dir));
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    assert_int_equal(mkdir(f->dir, 0700), 0);      /* let fixture_free clean up */
    fixture_free(f);
}

int main(void)
{
    qh_log_set_level(QH_LOG_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_survives_restart),
        cmocka_unit_test(store_round_trip),
        cmocka_unit_test(missing_file_starts_armed),
        cmocka_unit_test(corrupt_file_refused_with_its_name),
        cmocka_unit_test(unreadable_file_refused),
        cmocka_unit_test(interrupted_trip_is_finished),
        cmocka_unit_test(failed_write_blocks_reset_and_shows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
