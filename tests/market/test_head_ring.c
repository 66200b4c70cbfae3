/* The candle merge's ordered ring of file heads (market/head_ring.h) against
 * a plain sorted array: random numbers of files (1 to 64), heads that come
 * back after every other (shared open times), before every other (a short
 * interval among long ones), in between, with equal times and ranks, and
 * files that end, a file's next head added after its pop or in one step
 * (qh_head_ring_pop_insert): the ring gives the same key at the front every
 * time, and the same order over all its keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "market/head_ring.h"

#define MAX_FILES 64

static uint64_t g_rng = 64;

static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g_rng >> 33) % n;
}

/* The reference: keys sorted in a plain array, the least first. */
typedef struct sorted { qh_head_key k[MAX_FILES]; size_t len; } sorted;

static void sorted_insert(sorted *s, qh_head_key k)
{
    size_t i = s->len++;
    while (i > 0 && qh_head_key_less(&k, &s->k[i - 1])) {
        s->k[i] = s->k[i - 1];
        i--;
    }
    s->k[i] = k;
}

static void same_key(const qh_head_key *a, const qh_head_key *b)
{
    assert_int_equal(a->t, b->t);
    assert_int_equal(a->rank, b->rank);
    assert_int_equal(a->index, b->index);
}

static void ring_keeps_the_order(void **state)
{
    (void)state;
    qh_head_key slots[MAX_FILES];
    size_t pops = 0, fronts = 0, backs = 0, middles = 0, slot_reuses = 0;
    for (int run = 0; run < 2000; run++) {
        size_t n = 1 + rnd(MAX_FILES);
        qh_head_ring r = { .keys = slots, .cap = n, .first = rnd((uint32_t)n) };
        sorted ref = { .len = 0 };
        int64_t interval[MAX_FILES];
        size_t ranks = 1 + rnd((uint32_t)n);   /* several files may share a symbol */
        for (size_t i = 0; i < n; i++) {
            interval[i] = rnd(4) == 0 ? 60 : 3600;
            qh_head_key k = { (int64_t)rnd(3) * 60, rnd((uint32_t)ranks), i };
            qh_head_ring_insert(&r, k);
            sorted_insert(&ref, k);
        }
        for (int step = 0; step < 300 && ref.len > 0; step++) {
            assert_int_equal(r.len, ref.len);
            qh_head_key top = *qh_head_ring_front(&r);
            same_key(&top, &ref.k[0]);
            memmove(&ref.k[0], &ref.k[1], (ref.len - 1) * sizeof ref.k[0]);
            ref.len--;
            pops++;
            if (rnd(40) == 0) {   /* this file ended */
                qh_head_ring_pop(&r);
                continue;
            }
            qh_head_key k = top;
            switch (rnd(4)) {
            case 0: k.t += interval[k.index]; break;                                         /* its next row */
            case 1: k.t += (int64_t)rnd(7200); break;                                        /* anywhere after */
            case 2: k.t = ref.len ? ref.k[rnd((uint32_t)ref.len)].t : k.t + 1; break;       /* a time in use */
            default: k.t += 1; break;
            }
            if (ref.len && !qh_head_key_less(&k, &ref.k[ref.len - 1])) backs++;
            else if (ref.len && qh_head_key_less(&k, &ref.k[0])) fronts++;
            else if (ref.len) middles++;
            /* its next head in its place: in one step (through the front's
             * slot when it goes last in a full ring), or popped then added */
            bool one_step = rnd(2);
            if (one_step && r.len == r.cap && !qh_head_key_less(&k, qh_head_ring_at(&r, r.len - 1))) slot_reuses++;
            if (one_step) {
                qh_head_ring_pop_insert(&r, k);
            } else {
                qh_head_ring_pop(&r);
                qh_head_ring_insert(&r, k);
            }
            sorted_insert(&ref, k);
            for (size_t j = 0; j < ref.len; j++) same_key(qh_head_ring_at(&r, j), &ref.k[j]);
        }
    }
    /* every way in was taken many times */
    assert_true(pops > 100000);
    assert_true(backs > 10000 && fronts > 1000 && middles > 10000 && slot_reuses > 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_keeps_the_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
