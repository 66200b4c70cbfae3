/* kx_buf.c — see kx_buf.h. */
#include "kx_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kx_buf_init(kx_buf *b) { memset(b, 0, sizeof *b); }

void kx_buf_free(kx_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void kx_buf_reset(kx_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data) b->data[0] = '\0';
}

static bool reserve(kx_buf *b, size_t extra)
{
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) { b->oom = true; return false; }
    b->data = d;
    b->cap = cap;
    return true;
}

bool kx_buf_append(kx_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return false;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool kx_buf_puts(kx_buf *b, const char *s) { return kx_buf_append(b, s, strlen(s)); }

bool kx_buf_printf(kx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

const char *kx_buf_str(const kx_buf *b) { return b->data ? b->data : ""; }

/* RFC 3986 unreserved characters pass; everything else is %XX. */
static bool append_encoded(kx_buf *b, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
            if (!kx_buf_append(b, (const char *)p, 1)) return false;
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            if (!kx_buf_append(b, e, 3)) return false;
        }
    }
    return true;
}

bool kx_query_add(kx_buf *b, const char *key, const char *value)
{
    if (b->len && !kx_buf_append(b, "&", 1)) return false;
    return kx_buf_puts(b, key) && kx_buf_append(b, "=", 1) && append_encoded(b, value);
}

bool kx_query_add_int(kx_buf *b, const char *key, int64_t value)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)value);
    return kx_query_add(b, key, t);
}

bool kx_query_add_dec(kx_buf *b, const char *key, qtr_dec value)
{
    char t[QTR_DEC_STRLEN];
    return kx_query_add(b, key, qtr_dec_format(value, t));
}

void kx_redact_signature(const char *in, char *out, size_t outlen)
{
    static const char key[] = "signature=", mask[] = "<redacted>";
    size_t o = 0;
    if (!outlen) return;
    const char *p = in;
    while (*p && o + 1 < outlen) {
        bool at_param = p == in || p[-1] == '&' || p[-1] == '?';
        if (at_param && strncmp(p, key, sizeof key - 1) == 0) {
            for (size_t k = 0; k < sizeof key - 1 && o + 1 < outlen; k++) out[o++] = key[k];
            for (size_t k = 0; k < sizeof mask - 1 && o + 1 < outlen; k++) out[o++] = mask[k];
            p += sizeof key - 1;
            while (*p && *p != '&') p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

void kx_fmt(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    if (!outlen) return;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}
