/*
 * qtr/event_types.h — the one registry of event types (an X-macro table).
 *
 * Everything the project does per event type is generated from this table:
 * the qtr_event_type enum and the payload union (qtr/events.h), the type
 * names, which types carry a symbol, who may publish each type (the host's
 * publish rule and the mock host's, one compiled function), how the
 * dashboard encodes it to JSON, and whether the trade store records it.
 * A new event type is one row here (appended: values never move) plus its
 * payload struct in qtr/events.h and its JSON encoder jw_<json>() in the
 * dashboard; a missing encoder does not compile, and tests/abi walks the
 * table for the rest.
 *
 * Columns of X(value, ID, name, payload, member, publisher, via, symbol, store, json):
 *   value      the enum value, QTR_EV_<ID> = value. Append-only: never reuse
 *              or renumber (values are stored and sent over the wire).
 *   ID         the enum suffix.
 *   name       the type's name in logs, JSON and on the Redis bus.
 *   payload    the payload's C type, a member of qtr_event.u ...
 *   member     ... under this name.
 *   publisher  who may publish it through qtr_host.publish:
 *                HOST      the host alone (a plugin asks with the service in `via`);
 *                EXCHANGE  the active exchange plugin alone;
 *                ANY       any plugin (an alert of kind "exchange_error" is
 *                          still the active exchange's alone: the ESS counts them).
 *   via        for HOST types a plugin may cause: the service to call, else NULL.
 *   symbol     1 if the payload starts with char symbol[QTR_SYMBOL_MAX] (the
 *              bus filters subscriptions by it), else 0.
 *   store      what the trade store does with it:
 *                NO      not stored;
 *                LIVE    stored when published live (a replay rebuilt from
 *                        the store at start is not stored again);
 *                ALWAYS  stored, replays too (a position replayed at start
 *                        is the position the store must hold).
 *   json       the dashboard's encoder is jw_<json>(jw *, const payload *).
 */
#ifndef QTR_EVENT_TYPES_H
#define QTR_EVENT_TYPES_H

/* clang-format off */
#define QTR_EVENT_TYPES(X)                                                                                           \
    X( 1, CANDLE,       "candle",       qtr_candle,       candle,       EXCHANGE, NULL,             1, NO,     candle)       \
    X( 2, TRADE,        "trade",        qtr_trade,        trade,        EXCHANGE, NULL,             1, NO,     trade)        \
    X( 3, BOOK_TOP,     "book_top",     qtr_book_top,     book_top,     EXCHANGE, NULL,             1, NO,     book_top)     \
    X( 4, MARK_PRICE,   "mark_price",   qtr_mark_price,   mark_price,   EXCHANGE, NULL,             1, NO,     mark_price)   \
    X( 5, SIGNAL,       "signal",       qtr_signal,       signal,       HOST,     "submit_signal()", 1, NO,     signal)       \
    X( 6, ORDER_INTENT, "order_intent", qtr_order_intent, order_intent, HOST,     "submit_order()", 1, LIVE,   order_intent) \
    X( 7, ORDER_UPDATE, "order_update", qtr_order_update, order_update, EXCHANGE, NULL,             1, LIVE,   order_update) \
    X( 8, FILL,         "fill",         qtr_fill,         fill,         EXCHANGE, NULL,             1, LIVE,   fill)         \
    X( 9, POSITION,     "position",     qtr_position,     position,     HOST,     NULL,             1, ALWAYS, position)     \
    X(10, ESS_STATE,    "ess_state",    qtr_ess_event,    ess,          HOST,     NULL,             0, LIVE,   ess_event)    \
    X(11, POLICY,       "policy",       qtr_policy_event, policy,       HOST,     NULL,             0, LIVE,   policy_event) \
    X(12, HEALTH,       "health",       qtr_health_event, health,       HOST,     "set_health()",   0, NO,     health_event) \
    X(13, ALERT,        "alert",        qtr_alert,        alert,        ANY,      NULL,             0, LIVE,   alert)        \
    X(14, EQUITY,       "equity",       qtr_equity,       equity,       HOST,     NULL,             0, LIVE,   account)      \
    X(15, REGIME,       "regime",       qtr_regime_event, regime,       HOST,     NULL,             1, NO,     regime_event)
/* clang-format on */

/* The publisher column. 0 is no rule at all (a table error a test catches). */
typedef enum qtr_publisher {
    QTR_PUB_HOST = 1,
    QTR_PUB_EXCHANGE = 2,
    QTR_PUB_ANY = 3
} qtr_publisher;

/* The store column. 0 is no decision at all (a table error a test catches). */
typedef enum qtr_store_rule {
    QTR_STORE_NO = 1,
    QTR_STORE_LIVE = 2,
    QTR_STORE_ALWAYS = 3
} qtr_store_rule;

#endif /* QTR_EVENT_TYPES_H */
