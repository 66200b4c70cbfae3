/* bn_jread — a strict JSON reader for exchange replies that never allocates.
 *
 * Why: the order path used to build a jansson tree for every reply (about 60
 * heap objects per order answer), which dominated the plugin's added latency.
 * This reads the reply in place: values are spans of the caller's buffer and
 * stay valid as long as that buffer does. Nothing here allocates, keeps state
 * between calls or needs the buffer to end with a NUL.
 *
 * Strict RFC 8259, and every function that walks text checks all of it (the
 * values of keys nobody asked for too), so a reader never acts on half a
 * document:
 *   - one value, whitespace (space, tab, CR, LF) around it, nothing else;
 *   - strings: valid UTF-8 (no overlongs, no encoded surrogates), no raw
 *     control characters, only the eight escapes and \u with 4 hex digits,
 *     surrogates only as a high+low pair;
 *   - numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? — no "01",
 *     "1.", "-", "+1", ".5";
 *   - objects and arrays nested at most BN_JREAD_MAX_DEPTH deep.
 *
 * The plugin's one JSON reader: every answer and stream message goes through
 * it. Deliberate differences from jansson's json_loadb(flags 0), which the
 * plugin used before and the differential test still uses as its oracle
 * (tests/exchange_binance_usdm/jread_diff.c, test_binance_jread.c and the
 * fuzz target binance_json run both and account for each):
 *   - "\u0000" is valid JSON and passes the check; the string getters refuse
 *     it (a C string cannot carry it). jansson refuses the whole document;
 *   - integers beyond int64 and reals beyond double are valid JSON; only the
 *     getters refuse them. jansson refuses the document;
 *   - any value may be the root (jansson without JSON_DECODE_ANY wants an
 *     object or an array);
 *   - nesting deeper than 32 is refused (jansson allows 2048);
 *   - bn_jread_object refuses a wanted key that appears twice (jansson keeps
 *     the last one; a reply that says two things is not one we act on);
 *   - a raw NUL byte is refused everywhere. jansson 2.14 loses one that
 *     directly follows a number or a literal and accepts "[1\0]".
 *
 * Errors: functions take (err, errlen) and write one short line: syntax
 * errors give the byte offset from the start of the text they were given
 * ("invalid JSON at byte 37: expected ':' after a key"); getters name the
 * field ("field 'executedQty' is not a decimal string"). err may be NULL.
 */
#ifndef BN_JREAD_H
#define BN_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

/* Deepest nesting of objects/arrays accepted (the root container is 1).
 * Exchange replies are 2 deep; the cap bounds the recursion. */
#define BN_JREAD_MAX_DEPTH 32
/* Longest wanted key bn_jread_object matches (escaped keys are decoded into
 * a buffer this size before comparing). */
#define BN_JREAD_KEY_MAX 64

typedef enum bn_jtype {
    BN_JNONE = 0, /* no value: a wanted key that was absent */
    BN_JOBJECT,
    BN_JARRAY,
    BN_JSTRING,
    BN_JNUMBER,
    BN_JTRUE,
    BN_JFALSE,
    BN_JNULL
} bn_jtype;

/* Flags of a bn_jval: they let getters take the fast path without rescanning. */
#define BN_JV_ESCAPED 1u /* a string with at least one backslash escape   */
#define BN_JV_REAL    2u /* a number with a fraction or an exponent        */

/* One checked value: its raw text, exactly — a string keeps its quotes, an
 * object its braces — so an element can be handed to another reader. Only
 * the reader creates these; getters trust that the text was checked. */
typedef struct bn_jval {
    const char *p;
    size_t n;
    bn_jtype type;
    unsigned flags;
} bn_jval;

/* Whole documents. ------------------------------------------------------- */

/* 0 if s[0..n) is one valid JSON document, else -1 with the first error. */
int bn_jread_check(const char *s, size_t n, char *err, size_t errlen);
/* As bn_jread_check, and gives the root value's span. */
int bn_jread_root(const char *s, size_t n, bn_jval *root, char *err, size_t errlen);

