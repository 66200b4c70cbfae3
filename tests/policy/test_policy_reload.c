/* Hot reload at engine level: a valid edit is swapped in; a syntax error, a
 * runtime error, a failed validation and a deleted file each keep the last
 * good policy. Also staleness, health and the bounded history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy_fixture.h"

typedef struct world {
    pfx fx;
    qh_policy *p;
    char file[300];
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    pfx_file(&w->fx, "live.lua", w->file, sizeof w->file);
    qh_policy_config cfg = { .max_age_ms = 1000 };
    w->p = qh_policy_new(&cfg);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    qh_policy_free(w->p);
    pfx_cleanup(&w->fx);
    free(w);
    return 0;
}

static void write_live(world *w, const char *text) { pfx_write(&w->fx, "live.lua", text); }

static void write_positions(world *w, const char *max_positions)
{
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, "limits", "max_positions", max_positions, NULL);
    write_live(w, text);
}

/* sha256sum(1): an independent computation of the file's hash. */
static void sha256_of(const char *path, char hex[65])
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(hex, 65, f));
    pclose(f);
    assert_int_equal(strlen(hex), 64);
}

static void assert_judge_allows(world *w)
{
    qtr_order_intent o;
    qh_risk_ctx rc;
    qtr_risk_decision d;
    pfx_order(&o, &rc, "BTCUSDT");
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_APPROVE);
}

/* A refused reload: the version-2 policy with max_positions 5 stays. */
static void assert_kept(world *w, const qtr_policy_event *ev, const char *expect)
{
    assert_false(ev->ok);
    assert_true(pfx_contains(ev->error, expect));
    assert_string_equal(ev->file, w->file);
    assert_int_equal(ev->version, 2);
    const qh_policy_rules *l = qh_policy_limits(w->p);
    assert_non_null(l);
    assert_int_equal(l->version, 2);
    assert_int_equal(l->max_positions, 5);
    assert_judge_allows(w);
    qtr_health h;
    qh_policy_health(w->p, ev->time_ms, &h);
    assert_int_equal(h.status, QTR_HEALTH_DEGRADED);
    qtr_policy_event last;
    assert_int_equal(qh_policy_history(w->p, &last, 1), 1);
    assert_false(last.ok);
    assert_string_equal(last.error, ev->error);
}

static void test_reload_semantics(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    write_positions(w, "3");
    assert_int_equal(qh_policy_load(w->p, w->file, 100, &ev), 0);
    assert_true(ev.ok);
    assert_int_equal(ev.version, 1);
    char hex[65];
    sha256_of(w->file, hex);
    assert_string_equal(ev.hash, hex);
    assert_string_equal(qh_policy_limits(w->p)->hash, hex);
    assert_int_equal(qh_policy_limits(w->p)->max_positions, 3);
    assert_string_equal(qh_policy_path(w->p), w->file);

    /* A valid edit is swapped in. */
    char old_hash[65];
    memcpy(old_hash, ev.hash, sizeof old_hash);
    write_positions(w, "5");
    assert_int_equal(qh_policy_reload(w->p, 200, &ev), 0);
    assert_int_equal(ev.version, 2);
    assert_string_not_equal(ev.hash, old_hash);
    sha256_of(w->file, hex);
    assert_string_equal(ev.hash, hex);
    assert_int_equal(qh_policy_limits(w->p)->max_positions, 5);
    assert_int_equal(qh_policy_limits(w->p)->loaded_at_ms, 200);

    /* A syntax error on line 2. */
    char text[8192];
    pfx_policy_text(text, sizeof text, "local x = = 1", NULL, NULL, NULL, NULL);
    write_live(w, text);
    assert_int_equal(qh_policy_reload(w->p, 300, &ev), -1);
    char where[400];
    snprintf(where, sizeof where, "%s:1:", w->file);
    assert_kept(w, &ev, where);

    /* A runtime error on line 2. */
    pfx_policy_text(text, sizeof text, "local ok = 1\nlocal x = nil + 1", NULL, NULL, NULL, NULL);
    write_live(w, text);
    assert_int_equal(qh_policy_reload(w->p, 400, &ev), -1);
    snprintf(where, sizeof where, "%s:2:", w->file);
    assert_kept(w, &ev, where);

    /* A failed validation names the line, the field and its declared range. */
    write_positions(w, "0");
    assert_int_equal(qh_policy_reload(w->p, 500, &ev), -1);
    snprintf(where, sizeof where, "%s:6: limits.max_positions: 0 is out of range [1, 1000]", w->file);
    assert_kept(w, &ev, where);
    assert_string_equal(ev.error, where);

    /* A deleted file. */
    assert_int_equal(unlink(w->file), 0);
    assert_int_equal(qh_policy_reload(w->p, 600, &ev), -1);
    assert_kept(w, &ev, "cannot open");
    assert_true(pfx_contains(ev.error, w->file));

    /* Fixed again: version 3, healthy. */
    write_positions(w, "4");
    assert_int_equal(qh_policy_reload(w->p, 700, &ev), 0);
    assert_int_equal(ev.version, 3);
    assert_int_equal(qh_policy_limits(w->p)->max_positions, 4);
    qtr_health h;
    qh_policy_health(w->p, 700, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);

    /* History, newest first: 3 good loads and 4 refusals. */
    qtr_policy_event hist[16];
    assert_int_equal(qh_policy_history(w->p, hist, 16), 7);
    assert_true(hist[0].ok && hist[0].version == 3);
    assert_true(!hist[1].ok && pfx_contains(hist[1].error, "cannot open"));
    assert_true(hist[6].ok && hist[6].version == 1 && hist[6].time_ms == 100);
}

