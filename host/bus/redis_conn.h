/*
 * One async Redis connection on the host's libevent loop (hiredis 0.14 and
 * its libevent adapter), shared by the mirror and the consumer: connect to
 * an address literal (resolved once at start, so no lookup ever blocks the
 * loop), the AUTH/SELECT preamble, and the reconnect delay.
 */
#ifndef QH_BUS_REDIS_CONN_H
#define QH_BUS_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>

struct event_base;

/* Resolves host (a name or an address literal) to an address literal, once,
 * at start. 0, or -1 with why. */
int qh_redis_resolve(const char *host, char *ip, size_t ipcap, char *why, size_t whylen);

/* A non-blocking connect; ac->data = data. NULL with err. */
redisAsyncContext *qh_redis_open(struct event_base *base, const char *ip, int port, void *data,
                                 redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect,
                                 char *err, size_t errlen);

/* Queues AUTH (password non-empty) and SELECT (db != 0) ahead of anything
 * else; each reply goes to cb(privdata). Returns how many were queued. */
int qh_redis_preamble(redisAsyncContext *ac, const char *password, int db, redisCallbackFn *cb, void *privdata);

/* Delay before reconnect attempt `attempt` (0, 1, ...): 100 ms doubling to
 * 5 s, times a random factor in [0.5, 1.5) so hosts do not reconnect in step. */
int64_t qh_redis_backoff_ms(unsigned attempt, unsigned *rng);

#endif
