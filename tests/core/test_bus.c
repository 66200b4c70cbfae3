/* The bus: delivery by type and symbol, order, re-entrancy, unsubscribe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bus.h"
#include "qc/hash.h"

typedef struct rec {
    int n;
    char log[64][32];
    qh_bus *bus;
    qh_bus_sub *self;
} rec;

static qtr_event candle(const char *sym, int64_t t)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_strlcpy(ev.u.candle.symbol, sym, sizeof ev.u.candle.symbol);
    ev.u.candle.open_time_ms = t;
    return ev;
}

static void note(rec *r, const char *who, const qtr_event *ev)
{
    if (r->n < 64)
        snprintf(r->log[r->n++], 32, "%s:%s:%lld", who, qtr_event_type_name(ev->type),
                 (long long)(ev->type == QTR_EV_CANDLE ? ev->u.candle.open_time_ms : ev->time_ms));
}

static void cb_a(void *ud, const qtr_event *ev) { note(ud, "a", ev); }
static void cb_b(void *ud, const qtr_event *ev) { note(ud, "b", ev); }

static void delivers_by_type_and_symbol(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL));
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, "ETHUSDT", cb_b, &r, NULL));
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_b, &r, NULL));
    qtr_event e1 = candle("BTCUSDT", 1), e2 = candle("ETHUSDT", 2);
    assert_int_equal(qh_bus_publish(bus, &e1), QTR_OK);
    assert_int_equal(qh_bus_publish(bus, &e2), QTR_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "a:candle:1");
    assert_string_equal(r.log[1], "a:candle:2");
    assert_string_equal(r.log[2], "b:candle:2");
    qh_bus_free(bus);
}

static void refuses_bad_types(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV__COUNT;
    assert_int_equal(qh_bus_publish(bus, &ev), QTR_EINVAL);
    ev.type = QTR_EV_NONE;
    assert_int_equal(qh_bus_publish(bus, &ev), QTR_EINVAL);
    assert_null(qh_bus_subscribe(bus, QTR_EV__COUNT, NULL, cb_a, &r, NULL));
    assert_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, "A_SYMBOL_FAR_TOO_LONG_FOR_ANY", cb_a, &r, NULL));
    qh_bus_free(bus);
}

/* A subscriber that publishes: the nested event waits until every
 * subscriber has seen the current one (publication order everywhere). */
static void republish(void *ud, const qtr_event *ev)
{
    rec *r = ud;
    note(r, "re", ev);
    if (ev->type == QTR_EV_CANDLE) {
        qtr_event f;
        memset(&f, 0, sizeof f);
        f.type = QTR_EV_FILL;
        f.time_ms = 77;
        qh_bus_publish(r->bus, &f);
    }
}

static void nested_publish_is_queued_in_order(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { .bus = bus };
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, republish, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_b, &r, NULL);
    qtr_event e = candle("BTCUSDT", 5);
    qh_bus_publish(bus, &e);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "re:candle:5");
    assert_string_equal(r.log[1], "a:candle:5");   /* before the fill */
    assert_string_equal(r.log[2], "b:fill:77");
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.queue_depth, 0);
    assert_int_equal(st.queue_high_water, 1);
    qh_bus_free(bus);
}

static void unsub_self(void *ud, const qtr_event *ev)
{
    rec *r = ud;
    note(r, "once", ev);
    qh_bus_unsubscribe(r->bus, r->self);
}

static void unsubscribe_inside_callback(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { .bus = bus };
    r.self = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, unsub_self, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL);
    qtr_event e1 = candle("X1", 1), e2 = candle("X1", 2);
    qh_bus_publish(bus, &e1);
    qh_bus_publish(bus, &e2);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "once:candle:1");
    assert_string_equal(r.log[1], "a:candle:1");
    assert_string_equal(r.log[2], "a:candle:2");
    qh_bus_free(bus);
}

static void unsubscribe_by_owner(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    int owner1, owner2;
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, &owner1);
    qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_a, &r, &owner1);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_b, &r, &owner2);
    qh_bus_unsubscribe_owner(bus, &owner1);
    qtr_event e = candle("X1", 9);
    qh_bus_publish(bus, &e);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.log[0], "b:candle:9");
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.subscribers, 1);
    qh_bus_free(bus);
}

