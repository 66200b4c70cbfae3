/* Policies that would stall the host: each call has a wall-clock deadline
 * and a cap on the bytes it allocates, not only an instruction budget.
 * A load that overruns is refused by name; a judge() that overruns only on
 * live orders (it dodges the self-test) refuses the order with
 * policy_timeout, is counted and reported, and three overruns withdraw the
 * policy: the last good one comes back, or none stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy/sandbox.h"
#include "policy_fixture.h"

/* A short deadline keeps the test quick; the logic is the same at 100 ms. */
#define TIME_LIMIT_MS 20
/* Generous: an overrun stops within the deadline plus one C call, far below this. */
#define STOP_BOUND_MS 3000

typedef struct world {
    pfx fx;
    qh_policy *p;
    qh_policy_overrun seen[8];
    size_t n_seen;
} world;

static void on_overrun(void *ud, const qh_policy_overrun *o)
{
    world *w = ud;
    if (w->n_seen < 8) w->seen[w->n_seen] = *o;
    w->n_seen++;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    /* An instruction budget that would allow minutes: the deadline and the
     * allocation cap must do the stopping. */
    qh_policy_config cfg = { .time_limit_ms = TIME_LIMIT_MS, .instr_limit = 1000000000, .on_overrun = on_overrun,
                             .overrun_ud = w };
    w->p = qh_policy_new(&cfg);
    assert_non_null(w->p);
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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hostile bodies: each would run for minutes to hours without a deadline. */
static const struct { const char *label, *body, *expect; } HOSTILE[] = {
    { "string.rep in a loop", "for i = 1, 1e9 do local s = string.rep('x', 8e6) end", "limit exceeded" },
    { "string.rep under pcall", "for i = 1, 1e9 do pcall(string.rep, 'x', 8e6) end", "limit exceeded" },
    { "pattern matches within the cost guard", "local s = string.rep('a', 3000) for i = 1, 1e9 do s:find('.-b') end",
      "time limit exceeded" },
    { "table growth under pcall",
      "for r = 1, 1e9 do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end", "limit exceeded" },
    { "deep recursion under pcall",
      "local function f(n) return 1 + f(n + 1) end for r = 1, 1e9 do pcall(f, 1) end", "limit exceeded" },
    { "string concatenation growth", "local s = '' for i = 1, 1e9 do s = s .. 'xxxxxxxxxx' end", "limit exceeded" },
    { "sorting a big table again and again",
      "local t = {} for i = 1, 100000 do t[i] = (i * 7919) % 100000 end for i = 1, 1e9 do table.sort(t) end",
      "limit exceeded" },
    { "comparing long strings", "local a = string.rep('x', 4e6) local b = string.rep('x', 4e6) local n = 0 "
                                "for i = 1, 1e9 do if a == b then n = n + 1 end end", "limit exceeded" },
};
#define N_HOSTILE (sizeof HOSTILE / sizeof HOSTILE[0])

/* A judge that runs `body` on every order, or (dodge) only on orders that
 * are not the load's self-test. */
static void hostile_judge(char *buf, size_t cap, const char *body, bool dodge)
{
    snprintf(buf, cap, "function(order, ctx) %s %s %s return 'allow' end",
             dodge ? "if order.strategy ~= 'self_test' then" : "do", body, "end");
}

static const char *write_policy(world *w, const char *name, const char *judge)
{
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, judge);
    return pfx_write(&w->fx, name, text);
}

/* A policy whose judge runs HOSTILE[i] on live orders only, written to
 * name; its path is copied to path (the fixture's buffer is reused). */
static void write_dodging(world *w, const char *name, size_t i, char *path, size_t cap)
{
    char judge[1024];
    hostile_judge(judge, sizeof judge, HOSTILE[i].body, true);
    snprintf(path, cap, "%s", write_policy(w, name, judge));
}

