/* bn_jread (the allocation-free JSON reader) and the raw-body readers built
 * on it: exact values on good input, a clear error on each kind of bad
 * input, and a differential run against jansson over mutated replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bn_jread.h"
#include "bn_json.h"
#include "bn_order_json.h"
#include "jread_diff.h"
#include "mock_host.h" /* D(): a decimal literal, aborting on a typo */
#include "test_rng.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* Whole documents. ---------------------------------------------------------- */

static void accepts_valid_documents(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}", "[]", " \t\r\n{ } \n", "0", "-0", "1.5e-3", "1E+2", "-12.250", "\"\"", "true", "false", "null",
        "[1,2.5,\"x\",true,false,null,{},[]]",
        "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"", /* raw UTF-8 and DEL are allowed */
        "{\"a\":\"\\u0000\"}",                               /* valid JSON; getters refuse it */
        "123456789012345678901234567890",                    /* valid JSON; getters refuse it */
        "{\"a\":1,\"a\":2}",                                 /* duplicate keys are valid JSON */
    };
    char err[160];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (bn_json_check(ok[i], strlen(ok[i]), err, sizeof err) != 0) fail_msg("'%s' refused: %s", ok[i], err);
}

static void refused(const char *doc, size_t n, const char *want)
{
    char err[160] = "";
    int rc = bn_json_check(doc, n, err, sizeof err);
    if (rc != -1 || !strstr(err, want)) fail_msg("'%s': rc %d err '%s', wanted '%s'", jread_show(doc, n), rc, err, want);
}
#define REFUSED(doc, want) refused(LIT(doc), want)

static void refuses_malformed_documents(void **state)
{
    (void)state;
    /* truncated */
    REFUSED("", "byte 0: unexpected end of input");
    REFUSED("   ", "byte 3: unexpected end of input");
    REFUSED("{\"a\":1", "byte 6: unexpected end of input");
    REFUSED("{\"a\":\"xy", "byte 8: unexpected end of input");
    REFUSED("{\"a\"", "unexpected end of input");
    REFUSED("[1,2", "unexpected end of input");
    REFUSED("{\"a\":tr", "unexpected end of input");
    REFUSED("{\"a\":\"\\u00", "unexpected end of input");
    /* escapes */
    REFUSED("\"\\x\"", "byte 1: invalid escape in a string");
    REFUSED("\"\\u12G4\"", "byte 1: invalid \\u escape");
    REFUSED("\"\\uD800\"", "byte 1: lone high surrogate");
    REFUSED("\"\\uD800\\u0041\"", "lone high surrogate");
    REFUSED("\"\\uD800x\"", "lone high surrogate");
    REFUSED("\"\\uD800\\n\"", "lone high surrogate");
    REFUSED("\"\\uD800\\", "unexpected end of input");
    REFUSED("\"\\uDC00\"", "byte 1: lone low surrogate");
    REFUSED("\"\\uDE00\\uD83D\"", "lone low surrogate"); /* pair in the wrong order */
    /* raw control characters and bad UTF-8 in strings */
    REFUSED("\"a\x01\"", "byte 2: raw control character in a string");
    REFUSED("\"a\nb\"", "raw control character");
    REFUSED("\"a\tb\"", "raw control character");
    REFUSED("\"a\0b\"", "raw control character");
    REFUSED("\"\xc0\x80\"", "invalid UTF-8");         /* overlong NUL */
    REFUSED("\"\xed\xa0\x80\"", "invalid UTF-8");     /* an encoded surrogate */
    REFUSED("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* past U+10FFFF */
    REFUSED("\"\xc3\"", "invalid UTF-8");             /* cut sequence */
    REFUSED("\"\x80\"", "invalid UTF-8");             /* lone continuation */
    /* numbers */
    REFUSED("01", "byte 0: number with a leading zero");
    REFUSED("{\"a\":01}", "byte 5: number with a leading zero");
    REFUSED("-01", "leading zero");
    REFUSED("[1.]", "byte 3: expected a digit after '.'");
    REFUSED("1.", "unexpected end of input");
    REFUSED("-", "unexpected end of input");
    REFUSED("[-]", "byte 2: expected a digit");
    REFUSED("+1", "byte 0: expected a value");
    REFUSED(".5", "expected a value");
    REFUSED("[1e]", "expected a digit in the exponent");
    REFUSED("[1e+]", "expected a digit in the exponent");
    REFUSED("[0x10]", "expected ',' or ']'");
    /* structure */
    REFUSED("{\"a\" 1}", "byte 5: expected ':' after a key");
    REFUSED("{\"a\":1,}", "byte 7: expected a key string");
    REFUSED("{'a':1}", "expected a key string");
    REFUSED("{a:1}", "expected a key string");
    REFUSED("[1,]", "byte 3: expected a value");
    REFUSED("[1 2]", "expected ',' or ']'");
    REFUSED("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    REFUSED("[True]", "expected a value");
    REFUSED("[nul]", "expected a value");
    REFUSED("\xef\xbb\xbf{}", "byte 0: expected a value"); /* a BOM */
    /* trailing garbage */
    REFUSED("{} x", "byte 3: unexpected data after the JSON value");
    REFUSED("{}{}", "byte 2: unexpected data");
    REFUSED("[1]]", "unexpected data");
    REFUSED("{}\0", "byte 2: unexpected data");
    REFUSED("1 2", "unexpected data");
    /* an HTML error page */
    REFUSED("<html><body><h1>502 Bad Gateway</h1></body></html>", "byte 0: expected a value");
}

static void nesting_is_capped(void **state)
{
    (void)state;
    char doc[2 * (BN_JREAD_MAX_DEPTH + 1) + 1];
    char err[160];
    for (int depth = BN_JREAD_MAX_DEPTH; depth <= BN_JREAD_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) doc[n++] = '[';
        for (int i = 0; i < depth; i++) doc[n++] = ']';
        int rc = bn_json_check(doc, n, err, sizeof err);
        if (depth <= BN_JREAD_MAX_DEPTH) assert_int_equal(rc, 0);
        else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "byte 32: nested deeper than 32 levels"));
        }
    }
    /* objects count too, and so does the depth inside an array element */
    char obj[512];
    size_t n = 0;
    for (int i = 0; i < BN_JREAD_MAX_DEPTH + 1; i++) n += (size_t)snprintf(obj + n, sizeof obj - n, "{\"k\":");
    n += (size_t)snprintf(obj + n, sizeof obj - n, "1");
    for (int i = 0; i < BN_JREAD_MAX_DEPTH + 1; i++) obj[n++] = '}';
    assert_int_equal(bn_json_check(obj, n, err, sizeof err), -1);
    assert_non_null(strstr(err, "nested deeper"));
    /* without the outermost object: 32 deep, accepted */
    assert_int_equal(bn_json_check(obj + 5, n - 6, err, sizeof err), 0);
}

