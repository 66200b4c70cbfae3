/*
 * The merge order of the candle files' heads (candle_stream.c): the keys
 * (open time, symbol rank, file index) kept sorted in a ring of at most one
 * key a file. The next candle is the front. A file's new head goes back in
 * its place: at the back when it opens after every other head (files that
 * share open times: each new head passes all the others), at the front when
 * it opens before them (a short interval among long ones), else found by
 * binary search and made room for by moving the shorter side. So a candle
 * costs a few compares whatever the number of files, where a binary heap
 * sifted every new head down all its levels.
 */
#ifndef QH_HEAD_RING_H
#define QH_HEAD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qh_head_key {
    int64_t t;                 /* the head's open time */
    size_t rank, index;        /* its symbol's rank, its file */
} qh_head_key;

typedef struct qh_head_ring {
    qh_head_key *keys;         /* cap slots */
    size_t cap, first, len;
} qh_head_ring;

static inline bool qh_head_key_less(const qh_head_key *x, const qh_head_key *y)
{
    if (x->t != y->t) return x->t < y->t;
    if (x->rank != y->rank) return x->rank < y->rank;
    return x->index < y->index;
}

/* The k-th key in order (k < len). */
static inline qh_head_key *qh_head_ring_at(const qh_head_ring *r, size_t k)
{
    size_t i = r->first + k;
    return &r->keys[i >= r->cap ? i - r->cap : i];
}

static inline const qh_head_key *qh_head_ring_front(const qh_head_ring *r) { return &r->keys[r->first]; }

static inline void qh_head_ring_pop(qh_head_ring *r)
{
    r->first = r->first + 1 == r->cap ? 0 : r->first + 1;
    r->len--;
}

/* Add k in its place (len < cap). */
static inline void qh_head_ring_insert(qh_head_ring *r, qh_head_key k)
{
    if (r->len == 0 || !qh_head_key_less(&k, qh_head_ring_at(r, r->len - 1))) {
        *qh_head_ring_at(r, r->len++) = k;   /* after every other: the common case */
        return;
    }
    if (qh_head_key_less(&k, qh_head_ring_at(r, 0))) {
        r->first = r->first == 0 ? r->cap - 1 : r->first - 1;   /* before every other */
        r->len++;
        r->keys[r->first] = k;
        return;
    }
    /* keys[0] <= k < keys[len - 1]: its place p in (0, len - 1] */
    size_t lo = 1, hi = r->len - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (qh_head_key_less(&k, qh_head_ring_at(r, mid))) hi = mid;
        else lo = mid + 1;
    }
    size_t p = lo;
    if (p <= r->len / 2) {   /* move the front p keys one slot forward */
        r->first = r->first == 0 ? r->cap - 1 : r->first - 1;
        for (size_t j = 0; j < p; j++) *qh_head_ring_at(r, j) = *qh_head_ring_at(r, j + 1);
    } else {                 /* move the back keys one slot back */
        for (size_t j = r->len; j > p; j--) *qh_head_ring_at(r, j) = *qh_head_ring_at(r, j - 1);
    }
    r->len++;
    *qh_head_ring_at(r, p) = k;
}

/* The front popped and k added in its place (len > 0). A full ring whose
 * new key goes after every other (files sharing open times, the common
 * case) gives the front's slot to it: the slot after the back. */
static inline void qh_head_ring_pop_insert(qh_head_ring *r, qh_head_key k)
{
    if (r->len == r->cap && !qh_head_key_less(&k, qh_head_ring_at(r, r->len - 1))) {
        r->keys[r->first] = k;
        r->first = r->first + 1 == r->cap ? 0 : r->first + 1;
        return;
    }
    qh_head_ring_pop(r);
    qh_head_ring_insert(r, k);
}

#endif