static void test_hostile_load_refused_quickly(void **state)
{
    world *w = *state;
    for (size_t i = 0; i < N_HOSTILE; i++) {
        char judge[1024];
        hostile_judge(judge, sizeof judge, HOSTILE[i].body, false);
        const char *path = write_policy(w, "hostile.lua", judge);
        int64_t t0 = mono_ms();
        qtr_policy_event ev;
        int rc = qh_policy_load(w->p, path, 1000, &ev);
        int64_t took = mono_ms() - t0;
        print_message("%-40s %4lld ms  %s\n", HOSTILE[i].label, (long long)took, ev.error);
        assert_int_equal(rc, -1);
        assert_true(pfx_contains(ev.error, HOSTILE[i].expect));
        assert_true(pfx_contains(ev.error, path));
        assert_true(took < STOP_BOUND_MS);
        assert_false(qh_policy_loaded(w->p));
    }
}

/* `qtr policy check` is the same compile: it returns, with the reason. */
static void test_policy_check_returns(void **state)
{
    world *w = *state;
    char judge[1024], err[512];
    hostile_judge(judge, sizeof judge, HOSTILE[0].body, false);
    const char *path = write_policy(w, "check.lua", judge);
    assert_int_equal(qh_policy_check_file(path, err, sizeof err), -1);
    assert_true(pfx_contains(err, "limit exceeded"));
    assert_true(pfx_contains(err, path));
}

static int judge_once(world *w, qtr_risk_decision *d)
{
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    return qh_policy_judge(w->p, &o, &rc, d);
}

/* Every hostile body, dodging the self-test: the load passes, the first
 * live order is refused with policy_timeout, within the bound. */
static void test_dodging_judge_refused_with_policy_timeout(void **state)
{
    world *w = *state;
    for (size_t i = 0; i < N_HOSTILE; i++) {
        char judge[1024];
        hostile_judge(judge, sizeof judge, HOSTILE[i].body, true);
        qtr_policy_event ev;
        assert_int_equal(qh_policy_load(w->p, write_policy(w, "dodge.lua", judge), 1000, &ev), 0);
        uint64_t before = qh_policy_judge_timeouts(w->p);
        size_t seen_before = w->n_seen;
        qtr_risk_decision d;
        int64_t t0 = mono_ms();
        int rc = judge_once(w, &d);
        int64_t took = mono_ms() - t0;
        print_message("%-40s %4lld ms  %s\n", HOSTILE[i].label, (long long)took, qh_policy_last_judge_error(w->p));
        assert_int_equal(rc, QTR_EREFUSED);
        assert_int_equal(d.verdict, QTR_RISK_REJECT);
        assert_string_equal(d.reason, "policy_timeout");
        assert_true(took < STOP_BOUND_MS);
        assert_int_equal(qh_policy_judge_timeouts(w->p), before + 1);
        assert_int_equal(w->n_seen, seen_before + 1);
        assert_int_equal(w->seen[w->n_seen - 1].action, QH_OVERRUN_COUNTED);
        assert_true(pfx_contains(w->seen[w->n_seen - 1].error, "limit exceeded"));
        /* the error names the policy file */
        assert_true(pfx_contains(qh_policy_last_judge_error(w->p), w->fx.path));
    }
}

/* A judge that catches the stop with its own pcall and answers anyway is
 * still refused: the answer came after the deadline. */
static void test_answer_after_the_deadline_refused(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    const char *judge = "function(order, ctx) if order.strategy ~= 'self_test' then "
                        "pcall(function() while true do end end) end return 'allow' end";
    assert_int_equal(qh_policy_load(w->p, write_policy(w, "late.lua", judge), 1000, &ev), 0);
    qtr_risk_decision d;
    assert_int_equal(judge_once(w, &d), QTR_EREFUSED);
    assert_string_equal(d.reason, "policy_timeout");
    assert_true(pfx_contains(qh_policy_last_judge_error(w->p), "time limit exceeded"));
}

/* Three overruns in a row: the policy before it is back, in force, and
 * the withdrawn file is refused until it changes. */
