/* bn_order_json.c — see bn_order_json.h.
 *
 * Each object kind is one table of fields (key, kind, where it goes;
 * bn_order_fields.h) read in table order by fields_from_body (bn_jread, one
 * pass over the raw body) into a scratch struct, then one *_finish function
 * maps the texts (status, side, type) and checks what the fields say. The
 * first missing or bad field in table order is the one reported. (The
 * differential test reads the same tables from a jansson tree.) */
#include "bn_order_json.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bn_algo.h"
#include "bn_jread.h"
#include "bn_json.h"
#include "bn_order_fields.h"

bool bn_order_status_parse(const char *t, qtr_order_status *out)
{
    static const struct { const char *text; qtr_order_status st; } map[] = {
        { "NEW", QTR_OS_NEW },           { "PARTIALLY_FILLED", QTR_OS_PARTIALLY_FILLED },
        { "FILLED", QTR_OS_FILLED },     { "CANCELED", QTR_OS_CANCELED },
        { "REJECTED", QTR_OS_REJECTED }, { "EXPIRED", QTR_OS_EXPIRED },
        { "EXPIRED_IN_MATCH", QTR_OS_EXPIRED },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(t, map[i].text)) {
            *out = map[i].st;
            return true;
        }
    return false;
}

bool bn_algo_status_parse(const char *t, qtr_order_status *out, bool *triggered)
{
    *triggered = false;
    if (!strcmp(t, "NEW") || !strcmp(t, "TRIGGERING")) *out = QTR_OS_NEW;
    else if (!strcmp(t, "TRIGGERED") || !strcmp(t, "FINISHED")) { *out = QTR_OS_NEW; *triggered = true; }
    else if (!strcmp(t, "CANCELED")) *out = QTR_OS_CANCELED;
    else if (!strcmp(t, "REJECTED")) *out = QTR_OS_REJECTED;
    else if (!strcmp(t, "EXPIRED")) *out = QTR_OS_EXPIRED;
    else return false;
    return true;
}

static bool parse_side(const char *t, qtr_side *out)
{
    if (!strcmp(t, "BUY")) *out = QTR_SIDE_BUY;
    else if (!strcmp(t, "SELL")) *out = QTR_SIDE_SELL;
    else return false;
    return true;
}

static bool parse_type(const char *t, qtr_order_type *out)
{
    if (!strcmp(t, "MARKET")) *out = QTR_ORDER_MARKET;
    else if (!strcmp(t, "LIMIT")) *out = QTR_ORDER_LIMIT;
    else if (!strcmp(t, "STOP_MARKET")) *out = QTR_ORDER_STOP_MARKET;
    else if (!strcmp(t, "TAKE_PROFIT_MARKET")) *out = QTR_ORDER_TAKE_PROFIT_MARKET;
    else return false;
    return true;
}

/* The conditional types an algo order may have (we place all three). */
static bool parse_algo_type(const char *t, qtr_order_type *out)
{
    if (!strcmp(t, "TRAILING_STOP_MARKET")) *out = QTR_ORDER_TRAILING_STOP_MARKET;
    else if (!parse_type(t, out) || !bn_algo_type(*out)) return false;
    return true;
}

/* Field tables. ------------------------------------------------------------ */

const bn_fspec bn_order_fields[] = {
    FS(bn_order_scratch, "symbol", FK_STR, st.symbol),
    FS(bn_order_scratch, "clientOrderId", FK_STR, st.client_id),
    FS(bn_order_scratch, "orderId", FK_ID, st.order_id),
    FS(bn_order_scratch, "status", FK_STR, status),
    FS(bn_order_scratch, "side", FK_STR, side),
    FS(bn_order_scratch, "type", FK_STR, type),
    FS(bn_order_scratch, "origQty", FK_DEC, st.orig_qty),
    FS(bn_order_scratch, "executedQty", FK_DEC, st.executed_qty),
    FS(bn_order_scratch, "cumQuote", FK_DEC, st.cum_quote),
    FS(bn_order_scratch, "price", FK_DEC, st.price),
};

const bn_fspec bn_algo_fields[] = {
    FS(bn_algo_scratch, "clientAlgoId", FK_STR, st.client_id),
    FS(bn_algo_scratch, "algoId", FK_ID, st.algo_id),
    FS(bn_algo_scratch, "algoStatus", FK_STR, status),
};

