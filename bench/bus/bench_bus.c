/* bench_bus — the Redis bus's figures (issue 14), each over several runs
 * (median and spread), against a redis-server on a free loopback port
 * (no persistence, so Redis's own disk is not what is measured):
 *
 *  1. mirroring: events/s from qh_mirror_publish to Redis's acknowledgement,
 *     pipelined (batch_max 512); the loop's cost per mirrored event: the
 *     thread's CPU time (publish, encode, hiredis, replies) over the events,
 *     and the median of qh_mirror_publish alone per event; and Redis's CPU
 *     time per event (what bounds the rate: one Redis thread does it all);
 *  2. signal on one connection (a strategy host's mirror) to the handler of
 *     the consumer group on another (where the execution host queues it):
 *     p50/p99 for flush_ms 0, 1 and 5, one signal a millisecond from a
 *     timer (the loop sleeps between, as a host's does);
 *  3. replay of a full 10,000-event disk buffer: from the reconnect to the
 *     last acknowledgement.
 *
 *     bench_bus [runs] [all|mirror|latency|replay]      (default 5 all) */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench_report.h"
#include "bus/redis_consumer.h"
#include "bus/redis_mirror.h"
#include "core/clock.h"
#include "core/log.h"
#include "redis_fixture.h"

static redis_fx g_redis;
static char g_dir[64], g_buf[128], g_seq[128];

static void cfg_init(qh_bus_config *c, const char *host, int64_t batch_max, int64_t flush_ms, int64_t max_events)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    snprintf(c->host_id, sizeof c->host_id, "%s", host);
    snprintf(c->redis.host, sizeof c->redis.host, "127.0.0.1");
    c->redis.port = g_redis.port;
    snprintf(c->redis.stream_prefix, sizeof c->redis.stream_prefix, "bench");
    c->redis.maxlen = 100000;
    c->redis.batch_max = batch_max;
    c->redis.flush_ms = flush_ms;
    c->buffer.max_events = max_events;
    c->buffer.fsync_ms = 50;
    snprintf(c->group, sizeof c->group, "execution");
    c->claim_idle_ms = 30000;
}

static void flushall(void)
{
    redisContext *c = redis_fx_client(&g_redis);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
    unlink(g_buf);
    unlink(g_seq);
}

static qh_mirror *mirror_urgent(struct event_base *base, const qh_bus_config *cfg, uint64_t urgent_types)
{
    qh_mirror_opts o = { .base = base, .cfg = cfg, .redis_ip = "127.0.0.1", .buffer_path = g_buf, .seq_path = g_seq,
                         .urgent_types = urgent_types };
    char err[256];
    qh_mirror *m = qh_mirror_new(&o, err, sizeof err);
    if (!m) { fprintf(stderr, "%s\n", err); exit(1); }
    return m;
}

static qh_mirror *mirror(struct event_base *base, const qh_bus_config *cfg) { return mirror_urgent(base, cfg, 0); }

/* One turn of the loop that waits for something to happen (no spinning: the
 * thread's CPU time is what the loop really spends). */
