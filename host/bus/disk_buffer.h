/*
 * The bus's outage buffer: an append-only file of framed records that holds
 * events while Redis cannot take them, and gives them back in order.
 *
 * File: a 16-byte header ("QTRBUF1\0", then the little-endian offset of the
 * first record not yet acknowledged), then records:
 *
 *     u32 length | u32 CRC-32C of the payload | payload (length bytes)
 *
 * Appends go straight to the file (the page cache keeps them if the process
 * dies); qh_dbuf_sync() fsyncs them, called in batches (bus.buffer.fsync_ms).
 * Records are read back in order from the head with next(); ack() moves the
 * head past what Redis acknowledged, and only when every record is
 * acknowledged is the file truncated. At open, a torn last record (a crash
 * mid-write: short, or its checksum wrong with nothing after it) is cut off
 * with a log line; a bad record with records after it is corruption, and
 * the buffer refuses to open (nothing is replayed past it, nothing dropped).
 */
#ifndef QH_BUS_DISK_BUFFER_H
#define QH_BUS_DISK_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QH_DBUF_HEADER 16u
#define QH_DBUF_FRAME 8u                 /* length + checksum */
#define QH_DBUF_RECORD_MAX (64u * 1024u) /* one event is far smaller */

typedef struct qh_dbuf qh_dbuf;

/* Opens (creating it, mode 0600) and checks the file. max_events: capacity
 * in unacknowledged records. NULL with one line in err ("path: offset N:
 * corrupt record (checksum) with 3 records after it; replay stopped"). */
qh_dbuf *qh_dbuf_open(const char *path, size_t max_events, char *err, size_t errlen);
/* Counts the unacknowledged records of a buffer file without changing it
 * (`qtr bus status`, while the server holds it): *count good records, and
 * *bad true if a torn or corrupt record follows them. 0, or -1 with err. */
int qh_dbuf_inspect(const char *path, size_t *count, bool *bad, char *err, size_t errlen);

/* Closes without truncating: what is not acknowledged stays for next time. */
void qh_dbuf_close(qh_dbuf *b);

/* Records past the capacity that only an urgent append may take: when the
 * buffer is full, the ESS trip and the alert that say so must still reach
 * the other hosts once Redis is back. */
#define QH_DBUF_URGENT_RESERVE 64u

/* QTR_OK; QTR_EFULL at capacity, or at capacity + QH_DBUF_URGENT_RESERVE
 * for an urgent record (nothing written); QTR_EINVAL for an empty or
 * oversized record; QTR_EIO if the write failed (err says why). */
int qh_dbuf_append(qh_dbuf *b, const void *data, size_t len, bool urgent, char *err, size_t errlen);
/* fsync what was appended or acknowledged since the last sync. QTR_OK/QTR_EIO. */
int qh_dbuf_sync(qh_dbuf *b, char *err, size_t errlen);
bool qh_dbuf_dirty(const qh_dbuf *b);

/* Unacknowledged records, and those not yet handed out by next(). */
size_t qh_dbuf_count(const qh_dbuf *b);
size_t qh_dbuf_unsent(const qh_dbuf *b);
size_t qh_dbuf_capacity(const qh_dbuf *b);

/* The next record after the last one handed out: 1 with *data (valid until
 * the next call) and *len, and *end_off, the offset to ack() once it is
 * safe; 0 when none is left; -1 on a read error or a record that no longer
 * checks out (err says where). */
int qh_dbuf_next(qh_dbuf *b, const void **data, size_t *len, uint64_t *end_off, char *err, size_t errlen);
/* Hand records out again from the head (after a lost connection). */
void qh_dbuf_rewind(qh_dbuf *b);
/* Everything before end_off is acknowledged: the head moves there, and the
 * file is truncated when nothing is left. QTR_OK, QTR_EINVAL for an offset
 * that is not a record boundary already handed out, QTR_EIO. */
int qh_dbuf_ack(qh_dbuf *b, uint64_t end_off, char *err, size_t errlen);

#endif
