/*
 * The engine's state, shared by the files of host/engine that make it up,
 * one section below each: engine.c (lifecycle, plugins, live timers, the
 * publish helper), market.c (the market cache, mark and book, funding, the
 * account), orders.c (the open-order table, fill de-dup), pipeline.c
 * (signals, checks, the exchange, fills), persist.c (the trade store),
 * adopt.c (start-up reconciliation), host_api.c (the qtr_host table),
 * health.c (health and metrics).
 */
#ifndef QH_ENGINE_INTERNAL_H
#define QH_ENGINE_INTERNAL_H

#include "bus/bus_link.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "core/loader.h"
#include "core/metrics.h"
#include "core/publish_rule.h"
#include "policy/policy.h"
#include "portfolio/portfolio.h"
#include "portfolio/symbol_index.h"
#include "risk/ess.h"
#include "risk/signal_queue.h"
#include "store/store.h"

#define QH_MAX_PLUGINS 64
#define QH_RECENT 512
#define QH_EQUITY_HISTORY 2048
#define QH_MAX_OPEN_ORDERS 65536
#define QH_FILL_SEEN 16384

typedef struct qh_plugin_rt qh_plugin_rt;
typedef struct qh_order_table qh_order_table;
typedef struct qh_fill_dedup qh_fill_dedup;

/* Start-up reconciliation with the exchange (adopt.c). */
typedef enum qh_recon_state {
    QH_RS_OFF = 0,      /* no exchange that adopts orders (paper, backtest) */
    QH_RS_ADOPTING,     /* waiting for adopted orders to tell their state   */
    QH_RS_CHECKING,     /* comparing positions with the exchange's          */
    QH_RS_OK,
    QH_RS_MISMATCH,     /* entries refused until acknowledged               */
    QH_RS_ACKED
} qh_recon_state;

struct qtr_ctx {
    qh_engine *eng;
    qh_plugin_rt *plugin;       /* NULL for the host's own context */
    const char *name;
};

struct qh_plugin_rt {
    qh_loaded ld;
    const qh_plugin_conf *conf;
    struct qtr_ctx ctx;
    void *state;
    bool inited, started, stopped;
    /* the last ERROR line it logged before init returned: the reason the
     * refusal of a failed init gives, on one line */
    char init_error[160];
    bool has_set_health;
    qtr_health set_health;
    /* events refused at publish: one bit per type already logged, and the
     * plugin's qtr_plugin_events_refused_total series */
    uint32_t publish_refused_logged;
    /* QTR_NEEDS_* bits whose refusal was already logged (host_api.c) */
    uint32_t needs_refusal_logged;
    qh_metric *m_publish_refused;
    /* config_list results, kept until destroy */
    const char **list_cache[16];
    size_t n_list_cache;
};

typedef struct qh_market_sym {
    char symbol[QTR_SYMBOL_MAX];
    size_t symbol_len;                 /* strlen(symbol): the per-candle compare */
    bool has_candle, has_book, has_mark;
    qtr_candle candle;
    qtr_book_top book;
    qtr_mark_price mark;
    /* found once, kept: the symbol's qtr_regime gauge (regime_glue.c) and
     * its portfolio index (which never changes), so a candle does not look
     * them up by name again */
    qh_metric *regime_gauge;
    bool has_pf_index;
    size_t pf_index;
} qh_market_sym;

/* A ring of the most recent items, for dashboards. */
#define QH_RING(type, n) struct { type items[n]; size_t head, count; }
#define QH_RING_PUSH(r, v)                                                       \
    do {                                                                         \
        size_t cap_ = sizeof((r).items) / sizeof((r).items[0]);                 \
        (r).items[((r).head + (r).count) % cap_] = (v);                          \
        if ((r).count < cap_) (r).count++;                                      \
        else (r).head = ((r).head + 1) % cap_;                                   \
    } while (0)

struct qh_engine {
    qh_config *cfg;
    bool backtest;
    struct event_base *base;
    qh_clock *clock;
    qh_bus *bus;
    qh_metrics *metrics;
    qh_portfolio *pf;
    qh_policy *policy;
    qh_ess *ess;
    qh_sigq *sigq;
    qtr_host api;
    struct qtr_ctx host_ctx;

    qh_plugin_rt plugins[QH_MAX_PLUGINS];
    size_t n_plugins;
    qh_plugin_rt *exchange, *risk;
    bool running;

    qh_symbol_index *syms;          /* symbol -> index into market */
    qh_market_sym *market;
    size_t n_market, cap_market;
    size_t next_market;             /* market/symbol_cycle.h: the entry likely next */