const bn_fspec bn_algo_detail_fields[] = {
    FS(bn_algo_detail_scratch, "symbol", FK_STR, o.symbol),
    FS(bn_algo_detail_scratch, "side", FK_STR, side),
    FS(bn_algo_detail_scratch, "orderType", FK_STR, type),
    FS(bn_algo_detail_scratch, "quantity", FK_DEC, o.qty),
    FS(bn_algo_detail_scratch, "workingType", FK_STR, working),
    FS(bn_algo_detail_scratch, "reduceOnly", FK_BOOL, o.reduce_only),
};

typedef struct trade_scratch {
    bn_trade t;
    char side[8];
} trade_scratch;

const size_t bn_n_order_fields = NFIELDS(bn_order_fields);
const size_t bn_n_algo_fields = NFIELDS(bn_algo_fields);
const size_t bn_n_algo_detail_fields = NFIELDS(bn_algo_detail_fields);

static const bn_fspec trade_fields[] = {
    FS(trade_scratch, "symbol", FK_STR, t.symbol),
    FS(trade_scratch, "id", FK_INT, t.id),
    FS(trade_scratch, "orderId", FK_ID, t.order_id),
    FS(trade_scratch, "side", FK_STR, side),
    FS(trade_scratch, "price", FK_DEC, t.price),
    FS(trade_scratch, "qty", FK_DEC, t.qty),
    FS(trade_scratch, "quoteQty", FK_DEC, t.quote_qty),
    FS(trade_scratch, "commission", FK_DEC, t.commission),
    FS(trade_scratch, "commissionAsset", FK_STR, t.commission_asset),
    FS(trade_scratch, "realizedPnl", FK_DEC, t.realized_pnl),
    FS(trade_scratch, "maker", FK_BOOL, t.maker),
    FS(trade_scratch, "buyer", FK_BOOL, t.buyer),
    FS(trade_scratch, "time", FK_INT, t.time_ms),
};

/* The largest table plus the optional keys read beside it. */
#define MAX_FIELDS 16
_Static_assert(NFIELDS(trade_fields) <= MAX_FIELDS && NFIELDS(bn_order_fields) + 1 <= MAX_FIELDS, "MAX_FIELDS");
_Static_assert(NFIELDS(bn_algo_fields) + NFIELDS(bn_algo_detail_fields) + 1 + BN_ALGO_OPT_N <= MAX_FIELDS, "MAX_FIELDS");

/* Typed reads of values bn_jread_object found (jf[i] for f[i]). */
static bool fields_from_vals(const bn_jfield *jf, const bn_fspec *f, size_t n, void *dst, char *e, size_t el)
{
    for (size_t i = 0; i < n; i++) {
        void *d = (char *)dst + f[i].off;
        const bn_jval *v = &jf[i].val;
        bool ok = false;
        switch ((bn_fkind)f[i].kind) {
        case FK_STR: ok = bn_jget_str(v, f[i].key, d, f[i].size, e, el); break;
        case FK_ID: ok = bn_jget_id(v, f[i].key, d, f[i].size, e, el); break;
        case FK_DEC: ok = bn_jget_dec(v, f[i].key, d, e, el); break;
        case FK_INT: ok = bn_jget_int(v, f[i].key, d, e, el); break;
        case FK_BOOL: ok = bn_jget_bool(v, f[i].key, d, e, el); break;
        }
        if (!ok) return false;
    }
    return true;
}

/* One pass over the raw object: jf gets f's keys then the optional ones
 * (opt, nopt) after them. 0, -1 (err set) or BN_JREAD_NOT_OBJECT. */
static int fields_from_body(const char *body, size_t len, const bn_fspec *f, size_t n, bn_jfield *jf,
                            const char *const *opt, size_t nopt, void *dst, char *e, size_t el)
{
    for (size_t i = 0; i < n; i++) jf[i] = (bn_jfield){ f[i].key, f[i].klen, { NULL, 0, BN_JNONE, 0 } };
    for (size_t i = 0; i < nopt; i++) jf[n + i] = (bn_jfield){ opt[i], strlen(opt[i]), { NULL, 0, BN_JNONE, 0 } };
    int rc = bn_jread_object(body, len, jf, n + nopt, e, el);
    if (rc != 0) return rc;
    return fields_from_vals(jf, f, n, dst, e, el) ? 0 : -1;
}

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Orders. -------------------------------------------------------------------- */