/* A plugin's stale handle (its subscription freed when it was unloaded)
 * must not reach a subscription that now lives at the same address. */
static void stale_handle_is_ignored(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    int old_owner, new_owner;
    qh_bus_sub *stale = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, &old_owner);
    qh_bus_unsubscribe_owner(bus, &old_owner);          /* freed here */
    qh_bus_sub *fresh = NULL;
    for (int i = 0; i < 64 && fresh != stale; i++)      /* malloc hands the block back soon */
        fresh = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_b, &r, &new_owner);
    qh_bus_unsubscribe_checked(bus, stale, &old_owner);  /* a late call with the old handle */
    qtr_event e = candle("X1", 3);
    qh_bus_publish(bus, &e);
    assert_true(r.n >= 1);                               /* the new owner's subscriptions still deliver */
    for (int i = 0; i < r.n; i++) assert_string_equal(r.log[i], "b:candle:3");
    /* the owner itself can still remove its live subscription */
    qh_bus_unsubscribe_checked(bus, fresh, &new_owner);
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.subscribers, (size_t)r.n - 1);
    qh_bus_free(bus);
}

/* A flood published from inside a callback grows the ring; nothing lost. */
typedef struct flood { qh_bus *bus; int published, seen; int64_t last; bool in_order; } flood;
static void flood_source(void *ud, const qtr_event *ev)
{
    (void)ev;
    flood *f = ud;
    for (int i = 0; i < 5000; i++) {
        qtr_event x;
        memset(&x, 0, sizeof x);
        x.type = QTR_EV_TRADE;
        x.time_ms = ++f->published;
        qh_bus_publish(f->bus, &x);
    }
}
static void flood_sink(void *ud, const qtr_event *ev)
{
    flood *f = ud;
    if (ev->time_ms != f->last + 1) f->in_order = false;
    f->last = ev->time_ms;
    f->seen++;
}

static void nested_flood_keeps_everything_in_order(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    flood f = { .bus = bus, .in_order = true };
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, flood_source, &f, NULL);
    qh_bus_subscribe(bus, QTR_EV_TRADE, NULL, flood_sink, &f, NULL);
    qtr_event e = candle("X1", 1);
    qh_bus_publish(bus, &e);
    assert_int_equal(f.seen, 5000);
    assert_true(f.in_order);
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_true(st.queue_capacity >= 5000);
    assert_int_equal(st.published[QTR_EV_TRADE], 5000);
    qh_bus_free(bus);
}

/* ---- routes: a symbol's event walks only its subscribers ---------------- */

/* Who heard what, as "<id>@<symbol>", to compare with a walk of every
 * subscription done here (the reference the routes must equal). */
typedef struct heard {
    int n;
    int id[256];
    char sym[256][QTR_SYMBOL_MAX];
} heard;

typedef struct listener {
    heard *h;
    int id;
    char symbol[QTR_SYMBOL_MAX];   /* "": every symbol */
} listener;

static void cb_listen(void *ud, const qtr_event *ev)
{
    listener *l = ud;
    if (l->h->n >= 256) return;
    l->h->id[l->h->n] = l->id;
    qtr_strlcpy(l->h->sym[l->h->n], ev->u.candle.symbol, QTR_SYMBOL_MAX);
    l->h->n++;
}

/* What a walk of every listener (in subscription order) delivers. */
static void expect_walk(const heard *got, const listener *ls, int n_ls, const char *sym, int from)
{
    int k = from;
    for (int i = 0; i < n_ls; i++) {
        if (ls[i].symbol[0] && strcmp(ls[i].symbol, sym) != 0) continue;
        assert_true(k < got->n);
        assert_int_equal(got->id[k], ls[i].id);
        assert_string_equal(got->sym[k], sym);
        k++;
    }
    assert_int_equal(got->n, k);
}