    qh_order_table *open_orders;    /* live orders, by client id (orders.c) */
    uint64_t order_seq;
    char run_id[16];
    qh_fill_dedup *fills_seen;      /* fill ids already applied (orders.c) */

    QH_RING(qtr_fill, QH_RECENT) recent_fills;
    QH_RING(qtr_order_update, QH_RECENT) recent_orders;
    QH_RING(qtr_signal_record, QH_RECENT) recent_signals;
    QH_RING(qtr_account, QH_EQUITY_HISTORY) equity_history;
    int64_t last_equity_point_ms;
    qtr_dec last_published_peak;    /* a new peak is stored at once: a crash must not lower it */

    /* live timers */
    qh_timer *t_market, *t_cycle, *t_ess, *t_policy, *t_lag;
    /* Live: signals are drained as soon as the event that produced them has
     * reached every subscriber (ev_drain, made active on a push), within the
     * cycle's budget: at most per_cycle signals between two cycle ticks. The
     * tick only takes what went over the budget. */
    struct event *ev_drain;
    size_t taken_in_cycle;
    /* signals from other hosts refused as invalid (pipeline.c: its log lines) */
    uint64_t remote_signals_refused;
    int64_t lag_expected_ns;
    double loop_lag_ms;
    void *synth;                    /* qh_synth, live synthetic market */
    size_t replay_pos;
    void *replay;                   /* qh_candle_vec, live csv replay */

    /* the trade store (NULL: none) */
    qh_store *store;
    struct event *store_event;
    bool store_failed_reported;
    uint64_t last_fill_seq;
    qh_timer *store_turn_end;       /* pending: this loop turn's records form one store group */

    /* start-up reconciliation (adopt.c) */
    struct {
        qh_recon_state state;
        int64_t since_ms;
        char (*waiting)[QTR_CLIENT_ID_MAX];   /* adopted, no known state yet */
        size_t n_waiting, cap_waiting;
        int checks;
        bool snapshot_out, snapshot_alerted;
        qh_timer *timer;
        int n_diffs;
        char detail[QTR_TEXT_MAX];
        char ack_user[QTR_NAME_MAX], ack_reason[QTR_REASON_MAX];
        int64_t ack_ms;
    } recon;

    /* observers (the backtest report) */
    qh_engine_observer obs;

    /* the Redis bus (bus/bus_link.h); NULL without one */
    struct qh_bus_link *bus_link;

    /* the exit manager (exits/exit_manager.h, engine/exits_glue.c) */
    struct qh_exits *exits;
    bool exits_reconciled;          /* the restored positions' exits checked once */

    /* regime detection (regime/regime_book.h, engine/regime_glue.c) */
    struct qh_regime_book *regime;
    struct qh_bus_sub *regime_sub;   /* its place on the candle path */

    /* metrics */
    struct {
        qh_metric *orders_sent, *orders_rejected_ess, *orders_rejected_risk, *orders_rejected_invalid,
            *orders_rejected_exchange, *fills, *signals_in, *candles, *policy_loads_ok, *policy_loads_failed,
            *ess_trips, *exchange_errors, *duplicate_fills, *fills_settled, *policy_timeouts;
    } m;
    /* Events published outside any dispatch (a candle of a backtest, every
     * candle) are built in place, one per type: the header and payload are
     * written, the rest of the union is still zero (pub_len: payload bytes
     * last written, so a shorter payload zeroes what a longer one left).
     * Inside a dispatch a subscriber may still be reading one: the stack. */
    qtr_event pub_ev[QTR_EV__COUNT];
    size_t pub_len[QTR_EV__COUNT];
};

/* pipeline.c */
void qh_pipeline_subscribe(qh_engine *e);
int qh_pipeline_submit_order(qh_engine *e, const char *origin, const qtr_order_intent *in, char cid_out[QTR_CLIENT_ID_MAX]);
int qh_pipeline_submit_signal(qh_engine *e, const char *origin, const qtr_signal *s);
/* Where a signal from another host came from (bus/bus_link.c). */
typedef struct qh_signal_source {
    const char *host;               /* its host_id */
    uint64_t seq;                   /* its number from that host */
    const char *stream, *entry;     /* the Redis stream and entry id; NULL if not known */
} qh_signal_source;
/* A signal from another host: the same entry as a local one (queue, ESS,
 * policy, risk plugins), with one difference: a signal whose order the
 * order path would refuse as invalid (a bad symbol, say) is refused as it
 * arrives, with the drain's reason and counter but no order id and no
 * ORDER_UPDATE, instead of taking a place in the queue. Every one refused
 * as invalid (QTR_EINVAL), here or by the queue, gets a log line naming
 * its host, number and entry, sampled as bus/log_sample.h says. */
