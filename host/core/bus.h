/*
 * The in-process event bus: typed events, subscription by type and symbol.
 *
 * publish() dispatches at once to the subscribers of the event's type (in
 * subscription order) when the bus is idle. An event published from inside a
 * subscriber is copied into a FIFO ring and dispatched after the current one,
 * so every subscriber sees events in publication order and nothing recurses.
 * The ring grows by doubling when full (rare, amortised); no allocation per
 * event otherwise. Unsubscribing inside a callback is safe.
 */
#ifndef QH_BUS_H
#define QH_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_bus qh_bus;
typedef struct qh_bus_sub qh_bus_sub;

typedef struct qh_bus_stats {
    uint64_t published[QTR_EV__COUNT];
    uint64_t delivered;
    size_t queue_depth, queue_high_water, queue_capacity;
    size_t subscribers;
} qh_bus_stats;

qh_bus *qh_bus_new(void);
void qh_bus_free(qh_bus *bus);

/* symbol NULL or "": every symbol. owner tags the subscription (a plugin). */
qh_bus_sub *qh_bus_subscribe(qh_bus *bus, qtr_event_type type, const char *symbol,
                             qtr_event_cb cb, void *ud, void *owner);
void qh_bus_unsubscribe(qh_bus *bus, qh_bus_sub *sub);
void qh_bus_unsubscribe_owner(qh_bus *bus, void *owner);
/* For handles from plugins: only a live subscription of owner is removed;
 * a stale handle is ignored instead of touching freed memory. */
void qh_bus_unsubscribe_checked(qh_bus *bus, qh_bus_sub *sub, void *owner);

/* QTR_OK, or QTR_EINVAL for an unknown type, QTR_EFULL if the ring cannot grow. */
int qh_bus_publish(qh_bus *bus, const qtr_event *ev);

/* Whether the type has a live subscriber now. */
bool qh_bus_heard(const qh_bus *bus, qtr_event_type type);

/* For a publisher that builds an event only when someone hears it (the
 * engine's equity point on every candle of a backtest without a store):
 * true when the type has no live subscriber now; the event then counts as
 * published and is neither built, delivered nor queued. So an event that
 * no one subscribes to when it is published reaches no one, also when it
 * is published during a dispatch and a subscription comes before its turn. */
bool qh_bus_drop_unheard(qh_bus *bus, qtr_event_type type);

/* True while an event is being delivered (a publish now is queued behind it). */
bool qh_bus_dispatching(const qh_bus *bus);

void qh_bus_stats_get(const qh_bus *bus, qh_bus_stats *out);

#endif
