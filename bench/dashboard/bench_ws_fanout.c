/* WebSocket fan-out: N clients (default 100) at R events a second (default
 * 2,000) for S seconds. Each event carries its publish time (monotonic ns);
 * clients in a second thread timestamp each event as they read it, so the
 * figure is publish -> client read, an upper bound on publish -> socket
 * write. The server runs batch_max_events=10, batch_max_ms=100 and
 * max_msgs_per_sec=1000 (the default 50 would coalesce 2,000 events/s: the
 * missed column shows that case with BENCH_DEFAULTS=1).
 *
 *   bench_dashboard_ws_fanout [clients] [events/s] [seconds] [runs]
 *   BENCH_STALL_MS=M   hold the server's loop M ms once a second (a busy
 *                      machine, made repeatable): clients that keep up must
 *                      still get every event
 *   BENCH_WSLAY_READER=1  read with the tests' wslay clients instead of the
 *                      lean reader (lean_ws_reader.h), as before December
 *                      2026: their UTF-8 checks cost more than the server
 *
 * Every run prints its figures, with the CPU time per delivery of the loop
 * thread (the server, and the publisher, which costs little) and of the
 * readers: wall-clock latency on a shared machine is mostly waiting for a
 * core, CPU time per delivery is what the server's own work costs. The last
 * line gives the median of the runs and their spread, and the load average
 * before and after. "lost" is what
 * was neither delivered nor reported missed; "closed" counts clients the
 * server closed. */
#include "../bench_report.h"
#include "dash_test_util.h"
#include "lean_ws_reader.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of the calling thread: what a delivery costs, whatever the load. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct stats {
    int64_t *lat;                /* ns */
    size_t n, cap;
    uint64_t missed, messages, closed;
} stats;

typedef struct clients {
    int port, n;
    bool wslay;                  /* BENCH_WSLAY_READER: the test clients (wslay) read */
    atomic_bool ready, stop;
    int64_t cpu_ns;              /* the reader thread's CPU time while measuring */
    stats st;
} clients;

/* Scans instead of parsing JSON: the reader must be cheap, or its own
 * backlog would be measured instead of the server's. */