int qh_pipeline_submit_remote_signal(qh_engine *e, const char *origin, const qtr_signal *s,
                                     const qh_signal_source *from);
int qh_pipeline_cancel(qh_engine *e, const char *symbol, const char *client_id);
/* A new cycle (the live tick, or one candle in a backtest): the budget is
 * per_cycle again; then drain. */
void qh_pipeline_cycle(qh_engine *e);
/* Send queued signals, best first, as far as this cycle's budget allows. */
void qh_pipeline_drain(qh_engine *e);
void qh_ess_hook_transition(void *ud, const qtr_ess_event *ev);
void qh_ess_hook_cancel_all(void *ud);
void qh_ess_hook_close_all(void *ud);
/* While the ESS blocks entries and the policy says to close positions,
 * send a reduce-only close for every open position that has none pending
 * (a rejected close is retried on the next tick). */
void qh_pipeline_enforce_flat(qh_engine *e);
void qh_publish_alert(qh_engine *e, qtr_alert_severity sev, const char *source, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6), cold));

/* persist.c */
int qh_persist_open(qh_engine *e, const char *path, bool fresh_only, char *err, size_t errlen);
int qh_persist_restore(qh_engine *e, char *err, size_t errlen);
void qh_persist_reconcile(qh_engine *e);
void qh_persist_close(qh_engine *e);
void qh_persist_health(qh_engine *e, qtr_health *out);

/* adopt.c */
/* Adopt the store's open orders and check positions before entries; false
 * if the exchange cannot adopt (then the older snapshot check runs). */
bool qh_recon_start(qh_engine *e);
bool qh_recon_blocks_entries(const qh_engine *e);
void qh_recon_status(qh_engine *e, qtr_reconcile_status *out);
int qh_recon_ack(qh_engine *e, const char *user, const char *reason, char *err, size_t errlen);
void qh_recon_health(qh_engine *e, qtr_health *out);
void qh_recon_free(qh_engine *e);
/* fetch_snapshot's answer (ud: the engine) handed to cb with its lists at
 * the host's struct sizes: the exchange laid them out at its own. */
void qh_snapshot_deliver(qh_engine *e, qtr_snapshot_cb cb, int status, const qtr_order_update *orders,
                         size_t n_orders, const qtr_position *positions, size_t n_positions);
/* exits_glue.c: the exit manager, made before strategies load (their
 * init may set exit plans), started after the engine's reconciliation
 * began, freed before the clock and the bus. */
int qh_exits_glue_init(qh_engine *e, char *err, size_t errlen);
void qh_exits_glue_start(qh_engine *e);
void qh_exits_glue_free(qh_engine *e);

/* regime_glue.c: a classifier per symbol on the candle path, subscribed
 * before strategies load; REGIME published on a change; get_regime's answer
 * (QTR_OK or QTR_ENOTFOUND for a symbol without candles). */
int qh_regime_glue_init(qh_engine *e, char *err, size_t errlen);
int qh_regime_glue_get(qh_engine *e, const char *symbol, qtr_regime_event *out);
/* Once every plugin is loaded: a backtest that nothing reads regimes in (no
 * plugin needs QTR_NEEDS_REGIME, core/plugin_needs.h; no REGIME subscriber)
 * drops the classifier from the candle path. A live server keeps it: its
 * qtr_regime gauge reads it. */
void qh_regime_glue_settle(qh_engine *e);
void qh_regime_glue_free(qh_engine *e);

/* host_api.c */
void qh_host_api_init(qh_engine *e, qtr_host *api);
/* The position and the pending exposure of open and in-flight orders. */
void qh_engine_exposure(qh_engine *e, const char *symbol, qtr_exposure *out);
/* qh_publish_refusal(): core/publish_rule.h */
/* The plugin's qtr_plugin_events_refused_total{plugin="<name>"} series. */
qh_metric *qh_publish_refused_metric(qh_engine *e, qh_plugin_rt *p);

/* health.c: qh_engine_health and qh_engine_metrics_write (engine.h) */

/* market.c */
/* The symbol's market state; created on first use when create is set. */
qh_market_sym *qh_market_get(qh_engine *e, const char *symbol, bool create);
/* The same for a symbol in a char field of QTR_SYMBOL_MAX bytes (a candle's,
 * a mark's): the last entries are tried with a few words' compare
 * (market/symbol_cycle.h) before the index. */
