/* redis_fixture.c — see redis_fixture.h. */
#include "redis_fixture.h"

#include "bus_tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "redis fixture: no free port: %s\n", strerror(errno));
        abort();
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void spawn(redis_fx *r)
{
    char data[128], port[16];
    snprintf(data, sizeof data, "%s/%d", r->dir, r->generation);
    mkdir(data, 0700);
    snprintf(port, sizeof port, "%d", r->port);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", data, "--save", "",
               "--appendonly", r->no_aof ? "no" : "yes", "--appendfsync", "always", "--logfile", "redis.log",
               "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    /* ready when it answers PING (bounded: 10 s) */
    for (int i = 0; i < 200; i++) {
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
        if (c && !c->err) {
            redisReply *rep = redisCommand(c, "PING");
            bool ok = rep && rep->type == REDIS_REPLY_STATUS;
            if (rep) freeReplyObject(rep);
            redisFree(c);
            if (ok) return;
        } else if (c) {
            redisFree(c);
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "redis fixture: redis-server exited at start (port %d)\n", r->port);
            abort();
        }
        struct timespec ts = { 0, 50000000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redis fixture: redis-server did not answer within 10 s\n");
    abort();
}

bool redis_fx_start(redis_fx *r, bool no_aof)
{
    memset(r, 0, sizeof *r);
    r->no_aof = no_aof;
    if (system("command -v redis-server >/dev/null 2>&1") != 0) return false;
    if (bus_tmpdir(r->dir, sizeof r->dir, "redis") != 0) abort();
    r->port = free_port();
    spawn(r);
    return true;
}

void redis_fx_kill(redis_fx *r, int sig)
{
    if (r->pid <= 0) return;
    kill(r->pid, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
        int st;
        waitpid(r->pid, &st, 0);
        r->pid = 0;
    }
}

void redis_fx_restart(redis_fx *r, bool empty)
{
    if (r->pid > 0) redis_fx_kill(r, SIGKILL);
    if (empty) r->generation++;
    spawn(r);
}

void redis_fx_stop(redis_fx *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGCONT);
        redis_fx_kill(r, SIGTERM);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    if (r->dir[0] && system(cmd) != 0) fprintf(stderr, "redis fixture: cannot remove %s\n", r->dir);
}

redisContext *redis_fx_client(const redis_fx *r)
{
    struct timeval tv = { 5, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    if (!c || c->err) {
        fprintf(stderr, "redis fixture: cannot connect to port %d\n", r->port);
        abort();
    }
    redisSetTimeout(c, tv);
    return c;
}

size_t redis_fx_read_stream(redisContext *c, const char *key, redis_fx_entry *out, size_t cap)
{
    size_t n = 0;
    char from[64] = "-";
    for (;;) {
        redisReply *rep = redisCommand(c, "XRANGE %s %s + COUNT 1000", key, from);
        if (!rep || rep->type != REDIS_REPLY_ARRAY) {
            if (rep) freeReplyObject(rep);
            return n;
        }
        size_t got = rep->elements;
        for (size_t i = 0; i < got; i++) {
            redisReply *ent = rep->element[i];
            snprintf(from, sizeof from, "(%s", ent->element[0]->str);
            redisReply *f = ent->element[1];
            if (n == cap) continue;
            redis_fx_entry *e = &out[n++];
            memset(e, 0, sizeof *e);
            for (size_t k = 0; k + 1 < f->elements; k += 2) {
                const char *name = f->element[k]->str;
                redisReply *v = f->element[k + 1];
                if (strcmp(name, "h") == 0) snprintf(e->host, sizeof e->host, "%s", v->str);
                else if (strcmp(name, "s") == 0) e->seq = strtoull(v->str, NULL, 10);
                else if (strcmp(name, "e") == 0 && v->len <= sizeof e->env) {
                    memcpy(e->env, v->str, v->len);
                    e->env_len = v->len;
                }
            }
        }
        freeReplyObject(rep);
        if (got < 1000) return n;
    }
}
