/*
 * One async Redis connection on the host's libevent loop (hiredis 0.14, with
 * its libevent adapter's code and a bound on a reply's size), shared by the
 * mirror and the consumer: connect to an address literal (resolved once at
 * start, so no lookup ever blocks the loop), the AUTH/SELECT preamble, and
 * the reconnect delay.
 */
#ifndef QH_BUS_REDIS_CONN_H
#define QH_BUS_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>

struct event_base;

/* Resolves host (a name or an address literal) to an address literal, once,
 * at start. 0, or -1 with why. */
int qh_redis_resolve(const char *host, char *ip, size_t ipcap, char *why, size_t whylen);

/* The most one reply may hold: far above what a batch of events needs
 * (256 entries of at most a few KiB), far below what would hurt. */
#define QH_REDIS_REPLY_MAX_MIB 8
#define QH_REDIS_REPLY_MAX ((size_t)QH_REDIS_REPLY_MAX_MIB << 20)
/* The disconnect's errstr when a reply grew past it before it was parsed
 * ("a reply over 8 MiB"), spelled from the one number. */
#define QH_REDIS_STR_(x) #x
#define QH_REDIS_STR(x) QH_REDIS_STR_(x)
#define QH_REDIS_TOO_LARGE "a reply over " QH_REDIS_STR(QH_REDIS_REPLY_MAX_MIB) " MiB"

/* A non-blocking connect; ac->data = data. A reply that grows past
 * QH_REDIS_REPLY_MAX closes the connection (on_disconnect is called) and
 * sets *too_large, which the caller owns and clears; it is false after
 * this call. NULL with err. */
redisAsyncContext *qh_redis_open(struct event_base *base, const char *ip, int port, void *data,
                                 redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect,
                                 bool *too_large, char *err, size_t errlen);

/* Queues AUTH (password non-empty) and SELECT (db != 0) ahead of anything
 * else; each reply goes to cb(privdata). Returns how many were queued. */
int qh_redis_preamble(redisAsyncContext *ac, const char *password, int db, redisCallbackFn *cb, void *privdata);

/* What a consumer's commands need: XAUTOCLAIM and exclusive XPENDING
 * ranges came with Redis 6.2 (the mirror's XADD and XTRIM with 5.0). */
#define QH_REDIS_MIN_MAJOR 6
#define QH_REDIS_MIN_MINOR 2
/* From the text of INFO server: 1 if its redis_version is at least
 * QH_REDIS_MIN_MAJOR.QH_REDIS_MIN_MINOR, 0 if older (why says so), -1 if the
 * text names no version it can read. version gets what it names ("?"). */
int qh_redis_version_ok(const char *info, size_t len, char *version, size_t vcap, char *why, size_t whylen);

/* Delay before reconnect attempt `attempt` (0, 1, ...): 100 ms doubling to
 * 5 s, times a random factor in [0.5, 1.5) so hosts do not reconnect in step. */
int64_t qh_redis_backoff_ms(unsigned attempt, unsigned *rng);

#endif
