/* The fast paths under `dec`: the parse cache (only ever answers what
 * qtr_dec_parse would, whatever the collector does with string addresses),
 * the decimal formatter (the same text as qtr_dec_format), dec.div_step
 * (the same as round_step of div), and the cache being what serves a
 * judge() call's dec arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "policy/policy_internal.h"
#include "policy/sandbox.h"
#include "policy_fixture.h"
#include "test_rng.h"

/* ---- the decimal formatter ---- */

static void expect_same_text(int64_t v)
{
    char want[QTR_DEC_STRLEN], got[QTR_DEC_STRLEN];
    memset(got, 'x', sizeof got);
    qtr_dec_format(v, want);
    size_t len = qh_dec_format(v, got);
    if (strcmp(want, got) != 0 || len != strlen(want))
        fail_msg("value %lld: qtr_dec_format \"%s\", qh_dec_format \"%s\" (length %zu)", (long long)v, want, got, len);
}

static uint64_t rng_next(uint64_t *s) { return test_rng_next(s); }

static void test_format_matches_qtr_dec_format(void **state)
{
    (void)state;
    static const int64_t edges[] = { 0, 1, -1, 9, 10, 99, 100, 101, 12345678, 99999999, 100000000, 100000001,
                                     -100000000, 150000000, 1000000000, 1050000000, 9999999999, 10000000000,
                                     INT64_MAX, INT64_MIN, -INT64_MAX, INT64_MAX / 10, 5000000000000 };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) expect_same_text(edges[i]);
    /* Every power of ten and its neighbours, both signs. */
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10)
        for (int64_t d = -1; d <= 1; d++) {
            expect_same_text(p + d);
            expect_same_text(-(p + d));
        }
    /* Values of every magnitude, with and without decimals. */
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng_next(&s);
        int64_t v = (int64_t)(r >> (r % 63));
        if (i % 3 == 0) v -= v % QTR_DEC_SCALE;                /* a whole number */
        if (i % 5 == 0) v -= v % 1000;                         /* five decimals at most */
        expect_same_text(i % 2 ? -v : v);
    }
}

/* ---- the parse cache, directly ---- */

static void test_cache_answers_by_content_not_address(void **state)
{
    (void)state;
    qh_dec_cache *c = calloc(1, sizeof *c);
    assert_non_null(c);
    char text[32];
    int64_t v = 0;

    snprintf(text, sizeof text, "1.5");
    assert_false(qh_dec_cache_lookup(c, text, 3, &v));
    assert_int_equal(qh_dec_cache_parse(c, text, 3, &v), QTR_DEC_OK);
    assert_int_equal(v, QTR_DEC_INT(3) / 2);
    v = 0;
    assert_true(qh_dec_cache_lookup(c, text, 3, &v));      /* now cached */
    assert_int_equal(v, QTR_DEC_INT(3) / 2);

    /* The same address now holding other text (a freed string whose memory
     * the collector gave to a new one): a miss, and parsing gives the new value. */
    memcpy(text, "2.5", 3);
    assert_false(qh_dec_cache_lookup(c, text, 3, &v));
    assert_int_equal(qh_dec_cache_parse(c, text, 3, &v), QTR_DEC_OK);
    assert_int_equal(v, QTR_DEC_INT(5) / 2);
    /* Same address and first bytes, another length. */
    snprintf(text, sizeof text, "2.55");
    assert_int_equal(qh_dec_cache_parse(c, text, 4, &v), QTR_DEC_OK);
    assert_int_equal(v, 255000000);
    assert_int_equal(qh_dec_cache_parse(c, text, 3, &v), QTR_DEC_OK);
    assert_int_equal(v, QTR_DEC_INT(5) / 2);

    /* Equal text at another address: the same value. */
    char other[8] = "2.55";
    assert_int_equal(qh_dec_cache_parse(c, other, 4, &v), QTR_DEC_OK);
    assert_int_equal(v, 255000000);

    /* Bad text is never cached: it fails every time, with the parser's status. */
    snprintf(text, sizeof text, "1.000000001");
    assert_int_equal(qh_dec_cache_parse(c, text, strlen(text), &v), QTR_DEC_EPRECISION);
    assert_int_equal(qh_dec_cache_parse(c, text, strlen(text), &v), QTR_DEC_EPRECISION);
    assert_false(qh_dec_cache_lookup(c, text, strlen(text), &v));
    snprintf(text, sizeof text, "abc");
    assert_int_equal(qh_dec_cache_parse(c, text, 3, &v), QTR_DEC_ESYNTAX);

    /* Text too long for an entry is parsed every time, and right. */
    snprintf(text, sizeof text, "000000000000000000000001.5");
    assert_int_equal(qh_dec_cache_parse(c, text, strlen(text), &v), QTR_DEC_OK);
    assert_int_equal(v, QTR_DEC_INT(3) / 2);
    assert_false(qh_dec_cache_lookup(c, text, strlen(text), &v));
    free(c);
}

