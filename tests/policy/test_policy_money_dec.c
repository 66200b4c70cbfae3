/* money = "dec": judge() gets its money fields as dec values (exact, no
 * text) instead of decimal strings. The same judge decides the same in
 * both modes on random orders; a dec value compares, prints and goes into
 * dec.* and a resize answer as documented (docs/policies.md), refuses
 * arithmetic operators, and its metatable cannot be reached; another
 * `money` is refused at load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "policy_fixture.h"
#include "test_rng.h"

typedef struct world {
    pfx fx;
    qh_policy *text, *dec;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    w->text = qh_policy_new(NULL);
    w->dec = qh_policy_new(NULL);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    qh_policy_free(w->text);
    qh_policy_free(w->dec);
    pfx_cleanup(&w->fx);
    free(w);
    return 0;
}

/* judge_expr, then `money = <money>` (NULL: none) in the returned table. */
static int load(world *w, qh_policy *p, const char *name, const char *judge_expr, const char *money,
                qtr_policy_event *ev)
{
    char judge[8192], text[16384];
    if (money) snprintf(judge, sizeof judge, "%s,\n    money = %s", judge_expr, money);
    else snprintf(judge, sizeof judge, "%s", judge_expr);
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, judge);
    return qh_policy_load(p, pfx_write(&w->fx, name, text), 1, ev);
}

/* Only dec.* on money: the same meaning with text and with dec values. */
static const char *const rules_judge =
    "function(o, c)\n"
    "  if o.reduce_only then return 'allow' end\n"
    "  if dec.ge(c.drawdown_pct, '2.5') then return 'reject', 'drawdown' end\n"
    "  if dec.lt(c.daily_pnl, '-50') then return 'reject', 'daily_loss' end\n"
    "  if dec.gt(c.order_notional, '1000') then\n"
    "    local q = dec.min(dec.div_step('1000', c.price, '0.001'), o.qty)\n"
    "    if dec.eq(q, 0) then return 'reject', 'too_small' end\n"
    "    return 'resize', q, 'notional'\n"
    "  end\n"
    "  if dec.gt(dec.add(c.exposure, c.order_notional), dec.mul(c.equity, 3)) then return 'reject', 'exposure' end\n"
    "  if dec.lt(c.position_qty, 0) and o.side == 'BUY' then return 'resize', o.qty, 'covering' end\n"
    "  return 'allow'\n"
    "end";

static uint64_t rng(uint64_t *s) { return test_rng_next(s); }

static qtr_dec random_money(uint64_t *s, int64_t whole_max, bool signed_)
{
    qtr_dec v = (qtr_dec)(rng(s) % (uint64_t)(whole_max * QTR_DEC_SCALE));
    if (rng(s) % 3 == 0) v -= v % QTR_DEC_SCALE;   /* a whole number now and then */
    return signed_ && rng(s) % 2 ? -v : v;
}

static void same_decisions_with_text_and_dec_values(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    if (load(w, w->text, "text.lua", rules_judge, NULL, &ev) != 0) fail_msg("%s", ev.error);
    if (load(w, w->dec, "dec.lua", rules_judge, "'dec'", &ev) != 0) fail_msg("%s", ev.error);
    uint64_t s = 0x2545F4914F6CDD1Du;
    size_t verdicts[3] = { 0, 0, 0 };
    for (int i = 0; i < 20000; i++) {
        qtr_order_intent o;
        qh_risk_ctx rc;
        pfx_order(&o, &rc, "BTCUSDT");
        o.side = rng(&s) % 2 ? QTR_SIDE_BUY : QTR_SIDE_SELL;
        o.reduce_only = rng(&s) % 10 == 0;
        o.qty = random_money(&s, 5, false) + 1;
        rc.price = random_money(&s, 60000, false) + 1;
        rc.order_notional = random_money(&s, 3000, false);
        rc.equity = random_money(&s, 20000, false);
        rc.exposure = random_money(&s, 40000, false);
        rc.drawdown_pct = random_money(&s, 4, false);
        rc.daily_pnl = random_money(&s, 100, true);
        rc.position_qty = random_money(&s, 3, true);
        qtr_risk_decision a, b;
        assert_int_equal(qh_policy_judge(w->text, &o, &rc, &a), QTR_OK);
        assert_int_equal(qh_policy_judge(w->dec, &o, &rc, &b), QTR_OK);
        if (a.verdict != b.verdict || a.qty != b.qty || strcmp(a.reason, b.reason) != 0)
            fail_msg("order %d: text %d %lld %s, dec %d %lld %s", i, a.verdict, (long long)a.qty, a.reason, b.verdict,
                     (long long)b.qty, b.reason);
        verdicts[a.verdict == QTR_RISK_APPROVE ? 0 : a.verdict == QTR_RISK_RESIZE ? 1 : 2]++;
    }
    /* every branch was taken */
    assert_true(verdicts[0] > 100 && verdicts[1] > 100 && verdicts[2] > 100);
    assert_int_equal(qh_policy_judge_errors(w->text), 0);
    assert_int_equal(qh_policy_judge_errors(w->dec), 0);
}

