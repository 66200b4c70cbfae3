/*
 * Crash safety at the store level: a child process records fills and reports
 * (through a pipe) each fill the store told it was durable; the parent kills
 * it with SIGKILL at a random moment, reopens the store and checks that every
 * reported fill is there exactly once and that nothing is duplicated. The
 * next child resumes, replaying a few fills already stored, as a host
 * replaying the exchange's fills after a restart would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store_fixture.h"

#define KILLS 24
#define REPLAY 5
#define CHILD_MAX_FILLS 200000

static int report_fd = -1;

static void fill_id_of(int64_t i, char *out, size_t cap)
{
    snprintf(out, cap, "k-%09lld", (long long)i);
}

static void on_durable(void *ud, uint64_t seq, int status)
{
    (void)seq;
    if (status != QTR_OK) _exit(4);
    int64_t i = (int64_t)(intptr_t)ud;
    if (write(report_fd, &i, sizeof i) != (ssize_t)sizeof i) _exit(5);
}

/* The child: never returns. */
static void child_main(const char *path, int wfd)
{
    report_fd = wfd;
    qh_store_options opt = { .queue_capacity = 256 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    if (!st) _exit(3);
    qh_store_state s;
    if (qh_store_load_state(st, &s, err, sizeof err) != QTR_OK) _exit(3);
    int64_t start = (int64_t)s.n_fills - REPLAY;
    qh_store_state_free(&s);
    if (start < 0) start = 0;
    struct pollfd pfd = { .fd = qh_store_notify_fd(st), .events = POLLIN };
    for (int64_t i = start; i < start + CHILD_MAX_FILLS; i++) {
        char id[QTR_CLIENT_ID_MAX];
        fill_id_of(i, id, sizeof id);
        qtr_fill f = sf_fill(id, "BTCUSDT", i % 3 ? QTR_SIDE_BUY : QTR_SIDE_SELL, QTR_DEC_INT(1), QTR_DEC_INT(10), 1,
                             i);
        uint64_t seq;
        int rc;
        while ((rc = qh_store_record_fill(st, &f, &seq)) == QTR_EFULL) {
            if (qh_store_flush(st, -1) != QTR_OK) _exit(6);
            qh_store_dispatch(st);
        }
        if (rc != QTR_OK) _exit(7);
        while (qh_store_watch(st, seq, on_durable, (void *)(intptr_t)i) == QTR_EFULL) {
            if (qh_store_flush(st, -1) != QTR_OK) _exit(6);
            qh_store_dispatch(st);
        }
        if (poll(&pfd, 1, 0) > 0) qh_store_dispatch(st);
    }
    qh_store_close(st);
    _exit(0);
}

static void test_kill_and_reopen(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "crash.db");
    srand(20261124);
    int64_t max_reported = -1;
    int kills = 0;
    for (int round = 0; round < KILLS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(path, fds[1]);
        }
        close(fds[1]);
        /* Random moment: 5 to 60 ms into the child's life. */
        struct timespec ts = { 0, (long)(5 + rand() % 56) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* Killed, or (unlikely) finished on its own; never a failure exit. */
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        if (WIFSIGNALED(status)) kills++;
        int64_t v;
        ssize_t n;
        while ((n = read(fds[0], &v, sizeof v)) == (ssize_t)sizeof v)
            if (v > max_reported) max_reported = v;
        close(fds[0]);

        /* Killed before the first migration committed: nothing was stored,
         * so nothing may have been reported. */
        if (access(path, F_OK) != 0 || sf_sql_int(path, "PRAGMA user_version") < 1) {
            assert_int_equal(max_reported, -1);
            continue;
        }
        int64_t total = sf_sql_int(path, "SELECT count(*) FROM fills");
        assert_true(total >= 0);
        /* Every fill reported durable is there. */
        assert_true(total >= max_reported + 1);
        /* Exactly once each, and nothing but k-0 .. k-(total-1). */
        assert_int_equal(sf_sql_int(path, "SELECT count(DISTINCT fill_id) FROM fills"), total);
        assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills WHERE CAST(substr(fill_id, 3) AS INTEGER)"
                                          " BETWEEN 0 AND (SELECT count(*) - 1 FROM fills)"), total);
    }
    assert_true(kills >= KILLS / 2);
    assert_true(max_reported > 0);

    /* The store opens cleanly after all that. */
    char err[256];
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qh_store_state s;
    assert_int_equal(qh_store_load_state(st, &s, err, sizeof err), QTR_OK);
    assert_true(s.n_fills >= (uint64_t)max_reported + 1);
    qh_store_state_free(&s);
    assert_int_equal(qh_store_close(st), QTR_OK);
    char check[32];
    sf_sql_text(path, "PRAGMA integrity_check", check, sizeof check);
    assert_string_equal(check, "ok");
    fprintf(stderr, "%d kills; %lld fills reported durable\n", kills, (long long)max_reported + 1);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_and_reopen),
    };
    return cmocka_run_group_tests_name("store_crash", tests, NULL, NULL);
}
