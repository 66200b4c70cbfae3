/* ESS resets: what they need, when they are refused, what they clear. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "ess_fixture.h"

static char err[256];

static void reset_needs_user_and_reason(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    qtr_account ok = account_at("10000", "10000", "10000");
    int64_t later = T0 + COOLDOWN_MS;
    assert_int_equal(qh_ess_reset(f->ess, NULL, "fixed", false, &ok, later, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "user"));
    assert_int_equal(qh_ess_reset(f->ess, "  ", "fixed", false, &ok, later, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_ess_reset(f->ess, "alice", NULL, false, &ok, later, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "reason"));
    assert_int_equal(qh_ess_reset(f->ess, "alice", "", true, &ok, later, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_ess_reset(f->ess, "alice", "\t\n ", true, &ok, later, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    assert_int_equal(f->n_events, 2);
    fixture_free(f);
}

static void reset_refused_during_cooldown(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    assert_int_equal(qh_ess_trip(f->ess, "alice", "test", T0), QTR_OK);
    qtr_account ok = account_at("10000", "10000", "10000");
    assert_int_equal(qh_ess_reset(f->ess, "alice", "fixed", false, &ok, T0 + COOLDOWN_MS - 1, err, sizeof err),
                     QTR_EREFUSED);
    assert_non_null(strstr(err, "cooldown"));
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    /* At the end of the cooldown, with nothing holding, it is accepted. */
    assert_int_equal(qh_ess_reset(f->ess, "alice", "fixed", false, &ok, T0 + COOLDOWN_MS, err, sizeof err),
                     QTR_OK);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    fixture_free(f);
}

static void reset_refused_while_drawdown_holds(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account bad = account_at("9600", "10000", "9600");   /* 4% from the peak */
    qh_ess_on_account(f->ess, &bad, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    int64_t later = T0 + COOLDOWN_MS + 1;
    qh_ess_tick(f->ess, later);
    assert_int_equal(qh_ess_reset(f->ess, "alice", "looks fine", false, &bad, later, err, sizeof err),
                     QTR_EREFUSED);
    assert_non_null(strstr(err, "drawdown 4.00% >= 3%"));
    assert_int_equal(qh_ess_reset(f->ess, "alice", "looks fine", false, NULL, later, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    /* Recovered to 2.5% below the peak: the condition no longer holds. */
    qtr_account better = account_at("9750", "10000", "9750");
    assert_int_equal(qh_ess_reset(f->ess, "alice", "recovered", false, &better, later, err, sizeof err), QTR_OK);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    fixture_free(f);
}

static void reset_refused_while_daily_loss_holds(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account bad = account_at("9790", "10000", "10000");  /* 2.1% of the day */
    qh_ess_on_account(f->ess, &bad, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    int64_t later = T0 + COOLDOWN_MS;
    assert_int_equal(qh_ess_reset(f->ess, "alice", "x", false, &bad, later, err, sizeof err), QTR_EREFUSED);
    assert_non_null(strstr(err, "daily_loss 2.10% >= 2%"));
    /* Raising the limit (a new policy) clears the condition. */
    qh_ess_limits l;
    fixture_default_limits(&l);
    l.daily_loss_pct = QTR_DEC_INT(5);
    qh_ess_set_limits(f->ess, &l);
    assert_int_equal(qh_ess_reset(f->ess, "alice", "new limit", false, &bad, later, err, sizeof err), QTR_OK);
    fixture_free(f);
}

static void reset_refused_while_errors_hold(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    for (int i = 0; i < 5; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_COOLDOWN);
    qtr_account ok = account_at("10000", "10000", "10000");
    int64_t later = T0 + COOLDOWN_MS;
    assert_int_equal(qh_ess_reset(f->ess, "alice", "x", false, &ok, later, err, sizeof err), QTR_EREFUSED);
    assert_non_null(strstr(err, "exchange_errors 5"));
    qh_ess_on_exchange_result(f->ess, false, later);        /* the exchange answers again */
    assert_int_equal(qh_ess_reset(f->ess, "alice", "exchange back", false, &ok, later, err, sizeof err), QTR_OK);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    fixture_free(f);
}

static void forced_reset_accepted(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    for (int i = 0; i < 7; i++) qh_ess_on_exchange_result(f->ess, true, T0);
    qtr_account bad = account_at("9000", "10000", "10000");
    /* During the cooldown, with errors and a drawdown holding. */
    assert_int_equal(qh_ess_reset(f->ess, "alice", "operator decision", true, &bad, T0 + 1, err, sizeof err),
                     QTR_OK);
    assert_int_equal(qh_ess_state(f->ess), QTR_ESS_ARMED);
    assert_true(qh_ess_allows(f->ess, false));
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.consecutive_exchange_errors, 0);    /* a forced reset counts afresh */
    assert_int_equal(st.resets, 1);
    fixture_free(f);
}

static void reset_clears_and_counts(void **state)
{
    (void)state;
    fixture *f = fixture_new(false);
    qtr_account ok = account_at("10000", "10000", "10000");
    assert_int_equal(qh_ess_reset(f->ess, "alice", "x", false, &ok, T0, err, sizeof err), QTR_EREFUSED);
    assert_non_null(strstr(err, "ARMED"));
    for (int round = 1; round <= 3; round++) {
        int64_t t = T0 + (int64_t)round * 10 * COOLDOWN_MS;
        assert_int_equal(qh_ess_trip(f->ess, "alice", "drill", t), QTR_OK);
        assert_int_equal(qh_ess_reset(f->ess, "bob", "drill over", false, &ok, t + COOLDOWN_MS, err, sizeof err),
                         QTR_OK);
        const qtr_ess_event *ev = &f->events[f->n_events - 1];
        assert_int_equal(ev->previous, QTR_ESS_COOLDOWN);
        assert_int_equal(ev->state, QTR_ESS_ARMED);
        assert_string_equal(ev->user, "bob");
        assert_string_equal(ev->reason, "drill over");
        assert_int_equal(ev->trips, (uint32_t)round);
        assert_int_equal(ev->resets, (uint32_t)round);
    }
    assert_int_equal(f->n_events, 9);                        /* 3 per round */
    assert_int_equal(f->cancels, 3);
    qtr_ess_status st;
    qh_ess_status(f->ess, &st);
    assert_int_equal(st.state, QTR_ESS_ARMED);
    assert_int_equal(st.trips, 3);
    assert_int_equal(st.resets, 3);
    assert_string_equal(st.trip_reason, "");
    assert_int_equal(st.tripped_at_ms, 0);
    assert_int_equal(st.cooldown_until_ms, 0);
    assert_false(qh_ess_cooldown_over(f->ess));
    fixture_free(f);
}

int main(void)
{
    qh_log_set_level(QH_LOG_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_needs_user_and_reason),
        cmocka_unit_test(reset_refused_during_cooldown),
        cmocka_unit_test(reset_refused_while_drawdown_holds),
        cmocka_unit_test(reset_refused_while_daily_loss_holds),
        cmocka_unit_test(reset_refused_while_errors_hold),
        cmocka_unit_test(forced_reset_accepted),
        cmocka_unit_test(reset_clears_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
