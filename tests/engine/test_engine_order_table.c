/* The engine's open-order table and fill de-dup (host/engine/orders.c):
 * insert, find, update in place, remove (also from the middle of a probe
 * run), many orders checked against a plain model, a full table refused
 * loudly; and a fill id remembered until it falls out of the window. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_fixture.h"
#include "strategy_quiet.h"

static qtr_order_update order(const char *cid, const char *symbol)
{
    qtr_order_update u;
    memset(&u, 0, sizeof u);
    qtr_strlcpy(u.client_id, cid, sizeof u.client_id);
    qtr_strlcpy(u.symbol, symbol, sizeof u.symbol);
    u.status = QTR_OS_NEW;
    u.qty = QTR_DEC_INT(1);
    return u;
}

static void put_find_update_remove(void **state)
{
    (void)state;
    qh_order_table *t = qh_order_table_new(8);
    assert_non_null(t);
    assert_int_equal(qh_order_table_capacity(t), 8);
    qtr_order_update a = order("qtr-a-1", "BTCUSDT"), b = order("qtr-a-2", "ETHUSDT");
    assert_int_equal(qh_order_table_put(t, &a), QH_ORDER_ADDED);
    assert_int_equal(qh_order_table_put(t, &b), QH_ORDER_ADDED);
    assert_int_equal(qh_order_table_count(t), 2);
    assert_null(qh_order_table_find(t, "qtr-a-3"));
    qtr_order_update *found = qh_order_table_find(t, "qtr-a-2");
    assert_non_null(found);
    assert_string_equal(found->symbol, "ETHUSDT");

    /* the same id again changes nothing */
    qtr_order_update b2 = order("qtr-a-2", "XRPUSDT");
    assert_int_equal(qh_order_table_put(t, &b2), QH_ORDER_EXISTS);
    assert_int_equal(qh_order_table_count(t), 2);
    assert_string_equal(qh_order_table_find(t, "qtr-a-2")->symbol, "ETHUSDT");

    /* updated in place through find */
    qh_order_table_find(t, "qtr-a-1")->status = QTR_OS_PARTIALLY_FILLED;
    assert_int_equal(qh_order_table_find(t, "qtr-a-1")->status, QTR_OS_PARTIALLY_FILLED);

    assert_true(qh_order_table_remove(t, "qtr-a-1"));
    assert_false(qh_order_table_remove(t, "qtr-a-1"));
    assert_null(qh_order_table_find(t, "qtr-a-1"));
    assert_int_equal(qh_order_table_count(t), 1);
    /* the dense view holds what is left */
    assert_string_equal(qh_order_table_items(t)[0].client_id, "qtr-a-2");
    assert_string_equal(qh_order_table_find(t, "qtr-a-2")->symbol, "ETHUSDT");

    /* an empty id, or one filling its field with no terminator, is refused */
    qtr_order_update bad = order("", "BTCUSDT");
    assert_int_equal(qh_order_table_put(t, &bad), QH_ORDER_BAD_ID);
    memset(bad.client_id, 'x', sizeof bad.client_id);
    assert_int_equal(qh_order_table_put(t, &bad), QH_ORDER_BAD_ID);
    assert_int_equal(qh_order_table_count(t), 1);
    qh_order_table_free(t);
    assert_null(qh_order_table_new(0));
}

/* A removal from the middle of a probe run: the ids after it in the run
 * are still found (a hole left in the run would hide them). A table of 8
 * has 16 slots, so 8 ids share few home slots and runs form. */
static void removal_in_the_middle_keeps_the_rest(void **state)
{
    (void)state;
    for (int gone = 0; gone < 8; gone++) {
        qh_order_table *t = qh_order_table_new(8);
        assert_non_null(t);
        char id[8][16];
        for (int i = 0; i < 8; i++) {
            snprintf(id[i], sizeof id[i], "o-%d", i);
            qtr_order_update u = order(id[i], "BTCUSDT");
            u.qty = QTR_DEC_INT(i + 1);
            assert_int_equal(qh_order_table_put(t, &u), QH_ORDER_ADDED);
        }
        assert_true(qh_order_table_remove(t, id[gone]));
        assert_int_equal(qh_order_table_count(t), 7);
        for (int i = 0; i < 8; i++) {
            qtr_order_update *o = qh_order_table_find(t, id[i]);
            if (i == gone) { assert_null(o); continue; }
            assert_non_null(o);
            assert_int_equal(o->qty, QTR_DEC_INT(i + 1));   /* and it is its own order */
        }
        qh_order_table_free(t);
    }
}

