/* cmd_bus.c — `qtr bus status [-c FILE]`: the Redis bus of a config, asked of
 * Redis itself (a blocking client with a 3 s timeout: this is a tool, not
 * the server's loop): the connection, each stream's length, its consumer
 * groups with their consumers and pending entries, and the disk buffer's
 * depth (read without changing the file the server holds). Exit 0 all OK,
 * 1 degraded (events wait in the buffer, entries pending, a bad record in
 * the buffer), 2 Redis unreachable or bad input. */
#include "cli/cli.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/bus_key.h"
#include "bus/bus_link.h"
#include "bus/disk_buffer.h"
#include "bus/event_codec.h"
#include "bus/redis_conn.h"
#include "cli/usage.h"
#include "core/clock.h"

#define NAME "bus status"

static redisReply *cmd(redisContext *c, const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(c, fmt, a, b);
    return r;
}

/* One stream: its length and groups. Returns how many entries its groups have pending. */
static long long show_stream(redisContext *c, const char *key)
{
    redisReply *len = cmd(c, "XLEN %s", key, NULL);
    long long n = len && len->type == REDIS_REPLY_INTEGER ? len->integer : -1;
    if (len) freeReplyObject(len);
    redisReply *groups = cmd(c, "XINFO GROUPS %s", key, NULL);
    size_t n_groups = groups && groups->type == REDIS_REPLY_ARRAY ? groups->elements : 0;
    printf("stream    %-28s length %-9lld groups %zu\n", key, n < 0 ? 0 : n, n_groups);
    long long pending_all = 0;
    for (size_t g = 0; g < n_groups; g++) {
        redisReply *info = groups->element[g];
        const char *gname = "?", *last = "?";
        long long consumers = 0, pending = 0;
        for (size_t k = 0; info->type == REDIS_REPLY_ARRAY && k + 1 < info->elements; k += 2) {
            const char *f = info->element[k]->str;
            redisReply *v = info->element[k + 1];
            if (!f) continue;
            if (strcmp(f, "name") == 0 && v->str) gname = v->str;
            else if (strcmp(f, "consumers") == 0) consumers = v->integer;
            else if (strcmp(f, "pending") == 0) pending = v->integer;
            else if (strcmp(f, "last-delivered-id") == 0 && v->str) last = v->str;
        }
        printf("  group   %-28s consumers %-6lld pending %-8lld last delivered %s\n", gname, consumers, pending, last);
        pending_all += pending;
    }
    if (groups) freeReplyObject(groups);
    return pending_all;
}

