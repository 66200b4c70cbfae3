/* bn_jread.c — see bn_jread.h. One recursive-descent scanner over a byte
 * range; every scan function takes the cursor and returns the cursor after
 * what it read, or NULL after writing the error. */
#include "bn_jread.h"

#include <stdio.h>
#include <string.h>

typedef struct jr {
    const char *s, *end;      /* the text given to the public function       */
    char *err;
    size_t errlen;
    unsigned flags;           /* BN_JV_* of the last string or number        */
    const bn_jfield *dup;     /* first wanted key seen twice (bn_jread_object) */
} jr;

static const char *failp(jr *r, const char *at, const char *what)
{
    if (r->err && r->errlen) {
        if (at >= r->end)
            snprintf(r->err, r->errlen, "invalid JSON at byte %zu: unexpected end of input", (size_t)(r->end - r->s));
        else
            snprintf(r->err, r->errlen, "invalid JSON at byte %zu: %s", (size_t)(at - r->s), what);
    }
    return NULL;
}

bool bn_jerr_field(char *err, size_t errlen, const char *name, const char *why)
{
    if (err && errlen) snprintf(err, errlen, "field '%s' %s", name, why);
    return false;
}

bool bn_jtext_dec(const char *name, const char *s, size_t n, qtr_dec *out, char *err, size_t errlen)
{
    qtr_dec_status st = qtr_dec_parse(s, n, out);
    if (st == QTR_DEC_OK) return true;
    if (err && errlen) snprintf(err, errlen, "field '%s': %s", name, qtr_dec_status_str(st));
    return false;
}

static inline const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The value of 4 hex digits at p, or -1 (not hex, or past end). */
static int hex4(const char *p, const char *end)
{
    if (end - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0.
 * Overlong forms, encoded surrogates and code points past U+10FFFF are not
 * well-formed (RFC 3629), as jansson also holds. */
static size_t utf8_len(const char *sp, const char *end)
{
    const unsigned char *p = (const unsigned char *)sp;
    size_t avail = (size_t)(end - sp);
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && p[1] >= 0x80 && p[1] <= 0xBF ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F; /* U+D800..U+DFFF */
        return avail >= 3 && p[1] >= lo && p[1] <= hi && p[2] >= 0x80 && p[2] <= 0xBF ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && p[2] >= 0x80 && p[2] <= 0xBF && p[3] >= 0x80 &&
                       p[3] <= 0xBF
                   ? 4
                   : 0;
    }
    return 0;
}

/* Bytes that end the plain run of a string: quote, backslash, control
 * characters, and UTF-8 (checked apart). A table, built by the compiler:
 * one load per byte instead of four comparisons. */
#define STOP1(c) ((c) < 0x20 || (c) == '"' || (c) == '\\' || (c) >= 0x80)
#define STOP4(c) STOP1(c), STOP1((c) + 1), STOP1((c) + 2), STOP1((c) + 3)
#define STOP16(c) STOP4(c), STOP4((c) + 4), STOP4((c) + 8), STOP4((c) + 12)
#define STOP64(c) STOP16(c), STOP16((c) + 16), STOP16((c) + 32), STOP16((c) + 48)
static const unsigned char str_stop[256] = { STOP64(0), STOP64(64), STOP64(128), STOP64(192) };

/* p at the opening quote. */
static const char *scan_string(jr *r, const char *p)
{
    const char *end = r->end;
    unsigned flags = 0;
    p++;
    for (;;) {
        while (p < end && !str_stop[(unsigned char)*p]) p++; /* the common run: printable ASCII */
        if (p >= end) return failp(r, p, "");
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            r->flags = flags;
            return p + 1;
        }
        if (c == '\\') {
            flags |= BN_JV_ESCAPED;
            if (end - p < 2) return failp(r, end, "");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                continue;
            case 'u': break;
            default: return failp(r, p, "invalid escape in a string");
            }
            if (end - p < 6) return failp(r, end, "");
            int u = hex4(p + 2, end);
            if (u < 0) return failp(r, p, "invalid \\u escape");
            if (u >= 0xDC00 && u <= 0xDFFF) return failp(r, p, "lone low surrogate in a \\u escape");
            if (u >= 0xD800 && u <= 0xDBFF) {
                for (int k = 6; k < 8; k++) { /* "\\u" must follow; the text may end first */
                    if (end - p <= k) return failp(r, end, "");
                    if (p[k] != "\\u"[k - 6]) return failp(r, p, "lone high surrogate in a \\u escape");
                }
                if (end - p < 12) return failp(r, end, "");
                int lo = hex4(p + 8, end);
                if (lo < 0) return failp(r, p + 6, "invalid \\u escape");
                if (lo < 0xDC00 || lo > 0xDFFF) return failp(r, p, "lone high surrogate in a \\u escape");
                p += 12;
            } else {
                p += 6;
            }
            continue;
        }
        if (c < 0x20) return failp(r, p, "raw control character in a string");
        size_t k = utf8_len(p, end);
        if (!k) return failp(r, p, "invalid UTF-8 in a string");
        p += k;
    }
}

