/* judge(): allow / resize / reject answers, the arguments as the policy
 * sees them (exact decimal strings, refreshed every call), the dec library,
 * failing closed, and the shipped policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy_fixture.h"

typedef struct world {
    pfx fx;
    qh_policy *p;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    w->p = qh_policy_new(NULL);
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

static void load_judge(world *w, const char *prelude, const char *judge)
{
    char text[16384];
    pfx_policy_text(text, sizeof text, prelude, NULL, NULL, NULL, judge);
    qtr_policy_event ev;
    int rc = qh_policy_load(w->p, pfx_write(&w->fx, "judge.lua", text), 1, &ev);
    if (rc != 0) fail_msg("load failed: %s", ev.error);
}

static const char *const verdict_judge =
    "function(o, c)\n"
    "  if o.symbol == \"BANNED\" then return \"reject\", \"banned_symbol\" end\n"
    "  if dec.gt(c.order_notional, \"500\") then\n"
    "    return \"resize\", dec.round_step(dec.div(\"500\", c.price), \"0.001\"), \"max_order_notional\"\n"
    "  end\n"
    "  if o.symbol == \"HALF\" then return \"resize\", dec.div(o.qty, 2) end\n"
    "  return \"allow\"\n"
    "end";

static void test_allow_resize_reject(void **state)
{
    world *w = *state;
    load_judge(w, NULL, verdict_judge);
    qtr_order_intent o;
    qtr_risk_context rc;
    qtr_risk_decision d;

    pfx_order(&o, &rc, "BTCUSDT");          /* notional 500: allowed */
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_APPROVE);
    assert_int_equal(d.qty, o.qty);

    pfx_order(&o, &rc, "BANNED");
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_REJECT);
    assert_string_equal(d.reason, "banned_symbol");

    /* 1.5 at 1000 is 1500 notional: cut to 500 / 1000 = 0.5. */
    pfx_order(&o, &rc, "ETHUSDT");
    o.qty = QTR_DEC_INT(3) / 2;
    rc.price = QTR_DEC_INT(1000);
    rc.order_notional = QTR_DEC_INT(1500);
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_RESIZE);
    assert_int_equal(d.qty, QTR_DEC_INT(1) / 2);
    assert_string_equal(d.reason, "max_order_notional");

    /* Half of 0.01 is 0.005; the default reason. */
    pfx_order(&o, &rc, "HALF");
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_RESIZE);
    assert_int_equal(d.qty, QTR_DEC_INT(5) / 1000);
    assert_string_equal(d.reason, "policy_resize");
    assert_int_equal(qh_policy_judge_errors(w->p), 0);
}

/* The judge checks every field against values written out by hand. */
static const char *const fields_judge =
    "function(o, c)\n"
    "  local want = { symbol = \"SOLUSDT\", side = \"SELL\", type = \"LIMIT\", qty = \"12.5\", price = \"150.25\",\n"
    "    stop_price = \"0\", reduce_only = true, confidence = 0.75, strategy = \"ma_cross\" }\n"
    "  for k, v in pairs(want) do if o[k] ~= v then return \"reject\", \"order_\" .. k end end\n"
    "  local cwant = { equity = \"10000.5\", exposure = \"1878.125\", drawdown_pct = \"1.25\", daily_pnl = \"-12.00000001\",\n"
    "    open_positions = 2, open_symbols = 3, symbol_has_position = true, position_qty = \"-12.5\",\n"
    "    position_notional = \"1878.125\", price = \"150.25\", order_notional = \"1878.125\", funding_rate = \"-0.0001\",\n"
    "    has_book = true, spread_bps = \"0.5\", depth_notional = \"250000\", leverage = 3 }\n"
    "  for k, v in pairs(cwant) do if c[k] ~= v then return \"reject\", \"ctx_\" .. k end end\n"
    "  local n = 0\n"
    "  for k in pairs(c) do n = n + 1 end\n"
    "  if n ~= 16 then return \"reject\", \"ctx_count\" end\n"
    "  return \"allow\"\n"
    "end";

