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
    slot->ev = *ev;
    st->count++;
    st->enqueued++;
    uint64_t seq = slot->seq;
    /* Wake the writer only if it sleeps: a signal costs a syscall. */
    if (st->writer_waiting) pthread_cond_signal(&st->nonempty);
    pthread_mutex_unlock(&st->mu);
    if (seq_out) *seq_out = seq;

    if (st->opt.synchronous) {
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

int qh_store_flush(qh_store *st, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&st->mu);
    uint64_t target = st->next_seq;
    int status = QTR_OK;
    while (!st->failed && atomic_load(&st->durable_seq) < target) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&st->progress, &st->mu);
        } else if (pthread_cond_timedwait(&st->progress, &st->mu, &deadline) == ETIMEDOUT) {
            status = QH_STORE_ETIMEDOUT;
            break;
        }
    }
    if (st->failed && atomic_load(&st->durable_seq) < target) status = QTR_EIO;
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
