/* ESS trips: drawdown, daily loss, exchange errors, manual; the actions a
 * trip takes and what passes while tripped. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "ess_fixture.h"

static void assert_tripped_once(const fixture *f, const char *reason, bool closes)
{
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    assert_int_equal(f->cancels, 1);
    assert_int_equal(f->closes, closes ? 1 : 0);
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[0].previous, QTR_ESS_ARMED);
    assert_int_equal(f->events[0].state, QTR_ESS_TRIPPED);
    assert_int_equal(f->events[1].previous, QTR_ESS_TRIPPED);
    assert_int_equal(f->events[1].state, QTR_ESS_COOLDOWN);
    assert_string_equal(f->events[0].reason, reason);
    assert_string_equal(f->events[1].reason, reason);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_string_equal(st.trip_reason, reason);
    assert_int_equal(st.trips, 1);
}

static void drawdown_trips_exactly_at_threshold(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("9700.00000001", "10000", "9700.00000001");
    qh_ess_on_account(f->ess, &a, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    assert_int_equal(f->cancels, 0);
    assert_int_equal(f->n_events, 0);

    a = account_at("9700", "10000", "9700");      /* 300 / 10000 = 3.00% */
    qh_ess_on_account(f->ess, &a, T0 + 1000);
    assert_tripped_once(f, "drawdown 3.00% >= 3%", true);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.tripped_at_ms, T0 + 1000);
    assert_int_equal(st.cooldown_until_ms, T0 + 1000 + COOLDOWN_MS);
    assert_int_equal(f->events[1].cooldown_until_ms, T0 + 1000 + COOLDOWN_MS);
    fixture_free(f);
}

static void drawdown_reported_by_portfolio_trips(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("10000", "10000", "10000");
    a.drawdown_pct = QTR_DEC_INT(3) - 1;            /* 2.99999999% */
    qh_ess_on_account(f->ess, &a, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    a.drawdown_pct = QTR_DEC_INT(312) / 100;        /* 3.12% */
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "drawdown 3.12% >= 3%", true);
    fixture_free(f);
}

static void daily_loss_trips(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("9801", "10000", "10000");   /* 1.99% of the day */
    qh_ess_on_account(f->ess, &a, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    a = account_at("9795", "10000", "10000");               /* 205 / 10000 = 2.05% */
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "daily_loss 2.05% >= 2%", true);
    fixture_free(f);
}

static void daily_loss_from_reported_pnl(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("10000", "10000", "10000");
    a.daily_pnl = -QTR_DEC_INT(200);                        /* 200 / 10000 = 2% */
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "daily_loss 2.00% >= 2%", true);
    fixture_free(f);
}

static void disabled_limits_never_trip(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qh_ess_limits l;
    memset(&l, 0, sizeof l);
    l.cooldown_ms = COOLDOWN_MS;
    qh_ess_set_limits(f->ess, &l);
    qtr_account a = account_at("5000", "10000", "10000");   /* 50% down */
    qh_ess_on_account(f->ess, &a, T0);
    for (int i = 0; i < 50; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    assert_int_equal(f->cancels, 0);
    fixture_free(f);
}

static void exchange_errors_in_a_row_trip(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    for (int i = 0; i < 4; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    qh_ess_on_exchange_result(f->ess, false, T0);           /* a success: count from 0 */
    for (int i = 0; i < 4; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.consecutive_exchange_errors, 4);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    qh_ess_on_exchange_result(f->ess, true, T0 + 5);
    assert_tripped_once(f, "exchange_errors 5 in a row", true);
    fixture_free(f);
}

static void manual_trip(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    assert_int_equal(qh_ess_trip(f->ess, "alice", NULL, T0), QTR_EINVAL);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "", T0), QTR_EINVAL);
    assert_int_equal(qh_ess_trip(f->ess, "alice", " \t ", T0), QTR_EINVAL);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "fat finger", T0), QTR_OK);
    assert_tripped_once(f, "manual: fat finger", true);
    assert_string_equal(f->events[0].user, "alice");
    assert_string_equal(f->events[1].user, "alice");
    /* A second trip is refused, runs no action, and is recorded. */
    assert_int_equal(qh_ess_trip(f->ess, "bob", "again", T0 + 1), QTR_EREFUSED);
    assert_int_equal(f->cancels, 1);
    assert_int_equal(f->n_events, 2);
    char last[QTR_REASON_MAX];
    assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), 1);
    assert_string_equal(last, "manual: again");
    fixture_free(f);
}

/* A trip the host itself asks for (a fill it cannot apply, the store
 * failing) says so: "host: ...", user "host", never "manual: ...". */
