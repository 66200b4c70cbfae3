/* json_encode.c — see json_encode.h. Field names follow the SDK structs so
 * that the API, the WebSocket and the headers read the same. */
#include "json_encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w, char *stack, size_t cap)
{
    w->buf = stack;
    w->len = 0;
    w->cap = stack ? cap : 0;
    w->heap = false;
    w->failed = false;
}

void jw_reset(jw *w)
{
    w->len = 0;
    w->failed = false;
}

void jw_free(jw *w)
{
    if (w->heap) free(w->buf);
    jw_init(w, NULL, 0);
}

static bool reserve(jw *w, size_t more)
{
    if (w->failed) return false;
    if (w->len + more <= w->cap) return true;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + more) cap *= 2;
    char *p = w->heap ? realloc(w->buf, cap) : malloc(cap);
    if (!p) { w->failed = true; return false; }
    if (!w->heap && w->len) memcpy(p, w->buf, w->len);
    w->buf = p;
    w->cap = cap;
    w->heap = true;
    return true;
}

static void put(jw *w, const char *s, size_t n)
{
    if (!reserve(w, n)) return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* A comma goes before a key or a value unless it opens its object or array
 * or follows its key. */
static void sep(jw *w)
{
    if (w->len && !w->failed) {
        char last = w->buf[w->len - 1];
        if (last != '{' && last != '[' && last != ':') put(w, ",", 1);
    }
}

void jw_begin_object(jw *w) { sep(w); put(w, "{", 1); }
void jw_end_object(jw *w) { put(w, "}", 1); }
void jw_begin_array(jw *w) { sep(w); put(w, "[", 1); }
void jw_end_array(jw *w) { put(w, "]", 1); }

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Bytes that need a look: controls, '"', '\\' and everything non-ASCII. */
static bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

static void put_string(jw *w, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && plain((unsigned char)s[i])) i++;
    if (i == n) {                                    /* the usual case: copy it whole */
        if (!reserve(w, n + 2)) return;
        w->buf[w->len] = '"';
        memcpy(w->buf + w->len + 1, s, n);
        w->buf[w->len + 1 + n] = '"';
        w->len += n + 2;
        return;
    }
    /* text from other plugins may hold broken UTF-8: then show the ASCII and
     * a '?' for every other byte rather than dropping the field */
    bool valid = true;
    for (size_t k = i; k < n;) {
        size_t step = utf8_seq((const unsigned char *)s + k, n - k);
        if (!step) { valid = false; break; }
        k += step;
    }
    if (!reserve(w, n * 6 + 2)) return;              /* worst case: every byte \u00XX */
    char *o = w->buf + w->len;
    *o++ = '"';
    memcpy(o, s, i);
    o += i;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 && !valid) c = '?';
        if (c == '"' || c == '\\') { *o++ = '\\'; *o++ = (char)c; }
        else if (c >= 0x20) *o++ = (char)c;
        else if (c == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else if (c == '\t') { *o++ = '\\'; *o++ = 't'; }
        else if (c == '\r') { *o++ = '\\'; *o++ = 'r'; }
        else if (c == '\b') { *o++ = '\\'; *o++ = 'b'; }
        else if (c == '\f') { *o++ = '\\'; *o++ = 'f'; }
        else o += sprintf(o, "\\u%04x", c);
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

/* Where a key or value goes: after a comma unless it opens its object or
 * array or follows its key. Room for the comma and more bytes is reserved. */
static char *value_start(jw *w, size_t more)
{
    if (!reserve(w, more + 1)) return NULL;
    char *o = w->buf + w->len;
    if (w->len && o[-1] != '{' && o[-1] != '[' && o[-1] != ':') *o++ = ',';
    return o;
}

void jw_key_n(jw *w, const char *key, size_t n)
{
    /* keys are our own literals: plain ASCII, nothing to escape */
    char *o = value_start(w, n + 3);
    if (!o) return;
    o[0] = '"';
    memcpy(o + 1, key, n);
    o[n + 1] = '"';
    o[n + 2] = ':';
    w->len = (size_t)(o + n + 3 - w->buf);
}

void jw_key_field(jw *w, const char *key, size_t cap)
{
    sep(w);
    put_string(w, key, strnlen(key, cap));
    put(w, ":", 1);
}

void jw_string(jw *w, const char *s) { sep(w); put_string(w, s, strlen(s)); }
void jw_field(jw *w, const char *s, size_t cap) { sep(w); put_string(w, s, strnlen(s, cap)); }

void jw_int(jw *w, long long v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { *--p = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *--p = '-';
    sep(w);
    put(w, p, (size_t)(buf + sizeof buf - p));
}

void jw_money(jw *w, qtr_dec v)
{
    char *o = value_start(w, QTR_DEC_STRLEN + 2);   /* formatted in place: no copy */
    if (!o) return;
    o[0] = '"';
    size_t n = strlen(qtr_dec_format(v, o + 1));
    o[n + 1] = '"';
    w->len = (size_t)(o + n + 2 - w->buf);
}

void jw_bool(jw *w, bool v) { sep(w); put(w, v ? "true" : "false", v ? 4 : 5); }
void jw_null(jw *w) { sep(w); put(w, "null", 4); }

void jw_real(jw *w, double v)
{
    if (!isfinite(v)) { jw_null(w); return; }
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", v);   /* what jansson wrote: round-trips */
    if (!strpbrk(buf, ".eE")) n += snprintf(buf + n, sizeof buf - (size_t)n, ".0");
    sep(w);
    put(w, buf, (size_t)n);
}

void jw_candle(jw *w, const qtr_candle *c)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, c->symbol);
    jw_key(w, "open_time_ms"); jw_int(w, c->open_time_ms);
    jw_key(w, "close_time_ms"); jw_int(w, c->close_time_ms);
    jw_key(w, "open"); jw_money(w, c->open);
    jw_key(w, "high"); jw_money(w, c->high);
    jw_key(w, "low"); jw_money(w, c->low);
    jw_key(w, "close"); jw_money(w, c->close);
    jw_key(w, "volume"); jw_money(w, c->volume);
    jw_end_object(w);
}

