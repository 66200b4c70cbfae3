/* json_encode — JSON text written straight into a growing buffer (no tree
 * of objects: the API and the WebSocket encode thousands of structs a
 * second), and the SDK's structs in it. Money is always a decimal string
 * (qtr_dec_format); counts and times are numbers. Output is compact, keys in
 * the order written, strings escaped as RFC 8259 wants. Reading JSON is
 * jansson's job. */
#ifndef DASH_JSON_ENCODE_H
#define DASH_JSON_ENCODE_H

#include <qtr/plugin.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct jw {
    char *buf;                 /* not NUL-terminated: len bytes */
    size_t len, cap;
    bool heap;                 /* buf is ours to free (else the caller's stack) */
    bool failed;               /* out of memory: the text is incomplete */
} jw;

/* Start with stack[cap] (may be NULL, 0); grows onto the heap as needed. */
void jw_init(jw *w, char *stack, size_t cap);
void jw_reset(jw *w);          /* empty again, memory kept */
void jw_free(jw *w);

/* Commas are placed by the writer: a key or a value that does not open its
 * object or array, or follow its key, gets one before it. */
void jw_begin_object(jw *w);
void jw_end_object(jw *w);
void jw_begin_array(jw *w);
void jw_end_array(jw *w);
/* A literal of ours: plain ASCII, written as is. Inline so that a literal's
 * strlen is worked out by the compiler (a strlen per key was a tenth of the
 * instructions of GET /api/positions). */
void jw_key_n(jw *w, const char *key, size_t n);
static inline void jw_key(jw *w, const char *key) { jw_key_n(w, key, __builtin_strlen(key)); }
void jw_key_field(jw *w, const char *key, size_t cap);   /* a key from a fixed field */
void jw_string(jw *w, const char *s);
/* A fixed-size char field: read up to its NUL or cap bytes, never further;
 * broken UTF-8 is shown as ASCII with '?' for the other bytes. */
void jw_field(jw *w, const char *s, size_t cap);
#define JW_FIELD(w, arr) jw_field((w), (arr), sizeof(arr))
void jw_int(jw *w, long long v);
void jw_money(jw *w, qtr_dec v);
void jw_bool(jw *w, bool v);
void jw_null(jw *w);
void jw_real(jw *w, double v);   /* scores, never money; null if not finite */

/* One object each. */
void jw_candle(jw *w, const qtr_candle *c);
void jw_trade(jw *w, const qtr_trade *t);
void jw_book_top(jw *w, const qtr_book_top *b);
void jw_mark_price(jw *w, const qtr_mark_price *m);
void jw_signal(jw *w, const qtr_signal *s);
void jw_order_intent(jw *w, const qtr_order_intent *o);
void jw_order_update(jw *w, const qtr_order_update *o);
void jw_fill(jw *w, const qtr_fill *f);
void jw_position(jw *w, const qtr_position *p);
void jw_account(jw *w, const qtr_account *a);
void jw_ess_event(jw *w, const qtr_ess_event *e);
void jw_ess_status(jw *w, const qtr_ess_status *s);
void jw_policy_event(jw *w, const qtr_policy_event *p);
void jw_health_event(jw *w, const qtr_health_event *h);
void jw_alert(jw *w, const qtr_alert *a);
void jw_regime_event(jw *w, const qtr_regime_event *r);
void jw_signal_record(jw *w, const qtr_signal_record *r);
void jw_plugin_info(jw *w, const qtr_plugin_info *p);
/* The limits' fields without braces (GET /api/policy puts "loaded" first). */
/* A complete JSON value made elsewhere (the host's policy description),
 * written as is where a value goes. */
void jw_raw(jw *w, const char *json, size_t len);

#endif
