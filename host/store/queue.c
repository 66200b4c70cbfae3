/*
 * The caller's side of the write path: enqueue into the bounded ring, wait
 * for commits (flush), and durability watches dispatched on the loop.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_impl.h"

int qh_store_enqueue(qh_store *st, const qtr_event *ev, uint64_t *seq_out, char *err, size_t errlen)
{
    if (!st || !ev) {
        qh_store_errf(err, errlen, "store: enqueue without a store or an event");
        return QTR_EINVAL;
    }
    int rc = qh_store_validate(ev, err, errlen);
    if (rc != QTR_OK) return rc;

    pthread_mutex_lock(&st->mu);
    if (st->failed) {
        qh_store_errf(err, errlen, "%s", st->error);
        pthread_mutex_unlock(&st->mu);
        return QTR_EIO;
    }
    if (st->count == st->opt.queue_capacity || st->stopping) {
        st->rejected_full++;
        pthread_mutex_unlock(&st->mu);
        qh_store_errf(err, errlen, "store %s: write queue full (%u records)", st->path, st->opt.queue_capacity);
        return QTR_EFULL;
    }
    qh_store_slot *slot = &st->ring[(st->head + st->count) % st->opt.queue_capacity];
    slot->seq = ++st->next_seq;
    slot->joins_next = st->group_open;
    slot->ev = *ev;
    st->count++;
    st->enqueued++;
    uint64_t seq = slot->seq;
    bool in_group = st->group_open;
    if (!in_group) {
        st->ready = st->count;
        /* Wake the writer only if it sleeps: a signal costs a syscall. */
        if (st->writer_waiting) pthread_cond_signal(&st->nonempty);
    }
    pthread_mutex_unlock(&st->mu);
    if (seq_out) *seq_out = seq;

    if (st->opt.synchronous && !in_group) {
        int frc = qh_store_flush(st, -1);
        if (frc != QTR_OK) {
            qh_store_failed(st, err, errlen);
            return frc;
        }
    }
    return QTR_OK;
}

int qh_store_record_fill(qh_store *st, const qtr_fill *fill, uint64_t *seq_out)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = fill->time_ms;
    ev.u.fill = *fill;
    return qh_store_enqueue(st, &ev, seq_out, NULL, 0);
}

int qh_store_record_order(qh_store *st, const qtr_order_update *order, uint64_t *seq_out)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = order->time_ms;
    ev.u.order_update = *order;
    return qh_store_enqueue(st, &ev, seq_out, NULL, 0);
}

void qh_store_group_close_locked(qh_store *st)
{
    if (!st->group_open) return;
    st->group_open = false;
    if (st->count > st->ready) {
        /* the group's last record ends its transaction */
        st->ring[(st->head + st->count - 1) % st->opt.queue_capacity].joins_next = false;
        st->ready = st->count;
        if (st->writer_waiting) pthread_cond_signal(&st->nonempty);
    }
}

void qh_store_group_begin(qh_store *st)
{
    pthread_mutex_lock(&st->mu);
    st->group_open = true;
    pthread_mutex_unlock(&st->mu);
}

void qh_store_group_end(qh_store *st)
{
    pthread_mutex_lock(&st->mu);
    bool was_open = st->group_open;
    qh_store_group_close_locked(st);
    pthread_mutex_unlock(&st->mu);
    if (was_open && st->opt.synchronous) qh_store_flush(st, -1);
}

static void deadline_in(struct timespec *deadline, int timeout_ms)
{
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += timeout_ms / 1000;
    deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* Wait on progress until done(st) or failure or the deadline. mu held.
 * QTR_OK when done, QTR_EIO, QH_STORE_ETIMEDOUT. */
static int wait_progress_locked(qh_store *st, int timeout_ms, bool (*done)(qh_store *st, uint64_t target),
                                uint64_t target)
{
    struct timespec deadline;
    if (timeout_ms >= 0) deadline_in(&deadline, timeout_ms);
    while (!done(st, target) && !st->failed) {
        if (timeout_ms < 0) pthread_cond_wait(&st->progress, &st->mu);
        else if (pthread_cond_timedwait(&st->progress, &st->mu, &deadline) == ETIMEDOUT) break;
    }
    if (done(st, target)) return QTR_OK;
    return st->failed ? QTR_EIO : QH_STORE_ETIMEDOUT;
}

static bool committed_up_to(qh_store *st, uint64_t target)
{
    return atomic_load(&st->durable_seq) >= target;
}

int qh_store_flush(qh_store *st, int timeout_ms)
{
    pthread_mutex_lock(&st->mu);
    qh_store_group_close_locked(st);
    int status = wait_progress_locked(st, timeout_ms, committed_up_to, st->next_seq);
    pthread_mutex_unlock(&st->mu);
    return status;
}

static bool has_room(qh_store *st, uint64_t unused)
{
    (void)unused;
    return st->count < st->opt.queue_capacity;
}

int qh_store_wait_room(qh_store *st, int timeout_ms)
{
    pthread_mutex_lock(&st->mu);
    int status = st->ready == 0 && !has_room(st, 0) && !st->failed
                     ? QTR_EFULL   /* the open group alone fills the ring */
                     : wait_progress_locked(st, timeout_ms, has_room, 0);
    pthread_mutex_unlock(&st->mu);
    return status;
}

uint64_t qh_store_durable_seq(const qh_store *st)
{
    return atomic_load(&((qh_store *)st)->durable_seq);
}

uint64_t qh_store_last_seq(const qh_store *st)
{
    qh_store *m = (qh_store *)st;
    pthread_mutex_lock(&m->mu);
    uint64_t seq = m->next_seq;
    pthread_mutex_unlock(&m->mu);
    return seq;
}

int qh_store_notify_fd(const qh_store *st)
{
    return st->notify_fd;
}

int qh_store_watch(qh_store *st, uint64_t seq, qh_store_durable_cb cb, void *ud)
{
    if (!cb || seq == 0 || seq < st->w_last_seq) return QTR_EINVAL;
    if (st->w_count == st->opt.queue_capacity) return QTR_EFULL;
    qh_store_watch_entry *w = &st->watches[(st->w_head + st->w_count) % st->opt.queue_capacity];
    w->seq = seq;
    w->cb = cb;
    w->ud = ud;
    st->w_count++;
    st->w_last_seq = seq;
    /* Already durable or failed: make sure the loop wakes to dispatch it. */
    if (seq <= qh_store_durable_seq(st) || qh_store_failed(st, NULL, 0)) {
        uint64_t one = 1;
        ssize_t n = write(st->notify_fd, &one, sizeof one);
        (void)n;
    }
    return QTR_OK;
}

size_t qh_store_dispatch(qh_store *st)
{
    uint64_t counter;
    while (read(st->notify_fd, &counter, sizeof counter) > 0) {
    }
    size_t ran = 0;
    /* Failure first: once failed, durable_seq no longer moves, so a record
     * committed just before the failure is still reported as durable. */
    bool failed = qh_store_failed(st, NULL, 0);
    uint64_t durable = qh_store_durable_seq(st);
    /* Pop before calling: a callback may add a watch. */
    while (st->w_count > 0) {
        qh_store_watch_entry w = st->watches[st->w_head];
        int status;
        if (w.seq <= durable) status = QTR_OK;
        else if (failed) status = QTR_EIO;
        else break;
        st->w_head = (st->w_head + 1) % st->opt.queue_capacity;
        st->w_count--;
        w.cb(w.ud, w.seq, status);
        ran++;
    }
    return ran;
}