static void routes_deliver_as_the_walk(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    heard h = { 0 };
    listener ls[44];
    int n_ls = 0;
    /* catch-alls at the start, the middle and the end; two on one symbol */
    for (int i = 0; i < 44; i++) {
        listener *l = &ls[n_ls++];
        l->h = &h;
        l->id = i;
        if (i == 0 || i == 20 || i == 43) l->symbol[0] = '\0';
        else if (i == 30) snprintf(l->symbol, sizeof l->symbol, "S05USDT");
        else snprintf(l->symbol, sizeof l->symbol, "S%02dUSDT", i);
        assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, l->symbol, cb_listen, l, NULL));
    }
    const char *syms[] = { "S05USDT", "S01USDT", "S42USDT", "NOSUBUSDT", "S05USDT", "S01USDT" };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        int from = h.n;
        qtr_event e = candle(syms[i], (int64_t)i);
        assert_int_equal(qh_bus_publish(bus, &e), QTR_OK);
        expect_walk(&h, ls, n_ls, syms[i], from);
        h.n = 0;
    }
    qh_bus_free(bus);
}

/* Delivery guesses the next route from the order symbols came in last time
 * (bus.c, route_guess): whatever the order (round robin, one repeated, a
 * changed order, a name that extends or shortens a routed one, a symbol no
 * one subscribed to, the route table growing between two rounds) each event
 * reaches exactly what the walk of every subscription reaches. */
static void routes_guess_follows_the_order(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    heard h = { 0 };
    listener ls[45];
    int n_ls = 0;
    for (int i = 0; i < 45; i++) {
        listener *l = &ls[n_ls++];
        l->h = &h;
        l->id = i;
        if (i == 0 || i == 44) l->symbol[0] = '\0';
        else snprintf(l->symbol, sizeof l->symbol, "S%02dUSDT", i % 40);
        assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, l->symbol, cb_listen, l, NULL));
    }
    char order[400][QTR_SYMBOL_MAX];
    int n = 0;
    for (int round = 0; round < 3; round++)          /* 5 symbols round robin */
        for (int k = 1; k <= 5; k++) snprintf(order[n++], QTR_SYMBOL_MAX, "S%02dUSDT", k);
    for (int k = 0; k < 4; k++) snprintf(order[n++], QTR_SYMBOL_MAX, "S03USDT");   /* one repeated */
    static const char *const odd[] = { "S05USDT", "S03USDT", "S03USD", "S03USDTX", "NOSUBUSDT",
                                       "S01USDT", "NOSUBUSDT", "S01USDT", "S02USDT" };
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) qtr_strlcpy(order[n++], odd[k], QTR_SYMBOL_MAX);
    for (int round = 0; round < 3; round++)          /* 40 symbols: the table grows in the first round */
        for (int k = 0; k < 40; k++) snprintf(order[n++], QTR_SYMBOL_MAX, "S%02dUSDT", (k * 7 + round) % 40);
    for (int i = 0; i < n; i++) {
        qtr_event e = candle(order[i], i);
        h.n = 0;
        assert_int_equal(qh_bus_publish(bus, &e), QTR_OK);
        expect_walk(&h, ls, n_ls, order[i], 0);
    }
    qh_bus_free(bus);
}

/* Listeners of symbols a and b and one of every symbol; candles of `order`
 * published one by one, each symbol field's bytes after the NUL set to junk
 * (a field as a plugin may leave it): each reaches what the walk reaches. */
static void publish_as_the_walk(const char *a, const char *b, const char *const *order, size_t n, char junk)
{
    qh_bus *bus = qh_bus_new();
    heard h = { 0 };
    listener ls[3] = { { .h = &h, .id = 0 }, { .h = &h, .id = 1 }, { .h = &h, .id = 2 } };
    qtr_strlcpy(ls[0].symbol, a, sizeof ls[0].symbol);
    qtr_strlcpy(ls[1].symbol, b, sizeof ls[1].symbol);
    for (int i = 0; i < 3; i++) assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, ls[i].symbol, cb_listen, &ls[i], NULL));
    for (size_t i = 0; i < n; i++) {
        qtr_event e = candle(order[i], (int64_t)i);
        size_t len = strlen(order[i]);
        memset(e.u.candle.symbol + len + 1, junk, sizeof e.u.candle.symbol - len - 1);
        h.n = 0;
        assert_int_equal(qh_bus_publish(bus, &e), QTR_OK);
        expect_walk(&h, ls, 3, order[i], 0);
    }
    qh_bus_free(bus);
}

