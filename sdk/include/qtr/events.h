/*
 * qtr/events.h — the typed events that travel on the host's bus.
 *
 * Every event is a qtr_event: a type tag, a timestamp from the host clock and
 * one payload. Payloads are plain structs of fixed size (no pointers), so the
 * host copies them into its queue without allocating, and a subscriber may
 * read them but must copy what it wants to keep after its callback returns.
 *
 * Payloads that concern one instrument start with `char symbol[QTR_SYMBOL_MAX]`
 * as their first member; the bus filters subscriptions by it.
 *
 * Money fields are qtr_dec (qtr/money.h). Confidence is a plain double in
 * [0, 1]: it is a score, not money.
 *
 * The types, their names, their rightful publishers (the host, or the
 * exchange plugin the host trades on; see qtr_host.publish in qtr/plugin.h),
 * whether they carry a symbol and whether the store keeps them are one table:
 * qtr/event_types.h. Every plugin may subscribe to every type.
 */
#ifndef QTR_EVENTS_H
#define QTR_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <qtr/event_types.h>
#include <qtr/money.h>
#include <qtr/regime.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QTR_SYMBOL_MAX    24   /* "BTCUSDT" and friends, with the NUL     */
#define QTR_CLIENT_ID_MAX 40   /* Binance allows 36 characters            */
#define QTR_NAME_MAX      32   /* plugin, strategy, component and user names */
#define QTR_REASON_MAX    96   /* reason codes and short explanations     */
#define QTR_TEXT_MAX      192  /* alert and error text                    */

/* The types, generated from the registry in qtr/event_types.h (one row a
 * type; values are explicit there and never move). */
#define QTR__EV_ENUM(value, ID, ...) QTR_EV_##ID = value,
#define QTR__EV_PLUS_ONE(...) +1
typedef enum qtr_event_type {
    QTR_EV_NONE = 0,
    QTR_EVENT_TYPES(QTR__EV_ENUM)
    /* one past the highest value (values are contiguous: tests/abi checks) */
    QTR_EV__COUNT = 1 QTR_EVENT_TYPES(QTR__EV_PLUS_ONE)
} qtr_event_type;
#undef QTR__EV_PLUS_ONE
#undef QTR__EV_ENUM

typedef enum qtr_side { QTR_SIDE_BUY = 1, QTR_SIDE_SELL = 2 } qtr_side;

typedef enum qtr_order_type {
    QTR_ORDER_MARKET = 1,
    QTR_ORDER_LIMIT = 2,
    QTR_ORDER_STOP_MARKET = 3,        /* conditional: triggers at stop_price */
    QTR_ORDER_TAKE_PROFIT_MARKET = 4, /* conditional: triggers at stop_price */
    /* conditional: once activation_price is reached (at once if 0), follows
     * the best price and triggers a market order when the price retraces by
     * callback_bps from it (as Binance's TRAILING_STOP_MARKET) */
    QTR_ORDER_TRAILING_STOP_MARKET = 5
} qtr_order_type;

/* Which price a conditional order watches (Binance's workingType). */
typedef enum qtr_working_type {
    QTR_WORKING_LAST = 0,   /* the last traded price (CONTRACT_PRICE): the default */
    QTR_WORKING_MARK = 1    /* the mark price (MARK_PRICE)                          */
} qtr_working_type;

typedef enum qtr_tif {
    QTR_TIF_GTC = 0,   /* good till cancelled (the default)     */
    QTR_TIF_IOC = 1,   /* immediate or cancel                   */
    QTR_TIF_FOK = 2,   /* fill or kill                          */
    QTR_TIF_GTX = 3    /* post only: rejected if it would take   */
} qtr_tif;

typedef enum qtr_order_status {
    QTR_OS_PENDING = 0,        /* sent, not yet acknowledged                     */
    QTR_OS_NEW = 1,            /* resting on the exchange                        */
    QTR_OS_PARTIALLY_FILLED,
    QTR_OS_FILLED,             /* final */
    QTR_OS_CANCELED,           /* final */
    QTR_OS_REJECTED,           /* final: refused by risk, ESS or the exchange    */
    QTR_OS_EXPIRED,            /* final: IOC/FOK/market remainder, GTX that took  */
    QTR_OS_UNKNOWN             /* fate unknown (timeout); being queried          */
} qtr_order_status;

