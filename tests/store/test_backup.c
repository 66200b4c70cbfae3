/* Operator tools: online backup while the writer commits, and CSV export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store_fixture.h"

#define WRITER_FILLS 3000
#define CHUNK 50

typedef struct writer_arg {
    qh_store *st;
    atomic_int done;
    int failures;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < WRITER_FILLS; i++) {
        char id[32];
        snprintf(id, sizeof id, "b-%06d", i);
        qtr_fill f = sf_fill(id, "BTCUSDT", QTR_SIDE_BUY, QTR_DEC_INT(1), QTR_DEC_INT(2), 0, i);
        if (qh_store_record_fill(w->st, &f, NULL) != QTR_OK) w->failures++;
        if (i % CHUNK == CHUNK - 1 && qh_store_flush(w->st, -1) != QTR_OK) w->failures++;
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static void test_backup_while_writing(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "live.db");
    char *copy = sf_path(dir, "copy.db");
    char err[512] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);

    writer_arg w = { .st = st, .done = 0, .failures = 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    /* Start the backup once some fills are committed (bounded wait). */
    for (int i = 0; i < 2000 && qh_store_durable_seq(st) < 200; i++) usleep(1000);
    int rc = qh_store_backup(st, copy, err, sizeof err);
    if (rc != QTR_OK) fprintf(stderr, "backup: %s\n", err);
    assert_int_equal(rc, QTR_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.failures, 0);
    assert_int_equal(qh_store_close(st), QTR_OK);

    char check[64];
    sf_sql_text(copy, "PRAGMA integrity_check", check, sizeof check);
    assert_string_equal(check, "ok");
    sf_sql_text(copy, "PRAGMA journal_mode", check, sizeof check);
    assert_string_equal(check, "delete");
    assert_int_equal(sf_sql_int(copy, "PRAGMA user_version"), QH_STORE_SCHEMA_VERSION);
    int64_t n = sf_sql_int(copy, "SELECT count(*) FROM fills");
    assert_true(n >= 200 && n <= WRITER_FILLS);
    fprintf(stderr, "backup holds %lld of %d fills\n", (long long)n, WRITER_FILLS);
    /* One snapshot: the fills in the copy are exactly the first n written. */
    assert_int_equal(sf_sql_int(copy, "SELECT count(*) FROM fills WHERE CAST(substr(fill_id, 3) AS INTEGER) < "
                                      "(SELECT count(*) FROM fills)"), n);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), WRITER_FILLS);
    char *partial = sf_path(dir, "copy.db.partial");
    assert_int_equal(access(partial, F_OK), -1);
    free(partial);

    /* An existing destination is never overwritten. */
    assert_int_equal(qh_store_backup_file(path, copy, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "exists"));
    /* A closed store can be backed up from its path. */
    char *copy2 = sf_path(dir, "copy2.db");
    assert_int_equal(qh_store_backup_file(path, copy2, err, sizeof err), QTR_OK);
    assert_int_equal(sf_sql_int(copy2, "SELECT count(*) FROM fills"), WRITER_FILLS);
    char *missing = sf_path(dir, "missing.db");
    char *copy3 = sf_path(dir, "copy3.db");
    assert_int_equal(qh_store_backup_file(missing, copy3, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "missing.db"));
    free(missing);
    free(copy3);
    free(copy2);
    free(copy);
    free(path);
    sf_rmtree(dir);
}

static void test_export_csv(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "csv.db");
    char err[256];
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qtr_fill a = sf_fill("f1", "BTCUSDT", QTR_SIDE_BUY, 50000000, 4215012000000, 210750, 1700000000000);
    a.maker = true;
    qtr_strlcpy(a.client_id, "qtr-1", sizeof a.client_id);
    qtr_fill b = sf_fill("f2", "ETHUSDT", QTR_SIDE_SELL, 300000000, 200000000000, -1, 1700000000001);
    b.reduce_only = true;
    qtr_strlcpy(b.client_id, "manual, \"x\"", sizeof b.client_id);
    /* Written out of time order: the export is by time. */
    assert_int_equal(qh_store_record_fill(st, &b, NULL), QTR_OK);
    assert_int_equal(qh_store_record_fill(st, &a, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);

    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(qh_store_export_trades_csv(st, out, err, sizeof err), QTR_OK);
    fclose(out);
    const char *expected =
        "time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only\n"
        "1700000000000,f1,qtr-1,BTCUSDT,BUY,0.5,42150.12,0.0021075,1,0\n"
        "1700000000001,f2,\"manual, \"\"x\"\"\",ETHUSDT,SELL,3,2000,-0.00000001,0,1\n";
    assert_string_equal(buf, expected);
    free(buf);

    /* An empty store: the header alone. */
    char *path2 = sf_path(dir, "empty.db");
    qh_store *st2 = qh_store_open(path2, NULL, err, sizeof err);
    assert_non_null(st2);
    out = open_memstream(&buf, &len);
    assert_int_equal(qh_store_export_trades_csv(st2, out, err, sizeof err), QTR_OK);
    fclose(out);
    assert_string_equal(buf, "time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only\n");
    free(buf);
    assert_int_equal(qh_store_export_trades_csv(st2, NULL, err, sizeof err), QTR_EINVAL);
    qh_store_close(st2);
    qh_store_close(st);
    free(path2);
    free(path);
    sf_rmtree(dir);
}

/* A backup's errors name the destination it was given (or the name the
 * caller gives it: "a temporary copy in DIR" for a snapshot the user never
 * named), never the DEST.partial it writes first. */
static void test_backup_errors_name_the_destination(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "live.db");
    char err[512] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(qh_store_close(st), QTR_OK);
    char *dest = sf_path(dir, "no-such-folder/copy.db");
    assert_int_equal(qh_store_backup_file(path, dest, err, sizeof err), QTR_EIO);
    if (!strstr(err, dest) || strstr(err, ".partial") || !strstr(err, "cannot create"))
        fail_msg("'%s' does not name %s (and only it)", err, dest);
    assert_int_equal(qh_store_backup_file_as(path, dest, "a temporary copy in /nowhere", err, sizeof err), QTR_EIO);
    if (!strstr(err, "a temporary copy in /nowhere") || strstr(err, "no-such-folder") || strstr(err, ".partial"))
        fail_msg("'%s' does not name the destination as given", err);
    /* and a good one still works, named or not */
    char *copy = sf_path(dir, "copy.db");
    assert_int_equal(qh_store_backup_file_as(path, copy, "the copy", err, sizeof err), QTR_OK);
    assert_int_equal(sf_sql_int(copy, "PRAGMA user_version"), QH_STORE_SCHEMA_VERSION);
    free(copy);
    free(dest);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_while_writing),
        cmocka_unit_test(test_export_csv),
        cmocka_unit_test(test_backup_errors_name_the_destination),
    };
    return cmocka_run_group_tests_name("store_backup", tests, NULL, NULL);
}