/* Objects. -------------------------------------------------------------------- */

static void object_reads_wanted_keys_in_one_pass(void **state)
{
    (void)state;
    static const char doc[] = " {\"skip\":{\"a\":[1,{\"b\":\"x\"}]},\"a\":\"1.50\",\"n\":-42,\"o\":{\"a\":1},"
                              "\"t\":true,\"z\":null} ";
    bn_jfield f[] = { BN_JFIELD("a"), BN_JFIELD("n"), BN_JFIELD("o"), BN_JFIELD("t"), BN_JFIELD("z"),
                      BN_JFIELD("absent") };
    char err[160];
    assert_int_equal(bn_jread_object(LIT(doc), f, 6, err, sizeof err), 0);
    /* the top-level "a", not the ones nested in "skip" or "o" */
    assert_int_equal(f[0].val.type, BN_JSTRING);
    assert_int_equal(f[0].val.n, 6);
    assert_memory_equal(f[0].val.p, "\"1.50\"", 6);
    assert_int_equal(f[1].val.type, BN_JNUMBER);
    assert_memory_equal(f[1].val.p, "-42", f[1].val.n);
    assert_int_equal(f[2].val.type, BN_JOBJECT);
    assert_int_equal(f[2].val.n, 7);
    assert_memory_equal(f[2].val.p, "{\"a\":1}", 7);
    assert_int_equal(f[3].val.type, BN_JTRUE);
    assert_int_equal(f[4].val.type, BN_JNULL);
    assert_int_equal(f[5].val.type, BN_JNONE);
    qtr_dec d;
    int64_t i;
    assert_true(bn_jget_dec(&f[0].val, "a", &d, err, sizeof err));
    assert_int_equal(d, D("1.5"));
    assert_true(bn_jget_int(&f[1].val, "n", &i, err, sizeof err));
    assert_int_equal(i, -42);
    /* an object value handed to the object reader */
    bn_jfield g[] = { BN_JFIELD("a") };
    assert_int_equal(bn_jread_object(f[2].val.p, f[2].val.n, g, 1, err, sizeof err), 0);
    assert_true(bn_jget_int(&g[0].val, "a", &i, err, sizeof err));
    assert_int_equal(i, 1);
    assert_false(bn_jget_dec(&f[5].val, "absent", &d, err, sizeof err));
    assert_string_equal(err, "field 'absent' missing");
}

static void object_keys_with_escapes_match(void **state)
{
    (void)state;
    bn_jfield f[] = { BN_JFIELD("symbol"), BN_JFIELD("a/b") };
    char err[160], out[16];
    assert_int_equal(bn_jread_object(LIT("{\"\\u0073ymbol\":\"BTC\",\"a\\/b\":\"c\"}"), f, 2, err, sizeof err), 0);
    assert_true(bn_jget_str(&f[0].val, "symbol", out, sizeof out, err, sizeof err));
    assert_string_equal(out, "BTC");
    assert_true(bn_jget_str(&f[1].val, "a/b", out, sizeof out, err, sizeof err));
    assert_string_equal(out, "c");
    /* a key with \u0000 is no wanted key, and the document is still valid */
    assert_int_equal(bn_jread_object(LIT("{\"symbol\\u0000\":\"X\"}"), f, 2, err, sizeof err), 0);
    assert_int_equal(f[0].val.type, BN_JNONE);
}

static void object_refusals(void **state)
{
    (void)state;
    bn_jfield f[] = { BN_JFIELD("a"), BN_JFIELD("b") };
    char err[160];
    /* a wanted key twice */
    assert_int_equal(bn_jread_object(LIT("{\"a\":1,\"b\":2,\"a\":3}"), f, 2, err, sizeof err), -1);
    assert_string_equal(err, "field 'a' appears twice");
    /* ... even spelled differently */
    assert_int_equal(bn_jread_object(LIT("{\"a\":1,\"\\u0061\":1}"), f, 2, err, sizeof err), -1);
    assert_string_equal(err, "field 'a' appears twice");
    /* an unwanted key twice is fine */
    assert_int_equal(bn_jread_object(LIT("{\"c\":1,\"c\":2,\"a\":3}"), f, 2, err, sizeof err), 0);
    /* a syntax error after the duplicate wins: the text is not JSON at all */
    assert_int_equal(bn_jread_object(LIT("{\"a\":1,\"a\":3,}"), f, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON at byte"));
    /* unknown keys are skipped but checked */
    assert_int_equal(bn_jread_object(LIT("{\"x\":[1,01],\"a\":1}"), f, 2, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 8: number with a leading zero");
    assert_int_equal(bn_jread_object(LIT("{\"x\":\"\\q\"}"), f, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid escape"));
    /* valid JSON but no object */
    assert_int_equal(bn_jread_object(LIT("[{\"a\":1}]"), f, 2, err, sizeof err), BN_JREAD_NOT_OBJECT);
    assert_string_equal(err, "the JSON value is not an object");
    assert_int_equal(bn_jread_object(LIT(" \"a\" "), f, 2, err, sizeof err), BN_JREAD_NOT_OBJECT);
    /* neither */
    assert_int_equal(bn_jread_object(LIT("<html>"), f, 2, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 0: expected a value");
    assert_int_equal(bn_jread_object(LIT("{\"a\":1}x"), f, 2, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 7: unexpected data after the JSON value");
}

/* Arrays. --------------------------------------------------------------------- */

static void array_iterates_element_spans(void **state)
{
    (void)state;
    static const char doc[] = "[ {\"a\":1} , [2,3],\"s\",4.5 ,{}]\n";
    static const char *const want[] = { "{\"a\":1}", "[2,3]", "\"s\"", "4.5", "{}" };
    static const bn_jtype types[] = { BN_JOBJECT, BN_JARRAY, BN_JSTRING, BN_JNUMBER, BN_JOBJECT };
    bn_jiter it;
    bn_jval el;
    char err[160];
    size_t k = 0;
    int rc;
    assert_int_equal(bn_jread_array_begin(&it, LIT(doc), err, sizeof err), 0);
    while ((rc = bn_jread_array_next(&it, &el, err, sizeof err)) == 1) {
        assert_true(k < 5);
        assert_int_equal(el.type, types[k]);
        assert_int_equal(el.n, strlen(want[k]));
        assert_memory_equal(el.p, want[k], el.n);
        k++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(k, 5);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), 0); /* stays at the end */

    assert_int_equal(bn_jread_array_begin(&it, LIT("[]"), err, sizeof err), 0);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), 0);

    /* errors come when the iterator reaches them, and are final */
    assert_int_equal(bn_jread_array_begin(&it, LIT("[1,]"), err, sizeof err), 0);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), 1);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 3: expected a value");
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), -1);
    assert_int_equal(bn_jread_array_begin(&it, LIT("[1] x"), err, sizeof err), 0);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), 1);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 4: unexpected data after the JSON value");
    assert_int_equal(bn_jread_array_begin(&it, LIT("[1 2]"), err, sizeof err), 0);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), 1);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 3: expected ',' or ']'");

    assert_int_equal(bn_jread_array_begin(&it, LIT("{\"a\":[]}"), err, sizeof err), BN_JREAD_NOT_ARRAY);
    assert_string_equal(err, "the JSON value is not an array");
    assert_int_equal(bn_jread_array_begin(&it, LIT("[<"), err, sizeof err), 0);
    assert_int_equal(bn_jread_array_next(&it, &el, err, sizeof err), -1);
    assert_int_equal(bn_jread_array_begin(&it, LIT("<!DOCTYPE html>"), err, sizeof err), -1);
    assert_string_equal(err, "invalid JSON at byte 0: expected a value");
}