static void test_three_overruns_revert_to_the_last_good_policy(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, PFX_ALLOW_JUDGE);
    /* a distinct name tells the two apart */
    char *name = strstr(text, "name = \"test\"");
    assert_non_null(name);
    memcpy(name, "name = \"good\"", strlen("name = \"good\""));
    const char *good = pfx_write(&w->fx, "good.lua", text);
    char good_path[256];
    snprintf(good_path, sizeof good_path, "%s", good);
    assert_int_equal(qh_policy_load(w->p, good_path, 1000, &ev), 0);
    char bad_path[256];
    write_dodging(w, "bad.lua", 0, bad_path, sizeof bad_path);
    assert_int_equal(qh_policy_load(w->p, bad_path, 2000, &ev), 0);
    assert_string_equal(qh_policy_limits(w->p)->name, "test");

    qtr_risk_decision d;
    for (int i = 0; i < QH_POLICY_OVERRUNS_MAX; i++) {
        assert_int_equal(judge_once(w, &d), QTR_EREFUSED);
        assert_string_equal(d.reason, "policy_timeout");
        assert_int_equal(w->seen[i].action, i + 1 < QH_POLICY_OVERRUNS_MAX ? QH_OVERRUN_COUNTED : QH_OVERRUN_REVERTED);
    }
    assert_int_equal(w->n_seen, QH_POLICY_OVERRUNS_MAX);
    assert_string_equal(w->seen[QH_POLICY_OVERRUNS_MAX - 1].withdrawn, "test");
    assert_string_equal(w->seen[QH_POLICY_OVERRUNS_MAX - 1].restored, "good");
    /* the good policy is in force and answers */
    assert_true(qh_policy_loaded(w->p));
    assert_string_equal(qh_policy_limits(w->p)->name, "good");
    assert_int_equal(judge_once(w, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_APPROVE);
    /* recorded: a failed event naming the withdrawal; health DEGRADED */
    qtr_policy_event hist[1];
    assert_int_equal(qh_policy_history(w->p, hist, 1), 1);
    assert_false(hist[0].ok);
    assert_true(pfx_contains(hist[0].error, "withdrawn"));
    qtr_health h;
    qh_policy_health(w->p, 3000, &h);
    assert_int_equal(h.status, QTR_HEALTH_DEGRADED);
    assert_true(pfx_contains(h.reason, "withdrawn"));
    /* the same file is refused on reload; a changed one loads */
    assert_int_equal(qh_policy_load(w->p, bad_path, 4000, &ev), -1);
    assert_true(pfx_contains(ev.error, "withdrawn"));
    assert_string_equal(qh_policy_limits(w->p)->name, "good");
    assert_int_equal(qh_policy_load(w->p, write_policy(w, "fixed.lua", PFX_ALLOW_JUDGE), 5000, &ev), 0);
}

/* Overruns with no good policy before: none stays loaded (every entry is
 * refused) and the host is told there is nothing to go back to. */
static void test_three_overruns_without_a_fallback(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    char path[256];
    write_dodging(w, "only.lua", 2, path, sizeof path);
    assert_int_equal(qh_policy_load(w->p, path, 1000, &ev), 0);
    qtr_risk_decision d;
    for (int i = 0; i < QH_POLICY_OVERRUNS_MAX; i++) assert_int_equal(judge_once(w, &d), QTR_EREFUSED);
    assert_int_equal(w->seen[QH_POLICY_OVERRUNS_MAX - 1].action, QH_OVERRUN_NO_FALLBACK);
    assert_false(qh_policy_loaded(w->p));
    assert_int_equal(judge_once(w, &d), QTR_ENOTFOUND);
    assert_string_equal(d.reason, "no_policy");
}

/* A reload of the same text does not make it its own fallback. */
static void test_reload_of_same_text_keeps_the_older_fallback(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    char path[256];
    write_dodging(w, "same.lua", 0, path, sizeof path);
    assert_int_equal(qh_policy_load(w->p, path, 1000, &ev), 0);
    assert_int_equal(qh_policy_load(w->p, path, 2000, &ev), 0);
    qtr_risk_decision d;
    for (int i = 0; i < QH_POLICY_OVERRUNS_MAX; i++) assert_int_equal(judge_once(w, &d), QTR_EREFUSED);
    assert_int_equal(w->seen[QH_POLICY_OVERRUNS_MAX - 1].action, QH_OVERRUN_NO_FALLBACK);
    assert_false(qh_policy_loaded(w->p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile_load_refused_quickly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_check_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dodging_judge_refused_with_policy_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_after_the_deadline_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_overruns_revert_to_the_last_good_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_overruns_without_a_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_of_same_text_keeps_the_older_fallback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