void jw_trade(jw *w, const qtr_trade *t)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, t->symbol);
    jw_key(w, "time_ms"); jw_int(w, t->time_ms);
    jw_key(w, "price"); jw_money(w, t->price);
    jw_key(w, "qty"); jw_money(w, t->qty);
    jw_key(w, "aggressor"); jw_string(w, qtr_side_name(t->aggressor));
    jw_end_object(w);
}

void jw_book_top(jw *w, const qtr_book_top *b)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, b->symbol);
    jw_key(w, "time_ms"); jw_int(w, b->time_ms);
    jw_key(w, "bid_price"); jw_money(w, b->bid_price);
    jw_key(w, "bid_qty"); jw_money(w, b->bid_qty);
    jw_key(w, "ask_price"); jw_money(w, b->ask_price);
    jw_key(w, "ask_qty"); jw_money(w, b->ask_qty);
    jw_key(w, "bid_depth_notional"); jw_money(w, b->bid_depth_notional);
    jw_key(w, "ask_depth_notional"); jw_money(w, b->ask_depth_notional);
    jw_end_object(w);
}

void jw_mark_price(jw *w, const qtr_mark_price *m)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, m->symbol);
    jw_key(w, "time_ms"); jw_int(w, m->time_ms);
    jw_key(w, "mark_price"); jw_money(w, m->mark_price);
    jw_key(w, "index_price"); jw_money(w, m->index_price);
    jw_key(w, "funding_rate"); jw_money(w, m->funding_rate);
    jw_key(w, "next_funding_ms"); jw_int(w, m->next_funding_ms);
    jw_end_object(w);
}

static const char *tif_name(qtr_tif t)
{
    switch (t) {
    case QTR_TIF_GTC: return "GTC";
    case QTR_TIF_IOC: return "IOC";
    case QTR_TIF_FOK: return "FOK";
    case QTR_TIF_GTX: return "GTX";
    }
    return "?";
}

static void signal_fields(jw *w, const qtr_signal *s)
{
    jw_key(w, "symbol"); JW_FIELD(w, s->symbol);
    jw_key(w, "time_ms"); jw_int(w, s->time_ms);
    jw_key(w, "strategy"); JW_FIELD(w, s->strategy);
    jw_key(w, "side"); jw_string(w, qtr_side_name(s->side));
    jw_key(w, "order_type"); jw_string(w, qtr_order_type_name(s->type));
    jw_key(w, "tif"); jw_string(w, tif_name(s->tif));
    jw_key(w, "qty"); jw_money(w, s->qty);
    jw_key(w, "price"); jw_money(w, s->price);
    jw_key(w, "reduce_only"); jw_bool(w, s->reduce_only);
    jw_key(w, "confidence"); jw_real(w, s->confidence);   /* a score, not money */
    jw_key(w, "reason"); JW_FIELD(w, s->reason);
}

void jw_signal(jw *w, const qtr_signal *s)
{
    jw_begin_object(w);
    signal_fields(w, s);
    jw_end_object(w);
}