static void host_trip_is_not_manual(void **state)
{
    (void)state;
    fixture *f = fixture_new(true);
    assert_int_equal(qh_ess_trip_host(f->ess, NULL, T0), QTR_EINVAL);
    assert_int_equal(qh_ess_trip_host(f->ess, " ", T0), QTR_EINVAL);
    assert_int_equal(qh_ess_trip_host(f->ess, "trade store failing", T0), QTR_OK);
    assert_tripped_once(f, "host: trade store failing", true);
    assert_string_equal(f->events[0].user, "host");
    /* while tripped: refused and recorded with its origin */
    assert_int_equal(qh_ess_trip_host(f->ess, "a stored fill could not be replayed", T0 + 1), QTR_EREFUSED);
    char last[QTR_REASON_MAX];
    assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), 1);
    assert_string_equal(last, "host: a stored fill could not be replayed");
    /* the reason survives a restart as it was given */
    qh_ess_free(f->ess);
    char err[256] = "";
    f->ess = qh_ess_new(&f->hooks, f->path, err, sizeof err);
    assert_non_null(f->ess);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_string_equal(st.trip_reason, "host: trade store failing");
    fixture_free(f);
}

static void close_positions_only_if_asked(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qh_ess_limits l;
    fixture_default_limits(&l);
    l.close_positions = false;
    qh_ess_set_limits(f->ess, &l);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    assert_tripped_once(f, "manual: test", false);
    fixture_free(f);
}

static void hooks_run_once_per_trip(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("9000", "10000", "10000");    /* 10%: both limits */
    for (int i = 0; i < 20; i++) qh_ess_on_account(f->ess, &a, T0 + i);
    for (int i = 0; i < 20; i++) qh_ess_on_exchange_result(f->ess, true, T0 + i);
    assert_tripped_once(f, "drawdown 10.00% >= 3%", true);
    fixture_free(f);
}

static void only_reduce_only_while_tripped(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    assert_true(qh_ess_allows(f->ess, false));
    assert_true(qh_ess_allows(f->ess, true));
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    /* Already blocked when the cancel hook ran, not only afterwards. */
    assert_int_equal(f->cancels, 1);
    assert_false(f->entry_allowed_during_cancel);
    assert_false(qh_ess_allows(f->ess, false));
    assert_true(qh_ess_allows(f->ess, true));
    qh_ess_tick(f->ess, T0 + COOLDOWN_MS + 1);              /* cooldown over, still blocked */
    assert_false(qh_ess_allows(f->ess, false));
    assert_true(qh_ess_allows(f->ess, true));
    assert_false(qh_ess_allows(NULL, true));                /* no ESS: nothing passes */
    fixture_free(f);
}

static void new_breach_in_cooldown_is_recorded(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("9650", "10000", "9700");    /* 3.5% drawdown, 0.51% day */
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "drawdown 3.50% >= 3%", true);
    assert_int_equal(qh_ess_blocked_breaches(f->ess, NULL, 0), 0);
    a = account_at("9400", "10000", "9700");                /* day: 300 / 9700 = 3.09% */
    qh_ess_on_account(f->ess, &a, T0 + 1);
    qh_ess_on_account(f->ess, &a, T0 + 2);                  /* same breach: once */
    char last[QTR_REASON_MAX];
    assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), 1);
    assert_string_equal(last, "daily_loss 3.09% >= 2%");
    assert_int_equal(f->cancels, 1);
    assert_int_equal(f->n_events, 2);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_string_equal(st.trip_reason, "drawdown 3.50% >= 3%");
    assert_int_equal(st.trips, 1);
    fixture_free(f);
}

/* A breach that ends and comes back while blocked is a new breach: the
 * accounts in between (no condition holds: qh_ess_on_account's early
 * return) must forget that it held, and only those accounts may. */
static void breach_that_ends_and_returns_is_recorded_again(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account a = account_at("9650", "10000", "9700");    /* 3.5% drawdown */
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "drawdown 3.50% >= 3%", true);
    qtr_account daily = account_at("9400", "10000", "9700");   /* daily 3.09% too */
    qtr_account calm = account_at("9900", "10000", "9950");    /* 1%, 0.5%: none */
    char last[QTR_REASON_MAX];
    qh_ess_on_account(f->ess, &calm, T0 + 1);
    for (uint32_t round = 1; round <= 3; round++) {
        int64_t t = T0 + 10 * round;
        uint32_t before = 4 * (round - 1);
        qh_ess_on_account(f->ess, &daily, t);                   /* both start: two breaches */
        qh_ess_on_account(f->ess, &daily, t + 1);               /* still held: none */
        assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), before + 2);
        assert_string_equal(last, "daily_loss 3.09% >= 2%");
        qh_ess_on_account(f->ess, &calm, t + 2);
        qh_ess_on_account(f->ess, &calm, t + 3);
        assert_int_equal(qh_ess_blocked_breaches(f->ess, NULL, 0), before + 2);
        qh_ess_on_account(f->ess, &a, t + 4);                   /* the drawdown alone, back */
        qh_ess_on_account(f->ess, &a, t + 5);
        assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), before + 3);
        assert_string_equal(last, "drawdown 3.50% >= 3%");
        qh_ess_on_account(f->ess, &daily, t + 6);               /* the day's loss joins it */
        assert_int_equal(qh_ess_blocked_breaches(f->ess, last, sizeof last), before + 4);
        assert_string_equal(last, "daily_loss 3.09% >= 2%");
        qh_ess_on_account(f->ess, &calm, t + 7);
    }
    assert_int_equal(f->cancels, 1);
    assert_int_equal(f->n_events, 2);
    fixture_free(f);
}