static const char *scan_number(jr *r, const char *p)
{
    const char *end = r->end;
    unsigned flags = 0;
    if (*p == '-') p++;
    if (p >= end) return failp(r, p, "");
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) return failp(r, p - 1, "number with a leading zero");
    } else if (is_digit(*p)) {
        while (p < end && is_digit(*p)) p++;
    } else {
        return failp(r, p, "expected a digit");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end) return failp(r, p, "");
        if (!is_digit(*p)) return failp(r, p, "expected a digit after '.'");
        while (p < end && is_digit(*p)) p++;
        flags = BN_JV_REAL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end) return failp(r, p, "");
        if (!is_digit(*p)) return failp(r, p, "expected a digit in the exponent");
        while (p < end && is_digit(*p)) p++;
        flags = BN_JV_REAL;
    }
    r->flags = flags;
    return p;
}

static const char *scan_literal(jr *r, const char *p, const char *word, size_t len)
{
    size_t avail = (size_t)(r->end - p);
    if (avail >= len && memcmp(p, word, len) == 0) return p + len;
    if (avail < len && memcmp(p, word, avail) == 0) return failp(r, r->end, ""); /* cut short */
    return failp(r, p, "expected a value");
}

static bn_jtype type_of(char c)
{
    switch (c) {
    case '{': return BN_JOBJECT;
    case '[': return BN_JARRAY;
    case '"': return BN_JSTRING;
    case 't': return BN_JTRUE;
    case 'f': return BN_JFALSE;
    case 'n': return BN_JNULL;
    default: return BN_JNUMBER;
    }
}

static const char *scan_object(jr *r, const char *p, int depth, bn_jfield *f, size_t nf);
static const char *scan_array(jr *r, const char *p, int depth);

/* p at the first byte of a value (not whitespace); depth: of its container. */
static const char *scan_value(jr *r, const char *p, int depth)
{
    if (p >= r->end) return failp(r, p, "");
    switch (*p) {
    case '{': return scan_object(r, p, depth + 1, NULL, 0);
    case '[': return scan_array(r, p, depth + 1);
    case '"': return scan_string(r, p);
    case 't': return scan_literal(r, p, "true", 4);
    case 'f': return scan_literal(r, p, "false", 5);
    case 'n': return scan_literal(r, p, "null", 4);
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        return scan_number(r, p);
    default: return failp(r, p, "expected a value");
    }
}

static void set_val(bn_jval *v, const char *start, const char *stop, unsigned flags)
{
    v->p = start;
    v->n = (size_t)(stop - start);
    v->type = type_of(*start);
    v->flags = v->type == BN_JSTRING || v->type == BN_JNUMBER ? flags : 0;
}

static int decode(const char *p, const char *end, char *out, size_t cap, size_t *outn);

