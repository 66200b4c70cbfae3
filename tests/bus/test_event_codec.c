/* bus/event_codec: every registry type goes through the envelope and comes
 * back equal; names map both ways; a peer's unterminated strings and odd
 * bools are tamed; wrong versions, types, lengths, host ids and a payload
 * of another ABI's size are refused with a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

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
        size_t n = qh_busev_encode("exec-1", 1000 + (uint64_t)t, &ev, buf, sizeof buf);
        assert_true(n > QH_BUSEV_HEADER);
        qh_busev out;
        char err[256] = "";
        if (qh_busev_decode(buf, n, &out, err, sizeof err) != 0) fail_msg("%s: %s", name, err);
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
    size_t n = qh_busev_encode("strat-2", 7, &ev, buf, sizeof buf);
    qh_busev out;
    char err[256];
    assert_int_equal(qh_busev_decode(buf, n, &out, err, sizeof err), 0);
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
    assert_int_equal(qh_busev_decode(buf, n, &out, err, sizeof err), 0);
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
    assert_int_equal(qh_busev_encode("Exec_1", 1, &ev, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("", 1, &ev, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("a23456789012345678901234567890123", 1, &ev, buf, sizeof buf), 0);
    assert_int_equal(qh_busev_encode("exec-1", 1, &ev, buf, 40), 0);
    qtr_event none = ev;
    none.type = QTR_EV_NONE;
    assert_int_equal(qh_busev_encode("exec-1", 1, &none, buf, sizeof buf), 0);
    size_t n = qh_busev_encode("exec-1", 9, &ev, buf, sizeof buf);
    assert_true(n > 0);
    qh_busev out;
    char err[256];
    struct { size_t at; unsigned char v; size_t len; const char *want; } cases[] = {
        { 0, 2, 0, "version 2" },
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
        assert_int_equal(qh_busev_decode(bad, cases[i].len ? cases[i].len : n, &out, err, sizeof err), -1);
        if (!strstr(err, cases[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    memcpy(bad, buf, n);
    memset(bad + 8, 0, 8);
    assert_int_equal(qh_busev_decode(bad, n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "sequence 0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_every_type),
        cmocka_unit_test(a_signal_keeps_its_fields),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
