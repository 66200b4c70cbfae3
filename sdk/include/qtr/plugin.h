/*
 * qtr/plugin.h — the Quantum Trader plugin SDK. The one header a plugin needs.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `qtr_plugin_entry`, best defined with QTR_PLUGIN_DEFINE(). The host calls it
 * with its own ABI version; the plugin answers with a descriptor (or NULL if
 * it will not run on that host). The host checks the descriptor (ABI major
 * equal, plugin minor not newer than the host's, mandatory callbacks present,
 * known kind, unique name) before it calls anything else.
 *
 * Lifecycle, all on the host's single event-loop thread:
 *
 *   init(host, ctx, &state)   read options, allocate state, subscribe. No I/O
 *                             that blocks; return 0, or non-zero to refuse
 *                             (the host then unloads the plugin).
 *   start(state)              optional: begin timers and connections.
 *   ... callbacks of the plugin's kind, bus events, timers ...
 *   stop(state)               optional: stop timers, flush. Strategies are
 *                             stopped before everything else.
 *   destroy(state)            free everything. The host drops the plugin's
 *                             subscriptions, timers and metrics itself.
 *
 * Every host service is reached through the `const qtr_host *` given to
 * init(); a plugin never links against the host. Never block the loop: no
 * sleep(), no blocking socket, no synchronous HTTP.
 *
 * Minimal strategy (a full one: examples/strategy_template/ in the source,
 * /usr/share/quantum-trader/plugin-template/ from package quantum-trader-dev;
 * docs/plugins.md tells how to build, test and install a plugin):
 *
 *   #include <stdlib.h>
 *   #include <qtr/plugin.h>
 *   struct st { const qtr_host *h; qtr_ctx *ctx; };
 *   static int init(const qtr_host *h, qtr_ctx *ctx, void **out) {
 *       struct st *s = calloc(1, sizeof *s); if (!s) return -1;
 *       s->h = h; s->ctx = ctx; *out = s; return 0;
 *   }
 *   static void on_candle(void *state, const qtr_candle *c) { ... }
 *   static void destroy(void *state) { free(state); }
 *   static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };
 *   QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "my_strategy",
 *                     .version = "1.0.0", .init = init, .destroy = destroy,
 *                     .strategy = &ops);
 *
 * Build: cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags qtr-plugin) \
 *           my_strategy.c -o my_strategy.so
 *
 * The ABI (2.0; from it on the SDK only appends; docs/plugins.md, "ABI"):
 *   - QTR_PLUGIN_DEFINE records the ABI version and the build signature
 *     (qtr/signature.h: sizes, alignments, buffer lengths, byte order). The
 *     host refuses another major, a newer minor, or a build whose layout
 *     facts differ from its own, in one line naming what differs.
 *   - Whatever the host writes into your memory says its size: structs that
 *     start with `size` (QTR_SIZED(qtr_account)), lists (QTR_LIST(array)),
 *     event payloads (sizeof *out). See "What the host writes" below.
 *   - Event types, their names, publishers and storage: qtr/event_types.h.
 */
#ifndef QTR_PLUGIN_H
#define QTR_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <qtr/events.h>
#include <qtr/exits.h>
#include <qtr/money.h>
#include <qtr/signature.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version. Major: incompatible change (never mixed: the host refuses a
 * plugin of another major, 1.x ones included). Minor: only appended fields,
 * services and event types; a host runs plugins built for its minor or older.
 * 2.0 is the last breaking change: from it on the SDK grows by appending only,
 * checked both ways (the version, and the build signature in qtr/signature.h). */
#define QTR_ABI_MAJOR 2
#define QTR_ABI_MINOR 4   /* 2.4: see docs/plugins.md, "What each minor added" */
#define QTR_ABI_VERSION(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define QTR_ABI_MAJOR_OF(v) ((uint16_t)((v) >> 16))
#define QTR_ABI_MINOR_OF(v) ((uint16_t)((v) & 0xffffu))

#define QTR_ENTRY_SYMBOL "qtr_plugin_entry"

/* Result codes of host services (0 is success). */
#define QTR_OK        0
#define QTR_EINVAL   -1   /* bad argument                                 */
#define QTR_ENOTFOUND -2  /* no such symbol, option, order ...           */
#define QTR_EREFUSED -3   /* refused: ESS, risk, rate limit, state, or an
                             event not the plugin's to publish           */
#define QTR_EFULL    -4   /* a bounded queue is full                      */
#define QTR_ENOTSUP  -5   /* not available in this host or mode           */
#define QTR_EIO      -6   /* a store or network failure                   */

typedef enum qtr_kind {
    QTR_KIND_STRATEGY = 1,
    QTR_KIND_RISK = 2,
    QTR_KIND_EXCHANGE = 3,
    QTR_KIND_DASHBOARD = 4
} qtr_kind;

