/*
 * The engine: one trading server instance. It owns the clock, the bus, the
 * portfolio, the policy engine, the ESS, the signal queue and the plugins,
 * and runs the order path:
 *
 *   strategy signal -> bounded signal queue -> order intent -> ESS -> the
 *   policy (host) -> risk plugins (refuse or shrink only) -> exchange plugin
 *   -> order updates and fills on the bus -> portfolio -> ESS checks on the
 *   new equity. docs/architecture.md follows a candle along it.
 *
 * No order reaches an exchange without the ESS allowing it and the policy
 * approving it (the ESS's own reduce-only flattening orders are the one
 * exception: a risk rule must never keep an emergency stop from closing).
 *
 * Live, timers on the libevent loop drive the market source, the signal
 * cycle, the ESS, the policy's reload (its own timer) and the loop-lag probe
 * (which only measures). In a backtest the caller feeds candles with
 * qh_engine_feed_candle on a simulated clock.
 */
#ifndef QH_ENGINE_H
#define QH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

#include "core/config.h"

struct event_base;
typedef struct qh_engine qh_engine;

/* Optional callbacks for whoever drives the engine (the backtest report). */
typedef struct qh_engine_observer {
    void *ud;
    void (*on_candle)(void *ud, const qtr_candle *c);
    void (*on_fill)(void *ud, const qtr_fill *f, const qtr_position *before, const qtr_position *after);
    void (*on_account)(void *ud, const qtr_account *a);
} qh_engine_observer;

/* base NULL: backtest (simulated clock from start_ms, no persistence, no
 * dashboards). The engine keeps a pointer to cfg. */
qh_engine *qh_engine_new(qh_config *cfg, struct event_base *base, int64_t start_ms, char *err, size_t errlen);
void qh_engine_set_observer(qh_engine *e, const qh_engine_observer *obs);

/* Load the policy and the configured plugins, and init them. Returns 0, or
 * 2 when the configuration or a required plugin is refused (err says why). */
int qh_engine_load(qh_engine *e, char *err, size_t errlen);
/* Start plugins and (live) the timers. */
int qh_engine_start(qh_engine *e, char *err, size_t errlen);
/* Stop: strategies first, then the order path, then everything else. */
void qh_engine_stop(qh_engine *e);
void qh_engine_free(qh_engine *e);

/* Backtest: advance the clock to the candle's close, publish it, run the
 * signal cycle. */
void qh_engine_feed_candle(qh_engine *e, const qtr_candle *c);

/* Settle one funding payment on a symbol's position at its current mark
 * (payment = -qty * mark * rate): the backtest's funding file, and mark
 * price events whose funding time has passed. 0, or -1 if it could not. */
int qh_engine_apply_funding(qh_engine *e, const char *symbol, qtr_dec rate, int64_t time_ms);

/* SIGHUP and the API: reload the policy now, then the strategies that
 * re-read files of their own (qh_engine_reload_plugins, plugin_reload.c). */
int qh_engine_reload_policy(qh_engine *e, char *err, size_t errlen);
void qh_engine_reload_plugins(qh_engine *e);

/* Every component's health: the host's own (bus, loop, ESS, policy) and
 * each plugin's. Returns how many were written. */
size_t qh_engine_health(qh_engine *e, qtr_component_health *out, size_t cap);
/* The Prometheus text of every metric, the host's and the plugins'. */
void qh_engine_metrics_write(qh_engine *e, qtr_write_cb write, void *ud);

const qtr_host *qh_engine_host_api(qh_engine *e);
qtr_ctx *qh_engine_host_ctx(qh_engine *e);
void qh_engine_account(qh_engine *e, qtr_account *out);

#endif