/* Getters. ---------------------------------------------------------------------- */

/* The value of key "v" in doc. */
static bn_jval val_of(const char *doc)
{
    bn_jfield f[] = { BN_JFIELD("v") };
    char err[160];
    if (bn_jread_object(doc, strlen(doc), f, 1, err, sizeof err) != 0) fail_msg("'%s': %s", doc, err);
    return f[0].val;
}

static void getter_decimal(void **state)
{
    (void)state;
    char err[160];
    qtr_dec d = 0;
    bn_jval v = val_of("{\"v\":\"-0.07819010\"}");
    assert_true(bn_jget_dec(&v, "commission", &d, err, sizeof err));
    assert_int_equal(d, -7819010);
    v = val_of("{\"v\":\"92233720368.54775807\"}");
    assert_true(bn_jget_dec(&v, "v", &d, err, sizeof err));
    assert_int_equal(d, INT64_MAX);
    v = val_of("{\"v\":\"\\u0031.5\"}"); /* escapes are decoded first, as jansson does */
    assert_true(bn_jget_dec(&v, "v", &d, err, sizeof err));
    assert_int_equal(d, D("1.5"));
    /* a decimal given as a JSON number: refused (most readers turn those into binary fractions) */
    v = val_of("{\"v\":0.004}");
    assert_false(bn_jget_dec(&v, "executedQty", &d, err, sizeof err));
    assert_string_equal(err, "field 'executedQty' is not a decimal string");
    v = val_of("{\"v\":\"0.000000001\"}");
    assert_false(bn_jget_dec(&v, "price", &d, err, sizeof err));
    assert_string_equal(err, "field 'price': more than 8 decimal places");
    v = val_of("{\"v\":\"92233720368.54775808\"}");
    assert_false(bn_jget_dec(&v, "price", &d, err, sizeof err));
    assert_string_equal(err, "field 'price': number out of range");
    v = val_of("{\"v\":\"1,5\"}");
    assert_false(bn_jget_dec(&v, "price", &d, err, sizeof err));
    assert_string_equal(err, "field 'price': not a decimal number");
    v = val_of("{\"v\":\"1\\u0000\"}");
    assert_false(bn_jget_dec(&v, "price", &d, err, sizeof err));
    assert_string_equal(err, "field 'price': not a decimal number");
    v = val_of("{\"v\":null}");
    assert_false(bn_jget_dec(&v, "price", &d, err, sizeof err));
    assert_string_equal(err, "field 'price' is not a decimal string");
}