static void fields_order(qtr_order_intent *o, qtr_risk_context *rc)
{
    pfx_order(o, rc, "SOLUSDT");
    snprintf(o->strategy, sizeof o->strategy, "ma_cross");
    o->side = QTR_SIDE_SELL;
    o->type = QTR_ORDER_LIMIT;
    o->qty = QTR_DEC_INT(25) / 2;
    o->price = QTR_DEC_INT(15025) / 100;
    o->reduce_only = true;
    o->confidence = 0.75;
    rc->equity = QTR_DEC_INT(20001) / 2;
    rc->exposure = QTR_DEC_INT(1878125) / 1000;
    rc->drawdown_pct = QTR_DEC_INT(125) / 100;
    rc->daily_pnl = -(QTR_DEC_INT(12) + 1);
    rc->open_positions = 2;
    rc->open_symbols = 3;
    rc->symbol_has_position = true;
    rc->position_qty = -QTR_DEC_INT(25) / 2;
    rc->position_notional = QTR_DEC_INT(1878125) / 1000;
    rc->price = QTR_DEC_INT(15025) / 100;
    rc->order_notional = QTR_DEC_INT(1878125) / 1000;
    rc->funding_rate = -QTR_DEC_INT(1) / 10000;
    rc->has_book = true;
    rc->spread_bps = QTR_DEC_INT(1) / 2;
    rc->depth_notional = QTR_DEC_INT(250000);
    rc->leverage = 3;
}

static void expect(world *w, const qtr_order_intent *o, const qtr_risk_context *rc, qtr_risk_verdict v,
                   const char *reason)
{
    qtr_risk_decision d;
    qh_policy_judge(w->p, o, rc, &d);
    if (d.verdict != v || (reason && strcmp(d.reason, reason) != 0))
        fail_msg("got verdict %d reason %s, want %d %s", (int)d.verdict, d.reason, (int)v, reason ? reason : "");
}

static void test_arguments_exact_and_refreshed(void **state)
{
    world *w = *state;
    load_judge(w, NULL, fields_judge);
    qtr_order_intent o;
    qtr_risk_context rc;
    fields_order(&o, &rc);
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
    /* Each changed field is seen on the very next call (no stale cache). */
    o.qty += 1;
    expect(w, &o, &rc, QTR_RISK_REJECT, "order_qty");
    o.qty -= 1;
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
    snprintf(o.symbol, sizeof o.symbol, "SOLUSDC");
    expect(w, &o, &rc, QTR_RISK_REJECT, "order_symbol");
    snprintf(o.symbol, sizeof o.symbol, "SOLUSDT");
    rc.daily_pnl = 0;
    expect(w, &o, &rc, QTR_RISK_REJECT, "ctx_daily_pnl");
    fields_order(&o, &rc);
    rc.open_positions = 5;
    expect(w, &o, &rc, QTR_RISK_REJECT, "ctx_open_positions");
    fields_order(&o, &rc);
    o.side = QTR_SIDE_BUY;
    expect(w, &o, &rc, QTR_RISK_REJECT, "order_side");
    fields_order(&o, &rc);
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
}

/* dec answers checked against sums worked out by hand (a float sum of 0.1
 * and 0.2 would print 0.30000000000000004). */
static const char *const dec_judge =
    "function(o, c)\n"
    "  local checks = {\n"
    "    dec.add(\"0.1\", \"0.2\") == \"0.3\", dec.sub(\"1\", \"0.00000001\") == \"0.99999999\",\n"
    "    dec.mul(\"1.5\", \"2\") == \"3\", dec.div(\"1\", \"3\") == \"0.33333333\", dec.div(\"-1\", \"3\") == \"-0.33333333\",\n"
    "    dec.cmp(\"0.1\", \"0.10\") == 0, dec.cmp(\"2\", \"10\") == -1, dec.lt(\"0.00000001\", \"0.00000002\"),\n"
    "    dec.ge(5, \"5\"), not dec.gt(\"-1\", 0), dec.eq(\"1e2\", 100), dec.min(\"3\", \"2.5\") == \"2.5\",\n"
    "    dec.max(\"3\", \"2.5\") == \"3\", dec.round_step(\"1.2345\", \"0.01\") == \"1.23\",\n"
    "    not pcall(dec.add, 0.1, \"1\"), not pcall(dec.div, \"1\", \"0\"), not pcall(dec.add, \"1.000000001\", \"1\"),\n"
    "    not pcall(dec.mul, \"90000000000\", \"90000000000\"),\n"
    "  }\n"
    "  for i = 1, 18 do if checks[i] ~= true then return \"reject\", \"dec_check_\" .. i end end\n"
    "  return \"allow\"\n"
    "end";

static void test_dec_library(void **state)
{
    world *w = *state;
    load_judge(w, NULL, dec_judge);
    qtr_order_intent o;
    qtr_risk_context rc;
    pfx_order(&o, &rc, "BTCUSDT");
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
}

