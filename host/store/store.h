/*
 * host/store — the durable trade record (SQLite).
 *
 * The host hands the store every ORDER_INTENT, ORDER_UPDATE, FILL, POSITION,
 * EQUITY, ESS_STATE, POLICY and ALERT event it sees; at start it asks the store
 * for the state to resume. See docs/store.md for the schema and the reasoning.
 *
 * Threads. qh_store_open() starts one writer thread that owns the write
 * connection. Everything else is called from the host's loop thread (the
 * enqueue path is also safe from other threads; reads are serialised by a
 * lock). The loop thread never waits for the disk except in qh_store_flush(),
 * qh_store_close() and the read/operator calls.
 *
 * Writes. qh_store_enqueue() copies the event into a preallocated bounded ring
 * (no malloc) and returns its sequence number at once. The writer drains the
 * ring in batched transactions (group commit: everything queued while the
 * previous commit was syncing goes into the next one, at most batch_max per
 * transaction). The ring is full -> QTR_EFULL, nothing is dropped silently:
 * the caller decides.
 *
 * Durability. The database runs in WAL mode with synchronous=FULL: a commit
 * returns only after the WAL is fsync'ed, so a record whose sequence number is
 * <= qh_store_durable_seq() survives a process crash and a power loss. The
 * writer signals an eventfd (qh_store_notify_fd()) after every commit and on
 * failure; the loop watches it and calls qh_store_dispatch(), which runs the
 * callbacks registered with qh_store_watch() on the loop thread.
 *
 * Failures. Any failed write (disk full, I/O error, a constraint violated by a
 * record) rolls back its transaction and puts the store in an error state:
 * qh_store_health() is CRITICAL with SQLite's message, every later enqueue
 * returns QTR_EIO, pending watches are called with QTR_EIO. A fill whose
 * fill_id is already stored is not an error: it is ignored and counted.
 *
 * Money is qtr_dec everywhere and INTEGER (value * 1e8) in the database.
 */
#ifndef QH_STORE_H
#define QH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qtr/events.h>
#include <qtr/plugin.h>

/* Schema version this build writes (PRAGMA user_version). */
#define QH_STORE_SCHEMA_VERSION 4

/* qh_store_flush() gave up waiting (the store is still healthy). */
#define QH_STORE_ETIMEDOUT -100

typedef struct qh_store qh_store;

typedef struct qh_store_options {
    uint32_t queue_capacity; /* records in the ring; 0: 8192                    */
    uint32_t batch_max;      /* records per transaction; 0: 4096 (a group is
                                never cut: a batch may end past it)         */
    uint32_t batch_wait_ms;  /* after the first record, wait up to this long for
                                more before committing; 0: commit at once      */
    bool synchronous;        /* every enqueue waits until its record is
                                committed (backtests, tools, tests)            */
    uint32_t max_pages;      /* cap on the database size in pages; 0: none.
                                Reaching it is a write failure (disk full).    */
} qh_store_options;

/*
 * Open (or create) the store at `path`, run forward migrations (each in its
 * own transaction) and start the writer. On refusal: NULL and one line in
 * err naming the path and the reason, and the file is left as it was:
 *   - the path cannot be created or written;
 *   - the file is not an SQLite database, or fails PRAGMA quick_check;
 *   - its schema is newer than QH_STORE_SCHEMA_VERSION.
 * opt may be NULL for the defaults.
 */
qh_store *qh_store_open(const char *path, const qh_store_options *opt, char *err, size_t errlen);

/* Commit everything still queued, stop the writer and close. QTR_OK, or
 * QTR_EIO if the store was in the error state (queued records not stored).
 * st may be NULL. */
int qh_store_close(qh_store *st);

const char *qh_store_path(const qh_store *st);

/* ---------------------------------------------------------------- writes -- */

