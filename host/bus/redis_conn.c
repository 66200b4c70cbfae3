/* redis_conn.c — see redis_conn.h. */
#include "bus/redis_conn.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

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

/* The hiredis libevent adapter (hiredis/adapters/libevent.h), with a bound
 * on what one reply may hold: hiredis reads a bulk string whole before it
 * makes it, and makes every string of an array as it comes, so a stream
 * entry of hundreds of megabytes (anyone who can write to Redis can add
 * one) would be read into memory before any check. Two checks keep a reply
 * under QH_REDIS_REPLY_MAX: the bytes buffered and not yet parsed, before
 * each read of the socket (hiredis reads at most 16 KiB at a time), and the
 * bytes of the strings made for the reply being parsed (the reader's own
 * object functions, wrapped). Over it: *too_large is set and the
 * connection closes with the reason. */
typedef struct capped_conn {
    redisAsyncContext *ac;
    struct event *rev, *wev;
    const redisReplyObjectFunctions *orig; /* the reader's own */
    size_t reply_bytes;                    /* made so far for the reply being parsed */
    bool *too_large;
} capped_conn;

/* Counts n bytes of the reply task t belongs to: false once over the bound. */
static bool count_bytes(const redisReadTask *t, size_t n)
{
    capped_conn *cc = t->privdata;
    if (!t->parent) cc->reply_bytes = 0;   /* a new reply */
    cc->reply_bytes += n + 32;             /* the object's own size, roughly */
    if (cc->reply_bytes <= QH_REDIS_REPLY_MAX) return true;
    *cc->too_large = true;
    return false;                          /* hiredis: out of memory, the connection closes */
}

static void *capped_string(const redisReadTask *t, char *str, size_t len)
{
    const capped_conn *cc = t->privdata;
    return count_bytes(t, len) ? cc->orig->createString(t, str, len) : NULL;
}

static void *capped_array(const redisReadTask *t, int elements)
{
    const capped_conn *cc = t->privdata;
    return count_bytes(t, elements > 0 ? (size_t)elements * sizeof(void *) : 0) ? cc->orig->createArray(t, elements)
                                                                                 : NULL;
}

static void *capped_integer(const redisReadTask *t, long long value)
{
    const capped_conn *cc = t->privdata;
    return count_bytes(t, 0) ? cc->orig->createInteger(t, value) : NULL;
}

static void *capped_nil(const redisReadTask *t)
{
    const capped_conn *cc = t->privdata;
    return count_bytes(t, 0) ? cc->orig->createNil(t) : NULL;
}

static void capped_free(void *obj)
{
    freeReplyObject(obj);   /* the reader's own freeObject: replies are redisReply */
}

/* Static, not in capped_conn: hiredis frees the reader (and calls its
 * freeObject) after the adapter's cleanup has freed capped_conn. */
static redisReplyObjectFunctions capped_fn = { .createString = capped_string, .createArray = capped_array,
                                               .createInteger = capped_integer, .createNil = capped_nil,
                                               .freeObject = capped_free };

static void capped_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    capped_conn *cc = arg;
    redisAsyncContext *ac = cc->ac;
    const redisReader *r = ac->c.reader;
    if (r && r->len - r->pos > QH_REDIS_REPLY_MAX) {
        *cc->too_large = true;
        ac->c.err = REDIS_ERR_OTHER;
        snprintf(ac->c.errstr, sizeof ac->c.errstr, "%s", QH_REDIS_TOO_LARGE);
        redisAsyncFree(ac);   /* frees cc too: nothing of it after this */
        return;
    }
    redisAsyncHandleRead(ac);
}

static void capped_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    redisAsyncHandleWrite(((capped_conn *)arg)->ac);
}

static void capped_add_read(void *p) { event_add(((capped_conn *)p)->rev, NULL); }
static void capped_del_read(void *p) { event_del(((capped_conn *)p)->rev); }
static void capped_add_write(void *p) { event_add(((capped_conn *)p)->wev, NULL); }
static void capped_del_write(void *p) { event_del(((capped_conn *)p)->wev); }

static void capped_cleanup(void *p)
{
    capped_conn *cc = p;
    cc->ac->c.reader->privdata = NULL;   /* nothing reads it after this */
    event_free(cc->rev);
    event_free(cc->wev);
    free(cc);
}

static int capped_attach(redisAsyncContext *ac, struct event_base *base, bool *too_large)
{
    if (ac->ev.data || !ac->c.reader) return REDIS_ERR;
    capped_conn *cc = calloc(1, sizeof *cc);
    if (!cc) return REDIS_ERR;
    cc->ac = ac;
    cc->too_large = too_large;
    cc->orig = ac->c.reader->fn;
    cc->rev = event_new(base, ac->c.fd, EV_READ, capped_read, cc);
    cc->wev = event_new(base, ac->c.fd, EV_WRITE, capped_write, cc);
    if (!cc->rev || !cc->wev || !cc->orig) {
        if (cc->rev) event_free(cc->rev);
        if (cc->wev) event_free(cc->wev);
        free(cc);
        return REDIS_ERR;
    }
    ac->c.reader->fn = &capped_fn;
    ac->c.reader->privdata = cc;
    ac->ev.addRead = capped_add_read;
    ac->ev.delRead = capped_del_read;
    ac->ev.addWrite = capped_add_write;
    ac->ev.delWrite = capped_del_write;
    ac->ev.cleanup = capped_cleanup;
    ac->ev.data = cc;
    event_add(cc->rev, NULL);
    event_add(cc->wev, NULL);
    return REDIS_OK;
}

redisAsyncContext *qh_redis_open(struct event_base *base, const char *ip, int port, void *data,
                                 redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect,
                                 bool *too_large, char *err, size_t errlen)
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
    *too_large = false;
    if (capped_attach(ac, base, too_large) != REDIS_OK) {
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

int qh_redis_version_ok(const char *info, size_t len, char *version, size_t vcap, char *why, size_t whylen)
{
    static const char field[] = "redis_version:";
    snprintf(version, vcap, "?");
    const char *p = NULL;
    for (size_t i = 0; info && i + sizeof field - 1 <= len; i++)   /* at a line's start only */
        if ((i == 0 || info[i - 1] == '\n') && memcmp(info + i, field, sizeof field - 1) == 0) {
            p = info + i + sizeof field - 1;
            break;
        }
    if (!p) return -1;
    size_t n = 0;
    while (p + n < info + len && n < 31 && ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) n++;
    char text[32];                     /* digits and dots only: strtol stops at a dot */
    snprintf(text, sizeof text, "%.*s", (int)n, p);
    snprintf(version, vcap, "%s", text);
    char *dot, *end;
    long major = strtol(text, &dot, 10);
    if (dot == text || *dot != '.') return -1;
    long minor = strtol(dot + 1, &end, 10);
    if (end == dot + 1) return -1;
    if (major > QH_REDIS_MIN_MAJOR || (major == QH_REDIS_MIN_MAJOR && minor >= QH_REDIS_MIN_MINOR)) return 1;
    snprintf(why, whylen, "Redis %s is too old: consumers need %d.%d or later (XAUTOCLAIM)", version,
             QH_REDIS_MIN_MAJOR, QH_REDIS_MIN_MINOR);
    return 0;
}
