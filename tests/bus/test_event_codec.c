/* bus/event_codec: every registry type goes through the envelope and comes
 * back equal; names map both ways; a peer's unterminated strings and odd
 * bools are tamed; wrong versions, types, lengths, host ids and a payload
 * of another ABI's size are refused with a clear error. Signed envelopes:
 * taken only by a host with the same key, and refused as untrusted when
 * unsigned, signed with another key, altered anywhere, cut or lengthened;
 * the key comes from bus.key_env's variable, or the host refuses to start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus_key.h"
#include "bus/event_codec.h"

static void roundtrip_every_type(void **state)
{
    (void)state;
    int types = 0;
    for (int t = 1; t < QTR_EV__COUNT; t++) {
        const char *name = qh_busev_type_name((qtr_event_type)t);
        assert_non_null(name);
        assert_string_equal(name, qtr_event_type_name((qtr_event_type)t));
        assert_int_equal(qtr_event_type_by_name(name), t);
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = (qtr_event_type)t;
        ev.time_ms = 1700000000123 + t;
        ev.flags = 1;
        /* a recognisable payload: the symbol (when there is one) and bytes */
        memset(&ev.u, 0, sizeof ev.u);
        if (qtr_event_symbol(&ev)) strcpy(ev.u.candle.symbol, "XRPUSDT");
        unsigned char buf[QH_BUSEV_MAX];
        size_t n = qh_busev_encode("exec-1", 1000 + (uint64_t)t, &ev, NULL, buf, sizeof buf);
        assert_true(n > QH_BUSEV_HEADER);
        qh_busev out;
        char err[256] = "";
        if (qh_busev_decode(buf, n, NULL, NULL, &out, err, sizeof err) != 0) fail_msg("%s: %s", name, err);
        assert_string_equal(out.host_id, "exec-1");
        assert_int_equal(out.seq, 1000 + (uint64_t)t);
        assert_int_equal(out.ev.type, t);
        assert_int_equal(out.ev.time_ms, ev.time_ms);
        assert_int_equal(out.ev.flags, 1);
        assert_memory_equal(&out.ev.u, &ev.u, n - QH_BUSEV_HEADER - 6);
        types++;
    }
    assert_int_equal(types, QTR_EV__COUNT - 1);
    assert_int_equal(qtr_event_type_by_name("nonsense"), QTR_EV_NONE);
    assert_null(qh_busev_type_name(QTR_EV_NONE));
}

static void a_signal_keeps_its_fields(void **state)
{
    (void)state;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = 5;
    strcpy(ev.u.signal.symbol, "BTCUSDT");
    strcpy(ev.u.signal.strategy, "ma_cross");
    strcpy(ev.u.signal.reason, "fast crossed slow");
    ev.u.signal.side = QTR_SIDE_SELL;
    ev.u.signal.type = QTR_ORDER_LIMIT;
    ev.u.signal.qty = QTR_DEC_INT(3);
    ev.u.signal.price = QTR_DEC_INT(42000);
    ev.u.signal.reduce_only = true;
    ev.u.signal.confidence = 0.75;
    unsigned char buf[QH_BUSEV_MAX];
    size_t n = qh_busev_encode("strat-2", 7, &ev, NULL, buf, sizeof buf);
    qh_busev out;
    char err[256];
    assert_int_equal(qh_busev_decode(buf, n, NULL, NULL, &out, err, sizeof err), 0);
    assert_string_equal(out.ev.u.signal.symbol, "BTCUSDT");
    assert_string_equal(out.ev.u.signal.strategy, "ma_cross");
    assert_string_equal(out.ev.u.signal.reason, "fast crossed slow");
    assert_int_equal(out.ev.u.signal.side, QTR_SIDE_SELL);
    assert_int_equal(out.ev.u.signal.qty, QTR_DEC_INT(3));
    assert_int_equal(out.ev.u.signal.price, QTR_DEC_INT(42000));
    assert_true(out.ev.u.signal.reduce_only);
    assert_true(out.ev.u.signal.confidence == 0.75);

    /* a peer that fills every string to the brim and writes 7 into a bool */
    size_t at = QH_BUSEV_HEADER + strlen("strat-2");
    qtr_signal *raw = (qtr_signal *)(void *)(buf + at);   /* same layout: same build */
    qtr_signal evil;
    memcpy(&evil, raw, sizeof evil);
    memset(evil.symbol, 'A', sizeof evil.symbol);
    memset(evil.strategy, 'B', sizeof evil.strategy);
    memset(evil.reason, 'C', sizeof evil.reason);
    memset(&evil.reduce_only, 7, 1);
    memcpy(buf + at, &evil, sizeof evil);
    assert_int_equal(qh_busev_decode(buf, n, NULL, NULL, &out, err, sizeof err), 0);
    assert_int_equal(strlen(out.ev.u.signal.symbol), QTR_SYMBOL_MAX - 1);
    assert_int_equal(strlen(out.ev.u.signal.strategy), QTR_NAME_MAX - 1);
    assert_int_equal(strlen(out.ev.u.signal.reason), QTR_REASON_MAX - 1);
    unsigned char b;
    memcpy(&b, &out.ev.u.signal.reduce_only, 1);
    assert_int_equal(b, 1);
}

