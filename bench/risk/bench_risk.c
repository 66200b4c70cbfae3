/* bench_risk — cost of the risk path's hot calls: qh_ess_allows (target
 * < 0.1 µs), signal queue push+take, and the host's policy limits on one
 * order (inputs + limits). Prints figures; never run by ctest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qtr/money.h>

#include "core/log.h"
#include "policy/policy.h"
#include "risk/ess.h"
#include "risk/signal_queue.h"

static qtr_dec D(const char *s)
{
    qtr_dec d = 0;
    if (qtr_dec_parse(s, strlen(s), &d) != QTR_DEC_OK) abort();
    return d;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_ess(void)
{
    char err[256];
    qh_ess_hooks hooks;
    memset(&hooks, 0, sizeof hooks);
    qh_ess *e = qh_ess_new(&hooks, NULL, err, sizeof err);
    if (!e) { fprintf(stderr, "qh_ess_new: %s\n", err); exit(1); }
    const long n = 200000000;
    volatile unsigned sink = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) sink += qh_ess_allows(e, (i & 1) != 0);
    double dt = now_s() - t0;
    printf("qh_ess_allows           %10.3f ns/call   (%ld calls, %u allowed)\n", dt * 1e9 / (double)n, n, sink);
    qh_ess_free(e);
}

static void bench_sigq(void)
{
    qh_sigq *q = qh_sigq_new(NULL);               /* 100 slots, 10 per cycle */
    qtr_signal s, out[10];
    memset(&s, 0, sizeof s);
    strcpy(s.symbol, "BTCUSDT");
    s.side = QTR_SIDE_BUY;
    s.type = QTR_ORDER_MARKET;
    s.qty = QTR_DEC_SCALE;
    const long n = 5000000;
    srand(1);
    long taken = 0;
    int64_t t = 1700000000000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        s.time_ms = t;
        s.confidence = (double)(rand() % 1000) / 1000.0;
        qh_sigq_push(q, &s, NULL, NULL);
        if (i % 5 == 4) {                         /* 50 signals per 100 ms cycle, take 10 */
            t += 10;
            if (i % 50 == 49) taken += (long)qh_sigq_take(q, t, out, 10, NULL, NULL);
        }
    }
    double dt = now_s() - t0;
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    printf("qh_sigq push (+take)    %10.1f ns/push   %.2f M pushes/s, %ld taken, depth %zu (queue full: every push scans)\n",
           dt * 1e9 / (double)n, (double)n / dt / 1e6, taken, st.depth);
    qh_sigq_free(q);

    q = qh_sigq_new(NULL);
    t0 = now_s();
    const long rounds = 500000;
    for (long r = 0; r < rounds; r++) {
        for (int k = 0; k < 10; k++) {
            s.confidence = (double)(rand() % 1000) / 1000.0;
            qh_sigq_push(q, &s, NULL, NULL);
        }
        qh_sigq_take(q, s.time_ms, out, 10, NULL, NULL);
    }
    dt = now_s() - t0;
    printf("qh_sigq 10 push+1 take  %10.1f ns/signal (light load)\n", dt * 1e9 / (double)(rounds * 10));
    qh_sigq_free(q);
}

static bool no_position(void *ud, const char *symbol)
{
    (void)ud;
    (void)symbol;
    return false;
}

/* The host's policy limits on one order (pipeline.c's policy step without
 * judge(): bench/policy has that): the inputs read in place, then the limits. */
static void bench_limits(void)
{
    qh_policy_rules l;
    memset(&l, 0, sizeof l);
    strcpy(l.name, "bench");
    l.min_confidence = 0.5;
    l.max_positions = 10;
    l.max_symbols = 10;
    l.max_position_notional = D("5000");
    l.max_order_notional = D("2000");
    l.max_total_exposure = D("20000");
    l.max_leverage = 5;
    l.max_abs_funding_rate = D("0.001");
    l.max_spread_bps = D("10");
    l.min_depth_notional = D("50000");
    qtr_account acct;
    memset(&acct, 0, sizeof acct);
    acct.equity = D("10000");
    acct.exposure = D("400");             /* four positions of 100 elsewhere */
    acct.open_positions = 4;
    qtr_mark_price mp;
    memset(&mp, 0, sizeof mp);
    strcpy(mp.symbol, "BTCUSDT");
    mp.mark_price = D("50000");
    qtr_book_top b;
    memset(&b, 0, sizeof b);
    strcpy(b.symbol, "BTCUSDT");
    b.bid_price = D("49999");
    b.ask_price = D("50001");
    b.bid_depth_notional = b.ask_depth_notional = D("100000");
    qh_policy_view view = { .account = &acct, .mark = &mp, .book = &b, .has_position = no_position };
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "BTCUSDT");
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_MARKET;
    o.qty = D("0.01");
    o.confidence = 0.8;
    const long n = 5000000;
    long approved = 0;
    char detail[QTR_TEXT_MAX];
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        qh_policy_inputs in;
        qh_policy_verdict v;
        if (qh_policy_build_inputs(&view, &o, &in, detail, sizeof detail)) continue;
        qh_policy_check_limits(&l, &o, &in, &v);
        approved += v.verdict == QTR_RISK_APPROVE;
    }
    double dt = now_s() - t0;
    printf("policy inputs + limits  %10.1f ns/order  (%ld approved of %ld; 4 other positions, book)\n",
           dt * 1e9 / (double)n, approved, n);
}

int main(void)
{
    qh_log_set_level(QH_LOG_ERROR);
    bench_ess();
    bench_sigq();
    bench_limits();
    return 0;
}