void jw_order_intent(jw *w, const qtr_order_intent *x)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, x->symbol);
    jw_key(w, "time_ms"); jw_int(w, x->time_ms);
    jw_key(w, "client_id"); JW_FIELD(w, x->client_id);
    jw_key(w, "strategy"); JW_FIELD(w, x->strategy);
    jw_key(w, "side"); jw_string(w, qtr_side_name(x->side));
    jw_key(w, "order_type"); jw_string(w, qtr_order_type_name(x->type));
    jw_key(w, "tif"); jw_string(w, tif_name(x->tif));
    jw_key(w, "qty"); jw_money(w, x->qty);
    jw_key(w, "price"); jw_money(w, x->price);
    jw_key(w, "stop_price"); jw_money(w, x->stop_price);
    jw_key(w, "reduce_only"); jw_bool(w, x->reduce_only);
    jw_key(w, "confidence"); jw_real(w, x->confidence);
    jw_key(w, "reason"); JW_FIELD(w, x->reason);
    jw_end_object(w);
}

void jw_order_update(jw *w, const qtr_order_update *x)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, x->symbol);
    jw_key(w, "time_ms"); jw_int(w, x->time_ms);
    jw_key(w, "client_id"); JW_FIELD(w, x->client_id);
    jw_key(w, "exchange_id"); JW_FIELD(w, x->exchange_id);
    jw_key(w, "side"); jw_string(w, qtr_side_name(x->side));
    jw_key(w, "order_type"); jw_string(w, qtr_order_type_name(x->type));
    jw_key(w, "status"); jw_string(w, qtr_order_status_name(x->status));
    jw_key(w, "qty"); jw_money(w, x->qty);
    jw_key(w, "price"); jw_money(w, x->price);
    jw_key(w, "filled_qty"); jw_money(w, x->filled_qty);
    jw_key(w, "avg_price"); jw_money(w, x->avg_price);
    jw_key(w, "reduce_only"); jw_bool(w, x->reduce_only);
    jw_key(w, "external"); jw_bool(w, x->external);
    jw_key(w, "reason"); JW_FIELD(w, x->reason);
    jw_end_object(w);
}

void jw_fill(jw *w, const qtr_fill *f)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, f->symbol);
    jw_key(w, "time_ms"); jw_int(w, f->time_ms);
    jw_key(w, "client_id"); JW_FIELD(w, f->client_id);
    jw_key(w, "fill_id"); JW_FIELD(w, f->fill_id);
    jw_key(w, "side"); jw_string(w, qtr_side_name(f->side));
    jw_key(w, "qty"); jw_money(w, f->qty);
    jw_key(w, "price"); jw_money(w, f->price);
    jw_key(w, "fee"); jw_money(w, f->fee);
    jw_key(w, "maker"); jw_bool(w, f->maker);
    jw_key(w, "reduce_only"); jw_bool(w, f->reduce_only);
    jw_end_object(w);
}

void jw_position(jw *w, const qtr_position *p)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, p->symbol);
    jw_key(w, "time_ms"); jw_int(w, p->time_ms);
    jw_key(w, "qty"); jw_money(w, p->qty);
    jw_key(w, "entry_price"); jw_money(w, p->entry_price);
    jw_key(w, "mark_price"); jw_money(w, p->mark_price);
    jw_key(w, "unrealized_pnl"); jw_money(w, p->unrealized_pnl);
    jw_key(w, "realized_pnl"); jw_money(w, p->realized_pnl);
    jw_key(w, "fees"); jw_money(w, p->fees);
    jw_key(w, "funding"); jw_money(w, p->funding);
    jw_end_object(w);
}

void jw_account(jw *w, const qtr_account *a)
{
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, a->time_ms);
    jw_key(w, "wallet_balance"); jw_money(w, a->wallet_balance);
    jw_key(w, "unrealized_pnl"); jw_money(w, a->unrealized_pnl);
    jw_key(w, "equity"); jw_money(w, a->equity);
    jw_key(w, "equity_peak"); jw_money(w, a->equity_peak);
    jw_key(w, "drawdown_pct"); jw_money(w, a->drawdown_pct);
    jw_key(w, "day_start_equity"); jw_money(w, a->day_start_equity);
    jw_key(w, "daily_pnl"); jw_money(w, a->daily_pnl);
    jw_key(w, "daily_drawdown_pct"); jw_money(w, a->daily_drawdown_pct);
    jw_key(w, "realized_pnl"); jw_money(w, a->realized_pnl);
    jw_key(w, "fees"); jw_money(w, a->fees);
    jw_key(w, "funding"); jw_money(w, a->funding);
    jw_key(w, "exposure"); jw_money(w, a->exposure);
    jw_key(w, "open_positions"); jw_int(w, a->open_positions);
    jw_end_object(w);
}

