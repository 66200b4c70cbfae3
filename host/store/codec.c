/*
 * How records are spelled in the database (enums as the words operators see
 * in the sqlite3 shell) and the checks a record passes before it is queued,
 * so that a bad record is refused at the caller, not discovered by the
 * writer thread after the caller has moved on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/store_impl.h"

void qh_store_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *qh_store_side_text(qtr_side side)
{
    return side == QTR_SIDE_BUY ? "BUY" : side == QTR_SIDE_SELL ? "SELL" : NULL;
}

bool qh_store_side_parse(const char *text, qtr_side *out)
{
    if (!text) return false;
    if (strcmp(text, "BUY") == 0) { *out = QTR_SIDE_BUY; return true; }
    if (strcmp(text, "SELL") == 0) { *out = QTR_SIDE_SELL; return true; }
    return false;
}

static const struct { qtr_order_type v; const char *t; } type_names[] = {
    { QTR_ORDER_MARKET, "MARKET" },
    { QTR_ORDER_LIMIT, "LIMIT" },
    { QTR_ORDER_STOP_MARKET, "STOP_MARKET" },
    { QTR_ORDER_TAKE_PROFIT_MARKET, "TAKE_PROFIT_MARKET" },
    { QTR_ORDER_TRAILING_STOP_MARKET, "TRAILING_STOP_MARKET" },
};

const char *qh_store_type_text(qtr_order_type type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i].v == type) return type_names[i].t;
    return NULL;
}

bool qh_store_type_parse(const char *text, qtr_order_type *out)
{
    for (size_t i = 0; text && i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type_names[i].t, text) == 0) { *out = type_names[i].v; return true; }
    return false;
}

static const struct { qtr_order_status v; const char *t; } status_names[] = {
    { QTR_OS_PENDING, "PENDING" },
    { QTR_OS_NEW, "NEW" },
    { QTR_OS_PARTIALLY_FILLED, "PARTIALLY_FILLED" },
    { QTR_OS_FILLED, "FILLED" },
    { QTR_OS_CANCELED, "CANCELED" },
    { QTR_OS_REJECTED, "REJECTED" },
    { QTR_OS_EXPIRED, "EXPIRED" },
    { QTR_OS_UNKNOWN, "UNKNOWN" },
};

const char *qh_store_status_text(qtr_order_status status)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
        if (status_names[i].v == status) return status_names[i].t;
    return NULL;
}

bool qh_store_status_parse(const char *text, qtr_order_status *out)
{
    for (size_t i = 0; text && i < sizeof status_names / sizeof status_names[0]; i++)
        if (strcmp(status_names[i].t, text) == 0) { *out = status_names[i].v; return true; }
    return false;
}

bool qh_store_ess_parse(const char *text, qtr_ess_state *out)
{
    if (!text) return false;
    for (int s = QTR_ESS_ARMED; s <= QTR_ESS_COOLDOWN; s++)
        if (strcmp(qtr_ess_state_name((qtr_ess_state)s), text) == 0) { *out = (qtr_ess_state)s; return true; }
    return false;
}

int64_t qh_store_utc_day_start(int64_t time_ms)
{
    const int64_t day = INT64_C(86400000);
    int64_t d = time_ms / day;
    if (time_ms % day < 0) d--;   /* floor for times before 1970 */
    return d * day;
}

void qh_store_col_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    qtr_strlcpy(dst, t ? t : "", cap);
}

/* A fixed char field must hold a terminated string (payloads come from
 * plugins; an unterminated one would make SQLite read past it). */
static bool terminated(const char *field, size_t cap)
{
    return memchr(field, '\0', cap) != NULL;
}

#define NEED_STR(field, what)                                                        \
    do {                                                                             \
        if (!terminated(field, sizeof(field))) {                                     \
            qh_store_errf(err, errlen, "%s: %s is not terminated", kind, what);      \
            return QTR_EINVAL;                                                       \
        }                                                                            \
    } while (0)
#define NEED_NONEMPTY(field, what)                                                   \
    do {                                                                             \
        NEED_STR(field, what);                                                       \
        if ((field)[0] == '\0') {                                                    \
            qh_store_errf(err, errlen, "%s: %s is empty", kind, what);               \
            return QTR_EINVAL;                                                       \
        }                                                                            \
    } while (0)