static void refusals(void **state)
{
    (void)state;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    unsigned char buf[QH_BUSEV_MAX], bad[QH_BUSEV_MAX];
    /* encoding: unknown type, bad host ids, too small a buffer */
    assert_int_equal(qh_busev_encode("Exec_1", 1, &ev, NULL, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("", 1, &ev, NULL, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("a23456789012345678901234567890123", 1, &ev, NULL, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("exec-1", 1, &ev, NULL, buf, 40), 0);
    qtr_event none = ev;
    none.type = QTR_EV_NONE;
    assert_int_equal(qh_busev_encode("exec-1", 1, &none, NULL, buf, sizeof buf), 0);
    size_t n = qh_busev_encode("exec-1", 9, &ev, NULL, buf, sizeof buf);
    assert_true(n > 0);
    qh_busev out;
    char err[256];
    struct { size_t at; unsigned char v; size_t len; const char *want; } cases[] = {
        { 0, 3, 0, "version 3" },
        { 2, 99, 0, "type 99 unknown" },
        { 4, 1, 0, "hosts of different SDK ABIs" },
        { 1, 0, 0, "does not match its header" },
        { 1, 33, 0, "does not match its header" },
        { QH_BUSEV_HEADER, 'X', 0, "host_id is not" },
        { 0, 1, 10, "shorter than its header" },
        { 0, 1, n - 1, "does not match its header" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, buf, n);
        bad[cases[i].at] = cases[i].v;
        err[0] = 0;
        assert_int_equal(qh_busev_decode(bad, cases[i].len ? cases[i].len : n, NULL, NULL, &out, err, sizeof err), -1);
        if (!strstr(err, cases[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    memcpy(bad, buf, n);
    memset(bad + 8, 0, 8);
    assert_int_equal(qh_busev_decode(bad, n, NULL, NULL, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "sequence 0"));
}

#define KEY_A "0123456789abcdef0123456789abcdef-host-key-a"
#define KEY_B "0123456789abcdef0123456789abcdef-host-key-b"

/* A signal of symbol and qty, at a fixed time: what the signed tests encode. */
static qtr_event signal_of(const char *symbol, qtr_dec qty)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = 1700000000000;
    snprintf(ev.u.signal.symbol, sizeof ev.u.signal.symbol, "%s", symbol);
    ev.u.signal.qty = qty;
    return ev;
}

static void expect_untrusted(const unsigned char *in, size_t len, qc_hmac *key, const char *want)
{
    qh_busev out;
    char err[256] = "";
    int rc = qh_busev_decode(in, len, key, NULL, &out, err, sizeof err);
    if (rc != QH_BUSEV_UNTRUSTED) fail_msg("decode gave %d (%s), not untrusted ('%s')", rc, err, want);
    if (!strstr(err, want)) fail_msg("'%s' lacks '%s'", err, want);
}

static void signed_envelopes(void **state)
{
    (void)state;
    qc_hmac *a = qc_hmac_new(KEY_A, strlen(KEY_A)), *b = qc_hmac_new(KEY_B, strlen(KEY_B));
    assert_non_null(a);
    assert_non_null(b);
    qtr_event ev = signal_of("BTCUSDT", 100000000);
    unsigned char plain[QH_BUSEV_MAX], sig[QH_BUSEV_MAX + 8], bad[QH_BUSEV_MAX + 8];
    size_t n = qh_busev_encode("strat-1", 42, &ev, NULL, plain, sizeof plain);
    size_t m = qh_busev_encode("strat-1", 42, &ev, a, sig, sizeof sig);
    assert_int_equal(m, n + QC_HMAC_LEN);
    assert_int_equal(plain[0], 1);
    assert_int_equal(sig[0], 2);
    assert_memory_equal(plain + 1, sig + 1, n - 1);   /* the same envelope, then its mac */
    assert_int_equal(qh_busev_encode("strat-1", 42, &ev, a, sig, m - 1), 0);   /* no room for the mac */
    assert_int_equal(qh_busev_encode("strat-1", 42, &ev, a, sig, sizeof sig), m);

    qh_busev out;
    char err[256];
    assert_int_equal(qh_busev_decode(sig, m, a, NULL, &out, err, sizeof err), 0);
    assert_string_equal(out.host_id, "strat-1");
    assert_int_equal(out.seq, 42);
    assert_string_equal(out.ev.u.signal.symbol, "BTCUSDT");
    assert_int_equal(out.ev.u.signal.qty, 100000000);

    expect_untrusted(plain, n, a, "unsigned entry");          /* what anyone can write */
    expect_untrusted(sig, m, NULL, "no bus.key_env");          /* a host without the key */
    expect_untrusted(sig, m, b, "does not check");             /* another key */
    for (size_t at = 1; at < m; at++) {                        /* any bit after the version */
        memcpy(bad, sig, m);
        bad[at] ^= (unsigned char)(1u << (at % 8));
        expect_untrusted(bad, m, a, "does not check");
    }
    expect_untrusted(sig, m - 1, a, "does not check");         /* cut */
    memcpy(bad, sig, m);
    bad[m] = 0;
    expect_untrusted(bad, m + 1, a, "does not check");         /* a byte more */
    expect_untrusted(sig, QH_BUSEV_HEADER + QC_HMAC_LEN - 1, a, "too short to hold its mac");
    /* a copy signed again with the right key but its own number changed:
     * takes (the mac covers what it says, not where it came from; the
     * dedupe window and the h/s fields handle replays) */
    qh_busev_encode("strat-1", 43, &ev, a, bad, sizeof bad);
    assert_int_equal(qh_busev_decode(bad, m, a, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.seq, 43);
    qc_hmac_free(a);
    qc_hmac_free(b);
}

#define KEY_C "0123456789abcdef0123456789abcdef-host-key-c"

/* While the key changes: a host signing with B that also accepts A takes
 * entries signed with either, says which, and still refuses the rest. */
static void a_second_key_while_the_key_changes(void **state)
{
    (void)state;
    qc_hmac *a = qc_hmac_new(KEY_A, strlen(KEY_A)), *b = qc_hmac_new(KEY_B, strlen(KEY_B)),
            *c = qc_hmac_new(KEY_C, strlen(KEY_C));
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    qtr_event ev = signal_of("ETHUSDT", 5);
    unsigned char by_a[QH_BUSEV_MAX], by_b[QH_BUSEV_MAX], by_c[QH_BUSEV_MAX], plain[QH_BUSEV_MAX];
    size_t na = qh_busev_encode("strat-1", 7, &ev, a, by_a, sizeof by_a);
    size_t nb = qh_busev_encode("strat-2", 8, &ev, b, by_b, sizeof by_b);
    size_t nc = qh_busev_encode("strat-3", 9, &ev, c, by_c, sizeof by_c);
    size_t np = qh_busev_encode("strat-4", 10, &ev, NULL, plain, sizeof plain);
    assert_true(na && nb && nc && np);

    qh_busev out;
    char err[256];
    assert_int_equal(qh_busev_decode(by_b, nb, b, a, &out, err, sizeof err), 0);   /* the signing key's */
    assert_false(out.by_accept_key);
    assert_int_equal(out.seq, 8);
    assert_int_equal(qh_busev_decode(by_a, na, b, a, &out, err, sizeof err), 0);   /* the accepted one's */
    assert_true(out.by_accept_key);
    assert_string_equal(out.host_id, "strat-1");
    assert_string_equal(out.ev.u.signal.symbol, "ETHUSDT");
    assert_int_equal(qh_busev_decode(by_a, na, a, NULL, &out, err, sizeof err), 0);   /* A alone: its own */
    assert_false(out.by_accept_key);

    /* a third key, an unsigned entry, an altered one: refused as before */
    memset(err, 0, sizeof err);
    assert_int_equal(qh_busev_decode(by_c, nc, b, a, &out, err, sizeof err), QH_BUSEV_UNTRUSTED);
    assert_non_null(strstr(err, "nor bus.accept_key_env's"));
    assert_int_equal(qh_busev_decode(plain, np, b, a, &out, err, sizeof err), QH_BUSEV_UNTRUSTED);
    assert_non_null(strstr(err, "unsigned entry"));
    for (size_t at = 1; at < na; at++) {
        unsigned char bad[QH_BUSEV_MAX];
        memcpy(bad, by_a, na);
        bad[at] ^= 0x10;
        assert_int_equal(qh_busev_decode(bad, na, b, a, &out, err, sizeof err), QH_BUSEV_UNTRUSTED);
    }
    /* without the signing key the second is no key at all: signed entries refused */
    assert_int_equal(qh_busev_decode(by_a, na, NULL, a, &out, err, sizeof err), QH_BUSEV_UNTRUSTED);
    assert_non_null(strstr(err, "no bus.key_env"));
    qc_hmac_free(a);
    qc_hmac_free(b);
    qc_hmac_free(c);
}

static void the_key_from_its_variable(void **state)
{
    (void)state;
    qh_bus_config cfg;
    memset(&cfg, 0, sizeof cfg);
    qc_hmac *k = (qc_hmac *)&cfg;   /* must be set to NULL */
    char err[256] = "";
    assert_int_equal(qh_bus_key_open(&cfg, &k, err, sizeof err), 0);   /* no key_env: unsigned */
    assert_null(k);

    strcpy(cfg.key_env, "QTR_TEST_BUS_KEY");
    unsetenv("QTR_TEST_BUS_KEY");
    assert_int_equal(qh_bus_key_open(&cfg, &k, err, sizeof err), -1);
    assert_null(k);
    assert_non_null(strstr(err, "bus.key_env: QTR_TEST_BUS_KEY is not set"));

    setenv("QTR_TEST_BUS_KEY", "0123456789abcdef0123456789abcde", 1);   /* 31 bytes */
    assert_int_equal(qh_bus_key_open(&cfg, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "holds 31 bytes; the key needs 32"));
    char *huge = malloc(QH_BUS_KEY_MAX_BYTES + 2);
    assert_non_null(huge);
    memset(huge, 'k', QH_BUS_KEY_MAX_BYTES + 1);
    huge[QH_BUS_KEY_MAX_BYTES + 1] = '\0';
    setenv("QTR_TEST_BUS_KEY", huge, 1);
    free(huge);
    assert_int_equal(qh_bus_key_open(&cfg, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "holds 4097 bytes"));

    /* the variable's bytes are the key: it signs as a context made from them */
    setenv("QTR_TEST_BUS_KEY", KEY_A, 1);
    assert_int_equal(qh_bus_key_open(&cfg, &k, err, sizeof err), 0);
    assert_non_null(k);
    qc_hmac *a = qc_hmac_new(KEY_A, strlen(KEY_A));
    unsigned char x[QC_HMAC_LEN], y[QC_HMAC_LEN];
    assert_true(qc_hmac_sha256(k, "abc", 3, NULL, 0, x));
    assert_true(qc_hmac_sha256(a, "ab", 2, "c", 1, y));   /* the parts join */
    assert_true(qc_hmac_equal(x, y));
    y[31] ^= 1;
    assert_false(qc_hmac_equal(x, y));
    qc_hmac_free(a);
    qc_hmac_free(k);
    unsetenv("QTR_TEST_BUS_KEY");

    /* the accepted key: read the same way, named by its own setting, and
     * opened with the signing key (neither stays open when one fails) */
    setenv("QTR_TEST_BUS_KEY", KEY_A, 1);
    qc_hmac *acc = (qc_hmac *)&cfg;
    assert_int_equal(qh_bus_keys_open(&cfg, &k, &acc, err, sizeof err), 0);   /* none named */
    assert_non_null(k);
    assert_null(acc);
    qc_hmac_free(k);
    strcpy(cfg.accept_key_env, "QTR_TEST_BUS_KEY_OLD");
    unsetenv("QTR_TEST_BUS_KEY_OLD");
    assert_int_equal(qh_bus_keys_open(&cfg, &k, &acc, err, sizeof err), -1);
    assert_non_null(strstr(err, "bus.accept_key_env: QTR_TEST_BUS_KEY_OLD is not set"));
    assert_null(k);
    assert_null(acc);
    setenv("QTR_TEST_BUS_KEY_OLD", "short", 1);
    assert_int_equal(qh_bus_keys_open(&cfg, &k, &acc, err, sizeof err), -1);
    assert_non_null(strstr(err, "bus.accept_key_env: QTR_TEST_BUS_KEY_OLD holds 5 bytes"));
    setenv("QTR_TEST_BUS_KEY_OLD", KEY_B, 1);
    assert_int_equal(qh_bus_keys_open(&cfg, &k, &acc, err, sizeof err), 0);
    assert_non_null(k);
    assert_non_null(acc);
    qc_hmac *b = qc_hmac_new(KEY_B, strlen(KEY_B));
    assert_true(qc_hmac_sha256(acc, "abc", 3, NULL, 0, x));
    assert_true(qc_hmac_sha256(b, "abc", 3, NULL, 0, y));
    assert_true(qc_hmac_equal(x, y));
    qc_hmac_free(b);
    qc_hmac_free(acc);
    qc_hmac_free(k);
    unsetenv("QTR_TEST_BUS_KEY_OLD");
    unsetenv("QTR_TEST_BUS_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_every_type),
        cmocka_unit_test(a_signal_keeps_its_fields),
        cmocka_unit_test(a_second_key_while_the_key_changes),
        cmocka_unit_test(refusals),
        cmocka_unit_test(signed_envelopes),
        cmocka_unit_test(the_key_from_its_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
