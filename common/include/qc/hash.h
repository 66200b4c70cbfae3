/*
 * A string hash for the tables outside qc_strmap (the bus's routes, the
 * Binance plugin's): 32-bit FNV-1a. Short keys (symbols, client ids), no
 * allocation, a good enough spread for open addressing. qc_strmap, on every
 * order's client-id lookups, hashes a word at a time instead
 * (qc/strmap_hash.h). Any 32-bit value can come out; a table that keeps 0
 * as its "empty" marker uses qc_hash_nonzero().
 *
 * Static inline, so a plugin gets it without linking anything and nothing
 * is exported from its shared object.
 */
#ifndef QC_HASH_H
#define QC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define QC_FNV1A32_OFFSET 2166136261u
#define QC_FNV1A32_PRIME  16777619u

/* FNV-1a of the NUL-terminated string s. */
static inline uint32_t qc_hash_str(const char *s)
{
    uint32_t h = QC_FNV1A32_OFFSET;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * QC_FNV1A32_PRIME;
    return h;
}

/* FNV-1a of n bytes at p. */
static inline uint32_t qc_hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = QC_FNV1A32_OFFSET;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * QC_FNV1A32_PRIME;
    return h;
}

/* qc_hash_str, with 0 (kept as a table's "empty" marker) mapped to 1. */
static inline uint32_t qc_hash_nonzero(const char *s)
{
    uint32_t h = qc_hash_str(s);
    return h ? h : 1;
}

#endif
