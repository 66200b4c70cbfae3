/* bench_policy — latency of qh_policy_judge() from C and of a reload.
 *
 *   bench_policy [POLICY_FILE] [CALLS]     (default policies/default.lua, 1000000)
 *
 * Each judge call is timed alone with clock_gettime(CLOCK_MONOTONIC), which
 * adds its own ~20 ns to every figure. Two runs: the same order every call
 * (money strings cached) and a price and quantity that change every call
 * (every money field formatted and pushed again).
 *
 * Then the thread's CPU time per judge (CLOCK_THREAD_CPUTIME_ID over
 * blocks of calls with no clock read between them: less sensitive to a
 * loaded machine than wall time), for both, as the median and spread
 * (min..max) of 7 blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, int64_t *ns, size_t n)
{
    qsort(ns, n, sizeof *ns, cmp_i64);
    printf("%-34s n=%zu  p50 %5lld ns  p99 %5lld ns  p99.9 %6lld ns  max %7lld ns\n", what, n,
           (long long)ns[n / 2], (long long)ns[n * 99 / 100], (long long)ns[n * 999 / 1000], (long long)ns[n - 1]);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void base_order(qtr_order_intent *o, qh_risk_ctx *rc)
{
    memset(o, 0, sizeof *o);
    memset(rc, 0, sizeof *rc);
    snprintf(o->symbol, sizeof o->symbol, "BTCUSDT");
    snprintf(o->strategy, sizeof o->strategy, "ma_cross");
    o->side = QTR_SIDE_BUY;
    o->type = QTR_ORDER_MARKET;
    o->confidence = 0.8;
    rc->equity = QTR_DEC_INT(10000);
    rc->leverage = 1;
}

/* Call i's order: the same every call, or a price and quantity that vary. */
static void order_of(size_t i, int vary, qtr_order_intent *o, qh_risk_ctx *rc)
{
    o->qty = QTR_DEC_INT(1) / 1000 + (vary ? (qtr_dec)(i % 1000) * 1000 : 0);
    rc->price = QTR_DEC_INT(50000) + (vary ? (qtr_dec)(i % 9973) * 1000000 : 0);
    if (!qtr_dec_mul(o->qty, rc->price, QTR_ROUND_DOWN, &rc->order_notional)) abort();
    rc->exposure = vary ? rc->order_notional : 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* CPU ns per judge over BLOCKS blocks of calls: median and spread. */
static void cpu_per_judge(qh_policy *p, const char *what, size_t calls, int vary)
{
    enum { BLOCKS = 7 };
    double per[BLOCKS];
    qtr_order_intent o;
    qh_risk_ctx rc;
    qtr_risk_decision d;
    base_order(&o, &rc);
    for (int b = 0; b < BLOCKS; b++) {
        int64_t c0 = thread_cpu_ns();
        for (size_t i = 0; i < calls; i++) {
            order_of(i, vary, &o, &rc);
            qh_policy_judge(p, &o, &rc, &d);
        }
        per[b] = (double)(thread_cpu_ns() - c0) / (double)calls;
    }
    qsort(per, BLOCKS, sizeof per[0], cmp_dbl);
    printf("%-34s CPU per judge: median %6.1f ns  spread %.1f .. %.1f (%d blocks of %zu)\n", what, per[BLOCKS / 2],
           per[0], per[BLOCKS - 1], BLOCKS, calls);
}

static void run(qh_policy *p, const char *what, size_t calls, int64_t *ns, int vary)
{
    qtr_order_intent o;
    qh_risk_ctx rc;
    base_order(&o, &rc);
    qtr_risk_decision d;
    size_t approved = 0;
    for (size_t i = 0; i < calls; i++) {
        order_of(i, vary, &o, &rc);
        int64_t t0 = now_ns();
        qh_policy_judge(p, &o, &rc, &d);
        ns[i] = now_ns() - t0;
        approved += d.verdict != QTR_RISK_REJECT;
    }
    report(what, ns, calls);
    printf("%-34s %zu of %zu not rejected, %llu policy errors\n", "", approved, calls,
           (unsigned long long)qh_policy_judge_errors(p));
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "policies/default.lua";
    size_t calls = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000;
    if (calls < 1000) calls = 1000;
    qh_policy *p = qh_policy_new(NULL);
    int64_t *ns = malloc(calls * sizeof *ns);
    if (!p || !ns) return 1;
    qtr_policy_event ev;
    if (qh_policy_load(p, path, 0, &ev) != 0) {
        fprintf(stderr, "%s\n", ev.error);
        return 2;
    }
    printf("policy %s (%s), sha256 %.16s\n", path, qh_policy_limits(p)->name, ev.hash);
    run(p, "judge, same order every call", calls, ns, 0);
    run(p, "judge, price and qty vary", calls, ns, 1);
    cpu_per_judge(p, "judge, same order every call", calls / 4, 0);
    cpu_per_judge(p, "judge, price and qty vary", calls / 4, 1);

    enum { RELOADS = 200 };
    int64_t rl[RELOADS];
    for (int i = 0; i < RELOADS; i++) {
        int64_t t0 = now_ns();
        if (qh_policy_reload(p, i, &ev) != 0) { fprintf(stderr, "%s\n", ev.error); return 2; }
        rl[i] = now_ns() - t0;
    }
    report("reload (read, compile, check, swap)", rl, RELOADS);
    free(ns);
    qh_policy_free(p);
    return 0;
}