static void getter_string(void **state)
{
    (void)state;
    char err[160], out[8];
    bn_jval v = val_of("{\"v\":\"1234567\"}"); /* exactly fits out[8] */
    assert_true(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(out, "1234567");
    v = val_of("{\"v\":\"12345678\"}");
    assert_false(bn_jget_str(&v, "symbol", out, sizeof out, err, sizeof err));
    assert_string_equal(err, "field 'symbol' too long");
    /* escapes: 6 bytes of text decode to 4 and fit */
    v = val_of("{\"v\":\"a\\\"\\\\\\n\"}");
    assert_true(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(out, "a\"\\\n");
    v = val_of("{\"v\":\"\\u00e9\\uD83D\\uDE00\"}"); /* é and U+1F600: 2 + 4 bytes */
    assert_true(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(out, "\xc3\xa9\xf0\x9f\x98\x80");
    v = val_of("{\"v\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}"); /* 8 bytes decoded: too long */
    assert_false(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(err, "field 's' too long");
    v = val_of("{\"v\":\"ab\\u0000c\"}");
    assert_false(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(err, "field 's' contains \\u0000");
    v = val_of("{\"v\":5}");
    assert_false(bn_jget_str(&v, "s", out, sizeof out, err, sizeof err));
    assert_string_equal(err, "field 's' is not a string");
    /* text for people: cut to fit, never refused */
    char msg[6];
    v = val_of("{\"v\":\"Unknown order sent.\"}");
    assert_true(bn_jget_text(&v, msg, sizeof msg));
    assert_string_equal(msg, "Unkno");
    v = val_of("{\"v\":\"ab\\u0000c\"}");
    assert_true(bn_jget_text(&v, msg, sizeof msg));
    assert_string_equal(msg, "ab");
    v = val_of("{\"v\":1}");
    assert_false(bn_jget_text(&v, msg, sizeof msg));
    assert_string_equal(msg, "");
}

static void getter_id_int_bool(void **state)
{
    (void)state;
    char err[160], id[QTR_CLIENT_ID_MAX];
    int64_t i = 0;
    bool b = false;
    bn_jval v = val_of("{\"v\":4100231177}");
    assert_true(bn_jget_id(&v, "orderId", id, sizeof id, err, sizeof err));
    assert_string_equal(id, "4100231177");
    v = val_of("{\"v\":\"abc-1\"}");
    assert_true(bn_jget_id(&v, "orderId", id, sizeof id, err, sizeof err));
    assert_string_equal(id, "abc-1");
    v = val_of("{\"v\":-0}");
    assert_true(bn_jget_id(&v, "orderId", id, sizeof id, err, sizeof err));
    assert_string_equal(id, "0"); /* as jansson prints it */
    v = val_of("{\"v\":41.5}");
    assert_false(bn_jget_id(&v, "orderId", id, sizeof id, err, sizeof err));
    assert_string_equal(err, "field 'orderId' is not an id");
    v = val_of("{\"v\":true}");
    assert_false(bn_jget_id(&v, "orderId", id, sizeof id, err, sizeof err));
    char small[4];
    v = val_of("{\"v\":12345}");
    assert_false(bn_jget_id(&v, "orderId", small, sizeof small, err, sizeof err));
    assert_string_equal(err, "field 'orderId' too long");

    v = val_of("{\"v\":9223372036854775807}");
    assert_true(bn_jget_int(&v, "t", &i, err, sizeof err));
    assert_int_equal(i, INT64_MAX);
    v = val_of("{\"v\":-9223372036854775808}");
    assert_true(bn_jget_int(&v, "t", &i, err, sizeof err));
    assert_true(i == INT64_MIN);
    v = val_of("{\"v\":-9223372036854775808}");
    assert_true(bn_jget_id(&v, "t", id, sizeof id, err, sizeof err));
    assert_string_equal(id, "-9223372036854775808");
    static const char *const not_int[] = { "{\"v\":9223372036854775808}", "{\"v\":-9223372036854775809}",
                                           "{\"v\":99999999999999999999}", "{\"v\":1.0}",
                                           "{\"v\":1e2}", "{\"v\":\"12\"}", "{\"v\":null}" };
    for (size_t k = 0; k < sizeof not_int / sizeof not_int[0]; k++) {
        v = val_of(not_int[k]);
        assert_false(bn_jget_int(&v, "time", &i, err, sizeof err));
        assert_string_equal(err, "field 'time' is not an integer");
    }
    v = val_of("{\"v\":false}");
    b = true;
    assert_true(bn_jget_bool(&v, "maker", &b, err, sizeof err));
    assert_false(b);
    v = val_of("{\"v\":true}");
    assert_true(bn_jget_bool(&v, "maker", &b, err, sizeof err));
    assert_true(b);
    v = val_of("{\"v\":\"true\"}");
    assert_false(bn_jget_bool(&v, "maker", &b, err, sizeof err));
    assert_string_equal(err, "field 'maker' is not a boolean");
    v = val_of("{}");
    assert_false(bn_jget_bool(&v, "maker", &b, err, sizeof err));
    assert_string_equal(err, "field 'maker' missing");
}

/* Orders. ---------------------------------------------------------------------- */

static const char order_reply[] =
    "{\"orderId\":4100231177,\"symbol\":\"BTCUSDT\",\"status\":\"PARTIALLY_FILLED\",\"clientOrderId\":\"bot-7f3a-0001\","
    "\"price\":\"0\",\"avgPrice\":\"64012.30\",\"origQty\":\"0.010\",\"executedQty\":\"0.004\",\"cumQty\":\"0.004\","
    "\"cumQuote\":\"256.04920\",\"timeInForce\":\"GTC\",\"type\":\"MARKET\",\"reduceOnly\":true,\"closePosition\":false,"
    "\"side\":\"SELL\",\"positionSide\":\"BOTH\",\"stopPrice\":\"0\",\"workingType\":\"CONTRACT_PRICE\","
    "\"priceProtect\":false,\"origType\":\"MARKET\",\"priceMatch\":\"NONE\",\"selfTradePreventionMode\":\"EXPIRE_MAKER\","
    "\"goodTillDate\":0,\"updateTime\":1767225600123}";

static void order_reads_exact_values(void **state)
{
    (void)state;
    bn_order_state s;
    char err[160];
    assert_int_equal(bn_order_state_read(LIT(order_reply), &s, err, sizeof err), 0);
    assert_string_equal(s.symbol, "BTCUSDT");
    assert_string_equal(s.client_id, "bot-7f3a-0001");
    assert_string_equal(s.order_id, "4100231177");
    assert_int_equal(s.status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(s.side, QTR_SIDE_SELL);
    assert_int_equal(s.type, QTR_ORDER_MARKET);
    assert_int_equal(s.orig_qty, D("0.01"));
    assert_int_equal(s.executed_qty, D("0.004"));
    assert_int_equal(s.cum_quote, D("256.0492"));
    assert_int_equal(s.price, 0);
    assert_true(s.reduce_only);

    /* an unknown type is kept as LIMIT/MARKET by price, as the jansson reader does */
    static const char other[] = "{\"orderId\":\"7\",\"symbol\":\"ETHUSDT\",\"status\":\"NEW\",\"clientOrderId\":\"x\","
                                "\"price\":\"3000.5\",\"origQty\":\"1\",\"executedQty\":\"0\",\"cumQuote\":\"0\","
                                "\"type\":\"TRAILING_STOP_MARKET\",\"side\":\"BUY\"}";
    assert_int_equal(bn_order_state_read(LIT(other), &s, err, sizeof err), 0);
    assert_string_equal(s.order_id, "7");
    assert_int_equal(s.type, QTR_ORDER_LIMIT);
    assert_int_equal(s.price, D("3000.5"));
    assert_false(s.reduce_only);
}

/* The raw reader and the jansson reader on the same text. */
static void order_same_as_jansson(const char *doc, size_t n, const char *want_err)
{
    bn_order_state a, b;
    char ea[160] = "", eb[160] = "";
    int ra = bn_order_state_read(doc, n, &a, ea, sizeof ea);
    json_t *j = json_loadb(doc, n, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    int rb = oracle_order_state(j, &b, eb, sizeof eb);
    json_decref(j);
    assert_int_equal(ra, rb);
    assert_string_equal(ea, eb);
    if (want_err && !strstr(ea, want_err)) fail_msg("'%s' lacks '%s'", ea, want_err);
}

static void order_refusals(void **state)
{
    (void)state;
    bn_order_state s;
    char err[160];
    /* same refusal, same words, as the jansson reader */
    order_same_as_jansson(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT\",\"status\":\"HALF_DONE\",\"clientOrderId\":\"c\","
                              "\"price\":\"0\",\"origQty\":\"1\",\"executedQty\":\"0\",\"cumQuote\":\"0\","
                              "\"type\":\"MARKET\",\"side\":\"BUY\"}"),
                          "order c: unknown status 'HALF_DONE'");
    order_same_as_jansson(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT\",\"status\":\"NEW\",\"clientOrderId\":\"c\","
                              "\"price\":\"0\",\"origQty\":\"1\",\"executedQty\":\"0\",\"cumQuote\":\"0\","
                              "\"type\":\"MARKET\",\"side\":\"BOTH\"}"),
                          "order c: unknown side 'BOTH'");
    order_same_as_jansson(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT\",\"status\":\"NEW\",\"clientOrderId\":\"c\","
                              "\"price\":\"0\",\"origQty\":\"1\",\"executedQty\":0.004,\"cumQuote\":\"0\","
                              "\"type\":\"MARKET\",\"side\":\"BUY\"}"),
                          "order: field 'executedQty' is not a decimal string");
    order_same_as_jansson(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT\",\"status\":\"NEW\",\"clientOrderId\":\"c\","
                              "\"price\":\"0\",\"origQty\":\"1\",\"cumQuote\":\"0\",\"type\":\"MARKET\",\"side\":\"BUY\"}"),
                          "order: field 'executedQty' missing");
    order_same_as_jansson(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT_PERPETUAL_WITH_A_LONG_NAME\",\"status\":\"NEW\"}"),
                          "order: field 'symbol' too long");
    order_same_as_jansson(LIT("{\"orderId\":1.5,\"symbol\":\"BTCUSDT\"}"), "order: field 'clientOrderId' missing");
    order_same_as_jansson(LIT("[{\"orderId\":1}]"), "order is not a JSON object");
    order_same_as_jansson(LIT("{\"code\":-2013,\"msg\":\"Order does not exist.\"}"), "order: field 'symbol' missing");

    /* what jansson never hands over: not JSON at all */
    assert_int_equal(bn_order_state_read(LIT("<html><body>502 Bad Gateway</body></html>"), &s, err, sizeof err), -1);
    assert_string_equal(err, "order: invalid JSON at byte 0: expected a value");
    assert_int_equal(bn_order_state_read(order_reply, sizeof order_reply - 10, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected end of input"));
    assert_int_equal(bn_order_state_read(LIT(""), &s, err, sizeof err), -1);
    /* a wanted field twice: jansson would silently keep the second */
    assert_int_equal(bn_order_state_read(LIT("{\"orderId\":1,\"symbol\":\"BTCUSDT\",\"status\":\"NEW\",\"clientOrderId\":"
                                             "\"c\",\"price\":\"0\",\"origQty\":\"1\",\"executedQty\":\"0\",\"cumQuote\":"
                                             "\"0\",\"type\":\"MARKET\",\"side\":\"BUY\",\"executedQty\":\"1\"}"),
                                         &s, err, sizeof err),
                     -1);
    assert_string_equal(err, "order: field 'executedQty' appears twice");
}

static void algo_reads(void **state)
{
    (void)state;
    bn_algo_state a;
    char err[160];
    assert_int_equal(bn_algo_state_read(LIT("{\"algoId\":7,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"TRIGGERED\","
                                            "\"actualOrderId\":99,\"symbol\":\"BTCUSDT\"}"),
                                        &a, err, sizeof err),
                     0);
    assert_string_equal(a.client_id, "sl-1");
    assert_string_equal(a.algo_id, "7");
    assert_string_equal(a.actual_order_id, "99");
    assert_int_equal(a.status, QTR_OS_NEW);
    assert_true(a.triggered);
    assert_int_equal(bn_algo_state_read(LIT("{\"algoId\":\"8\",\"clientAlgoId\":\"sl-2\",\"algoStatus\":\"FINISHED\","
                                            "\"actualOrderId\":\"12345\"}"),
                                        &a, err, sizeof err),
                     0);
    assert_string_equal(a.actual_order_id, "12345");
    assert_true(a.triggered);
    /* triggered but no actual order yet ("" / "0" / 0 / absent): nothing to follow */
    static const char *const none[] = { "\"\"", "\"0\"", "0", "-3", "null", "1.5" };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char doc[160];
        int n = snprintf(doc, sizeof doc,
                         "{\"algoId\":7,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"TRIGGERED\",\"actualOrderId\":%s}",
                         none[i]);
        assert_int_equal(bn_algo_state_read(doc, (size_t)n, &a, err, sizeof err), 0);
        assert_string_equal(a.actual_order_id, "");
        assert_false(a.triggered);
        /* and the jansson reader says the same */
        bn_algo_state b;
        json_t *j = json_loadb(doc, (size_t)n, 0, NULL);
        assert_int_equal(oracle_algo_state(j, &b, err, sizeof err), 0);
        json_decref(j);
        assert_string_equal(b.actual_order_id, "");
        assert_false(b.triggered);
    }
    assert_int_equal(bn_algo_state_read(LIT("{\"algoId\":7,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"CANCELED\"}"), &a,
                                        err, sizeof err),
                     0);
    assert_int_equal(a.status, QTR_OS_CANCELED);
    assert_false(a.triggered);
    assert_int_equal(bn_algo_state_read(LIT("{\"algoId\":7,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"SLEEPING\"}"), &a,
                                        err, sizeof err),
                     -1);
    assert_string_equal(err, "algo order sl-1: unknown algoStatus 'SLEEPING'");
    assert_int_equal(bn_algo_state_read(LIT("{\"algoId\":true,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"NEW\"}"), &a,
                                        err, sizeof err),
                     -1);
    assert_string_equal(err, "algo order: field 'algoId' is not an id");
    assert_int_equal(bn_algo_state_read(LIT("null"), &a, err, sizeof err), -1);
    assert_string_equal(err, "algo order is not a JSON object");
}

/* userTrades. ---------------------------------------------------------------------- */

typedef struct trades_seen {
    int n;
    bn_trade t[32];
} trades_seen;

static void on_trade(void *ud, const bn_trade *t)
{
    trades_seen *s = ud;
    if (s->n < 32) s->t[s->n] = *t;
    s->n++;
}

/* The row from the Binance documentation, then a second one. */
static const char trades_reply[] =
    "[{\"buyer\":false,\"commission\":\"-0.07819010\",\"commissionAsset\":\"USDT\",\"id\":698759,\"maker\":false,"
    "\"orderId\":25851813,\"price\":\"7819.01\",\"qty\":\"0.002\",\"quoteQty\":\"15.63802\",\"realizedPnl\":"
    "\"-0.91539999\",\"side\":\"SELL\",\"positionSide\":\"SHORT\",\"symbol\":\"BTCUSDT\",\"time\":1569514978020},\n"
    " {\"buyer\":true,\"commission\":\"0.00312760\",\"commissionAsset\":\"BNB\",\"id\":698760,\"maker\":true,"
    "\"orderId\":\"25851814\",\"price\":\"7820\",\"qty\":\"1\",\"quoteQty\":\"7820\",\"realizedPnl\":\"0\","
    "\"side\":\"BUY\",\"positionSide\":\"LONG\",\"symbol\":\"BTCUSDT\",\"time\":1569514978021}]";

static void trades_read_exact_values(void **state)
{
    (void)state;
    trades_seen s = { 0 };
    char err[160];
    assert_int_equal(bn_trades_read(LIT(trades_reply), on_trade, &s, err, sizeof err), 2);
    assert_int_equal(s.n, 2);
    const bn_trade *t = &s.t[0];
    assert_string_equal(t->symbol, "BTCUSDT");
    assert_int_equal(t->id, 698759);
    assert_string_equal(t->order_id, "25851813");
    assert_int_equal(t->side, QTR_SIDE_SELL);
    assert_int_equal(t->price, D("7819.01"));
    assert_int_equal(t->qty, D("0.002"));
    assert_int_equal(t->quote_qty, D("15.63802"));
    assert_int_equal(t->commission, D("-0.0781901")); /* as given: the caller reads the sign */
    assert_int_equal(t->realized_pnl, D("-0.91539999"));
    assert_string_equal(t->commission_asset, "USDT");
    assert_false(t->maker);
    assert_false(t->buyer);
    assert_int_equal(t->time_ms, 1569514978020);
    t = &s.t[1];
    assert_int_equal(t->id, 698760);
    assert_string_equal(t->order_id, "25851814");
    assert_int_equal(t->side, QTR_SIDE_BUY);
    assert_int_equal(t->commission, D("0.0031276"));
    assert_string_equal(t->commission_asset, "BNB");
    assert_true(t->maker);
    assert_true(t->buyer);
    assert_int_equal(t->time_ms, 1569514978021);

    s.n = 0;
    assert_int_equal(bn_trades_read(LIT(" [ ] "), on_trade, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(bn_trades_read(LIT(trades_reply), NULL, NULL, err, sizeof err), 2); /* count only */
}

/* A reply of n rows, row i with id first_id + i; bad_row (if >= 0) has bad_field = bad_value. */
static size_t trades_doc(char *b, size_t cap, int n, int bad_row, const char *bad)
{
    size_t o = 0;
    o += (size_t)snprintf(b + o, cap - o, "[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, cap - o,
                              "%s{\"buyer\":true,\"commission\":\"0.01\",\"commissionAsset\":\"USDT\",\"id\":%d,"
                              "\"maker\":false,\"orderId\":77,\"price\":\"100.5\",\"qty\":\"0.%03d\",\"quoteQty\":\"1\","
                              "\"realizedPnl\":\"0\",\"side\":\"BUY\",\"symbol\":\"BTCUSDT\",\"time\":1%s%s}",
                              i ? "," : "", 1000 + i, i + 1, i == bad_row ? "," : "", i == bad_row ? bad : "");
    o += (size_t)snprintf(b + o, cap - o, "]");
    assert_true(o < cap);
    return o;
}

static void trades_long_reply_in_order(void **state)
{
    (void)state;
    char doc[8192], err[160];
    trades_seen s = { 0 };
    size_t n = trades_doc(doc, sizeof doc, 20, -1, "");
    assert_int_equal(bn_trades_read(doc, n, on_trade, &s, err, sizeof err), 20);
    assert_int_equal(s.n, 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(s.t[i].id, 1000 + i);
        assert_int_equal(s.t[i].qty, QTR_DEC_SCALE * (i + 1) / 1000);
    }
}

static void trades_all_or_nothing(void **state)
{
    (void)state;
    static const struct { const char *extra, *want; } bad[] = {
        { "\"id\":0", "trade 3: field 'id' is not positive" },
        { "\"id\":-5", "trade 3: field 'id' is not positive" },
        { "\"qty\":\"0\"", "trade 3: field 'qty' is not positive" },
        { "\"qty\":\"-0.001\"", "trade 3: field 'qty' is not positive" },
        { "\"price\":\"0\"", "trade 3: field 'price' is not positive" },
        { "\"side\":\"BOTH\"", "trade 3: unknown side 'BOTH'" },
        { "\"maker\":\"false\"", "trade 3: field 'maker' is not a boolean" },
        { "\"price\":100.5", "trade 3: field 'price' is not a decimal string" },
        { "\"time\":1.5", "trade 3: field 'time' is not an integer" },
        { "\"commissionAsset\":\"A_VERY_LONG_ASSET\"", "trade 3: field 'commissionAsset' too long" },
    };
    char doc[8192], err[160];
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        /* the bad field replaces the row's own (a key twice would be refused for that instead) */
        size_t n = trades_doc(doc, sizeof doc, 6, 3, bad[k].extra);
        char key[32];
        size_t kl = (size_t)(strchr(bad[k].extra + 1, '"') - bad[k].extra) + 2; /* "key": */
        memcpy(key, bad[k].extra, kl);
        key[kl] = '\0';
        /* rename the row's original key so only the bad one counts */
        char *row = strstr(doc, "\"id\":1003");
        while (*row != '{') row--;
        char *orig = strstr(row, key);
        assert_non_null(orig);
        orig[1] = 'X';
        trades_seen s = { 0 };
        int rc = bn_trades_read(doc, n, on_trade, &s, err, sizeof err);
        if (rc != -1 || strcmp(err, bad[k].want) != 0) fail_msg("case %zu: rc %d err '%s'", k, rc, err);
        assert_int_equal(s.n, 0); /* no callback for the good rows before it */
    }
    /* a missing field */
    size_t n = trades_doc(doc, sizeof doc, 2, -1, "");
    char *p = strstr(doc, "\"realizedPnl\"");
    p[1] = 'X';
    trades_seen s = { 0 };
    assert_int_equal(bn_trades_read(doc, n, on_trade, &s, err, sizeof err), -1);
    assert_string_equal(err, "trade 0: field 'realizedPnl' missing");
    assert_int_equal(s.n, 0);
    /* a bad row, then text that is not JSON: said to be not JSON */
    n = trades_doc(doc, sizeof doc, 3, -1, "");
    strstr(doc, "\"realizedPnl\"")[1] = 'X';
    doc[n - 1] = '}';
    assert_int_equal(bn_trades_read(doc, n, on_trade, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "userTrades: invalid JSON at byte"));
    /* a syntax error after good rows */
    n = trades_doc(doc, sizeof doc, 12, -1, "");
    doc[n - 1] = ',';
    assert_int_equal(bn_trades_read(doc, n, on_trade, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "userTrades: invalid JSON at byte"));
    assert_int_equal(s.n, 0);
    /* not an array, not objects, not JSON */
    assert_int_equal(bn_trades_read(LIT("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}"), on_trade, &s, err, sizeof err),
                     -1);
    assert_string_equal(err, "userTrades reply is not a JSON array");
    assert_int_equal(bn_trades_read(LIT("[1]"), on_trade, &s, err, sizeof err), -1);
    assert_string_equal(err, "trade 0 is not a JSON object");
    assert_int_equal(bn_trades_read(LIT("<html></html>"), on_trade, &s, err, sizeof err), -1);
    assert_string_equal(err, "userTrades: invalid JSON at byte 0: expected a value");
    assert_int_equal(s.n, 0);
}

/* API errors. ---------------------------------------------------------------------- */

static void api_error_same_as_jansson(const char *doc, size_t n, bool want, int want_code, const char *want_msg)
{
    int ca = 0, cb = 0;
    char ma[16] = "", mb[16] = "";
    bool a = bn_api_error_read(doc, n, &ca, ma, sizeof ma);
    assert_int_equal(a, want);
    json_t *j = json_loadb(doc, n, JSON_DECODE_ANY, NULL);
    if (j) {
        bool b = oracle_api_error(j, &cb, mb, sizeof mb);
        json_decref(j);
        assert_int_equal(a, b);
        if (a) {
            assert_int_equal(ca, cb);
            assert_string_equal(ma, mb);
        }
    }
    if (want) {
        assert_int_equal(ca, want_code);
        assert_string_equal(ma, want_msg);
    }
}

static void api_errors(void **state)
{
    (void)state;
    api_error_same_as_jansson(LIT("{\"code\":-2013,\"msg\":\"Order does not exist.\"}"), true, -2013, "Order does not ");
    api_error_same_as_jansson(LIT(" {\"msg\":\"Timestamp\",\"code\":-1021} "), true, -1021, "Timestamp");
    api_error_same_as_jansson(LIT("{\"code\":-1000}"), true, -1000, "(no msg)");
    api_error_same_as_jansson(LIT("{\"code\":-1000,\"msg\":7}"), true, -1000, "(no msg)");
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"\\u00e9t\\u00e9\"}"), true, -1, "\xc3\xa9t\xc3\xa9");
    /* a message longer than the buffer (15 bytes and a NUL) is cut before the
     * character that does not fit whole, literal or escaped, never inside it */
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"abcdefghijklmn\xc3\xa9\"}"), true, -1, "abcdefghijklmn");
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"abcdefghijklmn\\u00e9\"}"), true, -1, "abcdefghijklmn");
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"abcdefghijkl\xf0\x9f\x98\x80\"}"), true, -1, "abcdefghijkl");
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"abcdefghijklm\xc3\xa9z\"}"), true, -1, "abcdefghijklm\xc3\xa9");
    api_error_same_as_jansson(LIT("{\"code\":-1,\"msg\":\"abcdefghijkl\\ue000\"}"), true, -1, "abcdefghijkl\xee\x80\x80");
    /* cancel-all's success is not an error */
    api_error_same_as_jansson(LIT("{\"code\":200,\"msg\":\"The operation of cancel all open order is done.\"}"), false, 0,
                              "");
    api_error_same_as_jansson(LIT("{\"code\":0}"), false, 0, "");
    api_error_same_as_jansson(LIT("{\"code\":\"-1\",\"msg\":\"x\"}"), false, 0, "");
    api_error_same_as_jansson(LIT("{\"code\":-1.5,\"msg\":\"x\"}"), false, 0, "");
    api_error_same_as_jansson(LIT("[{\"code\":-1}]"), false, 0, "");
    api_error_same_as_jansson(LIT(order_reply), false, 0, "");
    /* not JSON: not an API error (the caller sees it as malformed) */
    api_error_same_as_jansson(LIT("{\"code\":-1021,\"msg\":\"x\""), false, 0, "");
    api_error_same_as_jansson(LIT("<html>-1021</html>"), false, 0, "");
    /* "code" twice: jansson keeps the last; we do not read it as an error */
    int c = 0;
    char m[16];
    assert_false(bn_api_error_read(LIT("{\"code\":200,\"code\":-1}"), &c, m, sizeof m));
}