/* Thousands of orders put and removed in a shuffled order, checked at each
 * step against a plain array: find, count and the dense view agree. */
static void many_orders_match_a_model(void **state)
{
    (void)state;
    enum { N = 5000 };
    qh_order_table *t = qh_order_table_new(N);
    assert_non_null(t);
    static bool in[N];
    memset(in, 0, sizeof in);
    size_t count = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int step = 0; step < 60000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int k = (int)(rng % N);
        char cid[32];
        snprintf(cid, sizeof cid, "qtr-run-%d", k);
        if (in[k]) {
            assert_true(qh_order_table_remove(t, cid));
            in[k] = false, count--;
        } else {
            qtr_order_update u = order(cid, "BTCUSDT");
            u.qty = QTR_DEC_INT(k + 1);
            assert_int_equal(qh_order_table_put(t, &u), QH_ORDER_ADDED);
            in[k] = true, count++;
        }
        assert_int_equal(qh_order_table_count(t), count);
    }
    for (int k = 0; k < N; k++) {
        char cid[32];
        snprintf(cid, sizeof cid, "qtr-run-%d", k);
        qtr_order_update *o = qh_order_table_find(t, cid);
        if (!in[k]) { assert_null(o); continue; }
        assert_non_null(o);
        assert_int_equal(o->qty, QTR_DEC_INT(k + 1));
    }
    /* each order once in the dense view */
    size_t seen = 0;
    for (size_t i = 0; i < qh_order_table_count(t); i++) {
        int k = atoi(qh_order_table_items(t)[i].client_id + strlen("qtr-run-"));
        assert_true(in[k]);
        in[k] = false;
        seen++;
    }
    assert_int_equal(seen, count);
    qh_order_table_free(t);
}

/* find() first compares the id at the place put or found last (orders.c,
 * the hint): after every put, removal (which moves the last order into the
 * hole) and find, each of the touched id, its prefix, its extension and a
 * random id is found exactly when a plain model holds it, as its own order.
 * Ids such as o-1, o-10 and o-100 are prefixes of one another. */
static void finds_match_a_model_between_every_change(void **state)
{
    (void)state;
    enum { N = 300 };
    qh_order_table *t = qh_order_table_new(N);
    assert_non_null(t);
    static bool in[N];
    memset(in, 0, sizeof in);
    uint64_t rng = 0x2545f4914f6cdd1dull;
    for (int step = 0; step < 40000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int k = (int)(rng % N);
        char cid[32];
        snprintf(cid, sizeof cid, "o-%d", k);
        if ((rng >> 32) % 3 == 0) {
            assert_int_equal(qh_order_table_remove(t, cid), in[k]);
            in[k] = false;
        } else {
            /* a present id again: refused, the order it names untouched */
            qtr_order_update u = order(cid, "BTCUSDT");
            u.qty = QTR_DEC_INT(in[k] ? 1000000 : k + 1);
            assert_int_equal(qh_order_table_put(t, &u), in[k] ? QH_ORDER_EXISTS : QH_ORDER_ADDED);
            in[k] = true;
        }
        int probe[4] = { k, k / 10, k * 10 + (int)(rng % 10), (int)((rng >> 20) % N) };
        for (int p = 0; p < 4; p++) {
            char id[32];
            snprintf(id, sizeof id, "o-%d", probe[p]);
            qtr_order_update *o = qh_order_table_find(t, id);
            bool there = probe[p] < N && in[probe[p]];
            if (!there) { assert_null(o); continue; }
            assert_non_null(o);
            assert_string_equal(o->client_id, id);
            assert_int_equal(o->qty, QTR_DEC_INT(probe[p] + 1));
        }
    }
    /* an id filling its whole field, and a look-up with no NUL in its field */
    char longest[QTR_CLIENT_ID_MAX], unterminated[QTR_CLIENT_ID_MAX];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(unterminated, 'x', sizeof unterminated);
    qh_order_table_remove(t, "o-0");
    qtr_order_update u = order(longest, "BTCUSDT");
    assert_int_equal(qh_order_table_put(t, &u), QH_ORDER_ADDED);
    assert_null(qh_order_table_find(t, unterminated));
    assert_non_null(qh_order_table_find(t, longest));
    assert_null(qh_order_table_find(t, unterminated));
    qh_order_table_free(t);
}

