/*
 * A real redis-server for the bus tests: started on a free loopback port in
 * a temporary folder (AOF with appendfsync always, so a SIGKILL loses no
 * acknowledged write), killed, frozen, thawed and restarted by the test, and
 * a blocking hiredis client to check what the streams hold. Every wait is
 * bounded.
 */
#ifndef QTR_TEST_REDIS_FIXTURE_H
#define QTR_TEST_REDIS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

typedef struct redis_fx {
    char dir[64];
    int port;
    pid_t pid;
    int generation;      /* data folder: dir/<generation> (a new one is an empty dataset) */
    bool no_aof;         /* benchmarks: no persistence (Redis's fsync is not what they measure) */
} redis_fx;

/* false if redis-server is not installed (the test is then skipped).
 * no_aof: without persistence, for benchmarks. */
bool redis_fx_start(redis_fx *r, bool no_aof);
/* (Re)start on the same port, in the same data folder or a new empty one. */
void redis_fx_restart(redis_fx *r, bool empty);
void redis_fx_kill(redis_fx *r, int sig);      /* SIGKILL: waits for the exit */
void redis_fx_stop(redis_fx *r);               /* SIGTERM, wait, remove the folder */
redisContext *redis_fx_client(const redis_fx *r);

/* Every entry of a stream: host ("h"), seq ("s") and envelope ("e") of each,
 * in stream order. Returns the count (up to cap). */
typedef struct redis_fx_entry {
    char host[40];
    uint64_t seq;
    unsigned char env[1024];
    size_t env_len;
} redis_fx_entry;
size_t redis_fx_read_stream(redisContext *c, const char *key, redis_fx_entry *out, size_t cap);

#endif