/*
 * Queue one event for writing. Accepted types: ORDER_INTENT (order recorded
 * as PENDING with its strategy), ORDER_UPDATE, FILL, POSITION, EQUITY,
 * ESS_STATE, POLICY, ALERT. The event is validated first (QTR_EINVAL and a
 * message in err naming the field). Returns QTR_OK and *seq_out (may be NULL)
 * the record's sequence number; QTR_EFULL if the ring is full; QTR_EIO if the
 * store is in the error state. err may be NULL.
 */
int qh_store_enqueue(qh_store *st, const qtr_event *ev, uint64_t *seq_out, char *err, size_t errlen);

/* Typed shortcuts for qh_store_enqueue(). time_ms of the event is taken from
 * the payload. */
int qh_store_record_fill(qh_store *st, const qtr_fill *fill, uint64_t *seq_out);
int qh_store_record_order(qh_store *st, const qtr_order_update *order, uint64_t *seq_out);

/* Wait until every record queued so far is committed; an open group is
 * ended first (a flush is a commit point). timeout_ms < 0: no limit. QTR_OK,
 * QTR_EIO (error state), or QH_STORE_ETIMEDOUT. */
int qh_store_flush(qh_store *st, int timeout_ms);

/* Wait until the ring has room for one more record. QTR_OK, QTR_EIO (error
 * state), QH_STORE_ETIMEDOUT, or QTR_EFULL at once when the records of the
 * open group fill the ring by themselves (nothing can be written before the
 * group ends: the caller decides whether to end it early). Does not end a
 * group. */
int qh_store_wait_room(qh_store *st, int timeout_ms);

/* ---------------------------------------------------------------- groups -- */

/*
 * Records that belong together (a fill, its order update, the position and
 * the equity it moves) are queued between qh_store_group_begin() and
 * qh_store_group_end() and committed in ONE transaction: no reader, backup
 * or crash ever sees some of them without the others. The writer does not
 * take a group's records before it ends, and a batch never ends inside a
 * group, whatever batch_max. One group at a time: begin while one is open
 * and end while none is do nothing. qh_store_flush() and qh_store_close()
 * end an open group first. In synchronous mode an enqueue inside a group
 * does not wait; qh_store_group_end() waits for the group's commit.
 * Meant for one producer thread (the loop); a record another thread queues
 * meanwhile joins the group.
 */
void qh_store_group_begin(qh_store *st);
void qh_store_group_end(qh_store *st);

/* ------------------------------------------------------------ durability -- */

/* Highest sequence number committed (every record up to it is durable). */
uint64_t qh_store_durable_seq(const qh_store *st);
/* Highest sequence number handed out by qh_store_enqueue(). */
uint64_t qh_store_last_seq(const qh_store *st);

/* An eventfd that becomes readable after each commit and on failure. Watch
 * it for reading on the loop; call qh_store_dispatch() when it is. */
int qh_store_notify_fd(const qh_store *st);

typedef void (*qh_store_durable_cb)(void *ud, uint64_t seq, int status);

/*
 * Ask for cb(ud, seq, QTR_OK) once record `seq` is committed, or
 * cb(ud, seq, QTR_EIO) if the store fails before that. Callbacks run only
 * inside qh_store_dispatch(), on the caller's thread, in seq order. seq must
 * not be below an earlier watch's seq (QTR_EINVAL). At most queue_capacity
 * watches pending (QTR_EFULL). Loop thread only.
 */
int qh_store_watch(qh_store *st, uint64_t seq, qh_store_durable_cb cb, void *ud);

/* Clear the eventfd and run the callbacks now due. Returns how many ran. */
size_t qh_store_dispatch(qh_store *st);

/* ---------------------------------------------------------------- health -- */

typedef struct qh_store_stats {
    uint64_t enqueued;           /* records accepted                          */
    uint64_t committed;          /* records committed                         */
    uint64_t duplicate_fills;    /* fills ignored: fill_id already stored     */
    uint64_t rejected_full;      /* enqueues refused with QTR_EFULL           */
    uint64_t transactions;       /* write transactions committed              */
    uint32_t queue_depth, queue_capacity;
} qh_store_stats;

