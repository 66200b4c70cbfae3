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

#include "policy/policy_internal.h"
#include "policy_fixture.h"
#include "test_rng.h"

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
    qh_risk_ctx rc;
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

static void fields_order(qtr_order_intent *o, qh_risk_ctx *rc)
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

static void expect(world *w, const qtr_order_intent *o, const qh_risk_ctx *rc, qtr_risk_verdict v,
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
    qh_risk_ctx rc;
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
    qh_risk_ctx rc;
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
    qh_risk_ctx rc;
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

static void load_shipped(world *w, const char *name, const qh_policy_rules **out)
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
    const qh_policy_rules *l;
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
    const qh_policy_rules *l;
    load_shipped(w, "default", &l);
    qtr_order_intent o;
    qh_risk_ctx rc;
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

/* The judge every shipped policy had before it was rewritten for speed
 * (locals for the dec functions and limits, dec.div_step, qty == "0"),
 * word for word but for its name; it runs against the same file's limits. */
static const char *const reference_judge =
    "local ref_guard_pct = dec.div(ess.max_drawdown_pct, 2)\n"
    "local function reference_judge(order, ctx)\n"
    "    if order.reduce_only then\n"
    "        return \"allow\"\n"
    "    end\n"
    "    if order.confidence < limits.min_confidence then\n"
    "        return \"reject\", \"min_confidence\"\n"
    "    end\n"
    "    if dec.ge(ctx.drawdown_pct, ref_guard_pct) then\n"
    "        return \"reject\", \"drawdown_guard\"\n"
    "    end\n"
    "    if dec.gt(ctx.order_notional, limits.max_order_notional) and dec.gt(ctx.price, 0) then\n"
    "        local qty = dec.round_step(dec.div(limits.max_order_notional, ctx.price), \"0.001\")\n"
    "        if dec.le(qty, 0) then\n"
    "            return \"reject\", \"max_order_notional\"\n"
    "        end\n"
    "        return \"resize\", qty, \"max_order_notional\"\n"
    "    end\n"
    "    return \"allow\"\n"
    "end\n";

static uint64_t rng_next(uint64_t *s) { return test_rng_next(s); }

static qtr_dec pick(uint64_t *s, const qtr_dec *from, size_t n) { return from[rng_next(s) % n]; }

/* Orders around every edge the judge has: reduce-only, the confidence
 * floors, the drawdown guards, notionals at and past the limits, prices
 * of zero, negative, tiny (a quotient out of range) and huge (a quantity
 * that rounds to nothing), resizes above the order's own quantity. */
static void edge_order(uint64_t *s, qtr_order_intent *o, qh_risk_ctx *rc)
{
    static const double conf[] = { 0.3, 0.45, 0.449, 0.5, 0.55, 0.6, 0.61, 0.9 };
    static const qtr_dec drawdown[] = { 0, QTR_DEC_INT(1), QTR_DEC_INT(3) / 2 - 1, QTR_DEC_INT(3) / 2,
                                        QTR_DEC_INT(5) / 2 - 1, QTR_DEC_INT(5) / 2, QTR_DEC_INT(3), QTR_DEC_INT(10),
                                        -QTR_DEC_INT(1) };
    static const qtr_dec price[] = { 0, -QTR_DEC_INT(1), 1, QTR_DEC_INT(1) / 2, QTR_DEC_INT(3000), QTR_DEC_INT(50000),
                                     QTR_DEC_INT(123456789) / 1000, QTR_DEC_INT(1000000), QTR_DEC_INT(2000000),
                                     QTR_DEC_INT(1000000000) };
    static const qtr_dec notional[] = { QTR_DEC_INT(500), QTR_DEC_INT(500) + 1, QTR_DEC_INT(1000), QTR_DEC_INT(1000) + 1,
                                        QTR_DEC_INT(499), QTR_DEC_INT(2500), 0, -QTR_DEC_INT(5) };
    pfx_order(o, rc, "BTCUSDT");
    o->reduce_only = rng_next(s) % 8 == 0;
    o->confidence = conf[rng_next(s) % (sizeof conf / sizeof conf[0])];
    rc->drawdown_pct = pick(s, drawdown, sizeof drawdown / sizeof drawdown[0]);
    rc->price = rng_next(s) % 4 ? pick(s, price, sizeof price / sizeof price[0])
                                : (qtr_dec)(rng_next(s) % ((uint64_t)QTR_DEC_INT(100000)));
    o->qty = (qtr_dec)(rng_next(s) % (uint64_t)QTR_DEC_INT(rng_next(s) % 2 ? 1 : 100)) + 1;
    if (rng_next(s) % 3 == 0 || !qtr_dec_mul(o->qty, rc->price, QTR_ROUND_DOWN, &rc->order_notional))
        rc->order_notional = pick(s, notional, sizeof notional / sizeof notional[0]);
}

static void test_shipped_policies_decide_as_before(void **state)
{
    world *w = *state;
    static const char *const names[] = { "default", "phase1", "phase2", "phase3" };
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        char path[256], err[512];
        snprintf(path, sizeof path, "policies/%s.lua", names[n]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char shipped[65536], reference[70000];
        size_t len = fread(shipped, 1, sizeof shipped - 1, f);
        fclose(f);
        shipped[len] = '\0';
        /* The same file, answering with the reference judge. */
        const char *ret = strstr(shipped, "\nreturn {");
        const char *field = strstr(shipped, "judge = judge,");
        assert_non_null(ret);
        assert_non_null(field);
        snprintf(reference, sizeof reference, "%.*s\n%s%.*sjudge = reference_judge,%s", (int)(ret - shipped), shipped,
                 reference_judge, (int)(field - ret), ret, field + strlen("judge = judge,"));
        qtr_policy_event ev;
        assert_int_equal(qh_policy_load(w->p, path, 1, &ev), 0);
        qh_policy *ref = qh_policy_new(NULL);
        if (qh_policy_load(ref, pfx_write(&w->fx, "reference.lua", reference), 1, &ev) != 0)
            fail_msg("%s", ev.error);
        uint64_t seed = 0x2545F4914F6CDD1Du + n;
        size_t verdicts[4] = { 0 }, cut_to_nothing = 0;
        for (int i = 0; i < 40000; i++) {
            qtr_order_intent o;
            qh_risk_ctx rc;
            edge_order(&seed, &o, &rc);
            qtr_risk_decision a, b;
            int ra = qh_policy_judge(w->p, &o, &rc, &a), rb = qh_policy_judge(ref, &o, &rc, &b);
            if (ra != rb || a.verdict != b.verdict || a.qty != b.qty || strcmp(a.reason, b.reason) != 0)
                fail_msg("%s, order %d (qty %lld, price %lld, notional %lld, drawdown %lld): %d %d %lld %s, "
                         "before %d %d %lld %s (%s)",
                         names[n], i, (long long)o.qty, (long long)rc.price, (long long)rc.order_notional,
                         (long long)rc.drawdown_pct, ra, (int)a.verdict, (long long)a.qty, a.reason, rb,
                         (int)b.verdict, (long long)b.qty, b.reason, qh_policy_last_judge_error(w->p));
            verdicts[ra != QTR_OK ? 0 : (int)a.verdict]++;   /* 0: a policy error; else the verdict */
            cut_to_nothing += strcmp(a.reason, "max_order_notional") == 0 && a.verdict == QTR_RISK_REJECT;
        }
        if (cut_to_nothing < 100) fail_msg("%s: only %zu orders cut to nothing", names[n], cut_to_nothing);
        /* every kind of answer came up, policy errors too */
        for (int k = 0; k < 4; k++)
            if (verdicts[k] < 100) fail_msg("%s: only %zu answers of kind %d", names[n], verdicts[k], k);
        print_message("%s: %zu errors, %zu allowed, %zu resized, %zu rejected (%zu cut to nothing)\n", names[n],
                      verdicts[0], verdicts[1], verdicts[2], verdicts[3], cut_to_nothing);
        qh_policy_free(ref);
        (void)err;
    }
}

/* Money fields are found by name however the name was made (interned, so
 * the lookup by address finds it), through pairs(), and not at all under
 * other names; the answers stay right while the collector runs. */
static const char *const names_judge =
    "function(o, c)\n"
    "  local junk = {}\n"
    "  for i = 1, 300 do junk[i] = string.rep('j', 20) .. i end\n"
    "  local p = 'pr' .. ('ice'):lower()\n"
    "  if c[p] ~= c.price or o[p] ~= o.price then return 'reject', 'dynamic_name' end\n"
    "  if c[string.format('%s_%s', 'depth', 'notional')] ~= '250000' then return 'reject', 'depth' end\n"
    "  if c.pricex ~= nil or c[1] ~= nil or c[true] ~= nil or o.notional ~= nil then return 'reject', 'unknown' end\n"
    "  local seen = 0\n"
    "  for k, v in pairs(c) do if c[k] ~= v then return 'reject', 'pairs_' .. k end seen = seen + 1 end\n"
    "  if seen ~= 16 then return 'reject', 'pairs_count' end\n"
    "  return 'resize', dec.div_step(o.qty, 2, '0.5'), 'half'\n"
    "end";

static void test_money_fields_by_any_name(void **state)
{
    world *w = *state;
    load_judge(w, NULL, names_judge);
    qtr_order_intent o;
    qh_risk_ctx rc;
    fields_order(&o, &rc);
    for (int i = 0; i < 300; i++) {
        o.qty = QTR_DEC_INT(10 + i);
        rc.price = QTR_DEC_INT(100) + i;
        o.price = rc.price - 1;
        qtr_risk_decision d;
        assert_int_equal(qh_policy_judge(w->p, &o, &rc, &d), QTR_OK);
        assert_string_equal(d.reason, "half");
        assert_int_equal(d.qty, QTR_DEC_INT(10 + i) / 2);
    }
}

/* Text fields: at most 23 bytes of a symbol with no NUL; a symbol or
 * strategy that changes only in length is seen on the next call. */
static void test_text_fields_refreshed(void **state)
{
    world *w = *state;
    load_judge(w, NULL,
               "function(o, c)\n"
               "  if o.strategy == '' then return 'reject', 'no_strategy' end\n"
               "  return 'reject', 's' .. #o.symbol .. '_' .. o.symbol:lower() .. '_' .. o.strategy\n"
               "end");
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    expect(w, &o, &rc, QTR_RISK_REJECT, "s7_btcusdt_test");
    snprintf(o.symbol, sizeof o.symbol, "BTCUSD");
    expect(w, &o, &rc, QTR_RISK_REJECT, "s6_btcusd_test");
    snprintf(o.strategy, sizeof o.strategy, "test2");
    expect(w, &o, &rc, QTR_RISK_REJECT, "s6_btcusd_test2");
    snprintf(o.strategy, sizeof o.strategy, "test");
    expect(w, &o, &rc, QTR_RISK_REJECT, "s6_btcusd_test");
    memset(o.symbol, 'A', sizeof o.symbol);     /* no terminating NUL */
    expect(w, &o, &rc, QTR_RISK_REJECT, "s23_aaaaaaaaaaaaaaaaaaaaaaa_test");
    o.strategy[0] = '\0';
    expect(w, &o, &rc, QTR_RISK_REJECT, "no_strategy");
    expect(w, &o, &rc, QTR_RISK_REJECT, "no_strategy");
    snprintf(o.strategy, sizeof o.strategy, "test");
    snprintf(o.symbol, sizeof o.symbol, "BTCUSDT");
    expect(w, &o, &rc, QTR_RISK_REJECT, "s7_btcusdt_test");
}

/* Money fields read on every call, every few calls, in a run of calls and
 * then never, through pairs() now and then, with values that change on
 * most calls: whether a field is made when read or at once when it
 * changes, judge() always sees the value of the call in progress. */
static const char *const patterns_judge =
    "function(o, c)\n"
    "  local i = c.open_positions\n"
    "  local want = c.open_symbols .. '.5'\n"
    "  if c.order_notional ~= want then return 'reject', 'stale_order_notional' end\n"
    "  if o.qty ~= want then return 'reject', 'stale_qty' end\n"
    "  if i % 2 == 0 and c.exposure ~= want then return 'reject', 'stale_exposure' end\n"
    "  if i % 3 == 0 and c.price ~= want then return 'reject', 'stale_price' end\n"
    "  if i % 7 == 0 and c.equity ~= want then return 'reject', 'stale_equity' end\n"
    "  if i % 5 == 1 and o.price ~= want then return 'reject', 'stale_order_price' end\n"
    "  if i >= 100 and i < 140 and c.daily_pnl ~= want then return 'reject', 'stale_daily_pnl' end\n"
    "  if i % 50 == 0 then\n"
    "    for k, v in pairs(c) do if type(v) == 'string' and v ~= want then return 'reject', 'stale_pairs' end end\n"
    "  end\n"
    "  return 'allow'\n"
    "end";

static void test_money_fields_always_current(void **state)
{
    world *w = *state;
    char text[16384];
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, patterns_judge);
    const char *path = pfx_write(&w->fx, "patterns.lua", text);
    char err[1024];
    qh_policy_rules limits;
    qh_compiled_policy *cp = qh_policy_compile(NULL, path, text, strlen(text), &limits, err, sizeof err);
    if (!cp) fail_msg("%s", err);
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    qtr_dec *order_money[] = { &o.qty, &o.price, &o.stop_price };
    qtr_dec *ctx_money[] = { &rc.equity, &rc.exposure, &rc.drawdown_pct, &rc.daily_pnl, &rc.position_qty,
                             &rc.position_notional, &rc.price, &rc.order_notional, &rc.funding_rate,
                             &rc.spread_bps, &rc.depth_notional };
    int32_t last[2] = { 0, 0 };   /* the money of the last two calls */
    for (int i = 1; i <= 400; i++) {
        /* Mostly new money; every tenth call the same as the last call, every
         * thirteenth the same as the call before it. open_symbols says which. */
        int32_t whole = i % 13 == 0 ? last[1] : i % 10 == 0 ? last[0] : i;
        last[1] = last[0];
        last[0] = whole;
        rc.open_positions = i;
        rc.open_symbols = whole;
        qtr_dec v = QTR_DEC_INT(whole) + QTR_DEC_SCALE / 2;
        for (size_t k = 0; k < sizeof order_money / sizeof order_money[0]; k++) *order_money[k] = v;
        for (size_t k = 0; k < sizeof ctx_money / sizeof ctx_money[0]; k++) *ctx_money[k] = v;
        qtr_risk_decision d;
        if (qh_compiled_judge(cp, &o, &rc, &d, err, sizeof err) != 0) fail_msg("call %d: %s", i, err);
        if (d.verdict != QTR_RISK_APPROVE) fail_msg("call %d: %s", i, d.reason);
        if (i == 90) {   /* read on every call: made as soon as it changes */
            assert_int_equal(cp->money_period[QH_JF_ORDER_NOTIONAL], QH_MONEY_EAGER_MAX);
            assert_int_equal(cp->money_period[QH_JF_QTY], QH_MONEY_EAGER_MAX);
        }
    }
    /* read in calls 100 to 139 only: made only when read again */
    assert_int_equal(cp->money_period[QH_JF_DAILY_PNL], 0);
    /* never read but through pairs(): never made ahead */
    assert_int_equal(cp->money_period[QH_JF_DEPTH], 0);
    qh_compiled_policy_free(cp);
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
        cmocka_unit_test_setup_teardown(test_shipped_policies_decide_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_money_fields_by_any_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_fields_refreshed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_money_fields_always_current, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
