/*
 * Internals of host/store shared by its source files. Not for other areas.
 */
#ifndef QH_STORE_IMPL_H
#define QH_STORE_IMPL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"

/* One queued record: the event as the host handed it, and its number.
 * joins_next: the next record belongs to the same transaction (a group). */
typedef struct qh_store_slot {
    uint64_t seq;
    bool joins_next;
    qtr_event ev;
} qh_store_slot;

typedef struct qh_store_watch_entry {
    uint64_t seq;
    qh_store_durable_cb cb;
    void *ud;
} qh_store_watch_entry;

/* Prepared statements of the writer connection. */
typedef struct qh_store_stmts {
    sqlite3_stmt *order_upsert, *order_intent, *order_event;
    sqlite3_stmt *fill_insert, *position_upsert, *equity_insert;
    sqlite3_stmt *ess_current, *ess_transition, *policy_insert, *alert_insert;
    sqlite3_stmt *begin, *commit;   /* parsed once, not per batch */
} qh_store_stmts;

struct qh_store {
    char *path;
    qh_store_options opt;

    /* Writer side: the connection and statements belong to the thread. */
    sqlite3 *wdb;
    qh_store_stmts stmts;
    pthread_t writer;
    bool writer_started;

    /* The ring and everything below are guarded by mu. Slots in
     * [head, head + count) are queued or being written; the producer writes
     * only at head + count, so the writer reads its batch without the lock.
     * The writer takes only the first `ready` of them: the records of an
     * open group follow and become ready together when it closes. */
    pthread_mutex_t mu;
    pthread_cond_t nonempty;   /* producer -> writer                       */
    pthread_cond_t progress;   /* writer -> flush(): a commit or a failure */
    qh_store_slot *ring;
    uint32_t head, count, ready;
    bool group_open;
    uint64_t next_seq;         /* last seq handed out                      */
    bool writer_waiting, stopping;
    /* Testing seam (qh_store_test_commit_each): called after each commit. */
    qh_store_commit_hook commit_hook;
    void *commit_hook_ud;
    bool failed;
    char error[512];
    uint64_t enqueued, committed, duplicate_fills, rejected_full, transactions;

    _Atomic uint64_t durable_seq;
    int notify_fd;

    /* Reads, meta and reconciliation: a second connection, one user at a time. */
    pthread_mutex_t rmu;
    sqlite3 *rdb;

    /* Watches: a FIFO ring used by the loop thread only. */
    qh_store_watch_entry *watches;
    uint32_t w_head, w_count;
    uint64_t w_last_seq;
};

/* schema.c */
/* Check that path may be opened (exists as a database of a version we know,
 * passes quick_check, is writable), then migrate it to the current version.
 * Returns an open connection configured for writing, or NULL with err set. */
sqlite3 *qh_store_schema_open(const char *path, char *err, size_t errlen);
/* A further connection to an already opened store (WAL, foreign keys, busy
 * timeout). */
sqlite3 *qh_store_connect(const char *path, int flags, char *err, size_t errlen);
/* The DDL of one version (1-based), for tests and documentation. */
const char *qh_store_schema_ddl(int version);

/* codec.c: enum <-> text as stored, and validation of incoming records. */
const char *qh_store_side_text(qtr_side side);
bool qh_store_side_parse(const char *text, qtr_side *out);
const char *qh_store_type_text(qtr_order_type type);
bool qh_store_type_parse(const char *text, qtr_order_type *out);
const char *qh_store_status_text(qtr_order_status status);
bool qh_store_status_parse(const char *text, qtr_order_status *out);
bool qh_store_ess_parse(const char *text, qtr_ess_state *out);
/* QTR_OK, or QTR_EINVAL with err naming the field. */
int qh_store_validate(const qtr_event *ev, char *err, size_t errlen);
/* UTC midnight of the day containing time_ms. */
int64_t qh_store_utc_day_start(int64_t time_ms);
/* Copy a column's text into a fixed field (empty for NULL). */
void qh_store_col_text(sqlite3_stmt *s, int col, char *dst, size_t cap);

/* apply.c: write one record with the writer's statements. SQLite result
 * code; *duplicate is set for a fill whose fill_id was already stored. */
int qh_store_stmts_prepare(sqlite3 *db, qh_store_stmts *s);
void qh_store_stmts_finalize(qh_store_stmts *s);
int qh_store_apply(sqlite3 *db, qh_store_stmts *s, const qtr_event *ev, bool *duplicate);
/* Run a prepared statement without results (BEGIN, COMMIT). */
int qh_store_step_done(sqlite3_stmt *s);

/* writer.c */
void *qh_store_writer_main(void *arg);

/* queue.c: close an open group (its records become ready). mu held. */
void qh_store_group_close_locked(qh_store *st);

/* Formats "message" into err (safe with NULL). */
void qh_store_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
