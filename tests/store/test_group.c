/* Groups: the records of one fill (the fill, its order update, the position
 * and the equity it moves) are one transaction. The commit boundary is forced
 * at every record (qh_store_test_commit_each) and a reader looks at the
 * committed store after each commit: it must never see them apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store_fixture.h"

typedef sf_scratch fixture;

/* What a reader saw after each commit (one test at a time). */
static sf_commits seen;

static int setup(void **state)
{
    memset(&seen, 0, sizeof seen);
    *state = sf_scratch_new("group.db");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sf_scratch_free(*state);   /* closes the store: no hook runs after this */
    return 0;
}

static qh_store *open_store(fixture *f, const qh_store_options *opt)
{
    char err[256] = "";
    f->st = qh_store_open(f->path, opt, err, sizeof err);
    if (!f->st) fail_msg("open: %s", err);
    return f->st;
}

static uint64_t enqueue(qh_store *st, const qtr_event *ev)
{
    char err[256] = "";
    uint64_t seq = 0;
    int rc = qh_store_enqueue(st, ev, &seq, err, sizeof err);
    if (rc != QTR_OK) fail_msg("enqueue %s: %d %s", qtr_event_type_name(ev->type), rc, err);
    return seq;
}

/* One fill's records, as the host queues them; returns the last seq. */
static uint64_t queue_fill(qh_store *st, int i, qtr_dec *position)
{
    char id[QTR_CLIENT_ID_MAX];
    snprintf(id, sizeof id, "g-%04d", i);
    qtr_side side = i % 3 == 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    qtr_dec qty = QTR_DEC_INT(1 + i % 4);
    qtr_event fill = sf_event(QTR_EV_FILL);
    fill.u.fill = sf_fill(id, "BTCUSDT", side, qty, QTR_DEC_INT(100), 1, 1000 + i);
    enqueue(st, &fill);
    qtr_event order = sf_event(QTR_EV_ORDER_UPDATE);
    order.u.order_update = sf_order(fill.u.fill.client_id, "BTCUSDT", side, QTR_OS_FILLED, qty, QTR_DEC_INT(100), qty,
                                    1000 + i);
    enqueue(st, &order);
    *position += side == QTR_SIDE_BUY ? qty : -qty;
    qtr_event pos = sf_event(QTR_EV_POSITION);
    qtr_strlcpy(pos.u.position.symbol, "BTCUSDT", sizeof pos.u.position.symbol);
    pos.u.position.qty = *position;
    pos.u.position.time_ms = 1000 + i;
    enqueue(st, &pos);
    qtr_event eq = sf_event(QTR_EV_EQUITY);
    eq.u.equity.time_ms = 1000 + i;
    eq.u.equity.equity = QTR_DEC_INT(1000) + i;
    return enqueue(st, &eq);
}

