/*
 * Crash safety at the store level: a child process records fills and reports
 * (through a pipe) each fill the store told it was durable; the parent kills
 * it with SIGKILL at a random moment once it has made a fill durable in that
 * round, reopens the store and checks that every reported fill is there
 * exactly once, that nothing is duplicated, and that the position is the sum
 * of the fills. The next child resumes, replaying a few fills already stored,
 * as a host replaying the exchange's fills after a restart would.
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

static void enqueue_or_die(qh_store *st, const qtr_event *ev, uint64_t *seq)
{
    int rc;
    while ((rc = qh_store_enqueue(st, ev, seq, NULL, 0)) == QTR_EFULL) {
        if (qh_store_wait_room(st, -1) != QTR_OK) _exit(6);
        qh_store_dispatch(st);
    }
    if (rc != QTR_OK) _exit(7);
}

/* The child: never returns. Each new fill is queued with its position in
 * one group, as the host does; replayed fills alone (the host drops a fill
 * it has seen, so its position does not move). */
static void child_main(const char *path, int wfd)
{
    report_fd = wfd;
    qh_store_options opt = { .queue_capacity = 256 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    if (!st) _exit(3);
    qh_store_state s;
    if (qh_store_load_state(st, &s, err, sizeof err) != QTR_OK) _exit(3);
    int64_t stored = (int64_t)s.n_fills;
    qtr_dec position = s.n_positions ? s.positions[0].qty : 0;
    qh_store_state_free(&s);
    int64_t start = stored > REPLAY ? stored - REPLAY : 0;
    struct pollfd pfd = { .fd = qh_store_notify_fd(st), .events = POLLIN };
    for (int64_t i = start; i < start + CHILD_MAX_FILLS; i++) {
        char id[QTR_CLIENT_ID_MAX];
        fill_id_of(i, id, sizeof id);
        qtr_event fill;
        memset(&fill, 0, sizeof fill);
        fill.type = QTR_EV_FILL;
        fill.u.fill = sf_fill(id, "BTCUSDT", i % 3 ? QTR_SIDE_BUY : QTR_SIDE_SELL, QTR_DEC_INT(1), QTR_DEC_INT(10), 1, i);
        uint64_t seq;
        qh_store_group_begin(st);
        enqueue_or_die(st, &fill, &seq);
        if (i >= stored) {
            position += i % 3 ? QTR_DEC_INT(1) : -QTR_DEC_INT(1);
            qtr_event pos;
            memset(&pos, 0, sizeof pos);
            pos.type = QTR_EV_POSITION;
            qtr_strlcpy(pos.u.position.symbol, "BTCUSDT", sizeof pos.u.position.symbol);
            pos.u.position.qty = position;
            pos.u.position.time_ms = i;
            enqueue_or_die(st, &pos, NULL);
        }
        qh_store_group_end(st);
        while (qh_store_watch(st, seq, on_durable, (void *)(intptr_t)i) == QTR_EFULL) {
            if (qh_store_flush(st, -1) != QTR_OK) _exit(6);
            qh_store_dispatch(st);
        }
        if (poll(&pfd, 1, 0) > 0) qh_store_dispatch(st);
    }
    qh_store_close(st);
    _exit(0);
}

/* The child of the current round and its pipe, for the teardown: a failed
 * assertion must not leave a child writing or a descriptor open. */
static pid_t child = -1;
static int report_rfd = -1;

static void end_child(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    if (report_rfd >= 0) close(report_rfd);
    report_rfd = -1;
}

static int setup(void **state)
{
    *state = sf_scratch_new("crash.db");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    end_child();
    sf_scratch_free(*state);
    return 0;
}

/* Bounded wait for the child's first durability report of this round. */
static bool first_report(int fd, int timeout_ms, int64_t *max_reported)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int64_t v;
    if (poll(&p, 1, timeout_ms) <= 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) return false;
    if (v > *max_reported) *max_reported = v;
    return true;
}

static void test_kill_and_reopen(void **state)
{
    sf_scratch *x = *state;
    const char *path = x->path;
    srand(20261124);
    int64_t max_reported = -1;
    int kills = 0;
    for (int round = 0; round < KILLS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        report_rfd = fds[0];
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            close(fds[0]);
            child_main(path, fds[1]);
        }
        close(fds[1]);
        /* Kill only once the child has made a fill durable in this round,
         * however slow the build (bounded), then a random moment later. */
        if (!first_report(fds[0], 60000, &max_reported))
            fail_msg("round %d: the child reported no durable fill within 60 s", round);
        struct timespec ts = { 0, (long)(rand() % 20) * 1000000L };
        nanosleep(&ts, NULL);
        kill(child, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(child, &status, 0), child);
        child = -1;
        /* Killed, or (unlikely) finished on its own; never a failure exit. */
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        if (WIFSIGNALED(status)) kills++;
        int64_t v;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            if (v > max_reported) max_reported = v;
        close(fds[0]);
        report_rfd = -1;

        int64_t total = sf_sql_int(path, "SELECT count(*) FROM fills");
        assert_true(total >= 0);
        /* Every fill reported durable is there. */
        assert_true(total >= max_reported + 1);
        /* Exactly once each, and nothing but k-0 .. k-(total-1). */
        assert_int_equal(sf_sql_int(path, "SELECT count(DISTINCT fill_id) FROM fills"), total);
        assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills WHERE CAST(substr(fill_id, 3) AS INTEGER)"
                                          " BETWEEN 0 AND (SELECT count(*) - 1 FROM fills)"), total);
        /* The position is the sum of the fills: never one without the other. */
        assert_int_equal(sf_position_splits(path), 0);
    }
    assert_true(kills >= KILLS / 2);
    assert_true(max_reported > 0);

    /* The store opens cleanly after all that. */
    char err[256];
    x->st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(x->st);
    qh_store_state s;
    assert_int_equal(qh_store_load_state(x->st, &s, err, sizeof err), QTR_OK);
    assert_true(s.n_fills >= (uint64_t)max_reported + 1);
    assert_int_equal(s.n_mismatches, 0);
    qh_store_state_free(&s);
    assert_int_equal(qh_store_close(x->st), QTR_OK);
    x->st = NULL;
    char check[32];
    sf_sql_text(path, "PRAGMA integrity_check", check, sizeof check);
    assert_string_equal(check, "ok");
    fprintf(stderr, "%d kills; %lld fills reported durable\n", kills, (long long)max_reported + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_and_reopen, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_crash", tests, NULL, NULL);
}
