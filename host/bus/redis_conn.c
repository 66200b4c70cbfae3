/* redis_conn.c — see redis_conn.h. */
#include "bus/redis_conn.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libevent.h>

int qh_redis_resolve(const char *host, char *ip, size_t ipcap, char *why, size_t whylen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(why, whylen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    const void *addr = res->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
                                                  : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
    const char *ok = inet_ntop(res->ai_family, addr, ip, (socklen_t)ipcap);
    freeaddrinfo(res);
    if (!ok) {
        snprintf(why, whylen, "cannot print the address of '%s'", host);
        return -1;
    }
    return 0;
}

redisAsyncContext *qh_redis_open(struct event_base *base, const char *ip, int port, void *data,
                                 redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect,
                                 char *err, size_t errlen)
{
    redisAsyncContext *ac = redisAsyncConnect(ip, port);
    if (!ac) {
        snprintf(err, errlen, "redis %s:%d: out of memory", ip, port);
        return NULL;
    }
    if (ac->err) {
        snprintf(err, errlen, "redis %s:%d: %s", ip, port, ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = data;
    if (redisLibeventAttach(ac, base) != REDIS_OK) {
        snprintf(err, errlen, "redis %s:%d: cannot attach to the loop", ip, port);
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

int qh_redis_preamble(redisAsyncContext *ac, const char *password, int db, redisCallbackFn *cb, void *privdata)
{
    int n = 0;
    if (password && *password) {
        const char *argv[] = { "AUTH", password };
        size_t len[] = { 4, strlen(password) };
        if (redisAsyncCommandArgv(ac, cb, privdata, 2, argv, len) == REDIS_OK) n++;
    }
    if (db != 0) {
        char dbs[8];
        snprintf(dbs, sizeof dbs, "%d", db);
        const char *argv[] = { "SELECT", dbs };
        size_t len[] = { 6, strlen(dbs) };
        if (redisAsyncCommandArgv(ac, cb, privdata, 2, argv, len) == REDIS_OK) n++;
    }
    return n;
}

int64_t qh_redis_backoff_ms(unsigned attempt, unsigned *rng)
{
    int64_t base = 100;
    for (unsigned i = 0; i < attempt && base < 5000; i++) base *= 2;
    if (base > 5000) base = 5000;
    double f = 0.5 + (double)rand_r(rng) / ((double)RAND_MAX + 1.0);
    return (int64_t)((double)base * f);
}
