/* bus.c — see bus.h. */
#include "core/bus.h"

#include "qc/hash.h"

#include <stdlib.h>
#include <string.h>

#define QH_BUS_RING_INITIAL 1024
#define QH_BUS_RING_MAX (1u << 20)   /* about 650 MB: a runaway loop, not load */

struct qh_bus_sub {
    qtr_event_type type;
    bool dead;
    uint32_t symbol_hash;           /* 0: any symbol */
    char symbol[QTR_SYMBOL_MAX];
    qtr_event_cb cb;
    void *ud, *owner;
};

typedef struct sub_list {
    qh_bus_sub **items;
    size_t len, cap;
} sub_list;

struct qh_bus {
    sub_list subs[QTR_EV__COUNT];
    qtr_event *ring;
    size_t ring_cap, head, count, high_water;
    int depth;                      /* > 0 while dispatching */
    bool has_dead;
    uint64_t published[QTR_EV__COUNT];
    uint64_t delivered;
};

/* The project's one string hash (common/include/qc/hash.h); never 0. */
static uint32_t symbol_hash(const char *s) { return qc_hash_nonzero(s); }

qh_bus *qh_bus_new(void)
{
    qh_bus *bus = calloc(1, sizeof *bus);
    if (!bus) return NULL;
    bus->ring = malloc(QH_BUS_RING_INITIAL * sizeof *bus->ring);
    if (!bus->ring) { free(bus); return NULL; }
    bus->ring_cap = QH_BUS_RING_INITIAL;
    return bus;
}

void qh_bus_free(qh_bus *bus)
{
    if (!bus) return;
    for (int t = 0; t < QTR_EV__COUNT; t++) {
        for (size_t i = 0; i < bus->subs[t].len; i++) free(bus->subs[t].items[i]);
        free(bus->subs[t].items);
    }
    free(bus->ring);
    free(bus);
}

qh_bus_sub *qh_bus_subscribe(qh_bus *bus, qtr_event_type type, const char *symbol,
                             qtr_event_cb cb, void *ud, void *owner)
{
    if (!cb || type <= QTR_EV_NONE || type >= QTR_EV__COUNT) return NULL;
    if (symbol && strlen(symbol) >= QTR_SYMBOL_MAX) return NULL;
    sub_list *l = &bus->subs[type];
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        qh_bus_sub **n = realloc(l->items, ncap * sizeof *n);
        if (!n) return NULL;
        l->items = n;
        l->cap = ncap;
    }
    qh_bus_sub *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->type = type;
    s->cb = cb;
    s->ud = ud;
    s->owner = owner;
    if (symbol && symbol[0]) {
        qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
        s->symbol_hash = symbol_hash(symbol);
    }
    l->items[l->len++] = s;
    return s;
}

static void compact(qh_bus *bus)
{
    if (bus->depth || !bus->has_dead) return;
    for (int t = 0; t < QTR_EV__COUNT; t++) {
        sub_list *l = &bus->subs[t];
        size_t w = 0;
        for (size_t r = 0; r < l->len; r++) {
            if (l->items[r]->dead) free(l->items[r]);
            else l->items[w++] = l->items[r];
        }
        l->len = w;
    }
    bus->has_dead = false;
}

void qh_bus_unsubscribe(qh_bus *bus, qh_bus_sub *sub)
{
    if (!sub) return;
    sub->dead = true;
    bus->has_dead = true;
    compact(bus);
}

void qh_bus_unsubscribe_checked(qh_bus *bus, qh_bus_sub *sub, void *owner)
{
    for (int t = 0; t < QTR_EV__COUNT; t++)
        for (size_t i = 0; i < bus->subs[t].len; i++)
            if (bus->subs[t].items[i] == sub && sub->owner == owner && !sub->dead) {
                qh_bus_unsubscribe(bus, sub);
                return;
            }
}

void qh_bus_unsubscribe_owner(qh_bus *bus, void *owner)
{
    for (int t = 0; t < QTR_EV__COUNT; t++)
        for (size_t i = 0; i < bus->subs[t].len; i++)
            if (bus->subs[t].items[i]->owner == owner) {
                bus->subs[t].items[i]->dead = true;
                bus->has_dead = true;
            }
    compact(bus);
}

static void deliver(qh_bus *bus, const qtr_event *ev)
{
    sub_list *l = &bus->subs[ev->type];
    size_t n = l->len;              /* subscribers added during dispatch wait for the next event */
    if (!n) return;
    const char *sym = qtr_event_symbol(ev);
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++) {
        qh_bus_sub *s = l->items[i];
        if (s->dead) continue;
        if (s->symbol_hash) {
            if (!sym) continue;
            if (!h) h = symbol_hash(sym);
            if (h != s->symbol_hash || strcmp(sym, s->symbol) != 0) continue;
        }
        s->cb(s->ud, ev);
        bus->delivered++;
    }
}

static int ring_push(qh_bus *bus, const qtr_event *ev)
{
    if (bus->count == bus->ring_cap) {
        if (bus->ring_cap >= QH_BUS_RING_MAX) return QTR_EFULL;
        size_t ncap = bus->ring_cap * 2;
        qtr_event *n = malloc(ncap * sizeof *n);
        if (!n) return QTR_EFULL;
        for (size_t i = 0; i < bus->count; i++) n[i] = bus->ring[(bus->head + i) % bus->ring_cap];
        free(bus->ring);
        bus->ring = n;
        bus->ring_cap = ncap;
        bus->head = 0;
    }
    bus->ring[(bus->head + bus->count) % bus->ring_cap] = *ev;
    bus->count++;
    if (bus->count > bus->high_water) bus->high_water = bus->count;
    return QTR_OK;
}

int qh_bus_publish(qh_bus *bus, const qtr_event *ev)
{
    if (!ev || ev->type <= QTR_EV_NONE || ev->type >= QTR_EV__COUNT) return QTR_EINVAL;
    bus->published[ev->type]++;
    if (bus->depth) return ring_push(bus, ev);
    bus->depth++;
    deliver(bus, ev);
    while (bus->count) {
        qtr_event cur = bus->ring[bus->head];   /* copy: a callback may grow the ring */
        bus->head = (bus->head + 1) % bus->ring_cap;
        bus->count--;
        deliver(bus, &cur);
    }
    bus->depth--;
    compact(bus);
    return QTR_OK;
}

void qh_bus_stats_get(const qh_bus *bus, qh_bus_stats *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->published, bus->published, sizeof out->published);
    out->delivered = bus->delivered;
    out->queue_depth = bus->count;
    out->queue_high_water = bus->high_water;
    out->queue_capacity = bus->ring_cap;
    for (int t = 0; t < QTR_EV__COUNT; t++) out->subscribers += bus->subs[t].len;
}
