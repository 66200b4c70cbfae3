/* bus.c — see bus.h. */
#include "core/bus.h"

#include "qc/bytes_eq.h"
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

/* The subscribers an event of one symbol reaches (the type's catch-all
 * subscriptions and that symbol's), in subscription order: built on the
 * symbol's first event, so delivering it walks those alone instead of every
 * symbol's subscription (a strategy of 50 symbols holds 50). They stay valid
 * while dispatching: the list only grows there (compact(), which frees
 * subscriptions, runs idle and marks the routes stale), and a route built
 * before a subscription ends before it, as deliver() did with the list's
 * length. */
typedef struct route {
    uint32_t hash;                  /* 0: empty slot */
    char symbol[QTR_SYMBOL_MAX];
    uint32_t len;                   /* strlen(symbol) */
    uint32_t n;
    qh_bus_sub **subs;
    uint32_t after;                 /* the slot + 1 of the route delivered after this one last time; 0: none */
} route;

#define QH_BUS_ROUTES_MAX 4096      /* symbols routed a type; past it, the walk */

typedef struct sub_list {
    qh_bus_sub **items;
    size_t len, cap;
    size_t n_filtered;              /* subscriptions to one symbol (live or dead) */
    route *routes;                  /* open addressing, a power of two, at most half full */
    size_t routes_cap, routes_len;
    bool routes_stale;              /* the list changed: routes cleared on the next delivery */
    uint32_t last;                  /* the slot + 1 of the route delivered last; 0: none */
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

static void routes_clear(sub_list *l)
{
    for (size_t i = 0; i < l->routes_cap; i++) free(l->routes[i].subs);
    free(l->routes);
    l->routes = NULL;
    l->routes_cap = l->routes_len = 0;
    l->routes_stale = false;
    l->last = 0;
}

void qh_bus_free(qh_bus *bus)
{
    if (!bus) return;
    for (int t = 0; t < QTR_EV__COUNT; t++) {
        for (size_t i = 0; i < bus->subs[t].len; i++) free(bus->subs[t].items[i]);
        free(bus->subs[t].items);
        routes_clear(&bus->subs[t]);
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
        l->n_filtered++;
    }
    l->items[l->len++] = s;
    l->routes_stale = true;
    return s;
}

static void compact(qh_bus *bus)
{
    if (bus->depth || !bus->has_dead) return;
    for (int t = 0; t < QTR_EV__COUNT; t++) {
        sub_list *l = &bus->subs[t];
        size_t w = 0;
        for (size_t r = 0; r < l->len; r++) {
            if (!l->items[r]->dead) {
                l->items[w++] = l->items[r];
                continue;
            }
            if (l->items[r]->symbol_hash) l->n_filtered--;
            free(l->items[r]);
        }
        if (w != l->len) l->routes_stale = true;   /* indices moved */
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

static bool sub_matches(const qh_bus_sub *s, const char *sym, uint32_t h)
{
    return !s->symbol_hash || (sym && h == s->symbol_hash && strcmp(sym, s->symbol) == 0);
}

/* Double the route table (or make its first); false if memory is short. */
static bool routes_grow(sub_list *l)
{
    size_t ncap = l->routes_cap ? l->routes_cap * 2 : 64;
    route *n = calloc(ncap, sizeof *n);
    if (!n) return false;
    for (size_t i = 0; i < l->routes_cap; i++) {
        if (!l->routes[i].hash) continue;
        size_t j = l->routes[i].hash & (ncap - 1);
        while (n[j].hash) j = (j + 1) & (ncap - 1);
        n[j] = l->routes[i];
        n[j].after = 0;             /* slots moved */
    }
    l->last = 0;
    free(l->routes);
    l->routes = n;
    l->routes_cap = ncap;
    return true;
}

/* An event's symbol (a char field of QTR_SYMBOL_MAX bytes, the first of its
 * payload) is the route's: their first len + 1 bytes, the NUL included, are
 * equal. Unlike strcmp, its cost does not depend on where the two lie. */
static bool route_is(const route *r, const char *sym) { return qc_bytes_eq(r->symbol, sym, (size_t)r->len + 1); }

/* The route of symbol sym (hash h) over the list's first n subscriptions,
 * built on first use; NULL when it cannot be kept (a symbol not terminated
 * within QTR_SYMBOL_MAX, the table full, no memory): then the walk. */
static const route *route_for(sub_list *l, const char *sym, uint32_t h, size_t n)
{
    if (l->routes_stale) routes_clear(l);
    if (l->routes_cap) {
        for (size_t i = h & (l->routes_cap - 1); l->routes[i].hash; i = (i + 1) & (l->routes_cap - 1))
            if (l->routes[i].hash == h && route_is(&l->routes[i], sym)) return &l->routes[i];
    }
    if (l->routes_len >= QH_BUS_ROUTES_MAX || n > UINT32_MAX || !memchr(sym, '\0', QTR_SYMBOL_MAX)) return NULL;
    if ((l->routes_len + 1) * 2 > l->routes_cap && !routes_grow(l)) return NULL;
    qh_bus_sub **subs = malloc((n ? n : 1) * sizeof *subs);
    if (!subs) return NULL;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (sub_matches(l->items[i], sym, h)) subs[k++] = l->items[i];
    size_t j = h & (l->routes_cap - 1);
    while (l->routes[j].hash) j = (j + 1) & (l->routes_cap - 1);
    route *r = &l->routes[j];
    r->hash = h;
    qtr_strlcpy(r->symbol, sym, sizeof r->symbol);
    r->len = (uint32_t)strlen(r->symbol);
    r->n = k;
    r->subs = subs;
    r->after = 0;
    l->routes_len++;
    return r;
}

/* Symbols come round in the same order (a backtest's candles: by open time,
 * then symbol; one symbol repeats itself): the route delivered after the
 * last one the previous time is likely the one now. A full compare decides,
 * before the symbol is hashed; NULL on a miss. */
static const route *route_guess(const sub_list *l, const char *sym)
{
    if (l->routes_stale || !l->last) return NULL;
    uint32_t g = l->routes[l->last - 1].after;
    return g && route_is(&l->routes[g - 1], sym) ? &l->routes[g - 1] : NULL;
}

/* r (NULL: none) is the route delivered now: learn it as the one after the last. */
static void route_delivered(sub_list *l, const route *r)
{
    uint32_t slot = r ? (uint32_t)(r - l->routes) + 1 : 0;
    if (slot && l->last) l->routes[l->last - 1].after = slot;
    l->last = slot;
}

static void deliver(qh_bus *bus, const qtr_event *ev)
{
    sub_list *l = &bus->subs[ev->type];
    size_t n = l->len;              /* subscribers added during dispatch wait for the next event */
    if (!n) return;
    const char *sym = qtr_event_symbol(ev);
    bool routed = sym && l->n_filtered;
    const route *r = routed ? route_guess(l, sym) : NULL;
    uint32_t h = 0;
    if (routed && !r) {
        h = symbol_hash(sym);
        r = route_for(l, sym, h, n);
    }
    if (routed) route_delivered(l, r);
    if (r) {
        for (uint32_t k = 0; k < r->n; k++) {
            qh_bus_sub *s = r->subs[k];
            if (s->dead) continue;
            s->cb(s->ud, ev);
            bus->delivered++;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        qh_bus_sub *s = l->items[i];
        if (s->dead || !sub_matches(s, sym, h)) continue;
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

/* a known type: inlined into drop_unheard, which asks it on every candle */
static inline bool heard(const qh_bus *bus, qtr_event_type type)
{
    const sub_list *l = &bus->subs[type];
    for (size_t i = 0; i < l->len; i++)
        if (!l->items[i]->dead) return true;
    return false;
}

bool qh_bus_heard(const qh_bus *bus, qtr_event_type type)
{
    return type > QTR_EV_NONE && type < QTR_EV__COUNT && heard(bus, type);
}

bool qh_bus_drop_unheard(qh_bus *bus, qtr_event_type type)
{
    if (type <= QTR_EV_NONE || type >= QTR_EV__COUNT || heard(bus, type)) return false;
    bus->published[type]++;
    return true;
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

bool qh_bus_dispatching(const qh_bus *bus) { return bus->depth > 0; }

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
