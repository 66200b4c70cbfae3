/* jread_diff.c — see jread_diff.h. */
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
#include "bn_order_fields.h"
#include "bn_order_json.h"
#include "jread_diff.h"

/* Printable form of a document for failure messages. */
const char *jread_show(const char *s, size_t n)
{
    static char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
    }
    out[o] = '\0';
    return out;
}


/* ---- the oracle's readers: the plugin's field tables (bn_order_fields.h)
 * read from a jansson tree, with the getters' words (bn_jerr_field,
 * bn_jtext_dec). The plugin itself reads only with bn_jread. */

static bool ref_dec(const json_t *obj, const char *key, qtr_dec *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_string(v)) return bn_jerr_field(err, errlen, key, "is not a decimal string");
    return bn_jtext_dec(key, json_string_value(v), json_string_length(v), out, err, errlen);
}

static bool ref_int(const json_t *obj, const char *key, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_integer(v)) return bn_jerr_field(err, errlen, key, "is not an integer");
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool ref_str(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_string(v)) return bn_jerr_field(err, errlen, key, "is not a string");
    if (json_string_length(v) >= outlen) return bn_jerr_field(err, errlen, key, "too long");
    qtr_strlcpy(out, json_string_value(v), outlen);
    return true;
}

static bool ref_id(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
        return true;
    }
    if (json_is_string(v) && json_string_length(v) < outlen) {
        qtr_strlcpy(out, json_string_value(v), outlen);
        return true;
    }
    return bn_jerr_field(err, errlen, key, "is not an id");
}

static bool ref_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_boolean(v)) return bn_jerr_field(err, errlen, key, "is not a boolean");
    *out = json_is_true(v);
    return true;
}

static bool ref_fields(const json_t *o, const bn_fspec *f, size_t n, void *dst, char *e, size_t el)
{
    for (size_t i = 0; i < n; i++) {
        void *d = (char *)dst + f[i].off;
        bool ok = false;
        switch ((bn_fkind)f[i].kind) {
        case FK_STR: ok = ref_str(o, f[i].key, d, f[i].size, e, el); break;
        case FK_ID: ok = ref_id(o, f[i].key, d, f[i].size, e, el); break;
        case FK_DEC: ok = ref_dec(o, f[i].key, d, e, el); break;
        case FK_INT: ok = ref_int(o, f[i].key, d, e, el); break;
        case FK_BOOL: ok = ref_bool(o, f[i].key, d, e, el); break;
        }
        if (!ok) return false;
    }
    return true;
}

int oracle_order_state(const json_t *o, bn_order_state *out, char *err, size_t errlen)
{
    bn_order_scratch s;
    char e[128];
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "order is not a JSON object");
        return -1;
    }
    if (!ref_fields(o, bn_order_fields, bn_n_order_fields, &s, e, sizeof e)) {
        snprintf(err, errlen, "order: %s", e);
        return -1;
    }
    return bn_order_finish(&s, json_is_true(json_object_get(o, "reduceOnly")), out, err, errlen);
}

/* What both algo readers read first: the state's table (and the details'
 * when d), then actualOrderId as text. 0, or -1 with err. */
static int oracle_algo_head(const json_t *o, bn_algo_scratch *s, bn_algo_detail_scratch *d,
                            char actual[QTR_CLIENT_ID_MAX], char *err, size_t errlen)
{
    char e[128];
    memset(s, 0, sizeof *s);
    if (d) memset(d, 0, sizeof *d);
    actual[0] = '\0';
    if (!json_is_object(o)) {
        snprintf(err, errlen, "algo order is not a JSON object");
        return -1;
    }
    if (!ref_fields(o, bn_algo_fields, bn_n_algo_fields, s, e, sizeof e) ||
        (d && !ref_fields(o, bn_algo_detail_fields, bn_n_algo_detail_fields, d, e, sizeof e))) {
        snprintf(err, errlen, "algo order: %s", e);
        return -1;
    }
    json_t *act = json_object_get(o, "actualOrderId");
    if (json_is_integer(act) && json_integer_value(act) > 0)
        snprintf(actual, QTR_CLIENT_ID_MAX, "%lld", (long long)json_integer_value(act));
    else if (json_is_string(act) && json_string_length(act) < QTR_CLIENT_ID_MAX)
        qtr_strlcpy(actual, json_string_value(act), QTR_CLIENT_ID_MAX);
    return 0;
}

