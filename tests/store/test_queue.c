/* The write queue: back-pressure, batching, draining, and failures that
 * must surface instead of losing records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store_fixture.h"

static qtr_fill numbered_fill(int i)
{
    char id[QTR_CLIENT_ID_MAX];
    snprintf(id, sizeof id, "q-%06d-abcdefghijklmnopqrstuvw", i);
    return sf_fill(id, "BTCUSDT", QTR_SIDE_BUY, QTR_DEC_INT(1), QTR_DEC_INT(100), 0, i);
}

static void test_full_queue_refuses(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "q.db");
    qh_store_options opt = { .queue_capacity = 8 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    assert_non_null(st);

    /* Another connection holds the write lock: the writer cannot commit. */
    sqlite3 *blocker = NULL;
    assert_int_equal(sqlite3_open(path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    for (int i = 0; i < 8; i++) {
        qtr_fill f = numbered_fill(i);
        assert_int_equal(qh_store_record_fill(st, &f, NULL), QTR_OK);
    }
    qtr_fill extra = numbered_fill(8);
    qtr_event ev = sf_event(QTR_EV_FILL);
    ev.u.fill = extra;
    assert_int_equal(qh_store_enqueue(st, &ev, NULL, err, sizeof err), QTR_EFULL);
    assert_non_null(strstr(err, "full"));
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);
    assert_int_equal(stats.rejected_full, 1);
    assert_int_equal(stats.queue_depth, 8);
    qtr_health h;
    qh_store_health(st, &h);
    assert_int_equal(h.status, QTR_HEALTH_DEGRADED);
    assert_int_equal(qh_store_flush(st, 20), QH_STORE_ETIMEDOUT);

    assert_int_equal(sqlite3_exec(blocker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);
    /* Room again: the refused record can now be queued. */
    assert_int_equal(qh_store_enqueue(st, &ev, NULL, err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_close(st), QTR_OK);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), 9);
    free(path);
    sf_rmtree(dir);
}

static void test_batches_and_close_drains(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "b.db");
    qh_store_options opt = { .queue_capacity = 64, .batch_max = 4, .batch_wait_ms = 2 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    assert_non_null(st);
    for (int i = 0; i < 10; i++) {
        qtr_fill f = numbered_fill(i);
        assert_int_equal(qh_store_record_fill(st, &f, NULL), QTR_OK);
    }
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);
    assert_int_equal(stats.committed, 10);
    assert_true(stats.transactions >= 3);   /* at most 4 records per transaction */
    assert_int_equal(stats.queue_depth, 0);

    /* Close without a flush still commits everything queued. */
    for (int i = 10; i < 60; i++) {
        qtr_fill f = numbered_fill(i);
        assert_int_equal(qh_store_record_fill(st, &f, NULL), QTR_OK);
    }
    assert_int_equal(qh_store_close(st), QTR_OK);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), 60);
    free(path);
    sf_rmtree(dir);
}

typedef struct watch_result {
    int calls;
    int status;
} watch_result;

static void on_durable(void *ud, uint64_t seq, int status)
{
    (void)seq;
    watch_result *r = ud;
    r->calls++;
    r->status = status;
}

static void test_failed_write_is_critical(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "fail.db");
    char err[256];
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qtr_fill good = numbered_fill(1);
    assert_int_equal(qh_store_record_fill(st, &good, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);

    /* Simulate a write the database refuses (as an I/O error would). */
    assert_true(sf_sql_exec(path, "CREATE TRIGGER boom BEFORE INSERT ON fills WHEN NEW.fill_id = 'bad'"
                                  " BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;"));
    qtr_fill bad = sf_fill("bad", "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, 2);
    uint64_t bad_seq = 0;
    assert_int_equal(qh_store_record_fill(st, &bad, &bad_seq), QTR_OK);
    watch_result wr = { 0, 0 };
    assert_int_equal(qh_store_watch(st, bad_seq, on_durable, &wr), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_EIO);

    qtr_health h;
    qh_store_health(st, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "simulated write failure"));
    char msg[512];
    assert_true(qh_store_failed(st, msg, sizeof msg));
    assert_non_null(strstr(msg, path));
    assert_true(qh_store_durable_seq(st) < bad_seq);

    /* Every later write is refused, loudly. */
    qtr_event ev = sf_event(QTR_EV_FILL);
    ev.u.fill = numbered_fill(3);
    err[0] = '\0';
    assert_int_equal(qh_store_enqueue(st, &ev, NULL, err, sizeof err), QTR_EIO);
    assert_non_null(strstr(err, "simulated write failure"));
    /* The watch learns that its record was not stored. */
    assert_int_equal(qh_store_dispatch(st), 1);
    assert_int_equal(wr.calls, 1);
    assert_int_equal(wr.status, QTR_EIO);
    /* Reads still work, for the operator. */
    qtr_fill recent[4];
    assert_int_equal(qh_store_recent_fills(st, recent, 4), 1);
    assert_string_equal(recent[0].fill_id, good.fill_id);

    assert_int_equal(qh_store_close(st), QTR_EIO);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), 1);
    free(path);
    sf_rmtree(dir);
}

static void test_disk_full_is_critical(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "full.db");
    char err[256];
    /* Find the size of an empty store, then cap the next open near it. */
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(qh_store_close(st), QTR_OK);
    int64_t pages = sf_sql_int(path, "PRAGMA page_count");
    assert_true(pages > 0);
    qh_store_options opt = { .max_pages = (uint32_t)pages + 8 };
    st = qh_store_open(path, &opt, err, sizeof err);
    assert_non_null(st);

    int flushed = 0, rc = QTR_OK;
    for (int round = 0; round < 200 && rc == QTR_OK; round++) {
        /* The writer may find the disk full while a round is still being
         * queued (it commits on its own, not only at a flush): from then
         * on a record is refused with QTR_EIO, which ends the loop as a
         * failed flush does. */
        for (int i = 0; i < 50 && rc == QTR_OK; i++) {
            qtr_fill f = numbered_fill(round * 50 + i);
            rc = qh_store_record_fill(st, &f, NULL);
        }
        if (rc == QTR_OK) rc = qh_store_flush(st, -1);
        if (rc == QTR_OK) flushed = (round + 1) * 50;
    }
    assert_int_equal(rc, QTR_EIO);
    qtr_health h;
    qh_store_health(st, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "full"));
    qh_store_stats stats;
    qh_store_get_stats(st, &stats);
    assert_int_equal(qh_store_close(st), QTR_EIO);
    /* What was reported committed is there, nothing less. */
    int64_t stored = sf_sql_int(path, "SELECT count(*) FROM fills");
    assert_int_equal(stored, (int64_t)stats.committed);
    assert_true(stored >= flushed);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_batches_and_close_drains),
        cmocka_unit_test(test_failed_write_is_critical),
        cmocka_unit_test(test_disk_full_is_critical),
    };
    return cmocka_run_group_tests_name("store_queue", tests, NULL, NULL);
}
