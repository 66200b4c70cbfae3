/*
 * Event identity: every event this host puts on the bus carries host_id and
 * a sequence number that never repeats, not even after a crash or restart.
 *
 * The sequence is reserved in blocks: before the first number of a block is
 * used, the block's end is written to the sequence file (temp file, fsync,
 * rename), so a restart starts after everything that may have been used and
 * at worst skips the rest of a block. A fsync per block, not per event.
 */
#ifndef QH_BUS_EVENT_SEQ_H
#define QH_BUS_EVENT_SEQ_H

#include <stddef.h>
#include <stdint.h>

#define QH_SEQ_BLOCK_DEFAULT (UINT64_C(1) << 16)

typedef struct qh_seq qh_seq;

/* Opens or creates the sequence file ("qtr-bus-seq 1 <next>\n"). A file that
 * does not read back is refused (never restart from 1 by guesswork). NULL
 * with one line in err. */
qh_seq *qh_seq_open(const char *path, uint64_t block, char *err, size_t errlen);
void qh_seq_close(qh_seq *s);
/* The next number (the first is 1). 0 if a new block could not be made
 * durable: the caller must refuse the event (err says why). */
uint64_t qh_seq_next(qh_seq *s, char *err, size_t errlen);
/* The next number that would be handed out (for status). */
uint64_t qh_seq_peek(const qh_seq *s);

#endif