int bn_order_finish(bn_order_scratch *s, bool reduce_only, bn_order_state *out, char *err, size_t errlen)
{
    if (!bn_order_status_parse(s->status, &s->st.status)) {
        errf(err, errlen, "order %s: unknown status '%s'", s->st.client_id, s->status);
        return -1;
    }
    if (!parse_side(s->side, &s->st.side)) {
        errf(err, errlen, "order %s: unknown side '%s'", s->st.client_id, s->side);
        return -1;
    }
    /* Types we do not place (STOP, TRAILING_STOP_MARKET ...) may appear in
     * openOrders placed by someone else: kept as LIMIT/MARKET by price. */
    if (!parse_type(s->type, &s->st.type)) s->st.type = s->st.price > 0 ? QTR_ORDER_LIMIT : QTR_ORDER_MARKET;
    s->st.reduce_only = reduce_only;
    *out = s->st;
    return 0;
}

int bn_order_state_read(const char *body, size_t len, bn_order_state *out, char *err, size_t errlen)
{
    static const char *const opt[] = { "reduceOnly" };
    bn_jfield jf[MAX_FIELDS];
    bn_order_scratch s;
    char e[128];
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    int rc = fields_from_body(body, len, bn_order_fields, NFIELDS(bn_order_fields), jf, opt, 1, &s, e, sizeof e);
    if (rc == BN_JREAD_NOT_OBJECT) {
        errf(err, errlen, "order is not a JSON object");
        return -1;
    }
    if (rc != 0) {
        errf(err, errlen, "order: %s", e);
        return -1;
    }
    return bn_order_finish(&s, jf[NFIELDS(bn_order_fields)].val.type == BN_JTRUE, out, err, errlen);
}

/* Algo orders. ---------------------------------------------------------------- */

/* actualOrderId as text ("" when absent, 0 or not an id we can follow). */
static void actual_id(const bn_jval *act, char actual[QTR_CLIENT_ID_MAX])
{
    int64_t a;
    actual[0] = '\0';
    if (bn_jget_int(act, "actualOrderId", &a, NULL, 0)) {
        if (a > 0) bn_jget_id(act, "actualOrderId", actual, QTR_CLIENT_ID_MAX, NULL, 0);
    } else if (act->type == BN_JSTRING && !bn_jget_str(act, "actualOrderId", actual, QTR_CLIENT_ID_MAX, NULL, 0)) {
        actual[0] = '\0'; /* too long or \u0000: not an id we can follow */
    }
}

/* actual: the actualOrderId as text, "" if absent or not a usable id. */
int bn_algo_finish(bn_algo_scratch *s, const char *actual, bn_algo_state *out, char *err, size_t errlen)
{
    if (!bn_algo_status_parse(s->status, &s->st.status, &s->st.triggered)) {
        errf(err, errlen, "algo order %s: unknown algoStatus '%s'", s->st.client_id, s->status);
        return -1;
    }
    if (actual[0] && strcmp(actual, "0") != 0) qtr_strlcpy(s->st.actual_order_id, actual, sizeof s->st.actual_order_id);
    if (s->st.triggered && !s->st.actual_order_id[0]) s->st.triggered = false; /* nothing to follow yet */
    *out = s->st;
    return 0;
}

int bn_algo_state_read(const char *body, size_t len, bn_algo_state *out, char *err, size_t errlen)
{
    static const char *const opt[] = { "actualOrderId" };
    bn_jfield jf[MAX_FIELDS];
    bn_algo_scratch s;
    char e[128], actual[QTR_CLIENT_ID_MAX] = "";
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    int rc = fields_from_body(body, len, bn_algo_fields, NFIELDS(bn_algo_fields), jf, opt, 1, &s, e, sizeof e);
    if (rc == BN_JREAD_NOT_OBJECT) {
        errf(err, errlen, "algo order is not a JSON object");
        return -1;
    }
    if (rc != 0) {
        errf(err, errlen, "algo order: %s", e);
        return -1;
    }
    actual_id(&jf[NFIELDS(bn_algo_fields)].val, actual);
    return bn_algo_finish(&s, actual, out, err, errlen);
}