static inline bool qtr_order_status_final(qtr_order_status s)
{
    return s == QTR_OS_FILLED || s == QTR_OS_CANCELED || s == QTR_OS_REJECTED || s == QTR_OS_EXPIRED;
}

typedef struct qtr_candle {
    char symbol[QTR_SYMBOL_MAX];
    int64_t open_time_ms;     /* Unix ms of the candle's open                 */
    int64_t close_time_ms;    /* open_time_ms + interval - 1, as Binance does */
    qtr_dec open, high, low, close;
    qtr_dec volume;           /* base asset (contracts)                       */
} qtr_candle;

typedef struct qtr_trade {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    qtr_dec price, qty;
    qtr_side aggressor;
} qtr_trade;

typedef struct qtr_book_top {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    qtr_dec bid_price, bid_qty;
    qtr_dec ask_price, ask_qty;
    /* Quote notional resting within the depth the exchange reported on each
     * side (0 where the exchange gives only the top of the book). */
    qtr_dec bid_depth_notional, ask_depth_notional;
} qtr_book_top;

typedef struct qtr_mark_price {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    qtr_dec mark_price, index_price;
    qtr_dec funding_rate;       /* per funding period: 0.0001 is 0.01%          */
    int64_t next_funding_ms;
} qtr_mark_price;

/* A strategy's wish to trade. The host queues it, turns it into an order
 * intent, and sends it through the ESS and the risk plugin. */
typedef struct qtr_signal {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;            /* filled by the host on submission             */
    char strategy[QTR_NAME_MAX];/* filled by the host: the submitting plugin    */
    qtr_side side;
    qtr_order_type type;        /* MARKET or LIMIT                              */
    qtr_tif tif;
    qtr_dec qty;                /* base quantity, > 0                           */
    qtr_dec price;              /* limit price; 0 for market                    */
    bool reduce_only;           /* only ever shrinks a position                 */
    double confidence;          /* 0..1; risk policies set a minimum            */
    char reason[QTR_REASON_MAX];/* why the strategy wants this (shown to people)*/
} qtr_signal;

/* An order as it goes to an exchange. The host fills client_id. */
typedef struct qtr_order_intent {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    char client_id[QTR_CLIENT_ID_MAX];  /* unique; the idempotency key       */
    char strategy[QTR_NAME_MAX];
    qtr_side side;
    qtr_order_type type;
    qtr_tif tif;
    qtr_dec qty;
    qtr_dec price;              /* limit price; 0 for market                    */
    qtr_dec stop_price;         /* trigger for conditional orders               */
    bool reduce_only;
    double confidence;
    char reason[QTR_REASON_MAX];/* the signal's reason, or the risk verdict     */
    /* appended after 2.0: conditional orders */
    qtr_dec activation_price;   /* trailing: 0 = active at once                 */
    uint32_t callback_bps;      /* trailing: retrace from the best price, 10..1000 (Binance 0.1%..10%) */
    qtr_working_type working_type; /* conditional: the price that triggers it  */
} qtr_order_intent;

/* The exchange's view of an order after any change. */
typedef struct qtr_order_update {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    char client_id[QTR_CLIENT_ID_MAX];
    char exchange_id[QTR_CLIENT_ID_MAX]; /* the exchange's order id, as text */
    qtr_side side;
    qtr_order_type type;
    qtr_order_status status;
    qtr_dec qty;                /* ordered                                      */
    qtr_dec price;              /* limit price; 0 for market                    */
    qtr_dec filled_qty;         /* cumulative                                   */
    qtr_dec avg_price;          /* average fill price; 0 if nothing filled      */
    bool reduce_only;
    bool external;              /* not placed by this server (reconciliation)   */
    char reason[QTR_REASON_MAX];/* why rejected, expired or cancelled           */
    /* appended after 2.0: conditional orders, as the exchange reports them */
    qtr_dec activation_price;   /* trailing: 0 = active at once                 */
    uint32_t callback_bps;      /* trailing: retrace from the best price, in bps */
    qtr_working_type working_type; /* conditional: the price that triggers it  */
    qtr_dec stop_price;         /* conditional: the trigger price (0: none)      */
} qtr_order_update;

/* One execution. qty is this fill's increment, never a running total. */
typedef struct qtr_fill {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    char client_id[QTR_CLIENT_ID_MAX];
    char fill_id[QTR_CLIENT_ID_MAX];    /* unique per exchange: dedup key       */
    qtr_side side;
    qtr_dec qty, price;
    qtr_dec fee;                /* in quote currency; > 0 paid, < 0 rebate      */
    bool maker;
    bool reduce_only;
} qtr_fill;

