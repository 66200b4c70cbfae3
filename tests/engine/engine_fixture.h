/* The engine tests' fixture: a real engine (host/engine) over a config
 * written in the test, with the fixture plugins of fixtures/ loaded through
 * the real loader, in a scratch state directory, logging to a file the test
 * can read back. */
#ifndef ENGINE_TEST_FIXTURE_H
#define ENGINE_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine/engine_internal.h"
#include "exchange_rec.h"

typedef struct efx {
    char dir[64];               /* state_dir: ESS state file, trade store */
    char log_path[96];
    FILE *log;
    qh_config cfg;
    struct event_base *base;    /* live engines; never dispatched */
    qh_engine *e;
} efx;

/* A live engine (paper mode, trade store in a fresh state directory) with
 * the exchange "rec", the risk plugin "approve", the strategy "quiet" and
 * the dashboard "panel", loaded but not started. */
efx *efx_new(void);
/* The same with more top-level keys of the config (Lua, each ending in a
 * comma: "host_id = 'x', bus = { ... },"). */
efx *efx_new_with(const char *extra);
/* Another engine on the same state directory (a restart): the old one must
 * have been stopped with efx_stop_engine. before_load (may be NULL) runs after
 * the engine is created and before it loads (restores) from the store. */
void efx_restart(efx *f, void (*before_load)(qh_engine *e, void *ud), void *ud);
void efx_stop_engine(efx *f);
void efx_free(efx *f);

qh_plugin_rt *efx_plugin(efx *f, const char *name);
fx_exchange *efx_exchange(efx *f);
/* Publish through a plugin's context, as that plugin would. */
int efx_publish(efx *f, qh_plugin_rt *p, const qtr_event *ev);

/* Events of one type seen on the bus, from the moment of the call. */
typedef struct efx_seen {
    qtr_event *items;
    size_t n, cap;
} efx_seen;
void efx_watch(qh_engine *e, qtr_event_type type, efx_seen *out);
void efx_seen_free(efx_seen *s);

/* How many log lines so far contain `needle`. */
size_t efx_log_count(const efx *f, const char *needle);
/* The same in any text file. */
size_t efx_file_count(const char *path, const char *needle);

/* A fill from the exchange: qty > 0 buys, < 0 sells, at `price` (units). */
qtr_event efx_fill(const char *symbol, const char *fill_id, qtr_dec qty, qtr_dec price);

/* A market buy of 1 on symbol, confidence 1. */
qtr_order_intent efx_market_buy(const char *symbol);
/* A candle at `price` from the exchange: the symbol has a price the
 * risk checks can value an order at. */
void efx_price(efx *f, const char *symbol, qtr_dec price);
/* A policy that allows every order at any confidence (for tests about the
 * signal queue and intake, not the policy), and BTCUSDT priced at 100. */
void efx_open_policy_and_price(efx *f);

/* The value of one series in the engine's Prometheus text, e.g.
 * "qtr_plugin_events_refused_total{plugin=\"quiet\"}"; -1 if absent. */
long long efx_metric(efx *f, const char *series);

#endif