#define REFUSE_IF(cond, ...)                                                         \
    do {                                                                             \
        if (cond) {                                                                  \
            qh_store_errf(err, errlen, __VA_ARGS__);                                 \
            return QTR_EINVAL;                                                       \
        }                                                                            \
    } while (0)

int qh_store_validate(const qtr_event *ev, char *err, size_t errlen)
{
    const char *kind = qtr_event_type_name(ev->type);
    switch (ev->type) {
    case QTR_EV_ORDER_INTENT: {
        const qtr_order_intent *o = &ev->u.order_intent;
        NEED_NONEMPTY(o->symbol, "symbol");
        NEED_NONEMPTY(o->client_id, "client_id");
        NEED_STR(o->strategy, "strategy");
        REFUSE_IF(!qh_store_side_text(o->side), "order_intent %s: side %d unknown", o->client_id, (int)o->side);
        REFUSE_IF(!qh_store_type_text(o->type), "order_intent %s: type %d unknown", o->client_id, (int)o->type);
        REFUSE_IF(o->qty <= 0, "order_intent %s: qty must be > 0", o->client_id);
        REFUSE_IF(o->price < 0, "order_intent %s: price must be >= 0", o->client_id);
        return QTR_OK;
    }
    case QTR_EV_ORDER_UPDATE: {
        const qtr_order_update *o = &ev->u.order_update;
        NEED_NONEMPTY(o->symbol, "symbol");
        NEED_NONEMPTY(o->client_id, "client_id");
        NEED_STR(o->exchange_id, "exchange_id");
        NEED_STR(o->reason, "reason");
        REFUSE_IF(!qh_store_side_text(o->side), "order_update %s: side %d unknown", o->client_id, (int)o->side);
        REFUSE_IF(!qh_store_type_text(o->type), "order_update %s: type %d unknown", o->client_id, (int)o->type);
        REFUSE_IF(!qh_store_status_text(o->status), "order_update %s: status %d unknown", o->client_id,
                  (int)o->status);
        REFUSE_IF(o->qty < 0 || o->filled_qty < 0, "order_update %s: qty and filled_qty must be >= 0", o->client_id);
        REFUSE_IF(o->price < 0 || o->avg_price < 0, "order_update %s: price and avg_price must be >= 0",
                  o->client_id);
        return QTR_OK;
    }
    case QTR_EV_FILL: {
        const qtr_fill *f = &ev->u.fill;
        NEED_NONEMPTY(f->symbol, "symbol");
        NEED_NONEMPTY(f->fill_id, "fill_id");
        NEED_STR(f->client_id, "client_id");
        REFUSE_IF(!qh_store_side_text(f->side), "fill %s: side %d unknown", f->fill_id, (int)f->side);
        REFUSE_IF(f->qty <= 0, "fill %s: qty must be > 0", f->fill_id);
        REFUSE_IF(f->price <= 0, "fill %s: price must be > 0", f->fill_id);
        return QTR_OK;
    }
    case QTR_EV_POSITION:
        NEED_NONEMPTY(ev->u.position.symbol, "symbol");
        return QTR_OK;
    case QTR_EV_EQUITY:
        return QTR_OK;
    case QTR_EV_ESS_STATE: {
        const qtr_ess_event *e = &ev->u.ess;
        NEED_STR(e->reason, "reason");
        NEED_STR(e->user, "user");
        REFUSE_IF((unsigned)e->state > QTR_ESS_COOLDOWN || (unsigned)e->previous > QTR_ESS_COOLDOWN,
                  "ess_state: state %d or previous %d unknown", (int)e->state, (int)e->previous);
        return QTR_OK;
    }
    case QTR_EV_POLICY: {
        const qtr_policy_event *p = &ev->u.policy;
        NEED_STR(p->file, "file");
        NEED_STR(p->hash, "hash");
        NEED_STR(p->error, "error");
        return QTR_OK;
    }
    case QTR_EV_ALERT: {
        const qtr_alert *a = &ev->u.alert;
        NEED_STR(a->source, "source");
        NEED_STR(a->kind, "kind");
        NEED_STR(a->text, "text");
        REFUSE_IF((unsigned)a->severity > QTR_ALERT_CRITICAL, "alert: severity %d unknown", (int)a->severity);
        return QTR_OK;
    }
    default:
        qh_store_errf(err, errlen, "store: events of type %s (%d) are not stored", kind, (int)ev->type);
        return QTR_EINVAL;
    }
}