/* The wanted slot for the key text k..ke (inside the quotes), or NULL. */
static bn_jfield *match(bn_jfield *f, size_t nf, const char *k, const char *ke, bool escaped)
{
    char buf[BN_JREAD_KEY_MAX + 1];
    size_t kn = (size_t)(ke - k);
    if (escaped) { /* rare: compare the decoded key */
        if (decode(k, ke, buf, sizeof buf, &kn) != 0) return NULL; /* too long or \u0000: no wanted key */
        k = buf;
    }
    for (size_t i = 0; i < nf; i++)
        if (f[i].klen == kn && (kn == 0 || (f[i].key[0] == k[0] && memcmp(f[i].key, k, kn) == 0))) return &f[i];
    return NULL;
}

/* p at '{'. f/nf: the wanted keys (only for the object bn_jread_object reads). */
static const char *scan_object(jr *r, const char *p, int depth, bn_jfield *f, size_t nf)
{
    const char *end = r->end;
    if (depth > BN_JREAD_MAX_DEPTH) return failp(r, p, "nested deeper than 32 levels");
    p = ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
        if (p >= end || *p != '"') return failp(r, p, "expected a key string");
        const char *k = p;
        p = scan_string(r, p);
        if (!p) return NULL;
        bn_jfield *slot = nf ? match(f, nf, k + 1, p - 1, r->flags & BN_JV_ESCAPED) : NULL;
        if (slot && slot->val.type != BN_JNONE) { /* reported once the whole text is known to be JSON */
            if (!r->dup) r->dup = slot;
            slot = NULL;
        }
        p = ws(p, end);
        if (p >= end || *p != ':') return failp(r, p, "expected ':' after a key");
        p = ws(p + 1, end);
        const char *v = p;
        p = scan_value(r, p, depth);
        if (!p) return NULL;
        if (slot) set_val(&slot->val, v, p, r->flags);
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') return p + 1;
        return failp(r, p, "expected ',' or '}'");
    }
}

/* p at '['. */
static const char *scan_array(jr *r, const char *p, int depth)
{
    const char *end = r->end;
    if (depth > BN_JREAD_MAX_DEPTH) return failp(r, p, "nested deeper than 32 levels");
    p = ws(p + 1, end);
    if (p < end && *p == ']') return p + 1;
    for (;;) {
        p = scan_value(r, p, depth);
        if (!p) return NULL;
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == ']') return p + 1;
        return failp(r, p, "expected ',' or ']'");
    }
}

/* After the root value: only whitespace may follow. */
static bool at_end(jr *r, const char *p)
{
    p = ws(p, r->end);
    if (p == r->end) return true;
    failp(r, p, "unexpected data after the JSON value");
    return false;
}

int bn_jread_root(const char *s, size_t n, bn_jval *root, char *err, size_t errlen)
{
    jr r = { s, s + n, err, errlen, 0, NULL };
    const char *v = ws(s, r.end);
    const char *p = scan_value(&r, v, 0);
    if (!p || !at_end(&r, p)) return -1;
    if (root) set_val(root, v, p, r.flags);
    return 0;
}

int bn_jread_check(const char *s, size_t n, char *err, size_t errlen)
{
    return bn_jread_root(s, n, NULL, err, errlen);
}

/* The text does not start with the wanted bracket: valid JSON of another
 * kind (code), or the syntax error (-1). */
static int wrong_kind(const char *s, size_t n, int code, const char *what, char *err, size_t errlen)
{
    if (bn_jread_check(s, n, err, errlen) != 0) return -1;
    if (err && errlen) snprintf(err, errlen, "the JSON value is not %s", what);
    return code;
}

int bn_jread_object(const char *s, size_t n, bn_jfield *f, size_t nf, char *err, size_t errlen)
{
    jr r = { s, s + n, err, errlen, 0, NULL };
    for (size_t i = 0; i < nf; i++) {
        if (!f[i].klen && f[i].key) f[i].klen = strlen(f[i].key);
        f[i].val = (bn_jval){ NULL, 0, BN_JNONE, 0 };
    }
    const char *p = ws(s, r.end);
    if (p >= r.end || *p != '{') return wrong_kind(s, n, BN_JREAD_NOT_OBJECT, "an object", err, errlen);
    p = scan_object(&r, p, 1, f, nf);
    if (!p || !at_end(&r, p)) return -1;
    if (r.dup) {
        bn_jerr_field(err, errlen, r.dup->key, "appears twice");
        return -1;
    }
    return 0;
}

