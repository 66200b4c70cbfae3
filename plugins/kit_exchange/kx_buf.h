/* kx_buf — a growable text buffer and URL query building. */
#ifndef KX_BUF_H
#define KX_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

typedef struct kx_buf {
    char *data;   /* always NUL-terminated once anything was appended */
    size_t len, cap;
    bool oom;     /* an allocation failed: the content is incomplete */
} kx_buf;

void kx_buf_init(kx_buf *b);
void kx_buf_free(kx_buf *b);
void kx_buf_reset(kx_buf *b);
bool kx_buf_append(kx_buf *b, const char *s, size_t n);
bool kx_buf_puts(kx_buf *b, const char *s);
bool kx_buf_printf(kx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, or "" when empty. */
const char *kx_buf_str(const kx_buf *b);

/* snprintf for messages where cutting a long text short is intended. */
void kx_fmt(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append key=value (value percent-encoded), with '&' between pairs. */
bool kx_query_add(kx_buf *b, const char *key, const char *value);
bool kx_query_add_int(kx_buf *b, const char *key, int64_t value);
bool kx_query_add_dec(kx_buf *b, const char *key, qtr_dec value);

/* Copy text with the value of every signature= parameter replaced by
 * "<redacted>", for debug logs. Always NUL-terminates out. */
void kx_redact_signature(const char *in, char *out, size_t outlen);

#endif