static void full_table_is_refused(void **state)
{
    (void)state;
    qh_order_table *t = qh_order_table_new(3);
    assert_non_null(t);
    for (int i = 0; i < 3; i++) {
        char cid[16];
        snprintf(cid, sizeof cid, "o-%d", i);
        qtr_order_update u = order(cid, "BTCUSDT");
        assert_int_equal(qh_order_table_put(t, &u), QH_ORDER_ADDED);
    }
    qtr_order_update more = order("o-3", "BTCUSDT");
    assert_int_equal(qh_order_table_put(t, &more), QH_ORDER_FULL);
    assert_null(qh_order_table_find(t, "o-3"));
    assert_int_equal(qh_order_table_count(t), 3);
    assert_true(qh_order_table_remove(t, "o-1"));   /* room again */
    assert_int_equal(qh_order_table_put(t, &more), QH_ORDER_ADDED);
    qh_order_table_free(t);
}

/* In the engine: an order the table cannot hold is refused by name
 * (too_many_open_orders, counted as rejected_invalid), never sent; an order
 * the exchange reports that the table cannot hold trips the ESS with an
 * alert saying so. */
static void engine_full_table_refuses_loudly(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_order_table_free(e->open_orders);
    e->open_orders = qh_order_table_new(1);
    assert_non_null(e->open_orders);
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));   /* a price, for the risk checks */
    efx_seen alerts;
    efx_watch(e, QTR_EV_ALERT, &alerts);
    qtr_order_intent o = efx_market_buy("BTCUSDT");
    char cid[QTR_CLIENT_ID_MAX];
    assert_int_equal(e->api.submit_order(&s->ctx, &o, cid), QTR_OK);
    assert_int_equal(e->api.submit_order(&s->ctx, &o, cid), QTR_EFULL);
    assert_int_equal(efx_exchange(f)->n_orders, 1);
    assert_int_equal(efx_metric(f, "qtr_orders_total{result=\"rejected_invalid\"}"), 1);
    assert_int_equal(qh_order_table_count(e->open_orders), 1);

    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.u.order_update = order("ext-1", "ETHUSDT");
    ev.u.order_update.external = true;
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    assert_null(qh_order_table_find(e->open_orders, "ext-1"));
    assert_int_equal(efx_metric(f, "qtr_ess_trips_total"), 1);
    assert_false(qh_ess_allows(e->ess, false));   /* entries blocked */
    bool said = false;
    for (size_t i = 0; i < alerts.n; i++) said = said || strcmp(alerts.items[i].u.alert.kind, "open_orders_full") == 0;
    assert_true(said);
    efx_seen_free(&alerts);
    efx_free(f);
}

static void fill_ids_are_remembered_within_the_window(void **state)
{
    (void)state;
    qh_fill_dedup *d = qh_fill_dedup_new(4);
    assert_non_null(d);
    assert_false(qh_fill_seen(d, "f-1"));
    qh_fill_remember(d, "f-1");
    qh_fill_remember(d, "f-1");          /* twice: one place */
    assert_true(qh_fill_seen(d, "f-1"));
    for (int i = 2; i <= 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "f-%d", i);
        qh_fill_remember(d, id);
    }
    assert_true(qh_fill_seen(d, "f-1"));   /* the window holds 4 */
    qh_fill_remember(d, "f-5");             /* the oldest, f-1, falls out */
    assert_false(qh_fill_seen(d, "f-1"));
    for (int i = 2; i <= 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "f-%d", i);
        assert_true(qh_fill_seen(d, id));
    }
    /* many laps of the ring: the last 4 only, always */
    for (int i = 6; i < 10000; i++) {
        char id[16];
        snprintf(id, sizeof id, "f-%d", i);
        qh_fill_remember(d, id);
        snprintf(id, sizeof id, "f-%d", i - 3);
        assert_true(qh_fill_seen(d, id));
        snprintf(id, sizeof id, "f-%d", i - 4);
        assert_false(qh_fill_seen(d, id));
    }
    assert_false(qh_fill_seen(d, ""));
    qh_fill_dedup_free(d);
}

