/*
 * qc_copy_into_zeroed(dst, src, cap): the string src (NULL: nothing) into
 * dst, a char field of cap >= 1 bytes that is all zeros (a memset event or
 * struct): min(strlen(src), cap - 1) bytes, so the field ends byte for byte
 * as qtr_strlcpy leaves it (cut at cap - 1, a NUL after, zeros to the end),
 * by libc's strnlen and memcpy rather than a byte loop. For the per-order
 * path: symbols, client ids, reasons of every update and fill.
 *
 * Static inline, so a plugin gets it without linking anything.
 */
#ifndef QC_FIELD_COPY_H
#define QC_FIELD_COPY_H

#include <stddef.h>
#include <string.h>

static inline void qc_copy_into_zeroed(char *dst, const char *src, size_t cap)
{
    if (src && cap) memcpy(dst, src, strnlen(src, cap - 1));
}

#endif