/* Objects: named keys in one pass. -------------------------------------- */

/* One wanted key and, after bn_jread_object, its value (type BN_JNONE when
 * the key was absent). BN_JFIELD("symbol") fills key and klen. */
typedef struct bn_jfield {
    const char *key; /* decoded key text; at most BN_JREAD_KEY_MAX bytes */
    size_t klen;     /* strlen(key)                                      */
    bn_jval val;
} bn_jfield;
#define BN_JFIELD(k) { (k), sizeof(k) - 1, { NULL, 0, BN_JNONE, 0 } }

/* Read the object that is the whole of s[0..n) (a reply body, or a value
 * span from this reader): checks all of it and, in the same pass, fills the
 * slots of the wanted keys (keys compared after decoding escapes). Unknown
 * keys are skipped but checked.
 * 0 on success; -1 on a syntax error or a wanted key seen twice;
 * BN_JREAD_NOT_OBJECT when the text is valid JSON but not an object. */
#define BN_JREAD_NOT_OBJECT (-2)
int bn_jread_object(const char *s, size_t n, bn_jfield *fields, size_t nfields, char *err, size_t errlen);

/* Arrays: elements one at a time. ---------------------------------------- */

typedef struct bn_jiter {
    const char *s, *p, *end;
    int state; /* internal */
} bn_jiter;

/* Start on the array that is the whole of s[0..n) (a body or a value span).
 * 0, -1 on a syntax error, BN_JREAD_NOT_ARRAY if valid JSON but no array. */
#define BN_JREAD_NOT_ARRAY (-3)
int bn_jread_array_begin(bn_jiter *it, const char *s, size_t n, char *err, size_t errlen);
/* 1 and the next element (checked; its span includes its own brackets),
 * 0 at the end (the rest of the text checked: nothing after the array but
 * whitespace), -1 on a syntax error. An error is final for the iterator. */
int bn_jread_array_next(bn_jiter *it, bn_jval *elem, char *err, size_t errlen);

/* Typed getters on a value span. --------------------------------------------
 * Each returns true, or false with "field '<name>' ..." in err. A value of
 * type BN_JNONE is "field '<name>' missing". name is only used for errors. */

/* A decimal from a JSON string only ("0.010"; a JSON number is refused so a
 * price never goes through a binary float). Exact: more than 8 decimals or
 * out of range is refused, never rounded. */
bool bn_jget_dec(const bn_jval *v, const char *name, qtr_dec *out, char *err, size_t errlen);
/* A string, escapes decoded, into out; refused if it does not fit with its
 * NUL or contains \u0000. */
bool bn_jget_str(const bn_jval *v, const char *name, char *out, size_t outlen, char *err, size_t errlen);
/* An id Binance sends as a JSON integer (orderId) or a string, as text. */
bool bn_jget_id(const bn_jval *v, const char *name, char *out, size_t outlen, char *err, size_t errlen);
/* A JSON integer (no fraction, no exponent) within int64. */
bool bn_jget_int(const bn_jval *v, const char *name, int64_t *out, char *err, size_t errlen);
/* true or false. */
bool bn_jget_bool(const bn_jval *v, const char *name, bool *out, char *err, size_t errlen);
/* For text shown to people (an API error's msg): a string decoded into out,
 * cut to fit and at a \u0000. False (out "") if v is not a string. */
bool bn_jget_text(const bn_jval *v, char *out, size_t outlen);

/* Shared with the differential test's jansson oracle so both say the same thing. */
/* A decimal from already decoded text, with the getters' error text. */
bool bn_jtext_dec(const char *name, const char *s, size_t n, qtr_dec *out, char *err, size_t errlen);
/* Writes "field '<name>' <why>" and returns false. */
bool bn_jerr_field(char *err, size_t errlen, const char *name, const char *why);

#endif