void qh_store_get_stats(qh_store *st, qh_store_stats *out);

/* OK; DEGRADED while the ring is more than 3/4 full; CRITICAL in the error
 * state, with SQLite's message. */
void qh_store_health(qh_store *st, qtr_health *out);

/* True in the error state; the full message goes to msg (may be NULL). */
bool qh_store_failed(qh_store *st, char *msg, size_t msglen);

/* --------------------------------------------------------------- testing -- */

typedef void (*qh_store_commit_hook)(void *ud, uint64_t durable_seq);

/* Testing seam, to force a commit boundary wherever one may fall: from now
 * on the writer commits one record per transaction (a group still whole)
 * and calls hook(ud, seq) on the writer thread after each commit, before the
 * records up to seq are reported durable (so a flush that returns has seen
 * every hook of its records). The hook may read the database through a
 * connection of its own; it must not enqueue, flush or close. */
void qh_store_test_commit_each(qh_store *st, qh_store_commit_hook hook, void *ud);

/* ------------------------------------------------------------------ meta -- */

/* Small key/value facts (run id, starting balance). Written synchronously:
 * for start-up, not for the trading loop. */
int qh_store_meta_set(qh_store *st, const char *key, const char *value, char *err, size_t errlen);
/* QTR_OK, QTR_ENOTFOUND, QTR_EINVAL (value does not fit), QTR_EIO. */
int qh_store_meta_get(qh_store *st, const char *key, char *value, size_t cap);

/* The starting balance, kept in meta as exact decimal text. */
int qh_store_set_starting_balance(qh_store *st, qtr_dec balance, char *err, size_t errlen);

/* ------------------------------------------------------------ exit plans -- */

/* A symbol's exit plan (host/exits) as the bytes of its sized struct, its
 * owner and when its position opened (0: flat). Synchronous, like meta.
 * QTR_OK, QTR_EINVAL, QTR_EIO (err set). */
int qh_store_exit_plan_put(qh_store *st, const char *symbol, const char *owner, const void *plan, size_t size,
                           int64_t opened_ms, int64_t now_ms, char *err, size_t errlen);
int qh_store_exit_plan_delete(qh_store *st, const char *symbol, char *err, size_t errlen);
/* Every stored plan, by symbol; plan is valid during the call only. */
typedef void (*qh_store_exit_plan_cb)(void *ud, const char *symbol, const char *owner, const void *plan, size_t size,
                                      int64_t opened_ms);
int qh_store_exit_plans_each(qh_store *st, qh_store_exit_plan_cb cb, void *ud, char *err, size_t errlen);

/* ---------------------------------------------------------- reading back -- */

/* A symbol whose stored position quantity is not the sum of its fills. */
typedef struct qh_store_position_check {
    char symbol[QTR_SYMBOL_MAX];
    qtr_dec stored_qty;   /* positions.qty (0 if no row)                      */
    qtr_dec fills_qty;    /* sum of fills: buys minus sells                   */
} qh_store_position_check;

/* What the host needs to resume. Arrays are malloc'ed; free with
 * qh_store_state_free(). Only committed records are seen: flush first. */
typedef struct qh_store_state {
    qtr_order_update *open_orders;  /* status PENDING, NEW, PARTIALLY_FILLED
                                       or UNKNOWN, oldest first              */
    size_t n_open_orders;
    qtr_position *positions;        /* every stored row (flat ones too: their
                                       realized PnL and fees still count)    */
    size_t n_positions;
    qh_store_position_check *mismatches;
    size_t n_mismatches;
    bool has_equity;                /* the latest equity snapshot            */
    qtr_equity equity;
    int64_t day_start_ms;           /* UTC midnight of that snapshot's day   */
    bool has_ess;
    qtr_ess_event ess;              /* current ESS state                     */
    bool has_policy;
    qtr_policy_event last_policy;   /* the last policy load, good or bad     */
    bool has_good_policy;
    qtr_policy_event last_good_policy;
    bool has_starting_balance;
    qtr_dec starting_balance;
    uint64_t n_fills;               /* fills stored                          */
} qh_store_state;