int oracle_algo_state(const json_t *o, bn_algo_state *out, char *err, size_t errlen)
{
    bn_algo_scratch s;
    char actual[QTR_CLIENT_ID_MAX];
    memset(out, 0, sizeof *out);
    if (oracle_algo_head(o, &s, NULL, actual, err, errlen) != 0) return -1;
    return bn_algo_finish(&s, actual, out, err, errlen);
}

int oracle_algo_order(const json_t *o, bn_algo_order *out, char *err, size_t errlen)
{
    static const char *const names[BN_ALGO_OPT_N] = { "triggerPrice", "activatePrice", "callbackRate" };
    bn_algo_scratch s;
    bn_algo_detail_scratch d;
    bn_opt_dec opt[BN_ALGO_OPT_N];
    char actual[QTR_CLIENT_ID_MAX];
    memset(out, 0, sizeof *out);
    memset(opt, 0, sizeof opt);
    if (oracle_algo_head(o, &s, &d, actual, err, errlen) != 0) return -1;
    for (int i = 0; i < BN_ALGO_OPT_N; i++) {
        opt[i].present = json_object_get(o, names[i]) != NULL;
        if (opt[i].present) opt[i].ok = ref_dec(o, names[i], &opt[i].v, opt[i].err, sizeof opt[i].err);
    }
    return bn_algo_order_finish(&s, &d, actual, opt, out, err, errlen);
}

bool oracle_api_error(const json_t *root, int *code, char *msg, size_t msglen)
{
    json_t *c = json_is_object(root) ? json_object_get(root, "code") : NULL;
    if (!c || !json_is_integer(c) || json_integer_value(c) >= 0) return false;
    *code = (int)json_integer_value(c);
    json_t *m = json_object_get(root, "msg");
    const char *text = json_is_string(m) ? json_string_value(m) : "(no msg)";
    /* a message too long is cut at the last whole UTF-8 character that fits */
    size_t len = strlen(text), keep = len < msglen ? len : msglen - 1;
    while (keep < len && keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80) keep--;
    memcpy(msg, text, keep);
    msg[keep] = '\0';
    return true;
}

/* jansson's verdict, adjusted as above. */
/* The start of the last JSON number in b[from, end): lexes numbers
 * (-?digits(.digits)?([eE][+-]?digits)?) forward from `from`. A number
 * starts only at '-' or a digit: the 'e' that ends "true" or "false" (the
 * backward scan stops there) is a stray character, not an exponent. */
static size_t json_number_start(const char *b, size_t from, size_t end)
{
    size_t p = from, last = from;
    while (p < end) {
        if (b[p] != '-' && !(b[p] >= '0' && b[p] <= '9')) {
            p++; /* a stray character: step over it */
            continue;
        }
        last = p;
        size_t q = p;
        if (b[q] == '-') q++;
        if (q < end && b[q] == '0') q++;
        else while (q < end && b[q] >= '0' && b[q] <= '9') q++;
        if (q < end && b[q] == '.') { q++; while (q < end && b[q] >= '0' && b[q] <= '9') q++; }
        if (q < end && (b[q] == 'e' || b[q] == 'E')) {
            q++;
            if (q < end && (b[q] == '+' || b[q] == '-')) q++;
            while (q < end && b[q] >= '0' && b[q] <= '9') q++;
        }
        p = q;
    }
    return last;
}

static bool oracle_accepts(const char *doc, size_t n, oracle_stats *st)
{
    static char b[JREAD_DIFF_MAX];
    assert_true(n <= sizeof b);
    memcpy(b, doc, n);
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\0') {
            b[i] = '\x01';
            st->raw_nul++;
        }
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] != '\\') continue;
        if (b[i + 1] == 'u' && i + 5 < n && !memcmp(b + i + 2, "0000", 4)) {
            b[i + 5] = '1';
            st->nul_adjusted++;
        }
        i++; /* the escaped character is never the start of another escape */
    }
    size_t flags = JSON_DECODE_ANY;
    /* each round settles one number, so a document has at most n of them */
    for (size_t round = 0; round <= n; round++) {
        json_error_t e;
        json_t *j = json_loadb(b, n, flags, &e);
        if (j) {
            json_decref(j);
            return true;
        }
        if (strstr(e.text, "too big") && !(flags & JSON_DECODE_INT_AS_REAL)) {
            flags |= JSON_DECODE_INT_AS_REAL;
            st->int_as_real++;
            continue;
        }
        if (strstr(e.text, "real number overflow")) {
            /* e.position is the end of the number; the characters before it
             * may hold more than one token ("0-1e999"): find where the last
             * number starts by lexing them forward as JSON numbers. */
            size_t end = (size_t)e.position, k = end;
            while (k > 0 && b[k - 1] && strchr("0123456789+-.eE", b[k - 1])) k--;
            size_t start = json_number_start(b, k, end);
            /* past DBL_MAX through its exponent or through 309+ digits: keep
             * its sign and first digit, blank the rest (whitespace may follow) */
            size_t d = start;
            while (d < end && !(b[d] >= '0' && b[d] <= '9')) d++;
            if (d == end) fail_msg("real overflow without a digit: '%s'", jread_show(doc, n));
            size_t blanked = 0;
            for (size_t i = d + 1; i < end; i++)
                if (b[i] != ' ') {
                    b[i] = ' ';
                    blanked++;
                }
            /* nothing changed: the same error would come back every round */
            if (!blanked) fail_msg("oracle made no progress at offset %zu of '%s'", end, jread_show(doc, n));
            st->real_adjusted++;
            continue;
        }
        return false;
    }
    fail_msg("oracle did not settle on '%s'", jread_show(doc, n));
    return false;
}

