/* Pauses and head-of-line blocking against binance_mock, read from the
 * mock's request log (GET /mock/requests), over several rounds:
 *   - the pause after four orders in flight all meet 429 with Retry-After 1 s
 *     (backoff_429_ms at its default, 1000);
 *   - with 16 orders queued behind a 10-per-second order limit and mark
 *     prices polled every 20 ms: the largest gap between mark polls while
 *     the backlog lasts, and how long after the first order send the first
 *     userTrades request (its fills) leaves.
 * Usage: QTR_PLUGIN_DIR=<build>/plugins bench_binance_pauses [ROUNDS]
 * Prints the median, min and max of each figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_fixture.h"

#define MAX_ROUNDS 50

static bool is(json_t *e, const char *method, const char *path)
{
    return !strcmp(json_string_value(json_object_get(e, "method")), method) &&
           !strcmp(json_string_value(json_object_get(e, "path")), path);
}

static int64_t t_of(json_t *e) { return (int64_t)json_integer_value(json_object_get(e, "t_us")); }

static bool submit_all(bn_fx *fx, const char *prefix, int n, const char **list, char (*cids)[16])
{
    for (int i = 0; i < n; i++) {
        snprintf(cids[i], 16, "%s-%02d", prefix, i);
        list[i] = cids[i];
        if (fx_submit(fx, cids[i], "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.002", NULL) != QTR_OK) return false;
    }
    list[n] = NULL;
    return fx_run_until(fx, 15000, fx_all_final, list);
}

/* ms from the last 429 answer to the next request; -1 on failure. */
static double pause_after_in_flight_429s(void)
{
    bn_fx *fx = fx_new();
    if (!fx) return -1;
    mock_host_set_option(fx->m, "backoff_429_ms", "1000");
    char cids[4][16];
    const char *list[5];
    double ms = -1;
    if (fx_load(fx) &&
        mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&retry_after=1&count=4") == 200 &&
        submit_all(fx, "p", 4, list, cids)) {
        json_t *log = mx_request_log(fx->mx), *e;
        size_t i;
        int64_t last_429 = -1, resumed = -1;
        json_array_foreach(json_object_get(log, "requests"), i, e) {
            if (json_integer_value(json_object_get(e, "status")) == 429) last_429 = t_of(e);
            else if (last_429 >= 0 && resumed < 0) resumed = t_of(e);
        }
        json_decref(log);
        if (last_429 >= 0 && resumed >= 0) ms = (double)(resumed - last_429) / 1000.0;
    }
    fx_free(fx);
    return ms;
}

/* The largest mark-poll gap during an order backlog and the first
 * userTrades delay, in ms; false on failure. */
static bool backlog(double *mark_gap_ms, double *first_fill_ms)
{
    bn_fx *fx = fx_new();
    if (!fx) return false;
    mx_post(fx->mx, "/mock/limits?orders_a=10&orders_a_interval_ms=1000&orders_b=100000");
    mx_post(fx->mx, "/mock/premium?symbol=BTCUSDT&mark=50000&index=50000&funding=0.0001&next_funding=1");
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    char cids[16][16];
    const char *list[17];
    bool ok = fx_load(fx) && submit_all(fx, "h", 16, list, cids);
    if (ok) {
        json_t *log = mx_request_log(fx->mx), *reqs = json_object_get(log, "requests"), *e;
        size_t i;
        int64_t first_post = -1, last_post = -1, first_trades = -1, gap = 0;
        json_array_foreach(reqs, i, e) {
            if (is(e, "POST", "/fapi/v1/order")) {
                if (first_post < 0) first_post = t_of(e);
                last_post = t_of(e);
            }
            if (is(e, "GET", "/fapi/v1/userTrades") && first_trades < 0) first_trades = t_of(e);
        }
        /* the longest stretch of the backlog without a mark poll, its ends included */
        int64_t prev = first_post;
        json_array_foreach(reqs, i, e) {
            if (!is(e, "GET", "/fapi/v1/premiumIndex") || t_of(e) < first_post || t_of(e) > last_post) continue;
            if (t_of(e) - prev > gap) gap = t_of(e) - prev;
            prev = t_of(e);
        }
        if (last_post - prev > gap) gap = last_post - prev;
        json_decref(log);
        *mark_gap_ms = (double)gap / 1000.0;
        *first_fill_ms = (double)(first_trades - first_post) / 1000.0;
        ok = first_post >= 0 && first_trades >= 0;
    }
    fx_free(fx);
    return ok;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("%-52s median %8.1f ms  min %8.1f  max %8.1f  (%d rounds)\n", what, v[n / 2], v[0], v[n - 1], n);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench_binance_pauses: ROUNDS must be 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    double pause[MAX_ROUNDS], gap[MAX_ROUNDS], fill[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        pause[r] = pause_after_in_flight_429s();
        if (pause[r] < 0 || !backlog(&gap[r], &fill[r])) {
            fprintf(stderr, "bench_binance_pauses: round %d failed\n", r + 1);
            return 1;
        }
    }
    report("pause after 4 in-flight 429s (Retry-After 1 s)", pause, rounds);
    report("largest mark-poll gap, 16 orders behind 10/s", gap, rounds);
    report("first userTrades after the first order send", fill, rounds);
    return 0;
}
