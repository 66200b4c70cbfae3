/*
 * The store's life cycle (open, close), its health and statistics, and the
 * small meta table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "store/store_impl.h"

#define DEFAULT_QUEUE_CAPACITY 8192u
#define DEFAULT_BATCH_MAX 4096u   /* fewer fsyncs under load: docs/store.md, "Write rate" */

static void free_store(qh_store *st)
{
    qh_store_stmts_finalize(&st->stmts);
    sqlite3_close(st->wdb);
    sqlite3_close(st->rdb);
    if (st->notify_fd >= 0) close(st->notify_fd);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->rmu);
    pthread_cond_destroy(&st->nonempty);
    pthread_cond_destroy(&st->progress);
    free(st->ring);
    free(st->watches);
    free(st->path);
    free(st);
}

qh_store *qh_store_open(const char *path, const qh_store_options *opt, char *err, size_t errlen)
{
    if (!path || !*path) {
        qh_store_errf(err, errlen, "store: no path given");
        return NULL;
    }
    qh_store *st = calloc(1, sizeof *st);
    if (!st) {
        qh_store_errf(err, errlen, "store %s: out of memory", path);
        return NULL;
    }
    st->notify_fd = -1;
    pthread_mutex_init(&st->mu, NULL);
    pthread_mutex_init(&st->rmu, NULL);
    pthread_cond_init(&st->nonempty, NULL);
    pthread_cond_init(&st->progress, NULL);
    if (opt) st->opt = *opt;
    if (st->opt.queue_capacity == 0) st->opt.queue_capacity = DEFAULT_QUEUE_CAPACITY;
    if (st->opt.batch_max == 0) st->opt.batch_max = DEFAULT_BATCH_MAX;
    st->path = strdup(path);
    st->ring = calloc(st->opt.queue_capacity, sizeof *st->ring);
    st->watches = calloc(st->opt.queue_capacity, sizeof *st->watches);
    if (!st->path || !st->ring || !st->watches) {
        qh_store_errf(err, errlen, "store %s: out of memory for a queue of %u records", path,
                      st->opt.queue_capacity);
        goto fail;
    }
    st->wdb = qh_store_schema_open(path, err, errlen);
    if (!st->wdb) goto fail;
    if (st->opt.max_pages > 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%u", st->opt.max_pages);
        sqlite3_exec(st->wdb, sql, NULL, NULL, NULL);
    }
    int rc = qh_store_stmts_prepare(st->wdb, &st->stmts);
    if (rc != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: cannot prepare statements: %s", path, sqlite3_errmsg(st->wdb));
        goto fail;
    }
    st->rdb = qh_store_connect(path, SQLITE_OPEN_READWRITE, err, errlen);
    if (!st->rdb) goto fail;
    sqlite3_exec(st->rdb, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
    st->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->notify_fd < 0) {
        qh_store_errf(err, errlen, "store %s: eventfd failed", path);
        goto fail;
    }
    if (pthread_create(&st->writer, NULL, qh_store_writer_main, st) != 0) {
        qh_store_errf(err, errlen, "store %s: cannot start the writer thread", path);
        goto fail;
    }
    st->writer_started = true;
    return st;
fail:
    free_store(st);
    return NULL;
}

int qh_store_close(qh_store *st)
{
    if (!st) return QTR_OK;
    pthread_mutex_lock(&st->mu);
    st->stopping = true;
    pthread_cond_signal(&st->nonempty);
    pthread_mutex_unlock(&st->mu);
    if (st->writer_started) pthread_join(st->writer, NULL);
    /* The writer drains the ring before it stops unless the store failed. */
    int status = st->failed ? QTR_EIO : QTR_OK;
    free_store(st);
    return status;
}

const char *qh_store_path(const qh_store *st)
{
    return st->path;
}

void qh_store_get_stats(qh_store *st, qh_store_stats *out)
{
    pthread_mutex_lock(&st->mu);
    out->enqueued = st->enqueued;
    out->committed = st->committed;
    out->duplicate_fills = st->duplicate_fills;
    out->rejected_full = st->rejected_full;
    out->transactions = st->transactions;
    out->queue_depth = st->count;
    out->queue_capacity = st->opt.queue_capacity;
    pthread_mutex_unlock(&st->mu);
}

void qh_store_health(qh_store *st, qtr_health *out)
{
    pthread_mutex_lock(&st->mu);
    if (st->failed) {
        out->status = QTR_HEALTH_CRITICAL;
        qtr_strlcpy(out->reason, st->error, sizeof out->reason);
    } else if ((uint64_t)st->count * 4 > (uint64_t)st->opt.queue_capacity * 3) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(out->reason, sizeof out->reason, "store queue %u of %u records", st->count,
                 st->opt.queue_capacity);
    } else {
        /* what an operator checks first: that records are being written */
        out->status = QTR_HEALTH_OK;
        snprintf(out->reason, sizeof out->reason, "%llu records written, queue %u of %u",
                 (unsigned long long)st->committed, st->count, st->opt.queue_capacity);
    }
    pthread_mutex_unlock(&st->mu);
}

bool qh_store_failed(qh_store *st, char *msg, size_t msglen)
{
    pthread_mutex_lock(&st->mu);
    bool failed = st->failed;
    if (failed && msg) qtr_strlcpy(msg, st->error, msglen);
    pthread_mutex_unlock(&st->mu);
    return failed;
}

int qh_store_meta_set(qh_store *st, const char *key, const char *value, char *err, size_t errlen)
{
    if (!key || !*key || !value) {
        qh_store_errf(err, errlen, "store meta: key and value are required");
        return QTR_EINVAL;
    }
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->rdb,
                                "INSERT INTO meta(key, value) VALUES(?1, ?2)"
                                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
    }
    int status = QTR_OK;
    if (rc != SQLITE_DONE) {
        qh_store_errf(err, errlen, "store %s: writing meta %s failed: %s", st->path, key, sqlite3_errmsg(st->rdb));
        status = QTR_EIO;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}

int qh_store_meta_get(qh_store *st, const char *key, char *value, size_t cap)
{
    if (!key || !value || cap == 0) return QTR_EINVAL;
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_EIO;
    if (sqlite3_prepare_v2(st->rdb, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(s, 0);
            size_t len = v ? strlen(v) : 0;
            if (len >= cap) {
                status = QTR_EINVAL;
            } else {
                memcpy(value, v ? v : "", len + 1);
                status = QTR_OK;
            }
        } else if (rc == SQLITE_DONE) {
            status = QTR_ENOTFOUND;
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}

int qh_store_set_starting_balance(qh_store *st, qtr_dec balance, char *err, size_t errlen)
{
    char text[QTR_DEC_STRLEN];
    return qh_store_meta_set(st, "starting_balance", qtr_dec_format(balance, text), err, errlen);
}
