/* The SDK's inline text copies (sdk/include/qtr): qtr_strlcpy and
 * qtr_order_update_for_intent give the same bytes as the byte-by-byte loops
 * they replaced (kept here as the reference): every source length around
 * the field's size, junk after a source's NUL, sources without a NUL in the
 * field, a NULL source or reason, a source ending before an unreadable
 * page, and nothing written past the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <qtr/events.h>
#include <qtr/plugin.h>

static void reference_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    if (!cap) return;
    for (; src && src[i] && i + 1 < cap; i++) dst[i] = src[i];
    dst[i] = '\0';
}

static void reference_update_for_intent(const qtr_order_intent *in, qtr_order_status status, const char *reason,
                                        int64_t time_ms, qtr_order_update *u)
{
    size_t i;
    for (i = 0; i < sizeof *u; i++) ((unsigned char *)u)[i] = 0;
    for (i = 0; i + 1 < sizeof u->symbol && in->symbol[i]; i++) u->symbol[i] = in->symbol[i];
    for (i = 0; i + 1 < sizeof u->client_id && in->client_id[i]; i++) u->client_id[i] = in->client_id[i];
    for (i = 0; reason && i + 1 < sizeof u->reason && reason[i]; i++) u->reason[i] = reason[i];
    u->time_ms = time_ms;
    u->side = in->side;
    u->type = in->type;
    u->status = status;
    u->qty = in->qty;
    u->price = in->price;
    u->reduce_only = in->reduce_only;
    u->activation_price = in->activation_price;
    u->callback_bps = in->callback_bps;
    u->working_type = in->working_type;
    u->stop_price = in->stop_price;
}

/* qtr_strlcpy(src, cap) writes the bytes the reference writes into a
 * 64-byte field of junk, and leaves the rest of the field as it was. */
static void copies_as_reference(const char *src, size_t cap)
{
    char got[64], want[64];
    memset(got, 0x5a, sizeof got);
    memset(want, 0x5a, sizeof want);
    qtr_strlcpy(got, src, cap);
    reference_strlcpy(want, src, cap);
    assert_memory_equal(got, want, sizeof got);
}

/* Every cap 0..40 and source length 0..cap + 5, with junk after the NUL in
 * the source and in the destination: the same bytes as the reference, the
 * destination's bytes after the copied NUL and past cap untouched. */
static void test_strlcpy_every_length(void **st)
{
    (void)st;
    for (size_t cap = 0; cap <= 40; cap++) {
        for (size_t len = 0; len <= cap + 5; len++) {
            char src[64];
            memset(src, 'j', sizeof src);
            for (size_t i = 0; i < len; i++) src[i] = (char)('A' + i % 26);
            src[len] = '\0';
            copies_as_reference(src, cap);
        }
        copies_as_reference(NULL, cap);
    }
}

/* A source whose NUL is the last byte before an unreadable page, and one of
 * cap - 1 bytes with no NUL up to it: copied with no read past them. */
static void test_strlcpy_no_read_past_source(void **st)
{
    (void)st;
    long page = sysconf(_SC_PAGESIZE);
    char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    char *guard = mem + page;
    assert_int_equal(mprotect(guard, (size_t)page, PROT_NONE), 0);
    for (size_t cap = 1; cap <= 40; cap++) {
        for (size_t len = 0; len < 40; len++) {
            char *src = guard - (len + 1);
            memset(src, 'q', len);
            src[len] = '\0';
            copies_as_reference(src, cap);
        }
        char *unended = guard - (cap - 1);   /* cap - 1 bytes, then the guard */
        memset(unended, 'u', cap - 1);
        char got[48];
        memset(got, 0x5a, sizeof got);
        qtr_strlcpy(got, unended, cap);
        assert_int_equal(strlen(got), cap - 1);
        assert_int_equal(got[cap], 0x5a);
    }
    munmap(mem, (size_t)page * 2);
}

static void fill_intent(qtr_order_intent *in, size_t sym_len, size_t cid_len, unsigned seed)
{
    memset(in, (int)(0x41 + seed % 20), sizeof *in);   /* junk everywhere, padding too */
    for (size_t i = 0; i < sym_len && i < sizeof in->symbol; i++) in->symbol[i] = (char)('a' + (i + seed) % 26);
    if (sym_len < sizeof in->symbol) in->symbol[sym_len] = '\0';
    for (size_t i = 0; i < cid_len && i < sizeof in->client_id; i++) in->client_id[i] = (char)('0' + (i * 3 + seed) % 10);
    if (cid_len < sizeof in->client_id) in->client_id[cid_len] = '\0';
    in->side = seed % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    in->type = (qtr_order_type)(seed % 3);
    in->qty = (qtr_dec)(seed * 1000003);
    in->price = (qtr_dec)(seed * 77);
    in->reduce_only = seed % 2;
    in->activation_price = (qtr_dec)seed;
    in->callback_bps = seed;
    in->working_type = (qtr_working_type)(seed % 2);
    in->stop_price = (qtr_dec)(seed * 5);
}

/* Every symbol and client id length 0..cap (cap: no NUL in the field) and
 * reasons of every length around QTR_REASON_MAX, NULL and empty: the whole
 * update, padding included, byte for byte as the reference. */
static void test_update_for_intent_every_length(void **st)
{
    (void)st;
    char reason[QTR_REASON_MAX + 8];
    unsigned seed = 1;
    for (size_t sym = 0; sym <= QTR_SYMBOL_MAX; sym++) {
        for (size_t cid = 0; cid <= QTR_CLIENT_ID_MAX; cid++, seed++) {
            qtr_order_intent in;
            fill_intent(&in, sym, cid, seed);
            size_t rlen = seed % (sizeof reason);
            memset(reason, 'r', rlen);
            reason[rlen] = '\0';
            const char *r = seed % 7 == 0 ? NULL : reason;
            qtr_order_update got, want;
            memset(&got, 0xa5, sizeof got);
            memset(&want, 0x3c, sizeof want);
            qtr_order_update_for_intent(&in, QTR_OS_REJECTED, r, (int64_t)seed * 1000, &got);
            reference_update_for_intent(&in, QTR_OS_REJECTED, r, (int64_t)seed * 1000, &want);
            assert_memory_equal(&got, &want, sizeof got);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strlcpy_every_length),
        cmocka_unit_test(test_strlcpy_no_read_past_source),
        cmocka_unit_test(test_update_for_intent_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
