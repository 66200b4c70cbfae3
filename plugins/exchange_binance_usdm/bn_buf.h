/* bn_buf — a growable text buffer and URL query building. */
#ifndef BN_BUF_H
#define BN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

typedef struct bn_buf {
    char *data;   /* always NUL-terminated once anything was appended */
    size_t len, cap;
    bool oom;     /* an allocation failed: the content is incomplete */
} bn_buf;

void bn_buf_init(bn_buf *b);
void bn_buf_free(bn_buf *b);
void bn_buf_reset(bn_buf *b);
bool bn_buf_append(bn_buf *b, const char *s, size_t n);
bool bn_buf_puts(bn_buf *b, const char *s);
bool bn_buf_printf(bn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, or "" when empty. */
const char *bn_buf_str(const bn_buf *b);

/* snprintf for messages where cutting a long text short is intended. */
void bn_fmt(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append key=value (value percent-encoded), with '&' between pairs. */
bool bn_query_add(bn_buf *b, const char *key, const char *value);
bool bn_query_add_int(bn_buf *b, const char *key, int64_t value);
bool bn_query_add_dec(bn_buf *b, const char *key, qtr_dec value);

/* Copy text with the value of every signature= parameter replaced by
 * "<redacted>", for debug logs. Always NUL-terminates out. */
void bn_redact_signature(const char *in, char *out, size_t outlen);

#endif
