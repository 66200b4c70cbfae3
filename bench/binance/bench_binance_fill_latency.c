/* Fill latency against binance_mock (no delay configured: the mock answers
 * at once): from a fill on the exchange to the QTR_EV_FILL the plugin hands
 * to the host, over the user data stream and over REST polling.
 *
 * Each round rests a limit order, then fills it on the exchange with
 * POST /mock/fill; t0 is taken just before that control request (so its
 * own round trip, printed separately, is included: an upper bound), t1 in
 * the host's publish callback when the fill arrives (not at the 5 ms steps
 * of the test loop).
 *
 * Usage: QTR_PLUGIN_DIR=<build>/plugins bench_binance_fill_latency [STREAM_ROUNDS] [POLL_ROUNDS] [POLL_MS]
 * (defaults 100, 20, 1000 = the default poll_interval_ms). Prints median,
 * p90, min and max in ms of each path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bn_fixture.h"

#define MAX_ROUNDS 2000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int (*host_publish)(qtr_ctx *, const qtr_event *);
static int64_t fill_seen_ns;

static int timed_publish(qtr_ctx *ctx, const qtr_event *ev)
{
    if (ev->type == QTR_EV_FILL && !fill_seen_ns) fill_seen_ns = mono_ns();
    return host_publish(ctx, ev);
}

static bool filled(bn_fx *fx, const void *arg)
{
    (void)fx; (void)arg;
    return fill_seen_ns != 0;
}

static bool is_new(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && u->status == QTR_OS_NEW;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print(const char *what, double *v, int n)
{
    if (n == 0) {
        printf("%-34s no samples\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("%-34s n=%-4d median %8.3f ms  p90 %8.3f  min %8.3f  max %8.3f\n", what, n, v[n / 2], v[n * 9 / 10], v[0],
           v[n - 1]);
}

/* Fills per round; returns the number of samples, -1 if the setup failed. */
static int run(bool stream, int rounds, const char *poll_ms, double *lat, double *ctl)
{
    bn_fx *fx = fx_new();
    if (!fx) return -1;
    if (stream) {
        long st = 0;
        char *body = mx_get(fx->mx, "/mock/ws", &st);
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        free(body);
        char url[64];
        snprintf(url, sizeof url, "ws://127.0.0.1:%lld", (long long)json_integer_value(json_object_get(j, "port")));
        json_decref(j);
        mock_host_set_option(fx->m, "stream_url", url);
    }
    mock_host_set_option(fx->m, "poll_interval_ms", poll_ms);
    mock_host_set_option(fx->m, "rate_limit_enabled", "false");
    host_publish = fx->m->api.publish;
    fx->m->api.publish = timed_publish;
    int n = 0;
    if (!fx_load(fx)) {
        fx_free(fx);
        return -1;
    }
    if (stream) fx_run_for(fx, 200); /* listenKey, connect */
    for (int i = 0; i < rounds; i++) {
        char cid[32], q[128];
        snprintf(cid, sizeof cid, "lat-%d", i);
        if (fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000") != QTR_OK ||
            !fx_run_until(fx, 3000, is_new, cid))
            break;
        fx_run_for(fx, 5); /* let the loop go quiet */
        /* polling: fill at a random point of the poll period, as the exchange would */
        if (!stream) fx_run_for(fx, rand() % (atoi(poll_ms) > 0 ? atoi(poll_ms) : 1));
        int64_t c0 = mono_ns();
        mx_post(fx->mx, "/mock/time_offset?ms=0"); /* a control round trip alone, for scale */
        ctl[n] = (double)(mono_ns() - c0) / 1e6;
        snprintf(q, sizeof q, "/mock/fill?clientOrderId=%s&qty=0.010", cid);
        fill_seen_ns = 0;
        int64_t t0 = mono_ns();
        if (mx_post(fx->mx, q) != 200 || !fx_run_until(fx, 10000, filled, NULL)) break;
        lat[n++] = (double)(fill_seen_ns - t0) / 1e6;
        fx_run_until(fx, 3000, fx_final, cid);
    }
    fx_free(fx);
    return n;
}

int main(int argc, char **argv)
{
    srand(12345); /* the same fill phases every run */
    int sr = argc > 1 ? atoi(argv[1]) : 100, pr = argc > 2 ? atoi(argv[2]) : 20;
    const char *poll_ms = argc > 3 ? argv[3] : "1000";
    if (sr < 1 || sr > MAX_ROUNDS || pr < 0 || pr > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_binance_fill_latency [STREAM_ROUNDS 1..%d] [POLL_ROUNDS] [POLL_MS]\n", MAX_ROUNDS);
        return 2;
    }
    static double lat[MAX_ROUNDS], ctl[MAX_ROUNDS];
    int n = run(true, sr, "600000", lat, ctl);
    if (n < 0) {
        fprintf(stderr, "bench_binance_fill_latency: the plugin did not start (QTR_PLUGIN_DIR?)\n");
        return 1;
    }
    printf("fill on the exchange -> QTR_EV_FILL to the host (mock without delay)\n");
    print("stream:", lat, n);
    print("  (a control round trip, for scale)", ctl, n);
    if (pr > 0) {
        char what[64];
        n = run(false, pr, poll_ms, lat, ctl);
        snprintf(what, sizeof what, "polling every %s ms:", poll_ms);
        print(what, lat, n < 0 ? 0 : n);
    }
    return 0;
}