/* Differential run against jansson: see jread_diff.h. */

static uint64_t rnd(uint64_t *s) { return test_rng_next(s); }

static const char algo_reply[] = "{\"algoId\":2146760,\"clientAlgoId\":\"sl-7f3a-0002\",\"algoType\":\"CONDITIONAL\","
                                 "\"orderType\":\"STOP_MARKET\",\"symbol\":\"BTCUSDT\",\"side\":\"SELL\",\"algoStatus\":"
                                 "\"TRIGGERED\",\"triggerPrice\":\"60000.00\",\"quantity\":\"0.010\",\"actualOrderId\":"
                                 "\"4100231178\",\"updateTime\":1767225600123,\"workingType\":\"CONTRACT_PRICE\","
                                 "\"reduceOnly\":true}";
static const char trailing_reply[] =
    "{\"algoId\":2146761,\"clientAlgoId\":\"ts-7f3a-0003\",\"algoType\":\"CONDITIONAL\",\"orderType\":"
    "\"TRAILING_STOP_MARKET\",\"symbol\":\"BTCUSDT\",\"side\":\"SELL\",\"algoStatus\":\"NEW\",\"quantity\":"
    "\"0.010\",\"activatePrice\":\"51000.1\",\"callbackRate\":\"1.5\",\"workingType\":\"MARK_PRICE\","
    "\"reduceOnly\":true,\"createTime\":1767225600123}";
