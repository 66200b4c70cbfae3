/* WebSocket fan-out: N clients (default 100) at R events a second (default
 * 2,000) for S seconds. Each event carries its publish time (monotonic ns);
 * clients in a second thread timestamp each event as they read it, so the
 * figure is publish -> client read, an upper bound on publish -> socket
 * write. The server runs batch_max_events=10, batch_max_ms=100 and
 * max_msgs_per_sec=1000 (the default 50 would coalesce 2,000 events/s: the
 * missed column shows that case when run with a 4th argument "defaults"). */
#include "dash_test_util.h"

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

typedef struct stats {
    int64_t *lat;                /* ns */
    size_t n, cap;
    uint64_t missed, messages;
} stats;

typedef struct clients {
    int port, n;
    atomic_bool ready, stop;
    stats st;
} clients;

/* Scans instead of parsing JSON: the reader must be cheap, or its own
 * backlog would be measured instead of the server's. */
static void on_msg(ws_tc *c, const char *text, size_t len, void *ud)
{
    (void)c;
    int64_t now = mono_ns();
    stats *st = ud;
    st->messages++;
    static const char key[] = "\"open_time_ms\":";
    static const char miss[] = "\"type\":\"missed\",\"count\":";
    const char *end = text + len;
    const char *m = memmem(text, len, miss, sizeof miss - 1);
    if (m) st->missed += strtoull(m + sizeof miss - 1, NULL, 10);
    for (const char *p = text; p < end && (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL;) {
        p += sizeof key - 1;
        int64_t sent = strtoll(p, NULL, 10);
        if (st->n < st->cap) st->lat[st->n++] = now - sent;
    }
}

static void *client_thread(void *arg)
{
    clients *cl = arg;
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
    while (!atomic_load(&cl->stop)) mock_host_run_for(loop, 50);
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
    struct event *ev;
} publisher;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    publisher *p = arg;
    int64_t now = mono_ns();
    if (now >= p->until_ns) { event_del(p->ev); return; }
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

int main(int argc, char **argv)
{
    int n_clients = argc > 1 ? atoi(argv[1]) : 100;
    int rate = argc > 2 ? atoi(argv[2]) : 2000;
    int seconds = argc > 3 ? atoi(argv[3]) : 5;
    bool defaults = argc > 4 && strcmp(argv[4], "defaults") == 0;
    if (n_clients < 1 || rate < 200 || seconds < 1 || seconds > 60) {
        fprintf(stderr, "usage: %s [clients] [events/s >= 200] [seconds 1..60] [defaults]\n", argv[0]);
        return 2;
    }
    dash_fixture fx;
    const char *opts[] = { "max_msgs_per_sec", defaults ? "50" : "1000", "max_ws_clients", "1000", NULL };
    if (!dash_start(&fx, opts)) return 1;
    clients cl = { .port = fx.port, .n = n_clients };
    cl.st.cap = (size_t)n_clients * (size_t)rate * (size_t)(seconds + 2);
    cl.st.lat = malloc(cl.st.cap * sizeof *cl.st.lat);
    pthread_t th;
    pthread_create(&th, NULL, client_thread, &cl);
    while (!atomic_load(&cl.ready)) mock_host_run_for(fx.m, 10);

    publisher p = { .m = fx.m, .rate = rate };
    p.ev = event_new(fx.m->base, -1, EV_PERSIST, on_tick, &p);
    struct timeval tv = { 0, 5000 };
    p.until_ns = mono_ns() + (int64_t)seconds * 1000000000;
    int64_t t0 = mono_ns();
    p.start_ns = t0;
    event_add(p.ev, &tv);
    while (mono_ns() < p.until_ns + 500000000) mock_host_run_for(fx.m, 20);
    double secs = (double)(p.until_ns - t0) / 1e9;
    atomic_store(&cl.stop, true);
    while (pthread_tryjoin_np(th, NULL) != 0) mock_host_run_for(fx.m, 10);

    qsort(cl.st.lat, cl.st.n, sizeof *cl.st.lat, cmp);
    size_t n = cl.st.n;
    double p50 = n ? cl.st.lat[n / 2] / 1e6 : 0, p99 = n ? cl.st.lat[(size_t)(n * 0.99)] / 1e6 : 0;
    double p999 = n ? cl.st.lat[(size_t)(n * 0.999)] / 1e6 : 0, mx = n ? cl.st.lat[n - 1] / 1e6 : 0;
    printf("ws fan-out: %d clients, %llu events published in %.2f s (%.0f/s), max_msgs_per_sec=%s\n", n_clients,
           (unsigned long long)p.sent, secs, (double)p.sent / secs, defaults ? "50" : "1000");
    printf("  deliveries %zu (expected %llu), missed %llu, messages %llu\n", n,
           (unsigned long long)p.sent * (unsigned long long)n_clients, (unsigned long long)cl.st.missed,
           (unsigned long long)cl.st.messages);
    printf("  publish -> client read latency: p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n", p50, p99,
           p999, mx);
    event_free(p.ev);
    free(cl.st.lat);
    dash_stop(&fx);
    return 0;
}