/* A position in one USD-M perpetual (one-way mode). */
typedef struct qtr_position {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;
    qtr_dec qty;                /* signed: > 0 long, < 0 short                  */
    qtr_dec entry_price;        /* average entry of the open quantity           */
    qtr_dec mark_price;         /* last price used to value it                  */
    qtr_dec unrealized_pnl;
    qtr_dec realized_pnl;       /* since the position was first opened          */
    qtr_dec fees;               /* paid on this symbol                          */
    qtr_dec funding;            /* received (> 0) or paid (< 0)                 */
} qtr_position;

/* The account. Starts with its size: a plugin asking get_account sets it
 * (the host fills what fits); as the QTR_EV_EQUITY payload it is sizeof. */
typedef struct qtr_account {
    uint32_t size;
    int64_t time_ms;
    qtr_dec wallet_balance;     /* deposits + realized PnL - fees + funding     */
    qtr_dec unrealized_pnl;
    qtr_dec equity;             /* wallet_balance + unrealized_pnl              */
    qtr_dec equity_peak;
    qtr_dec drawdown_pct;       /* from the peak, in percent (3 means 3%)        */
    qtr_dec day_start_equity;   /* equity at the start of the UTC day           */
    qtr_dec daily_pnl;          /* equity - day_start_equity                    */
    qtr_dec daily_drawdown_pct; /* loss from day_start_equity, in percent       */
    qtr_dec realized_pnl, fees, funding;
    qtr_dec exposure;           /* sum of |qty| * mark over open positions      */
    int32_t open_positions;
} qtr_account;

typedef qtr_account qtr_equity;   /* the QTR_EV_EQUITY payload */

typedef enum qtr_ess_state {
    QTR_ESS_ARMED = 0,          /* trading allowed                              */
    QTR_ESS_TRIPPED = 1,        /* no new entries; orders cancelled             */
    QTR_ESS_COOLDOWN = 2        /* still blocked; reset possible after it ends  */
} qtr_ess_state;

typedef struct qtr_ess_event {
    int64_t time_ms;
    qtr_ess_state state, previous;
    char reason[QTR_REASON_MAX];   /* trip reason, or the reset reason         */
    char user[QTR_NAME_MAX];       /* who, for manual trips and resets         */
    int64_t cooldown_until_ms;
    uint32_t trips, resets;
} qtr_ess_event;

typedef struct qtr_policy_event {
    int64_t time_ms;
    bool ok;                       /* false: refused; the last good one stays  */
    char file[QTR_TEXT_MAX];
    char hash[65];                 /* SHA-256 of the file, hex                  */
    char error[QTR_TEXT_MAX];      /* file:line: reason, when !ok              */
    uint32_t version;              /* counts good loads                        */
} qtr_policy_event;

typedef enum qtr_health_status {
    QTR_HEALTH_OK = 0,
    QTR_HEALTH_DEGRADED = 1,
    QTR_HEALTH_CRITICAL = 2
} qtr_health_status;

typedef struct qtr_health {
    qtr_health_status status;
    char reason[QTR_REASON_MAX];
} qtr_health;

typedef struct qtr_health_event {
    int64_t time_ms;
    char component[QTR_NAME_MAX];
    qtr_health health;
} qtr_health_event;

typedef enum qtr_alert_severity {
    QTR_ALERT_INFO = 0,
    QTR_ALERT_WARNING = 1,
    QTR_ALERT_CRITICAL = 2
} qtr_alert_severity;

typedef struct qtr_alert {
    int64_t time_ms;
    qtr_alert_severity severity;
    char source[QTR_NAME_MAX];
    char kind[QTR_NAME_MAX];       /* machine-readable: "ess_trip", "policy"... */
    char text[QTR_TEXT_MAX];
} qtr_alert;

/* A symbol's market regime changed (qtr/regime.h): published by the host
 * on the closed candle that changed it (docs/indicators.md has the rules;
 * qtr_host.get_regime reads the current one). The inputs are scores, never
 * prices: ADX and the DIs 0..100, ATR% and volatility in percent per candle. */
typedef struct qtr_regime_event {
    char symbol[QTR_SYMBOL_MAX];
    int64_t time_ms;               /* close time of the candle that decided it */
    qtr_regime regime, previous;
    double adx, plus_di, minus_di;
    double atr_pct;                /* ATR in percent of the close              */
    double volatility;             /* stddev of the returns, in percent        */
} qtr_regime_event;