static void on_text(const char *text, size_t len, void *ud)
{
    int64_t now = mono_ns();
    stats *st = ud;
    st->messages++;
    static const char key[] = "\"open_time_ms\":";
    static const char miss[] = "\"type\":\"missed\",\"count\":";
    const char *end = text + len;
    const char *m = memmem(text, len, miss, sizeof miss - 1);
    if (m) __atomic_store_n(&st->missed, st->missed + strtoull(m + sizeof miss - 1, NULL, 10), __ATOMIC_RELAXED);
    for (const char *p = text; p < end && (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL;) {
        p += sizeof key - 1;
        int64_t sent = strtoll(p, NULL, 10);
        if (st->n < st->cap) {
            st->lat[st->n] = now - sent;
            __atomic_store_n(&st->n, st->n + 1, __ATOMIC_RELAXED);   /* read by the main thread */
        }
    }
}

static void on_msg(ws_tc *c, const char *text, size_t len, void *ud)
{
    (void)c;
    on_text(text, len, ud);
}

static void *lean_client_thread(void *arg)
{
    clients *cl = arg;
    lean_readers *r = lean_connect(cl->port, cl->n);
    if (!r) exit(1);
    int64_t until = mono_ns() + 10000000000LL;
    while (lean_open(r) < cl->n && mono_ns() < until)
        if (!lean_poll(r, 10, on_text, &cl->st)) exit(1);
    if (lean_open(r) < cl->n) { fprintf(stderr, "%d of %d clients did not open\n", cl->n - lean_open(r), cl->n); exit(1); }
    until = mono_ns() + 200000000;
    while (mono_ns() < until)
        if (!lean_poll(r, 10, on_text, &cl->st)) exit(1);
    atomic_store(&cl->ready, true);
    int64_t cpu0 = thread_cpu_ns();
    while (!atomic_load(&cl->stop))
        if (!lean_poll(r, 50, on_text, &cl->st)) exit(1);
    cl->cpu_ns = thread_cpu_ns() - cpu0;
    cl->st.closed += (uint64_t)lean_closed(r);
    lean_free(r);
    return NULL;
}

static void *client_thread(void *arg)
{
    clients *cl = arg;
    if (!cl->wslay) return lean_client_thread(arg);
    mock_host *loop = mock_host_new(true);        /* only for its event loop */
    ws_tc **c = calloc((size_t)cl->n, sizeof *c);
    for (int i = 0; i < cl->n; i++) {
        c[i] = ws_tc_connect(loop, cl->port, NULL, 0);
        c[i]->keep = false;
        c[i]->on_msg = on_msg;
        c[i]->ud = &cl->st;
    }
    for (int i = 0; i < cl->n; i++)
        if (!ws_tc_wait_open(c[i], 10000)) { fprintf(stderr, "client %d did not open\n", i); exit(1); }
    mock_host_run_for(loop, 200);
    atomic_store(&cl->ready, true);
    int64_t cpu0 = thread_cpu_ns();
    while (!atomic_load(&cl->stop)) mock_host_run_for(loop, 50);
    cl->cpu_ns = thread_cpu_ns() - cpu0;
    for (int i = 0; i < cl->n; i++) cl->st.closed += c[i]->eof || c[i]->close_received;
    for (int i = 0; i < cl->n; i++) ws_tc_free(c[i]);
    free(c);
    event_base_free(loop->base);   /* the host's own free would reset shared mock state */
    loop->base = event_base_new();
    return NULL;
}

typedef struct publisher {
    mock_host *m;
    int rate;
    uint64_t sent;
    int64_t start_ns, until_ns;
    int64_t stall_ms, next_stall_ns;
    struct event *ev;
} publisher;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    publisher *p = arg;
    int64_t now = mono_ns();
    if (now >= p->until_ns) { event_del(p->ev); return; }
    if (p->stall_ms && now >= p->next_stall_ns) {
        /* the loop held up, as on a machine busy with other work: no
         * events, no writes; then a burst of everything that came meanwhile */
        struct timespec ts = { (time_t)(p->stall_ms / 1000), (long)(p->stall_ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        p->next_stall_ns = now + 1000000000;
        now = mono_ns();
    }
    /* catch up if the timer fired late: the rate holds whatever the load */
    uint64_t due = (uint64_t)((now - p->start_ns) / 1000) * (uint64_t)p->rate / 1000000;
    while (p->sent < due) {
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_CANDLE;
        qtr_strlcpy(ev.u.candle.symbol, "BTCUSDT", QTR_SYMBOL_MAX);
        ev.u.candle.close = D("43000.5");
        ev.u.candle.open_time_ms = mono_ns();     /* the publish time, carried along */
        mock_host_publish(p->m, &ev);
        p->sent++;
    }
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct run_result {
    double p50, p99, p999, max;
    double server_us, reader_us;   /* CPU per delivery: the loop thread (server and publisher), the readers */
    uint64_t published, delivered, missed, lost, closed, messages;
} run_result;

static bool one_run(int n_clients, int rate, int seconds, bool defaults, int64_t stall_ms, run_result *out)
{
    dash_fixture fx;
    /* every client comes from 127.0.0.1: lift the per-address cap for the handshakes */
    const char *opts[] = { "max_msgs_per_sec", defaults ? "50" : "1000", "max_ws_clients", "1000",
                           "max_connections_per_address", "1000", NULL };
    if (!dash_start(&fx, opts)) return false;
    clients cl = { .port = fx.port, .n = n_clients, .wslay = getenv("BENCH_WSLAY_READER") != NULL };
    cl.st.cap = (size_t)n_clients * (size_t)rate * (size_t)(seconds + 2);
    cl.st.lat = malloc(cl.st.cap * sizeof *cl.st.lat);
    pthread_t th;
    pthread_create(&th, NULL, client_thread, &cl);
    while (!atomic_load(&cl.ready)) mock_host_run_for(fx.m, 10);

    publisher p = { .m = fx.m, .rate = rate, .stall_ms = stall_ms };
    p.ev = event_new(fx.m->base, -1, EV_PERSIST, on_tick, &p);
    struct timeval tv = { 0, 5000 };
    p.until_ns = mono_ns() + (int64_t)seconds * 1000000000;
    int64_t t0 = mono_ns(), cpu0 = thread_cpu_ns();
    p.start_ns = t0;
    p.next_stall_ns = t0 + 500000000;
    event_add(p.ev, &tv);
    while (mono_ns() < p.until_ns) mock_host_run_for(fx.m, 20);
    /* then until every delivery is in or reported missed (10 s at most): a
     * busy machine may be late, and late is not lost */
    uint64_t expected = 0;
    int64_t drain_until = mono_ns() + 10000000000LL;
    do {
        mock_host_run_for(fx.m, 20);
        expected = p.sent * (uint64_t)n_clients;
    } while (__atomic_load_n(&cl.st.n, __ATOMIC_RELAXED) + __atomic_load_n(&cl.st.missed, __ATOMIC_RELAXED) < expected &&
             mono_ns() < drain_until);
    int64_t server_cpu = thread_cpu_ns() - cpu0;
    atomic_store(&cl.stop, true);
    while (pthread_tryjoin_np(th, NULL) != 0) mock_host_run_for(fx.m, 10);

    qsort(cl.st.lat, cl.st.n, sizeof *cl.st.lat, cmp);
    size_t n = cl.st.n;
    out->p50 = n ? cl.st.lat[n / 2] / 1e6 : 0;
    out->p99 = n ? cl.st.lat[(size_t)(n * 0.99)] / 1e6 : 0;
    out->p999 = n ? cl.st.lat[(size_t)(n * 0.999)] / 1e6 : 0;
    out->max = n ? cl.st.lat[n - 1] / 1e6 : 0;
    out->published = p.sent;
    out->delivered = n;
    out->missed = cl.st.missed;
    out->lost = expected > n + cl.st.missed ? expected - n - cl.st.missed : 0;
    out->closed = cl.st.closed;
    out->messages = cl.st.messages;
    out->server_us = n ? (double)server_cpu / 1e3 / (double)n : 0;
    out->reader_us = n ? (double)cl.cpu_ns / 1e3 / (double)n : 0;
    event_free(p.ev);
    free(cl.st.lat);
    dash_stop(&fx);
    return true;
}

#define MAX_RUNS 20

int main(int argc, char **argv)
{
    int n_clients = argc > 1 ? atoi(argv[1]) : 100;
    int rate = argc > 2 ? atoi(argv[2]) : 2000;
    int seconds = argc > 3 ? atoi(argv[3]) : 5;
    int runs = argc > 4 ? atoi(argv[4]) : 3;
    bool defaults = getenv("BENCH_DEFAULTS") != NULL;
    int64_t stall_ms = getenv("BENCH_STALL_MS") ? atoll(getenv("BENCH_STALL_MS")) : 0;
    if (n_clients < 1 || rate < 200 || seconds < 1 || seconds > 60 || runs < 1 || runs > MAX_RUNS || stall_ms < 0 ||
        stall_ms > 900) {
        fprintf(stderr, "usage: %s [clients] [events/s >= 200] [seconds 1..60] [runs 1..%d]; BENCH_STALL_MS 0..900\n",
                argv[0], MAX_RUNS);
        return 2;
    }
    printf("ws fan-out: %d clients, %d events/s, %d s, %d runs, max_msgs_per_sec=%s, loop held %lld ms a second, "
           "%s reader\n", n_clients, rate, seconds, runs, defaults ? "50" : "1000", (long long)stall_ms,
           getenv("BENCH_WSLAY_READER") ? "wslay" : "lean");
    bench_print_load("before");
    double p50[MAX_RUNS], p99[MAX_RUNS], srv[MAX_RUNS];
    uint64_t lost = 0, missed = 0, closed = 0;
    for (int r = 0; r < runs; r++) {
        run_result x;
        if (!one_run(n_clients, rate, seconds, defaults, stall_ms, &x)) return 1;
        printf("  run %d: %llu events, deliveries %llu, missed %llu, lost %llu, closed %llu, messages %llu; "
               "latency p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms; CPU per delivery: server %.2f us, "
               "readers %.2f us\n",
               r + 1, (unsigned long long)x.published, (unsigned long long)x.delivered, (unsigned long long)x.missed,
               (unsigned long long)x.lost, (unsigned long long)x.closed, (unsigned long long)x.messages, x.p50, x.p99,
               x.p999, x.max, x.server_us, x.reader_us);
        p50[r] = x.p50;
        p99[r] = x.p99;
        srv[r] = x.server_us;
        lost += x.lost;
        missed += x.missed;
        closed += x.closed;
    }
    qsort(p50, (size_t)runs, sizeof p50[0], bench_cmp_double);
    qsort(p99, (size_t)runs, sizeof p99[0], bench_cmp_double);
    qsort(srv, (size_t)runs, sizeof srv[0], bench_cmp_double);
    printf("  median of %d runs: p50 %.2f ms (%.2f..%.2f), p99 %.2f ms (%.2f..%.2f); missed %llu, lost %llu, closed %llu; "
           "server CPU per delivery %.2f us (%.2f..%.2f)\n",
           runs, p50[runs / 2], p50[0], p50[runs - 1], p99[runs / 2], p99[0], p99[runs - 1], (unsigned long long)missed,
           (unsigned long long)lost, (unsigned long long)closed, srv[runs / 2], srv[0], srv[runs - 1]);
    bench_print_load("after");
    return 0;
}