/* Each check that fails names itself; all pass: "resize" with o.qty. */
static const char *const values_judge =
    "function(o, c)\n"
    "  local checks = {\n"
    "    type(c.equity) == 'userdata',\n"
    "    tostring(c.equity) == '10000',\n"
    "    tostring(o.qty) == '0.01',\n"
    "    c.equity > '9999.99999999' and c.equity >= 10000 and c.equity <= '10000' and not (c.equity < 10000),\n"
    "    c.price > c.equity and o.qty < 1 and -1 < o.qty,\n"
    "    c.daily_pnl < 0 and tostring(c.daily_pnl) == '-12.5',\n"
    "    o.qty == o.qty and c.order_notional ~= c.equity,\n"
    "    c.equity ~= '10000',\n"
    "    'q=' .. o.qty .. '!' == 'q=0.01!',\n"
    "    getmetatable(o.qty) == 'dec',\n"
    "    not pcall(function() return o.qty + 1 end),\n"
    "    not pcall(function() return o.qty < {} end),\n"
    "    dec.add(o.qty, o.qty) == '0.02' and dec.eq(c.equity, '10000') and dec.cmp(c.price, c.equity) == 1,\n"
    "    dec.div_step(c.order_notional, c.price, '0.001') == '0.01',\n"
    "    not pcall(setmetatable, o.qty, nil),\n"
    "  }\n"
    "  for i = 1, 15 do if checks[i] ~= true then return 'reject', 'check_' .. i end end\n"
    "  return 'resize', o.qty, 'all_checks'\n"
    "end";

static void dec_values_behave_as_documented(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    if (load(w, w->dec, "values.lua", values_judge, "'dec'", &ev) != 0) fail_msg("%s", ev.error);
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    rc.daily_pnl = -QTR_DEC_INT(25) / 2;
    qtr_risk_decision d;
    assert_int_equal(qh_policy_judge(w->dec, &o, &rc, &d), QTR_OK);
    assert_string_equal(d.reason, "all_checks");
    assert_int_equal(d.verdict, QTR_RISK_RESIZE);
    assert_int_equal(d.qty, o.qty);                    /* a dec value as the resize quantity */
    assert_int_equal(qh_policy_judge_errors(w->dec), 0);
}

static void other_money_modes_refused(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    assert_int_not_equal(load(w, w->dec, "bad.lua", PFX_ALLOW_JUDGE, "'float'", &ev), 0);
    assert_true(pfx_contains(ev.error, "bad.lua:"));
    assert_true(pfx_contains(ev.error, ": money: 'float' is not text or dec"));
    assert_int_not_equal(load(w, w->dec, "bad2.lua", PFX_ALLOW_JUDGE, "true", &ev), 0);
    assert_true(pfx_contains(ev.error, ": money: expected a string, got a boolean"));
    if (load(w, w->text, "text.lua", PFX_ALLOW_JUDGE, "'text'", &ev) != 0) fail_msg("%s", ev.error);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(same_decisions_with_text_and_dec_values),
        T(dec_values_behave_as_documented),
        T(other_money_modes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