/* Many strings at many addresses, far more than the cache holds: every
 * answer is the parser's, whichever entries were pushed out. */
static void test_cache_full_of_other_strings(void **state)
{
    (void)state;
    qh_dec_cache *c = calloc(1, sizeof *c);
    enum { N = 4096 };
    char(*texts)[16] = calloc(N, sizeof *texts);
    assert_non_null(c);
    assert_non_null(texts);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            int k = (i * 7919 + round * 31) % N;
            int n = snprintf(texts[k], sizeof texts[k], "%d.%02d", k + round, k % 100);
            int64_t want = (int64_t)(k + round) * QTR_DEC_SCALE + (k % 100) * 1000000, v = 0;
            /* new text where other text was cached the round before */
            assert_int_equal(qh_dec_cache_parse(c, texts[k], (size_t)n, &v), QTR_DEC_OK);
            assert_int_equal(v, want);
            v = 0;
            assert_true(qh_dec_cache_lookup(c, texts[k], (size_t)n, &v));   /* and now it is cached */
            assert_int_equal(v, want);
        }
    assert_int_equal(c->hits, 3 * N);
    assert_int_equal(c->misses, 3 * N);
    free(texts);
    free(c);
}

/* ---- dec inside a sandbox ---- */

static qh_sandbox *new_sandbox(void)
{
    qh_sandbox *sb = qh_sandbox_new((size_t)16 << 20, 50000000);
    assert_non_null(sb);
    qh_sandbox_set_call_limits(sb, 60000, (size_t)1 << 30);   /* long runs: not about time */
    return sb;
}

/* Run Lua source in the sandbox; it must return one integer, the count of
 * failed checks (0). */
