/*
 * The Lua script that writes one batch of a host's events to their streams
 * exactly once (redis_mirror.c sends it with EVAL, one call a batch).
 *
 *   KEYS[1]    the hash of the last seq each (host, stream) holds
 *   KEYS[1+j]  the stream of event j
 *   ARGV[1]    maxlen (XTRIM MAXLEN ~, once per stream and batch)
 *   ARGV[2]    host_id
 *   ARGV[1+2j] seq of event j, ARGV[2+2j] its envelope
 *
 * A batch holds one host's events in the order of their sequence numbers
 * (the caller guarantees it), so within a stream they rise: the events a
 * stream already holds (a batch written twice) are a prefix of that
 * stream's events in the batch. Once one is above what the stream holds,
 * the rest of that stream's are too, and go in without another comparison.
 * Returns how many events were added.
 */
#ifndef QH_BUS_MIRROR_SCRIPT_H
#define QH_BUS_MIRROR_SCRIPT_H

#include <stddef.h>

extern const char qh_mirror_script[];
extern const size_t qh_mirror_script_len;

#endif
