/*
 * qc_bytes_eq(a, b, n): the first n bytes of a and b are equal, compared a
 * word at a time (the last word overlapping the one before), with no libc
 * call and nothing read past n. For a hot-path compare of short names of
 * known length: a stored name of length len equals the string in a char
 * field of at least len + 1 readable bytes (a QTR_SYMBOL_MAX field) iff
 * their first len + 1 bytes are equal, the NUL included.
 *
 * Static inline, so a plugin gets it without linking anything.
 */
#ifndef QC_BYTES_EQ_H
#define QC_BYTES_EQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t qc_load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t qc_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* n >= 1; a and b hold at least n readable bytes each. */
static inline bool qc_bytes_eq(const void *a, const void *b, size_t n)
{
    const char *x = a, *y = b;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (qc_load64(x + i) != qc_load64(y + i)) return false;
        return qc_load64(x + n - 8) == qc_load64(y + n - 8);
    }
    if (n >= 4) return qc_load32(x) == qc_load32(y) && qc_load32(x + n - 4) == qc_load32(y + n - 4);
    return x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1];
}

#endif
