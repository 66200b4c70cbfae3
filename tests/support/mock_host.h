/*
 * mock_host — a qtr_host for testing one plugin in isolation.
 *
 * It implements every host service simply and records what the plugin did:
 * published events, signals, orders, metrics and log lines. The clock is
 * simulated (mock_host_advance() moves it and fires due timers) unless
 * created with real_time, in which case timers run on its libevent base and
 * mock_host_run_for() drives the loop for a bounded time.
 *
 * What the real host enforces, the mock enforces with the same compiled code
 * (host/core): mock_plugin_load() checks the plugin with the host's loader
 * (ABI version, build signature, mandatory callbacks), publish() applies
 * the host's publish rule, and the services a plugin must declare in its
 * needs (get_regime, REGIME events, a regime exit plan) are refused as the
 * host refuses them (core/plugin_needs.h), so a plugin that passes its
 * tests here is not refused live.
 */
#ifndef QTR_MOCK_HOST_H
#define QTR_MOCK_HOST_H

#include <qtr/plugin.h>

#include "policy/policy.h"

#define MOCK_MAX_EVENTS 65536
#define MOCK_MAX_OPTIONS 64
#define MOCK_MAX_METRICS 256
#define MOCK_MAX_SIGNALS 8192
#define MOCK_MAX_ORDERS 8192

typedef struct mock_metric {
    char name[96];
    char label[96];
    int64_t count;
    double value;
    bool gauge;
} mock_metric;

typedef struct mock_host mock_host;


struct mock_host {
    qtr_host api;                   /* hand &api to the plugin               */
    struct event_base *base;
    bool real_time;
    int64_t now_ms;                 /* simulated clock                        */

    /* What the plugin did. */
    qtr_event *events;              /* every published event, in order        */
    size_t n_events;
    qtr_signal *signals;
    size_t n_signals;
    qtr_order_intent *orders;
    size_t n_orders;
    mock_metric metrics[MOCK_MAX_METRICS];
    size_t n_metrics;
    char last_log[512];
    int n_logs_error, n_logs_warn;
    int n_logs;                     /* lines written, every level            */
    int n_log_calls;                /* log() calls, written or not           */
    /* The lowest level written (DEBUG: all), as the host's --log-level:
     * log() below it writes nothing and log_enabled() says false. */
    qtr_log_level log_level;
    int n_publish_refused;          /* publish() calls the host's rule refused */
    /* services refused to a plugin that did not declare their QTR_NEEDS_
     * bit (the host's rule, core/plugin_needs.h); the bits already logged */
    int n_needs_refused;
    uint32_t needs_refusal_logged;
    /* An exchange plugin under test is the active exchange (the one the host
     * trades on) unless the test sets this: then it may publish alerts only. */
    bool exchange_not_active;
    qtr_health health;              /* last set_health()                      */

    /* What the test sets up. */
    struct { char name[64]; char value[512]; char path[1024]; } options[MOCK_MAX_OPTIONS];
    /* The folder a config file would be in: QTR_OPT_PATH options are
     * handed over relative to it, as the host does ("": the working
     * directory, as with the built-in config). mock_host_set_config_dir(). */
    char config_dir[512];
    size_t n_options;
    qtr_account account;
    qtr_position positions[64];
    size_t n_positions;
    /* orders open or in flight per symbol, for get_exposure (pending_buy,
     * pending_sell and pending_orders are read; the rest is computed) */
    qtr_exposure pending[16];
    size_t n_pending;
    /* the policy policy_info and policy_describe report (the host's own
     * struct and JSON writer: host/policy/policy_describe.c) */
    qh_policy_rules limits;
    bool has_limits;
    qtr_ess_status ess;
    int submit_order_result;        /* what submit_order returns (QTR_OK)    */
    int submit_signal_result;
    qtr_book_top books[16];
    size_t n_books;
    qtr_mark_price marks[16];
    size_t n_marks;
    qtr_candle last_candles[16];
    size_t n_last_candles;
    qtr_regime_event regimes[16];   /* what get_regime answers, by symbol */
    size_t n_regimes;

