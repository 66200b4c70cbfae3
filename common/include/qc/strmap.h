/*
 * The one hash map of the project (host and plugins): string key -> int64_t
 * value. Keys are copied in (at most key_max - 1 bytes, as a fixed char
 * field of key_max bytes holds them: QTR_SYMBOL_MAX, QTR_CLIENT_ID_MAX).
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full; a removal shifts the entries behind it back, so no
 * tombstones pile up and lookups stay short under steady insert/remove
 * (an open-order table).
 *
 * Fixed capacity (max_entries > 0): all memory is taken by qc_strmap_new()
 * and no call allocates afterwards, so it is fit for a hot path; an insert
 * past max_entries is refused. Growing (max_entries == 0): the table
 * doubles when it would pass half full.
 *
 * Not thread-safe; the caller serialises access.
 */
#ifndef QC_STRMAP_H
#define QC_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qc_strmap qc_strmap;

/* Largest max_entries (and size a growing map may reach). */
#define QC_STRMAP_MAX_ENTRIES ((size_t)1 << 24)

/* NULL if key_max < 2, max_entries > QC_STRMAP_MAX_ENTRIES or memory is short. */
qc_strmap *qc_strmap_new(size_t key_max, size_t max_entries);
void qc_strmap_free(qc_strmap *m);

/* True for a non-NULL, non-empty key shorter than key_max bytes. */
bool qc_strmap_key_ok(const qc_strmap *m, const char *key);

/* True if key is in the map, with its value in *value (value may be NULL).
 * An invalid key is simply not found. */
bool qc_strmap_get(const qc_strmap *m, const char *key, int64_t *value);

/* Set key's value. QC_STRMAP_ADDED or QC_STRMAP_REPLACED; QC_STRMAP_REFUSED
 * for an invalid key, a full fixed map or no memory to grow (the map is then
 * unchanged). */
#define QC_STRMAP_REPLACED 0
#define QC_STRMAP_ADDED    1
#define QC_STRMAP_REFUSED  (-1)
int qc_strmap_put(qc_strmap *m, const char *key, int64_t value);

/* Remove key; true (with its value in *value, which may be NULL) if it was there. */
bool qc_strmap_remove(qc_strmap *m, const char *key, int64_t *value);

/* Remove every entry (a fixed map keeps its memory). */
void qc_strmap_clear(qc_strmap *m);

size_t qc_strmap_count(const qc_strmap *m);
/* max_entries as given (0: growing). */
size_t qc_strmap_capacity(const qc_strmap *m);

/* Walk the entries in table order: start with *cursor = 0; each call gives
 * the next entry (key stays valid until the map changes) and returns false
 * after the last. The map must not change during the walk. */
bool qc_strmap_next(const qc_strmap *m, size_t *cursor, const char **key, int64_t *value);

#endif