static void test_nothing_loaded(void **state)
{
    world *w = *state;
    qtr_health h;
    qh_policy_health(w->p, 0, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_false(qh_policy_stale(w->p, 1000000));   /* nothing attempted: the host loads first */
    qtr_policy_event ev;
    assert_int_equal(qh_policy_reload(w->p, 5, &ev), -1);
    assert_false(ev.ok);
    assert_true(pfx_contains(ev.error, "nothing to reload"));
    write_positions(w, "0");
    assert_int_equal(qh_policy_load(w->p, w->file, 10, &ev), -1);
    assert_false(qh_policy_loaded(w->p));
    assert_null(qh_policy_limits(w->p));
    qh_policy_health(w->p, 10, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_true(pfx_contains(h.reason, "no policy loaded"));
    qtr_order_intent o;
    qh_risk_ctx rc;
    qtr_risk_decision d;
    pfx_order(&o, &rc, "BTCUSDT");
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_ENOTFOUND);
    assert_int_equal(d.verdict, QTR_RISK_REJECT);
    assert_string_equal(d.reason, "no_policy");
}

static void test_staleness(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    write_positions(w, "3");
    assert_int_equal(qh_policy_load(w->p, w->file, 0, &ev), 0);
    assert_false(qh_policy_stale(w->p, 999));
    assert_true(qh_policy_stale(w->p, 1000));
    /* A failed reload retries only after another max_age, not every tick. */
    write_positions(w, "0");
    assert_int_equal(qh_policy_reload(w->p, 1000, &ev), -1);
    assert_false(qh_policy_stale(w->p, 1999));
    assert_true(qh_policy_stale(w->p, 2000));
    /* A good policy left unreloaded for 2 * max_age is DEGRADED. */
    write_positions(w, "3");
    assert_int_equal(qh_policy_reload(w->p, 3000, &ev), 0);
    qtr_health h;
    qh_policy_health(w->p, 4999, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    qh_policy_health(w->p, 5000, &h);
    assert_int_equal(h.status, QTR_HEALTH_DEGRADED);
    assert_true(pfx_contains(h.reason, "not reloaded"));
}

static void test_history_is_bounded(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    write_positions(w, "3");
    for (int i = 0; i < 70; i++) assert_int_equal(qh_policy_load(w->p, w->file, i, &ev), 0);
    qtr_policy_event hist[100];
    assert_int_equal(qh_policy_history(w->p, hist, 100), 64);
    assert_int_equal(hist[0].version, 70);
    assert_int_equal(hist[63].version, 7);
    assert_int_equal(qh_policy_history(w->p, hist, 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reload_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_loaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staleness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