int bn_algo_order_finish(bn_algo_scratch *s, bn_algo_detail_scratch *d, const char *actual,
                         const bn_opt_dec opt[BN_ALGO_OPT_N], bn_algo_order *out, char *err, size_t errlen)
{
    static const char *const names[BN_ALGO_OPT_N] = { "triggerPrice", "activatePrice", "callbackRate" };
    char e[128];
    memset(out, 0, sizeof *out);
    if (bn_algo_finish(s, actual, &d->o.st, err, errlen) != 0) return -1;
    const char *cid = d->o.st.client_id;
    if (!parse_side(d->side, &d->o.side)) {
        errf(err, errlen, "algo order %s: field 'side': unknown side '%s'", cid, d->side);
        return -1;
    }
    if (!parse_algo_type(d->type, &d->o.type)) {
        errf(err, errlen, "algo order %s: field 'orderType': '%s' is not a conditional type we place", cid, d->type);
        return -1;
    }
    if (!bn_working_type_parse(d->working, &d->o.working_type)) {
        errf(err, errlen, "algo order %s: field 'workingType': unknown '%s'", cid, d->working);
        return -1;
    }
    if (d->o.qty <= 0) {
        errf(err, errlen, "algo order %s: field 'quantity' is not positive", cid);
        return -1;
    }
    bool trailing = d->o.type == QTR_ORDER_TRAILING_STOP_MARKET;
    /* triggerPrice: required for a stop or take-profit, read if present on a
     * trailing stop; callbackRate: required for a trailing stop; activatePrice:
     * read if present (absent: active at once) */
    bool wanted[BN_ALGO_OPT_N] = { !trailing || opt[BN_ALGO_OPT_TRIGGER].present,
                                   trailing && opt[BN_ALGO_OPT_ACTIVATE].present, trailing };
    qtr_dec *dst[BN_ALGO_OPT_N] = { &d->o.trigger, &d->o.activation, NULL };
    qtr_dec rate = 0;
    dst[BN_ALGO_OPT_CALLBACK] = &rate;
    for (int i = 0; i < BN_ALGO_OPT_N; i++) {
        if (!wanted[i]) continue;
        if (!opt[i].present || !opt[i].ok) {
            if (!opt[i].present) bn_jerr_field(e, sizeof e, names[i], "missing");
            errf(err, errlen, "algo order %s: %s", cid, opt[i].present ? opt[i].err : e);
            return -1;
        }
        *dst[i] = opt[i].v;
    }
    if (trailing && (!bn_callback_rate_bps(rate, &d->o.callback_bps) || d->o.callback_bps == 0)) {
        errf(err, errlen, "algo order %s: field 'callbackRate': not a rate of 0.01..10 (%%) in whole bps", cid);
        return -1;
    }
    if (d->o.activation < 0) {
        errf(err, errlen, "algo order %s: field 'activatePrice' is negative", cid);
        return -1;
    }
    *out = d->o;
    return 0;
}

int bn_algo_order_read(const char *body, size_t len, bn_algo_order *out, char *err, size_t errlen)
{
    static const char *const opt_keys[1 + BN_ALGO_OPT_N] = { "actualOrderId", "triggerPrice", "activatePrice",
                                                             "callbackRate" };
    enum { NA = NFIELDS(bn_algo_fields), ND = NFIELDS(bn_algo_detail_fields) };
    bn_jfield jf[MAX_FIELDS];
    bn_algo_scratch s;
    bn_algo_detail_scratch d;
    bn_opt_dec opt[BN_ALGO_OPT_N];
    char e[128], actual[QTR_CLIENT_ID_MAX];
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    memset(opt, 0, sizeof opt);
    /* One pass: the state's fields, then the details' and the optional
     * ones as "optional" keys of that pass. */
    const char *keys[ND + 1 + BN_ALGO_OPT_N];
    for (size_t i = 0; i < ND; i++) keys[i] = bn_algo_detail_fields[i].key;
    for (size_t i = 0; i < 1 + BN_ALGO_OPT_N; i++) keys[ND + i] = opt_keys[i];
    int rc = fields_from_body(body, len, bn_algo_fields, NA, jf, keys, ND + 1 + BN_ALGO_OPT_N, &s, e, sizeof e);
    if (rc == BN_JREAD_NOT_OBJECT) {
        errf(err, errlen, "algo order is not a JSON object");
        return -1;
    }
    if (rc != 0 || !fields_from_vals(jf + NA, bn_algo_detail_fields, ND, &d, e, sizeof e)) {
        errf(err, errlen, "algo order: %s", e);
        return -1;
    }
    actual_id(&jf[NA + ND].val, actual);
    for (int i = 0; i < BN_ALGO_OPT_N; i++) {
        const bn_jval *v = &jf[NA + ND + 1 + i].val;
        opt[i].present = v->type != BN_JNONE;
        if (opt[i].present) opt[i].ok = bn_jget_dec(v, opt_keys[1 + i], &opt[i].v, opt[i].err, sizeof opt[i].err);
    }
    return bn_algo_order_finish(&s, &d, actual, opt, out, err, errlen);
}

