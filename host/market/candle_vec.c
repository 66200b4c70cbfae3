/* A growable array of candles, and the merge of several series into one. */
#include "market/candles.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

void qh_candle_vec_free(qh_candle_vec *v)
{
    if (!v) return;
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

/* Millions of candles fault in hundreds of MB page by page, and page
 * faults are dear (in a VM most of all): ask for huge pages. A hint only. */
void qh_hint_huge_pages(void *p, size_t bytes)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes < 4 * huge) return;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
}

int qh_candle_vec_reserve(qh_candle_vec *v, size_t cap)
{
    if (cap <= v->cap) return 0;
    if (cap > SIZE_MAX / sizeof *v->items) return -1;
    qtr_candle *items = realloc(v->items, cap * sizeof *items);
    if (!items) return -1;
    v->items = items;
    v->cap = cap;
    qh_hint_huge_pages(items, cap * sizeof *items);
    return 0;
}

int qh_candle_vec_push(qh_candle_vec *v, const qtr_candle *c)
{
    if (v->len == v->cap) {
        /* doubling keeps appends amortised O(1) */
        size_t cap = v->cap ? v->cap * 2 : 256;
        if (cap < v->cap || qh_candle_vec_reserve(v, cap) != 0) return -1;
    }
    v->items[v->len++] = *c;
    return 0;
}

static int candle_order(const qtr_candle *a, const qtr_candle *b)
{
    if (a->open_time_ms != b->open_time_ms) return a->open_time_ms < b->open_time_ms ? -1 : 1;
    return strcmp(a->symbol, b->symbol);
}

/* Bottom-up merge sort: stable, so equal (time, symbol) keep series order. */
static void stable_sort(qtr_candle *a, qtr_candle *tmp, size_t n)
{
    qtr_candle *src = a, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = candle_order(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        qtr_candle *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* True when v is already in merge order (time, then symbol): one pass. */
static bool in_order(const qh_candle_vec *v)
{
    for (size_t i = 1; i < v->len; i++)
        if (candle_order(&v->items[i - 1], &v->items[i]) > 0) return false;
    return true;
}

/* True when every candle of v has the symbol of its first. */
static bool one_symbol(const qh_candle_vec *v)
{
    for (size_t i = 1; i < v->len; i++)
        if (strcmp(v->items[i].symbol, v->items[0].symbol) != 0) return false;
    return true;
}

/* The heads of the series still to merge: a binary min-heap of series
 * indexes by (head candle, series index), the series index keeping equal keys
 * in series order as the stable sort does. */
typedef struct merge_heap {
    qh_candle_vec *const *series;
    size_t *next;   /* per series: its first candle not yet merged */
    size_t *heap, len;
    /* When each series holds one symbol (one file each), the rank of its
     * symbol among the series' symbols: equal times, the common case with
     * many symbols, compare two integers instead of two strings. NULL when a
     * series mixes symbols. */
    size_t *rank;
} merge_heap;

static bool heap_less(const merge_heap *h, size_t a, size_t b)
{
    if (h->rank) {
        int64_t ta = h->series[a]->items[h->next[a]].open_time_ms, tb = h->series[b]->items[h->next[b]].open_time_ms;
        if (ta != tb) return ta < tb;
        if (h->rank[a] != h->rank[b]) return h->rank[a] < h->rank[b];
        return a < b;
    }
    int c = candle_order(&h->series[a]->items[h->next[a]], &h->series[b]->items[h->next[b]]);
    return c < 0 || (c == 0 && a < b);
}

/* rank[i]: how many distinct symbols of the non-empty series sort before
 * series i's; O(n log n). NULL when a series mixes symbols. */
typedef struct series_symbol { const char *symbol; size_t index; } series_symbol;

static int by_symbol(const void *x, const void *y)
{
    return strcmp(((const series_symbol *)x)->symbol, ((const series_symbol *)y)->symbol);
}

static size_t *symbol_ranks(qh_candle_vec *const *series, size_t n)
{
    series_symbol *order = malloc(n * sizeof *order);
    size_t *rank = calloc(n, sizeof *rank), m = 0;
    if (!order || !rank) goto none;
    for (size_t i = 0; i < n; i++) {
        if (!series[i]->len) continue;
        if (!one_symbol(series[i])) goto none;
        order[m++] = (series_symbol){ series[i]->items[0].symbol, i };
    }
    qsort(order, m, sizeof *order, by_symbol);
    for (size_t k = 1; k < m; k++)
        rank[order[k].index] = rank[order[k - 1].index] + (by_symbol(&order[k - 1], &order[k]) != 0);
    free(order);
    return rank;
none:
    free(order);
    free(rank);
    return NULL;
}

static void heap_sift_down(merge_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && heap_less(h, h->heap[l], h->heap[m])) m = l;
        if (r < h->len && heap_less(h, h->heap[r], h->heap[m])) m = r;
        if (m == i) return;
        size_t t = h->heap[i];
        h->heap[i] = h->heap[m];
        h->heap[m] = t;
        i = m;
    }
}

