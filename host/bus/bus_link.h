/*
 * The engine's side of the Redis bus (docs/bus.md): what a live server with
 * a `bus` section does according to its role.
 *
 *  - every role mirrors the types in bus.mirror from its local bus to Redis;
 *  - a strategy host sends its strategies' signals to Redis instead of its
 *    own queue (refused with QTR_EFULL, not lost, when neither Redis nor the
 *    disk buffer can take them);
 *  - the types in bus.consume come in through the consumer group: a signal
 *    enters the same pipeline entry as a local one (queue, ESS, risk plugin;
 *    no shortcut), through qh_pipeline_submit_remote_signal, which refuses
 *    at once what the order path would refuse as invalid and logs each
 *    signal refused as invalid with its host, number and entry; anything
 *    else is published on the local bus (candles for a strategy host, the
 *    order flow for an observer);
 *  - a full disk buffer raises a CRITICAL alert and, on an execution host,
 *    trips the ESS (fills and order updates are not optional).
 *
 * Hooks: engine.c opens and closes it, health.c lists `bus_redis`,
 * pipeline.c asks qh_bus_link_signal_out first. A backtest never opens it.
 */
#ifndef QH_BUS_LINK_H
#define QH_BUS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

typedef struct qh_engine qh_engine;
typedef struct qh_bus_link qh_bus_link;

/* 0 (also without a bus section: nothing to do), or 2 with one line in err:
 * a role without its plugins, an unresolvable Redis host, a corrupt buffer. */
int qh_bus_link_open(qh_engine *e, char *err, size_t errlen);
void qh_bus_link_close(qh_engine *e);

/* The exchange plugins a role needs (engine.c asks before loading them):
 * role "all", "execution" and any backtest exactly one; a strategy host
 * (its signals go to Redis) none or one; an observer (a read-only replica)
 * none. A host without one sends no order: the pipeline refuses any with
 * "no_exchange". 0, or 2 with one line naming the key. */
struct qh_config;
int qh_bus_link_check_exchange(const struct qh_config *cfg, bool backtest, char *err, size_t errlen);

/* Where the disk buffer and the sequence file of this config live:
 * bus.buffer.path ("" -> <state_dir>/bus.buf; "<state_dir>/..." under
 * state_dir; else from the config's folder) and <state_dir>/bus.seq. */
void qh_bus_link_paths(const struct qh_config *cfg, char *buf, size_t bufcap, char *seq, size_t seqcap);

/* A strategy host: true, the signal went to Redis (or was refused: *rc). */
bool qh_bus_link_signal_out(qh_engine *e, const char *origin, const qtr_signal *s, int *rc);

/* Appends the `bus_redis` component when the bus is open. */
void qh_bus_link_health(qh_engine *e, qtr_component_health *out, size_t cap, size_t *n);

#endif