/* qh_fill_seen_else_remember (the engine's on_fill) answers as
 * qh_fill_seen, then remembers a new id as qh_fill_remember would: two
 * windows fed the same ids, one each way, agree on every answer, including
 * ids that fall out of the window, repeats, and an id too long to keep. */
static void seen_else_remember_is_seen_then_remember(void **state)
{
    (void)state;
    qh_fill_dedup *one = qh_fill_dedup_new(8), *two = qh_fill_dedup_new(8);
    assert_non_null(one);
    assert_non_null(two);
    char longest[QTR_CLIENT_ID_MAX + 8];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    int seen = 0;
    for (int i = 0; i < 3000; i++) {
        char id[16];
        snprintf(id, sizeof id, "f-%d", (i / 2 + i % 5) % 23);   /* repeats within and past the window */
        const char *key = i % 100 == 99 ? longest : id;
        bool was = qh_fill_seen(one, key);
        if (!was) qh_fill_remember(one, key);
        assert_int_equal(qh_fill_seen_else_remember(two, key), was);
        seen += was;
        for (int k = 0; k < 23; k++) {
            snprintf(id, sizeof id, "f-%d", k);
            assert_int_equal(qh_fill_seen(one, id), qh_fill_seen(two, id));
        }
    }
    assert_true(seen > 0 && seen < 3000);
    assert_false(qh_fill_seen(two, longest));
    qh_fill_dedup_free(one);
    qh_fill_dedup_free(two);
}

/* The window against a plain model (the last `cap` new ids, oldest out):
 * ids of random lengths, prefixes of one another (f-1, f-12, f-123...), so
 * a place in the ring is reused by a shorter id than it held; an id kept
 * with the old one's tail would be forgotten wrongly or never. */
static void window_of_mixed_lengths_matches_a_model(void **state)
{
    (void)state;
    enum { CAP = 7, IDS = 60 };
    qh_fill_dedup *d = qh_fill_dedup_new(CAP);
    assert_non_null(d);
    char model[CAP][QTR_CLIENT_ID_MAX], pool[IDS][QTR_CLIENT_ID_MAX];
    size_t head = 0, count = 0;
    for (int i = 0; i < IDS; i++) {
        /* "f-" and a run of digits of one of five lengths, up to the field's */
        int len = (int[]){ 1, 2, 3, 12, QTR_CLIENT_ID_MAX - 3 }[i % 5];
        pool[i][0] = 'f', pool[i][1] = '-';
        for (int k = 0; k < len; k++) pool[i][2 + k] = (char)('1' + (i / 5 + k) % 9);
        pool[i][2 + len] = '\0';
    }
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int step = 0; step < 20000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        const char *id = pool[rng % IDS];
        bool was = false;
        for (size_t k = 0; k < count; k++) was |= strcmp(model[(head + k) % CAP], id) == 0;
        assert_int_equal(qh_fill_seen_else_remember(d, id), was);
        if (!was) {
            if (count == CAP) head = (head + 1) % CAP, count--;
            qtr_strlcpy(model[(head + count) % CAP], id, QTR_CLIENT_ID_MAX);
            count++;
        }
        for (int k = 0; k < IDS; k++) {
            bool in = false;
            for (size_t j = 0; j < count; j++) in |= strcmp(model[(head + j) % CAP], pool[k]) == 0;
            assert_int_equal(qh_fill_seen(d, pool[k]), in);
        }
    }
    qh_fill_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_find_update_remove),
        cmocka_unit_test(removal_in_the_middle_keeps_the_rest),
        cmocka_unit_test(many_orders_match_a_model),
        cmocka_unit_test(finds_match_a_model_between_every_change),
        cmocka_unit_test(full_table_is_refused),
        cmocka_unit_test(engine_full_table_refuses_loudly),
        cmocka_unit_test(fill_ids_are_remembered_within_the_window),
        cmocka_unit_test(seen_else_remember_is_seen_then_remember),
        cmocka_unit_test(window_of_mixed_lengths_matches_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
