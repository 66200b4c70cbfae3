/* HTTP API throughput on one core: the server loop in the main thread, a
 * load generator in another with C keep-alive connections (default 8), each
 * sending one request and waiting for its answer, for S seconds per path,
 * R runs (default 5): prints the median and the spread of the runs, and the
 * load average so a busy machine shows, and the server loop's CPU time per
 * request (median and spread), which a busy machine hardly changes.
 *
 *   bench_dashboard_http [connections] [seconds] [runs]
 *   BENCH_REQUESTS=N bench_dashboard_http ...   a fixed N requests per path
 *       and run instead (for callgrind: instructions per request)
 *   BENCH_PATH=/api/status bench_dashboard_http ...   that path only (callgrind
 *       of two request counts: the difference / the difference in requests is
 *       the instructions of one request, start-up excluded) */
#include "../bench_report.h"
#include "dash_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CPU time of the calling thread (the server's loop): what a request costs
 * the server, whatever else the machine is doing. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct load {
    int port, conns, seconds;
    uint64_t requests;                 /* > 0: stop after this many instead */
    const char *path;
    atomic_bool done;
    uint64_t ok, bad;
} load;

/* Reads one response (head + Content-Length body). */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "Content-Length:");
        size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
        size_t total = (size_t)(end - buf) + 4 + body;
        if (have >= total) return atoi(buf + 9);
        if (total >= cap) return -1;
    }
}

static void *generator(void *arg)
{
    load *l = arg;
    int *fds = calloc((size_t)l->conns, sizeof *fds);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)l->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < l->conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fds[i], (struct sockaddr *)&sin, sizeof sin) != 0) { perror("connect"); exit(1); }
    }
    char req[256], *buf = malloc(1 << 20);
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", l->path);
    int64_t until = mono_ms() + l->seconds * 1000;
    while (l->requests ? l->ok + l->bad < l->requests : mono_ms() < until) {
        for (int i = 0; i < l->conns; i++)
            if (write(fds[i], req, (size_t)len) != len) { l->bad++; }
        for (int i = 0; i < l->conns; i++) {
            int st = read_response(fds[i], buf, 1 << 20);
            if (st == 200) l->ok++; else l->bad++;
        }
    }
    for (int i = 0; i < l->conns; i++) close(fds[i]);
    free(fds);
    free(buf);
    atomic_store(&l->done, true);
    return NULL;
}

static void fill_host(mock_host *m)
{
    m->account.equity = D("10250.12345678");
    for (int i = 0; i < 20; i++) {
        qtr_position *p = &m->positions[i];
        snprintf(p->symbol, QTR_SYMBOL_MAX, "SYM%02dUSDT", i);
        p->qty = D("0.015");
        p->entry_price = D("43000.1");
        p->unrealized_pnl = D("1.5");
    }
    m->n_positions = 20;
}

#define MAX_RUNS 20

int main(int argc, char **argv)
{
    int conns = argc > 1 ? atoi(argv[1]) : 8;
    int seconds = argc > 2 ? atoi(argv[2]) : 2;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    const char *fixed = getenv("BENCH_REQUESTS");
    uint64_t requests = fixed ? strtoull(fixed, NULL, 10) : 0;
    if (conns < 1 || conns > 256 || seconds < 1 || seconds > 60 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: %s [connections 1..256] [seconds 1..60] [runs 1..%d]\n", argv[0], MAX_RUNS);
        return 2;
    }
    dash_fixture fx;
    const char *opts[] = { "max_http_connections", "1024", "max_connections_per_address", "1024", NULL };
    if (!dash_start(&fx, opts)) return 1;
    fill_host(fx.m);
    static const char *const paths[] = { "/api/status", "/api/positions", "/api/ess", "/health/all", "/metrics" };
    if (requests)
        printf("HTTP API, server on one loop thread, %d keep-alive connections, %llu requests per path, %d runs\n",
               conns, (unsigned long long)requests, runs);
    else
        printf("HTTP API, server on one loop thread, %d keep-alive connections, %d s per path, %d runs\n", conns,
               seconds, runs);
    bench_print_load("before");
    const char *only = getenv("BENCH_PATH");
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (only && strcmp(only, paths[i]) != 0) continue;
        double rate[MAX_RUNS], cpu_us[MAX_RUNS];
        uint64_t bad = 0;
        for (int r = 0; r < runs; r++) {
            load l = { .port = fx.port, .conns = conns, .seconds = seconds, .path = paths[i], .requests = requests };
            pthread_t th;
            int64_t t0 = mono_ms(), c0 = thread_cpu_ns();
            pthread_create(&th, NULL, generator, &l);
            while (!atomic_load(&l.done)) mock_host_run_for(fx.m, 20);
            pthread_join(th, NULL);
            double secs = (double)(mono_ms() - t0) / 1000.0;
            rate[r] = (double)l.ok / secs;
            cpu_us[r] = l.ok ? (double)(thread_cpu_ns() - c0) / 1e3 / (double)l.ok : 0;
            bad += l.bad;
        }
        qsort(rate, (size_t)runs, sizeof rate[0], bench_cmp_double);
        qsort(cpu_us, (size_t)runs, sizeof cpu_us[0], bench_cmp_double);
        printf("  GET %-15s median %8.0f req/s  (min %.0f, max %.0f; %llu not 200); server CPU %.2f us/request "
               "(%.2f..%.2f)\n", paths[i], rate[runs / 2], rate[0], rate[runs - 1], (unsigned long long)bad,
               cpu_us[runs / 2], cpu_us[0], cpu_us[runs - 1]);
    }
    bench_print_load("after");
    dash_stop(&fx);
    return 0;
}