int qh_cmd_bus(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "qtr bus: a command is needed: status (see qtr bus --help)\n");
        return 2;
    }
    if (qh_usage_is_help(argv[0])) return qh_usage_help("bus");
    if (strcmp(argv[0], "status") != 0) return qh_usage_unknown_command("bus", argv[0]);
    qh_common_opts o = { 0 };
    for (int i = 1; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help(NAME);
        int r = qh_common_opt(argc, argv, &i, &o);
        if (r < 0) return 2;
        if (r == 0) return qh_usage_unknown_option(NAME, argv[i]);
    }
    qh_common_log_init(&o, "warn");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    const qh_bus_config *b = &cfg.bus;
    if (!b->enabled) {
        fprintf(stderr, "qtr bus status: %s has no bus section (a single host needs no Redis; docs/bus.md)\n", cfg.path);
        qh_config_free(&cfg);
        return 2;
    }
    char ip[64], why[200];
    if (qh_redis_resolve(b->redis.host, ip, sizeof ip, why, sizeof why) != 0) {
        fprintf(stderr, "qtr bus status: %s: bus.redis.url: %s\n", cfg.path, why);
        qh_config_free(&cfg);
        return 2;
    }
    printf("host      %-28s role %s, group %s, prefix %s\n", b->host_id, qh_bus_role_name(b->role), b->group,
           b->redis.stream_prefix);
    int status = 0;
    /* the disk buffer first: it is there whether Redis answers or not */
    char buf[600], seq[600], err[600];
    qh_bus_link_paths(&cfg, buf, sizeof buf, seq, sizeof seq);
    size_t depth = 0;
    bool bad = false;
    if (qh_dbuf_inspect(buf, &depth, &bad, err, sizeof err) != 0) {
        if (strstr(err, "No such file")) {
            /* none yet is fine if the server can make it: its folder must be
             * there (and writable, which only root can tell for another user) */
            char dir[600];
            qtr_strlcpy(dir, buf, sizeof dir);
            char *slash = strrchr(dir, '/');
            if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
            else qtr_strlcpy(dir, ".", sizeof dir);
            struct stat st;
            int e = stat(dir, &st) != 0                           ? errno
                    : !S_ISDIR(st.st_mode)                        ? ENOTDIR
                    : geteuid() == 0 && access(dir, W_OK) != 0    ? errno
                                                                  : 0;
            if (!e) {
                printf("buffer    %-28s none yet\n", buf);
            } else {
                printf("buffer    %-28s cannot be made: %s: %s (the server refuses to start)\n", buf, dir,
                       strerror(e));
                status = 1;
            }
        } else {
            printf("buffer    %-28s %s\n", buf, err);
            status = 1;
        }
    } else {
        size_t reserve = depth > (size_t)b->buffer.max_events ? depth - (size_t)b->buffer.max_events : 0;
        char reserved[96] = "";
        if (reserve) snprintf(reserved, sizeof reserved, " (%zu more in the reserve for ESS states and alerts)", reserve);
        printf("buffer    %-28s %zu of %" PRId64 " events%s%s\n", buf, depth < (size_t)b->buffer.max_events ? depth :
               (size_t)b->buffer.max_events, b->buffer.max_events, reserved, bad ? ", then a torn or corrupt record" : "");
        if (depth > 0 || bad) status = 1;
    }
    qc_hmac *mac_key = NULL, *accept_key = NULL;
    if (qh_bus_keys_open(b, &mac_key, &accept_key, err, sizeof err) != 0) {
        printf("signing   %s\n", err);
        status = 1;
    } else if (accept_key) {
        printf("signing   entries signed with the key in $%s, and taken signed with it or with the key in $%s "
               "(changing the key: docs/bus.md)\n", b->key_env, b->accept_key_env);
    } else if (mac_key) {
        printf("signing   entries signed and checked with the key in $%s\n", b->key_env);
    } else {
        printf("signing   off: entries are not signed (bus.key_env); anyone who can write to Redis can write one\n");
    }
    qc_hmac_free(mac_key);
    qc_hmac_free(accept_key);
    struct timeval tv = { 3, 0 };
    int64_t t0 = qh_mono_ns();
    redisContext *c = redisConnectWithTimeout(ip, b->redis.port, tv);
    if (!c || c->err) {
        printf("redis     %s:%d/%d unreachable: %s\n", ip, b->redis.port, b->redis.db, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        qh_config_free(&cfg);
        return 2;
    }
    redisSetTimeout(c, tv);
    const char *pw = b->redis.password_env[0] ? getenv(b->redis.password_env) : NULL;
    redisReply *r = NULL;
    if (pw && *pw) {
        r = redisCommand(c, "AUTH %s", pw);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        if (!ok) {
            printf("redis     %s:%d: AUTH refused (the password in $%s)\n", ip, b->redis.port, b->redis.password_env);
            redisFree(c);
            qh_config_free(&cfg);
            return 2;
        }
    }
    if (b->redis.db) {
        char db[8];
        snprintf(db, sizeof db, "%d", b->redis.db);
        r = cmd(c, "SELECT %s", db, NULL);
        if (r) freeReplyObject(r);
    }
    r = redisCommand(c, "PING");
    bool up = r && r->type == REDIS_REPLY_STATUS;
    double ms = (double)(qh_mono_ns() - t0) / 1e6;
    /* why not, in words an operator can act on: Redis's own refusal
     * (NOAUTH: a password is wanted), silence (not Redis, or frozen), or
     * the connection's error */
    bool no_password = r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0 && !(pw && *pw);
    if (up)
        why[0] = '\0';
    else if (r && r->type == REDIS_REPLY_ERROR)
        snprintf(why, sizeof why, "it answered PING with '%.80s'%s", r->str,
                 no_password ? "; set the password in bus.redis.password_env's variable" : "");
    else if (c->err == REDIS_ERR_IO && strstr(c->errstr, "temporarily unavailable"))
        snprintf(why, sizeof why, "no answer to PING within %d s (not a Redis server, or a frozen one)", (int)tv.tv_sec);
    else
        snprintf(why, sizeof why, "%s", c->err ? c->errstr : "no PONG (an answer of another kind: not a Redis server?)");
    if (r) freeReplyObject(r);
    if (!up) {
        printf("redis     %s:%d/%d unreachable: %s\n", ip, b->redis.port, b->redis.db, why);
        redisFree(c);
        qh_config_free(&cfg);
        return 2;
    }
    char version[32];
    r = redisCommand(c, "INFO server");
    int new_enough = r && r->type == REDIS_REPLY_STRING
                         ? qh_redis_version_ok(r->str, r->len, version, sizeof version, why, sizeof why)
                         : -1;
    if (r) freeReplyObject(r);
    if (new_enough < 0) snprintf(version, sizeof version, "of a version it does not say");
    printf("redis     %s:%d/%d connected (%.2f ms), Redis %s\n", ip, b->redis.port, b->redis.db, ms, version);
    if (new_enough == 0 && b->consume) {
        /* the mirror's commands are older: only a host that consumes cannot work */
        printf("redis     %s\n", why);
        status = 2;
    }
    long long pending = 0;
    for (int t = 1; t < QTR_EV__COUNT && t < 64; t++) {
        if (!((b->mirror | b->consume) & (UINT64_C(1) << t))) continue;
        char key[96];
        snprintf(key, sizeof key, "%s:%s", b->redis.stream_prefix, qh_busev_type_name((qtr_event_type)t));
        pending += show_stream(c, key);
    }
    if (b->role == QH_ROLE_STRATEGY && !(b->mirror & (UINT64_C(1) << QTR_EV_SIGNAL))) {
        char key[96];
        snprintf(key, sizeof key, "%s:signal", b->redis.stream_prefix);
        pending += show_stream(c, key);
    }
    if (pending > 0) status = status ? status : 1;
    redisFree(c);
    qh_config_free(&cfg);
    return status;
}