enum { IT_FIRST = 0, IT_NEXT = 1, IT_DONE = 2, IT_FAILED = -1 };

int bn_jread_array_begin(bn_jiter *it, const char *s, size_t n, char *err, size_t errlen)
{
    it->s = s;
    it->end = s + n;
    const char *p = ws(s, it->end);
    if (p >= it->end || *p != '[') {
        it->state = IT_FAILED;
        return wrong_kind(s, n, BN_JREAD_NOT_ARRAY, "an array", err, errlen);
    }
    it->p = p + 1;
    it->state = IT_FIRST;
    return 0;
}

int bn_jread_array_next(bn_jiter *it, bn_jval *el, char *err, size_t errlen)
{
    jr r = { it->s, it->end, err, errlen, 0, NULL };
    if (it->state == IT_DONE) return 0;
    if (it->state == IT_FAILED) {
        if (err && errlen) snprintf(err, errlen, "array reader used after an error");
        return -1;
    }
    const char *p = ws(it->p, r.end);
    if (p < r.end && *p == ']') {
        if (!at_end(&r, p + 1)) {
            it->state = IT_FAILED;
            return -1;
        }
        it->state = IT_DONE;
        return 0;
    }
    if (it->state == IT_NEXT) {
        if (p >= r.end || *p != ',') {
            failp(&r, p, "expected ',' or ']'");
            it->state = IT_FAILED;
            return -1;
        }
        p = ws(p + 1, r.end);
    }
    const char *v = p;
    p = scan_value(&r, p, 1);
    if (!p) {
        it->state = IT_FAILED;
        return -1;
    }
    set_val(el, v, p, r.flags);
    it->p = p;
    it->state = IT_NEXT;
    return 1;
}

/* Getters. ----------------------------------------------------------------- */

/* UTF-8 of a code point (<= U+10FFFF) into b; its length. */
static size_t utf8_put(uint32_t cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the inside of a checked string (p..end, no quotes) into out with a
 * NUL. 0; 1 = did not fit (out holds the whole characters that fitted);
 * 2 = a \u0000 (out holds what came before it). Bounds are kept even on
 * text that was not checked. */
static int decode(const char *p, const char *end, char *out, size_t cap, size_t *outn)
{
    size_t o = 0;
    int rc = 0;
    if (cap == 0) return 1;
    while (p < end) {
        if (*p != '\\') {
            const char *q = p;
            while (q < end && *q != '\\') q++;
            size_t run = (size_t)(q - p);
            if (run > cap - 1 - o) {
                /* cut before the character that does not fit, not inside
                 * it: a split UTF-8 sequence would make the text invalid */
                size_t fit = cap - 1 - o;
                while (fit > 0 && ((unsigned char)p[fit] & 0xC0) == 0x80) fit--;
                memcpy(out + o, p, fit);
                o += fit;
                rc = 1;
                break;
            }
            memcpy(out + o, p, run);
            o += run;
            p = q;
            continue;
        }
        if (end - p < 2) break;
        uint32_t cp;
        switch (p[1]) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
            int u = hex4(p + 2, end);
            if (u < 0) goto stop;
            cp = (uint32_t)u;
            if (u >= 0xD800 && u <= 0xDBFF) {
                int lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, end) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) goto stop;
                cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                p += 6;
            }
            p += 4;
            break;
        }
        default: cp = (unsigned char)p[1]; break; /* " \ / */
        }
        p += 2;
        if (cp == 0) {
            rc = 2;
            break;
        }
        char b[4];
        size_t k = utf8_put(cp, b);
        if (k > cap - 1 - o) {
            rc = 1;
            break;
        }
        memcpy(out + o, b, k);
        o += k;
    }