static inline const char *qtr_kind_name(qtr_kind k)
{
    switch (k) {
    case QTR_KIND_STRATEGY: return "strategy";
    case QTR_KIND_RISK: return "risk";
    case QTR_KIND_EXCHANGE: return "exchange";
    case QTR_KIND_DASHBOARD: return "dashboard";
    }
    return "unknown";
}

typedef enum qtr_log_level {
    QTR_LOG_DEBUG = 0,
    QTR_LOG_INFO = 1,
    QTR_LOG_WARN = 2,
    QTR_LOG_ERROR = 3
} qtr_log_level;

/* Opaque handles owned by the host. */
typedef struct qtr_ctx qtr_ctx;       /* one per loaded plugin: who is calling */
typedef struct qtr_timer qtr_timer;
typedef struct qtr_sub qtr_sub;
typedef struct qtr_metric qtr_metric;
struct event_base;                    /* libevent, for plugins doing I/O       */

/* ---------------------------------------------------------------------------
 * Options (a config map, as Fluent Bit's config_map): a plugin lists the
 * options it accepts, with their types, defaults, bounds and allowed values;
 * the host checks the config against the list before init() and refuses an
 * unknown name, a wrong type, a missing required option, a value out of its
 * range or not among its allowed values with one line naming the plugin, the
 * option, the value and the range. So a plugin does not check them again:
 * what config_int() and friends return is within the declaration. The host
 * also refuses a plugin whose declaration is inconsistent (a bound that does
 * not parse, min above max, a default outside its own range).
 * ------------------------------------------------------------------------- */
typedef enum qtr_opt_type {
    QTR_OPT_STRING = 1,
    QTR_OPT_INT,         /* a Lua integer                                  */
    QTR_OPT_BOOL,
    QTR_OPT_DECIMAL,     /* money or ratio: a string "0.001" or an integer */
    QTR_OPT_DOUBLE,      /* a score, never money                           */
    QTR_OPT_STRING_LIST, /* a Lua array of strings                         */
    /* appended in 2.2: a file or folder name, checked as a STRING; the
     * plugin reads it with config_string() and gets it resolved against the
     * config file's folder (absolute paths unchanged; "" stays ""), as the
     * host's own paths are. Its default must be "" or absolute. */
    QTR_OPT_PATH
} qtr_opt_type;

#define QTR_OPT_REQUIRED      0x1u
#define QTR_OPT_MIN_EXCLUSIVE 0x2u   /* min itself is refused: "> 0" for money */

typedef struct qtr_option {
    const char *name;
    qtr_opt_type type;
    const char *default_value; /* as text; NULL: no default               */
    uint32_t flags;            /* QTR_OPT_REQUIRED, QTR_OPT_MIN_EXCLUSIVE   */
    const char *help;          /* one line, shown by `qtr plugins -v`       */
    /* Inclusive bounds as text, NULL for none: the value of an INT ("1"),
     * DECIMAL ("0.0004") or DOUBLE ("0.5"); the length in bytes of a STRING
     * and the number of items of a STRING_LIST (integers). Not on BOOL. */
    const char *min;
    const char *max;
    /* STRING, and each item of a STRING_LIST: the only values accepted, a
     * NULL-terminated list; NULL: any. */
    const char *const *allowed;
} qtr_option;

/* ---------------------------------------------------------------------------
 * Risk types (used by risk plugins: extra checks after the host's policy).
 * ------------------------------------------------------------------------- */
typedef enum qtr_risk_verdict {
    QTR_RISK_APPROVE = 1,
    QTR_RISK_RESIZE = 2,   /* approve with decision.qty instead            */
    QTR_RISK_REJECT = 3
} qtr_risk_verdict;

typedef struct qtr_risk_decision {
    qtr_risk_verdict verdict;
    qtr_dec qty;                     /* the new quantity, for RESIZE         */
    char reason[QTR_REASON_MAX];     /* a reason code: "min_confidence" ...  */
} qtr_risk_decision;

/* The active risk policy, as far as a plugin sees it. The host enforces
 * the policy itself on every order (its limits, judge() and the ESS
 * thresholds: docs/policies.md); its limits are the host's own and reach
 * plugins only as the JSON of policy_describe(). The caller sets size. */
typedef struct qtr_policy_info {
    uint32_t size;                    /* sizeof(qtr_policy_info) as the caller built it */
    bool loaded;                      /* false: none loaded (every entry is refused) */
    char name[QTR_NAME_MAX];
    char hash[65];                    /* SHA-256 of the file, hex              */
    char file[QTR_TEXT_MAX];
    uint32_t version;                 /* good loads so far                     */
    int64_t loaded_at_ms;
} qtr_policy_info;