static const char error_reply[] = "{\"code\":-2013,\"msg\":\"Order does not exist.\"}";

static void differential_against_jansson(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n; } samples[] = {
        { LIT(order_reply) }, { LIT(algo_reply) }, { LIT(trades_reply) }, { LIT(error_reply) }, { LIT(trailing_reply) },
    };
    /* Inserted fragments that reach the edges: escapes, surrogates, NUL,
     * number grammar, numbers jansson cannot hold, UTF-8, structure. */
    static const char *const frags[] = {
        "\\u0000", "\\uD83D\\uDE00", "\\uD800", "\\uDC00", "\\u00e9", "\\n", "\\x", "\\", "1e400", "-0", "01", "1.",
        "-", "99999999999999999999", "true", "null", "[", "]", "{", "}", "\"", "\"\":", ",", ":", " ", "\t",
        "\xc3\xa9", "\xed\xa0\x80", "\xc0\x80", "\x01", "\x7f",
    };
    static const char single[] = "{}[]\":,\\/0123456789-+.eEutrfalsn \t\n\r";
    enum { ITER = 20000 };
    uint64_t seed = 0x5eed0b1a5ce5ULL;
    oracle_stats st = { 0 };
    char buf[4096];
    for (int it = 0; it < ITER; it++) {
        size_t si = (size_t)it % (sizeof samples / sizeof samples[0]);
        size_t n = samples[si].n;
        memcpy(buf, samples[si].s, n);
        int muts = 1 + (int)(rnd(&seed) % 4);
        for (int m = 0; m < muts; m++) {
            size_t pos = n ? (size_t)(rnd(&seed) % n) : 0;
            switch (rnd(&seed) % 9) {
            case 0: /* flip a bit */
                if (n) buf[pos] = (char)(buf[pos] ^ (1 << (rnd(&seed) % 8)));
                break;
            case 1: /* replace with a JSON-significant byte */
                if (n) buf[pos] = single[rnd(&seed) % (sizeof single - 1)];
                break;
            case 2: /* delete */
                if (n) {
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                }
                break;
            case 3: /* insert any byte */
                if (n + 1 < sizeof buf) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = (char)(rnd(&seed) & 0xFF);
                    n++;
                }
                break;
            case 4: case 5: { /* insert a fragment */
                const char *f = frags[rnd(&seed) % (sizeof frags / sizeof frags[0])];
                size_t fl = strlen(f);
                if (n + fl < sizeof buf) {
                    memmove(buf + pos + fl, buf + pos, n - pos);
                    memcpy(buf + pos, f, fl);
                    n += fl;
                }
                break;
            }
            case 6: /* truncate */
                if (rnd(&seed) % 4 == 0) n = pos;
                break;
            case 7: { /* copy a chunk elsewhere (duplicates keys, nests) */
                size_t len = 1 + (size_t)(rnd(&seed) % 24), from = n ? (size_t)(rnd(&seed) % n) : 0;
                if (from + len > n) len = n - from;
                if (n + len < sizeof buf) {
                    char tmp[32];
                    memcpy(tmp, buf + from, len);
                    memmove(buf + pos + len, buf + pos, n - pos);
                    memcpy(buf + pos, tmp, len);
                    n += len;
                }
                break;
            }
            default: /* replace with a digit (numbers and escapes) */
                if (n) buf[pos] = (char)('0' + rnd(&seed) % 10);
                break;
            }
        }

        jread_diff_one(buf, n, &st);
    }
    print_message("differential: %d accepted, %d refused, %d compared field by field; oracle adjustments: "
                  "\\u0000 %d, raw NUL %d, int as real %d, real exponent %d; duplicate wanted keys %d\n",
                  st.accepted, st.refused, st.compared, st.nul_adjusted, st.raw_nul, st.int_as_real,
                  st.real_adjusted, st.dup_keys);
    print_message("differential: %d whole algo orders read alike\n", st.algo_orders);
    /* the run reached both sides and the edges it was built for */
    assert_true(st.accepted > ITER / 20);
    assert_true(st.refused > ITER / 2);
    assert_true(st.compared > ITER / 20);
    assert_true(st.algo_orders > ITER / 200); /* whole algo orders (stop and trailing) read alike, not only refused */
    assert_true(st.nul_adjusted > 0);
    assert_true(st.raw_nul > 0);
    assert_true(st.real_adjusted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_valid_documents),
        cmocka_unit_test(refuses_malformed_documents),
        cmocka_unit_test(nesting_is_capped),
        cmocka_unit_test(object_reads_wanted_keys_in_one_pass),
        cmocka_unit_test(object_keys_with_escapes_match),
        cmocka_unit_test(object_refusals),
        cmocka_unit_test(array_iterates_element_spans),
        cmocka_unit_test(getter_decimal),
        cmocka_unit_test(getter_string),
        cmocka_unit_test(getter_id_int_bool),
        cmocka_unit_test(order_reads_exact_values),
        cmocka_unit_test(order_refusals),
        cmocka_unit_test(algo_reads),
        cmocka_unit_test(trades_read_exact_values),
        cmocka_unit_test(trades_long_reply_in_order),
        cmocka_unit_test(trades_all_or_nothing),
        cmocka_unit_test(api_errors),
        cmocka_unit_test(differential_against_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