/* userTrades. ------------------------------------------------------------------ */

static int trade_finish(trade_scratch *s, char *e, size_t el)
{
    if (!parse_side(s->side, &s->t.side)) {
        errf(e, el, "unknown side '%s'", s->side);
        return -1;
    }
    const char *bad = s->t.id <= 0 ? "id" : s->t.price <= 0 ? "price" : s->t.qty <= 0 ? "qty" : NULL;
    if (!bad) return 0;
    bn_jerr_field(e, el, bad, "is not positive");
    return -1;
}

/* One element of the array: 0 and *t, or -1 with "trade <i>: why". */
static int trade_read(const bn_jval *el, bn_trade *t, int i, char *err, size_t errlen)
{
    bn_jfield jf[MAX_FIELDS];
    trade_scratch s;
    char e[128];
    memset(&s, 0, sizeof s);
    int rc = fields_from_body(el->p, el->n, trade_fields, NFIELDS(trade_fields), jf, NULL, 0, &s, e, sizeof e);
    if (rc == BN_JREAD_NOT_OBJECT) {
        errf(err, errlen, "trade %d is not a JSON object", i);
        return -1;
    }
    if (rc != 0 || trade_finish(&s, e, sizeof e) != 0) {
        errf(err, errlen, "trade %d: %s", i, e);
        return -1;
    }
    *t = s.t;
    return 0;
}

int bn_trades_read(const char *body, size_t len, bn_trade_cb cb, void *ud, char *err, size_t errlen)
{
    enum { BATCH = 8 }; /* replies this short are delivered from the first pass */
    bn_trade batch[BATCH];
    bn_jiter it;
    bn_jval el;
    char e[128];
    bool bad_row = false;
    int n = 0, rc = bn_jread_array_begin(&it, body, len, e, sizeof e);
    if (rc == BN_JREAD_NOT_ARRAY) {
        errf(err, errlen, "userTrades reply is not a JSON array");
        return -1;
    }
    while (rc == 0 && (rc = bn_jread_array_next(&it, &el, e, sizeof e)) == 1) {
        bn_trade t;
        rc = 0;
        if (bad_row) continue; /* the rest is still checked: a reply that is not JSON is said so */
        if (n == INT_MAX) {
            errf(err, errlen, "userTrades: too many rows");
            return -1;
        }
        if (trade_read(&el, &t, n, err, errlen) != 0) {
            bad_row = true;
            continue;
        }
        if (n < BATCH) batch[n] = t;
        n++;
    }
    if (rc < 0) {
        errf(err, errlen, "userTrades: %s", e);
        return -1;
    }
    if (bad_row) return -1; /* err says which row and why */
    if (!cb) return n;
    if (n <= BATCH) {
        for (int i = 0; i < n; i++) cb(ud, &batch[i]);
        return n;
    }
    /* Longer: every row read cleanly above, so read them again for the callback. */
    bn_jread_array_begin(&it, body, len, NULL, 0);
    for (int i = 0; bn_jread_array_next(&it, &el, NULL, 0) == 1; i++) {
        bn_trade t;
        if (trade_read(&el, &t, i, NULL, 0) == 0) cb(ud, &t);
    }
    return n;
}