typedef struct qtr_ess_status {
    uint32_t size;                    /* set by the caller: sizeof(qtr_ess_status) */
    qtr_ess_state state;
    char trip_reason[QTR_REASON_MAX];
    int64_t tripped_at_ms;
    int64_t cooldown_until_ms;
    uint32_t trips, resets;
    int32_t consecutive_exchange_errors;
} qtr_ess_status;

typedef struct qtr_component_health {
    char component[QTR_NAME_MAX];
    qtr_health health;
} qtr_component_health;

typedef struct qtr_plugin_info {
    char name[QTR_NAME_MAX];
    char version[QTR_NAME_MAX];
    qtr_kind kind;
    uint16_t abi_major, abi_minor;
    char path[QTR_TEXT_MAX];
} qtr_plugin_info;

/* A signal with what became of it (for dashboards). */
typedef struct qtr_signal_record {
    qtr_signal signal;
    char outcome[QTR_NAME_MAX];       /* "accepted", "rejected", "dropped"    */
    char reason[QTR_REASON_MAX];
} qtr_signal_record;

/* What a symbol's orders may still add to its position. The
 * caller sets size to sizeof(qtr_exposure) as it was built; the host fills
 * only the members that fit. pending_* count the unfilled quantity of every
 * order that is open or in flight (PENDING, UNKNOWN, NEW, PARTIALLY_FILLED),
 * reduce-only ones too: size from position + pending, never position alone,
 * or orders still in flight are counted again. */
typedef struct qtr_exposure {
    uint32_t size;
    char symbol[QTR_SYMBOL_MAX];
    qtr_dec position;                 /* signed, as get_position            */
    qtr_dec pending_buy;              /* unfilled qty of open/in-flight buys */
    qtr_dec pending_sell;             /* the same for sells (positive)      */
    qtr_dec pending;                  /* pending_buy - pending_sell         */
    qtr_dec projected;                /* position + pending                 */
    int32_t pending_orders;           /* how many orders those are          */
} qtr_exposure;

/* Reconciliation with the exchange at start. While required, new
 * entries are refused (reduce-only and ESS orders still go) until an
 * operator acknowledges the differences with reconcile_ack. */
typedef struct qtr_reconcile_status {
    uint32_t size;                    /* set by the caller                  */
    char state[QTR_NAME_MAX];         /* "pending", "adopting", "checking",
                                         "ok", "mismatch", "acknowledged",
                                         "off" (no exchange to check)       */
    bool entries_blocked;
    int32_t n_diffs;
    int64_t since_ms;                 /* when the state began               */
    char detail[QTR_TEXT_MAX];        /* the differences, one per line      */
    char ack_user[QTR_NAME_MAX], ack_reason[QTR_REASON_MAX];
    int64_t ack_ms;
} qtr_reconcile_status;

/* ---------------------------------------------------------------------------
 * What the host writes into a plugin's memory (ABI 2.0 rule). A plugin built
 * for an older minor has smaller structs than the host; one built for this
 * minor may run on a newer host. So every out-parameter says its size:
 *   - a struct that starts with `uint32_t size` (qtr_account, qtr_exposure,
 *     qtr_reconcile_status, qtr_ess_status): set size = sizeof before the
 *     call (QTR_SIZED() does);
 *   - a list (qtr_list): the header says the item size and the room;
 *   - an event payload (qtr_position, qtr_candle, ...), whose first member
 *     is its symbol: the service takes its size, sizeof *out.
 * The host writes min(your size, its size) bytes and zeroes what your struct
 * has beyond its own (fields it does not know: 0). It never writes past your
 * size. A size too small to hold the size field itself is QTR_EINVAL.
 * ------------------------------------------------------------------------- */

/* A struct of the kind above, zeroed with its size set: QTR_SIZED(qtr_account). */
#define QTR_SIZED(type) ((type){ .size = sizeof(type) })

/* Room for the host to fill with up to cap items of item_size bytes each. */
typedef struct qtr_list {
    uint32_t size;                    /* sizeof(qtr_list)                        */
    uint32_t item_size;               /* sizeof one item, as the plugin built it */
    void *items;                      /* cap items, item_size bytes apart        */
    size_t cap;
    size_t n;                         /* out: how many items the host wrote      */
} qtr_list;

/* A list over an array: qtr_position pos[64]; qtr_list l = QTR_LIST(pos);
 * or over cap items at a pointer: QTR_LIST_OF(ptr, cap). */
#define QTR_LIST_OF(ptr, count) \
    ((qtr_list){ .size = sizeof(qtr_list), .item_size = sizeof *(ptr), .items = (ptr), .cap = (count) })
#define QTR_LIST(array) QTR_LIST_OF((array), sizeof(array) / sizeof (array)[0])