stop:
    out[o] = '\0';
    *outn = o;
    return rc;
}

/* A JSON integer's text (checked number without fraction/exponent) in int64. */
static bool text_i64(const char *p, size_t n, int64_t *out)
{
    bool neg = n > 0 && *p == '-';
    size_t i = neg ? 1 : 0;
    if (i >= n) return false;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9 || v > (lim - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return true;
}

static size_t i64_text(int64_t v, char *b /* 21 bytes */)
{
    char tmp[20];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) b[k++] = '-';
    while (n) b[k++] = tmp[--n];
    b[k] = '\0';
    return k;
}

static bool val_i64(const bn_jval *v, int64_t *out)
{
    return v->type == BN_JNUMBER && !(v->flags & BN_JV_REAL) && text_i64(v->p, v->n, out);
}

bool bn_jget_dec(const bn_jval *v, const char *name, qtr_dec *out, char *err, size_t errlen)
{
    if (v->type == BN_JNONE) return bn_jerr_field(err, errlen, name, "missing");
    if (v->type != BN_JSTRING) return bn_jerr_field(err, errlen, name, "is not a decimal string");
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    if (!(v->flags & BN_JV_ESCAPED)) return bn_jtext_dec(name, p, (size_t)(end - p), out, err, errlen);
    char buf[128];
    size_t n;
    if (decode(p, end, buf, sizeof buf, &n) != 0) { /* longer than any decimal we take, or a \u0000 */
        if (err && errlen) snprintf(err, errlen, "field '%s': %s", name, qtr_dec_status_str(QTR_DEC_ESYNTAX));
        return false;
    }
    return bn_jtext_dec(name, buf, n, out, err, errlen);
}

bool bn_jget_str(const bn_jval *v, const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
    if (v->type == BN_JNONE) return bn_jerr_field(err, errlen, name, "missing");
    if (v->type != BN_JSTRING) return bn_jerr_field(err, errlen, name, "is not a string");
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    size_t n = (size_t)(end - p);
    if (!(v->flags & BN_JV_ESCAPED)) {
        if (n >= outlen) return bn_jerr_field(err, errlen, name, "too long");
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    int rc = outlen ? decode(p, end, out, outlen, &n) : 1;
    if (rc == 1) return bn_jerr_field(err, errlen, name, "too long");
    if (rc == 2) return bn_jerr_field(err, errlen, name, "contains \\u0000");
    return true;
}

bool bn_jget_id(const bn_jval *v, const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
    int64_t i;
    if (v->type == BN_JNONE) return bn_jerr_field(err, errlen, name, "missing");
    if (val_i64(v, &i)) {
        char b[21];
        size_t n = i64_text(i, b);
        if (n >= outlen) return bn_jerr_field(err, errlen, name, "too long");
        memcpy(out, b, n + 1);
        return true;
    }
    if (v->type == BN_JSTRING && bn_jget_str(v, name, out, outlen, NULL, 0)) return true;
    return bn_jerr_field(err, errlen, name, "is not an id");
}

bool bn_jget_int(const bn_jval *v, const char *name, int64_t *out, char *err, size_t errlen)
{
    if (v->type == BN_JNONE) return bn_jerr_field(err, errlen, name, "missing");
    if (!val_i64(v, out)) return bn_jerr_field(err, errlen, name, "is not an integer");
    return true;
}

bool bn_jget_bool(const bn_jval *v, const char *name, bool *out, char *err, size_t errlen)
{
    if (v->type == BN_JNONE) return bn_jerr_field(err, errlen, name, "missing");
    if (v->type != BN_JTRUE && v->type != BN_JFALSE) return bn_jerr_field(err, errlen, name, "is not a boolean");
    *out = v->type == BN_JTRUE;
    return true;
}

bool bn_jget_text(const bn_jval *v, char *out, size_t outlen)
{
    if (!outlen) return false;
    out[0] = '\0';
    if (v->type != BN_JSTRING) return false;
    size_t n;
    decode(v->p + 1, v->p + v->n - 1, out, outlen, &n);
    return true;
}