static void turn(struct event_base *base) { event_base_loop(base, EVLOOP_ONCE); }
static void poll_turn(struct event_base *base) { event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); }
/* Runs the loop for ms, sleeping in it. */
static void sleep_loop(struct event_base *base, int64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void wait_connected(struct event_base *base, qh_mirror *m)
{
    qh_mirror_stats s;
    for (int64_t end = qh_mono_ns() + 5000000000LL; qh_mono_ns() < end;) {
        struct timeval tv = { 0, 2000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        qh_mirror_stats_get(m, &s);
        if (s.connected) return;
    }
    fprintf(stderr, "no connection to redis\n");
    exit(1);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process (redis-server): what Redis spends, whatever
 * else the machine runs. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    /* after "pid (comm)": state is field 3; utime and stime are 14 and 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void mk_event(qtr_event *ev, int i)
{
    memset(ev, 0, sizeof *ev);
    ev->type = i % 4 == 0 ? QTR_EV_FILL : QTR_EV_CANDLE;
    ev->time_ms = i;
    snprintf(ev->u.candle.symbol, sizeof ev->u.candle.symbol, "BTCUSDT");
    ev->u.candle.close = QTR_DEC_INT(50000 + i % 100);
}

/* 1. */
static void mirroring(int runs)
{
    const int chunk = 512, n = chunk * 1000;
    double rate[32], cpu_ns[32], pub_ns[32], redis_ns[32];
    for (int r = 0; r < runs; r++) {
        flushall();
        struct event_base *base = event_base_new();
        qh_bus_config cfg;
        cfg_init(&cfg, "bench-m", 512, 1, 100000);
        qh_mirror *m = mirror(base, &cfg);
        wait_connected(base, m);
        static double samples[2000];
        size_t ns = 0;
        qtr_event ev;
        double cpu0 = thread_cpu_s(), rcpu0 = proc_cpu_s(g_redis.pid);
        int64_t t0 = qh_mono_ns();
        qh_mirror_stats s;
        for (int i = 0; i < n; i += chunk) {
            /* keep under the memory queue: a producer faster than Redis spills to disk */
            for (;;) {
                qh_mirror_stats_get(m, &s);
                if (s.in_memory + (size_t)chunk <= 512u * 6u) break;
                turn(base);
            }
            int64_t p0 = qh_mono_ns();
            for (int k = 0; k < chunk; k++) {
                mk_event(&ev, i + k);
                qh_mirror_publish(m, &ev, NULL);
            }
            if (ns < 2000) samples[ns++] = (double)(qh_mono_ns() - p0) / chunk;
            poll_turn(base);
        }
        for (;;) {
            qh_mirror_stats_get(m, &s);
            if (s.in_memory == 0 && s.buffer_depth == 0) break;
            turn(base);
        }
        double secs = (double)(qh_mono_ns() - t0) / 1e9;
        double cpu = thread_cpu_s() - cpu0, rcpu = proc_cpu_s(g_redis.pid) - rcpu0;
        qh_mirror_stats_get(m, &s);
        if (s.mirrored != (uint64_t)n || s.buffered != 0)
            fprintf(stderr, "run %d: mirrored %llu of %d, %llu went to the disk buffer\n", r,
                    (unsigned long long)s.mirrored, n, (unsigned long long)s.buffered);
        rate[r] = n / secs;
        cpu_ns[r] = cpu * 1e9 / n;
        redis_ns[r] = rcpu * 1e9 / n;
        qsort(samples, ns, sizeof samples[0], bench_cmp_double);
        pub_ns[r] = samples[ns / 2];
        qh_mirror_free(m);
        event_base_free(base);
    }
    qsort(rate, (size_t)runs, sizeof rate[0], bench_cmp_double);
    qsort(cpu_ns, (size_t)runs, sizeof cpu_ns[0], bench_cmp_double);
    qsort(pub_ns, (size_t)runs, sizeof pub_ns[0], bench_cmp_double);
    qsort(redis_ns, (size_t)runs, sizeof redis_ns[0], bench_cmp_double);
    printf("mirroring, %d events a run, batch_max 512, flush_ms 1, %d runs:\n", n, runs);
    printf("  events/s acknowledged by Redis   median %9.0f   min %9.0f   max %9.0f   (target >= 200000)\n",
           rate[runs / 2], rate[0], rate[runs - 1]);
    printf("  loop CPU per mirrored event      median %7.0f ns   min %7.0f   max %7.0f\n", cpu_ns[runs / 2], cpu_ns[0],
           cpu_ns[runs - 1]);
    printf("  qh_mirror_publish per event      median %7.0f ns   min %7.0f   max %7.0f   (target <= 1000 ns median)\n",
           pub_ns[runs / 2], pub_ns[0], pub_ns[runs - 1]);
    printf("  redis-server CPU per event       median %7.0f ns   min %7.0f   max %7.0f   (one core of it: 1e9 / this events/s)\n",
           redis_ns[runs / 2], redis_ns[0], redis_ns[runs - 1]);
}

/* 2. */
typedef struct lat {
    double *ms;
    size_t n, cap;
} lat;

static int on_signal(void *ud, const qh_busev *ev)
{
    lat *l = ud;
    /* the signal carries its send time in ns (qty field, this bench only) */
    int64_t sent = ev->ev.u.signal.qty;
    if (l->n < l->cap) l->ms[l->n++] = (double)(qh_mono_ns() - sent) / 1e6;
    return 0;
}

typedef struct sender {
    qh_mirror *m;
    qtr_event ev;
    int left;
} sender;

static void send_one(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    sender *s = ud;
    if (s->left == 0) return;
    s->left--;
    s->ev.u.signal.qty = qh_mono_ns();
    s->ev.u.signal.time_ms = qh_wall_ms();
    qh_mirror_publish(s->m, &s->ev, NULL);
}

static void latency(int runs)
{
    const int per_run = 2000;
    /* as a strategy host sends them (signals urgent: flush_ms does not
     * delay them; 5 is the default), then plain batching at three flush_ms */
    int64_t flushes[] = { 5, 0, 1, 5 };
    bool urgents[] = { true, false, false, false };
    printf("signal -> consumer-group handler over loopback Redis, one signal a ms, %d a run, %d runs:\n", per_run, runs);
    for (size_t f = 0; f < sizeof flushes / sizeof flushes[0]; f++) {
        double p50[32], p99[32];
        for (int r = 0; r < runs; r++) {
            flushall();
            struct event_base *base = event_base_new();
            qh_bus_config sc, ec;
            cfg_init(&sc, "strat-b", 512, flushes[f], 100000);
            cfg_init(&ec, "exec-b", 512, 1, 100000);
            ec.consume = UINT64_C(1) << QTR_EV_SIGNAL;
            lat l = { calloc((size_t)per_run, sizeof(double)), 0, (size_t)per_run };
            qh_consumer_opts co = { .base = base, .cfg = &ec, .redis_ip = "127.0.0.1", .handler = on_signal, .ud = &l };
            char err[256];
            qh_consumer *c = qh_consumer_new(&co, err, sizeof err);
            qh_mirror *m = mirror_urgent(base, &sc, urgents[f] ? UINT64_C(1) << QTR_EV_SIGNAL : 0);
            wait_connected(base, m);
            sleep_loop(base, 300);   /* the group exists */
            sender snd = { .m = m, .left = per_run };
            memset(&snd.ev, 0, sizeof snd.ev);
            snd.ev.type = QTR_EV_SIGNAL;
            snprintf(snd.ev.u.signal.symbol, sizeof snd.ev.u.signal.symbol, "BTCUSDT");
            snd.ev.u.signal.side = QTR_SIDE_BUY;
            /* the loop sleeps between signals, as a host's does: a sender
             * that spins is a CPU hog the scheduler makes wait for its turn,
             * and its figures are that wait, not the bus's */
            struct event *tick = event_new(base, -1, EV_PERSIST, send_one, &snd);
            struct timeval ms1 = { 0, 1000 };
            event_add(tick, &ms1);
            for (int64_t end = qh_mono_ns() + 60000000000LL; qh_mono_ns() < end && l.n < (size_t)per_run;) {
                if (snd.left == 0) end = end < qh_mono_ns() + 3000000000LL ? end : qh_mono_ns() + 3000000000LL;
                turn(base);   /* the mirror's 100 ms watch timer bounds each wait */
            }
            event_free(tick);
            qsort(l.ms, l.n, sizeof l.ms[0], bench_cmp_double);
            p50[r] = l.n ? l.ms[l.n / 2] : -1;
            p99[r] = l.n ? l.ms[(l.n * 99) / 100] : -1;
            if (l.n < (size_t)per_run) fprintf(stderr, "only %zu of %d signals arrived\n", l.n, per_run);
            free(l.ms);
            qh_mirror_free(m);
            qh_consumer_free(c);
            event_base_free(base);
        }
        qsort(p50, (size_t)runs, sizeof p50[0], bench_cmp_double);
        qsort(p99, (size_t)runs, sizeof p99[0], bench_cmp_double);
        printf("  %s flush_ms %lld: p50 median %.3f ms (%.3f..%.3f)   p99 median %.3f ms (%.3f..%.3f)   (target p50 <= 1, p99 <= 5)\n",
               urgents[f] ? "signals urgent (a host)," : "signals batched,        ", (long long)flushes[f], p50[runs / 2], p50[0], p50[runs - 1], p99[runs / 2], p99[0], p99[runs - 1]);
    }
}

/* 3. */
static void replay(int runs)
{
    const int n = 10000;
    double ms[32];
    for (int r = 0; r < runs; r++) {
        flushall();
        redis_fx_kill(&g_redis, SIGKILL);
        struct event_base *base = event_base_new();
        qh_bus_config cfg;
        cfg_init(&cfg, "bench-r", 512, 1, n);
        qh_mirror *m = mirror(base, &cfg);
        sleep_loop(base, 200);   /* refused: outage */
        qtr_event ev;
        for (int i = 0; i < n; i++) {
            mk_event(&ev, i);
            if (qh_mirror_publish(m, &ev, NULL) != QTR_OK) { fprintf(stderr, "buffer refused event %d\n", i); exit(1); }
        }
        qh_mirror_free(m);   /* a full buffer on disk */
        redis_fx_restart(&g_redis, true);
        m = mirror(base, &cfg);
        int64_t t0 = qh_mono_ns();
        qh_mirror_stats s;
        for (int64_t end = t0 + 30000000000LL; qh_mono_ns() < end;) {
            turn(base);
            qh_mirror_stats_get(m, &s);
            if (s.buffer_depth == 0 && s.connected) break;
        }
        ms[r] = (double)(qh_mono_ns() - t0) / 1e6;
        if (s.replayed != (uint64_t)n) fprintf(stderr, "run %d: replayed %llu of %d\n", r, (unsigned long long)s.replayed, n);
        qh_mirror_free(m);
        event_base_free(base);
    }
    qsort(ms, (size_t)runs, sizeof ms[0], bench_cmp_double);
    printf("replay of a full %d-event disk buffer (connect included), %d runs:\n", n, runs);
    printf("  median %.1f ms   min %.1f   max %.1f   (target < 1000 ms)\n", ms[runs / 2], ms[0], ms[runs - 1]);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > 31) runs = 5;
    const char *only = argc > 2 ? argv[2] : "all";
    if (strcmp(only, "all") != 0 && strcmp(only, "mirror") != 0 && strcmp(only, "latency") != 0 &&
        strcmp(only, "replay") != 0) {
        fprintf(stderr, "usage: bench_bus [runs] [all|mirror|latency|replay]\n");
        return 2;
    }
    bool all = strcmp(only, "all") == 0;
    qh_log_init(stderr, QH_LOG_ERROR, false);
    if (!redis_fx_start(&g_redis, true)) {
        fprintf(stderr, "bench_bus: redis-server is not installed\n");
        return 2;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-bench-bus-XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    snprintf(g_buf, sizeof g_buf, "%s/bus.buf", g_dir);
    snprintf(g_seq, sizeof g_seq, "%s/bus.seq", g_dir);
    bench_print_load("before");
    if (all || strcmp(only, "mirror") == 0) mirroring(runs);
    if (all || strcmp(only, "latency") == 0) latency(runs);
    if (all || strcmp(only, "replay") == 0) replay(runs);
    bench_print_load("after");
    redis_fx_stop(&g_redis);
    unlink(g_buf);
    unlink(g_seq);
    rmdir(g_dir);
    return 0;
}