typedef void (*qtr_event_cb)(void *ud, const qtr_event *ev);
typedef void (*qtr_timer_cb)(void *ud);
typedef void (*qtr_write_cb)(void *ud, const char *text, size_t len);
typedef void (*qtr_snapshot_cb)(void *ud, int status,
                                const qtr_order_update *orders, size_t n_orders,
                                const qtr_position *positions, size_t n_positions);
/* fetch_rules' answer: QTR_OK with the exchange's rules document, or an
 * error code with a one-line reason; text is valid during the call only. */
typedef void (*qtr_rules_cb)(void *ud, int status, const char *text, size_t len);

/* ---------------------------------------------------------------------------
 * Host services: one const table, handed to init(). Grows by appending only;
 * before using a service added after 2.0, check QTR_HOST_HAS(host, member).
 * ------------------------------------------------------------------------- */
typedef struct qtr_host {
    uint32_t size;                 /* sizeof(qtr_host) as the host built it */
    uint16_t abi_major, abi_minor;
    const char *host_version;

    /* Logging: one line, tagged with the plugin's name. Below the host's
     * --log-level nothing is written; log_enabled (2.3, at the end of this
     * table) says beforehand whether a level is, to skip building a line. */
    void (*log)(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Clock. now_ms is the trading clock: wall time live and in paper mode,
     * the candle time in a backtest. mono_ns never jumps (for latency). */
    int64_t (*now_ms)(qtr_ctx *ctx);
    int64_t (*mono_ns)(qtr_ctx *ctx);
    bool (*is_simulated)(qtr_ctx *ctx);

    /* Timers on the trading clock (simulated in backtests). */
    qtr_timer *(*timer_start)(qtr_ctx *ctx, int64_t interval_ms, bool repeat,
                              qtr_timer_cb cb, void *ud);
    void (*timer_stop)(qtr_ctx *ctx, qtr_timer *timer);

    /* Bus. symbol NULL: every symbol. Callbacks run on the loop thread after
     * the event is published, in publication order. publish() copies *ev. */
    qtr_sub *(*subscribe)(qtr_ctx *ctx, qtr_event_type type, const char *symbol,
                          qtr_event_cb cb, void *ud);
    void (*unsubscribe)(qtr_ctx *ctx, qtr_sub *sub);
    /*
     * publish(): who may publish what. Subscribers trust the bus (a fill
     * moves the portfolio), so every event type has one rightful publisher
     * (the publisher column of qtr/event_types.h; this table restates it):
     *
     *   type                                       published by
     *   alert                                      any plugin (and the host)
     *   alert of kind "exchange_error"             the active exchange only:
     *                                              the ESS counts them
     *   candle, trade, book_top, mark_price,       the active exchange only
     *   order_update, fill
     *   signal                                     the host only: call
     *                                              submit_signal()
     *   order_intent                               the host only: call
     *                                              submit_order()
     *   health                                     the host only: call
     *                                              set_health()
     *   position, ess_state, policy, equity,       the host only
     *   regime
     *
     * So a strategy, risk or dashboard plugin publishes alerts and nothing
     * else; everything else it needs has a service above. The active exchange
     * is the exchange plugin the host sends orders to, once its init() has
     * returned; any other exchange plugin may publish alerts only (never
     * "exchange_error" ones), and none of its events moves the portfolio.
     *
     * Returns QTR_OK; QTR_EINVAL for a NULL event or an unknown type;
     * QTR_EREFUSED when the event is not the plugin's to publish: nothing is
     * delivered, the host logs the first refusal of each (plugin, type) with
     * both names and counts every one in
     * qtr_plugin_events_refused_total{plugin="<name>"}. The event's flags
     * are the host's (a plugin's event is live: they are cleared); an
     * alert's source is set to the plugin's name; time_ms 0 is set to
     * now_ms(). */
    int (*publish)(qtr_ctx *ctx, const qtr_event *ev);

    /* Options declared in the plugin's option table. Return QTR_OK, or
     * QTR_ENOTFOUND if unset with no default. Strings live until destroy(). */
    int (*config_string)(qtr_ctx *ctx, const char *name, const char **out);
    int (*config_int)(qtr_ctx *ctx, const char *name, int64_t *out);
    int (*config_bool)(qtr_ctx *ctx, const char *name, bool *out);
    int (*config_decimal)(qtr_ctx *ctx, const char *name, qtr_dec *out);
    int (*config_double)(qtr_ctx *ctx, const char *name, double *out);
    int (*config_list)(qtr_ctx *ctx, const char *name, const char *const **items, size_t *n);

    /* Metrics, exported by the dashboard as qtr_<name>. label may be NULL. */
    qtr_metric *(*metric_counter)(qtr_ctx *ctx, const char *name, const char *help,
                                  const char *label_name, const char *label_value);
    qtr_metric *(*metric_gauge)(qtr_ctx *ctx, const char *name, const char *help,
                                const char *label_name, const char *label_value);
    void (*metric_add)(qtr_metric *m, int64_t delta);
    void (*metric_set)(qtr_metric *m, double value);

    /* Trading. submit_signal queues a signal (QTR_EFULL if dropped by the
     * throttle). submit_order sends an order through the ESS, the host's
     * risk policy and the risk plugins; client_id_out (may be NULL)
     * receives its client order id. */
    int (*submit_signal)(qtr_ctx *ctx, const qtr_signal *signal);
    int (*submit_order)(qtr_ctx *ctx, const qtr_order_intent *order,
                        char client_id_out[QTR_CLIENT_ID_MAX]);
    int (*cancel_order)(qtr_ctx *ctx, const char *symbol, const char *client_id);

    /* Portfolio and market queries: copies, sized as the block above says
     * (out_size is sizeof *out; a list's items are of the type named).
     * QTR_ENOTFOUND when unknown, QTR_EINVAL for a bad size or list. The
     * list services return how many items they wrote (also in out->n). */
    int (*get_position)(qtr_ctx *ctx, const char *symbol, qtr_position *out, size_t out_size);
    size_t (*list_positions)(qtr_ctx *ctx, qtr_list *out);          /* qtr_position     */
    int (*get_account)(qtr_ctx *ctx, qtr_account *out);             /* out->size set    */
    size_t (*list_open_orders)(qtr_ctx *ctx, qtr_list *out);        /* qtr_order_update */
    int (*get_last_candle)(qtr_ctx *ctx, const char *symbol, qtr_candle *out, size_t out_size);
    int (*get_book_top)(qtr_ctx *ctx, const char *symbol, qtr_book_top *out, size_t out_size);
    int (*get_mark_price)(qtr_ctx *ctx, const char *symbol, qtr_mark_price *out, size_t out_size);

    /* Risk policy. The host enforces it on every order, whatever risk
     * plugins are loaded; a plugin only reads what is in force.
     * policy_info: out->size must be set; QTR_OK, or QTR_ENOTFOUND when none
     * is loaded (out->loaded false). policy_describe: the policy's limits
     * and ESS thresholds as one JSON object {"loaded":true,"name":...} in
     * one write() call; QTR_ENOTFOUND when none is loaded. */
    int (*policy_info)(qtr_ctx *ctx, qtr_policy_info *out);
    int (*policy_describe)(qtr_ctx *ctx, qtr_write_cb write, void *ud);
    int (*policy_reload)(qtr_ctx *ctx, char *err, size_t errlen);

    /* Emergency Stop System. ess_status: out->size set. */
    int (*ess_status)(qtr_ctx *ctx, qtr_ess_status *out);
    int (*ess_trip)(qtr_ctx *ctx, const char *user, const char *reason);
    int (*ess_reset)(qtr_ctx *ctx, const char *user, const char *reason, bool force,
                     char *err, size_t errlen);

    /* Operations (for dashboards). */
    void (*set_health)(qtr_ctx *ctx, qtr_health_status status, const char *reason);
    /* Lists (qtr_list of the type named), newest first where it says recent. */
    size_t (*health_all)(qtr_ctx *ctx, qtr_list *out);              /* qtr_component_health */
    size_t (*list_plugins)(qtr_ctx *ctx, qtr_list *out);            /* qtr_plugin_info      */
    void (*metrics_write)(qtr_ctx *ctx, qtr_write_cb write, void *ud);
    size_t (*recent_fills)(qtr_ctx *ctx, qtr_list *out);            /* qtr_fill             */
    size_t (*recent_orders)(qtr_ctx *ctx, qtr_list *out);           /* qtr_order_update     */
    size_t (*recent_signals)(qtr_ctx *ctx, qtr_list *out);          /* qtr_signal_record    */
    size_t (*equity_history)(qtr_ctx *ctx, qtr_list *out);          /* qtr_account          */

    /* The host's libevent loop, for plugins that do network I/O. */
    struct event_base *(*event_base)(qtr_ctx *ctx);

    /* ---- reconciliation and pending exposure ---- */
    /* A symbol's position and the pending exposure of its open and in-flight
     * orders. out->size must be set. QTR_OK (all zero for a symbol with
     * neither), QTR_EINVAL. */
    int (*get_exposure)(qtr_ctx *ctx, const char *symbol, qtr_exposure *out);
    /* Reconciliation at start; out->size must be set. */
    int (*reconcile_status)(qtr_ctx *ctx, qtr_reconcile_status *out);
    /* An operator acknowledges the differences: entries allowed again.
     * Recorded in the store (user, reason, time). QTR_EREFUSED with err when
     * nothing waits for an acknowledgement, QTR_EINVAL without a reason. */
    int (*reconcile_ack)(qtr_ctx *ctx, const char *user, const char *reason, char *err, size_t errlen);

    /* ---- exits (qtr/exits.h; appended after 2.0: QTR_HOST_HAS first) ----
     * set_exit_plan: the host keeps exit orders for symbol's positions as
     * the plan says, from the next placement on (a position already open
     * gets them now). Replaces the symbol's earlier plan, whoever set it;
     * kept in the store. plan->size must be set (QTR_SIZED). QTR_OK;
     * QTR_EINVAL with err naming the field for a plan that breaks a rule of
     * qtr/exits.h; QTR_EIO if the store could not keep it. */
    int (*set_exit_plan)(qtr_ctx *ctx, const char *symbol, const qtr_exit_plan *plan, char *err, size_t errlen);
    /* clear_exit_plan: forget the symbol's plan and cancel its open exit
     * orders (the position stays). QTR_OK, QTR_ENOTFOUND if it had none. */
    int (*clear_exit_plan)(qtr_ctx *ctx, const char *symbol);

    /* ---- regime (qtr/regime.h; appended after 2.0: QTR_HOST_HAS first) ----
     * get_regime: the symbol's current market regime as the host's
     * classifier sees it (UNKNOWN during its warm-up), with the inputs of
     * its last closed candle (docs/indicators.md). The host also publishes
     * QTR_EV_REGIME on each change. QTR_OK; QTR_ENOTFOUND for a symbol
     * without candles; QTR_EINVAL for a NULL symbol or out; QTR_EREFUSED
     * for a plugin that does not declare QTR_NEEDS_REGIME (2.4, .needs in
     * its descriptor), which neither gets REGIME events. */
    int (*get_regime)(qtr_ctx *ctx, const char *symbol, qtr_regime_event *out, size_t out_size);

    /* ---- appended in 2.2 (QTR_HOST_HAS first) ----
     * list_exit_plans: every symbol's exit plan and its live state
     * (qtr_exit_state, qtr/exits.h): the parameters in force, the position
     * the exits cover, the exit orders resting now, whether placement waits
     * for the first reconcile. Symbols in the order their plans were first
     * set; a cleared plan is not listed. Returns how many it wrote. */
    size_t (*list_exit_plans)(qtr_ctx *ctx, qtr_list *out);         /* qtr_exit_state */

    /* ---- appended in 2.3 (QTR_HOST_HAS first) ----
     * log_enabled: whether log() at `level` writes a line now (the host's
     * --log-level; it can change while running). log()'s arguments are
     * built before the call whether it writes or not, so a line that costs
     * something to build (decimals formatted, a loop) is worth the check:
     *     if (host->log_enabled(ctx, QTR_LOG_DEBUG)) {
     *         char q[QTR_DEC_STRLEN];
     *         host->log(ctx, QTR_LOG_DEBUG, "fill %s", qtr_dec_format(f->qty, q));
     *     }
     * A level outside qtr_log_level is taken as INFO, as log() takes it.
     * During init() an ERROR line is always enabled (it becomes the reason
     * the plugin is refused). */
    bool (*log_enabled)(qtr_ctx *ctx, qtr_log_level level);
} qtr_host;

/* True if the host provides `member` (it may be older than this header). */
#define QTR_HOST_HAS(host, member) \
    ((host)->size >= offsetof(qtr_host, member) + sizeof((host)->member) && (host)->member != NULL)

/* ---------------------------------------------------------------------------
 * Callbacks of each kind. Each table starts with its size and grows by
 * appending. Mandatory members are marked; leave the others NULL.
 * ------------------------------------------------------------------------- */
typedef struct qtr_strategy_ops {
    uint32_t size;
    /* mandatory: a candle closed for a symbol in the strategy's `symbols`
     * option (or any symbol if it has none). Submit signals from here. */
    void (*on_candle)(void *state, const qtr_candle *candle);
    void (*on_fill)(void *state, const qtr_fill *fill);                 /* optional */
    void (*on_order_update)(void *state, const qtr_order_update *update); /* optional */
    /* optional (appended in 2.0): an operator asked for a reload (SIGHUP,
     * POST /api/policy/reload, policy_reload()): re-read the plugin's own
     * files (a model). On the loop, after the policy; report the outcome
     * with set_health(). */
    void (*reload)(void *state);
} qtr_strategy_ops;

typedef struct qtr_risk_ops {
    uint32_t size;
    /* mandatory: an extra check of one order the host's policy has already
     * approved (at order->qty, possibly cut down by the policy). A risk
     * plugin can only refuse or shrink: fill *out with APPROVE, RESIZE with
     * 0 < qty <= order->qty, or REJECT with a reason code. A RESIZE that
     * grows the order, or no valid verdict, refuses the order and is counted
     * in qtr_risk_plugin_replies_refused_total{plugin="<name>"}. An order
     * the policy refused is never shown to a plugin. */
    void (*check_order)(void *state, const qtr_order_intent *order, qtr_risk_decision *out);
} qtr_risk_ops;

/*
 * Exchange plugins: what the host expects back.
 *   - QTR_EV_ORDER_UPDATE for every change of an order: NEW when accepted,
 *     PARTIALLY_FILLED / FILLED with cumulative filled_qty and avg_price,
 *     CANCELED, EXPIRED, or REJECTED with the exchange's reason.
 *   - QTR_EV_FILL for every execution, qty being the increment, with a
 *     fill_id that is unique for ever (the trade store ignores a repeated id).
 *   - QTR_EV_ALERT with kind "exchange_error" for every failed exchange call
 *     (timeout, 5xx, 429/418, malformed or unexpected reply): the host counts
 *     consecutive ones for the ESS, and an accepted or filled order resets
 *     the count. Use severity CRITICAL when trading must stop (418).
 *   - host->set_health() when connectivity changes.
 * Market data it produces (candle, trade, book_top, mark_price) is published
 * the same way. These are the active exchange's alone: see publish() above.
 * Positions and the account are the host's (computed from fills); the
 * exchange reports its own view only through fetch_snapshot().
 */
typedef struct qtr_exchange_ops {
    uint32_t size;
    /* mandatory: send an order. Asynchronous: the answer comes later as
     * QTR_EV_ORDER_UPDATE and QTR_EV_FILL events the plugin publishes.
     * Return QTR_OK if accepted for sending; a non-zero return means nothing
     * was sent. */
    int (*submit_order)(void *state, const qtr_order_intent *order);
    /* mandatory: cancel by client order id; also answered by events. */
    int (*cancel_order)(void *state, const char *symbol, const char *client_id);
    /* optional: the ESS's cancel-all, for a symbol (NULL: all symbols):
     * cancel every open order except reduce-only conditional ones (STOP_MARKET,
     * TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET), which keep protecting the
     * positions a trip leaves open; called again each ESS tick while an order
     * it takes is still open. */
    int (*cancel_all)(void *state, const char *symbol);
    /* optional: report open orders and positions once, for reconciliation
     * at start; cb may run later (on the loop) and runs exactly once. */
    int (*fetch_snapshot)(void *state, qtr_snapshot_cb cb, void *ud);
    /* optional: follow an order placed before a restart, known to
     * the host as *known (any state but final), whose executions already
     * recorded are fills[0..n_fills). The plugin queries it by client id and
     * publishes its current state (never PENDING or UNKNOWN once it knows)
     * and the executions not among fills, then polls it like its own. An
     * order the exchange has no trace of is ended EXPIRED, never sent. */
    int (*adopt_order)(void *state, const qtr_order_update *known, const qtr_fill *fills, size_t n_fills);
    /* optional: the exchange's instrument rules (tick, lot step, minimums)
     * as its own JSON document (Binance: the GET /fapi/v1/exchangeInfo
     * answer), for `qtr symbols fetch`; callable after init(), without
     * start(). cb runs once, later on the loop (never after destroy()):
     * QTR_OK with the document, which the plugin could read itself;
     * QTR_EIO when the exchange gave no usable answer (unreachable, timeout,
     * 5xx, rate limited); QTR_EREFUSED when it answered with an error or a
     * document that does not read (the text names the field). A non-zero
     * return means nothing was sent and cb never runs. */
    int (*fetch_rules)(void *state, qtr_rules_cb cb, void *ud);
} qtr_exchange_ops;

typedef struct qtr_dashboard_ops {
    uint32_t size;
    /* no mandatory members: a dashboard works from the bus and host queries */
} qtr_dashboard_ops;

/* ---------------------------------------------------------------------------
 * The descriptor a plugin returns from qtr_plugin_entry().
 * ------------------------------------------------------------------------- */
typedef struct qtr_plugin_desc {
    /* These three never move: the host reads them first. */
    uint32_t size;              /* sizeof(qtr_plugin_desc) as the plugin built it */
    uint16_t abi_major, abi_minor;
    const qtr_build_signature *signature; /* the build's layout facts (qtr/signature.h) */
    qtr_kind kind;
    const char *name;           /* unique among loaded plugins: [a-z0-9_]+   */
    const char *version;        /* the plugin's own version, e.g. "1.2.0"   */
    const char *description;    /* one line                                  */
    const qtr_option *options;  /* ends with an entry whose name is NULL     */

    int (*init)(const qtr_host *host, qtr_ctx *ctx, void **state); /* mandatory */
    int (*start)(void *state);                                      /* optional  */
    void (*stop)(void *state);                                      /* optional  */
    void (*destroy)(void *state);                                   /* mandatory */
    /* optional: current health; the host asks for /health/all */
    void (*health)(void *state, qtr_health *out);

    /* exactly the one matching .kind must be set */
    const qtr_strategy_ops *strategy;
    const qtr_risk_ops *risk;
    const qtr_exchange_ops *exchange;
    const qtr_dashboard_ops *dashboard;

    /* ---- appended in 2.4 ----
     * needs: the host services this plugin uses that cost the host work
     * whether anyone reads them or not (QTR_NEEDS_*, or-ed). The host does
     * that work only when something needs it, and refuses the service to a
     * plugin that did not declare it, in every mode alike, so a plugin that
     * runs live runs unchanged in a backtest:
     *
     *   QTR_NEEDS_REGIME   get_regime(), subscribing to QTR_EV_REGIME, and
     *                      an exit plan with a regime_mask (set_exit_plan).
     *                      Undeclared, they return QTR_EREFUSED (subscribe:
     *                      NULL), with an ERROR line naming the plugin.
     *                      The host classifies every symbol's candles
     *                      (qtr/regime.h) in a live server always, and in
     *                      a backtest only when a loaded plugin declares it.
     *
     * A plugin built before 2.4 has no such field: the host takes it to
     * need everything, as it did then. A bit the host does not define is
     * refused at load. */
    uint32_t needs;
} qtr_plugin_desc;

/* qtr_plugin_desc.needs (2.4). Bits only ever added. */
#define QTR_NEEDS_REGIME (1u << 0)

/*
 * The entry point's type. The host calls it with its QTR_ABI_VERSION(); the
 * plugin always stores its own ABI version in *plugin_abi, and returns its
 * descriptor, or NULL to refuse a host it cannot run on (the plugin side of
 * the two-sided check; the host checks the descriptor's version as well).
 */
typedef const qtr_plugin_desc *(*qtr_plugin_entry_fn)(uint32_t host_abi, uint32_t *plugin_abi);

#if defined(__GNUC__)
#define QTR_EXPORT __attribute__((visibility("default")))
#else
#define QTR_EXPORT
#endif

/*
 * Defines the descriptor, with the build signature, and the one exported
 * entry symbol. The plugin refuses a host of another major version, or one
 * older than the minor version this plugin was built for (its services may
 * be missing). The host checks the version, then the signature, before it
 * reads the rest of the descriptor or calls anything.
 */
#define QTR_PLUGIN_DEFINE(...)                                                        \
    static const uint32_t qtr__plugin_facts[QTR_SIG__COUNT] = QTR_SIGNATURE_FACT_VALUES; \
    static const uint32_t qtr__plugin_payloads[QTR_EV__COUNT] = QTR_SIGNATURE_PAYLOAD_SIZES; \
    static const qtr_build_signature qtr__plugin_signature = {                        \
        .size = sizeof(qtr_build_signature), .magic = QTR_SIGNATURE_MAGIC,            \
        .n_facts = QTR_SIG__COUNT, .n_payloads = QTR_EV__COUNT,                       \
        .facts = qtr__plugin_facts, .payload_sizes = qtr__plugin_payloads};           \
    static const qtr_plugin_desc qtr__plugin_desc = {                                 \
        .size = sizeof(qtr_plugin_desc),                                              \
        .abi_major = QTR_ABI_MAJOR,                                                   \
        .abi_minor = QTR_ABI_MINOR,                                                   \
        .signature = &qtr__plugin_signature,                                          \
        __VA_ARGS__};                                                                 \
    QTR_EXPORT const qtr_plugin_desc *qtr_plugin_entry(uint32_t host_abi, uint32_t *plugin_abi); \
    QTR_EXPORT const qtr_plugin_desc *qtr_plugin_entry(uint32_t host_abi, uint32_t *plugin_abi)  \
    {                                                                                 \
        if (plugin_abi) *plugin_abi = QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR);  \
        if (QTR_ABI_MAJOR_OF(host_abi) != QTR_ABI_MAJOR ||                            \
            QTR_ABI_MINOR_OF(host_abi) < QTR_ABI_MINOR)                               \
            return NULL;                                                              \
        return &qtr__plugin_desc;                                                     \
    }

/* Copy a NUL-terminated string into a fixed field, always terminating it. */
#if defined(__GNUC__) && !defined(__clang__)
/* The copy reads n <= strlen(src) bytes of src. gcc with profile feedback
 * (-fprofile-use) may split the copy of a short literal ("ess", char[4])
 * into wide loads on a path that never runs, and then warn that the load
 * is partly outside the literal (-Warray-bounds): silenced here only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
static inline void qtr_strlcpy(char *dst, const char *src, size_t cap)
{
    if (!cap) return;
    size_t n = 0;
    if (src) {   /* its length (at most cap - 1, no byte read past it), then one copy */
        for (size_t left = cap - 1; left > 0 && src[n] != '\0'; left--) n++;
        memmove(dst, src, n);
    }
    dst[n] = '\0';
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* QTR_PLUGIN_H */