/* Each series is in order: a k-way merge, O(total log n), no scratch copy
 * of the candles. The same order as the stable sort of their concatenation. */
/* Give the kernel back the whole pages of [from, to) of a series' items (the
 * candles merged already): the series is freed after the merge, and until
 * then the pages read as zeros. Pages are taken inward, so nothing outside
 * the block is touched. */
#define RELEASE_EVERY ((size_t)1 << 15)   /* candles between releases: 2.5 MiB */
static void release_merged(const qtr_candle *from, const qtr_candle *to)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1), b = (uintptr_t)to & ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

static int kway_merge(qh_candle_vec *const *series, size_t n, qtr_candle *dst, bool release)
{
    merge_heap h = { .series = series, .next = calloc(n, sizeof(size_t)), .heap = malloc(n * sizeof(size_t)) };
    if (!h.next || !h.heap) {
        free(h.next);
        free(h.heap);
        return -1;
    }
    h.rank = symbol_ranks(series, n);   /* NULL: compare symbols as strings */
    for (size_t i = 0; i < n; i++)
        if (series[i]->len) h.heap[h.len++] = i;
    for (size_t i = h.len / 2; i-- > 0;) heap_sift_down(&h, i);
    while (h.len) {
        size_t s = h.heap[0];
        *dst++ = series[s]->items[h.next[s]++];
        if (release && h.next[s] % RELEASE_EVERY == 0)
            release_merged(&series[s]->items[h.next[s] - RELEASE_EVERY], &series[s]->items[h.next[s]]);
        if (h.next[s] == series[s]->len) h.heap[0] = h.heap[--h.len];
        heap_sift_down(&h, 0);
    }
    free(h.next);
    free(h.heap);
    free(h.rank);
    return 0;
}

static int merge(qh_candle_vec *const *series, size_t n, qh_candle_vec *out, bool release)
{
    if (!out || (n && !series)) return -1;
    size_t total = 0;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        if (!series[i] || series[i] == out) return -1;   /* out must not alias an input */
        if (series[i]->len > SIZE_MAX - total) return -1;
        total += series[i]->len;
    }
    for (size_t i = 0; i < n && sorted; i++) sorted = in_order(series[i]);
    if (total == 0) return 0;
    size_t base = out->len;
    if (total > SIZE_MAX - base || qh_candle_vec_reserve(out, base + total) != 0) return -1;
    if (sorted) {
        /* files are read in strictly increasing time: the usual case */
        if (kway_merge(series, n, &out->items[base], release) != 0) return -1;
    } else {
        qtr_candle *tmp = malloc(total * sizeof *tmp);
        if (!tmp) return -1;
        size_t k = base;
        for (size_t i = 0; i < n; i++) {
            if (series[i]->len) memcpy(&out->items[k], series[i]->items, series[i]->len * sizeof *tmp);
            k += series[i]->len;
        }
        stable_sort(&out->items[base], tmp, total);
        free(tmp);
    }
    out->len = base + total;
    for (size_t i = 0; i < n; i++) out->volumes_rounded += series[i]->volumes_rounded;
    return 0;
}

int qh_candles_merge(qh_candle_vec *const *series, size_t n, qh_candle_vec *out)
{
    return merge(series, n, out, false);
}

int qh_candles_merge_consume(qh_candle_vec *const *series, size_t n, qh_candle_vec *out)
{
    int rc = merge(series, n, out, true);
    for (size_t i = 0; i < n && series[i] && series[i] != out; i++) qh_candle_vec_free(series[i]);
    return rc;
}