    /* Exit plans set_exit_plan accepted (checked by the host's own rules,
     * host/exits/exit_plan_check.c), by symbol; clear_exit_plan removes. */
    struct { char symbol[QTR_SYMBOL_MAX]; qtr_exit_plan plan; } exit_plans[16];
    size_t n_exit_plans;

    /* Internal. */
    struct mock_sub *subs;
    struct mock_timer *timers;
    int dispatch_depth;
    size_t dispatch_next;           /* next event index to dispatch          */
    uint64_t order_seq;
    qtr_ctx *ctx;                   /* the one plugin context                */
};

mock_host *mock_host_new(bool real_time);
void mock_host_free(mock_host *m);

/* Option text as it would come from config ("0.001", "true", "a,b,c" for a list). */
void mock_host_set_option(mock_host *m, const char *name, const char *value);

/* Simulated clock: move forward and fire due timers, in time order. */
void mock_host_advance(mock_host *m, int64_t ms);
/* Real-time mode: run the libevent loop for at most ms milliseconds. */
void mock_host_run_for(mock_host *m, int64_t ms);
/* Real-time mode: run until pred(ud) is true or ms pass; returns pred's value. */
bool mock_host_run_until(mock_host *m, int64_t ms, bool (*pred)(void *ud), void *ud);

/* Publish an event as the host would (e.g. a candle for the plugin). */
void mock_host_publish(mock_host *m, const qtr_event *ev);
void mock_host_publish_candle(mock_host *m, const char *symbol, int64_t open_time_ms,
                              const char *open, const char *high, const char *low,
                              const char *close, const char *volume);

/* Counting helpers for assertions. */
size_t mock_host_count_events(const mock_host *m, qtr_event_type type);
const qtr_event *mock_host_last_event(const mock_host *m, qtr_event_type type);
int64_t mock_host_metric(const mock_host *m, const char *name, const char *label_value);
/* A gauge's last value; -1 if it was never registered. */
double mock_host_gauge(const mock_host *m, const char *name, const char *label_value);

/* Load a plugin .so through the host's loader (its checks and its one-line
 * refusal) and run init + start with this host: 0, or -1 with the reason in
 * m->last_log. mock_plugin_unload() runs stop + destroy. */
struct qh_loaded;
typedef struct mock_plugin {
    void *dl;
    const qtr_plugin_desc *desc;      /* the loader's checked copy            */
    void *state;
    struct qh_loaded *ld;
} mock_plugin;
int mock_plugin_load(mock_host *m, const char *so_path, mock_plugin *out);
/* The host's check of the options set with mock_host_set_option against the
 * plugin's declaration (mock_options.c); mock_plugin_load() runs it before
 * init(). 0, or -1 with the host's one-line refusal in err. */
void mock_host_set_config_dir(mock_host *m, const char *dir);
int mock_host_check_options(const mock_host *m, const qtr_plugin_desc *desc, char *err, size_t errlen);
void mock_plugin_unload(mock_host *m, mock_plugin *p);
/* What the host does on SIGHUP or a reload request for a strategy: call its
 * optional qtr_strategy_ops.reload. false if the plugin has none. */
bool mock_plugin_reload(mock_host *m, mock_plugin *p);
/* What `qtr symbols fetch` does with the exchange plugin: call its optional
 * qtr_exchange_ops.fetch_rules (host/engine/exchange_rules.c). QTR_ENOTSUP
 * when it has none (or is no exchange), else what the plugin returned. */
int mock_plugin_fetch_rules(mock_host *m, mock_plugin *p, qtr_rules_cb cb, void *ud);

/* Path of a built plugin: $QTR_PLUGIN_DIR/<name>.so (or build/plugins). */
const char *mock_plugin_path(const char *name);

/* A decimal from text, failing the test on bad input. */
qtr_dec D(const char *text);

/* For a test's own host services: fill a plugin's list as the host does
 * (its item size, its room). Returns how many items were written. */
size_t mock_list_fill(qtr_list *l, const void *items, size_t n, size_t item_size);

#endif