/* Two names of one hash (found here among generated ones: FNV-1a 32 has
 * them by the birthday bound) share a probe chain in the route table: the
 * route is told by the name itself, whatever lies after its NUL in the
 * event's symbol field. */
typedef struct named_hash { uint32_t h; char name[12]; } named_hash;

static int by_hash(const void *a, const void *b)
{
    const named_hash *x = a, *y = b;
    return (x->h > y->h) - (x->h < y->h);
}

static void routes_tell_names_of_one_hash_apart(void **s)
{
    (void)s;
    enum { N = 200000 };
    named_hash *t = malloc(N * sizeof *t);
    assert_non_null(t);
    uint64_t x = 0x9e3779b97f4a7c15u;     /* xorshift64*: the same names every run */
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 10; k++) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            t[i].name[k] = (char)('A' + (x * 0x2545f4914f6cdd1du >> 33) % 26);
        }
        t[i].name[10] = '\0';
        t[i].h = qc_hash_nonzero(t[i].name);
    }
    qsort(t, N, sizeof *t, by_hash);
    int at = -1;
    for (int i = 1; i < N && at < 0; i++)
        if (t[i].h == t[i - 1].h) at = i;
    assert_true(at > 0);                  /* 200,000 random names in 2^32 hashes: ~4.6 pairs expected; 4 here */
    char a[QTR_SYMBOL_MAX], b[QTR_SYMBOL_MAX];
    qtr_strlcpy(a, t[at - 1].name, sizeof a);
    qtr_strlcpy(b, t[at].name, sizeof b);
    free(t);
    assert_string_not_equal(a, b);

    const char *order[] = { a, b, b, a, a, b, a };
    publish_as_the_walk(a, b, order, sizeof order / sizeof *order, 'Z');
}

/* The guess (route_guess) compares the whole name: after A the route of
 * S03USDT was delivered, so it is guessed after A again; an event of a name
 * it is a prefix of, or of a prefix of it, is not its. */
static void routes_guess_tells_a_name_from_its_extension(void **s)
{
    (void)s;
    const char *order[] = { "AUSDT", "S03USDT", "AUSDT", "S03USDTX", "AUSDT", "S03USDT", "AUSDT", "S03USD",
                            "AUSDT", "S03USDT", "AUSDT", "S03USDT" };
    publish_as_the_walk("S03USDT", "AUSDT", order, sizeof order / sizeof *order, 'T');
}

/* A subscription made while a symbol's event is delivered hears the next
 * one (its route is rebuilt), not the current one; a removed one is not
 * heard once the list is compacted and the routes' indices moved. */
typedef struct adder {
    qh_bus *bus;
    listener *late;
    bool done;
} adder;

static void cb_add_late(void *ud, const qtr_event *ev)
{
    (void)ev;
    adder *a = ud;
    if (a->done) return;
    a->done = true;
    assert_non_null(qh_bus_subscribe(a->bus, QTR_EV_CANDLE, "BTCUSDT", cb_listen, a->late, NULL));
}

static void routes_follow_subscriptions(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    heard h = { 0 };
    listener a = { .h = &h, .id = 1, .symbol = "BTCUSDT" }, b = { .h = &h, .id = 2, .symbol = "ETHUSDT" },
             late = { .h = &h, .id = 3, .symbol = "BTCUSDT" };
    adder ad = { .bus = bus, .late = &late };
    qh_bus_sub *sa = qh_bus_subscribe(bus, QTR_EV_CANDLE, "BTCUSDT", cb_listen, &a, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, "ETHUSDT", cb_listen, &b, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, "BTCUSDT", cb_add_late, &ad, NULL);
    qtr_event btc = candle("BTCUSDT", 1), eth = candle("ETHUSDT", 2);
    qh_bus_publish(bus, &btc);           /* a hears it; late is subscribed during it */
    assert_int_equal(h.n, 1);
    assert_int_equal(h.id[0], 1);
    qh_bus_publish(bus, &btc);           /* a, then late */
    assert_int_equal(h.n, 3);
    assert_int_equal(h.id[1], 1);
    assert_int_equal(h.id[2], 3);
    qh_bus_unsubscribe(bus, sa);         /* idle: compacted, indices move */
    qh_bus_publish(bus, &btc);
    qh_bus_publish(bus, &eth);
    assert_int_equal(h.n, 5);
    assert_int_equal(h.id[3], 3);
    assert_int_equal(h.id[4], 2);
    qh_bus_free(bus);
}