void jw_ess_event(jw *w, const qtr_ess_event *e)
{
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, e->time_ms);
    jw_key(w, "state"); jw_string(w, qtr_ess_state_name(e->state));
    jw_key(w, "previous"); jw_string(w, qtr_ess_state_name(e->previous));
    jw_key(w, "reason"); JW_FIELD(w, e->reason);
    jw_key(w, "user"); JW_FIELD(w, e->user);
    jw_key(w, "cooldown_until_ms"); jw_int(w, e->cooldown_until_ms);
    jw_key(w, "trips"); jw_int(w, e->trips);
    jw_key(w, "resets"); jw_int(w, e->resets);
    jw_end_object(w);
}

void jw_ess_status(jw *w, const qtr_ess_status *s)
{
    jw_begin_object(w);
    jw_key(w, "state"); jw_string(w, qtr_ess_state_name(s->state));
    jw_key(w, "trip_reason"); JW_FIELD(w, s->trip_reason);
    jw_key(w, "tripped_at_ms"); jw_int(w, s->tripped_at_ms);
    jw_key(w, "cooldown_until_ms"); jw_int(w, s->cooldown_until_ms);
    jw_key(w, "trips"); jw_int(w, s->trips);
    jw_key(w, "resets"); jw_int(w, s->resets);
    jw_key(w, "consecutive_exchange_errors"); jw_int(w, s->consecutive_exchange_errors);
    jw_end_object(w);
}

void jw_policy_event(jw *w, const qtr_policy_event *p)
{
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, p->time_ms);
    jw_key(w, "ok"); jw_bool(w, p->ok);
    jw_key(w, "file"); JW_FIELD(w, p->file);
    jw_key(w, "hash"); JW_FIELD(w, p->hash);
    jw_key(w, "error"); JW_FIELD(w, p->error);
    jw_key(w, "version"); jw_int(w, p->version);
    jw_end_object(w);
}

void jw_raw(jw *w, const char *json, size_t len)
{
    sep(w);
    put(w, json, len);
}

void jw_health_event(jw *w, const qtr_health_event *h)
{
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, h->time_ms);
    jw_key(w, "component"); JW_FIELD(w, h->component);
    jw_key(w, "status"); jw_string(w, qtr_health_status_name(h->health.status));
    jw_key(w, "reason"); JW_FIELD(w, h->health.reason);
    jw_end_object(w);
}

static const char *severity_name(qtr_alert_severity s)
{
    return s == QTR_ALERT_INFO ? "INFO" : s == QTR_ALERT_WARNING ? "WARNING" : "CRITICAL";
}

void jw_alert(jw *w, const qtr_alert *a)
{
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, a->time_ms);
    jw_key(w, "severity"); jw_string(w, severity_name(a->severity));
    jw_key(w, "source"); JW_FIELD(w, a->source);
    jw_key(w, "kind"); JW_FIELD(w, a->kind);
    jw_key(w, "text"); JW_FIELD(w, a->text);
    jw_end_object(w);
}

/* The regime by name ("trend_up"); the inputs are scores (jw_real), not money. */
void jw_regime_event(jw *w, const qtr_regime_event *r)
{
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, r->symbol);
    jw_key(w, "time_ms"); jw_int(w, r->time_ms);
    jw_key(w, "regime"); jw_string(w, qtr_regime_name(r->regime));
    jw_key(w, "previous"); jw_string(w, qtr_regime_name(r->previous));
    jw_key(w, "adx"); jw_real(w, r->adx);
    jw_key(w, "plus_di"); jw_real(w, r->plus_di);
    jw_key(w, "minus_di"); jw_real(w, r->minus_di);
    jw_key(w, "atr_pct"); jw_real(w, r->atr_pct);
    jw_key(w, "volatility"); jw_real(w, r->volatility);
    jw_end_object(w);
}

void jw_signal_record(jw *w, const qtr_signal_record *r)
{
    jw_begin_object(w);
    signal_fields(w, &r->signal);
    jw_key(w, "outcome"); JW_FIELD(w, r->outcome);
    jw_key(w, "outcome_reason"); JW_FIELD(w, r->reason);
    jw_end_object(w);
}

void jw_plugin_info(jw *w, const qtr_plugin_info *p)
{
    jw_begin_object(w);
    char abi[16];
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major, (unsigned)p->abi_minor);
    jw_key(w, "name"); JW_FIELD(w, p->name);
    jw_key(w, "version"); JW_FIELD(w, p->version);
    jw_key(w, "kind"); jw_string(w, qtr_kind_name(p->kind));
    jw_key(w, "abi"); jw_string(w, abi);
    jw_key(w, "path"); JW_FIELD(w, p->path);
    jw_end_object(w);
}