/* bn_jread's duplicate-key error ends "field 'KEY' appears twice"; checked at
 * the end, since a message also quotes ids, which may hold that text. */
static bool is_duplicate_error(const char *err)
{
    static const char tail[] = "' appears twice";
    size_t n = strlen(err);
    return n >= sizeof tail - 1 && strcmp(err + n - (sizeof tail - 1), tail) == 0;
}

/* jansson, asked to, finds a key twice in some object of doc. */
static bool has_duplicate_key(const char *doc, size_t n)
{
    json_error_t e;
    json_t *d = json_loadb(doc, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    json_decref(d);
    return !d && strstr(e.text, "duplicate object key") != NULL;
}

static void compare_orders(const char *doc, size_t n, json_t *j, oracle_stats *st)
{
    bn_order_state a, b;
    char ea[160] = "", eb[160] = "";
    int ra = bn_order_state_read(doc, n, &a, ea, sizeof ea);
    int rb = oracle_order_state(j, &b, eb, sizeof eb);
    if (ra != 0 && is_duplicate_error(ea)) {
        /* the one deliberate difference: check it is what it says */
        if (!has_duplicate_key(doc, n)) fail_msg("'%s': %s without a duplicate", jread_show(doc, n), ea);
        st->dup_keys++;
        return;
    }
    if (ra != rb || strcmp(ea, eb) != 0)
        fail_msg("order '%s': raw %d '%s', jansson %d '%s'", jread_show(doc, n), ra, ea, rb, eb);
    if (ra == 0) {
        assert_string_equal(a.symbol, b.symbol);
        assert_string_equal(a.client_id, b.client_id);
        assert_string_equal(a.order_id, b.order_id);
        assert_int_equal(a.status, b.status);
        assert_int_equal(a.side, b.side);
        assert_int_equal(a.type, b.type);
        assert_int_equal(a.orig_qty, b.orig_qty);
        assert_int_equal(a.executed_qty, b.executed_qty);
        assert_int_equal(a.cum_quote, b.cum_quote);
        assert_int_equal(a.price, b.price);
        assert_int_equal(a.reduce_only, b.reduce_only);
    }
}

static void compare_algos(const char *doc, size_t n, json_t *j, oracle_stats *st)
{
    bn_algo_state a, b;
    char ea[160] = "", eb[160] = "";
    int ra = bn_algo_state_read(doc, n, &a, ea, sizeof ea);
    int rb = oracle_algo_state(j, &b, eb, sizeof eb);
    if (ra != 0 && is_duplicate_error(ea)) {
        if (!has_duplicate_key(doc, n)) fail_msg("'%s': %s without a duplicate", jread_show(doc, n), ea);
        st->dup_keys++;
        return;
    }
    if (ra != rb || strcmp(ea, eb) != 0)
        fail_msg("algo '%s': raw %d '%s', jansson %d '%s'", jread_show(doc, n), ra, ea, rb, eb);
    if (ra == 0) {
        assert_string_equal(a.client_id, b.client_id);
        assert_string_equal(a.algo_id, b.algo_id);
        assert_string_equal(a.actual_order_id, b.actual_order_id);
        assert_int_equal(a.status, b.status);
        assert_int_equal(a.triggered, b.triggered);
    }
}

static void compare_algo_orders(const char *doc, size_t n, json_t *j, oracle_stats *st)
{
    bn_algo_order a, b;
    char ea[160] = "", eb[160] = "";
    int ra = bn_algo_order_read(doc, n, &a, ea, sizeof ea);
    int rb = oracle_algo_order(j, &b, eb, sizeof eb);
    if (ra != 0 && is_duplicate_error(ea)) {
        if (!has_duplicate_key(doc, n)) fail_msg("'%s': %s without a duplicate", jread_show(doc, n), ea);
        return;
    }
    if (ra != rb || strcmp(ea, eb) != 0)
        fail_msg("algo order '%s': raw %d '%s', jansson %d '%s'", jread_show(doc, n), ra, ea, rb, eb);
    if (ra == 0) {
        st->algo_orders++;
        assert_string_equal(a.st.client_id, b.st.client_id);
        assert_string_equal(a.st.actual_order_id, b.st.actual_order_id);
        assert_string_equal(a.symbol, b.symbol);
        assert_int_equal(a.st.status, b.st.status);
        assert_int_equal(a.side, b.side);
        assert_int_equal(a.type, b.type);
        assert_int_equal(a.qty, b.qty);
        assert_int_equal(a.trigger, b.trigger);
        assert_int_equal(a.activation, b.activation);
        assert_int_equal(a.callback_bps, b.callback_bps);
        assert_int_equal(a.working_type, b.working_type);
        assert_int_equal(a.reduce_only, b.reduce_only);
    }
}

static void compare_api_errors(const char *doc, size_t n, json_t *j)
{
    int ca = 0, cb = 0;
    char ma[64] = "", mb[64] = "";
    bool a = bn_api_error_read(doc, n, &ca, ma, sizeof ma);
    bool b = oracle_api_error(j, &cb, mb, sizeof mb);
    if (!a && b && has_duplicate_key(doc, n)) return; /* "code" or "msg" twice: not read as an error */
    if (a != b || (a && (ca != cb || strcmp(ma, mb) != 0)))
        fail_msg("api error '%s': raw %d %d '%s', jansson %d %d '%s'", jread_show(doc, n), a, ca, ma, b, cb, mb);
}

static int fuzz_trades_seen;
static void count_trade(void *ud, const bn_trade *t)
{
    (void)ud;
    (void)t;
    fuzz_trades_seen++;
}

void jread_diff_one(const char *buf, size_t n, oracle_stats *st)
{
    char err[160] = "";
    bool mine = bn_json_check(buf, n, err, sizeof err) == 0;
    bool theirs = oracle_accepts(buf, n, st);
    if (mine != theirs)
        fail_msg("bn_json_check %s ('%s'), jansson %s: '%s'", mine ? "accepts" : "refuses", err,
                 theirs ? "accepts" : "refuses", jread_show(buf, n));
    if (mine) st->accepted++;
    else st->refused++;

    /* whatever the text, userTrades is all or nothing */
    char terr[200] = "";
    fuzz_trades_seen = 0;
    int rt = bn_trades_read(buf, n, count_trade, NULL, terr, sizeof terr);
    if (rt < 0) assert_int_equal(fuzz_trades_seen, 0);
    else assert_int_equal(fuzz_trades_seen, rt);
    if (!mine) { /* every raw reader refuses what is not JSON, with the check's own words */
        char want[200], oerr[200] = "";
        bn_order_state os;
        bn_algo_state as;
        int code;
        assert_int_equal(bn_order_state_read(buf, n, &os, oerr, sizeof oerr), -1);
        snprintf(want, sizeof want, "order: %s", err);
        assert_string_equal(oerr, want);
        assert_int_equal(bn_algo_state_read(buf, n, &as, oerr, sizeof oerr), -1);
        snprintf(want, sizeof want, "algo order: %s", err);
        assert_string_equal(oerr, want);
        bn_algo_order ao;
        assert_int_equal(bn_algo_order_read(buf, n, &ao, oerr, sizeof oerr), -1);
        assert_string_equal(oerr, want);
        assert_int_equal(rt, -1);
        snprintf(want, sizeof want, "userTrades: %s", err);
        assert_string_equal(terr, want);
        assert_false(bn_api_error_read(buf, n, &code, oerr, sizeof oerr));
    }

    if (memchr(buf, '\0', n)) return;
    json_t *j = json_loadb(buf, n, JSON_DECODE_ANY, NULL);
    if (!j) return;
    st->compared++;
    compare_orders(buf, n, j, st);
    compare_algos(buf, n, j, st);
    compare_algo_orders(buf, n, j, st);
    compare_api_errors(buf, n, j);
    json_decref(j);
}