static void test_fail_closed_and_recovers(void **state)
{
    world *w = *state;
    load_judge(w, NULL,
               "function(o, c)\n"
               "  if o.symbol == \"ERR\" then error(\"boom\") end\n"
               "  if o.symbol == \"BIG\" then return \"resize\", dec.add(o.qty, \"1\") end\n"
               "  if o.symbol == \"NUM\" then return 42 end\n"
               "  if o.qty ~= \"0.01\" then return \"reject\", \"qty_seen_wrong\" end\n"
               "  return \"allow\"\n"
               "end");
    qtr_order_intent o;
    qtr_risk_context rc;
    qtr_risk_decision d;
    static const char *const bad[] = { "ERR", "BIG", "NUM" };
    for (int i = 0; i < 3; i++) {
        pfx_order(&o, &rc, bad[i]);
        assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_EINVAL);
        assert_int_equal(d.verdict, QTR_RISK_REJECT);
        assert_string_equal(d.reason, "policy_error");
        assert_int_equal(qh_policy_judge_errors(w->p), (uint64_t)i + 1);
        pfx_order(&o, &rc, "BTCUSDT");
        expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
    }
    assert_true(pfx_contains(qh_policy_last_judge_error(w->p), "must return"));
    assert_int_equal(qh_policy_judge(w->p, NULL, &rc, &d), QTR_EINVAL);
    assert_int_equal(d.verdict, QTR_RISK_REJECT);
}

static void load_shipped(world *w, const char *name, const qtr_policy_limits **out)
{
    char path[256], err[512];
    snprintf(path, sizeof path, "policies/%s.lua", name);
    if (qh_policy_check_file(path, err, sizeof err) != 0) fail_msg("%s", err);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, path, 1, &ev), 0);
    *out = qh_policy_limits(w->p);
    assert_string_equal((*out)->name, name);
}

static void test_shipped_policies(void **state)
{
    world *w = *state;
    const qtr_policy_limits *l;
    load_shipped(w, "default", &l);
    assert_int_equal(l->n_symbols, 0);
    assert_int_equal(l->max_position_notional, QTR_DEC_INT(1000));
    assert_true(l->min_confidence == 0.5);
    assert_int_equal(l->ess_max_drawdown_pct, QTR_DEC_INT(10));

    /* The go-live phases as the issue states them. */
    load_shipped(w, "phase1", &l);
    assert_int_equal(l->n_symbols, 3);
    assert_string_equal(l->symbols[0], "BTCUSDT");
    assert_string_equal(l->symbols[1], "ETHUSDT");
    assert_string_equal(l->symbols[2], "BNBUSDT");
    assert_int_equal(l->max_positions, 3);
    assert_int_equal(l->ess_max_drawdown_pct, QTR_DEC_INT(3));
    assert_true(l->min_confidence == 0.60);
    assert_int_equal(l->max_position_notional, QTR_DEC_INT(1000));
    load_shipped(w, "phase2", &l);
    assert_int_equal(l->n_symbols, 10);
    assert_int_equal(l->max_positions, 10);
    assert_int_equal(l->ess_max_drawdown_pct, QTR_DEC_INT(5));
    assert_true(l->min_confidence == 0.50);
    assert_int_equal(l->max_position_notional, QTR_DEC_INT(2000));
    load_shipped(w, "phase3", &l);
    assert_int_equal(l->n_symbols, 20);
    assert_int_equal(l->max_positions, 20);
    assert_int_equal(l->ess_max_drawdown_pct, QTR_DEC_INT(5));
    assert_true(l->min_confidence == 0.45);
    assert_int_equal(l->max_position_notional, QTR_DEC_INT(2000));
}

static void test_default_policy_judge(void **state)
{
    world *w = *state;
    const qtr_policy_limits *l;
    load_shipped(w, "default", &l);
    qtr_order_intent o;
    qtr_risk_context rc;
    pfx_order(&o, &rc, "XRPUSDT");
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
    o.confidence = 0.4;
    expect(w, &o, &rc, QTR_RISK_REJECT, "min_confidence");
    o.reduce_only = true;
    expect(w, &o, &rc, QTR_RISK_APPROVE, NULL);
    pfx_order(&o, &rc, "XRPUSDT");
    rc.drawdown_pct = QTR_DEC_INT(5);    /* half of the 10% ESS drawdown */
    expect(w, &o, &rc, QTR_RISK_REJECT, "drawdown_guard");
    /* 20 at 100 is 2000 notional; 500 / 100 = 5. */
    pfx_order(&o, &rc, "XRPUSDT");
    o.qty = QTR_DEC_INT(20);
    rc.price = QTR_DEC_INT(100);
    rc.order_notional = QTR_DEC_INT(2000);
    qtr_risk_decision d;
    assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
    assert_int_equal(d.verdict, QTR_RISK_RESIZE);
    assert_int_equal(d.qty, QTR_DEC_INT(5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allow_resize_reject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments_exact_and_refreshed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dec_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_closed_and_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shipped_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_policy_judge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
