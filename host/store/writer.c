/*
 * The writer thread: drains the ring in batched transactions (group commit),
 * publishes the durable sequence number, and turns any failed write into the
 * store's error state. It is the only user of the write connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_impl.h"

static void notify(qh_store *st)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t n = write(st->notify_fd, &one, sizeof one);
    (void)n;
}

/* Called with mu held. */
static void fail_locked(qh_store *st, const char *what, int rc, const char *msg)
{
    if (st->failed) return;
    st->failed = true;
    snprintf(st->error, sizeof st->error, "store %s: %s failed: %s (%s)", st->path, what,
             msg && *msg ? msg : sqlite3_errstr(rc), sqlite3_errstr(rc));
}

static void deadline_after_ms(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for work; returns the batch size (0: stop). Called with mu held.
 * Only ready records are taken (an open group's are not), and a batch is
 * extended past batch_max to the end of the group it would cut. */
static uint32_t wait_for_batch(qh_store *st, uint32_t *start)
{
    for (;;) {
        if (st->stopping) qh_store_group_close_locked(st);   /* close commits everything queued */
        if ((st->ready > 0 && !st->failed) || st->stopping) break;
        st->writer_waiting = true;
        pthread_cond_wait(&st->nonempty, &st->mu);
        st->writer_waiting = false;
    }
    if (st->failed || st->ready == 0) return 0;
    if (st->opt.batch_wait_ms > 0 && st->ready < st->opt.batch_max && !st->stopping) {
        struct timespec ts;
        deadline_after_ms(&ts, st->opt.batch_wait_ms);
        st->writer_waiting = true;
        while (st->ready < st->opt.batch_max && !st->stopping &&
               pthread_cond_timedwait(&st->nonempty, &st->mu, &ts) != ETIMEDOUT) {
        }
        st->writer_waiting = false;
    }
    *start = st->head;
    uint32_t cap = st->opt.queue_capacity;
    uint32_t n = st->ready < st->opt.batch_max ? st->ready : st->opt.batch_max;
    while (n < st->ready && st->ring[(st->head + n - 1) % cap].joins_next) n++;
    return n;
}

void *qh_store_writer_main(void *arg)
{
    qh_store *st = arg;
    uint32_t cap = st->opt.queue_capacity;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        uint32_t start = 0;
        uint32_t n = wait_for_batch(st, &start);
        if (n == 0) break;
        qh_store_commit_hook hook = st->commit_hook;
        void *hook_ud = st->commit_hook_ud;
        pthread_mutex_unlock(&st->mu);

        /* The batch's slots are ours until head moves past them. */
        uint64_t dups = 0, last_seq = 0;
        const char *what = "BEGIN";
        int rc = qh_store_step_done(st->stmts.begin);
        for (uint32_t i = 0; rc == SQLITE_OK && i < n; i++) {
            const qh_store_slot *slot = &st->ring[(start + i) % cap];
            bool dup = false;
            rc = qh_store_apply(st->wdb, &st->stmts, &slot->ev, &dup);
            if (rc != SQLITE_OK) {
                what = qtr_event_type_name(slot->ev.type);
                break;
            }
            dups += dup;
            last_seq = slot->seq;
        }
        if (rc == SQLITE_OK) {
            what = "COMMIT";
            rc = qh_store_step_done(st->stmts.commit);
        }
        char msg[256] = "";
        if (rc != SQLITE_OK) {
            qtr_strlcpy(msg, sqlite3_errmsg(st->wdb), sizeof msg);
            if (!sqlite3_get_autocommit(st->wdb)) sqlite3_exec(st->wdb, "ROLLBACK", NULL, NULL, NULL);
        } else if (hook) {
            hook(hook_ud, last_seq);   /* committed, not yet reported durable */
        }

        pthread_mutex_lock(&st->mu);
        if (rc == SQLITE_OK) {
            st->head = (st->head + n) % cap;
            st->count -= n;
            st->ready -= n;
            st->committed += n;
            st->duplicate_fills += dups;
            st->transactions++;
            atomic_store(&st->durable_seq, last_seq);
        } else {
            char what_buf[64];
            snprintf(what_buf, sizeof what_buf, "writing %s", what);
            fail_locked(st, what_buf, rc, msg);
        }
        pthread_cond_broadcast(&st->progress);
        notify(st);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

void qh_store_test_commit_each(qh_store *st, qh_store_commit_hook hook, void *ud)
{
    pthread_mutex_lock(&st->mu);
    st->opt.batch_max = 1;
    st->commit_hook = hook;
    st->commit_hook_ud = ud;
    pthread_mutex_unlock(&st->mu);
}
