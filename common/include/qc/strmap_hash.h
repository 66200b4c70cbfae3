/*
 * qc_strmap_hash(key, len): the hash qc_strmap keeps for a key of len
 * bytes, taken a word at a time (8 bytes, the last word overlapping the one
 * before; a key under 8 bytes from two overlapping 4-byte or three single
 * reads, as qc_bytes_eq does), so nothing past key[len - 1] is read. Each
 * word is folded in by a multiply and a shift (high bits reach the low
 * ones), the length seeds it and a murmur3 fmix64 ends it, so the low bits a
 * power-of-two table uses depend on every byte. Never 0 (a table's "empty"
 * marker). Not FNV-1a (qc/hash.h) byte by byte: that costs a multiply and a
 * NUL test a byte on every order's half-dozen client-id lookups.
 */
#ifndef QC_STRMAP_HASH_H
#define QC_STRMAP_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "qc/bytes_eq.h"

#define QC_STRMAP_HASH_MUL 0x9E3779B97F4A7C15ull

static inline uint64_t qc_strmap_hash_fold(uint64_t h, uint64_t w)
{
    h = (h ^ w) * QC_STRMAP_HASH_MUL;
    return h ^ (h >> 32);
}

/* len >= 1; key holds at least len readable bytes. */
static inline uint32_t qc_strmap_hash(const char *key, size_t len)
{
    uint64_t h = (uint64_t)len * 0xC2B2AE3D27D4EB4Full;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) h = qc_strmap_hash_fold(h, qc_load64(key + i));
        h = qc_strmap_hash_fold(h, qc_load64(key + len - 8));
    } else if (len >= 4) {
        h = qc_strmap_hash_fold(h, (uint64_t)qc_load32(key) << 32 | qc_load32(key + len - 4));
    } else {
        const uint8_t *b = (const uint8_t *)key;
        h = qc_strmap_hash_fold(h, (uint64_t)b[0] << 16 | (uint64_t)b[len / 2] << 8 | b[len - 1]);
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    uint32_t r = (uint32_t)h;
    return r ? r : 1;
}

#endif