static void expect_no_failures(qh_sandbox *sb, const char *src)
{
    char err[512];
    if (qh_sandbox_load_text(sb, src, strlen(src), "dec_check", err, sizeof err) != 0 ||
        qh_sandbox_call(sb, 0, 1, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (!lua_isinteger(sb->L, -1)) fail_msg("the chunk returned no count");
    lua_Integer failed = lua_tointeger(sb->L, -1);
    lua_pop(sb->L, 1);
    if (failed != 0) fail_msg("%lld checks failed", (long long)failed);
}

/* Fresh strings that die at once, thousands of them: the collector frees
 * them and hands their memory to new strings of other text, often at the
 * same address. Every answer must be that of the text at hand, checked
 * against integer arithmetic (no dec involved in the expected value). */
static void test_dec_exact_while_strings_are_collected(void **state)
{
    (void)state;
    qh_sandbox *sb = new_sandbox();
    uint64_t misses0 = sb->dec_cache.misses;
    expect_no_failures(sb,
                       "local failed = 0\n"
                       "for i = 1, 20000 do\n"
                       "  local cents = (i * 37) % 100\n"
                       "  local s = string.format('%d.%02d', i, cents)\n"
                       "  if dec.mul(s, 100) ~= string.format('%d', i * 100 + cents) then failed = failed + 1 end\n"
                       "  if dec.cmp(s, i) ~= (cents > 0 and 1 or 0) then failed = failed + 1 end\n"
                       "  local filler = string.rep('z', 8 + i % 32) .. i\n"
                       "  local r = dec.add(s, '0.01')\n"
                       "  local want = cents == 99 and string.format('%d', i + 1)\n"
                       "     or string.format('%d.%02d', i, cents + 1):gsub('0$', ''):gsub('%.$', '')\n"
                       "  if r ~= want then failed = failed + 1 end\n"
                       "  if dec.sub(r, s) ~= '0.01' then failed = failed + 1 end\n"
                       "end\n"
                       "return failed\n");
    /* The results of dec.add were remembered as they were made, so
     * dec.sub(r, s) found r without parsing it. */
    assert_true(sb->dec_cache.hits >= 20000);
    assert_true(sb->dec_cache.misses > misses0);
    qh_sandbox_free(sb);
}

static void test_div_step_is_round_step_of_div(void **state)
{
    (void)state;
    qh_sandbox *sb = new_sandbox();
    expect_no_failures(sb,
                       "local failed = 0\n"
                       "local as = { '500', '1000', '0.5', '-500', '123456.789', '0', '0.00000001', '92233720368' }\n"
                       "local bs = { '50000', '3000.5', '0.001', '-7', '1', '3', '0.00000003', '99999.99999999' }\n"
                       "local steps = { '0.001', '0.00000001', '1', '0.5', '10', '0.003' }\n"
                       "for _, a in ipairs(as) do for _, b in ipairs(bs) do for _, st in ipairs(steps) do\n"
                       "  local ok1, r1 = pcall(dec.div_step, a, b, st)\n"
                       "  local ok2, r2 = pcall(function() return dec.round_step(dec.div(a, b), st) end)\n"
                       "  if ok1 ~= ok2 or (ok1 and r1 ~= r2) then failed = failed + 1 end\n"
                       "end end end\n"
                       "for i = 1, 3000 do\n"
                       "  local a = string.format('%d.%03d', i * 7, i % 1000)\n"
                       "  local b = string.format('%d.%02d', 1 + i % 97, i % 100)\n"
                       "  if dec.div_step(a, b, '0.001') ~= dec.round_step(dec.div(a, b), '0.001') then failed = failed + 1 end\n"
                       "end\n"
                       "if dec.div_step('500', 50000, '0.001') ~= '0.01' then failed = failed + 1 end\n"
                       "if dec.div_step('-1', '3', '0.01') ~= '-0.33' then failed = failed + 1 end\n"
                       "local ok, e = pcall(dec.div_step, '1', '0', '0.001')\n"
                       "if ok or not e:find('dec.div_step', 1, true) then failed = failed + 1 end\n"
                       "ok, e = pcall(dec.div_step, '1', '3', '0')\n"
                       "if ok or not e:find('step must be > 0', 1, true) then failed = failed + 1 end\n"
                       "ok, e = pcall(dec.div_step, '1', '3')\n"
                       "if ok or not e:find('argument #3', 1, true) then failed = failed + 1 end\n"
                       "ok, e = pcall(dec.div_step, '1', '3', 0.5)\n"
                       "if ok or not e:find('float', 1, true) then failed = failed + 1 end\n"
                       "return failed\n");
    qh_sandbox_free(sb);
}

/* ---- through judge() ---- */

static qh_compiled_policy *compile_text(pfx *fx, const char *name, const char *text)
{
    const char *path = pfx_write(fx, name, text);
    char err[1024];
    qh_policy_rules limits;
    qh_compiled_policy *cp = qh_policy_compile(NULL, path, text, strlen(text), &limits, err, sizeof err);
    if (!cp) fail_msg("%s", err);
    return cp;
}

/* The shipped default, on orders whose price and quantity change every
 * call: after the first calls the dec arguments (the limits, and the money
 * fields of the order in progress, entered as they were made) come from the
 * cache, and the answers are those worked out by hand. */
static void test_judge_dec_arguments_come_from_the_cache(void **state)
{
    (void)state;
    char *buf;
    size_t len;
    char err[512];
    if (qh_policy_read_file("policies/default.lua", &buf, &len, err, sizeof err) != 0) fail_msg("%s", err);
    qh_policy_rules limits;
    qh_compiled_policy *cp = qh_policy_compile(NULL, "policies/default.lua", buf, len, &limits, err, sizeof err);
    free(buf);
    if (!cp) fail_msg("%s", err);
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    uint64_t misses = 0;
    for (int i = 0; i < 200; i++) {
        o.qty = QTR_DEC_INT(1) / 1000 + (qtr_dec)i * 100000;     /* 0.001 + i * 0.001 */
        rc.price = QTR_DEC_INT(50000) + (qtr_dec)i * 1000000;     /* 50000 + i * 0.01  */
        assert_true(qtr_dec_mul(o.qty, rc.price, QTR_ROUND_DOWN, &rc.order_notional));
        qtr_risk_decision d;
        assert_int_equal(qh_compiled_judge(cp, &o, &rc, &d, err, sizeof err), 0);
        if (rc.order_notional <= QTR_DEC_INT(500)) {
            assert_int_equal(d.verdict, QTR_RISK_APPROVE);
        } else {
            /* 500 / price is just under 0.01: 0.009 in lots of 0.001 */
            assert_int_equal(d.verdict, QTR_RISK_RESIZE);
            assert_int_equal(d.qty, QTR_DEC_INT(9) / 1000);
        }
        if (i == 10) misses = cp->sb->dec_cache.misses;   /* the limits and the lot size seen once */
    }
    /* Nothing parsed after the first calls but, now and then, a string made
     * long ago (the drawdown, unchanged) whose entry newer ones took over:
     * it is parsed once more and kept with the parsed texts. Without the
     * made strings entered as they are made it would be two a call. */
    assert_true(cp->sb->dec_cache.misses - misses <= 4);
    assert_true(cp->sb->dec_cache.hits > 400);
    qh_compiled_policy_free(cp);
}

/* A money field holding INT64_MIN prints as text that qtr_dec_parse
 * refuses; dec must go on refusing it (a policy error), as before the cache. */
static void test_unparseable_money_field_still_refused(void **state)
{
    (void)state;
    pfx fx;
    pfx_init(&fx);
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL,
                    "function(o, c) if dec.gt(c.price, 0) then return \"allow\" end return \"reject\", \"low\" end");
    qh_compiled_policy *cp = compile_text(&fx, "min.lua", text);
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, "BTCUSDT");
    rc.price = INT64_MIN;
    qtr_risk_decision d;
    char err[512];
    assert_int_equal(qh_compiled_judge(cp, &o, &rc, &d, err, sizeof err), -1);
    assert_int_equal(d.verdict, QTR_RISK_REJECT);
    assert_string_equal(d.reason, "policy_error");
    assert_true(pfx_contains(err, "out of range"));
    rc.price = -INT64_MAX;   /* the lowest qtr_dec: fine */
    assert_int_equal(qh_compiled_judge(cp, &o, &rc, &d, err, sizeof err), 0);
    assert_string_equal(d.reason, "low");
    qh_compiled_policy_free(cp);
    pfx_cleanup(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_matches_qtr_dec_format),
        cmocka_unit_test(test_cache_answers_by_content_not_address),
        cmocka_unit_test(test_cache_full_of_other_strings),
        cmocka_unit_test(test_dec_exact_while_strings_are_collected),
        cmocka_unit_test(test_div_step_is_round_step_of_div),
        cmocka_unit_test(test_judge_dec_arguments_come_from_the_cache),
        cmocka_unit_test(test_unparseable_money_field_still_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