static void test_no_reader_sees_a_fill_apart(void **state)
{
    fixture *f = *state;
    qh_store *st = open_store(f, NULL);
    sf_commits *s = &seen;
    qtr_strlcpy(s->path, f->path, sizeof s->path);
    qh_store_test_commit_each(st, sf_look_after_commit, s);
    qtr_dec position = 0;

    /* Control: the same records without a group are committed one by one,
     * and the reader does see them apart. This shows the boundary is forced
     * at every record, so the grouped part below proves something. */
    uint64_t control_last = queue_fill(st, 0, &position);
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    assert_int_equal(s->n, 4);
    assert_int_equal(s->seq[3], control_last);
    assert_true(s->position_splits[0] > 0 && s->order_splits[0] > 0);   /* the fill alone */
    assert_int_equal(s->position_splits[3] + s->order_splits[3], 0);    /* all four */

    /* Grouped: one commit per fill, and never a split. */
    size_t before = s->n;
    uint64_t last[20];
    for (int i = 1; i <= 20; i++) {
        qh_store_group_begin(st);
        last[i - 1] = queue_fill(st, i, &position);
        qh_store_group_end(st);
    }
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    assert_int_equal(s->n - before, 20);
    for (size_t k = before; k < s->n; k++) assert_int_equal(s->seq[k], last[k - before]);
    long split = sf_first_split(s, before);
    if (split >= 0)
        fail_msg("after commit %ld (seq %llu) a reader sees %lld positions and %lld orders apart from their fills",
                 split, (unsigned long long)s->seq[split], (long long)s->position_splits[split],
                 (long long)s->order_splits[split]);
    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM fills"), 21);
    assert_int_equal(sf_sql_int(f->path, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'"), position);
    assert_int_equal(qh_store_close(st), QTR_OK);
    f->st = NULL;
}

/* batch_max never cuts a group: five records, batch_max 2, one transaction. */
static void test_batch_extends_to_the_group(void **state)
{
    fixture *f = *state;
    qh_store_options opt = { .batch_max = 2 };
    qh_store *st = open_store(f, &opt);
    qtr_dec position = 0;
    qh_store_group_begin(st);
    queue_fill(st, 1, &position);
    qtr_event alert = sf_event(QTR_EV_ALERT);
    qtr_strlcpy(alert.u.alert.kind, "test", sizeof alert.u.alert.kind);
    enqueue(st, &alert);
    qh_store_group_end(st);
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);
    assert_int_equal(stats.committed, 5);
    assert_int_equal(stats.transactions, 1);
}

/* A flush and a close are commit points: they end an open group. */
static void test_flush_and_close_end_a_group(void **state)
{
    fixture *f = *state;
    qh_store *st = open_store(f, NULL);
    qtr_dec position = 0;
    qh_store_group_begin(st);
    uint64_t seq = queue_fill(st, 1, &position);
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    assert_true(qh_store_durable_seq(st) >= seq);
    qh_store_group_end(st);   /* already ended: nothing to do */
    qh_store_group_end(st);

    qh_store_group_begin(st);
    qh_store_group_begin(st);   /* already open: the same group */
    queue_fill(st, 2, &position);
    assert_int_equal(qh_store_close(st), QTR_OK);
    f->st = NULL;
    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM fills"), 2);
    assert_int_equal(sf_position_splits(f->path), 0);
}

/* A group's records wait for its end; when they alone fill the ring,
 * wait_room says so at once instead of waiting for nothing. */
static void test_wait_room(void **state)
{
    fixture *f = *state;
    qh_store_options opt = { .queue_capacity = 4 };
    qh_store *st = open_store(f, &opt);
    qtr_dec position = 0;
    qh_store_group_begin(st);
    queue_fill(st, 1, &position);   /* four records: the ring is full */
    qtr_event extra = sf_event(QTR_EV_ALERT);
    char err[256];
    assert_int_equal(qh_store_enqueue(st, &extra, NULL, err, sizeof err), QTR_EFULL);
    assert_int_equal(qh_store_wait_room(st, 10000), QTR_EFULL);
    assert_int_equal(qh_store_durable_seq(st), 0);   /* nothing of the group written */
    qh_store_group_end(st);
    assert_int_equal(qh_store_wait_room(st, 10000), QTR_OK);
    assert_int_equal(qh_store_enqueue(st, &extra, NULL, err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    assert_int_equal(qh_store_durable_seq(st), 5);
}

/* Synchronous mode: an enqueue inside a group returns without waiting for a
 * commit that cannot come before the group ends; the end waits for it. */
static void test_synchronous_group(void **state)
{
    fixture *f = *state;
    qh_store_options opt = { .synchronous = true };
    qh_store *st = open_store(f, &opt);
    qtr_dec position = 0;
    qh_store_group_begin(st);
    uint64_t seq = queue_fill(st, 1, &position);
    assert_int_equal(qh_store_durable_seq(st), 0);
    qh_store_group_end(st);
    assert_int_equal(qh_store_durable_seq(st), seq);
    /* outside a group, every enqueue still waits for its own commit */
    seq = queue_fill(st, 2, &position);
    assert_int_equal(qh_store_durable_seq(st), seq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_reader_sees_a_fill_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_extends_to_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_close_end_a_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_synchronous_group, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_group", tests, NULL, NULL);
}
