/* Orders per second through the plugin against binance_mock on loopback,
 * with the local rate limits lifted; every order send takes a new
 * connection (libcurl would resend a POST on a dead reused one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bn_fixture.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool all_final(bn_fx *fx, const void *arg)
{
    (void)arg;
    size_t n = 0;
    for (size_t i = 0; i < fx->m->n_events; i++)
        if (fx->m->events[i].type == QTR_EV_ORDER_UPDATE && qtr_order_status_final(fx->m->events[i].u.order_update.status))
            n++;
    return n >= (size_t)*(const int *)arg;
}

static int run(int n, const char *inflight)
{
    bn_fx *fx = fx_new();
    if (!fx) return -1;
    mx_post(fx->mx, "/mock/limits?weight=100000000&orders_a=100000000&orders_b=100000000");
    mock_host_set_option(fx->m, "rate_limit_enabled", "false");
    mock_host_set_option(fx->m, "max_inflight", inflight);
    mock_host_set_option(fx->m, "timeout_ms", "5000");
    if (!fx_load(fx)) {
        fx_free(fx);
        return -1;
    }
    int64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        char cid[32];
        snprintf(cid, sizeof cid, "b-%d", i);
        fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.002", NULL);
    }
    bool done = fx_run_until(fx, 120000, all_final, &n);
    double s = (double)(now_ns() - t0) / 1e9;
    json_t *st = mx_state(fx->mx);
    long accepted = (long)json_array_size(json_object_get(st, "orders"));
    json_decref(st);
    printf("%5d orders, max_inflight=%-3s: %s in %.3f s = %8.0f orders/s (mock holds %ld)\n", n, inflight, done ? "all final" : "NOT all final", s, n / s, accepted);
    fx_free(fx);
    return done ? 0 : 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int rc = 0;
    rc |= run(n, "8");
    rc |= run(n, "32");
    return rc;
}
