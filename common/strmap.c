/* strmap.c — see qc/strmap.h. */
#include "qc/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "qc/bytes_eq.h"
#include "qc/strmap_hash.h"

struct qc_strmap {
    size_t key_max;
    size_t max_entries;     /* 0: growing */
    size_t count;
    uint32_t mask;          /* table size - 1 */
    uint32_t *hashes;       /* 0: empty slot (stored hashes are never 0) */
    uint16_t *lens;         /* a slot's key length (key_max <= 4096) */
    int64_t *values;
    char *keys;             /* key_max bytes a slot */
};

static char *key_at(const qc_strmap *m, uint32_t i) { return m->keys + (size_t)i * m->key_max; }

/* Table arrays of `size` slots, all empty; false if memory is short. */
static bool alloc_table(qc_strmap *m, uint32_t size)
{
    m->hashes = calloc(size, sizeof *m->hashes);
    m->lens = malloc(size * sizeof *m->lens);
    m->values = malloc(size * sizeof *m->values);
    m->keys = malloc((size_t)size * m->key_max);
    if (!m->hashes || !m->lens || !m->values || !m->keys) {
        free(m->hashes);
        free(m->lens);
        free(m->values);
        free(m->keys);
        return false;
    }
    m->mask = size - 1;
    return true;
}

/* Smallest power of two >= 2 * n (load factor <= 1/2), at least 16. */
static uint32_t table_size_for(size_t n)
{
    uint32_t size = 16;
    while (size < 2 * n) size *= 2;
    return size;
}

qc_strmap *qc_strmap_new(size_t key_max, size_t max_entries)
{
    if (key_max < 2 || key_max > 4096 || max_entries > QC_STRMAP_MAX_ENTRIES) return NULL;
    qc_strmap *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->key_max = key_max;
    m->max_entries = max_entries;
    if (!alloc_table(m, table_size_for(max_entries ? max_entries : 8))) {
        free(m);
        return NULL;
    }
    return m;
}

void qc_strmap_free(qc_strmap *m)
{
    if (!m) return;
    free(m->hashes);
    free(m->lens);
    free(m->values);
    free(m->keys);
    free(m);
}

bool qc_strmap_key_ok(const qc_strmap *m, const char *key)
{
    return key && key[0] && memchr(key, '\0', m->key_max) != NULL;
}

/* A key as every operation sees it: its length (strnlen, bounded by
 * key_max) and its qc_strmap_hash, read a word at a time within the length
 * only. False for a key qc_strmap_key_ok() refuses. */
typedef struct key_info {
    size_t len;
    uint32_t hash;              /* qc_strmap_hash(key, len) */
} key_info;

static bool scan_key(const qc_strmap *m, const char *key, key_info *k)
{
    if (!key) return false;
    size_t n = strnlen(key, m->key_max);
    if (n == 0 || n == m->key_max) return false;
    k->len = n;
    k->hash = qc_strmap_hash(key, n);
    return true;
}

/* The slot holding key, or the empty slot where it would go. Ends: the
 * table is never more than half full. */
static uint32_t probe(const qc_strmap *m, const char *key, const key_info *k)
{
    for (uint32_t i = k->hash & m->mask;; i = (i + 1) & m->mask) {
        uint32_t s = m->hashes[i];
        if (s == 0 || (s == k->hash && m->lens[i] == k->len && qc_bytes_eq(key_at(m, i), key, k->len))) return i;
    }
}

/* Fill slot i with key (an empty slot, or the one a key moves out of). */
static void store(qc_strmap *m, uint32_t i, const char *key, const key_info *k, int64_t value)
{
    m->hashes[i] = k->hash;
    m->lens[i] = (uint16_t)k->len;
    m->values[i] = value;
    memcpy(key_at(m, i), key, k->len + 1);
}

bool qc_strmap_get(const qc_strmap *m, const char *key, int64_t *value)
{
    key_info k;
    if (!scan_key(m, key, &k)) return false;
    uint32_t i = probe(m, key, &k);
    if (m->hashes[i] == 0) return false;
    if (value) *value = m->values[i];
    return true;
}

/* Double a growing table; false (table unchanged) if memory is short. */
static bool grow(qc_strmap *m)
{
    qc_strmap old = *m;
    uint32_t old_size = m->mask + 1;
    if ((size_t)old_size * 2 > QC_STRMAP_MAX_ENTRIES * 2 || !alloc_table(m, old_size * 2)) {
        *m = old;
        return false;
    }
    for (uint32_t i = 0; i < old_size; i++) {
        if (old.hashes[i] == 0) continue;
        const char *key = old.keys + (size_t)i * old.key_max;
        key_info k = { .len = old.lens[i], .hash = old.hashes[i] };
        store(m, probe(m, key, &k), key, &k, old.values[i]);
    }
    free(old.hashes);
    free(old.lens);
    free(old.values);
    free(old.keys);
    return true;
}

int qc_strmap_put(qc_strmap *m, const char *key, int64_t value)
{
    key_info k;
    if (!scan_key(m, key, &k)) return QC_STRMAP_REFUSED;
    uint32_t i = probe(m, key, &k);
    if (m->hashes[i] != 0) {
        m->values[i] = value;
        return QC_STRMAP_REPLACED;
    }
    if (m->max_entries) {
        if (m->count >= m->max_entries) return QC_STRMAP_REFUSED;
    } else if ((m->count + 1) * 2 > (size_t)m->mask + 1) {
        if (!grow(m)) return QC_STRMAP_REFUSED;
        i = probe(m, key, &k);
    }
    store(m, i, key, &k, value);
    m->count++;
    return QC_STRMAP_ADDED;
}

bool qc_strmap_remove(qc_strmap *m, const char *key, int64_t *value)
{
    key_info k;
    if (!scan_key(m, key, &k)) return false;
    uint32_t hole = probe(m, key, &k);
    if (m->hashes[hole] == 0) return false;
    if (value) *value = m->values[hole];
    /* Backward shift: an entry after the hole moves into it unless its home
     * slot lies cyclically in (hole, j], where a lookup would still find it. */
    for (uint32_t j = (hole + 1) & m->mask; m->hashes[j] != 0; j = (j + 1) & m->mask) {
        uint32_t home = m->hashes[j] & m->mask;
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        key_info moved = { .len = m->lens[j], .hash = m->hashes[j] };
        store(m, hole, key_at(m, j), &moved, m->values[j]);
        hole = j;
    }
    m->hashes[hole] = 0;
    m->count--;
    return true;
}

void qc_strmap_clear(qc_strmap *m)
{
    memset(m->hashes, 0, ((size_t)m->mask + 1) * sizeof *m->hashes);
    m->count = 0;
}

size_t qc_strmap_count(const qc_strmap *m) { return m->count; }
size_t qc_strmap_capacity(const qc_strmap *m) { return m->max_entries; }

bool qc_strmap_next(const qc_strmap *m, size_t *cursor, const char **key, int64_t *value)
{
    for (size_t i = *cursor; i <= m->mask; i++) {
        if (m->hashes[i] == 0) continue;
        *cursor = i + 1;
        if (key) *key = key_at(m, (uint32_t)i);
        if (value) *value = m->values[i];
        return true;
    }
    *cursor = (size_t)m->mask + 1;
    return false;
}