/* One event on the bus. */
typedef struct qtr_event {
    qtr_event_type type;
    uint32_t flags;                /* QTR_EVF_*                               */
    int64_t time_ms;               /* host clock at publication               */
    union {
#define QTR__EV_MEMBER(value, ID, name, payload, member, ...) payload member;
        QTR_EVENT_TYPES(QTR__EV_MEMBER)
#undef QTR__EV_MEMBER
        /* Room to append payloads without changing sizeof(qtr_event). */
        uint8_t reserved_[640];
    } u;
} qtr_event;

/* flags */
#define QTR_EVF_REPLAY   0x1u   /* rebuilt from the store at start, not live */

/* Every payload fits the union's reserved room: appending a type never
 * changes sizeof(qtr_event). */
#define QTR__EV_FITS(value, ID, name, payload, member, ...) \
    _Static_assert(sizeof(payload) <= sizeof(((qtr_event *)0)->u.reserved_), #payload " outgrows qtr_event");
QTR_EVENT_TYPES(QTR__EV_FITS)
#undef QTR__EV_FITS

/* Name of an event type ("candle", "order_update", ...), for logs and JSON;
 * "unknown" for a value that is not a type. */
static inline const char *qtr_event_type_name(qtr_event_type t)
{
#define QTR__EV_NAME(value, ID, name, ...) [QTR_EV_##ID] = name,
    static const char *const names[QTR_EV__COUNT] = { [QTR_EV_NONE] = "none", QTR_EVENT_TYPES(QTR__EV_NAME) };
#undef QTR__EV_NAME
    return (unsigned)t < QTR_EV__COUNT && names[t] ? names[t] : "unknown";
}

/* The type of a name, QTR_EV_NONE if none has it (for readers of JSON and
 * of the Redis bus). */
static inline qtr_event_type qtr_event_type_by_name(const char *name)
{
    for (int t = QTR_EV_NONE + 1; name && t < QTR_EV__COUNT; t++) {
        const char *n = qtr_event_type_name((qtr_event_type)t);
        size_t i = 0;
        while (n[i] && n[i] == name[i]) i++;
        if (!n[i] && !name[i]) return (qtr_event_type)t;
    }
    return QTR_EV_NONE;
}

/* Who may publish a type (0 for a value that is not a type). */
static inline qtr_publisher qtr_event_publisher(qtr_event_type t)
{
#define QTR__EV_PUB(value, ID, name, payload, member, publisher, ...) [QTR_EV_##ID] = QTR_PUB_##publisher,
    static const unsigned char pub[QTR_EV__COUNT] = { QTR_EVENT_TYPES(QTR__EV_PUB) };
#undef QTR__EV_PUB
    return (unsigned)t < QTR_EV__COUNT ? (qtr_publisher)pub[t] : (qtr_publisher)0;
}

/* For a host-published type a plugin may cause: the service to call
 * ("submit_signal()"), else NULL. */
static inline const char *qtr_event_publish_via(qtr_event_type t)
{
#define QTR__EV_VIA(value, ID, name, payload, member, publisher, via, ...) [QTR_EV_##ID] = via,
    static const char *const via[QTR_EV__COUNT] = { QTR_EVENT_TYPES(QTR__EV_VIA) };
#undef QTR__EV_VIA
    return (unsigned)t < QTR_EV__COUNT ? via[t] : NULL;
}

/* Whether the trade store records a type (0 for a value that is not a type). */
static inline qtr_store_rule qtr_event_store_rule(qtr_event_type t)
{
#define QTR__EV_STORE(value, ID, name, payload, member, publisher, via, symbol, store, ...) \
    [QTR_EV_##ID] = QTR_STORE_##store,
    static const unsigned char rule[QTR_EV__COUNT] = { QTR_EVENT_TYPES(QTR__EV_STORE) };
#undef QTR__EV_STORE
    return (unsigned)t < QTR_EV__COUNT ? (qtr_store_rule)rule[t] : (qtr_store_rule)0;
}

/* True if a type's payload starts with char symbol[QTR_SYMBOL_MAX]. */
static inline bool qtr_event_has_symbol(qtr_event_type t)
{
#define QTR__EV_SYM(value, ID, name, payload, member, publisher, via, symbol, ...) [QTR_EV_##ID] = symbol,
    static const bool sym[QTR_EV__COUNT] = { QTR_EVENT_TYPES(QTR__EV_SYM) };
#undef QTR__EV_SYM
    return (unsigned)t < QTR_EV__COUNT && sym[t];
}

/* The symbol an event concerns, or NULL for account-wide events. */
static inline const char *qtr_event_symbol(const qtr_event *ev)
{
    return qtr_event_has_symbol(ev->type) ? ev->u.candle.symbol : NULL;  /* the first member of each */
}

/* A client order id as exchanges accept it (Binance: ^[.A-Z:/a-z0-9_-]{1,36}$);
 * the host refuses any other before an order reaches an exchange. */
static inline bool qtr_client_id_valid(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++, n++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == ':' ||
              c == '/' || c == '_' || c == '-'))
            return false;
    }
    return n >= 1 && n <= 36;
}