static void cooldown_ends_on_tick(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    qtr_health h;
    qh_ess_health(f->ess, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "cooldown running"));
    qh_ess_tick(f->ess, T0 + COOLDOWN_MS - 1);
    assert_false(qh_ess_cooldown_over(f->ess));
    qh_ess_tick(f->ess, T0 + COOLDOWN_MS);
    assert_true(qh_ess_cooldown_over(f->ess));
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    assert_int_equal(f->n_events, 2);                        /* not a transition */
    qh_ess_health(f->ess, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "awaiting reset"));
    assert_non_null(strstr(h.reason, "manual: test"));
    fixture_free(f);
}

static void health_ok_when_armed(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_health h;
    qh_ess_health(f->ess, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    fixture_free(f);
}

/* The trip decision against the percentages computed in full (percent_of:
 * loss * 100 / base rounded down, >= the limit), one raw unit at a time
 * around both thresholds, on a peak and a day start that do not divide
 * evenly; and a daily loss whose percentage overflows. */
static qtr_dec D(const char *text)
{
    qtr_dec d = 0;
    assert_int_equal(qtr_dec_parse(text, (size_t)-1, &d), QTR_DEC_OK);
    return d;
}

static bool reference_reaches(qtr_dec loss, qtr_dec base, qtr_dec limit)
{
    qtr_dec pct;
    if (!qtr_dec_muldiv(loss, QTR_DEC_INT(100), base, QTR_ROUND_DOWN, &pct)) return true;
    return pct >= limit;
}

static void thresholds_match_the_full_percentage(void **state)
{
    (void)state;
    const qtr_dec peak = D("10000.00000007"), limit_dd = QTR_DEC_INT(3), limit_daily = QTR_DEC_INT(2);
    /* 3% of the peak is 300.0000000021: the equities around peak - 300 */
    for (qtr_dec eq = D("9699.99999990"); eq <= D("9700.00000010"); eq++) {
        fixture *f = fixture_new(false);
        qtr_account a = account_at("0", "0", "0");
        a.equity = eq;
        a.equity_peak = peak;
        a.day_start_equity = eq;                  /* no daily loss */
        qh_ess_on_account(f->ess, &a, T0);
        bool want = reference_reaches(peak - eq, peak, limit_dd);
        assert_int_equal(qh_ess_state(f->ess) != QTR_ESS_ARMED, want);
        fixture_free(f);
    }
    /* 2% of the day start is 200.0000000014 */
    for (qtr_dec eq = D("9799.99999980"); eq <= D("9800.00000000"); eq++) {
        fixture *f = fixture_new(false);
        qtr_account a = account_at("0", "0", "0");
        a.equity = eq;
        a.equity_peak = eq;                       /* no drawdown */
        a.day_start_equity = peak;
        qh_ess_on_account(f->ess, &a, T0);
        bool want = reference_reaches(peak - eq, peak, limit_daily);
        assert_int_equal(qh_ess_state(f->ess) != QTR_ESS_ARMED, want);
        fixture_free(f);
    }
    /* a huge reported loss on a tiny day start: the percentage overflows */
    fixture *f = fixture_new(false);
    qtr_account a = account_at("0.00000001", "0.00000001", "0.00000001");
    a.daily_pnl = -QTR_DEC_INT(90000000000);
    qh_ess_on_account(f->ess, &a, T0);
    assert_tripped_once(f, "daily_loss (overflow)% >= 2%", true);
    fixture_free(f);
}

int main(void)
{
    qh_log_set_level(QH_LOG_ERROR + 1);   /* the trips log errors on purpose */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thresholds_match_the_full_percentage),
        cmocka_unit_test(drawdown_trips_exactly_at_threshold),
        cmocka_unit_test(drawdown_reported_by_portfolio_trips),
        cmocka_unit_test(daily_loss_trips),
        cmocka_unit_test(daily_loss_from_reported_pnl),
        cmocka_unit_test(disabled_limits_never_trip),
        cmocka_unit_test(exchange_errors_in_a_row_trip),
        cmocka_unit_test(manual_trip),
        cmocka_unit_test(host_trip_is_not_manual),
        cmocka_unit_test(close_positions_only_if_asked),
        cmocka_unit_test(hooks_run_once_per_trip),
        cmocka_unit_test(only_reduce_only_while_tripped),
        cmocka_unit_test(new_breach_in_cooldown_is_recorded),
        cmocka_unit_test(breach_that_ends_and_returns_is_recorded_again),
        cmocka_unit_test(cooldown_ends_on_tick),
        cmocka_unit_test(health_ok_when_armed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
