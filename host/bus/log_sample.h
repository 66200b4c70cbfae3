/*
 * How a refusal that can come in floods is logged (an entry the consumer
 * refuses, a signal from another host the pipeline refuses): the first 20,
 * then only the 32nd, 64th, 128th, ... Each line carries the count so far, so
 * a flood cannot flood the log and the log still says how large it was.
 */
#ifndef QH_BUS_LOG_SAMPLE_H
#define QH_BUS_LOG_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the n-th refusal of a kind (n counts from 1) gets a log line. */
static inline bool qh_log_sampled(uint64_t n) { return n <= 20 || (n & (n - 1)) == 0; }

#endif