int qh_store_load_state(qh_store *st, qh_store_state *out, char *err, size_t errlen);
void qh_store_state_free(qh_store_state *state);

/* History for dashboards, newest first, at most cap rows. Return the number
 * written (0 on error or when empty). */
size_t qh_store_recent_fills(qh_store *st, qtr_fill *out, size_t cap);
size_t qh_store_recent_orders(qh_store *st, qtr_order_update *out, size_t cap);
size_t qh_store_equity_history(qh_store *st, qtr_equity *out, size_t cap);
size_t qh_store_recent_alerts(qh_store *st, qtr_alert *out, size_t cap);
size_t qh_store_ess_history(qh_store *st, qtr_ess_event *out, size_t cap);

/* One order by client id: QTR_OK, QTR_ENOTFOUND, QTR_EIO. */
int qh_store_get_order(qh_store *st, const char *client_id, qtr_order_update *out);

/* -------------------------------------------------------- reconciliation -- */

typedef enum qh_recon_kind {
    QH_RECON_UNKNOWN_ORDER = 1,  /* open on the exchange, not in the store:
                                    queued for writing as external          */
    QH_RECON_MISSING_ORDER,      /* open in the store, not on the exchange   */
    QH_RECON_ORDER_MISMATCH,     /* both know it; status or filled differ    */
    QH_RECON_POSITION_MISMATCH   /* quantities differ (a missing side is 0)  */
} qh_recon_kind;

typedef struct qh_recon_diff {
    qh_recon_kind kind;
    char symbol[QTR_SYMBOL_MAX];
    char client_id[QTR_CLIENT_ID_MAX];   /* empty for positions             */
    qtr_dec store_qty, exchange_qty;     /* filled qty or position qty      */
    char detail[QTR_TEXT_MAX];           /* one line for the log            */
} qh_recon_diff;

const char *qh_recon_kind_name(qh_recon_kind kind);

/*
 * Compare the exchange's snapshot (its open orders and positions) with the
 * store. Unknown orders are queued as external orders (external = true).
 * *diffs is malloc'ed (free() it; NULL when there is none). QTR_OK, or an
 * error (QTR_EIO, QTR_EFULL while queueing) with err set.
 */
int qh_store_reconcile(qh_store *st, const qtr_order_update *orders, size_t n_orders,
                       const qtr_position *positions, size_t n_positions,
                       qh_recon_diff **diffs, size_t *n_diffs, char *err, size_t errlen);

/* ------------------------------------------------------- operator tools -- */

/*
 * Online backup with SQLite's backup API, a few pages per step so a running
 * server's writer is never held up for long (WAL: the backup reads one
 * consistent snapshot while the writer goes on). Writes `dest_path`.partial,
 * syncs it and renames it to dest_path; refuses an existing dest_path.
 * Its errors name dest_path, never the .partial: an interrupted backup's
 * .partial is removed (and one left by a crash is replaced by the next).
 */
#define QH_STORE_BACKUP_SUFFIX ".partial"
int qh_store_backup_file(const char *src_path, const char *dest_path, char *err, size_t errlen);
/* The same, the errors naming the destination dest_name ("a temporary
 * copy in /tmp" for a copy the user never named). */
int qh_store_backup_file_as(const char *src_path, const char *dest_path, const char *dest_name, char *err,
                            size_t errlen);
int qh_store_backup(qh_store *st, const char *dest_path, char *err, size_t errlen);

/* Every stored fill as CSV, oldest first: a header line, then
 * time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only
 * with money as decimal text. QTR_OK or QTR_EIO (err set). */
int qh_store_export_trades_csv(qh_store *st, FILE *out, char *err, size_t errlen);

#endif