/* The order update that answers an intent without a fill: REJECTED (or any
 * status) with a reason, for an order refused before or by the exchange. */
static inline void qtr_order_update_for_intent(const qtr_order_intent *in, qtr_order_status status,
                                               const char *reason, int64_t time_ms, qtr_order_update *u)
{
    /* zeroed, then each text copied up to its NUL or cap - 1 bytes (the
     * rest stays zero): one memset and a memcpy a field, not a store a byte */
    memset(u, 0, sizeof *u);
    const char *nul = (const char *)memchr(in->symbol, '\0', sizeof u->symbol - 1);
    memcpy(u->symbol, in->symbol, nul ? (size_t)(nul - in->symbol) : sizeof u->symbol - 1);
    nul = (const char *)memchr(in->client_id, '\0', sizeof u->client_id - 1);
    memcpy(u->client_id, in->client_id, nul ? (size_t)(nul - in->client_id) : sizeof u->client_id - 1);
    if (reason) {   /* any string, maybe shorter than the field: no memchr past its NUL */
        size_t n = 0;
        while (n + 1 < sizeof u->reason && reason[n]) n++;
        memcpy(u->reason, reason, n);
    }
    u->time_ms = time_ms;
    u->side = in->side;
    u->type = in->type;
    u->status = status;
    u->qty = in->qty;
    u->price = in->price;
    u->reduce_only = in->reduce_only;
    u->activation_price = in->activation_price;
    u->callback_bps = in->callback_bps;
    u->working_type = in->working_type;
    u->stop_price = in->stop_price;
}

static inline const char *qtr_side_name(qtr_side s) { return s == QTR_SIDE_BUY ? "BUY" : s == QTR_SIDE_SELL ? "SELL" : "?"; }

static inline const char *qtr_order_status_name(qtr_order_status s)
{
    switch (s) {
    case QTR_OS_PENDING: return "PENDING";
    case QTR_OS_NEW: return "NEW";
    case QTR_OS_PARTIALLY_FILLED: return "PARTIALLY_FILLED";
    case QTR_OS_FILLED: return "FILLED";
    case QTR_OS_CANCELED: return "CANCELED";
    case QTR_OS_REJECTED: return "REJECTED";
    case QTR_OS_EXPIRED: return "EXPIRED";
    case QTR_OS_UNKNOWN: return "UNKNOWN";
    }
    return "?";
}

static inline const char *qtr_order_type_name(qtr_order_type t)
{
    switch (t) {
    case QTR_ORDER_MARKET: return "MARKET";
    case QTR_ORDER_LIMIT: return "LIMIT";
    case QTR_ORDER_STOP_MARKET: return "STOP_MARKET";
    case QTR_ORDER_TAKE_PROFIT_MARKET: return "TAKE_PROFIT_MARKET";
    case QTR_ORDER_TRAILING_STOP_MARKET: return "TRAILING_STOP_MARKET";
    }
    return "?";
}

static inline const char *qtr_ess_state_name(qtr_ess_state s)
{
    return s == QTR_ESS_ARMED ? "ARMED" : s == QTR_ESS_TRIPPED ? "TRIPPED" : s == QTR_ESS_COOLDOWN ? "COOLDOWN" : "?";
}

static inline const char *qtr_health_status_name(qtr_health_status s)
{
    return s == QTR_HEALTH_OK ? "OK" : s == QTR_HEALTH_DEGRADED ? "DEGRADED" : "CRITICAL";
}

#ifdef __cplusplus
}
#endif
#endif /* QTR_EVENTS_H */