qh_market_sym *qh_market_get_field(qh_engine *e, const char symbol[QTR_SYMBOL_MAX], bool create);
/* The host's candle, mark price and book top handlers on the bus. */
void qh_market_subscribe(qh_engine *e);
/* The account moved (a mark, a fill, funding): the ESS checks it, the
 * observer sees it, the equity history and peak are kept. */
void qh_engine_account_changed(qh_engine *e, int64_t time_ms);

/* orders.c */
/* The open-order table: orders by client id, hashed, at most `capacity`.
 * The orders are also a dense array (qh_order_table_items, count of them)
 * that a put or a remove may reorder: a removal moves the last order into
 * the hole. */
qh_order_table *qh_order_table_new(size_t capacity);
void qh_order_table_free(qh_order_table *t);
typedef enum qh_order_put {
    QH_ORDER_ADDED = 0,
    QH_ORDER_EXISTS,        /* the client id is in the table: nothing changed */
    QH_ORDER_FULL,          /* capacity orders open (or no memory to index
                             * one more): refused                           */
    QH_ORDER_BAD_ID         /* empty, or not terminated within the field      */
} qh_order_put;
qh_order_put qh_order_table_put(qh_order_table *t, const qtr_order_update *u);
/* The order with this client id (to read or update in place), or NULL. */
qtr_order_update *qh_order_table_find(qh_order_table *t, const char *client_id);
/* False if no such order. */
bool qh_order_table_remove(qh_order_table *t, const char *client_id);
size_t qh_order_table_count(const qh_order_table *t);
size_t qh_order_table_capacity(const qh_order_table *t);
const qtr_order_update *qh_order_table_items(const qh_order_table *t);
/* Add an order to the engine's open orders (or update it if known); when
 * the table is full, say so loudly, trip the ESS (host) and return false:
 * never dropped quietly. */
bool qh_open_orders_track(qh_engine *e, const qtr_order_update *u, const char *what);
/* The last `capacity` fill ids applied, to ignore a fill seen twice. */
qh_fill_dedup *qh_fill_dedup_new(size_t capacity);
void qh_fill_dedup_free(qh_fill_dedup *d);
bool qh_fill_seen(const qh_fill_dedup *d, const char *fill_id);
void qh_fill_remember(qh_fill_dedup *d, const char *fill_id);
/* qh_fill_seen, then (not seen) qh_fill_remember, with one lookup: true if
 * the id was seen already (nothing changes then). */
bool qh_fill_seen_else_remember(qh_fill_dedup *d, const char *fill_id);
/* persist.c's restore: the stored fills count as seen. */
void qh_engine_remember_fill(qh_engine *e, const char *fill_id);

/* engine.c */
qh_plugin_rt *qh_engine_plugin_by_ctx(qtr_ctx *ctx);
int qh_engine_policy_load(qh_engine *e, const char *why, char *err, size_t errlen);
/* Live timers (ud: the engine). The policy is reloaded by its own timer,
 * every policy.reload_interval_s; the loop-lag probe, every
 * QH_LAG_PROBE_MS, only measures the loop's lag. */
#define QH_LAG_PROBE_MS 100
void qh_engine_policy_timer(void *ud);
void qh_engine_lag_probe(void *ud);
/* The one way the host publishes an event of its own: a zeroed event (no
 * stale bytes reach a plugin or the store) of this type, flags (QTR_EVF_*)
 * and time, the payload copied into its union, published on the bus.
 * Returns qh_bus_publish's result. QH_PUBLISH checks the payload's type
 * against the union member at compile time:
 *     QH_PUBLISH(e, QTR_EV_POSITION, 0, time_ms, position, after); */
int qh_engine_publish(qh_engine *e, qtr_event_type type, uint32_t flags, int64_t time_ms, const void *payload,
                      size_t size);
/* The same event, built but not published (for the store directly). */
void qh_event_make(qtr_event *ev, qtr_event_type type, uint32_t flags, int64_t time_ms, const void *payload,
                   size_t size);
#define QH_PAYLOAD_CHECK(member, value)                                                                  \
    _Static_assert(__builtin_types_compatible_p(__typeof__(value), __typeof__(((qtr_event){0}).u.member)), \
                   "the payload is not the type of qtr_event.u." #member)
#define QH_PUBLISH(e, type, flags, time_ms, member, value)                                               \
    do {                                                                                                 \
        QH_PAYLOAD_CHECK(member, value);                                                                 \
        qh_engine_publish((e), (type), (flags), (time_ms), &(value), sizeof ((qtr_event){0}).u.member); \
    } while (0)

#endif