/* More symbols than the routes keep: the rest are delivered by the walk. */
static void more_symbols_than_routes(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    heard h = { 0 };
    listener all = { .h = &h, .id = 1 }, one = { .h = &h, .id = 2, .symbol = "Z4999" };
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_listen, &all, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, "Z4999", cb_listen, &one, NULL);
    for (int i = 0; i < 5000; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "Z%d", i);
        qtr_event e = candle(sym, i);
        h.n = 0;
        qh_bus_publish(bus, &e);
        assert_int_equal(h.n, i == 4999 ? 2 : 1);
        assert_int_equal(h.id[0], 1);
        if (i == 4999) assert_int_equal(h.id[1], 2);
    }
    qh_bus_free(bus);
}

/* qh_bus_drop_unheard: true (and counted) only while no live subscription
 * of the type exists; one removed inside a callback no longer counts.
 * qh_bus_heard: the same question, answered without counting. */
static void unsub_then_ask(void *ud, const qtr_event *ev)
{
    rec *r = ud;
    note(r, "u", ev);
    qh_bus_unsubscribe(r->bus, r->self);
    assert_true(qh_bus_drop_unheard(r->bus, QTR_EV_CANDLE));
}

static void drop_unheard_counts_and_drops(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { .bus = bus };
    assert_true(qh_bus_drop_unheard(bus, QTR_EV_EQUITY));
    assert_false(qh_bus_drop_unheard(bus, QTR_EV__COUNT));
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.published[QTR_EV_EQUITY], 1);
    assert_int_equal(st.delivered, 0);
    assert_false(qh_bus_heard(bus, QTR_EV_CANDLE));
    r.self = qh_bus_subscribe(bus, QTR_EV_CANDLE, "BTCUSDT", unsub_then_ask, &r, NULL);
    assert_true(qh_bus_heard(bus, QTR_EV_CANDLE));
    assert_false(qh_bus_heard(bus, QTR_EV_EQUITY));
    assert_false(qh_bus_heard(bus, QTR_EV__COUNT));
    assert_false(qh_bus_heard(bus, QTR_EV_NONE));
    assert_false(qh_bus_drop_unheard(bus, QTR_EV_CANDLE));   /* a subscriber to another symbol still hears the type */
    qtr_event e = candle("BTCUSDT", 1);
    qh_bus_publish(bus, &e);
    assert_int_equal(r.n, 1);
    assert_false(qh_bus_heard(bus, QTR_EV_CANDLE));   /* asking does not count: */
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.published[QTR_EV_CANDLE], 2);  /* the publish, the callback's drop */
    assert_true(qh_bus_drop_unheard(bus, QTR_EV_CANDLE));
    qh_bus_free(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_by_type_and_symbol),
        cmocka_unit_test(refuses_bad_types),
        cmocka_unit_test(nested_publish_is_queued_in_order),
        cmocka_unit_test(unsubscribe_inside_callback),
        cmocka_unit_test(unsubscribe_by_owner),
        cmocka_unit_test(nested_flood_keeps_everything_in_order),
        cmocka_unit_test(stale_handle_is_ignored),
        cmocka_unit_test(routes_deliver_as_the_walk),
        cmocka_unit_test(routes_guess_follows_the_order),
        cmocka_unit_test(routes_tell_names_of_one_hash_apart),
        cmocka_unit_test(routes_guess_tells_a_name_from_its_extension),
        cmocka_unit_test(routes_follow_subscriptions),
        cmocka_unit_test(more_symbols_than_routes),
        cmocka_unit_test(drop_unheard_counts_and_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
