/*
 * bench_loop_wake: what a paced loop costs on this machine, without the
 * host. A bare libevent loop with bench_order_path's pacing (a persistent
 * timer every 2 ms, the loop sleeping in epoll in between) runs, at each
 * tick, the same fixed piece of work: the same 600 steps of a random cycle
 * through 1 MiB (as many cache lines and pages as the order path's Lua
 * state, bus and tables touch, scattered as they are) and a small Lua
 * function call. The same work is also timed back to
 * back (each run as soon as the previous one ended, on the next loop turn).
 * It prints, for both, the loop's own turn (from the tick to an event it
 * activated: the deferred hop the host's drain takes) and the work's wall
 * and thread-CPU time.
 *
 *   bench_loop_wake [ticks per run, default 2000] [runs, default 5]
 *
 * If the work is as much slower when paced as the host's order path is
 * (bench_order_path with and without b2b), the paced figure is the
 * machine's (caches and TLB refilled after the sleep, a shared core), not
 * the host's.
 */
#include <event2/event.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WALK_BYTES (1u << 20)
#define LINE 64
#define STEPS 600   /* the same 600 lines (38 KiB) every time, like one order's path */

typedef struct wake {
    struct event_base *base;
    struct event *tick, *hop;
    lua_State *L;
    uint32_t *cycle;             /* next index, one per cache line */
    size_t want, done;
    bool b2b;
    int64_t t_tick;
    int64_t *turn, *work, *work_cpu;
    uint64_t sink;
} wake;

static int64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The fixed work: STEPS dependent loads over the cycle and one Lua call. */
static void work(wake *w)
{
    uint32_t i = 0;
    for (int k = 0; k < STEPS; k++) i = w->cycle[i * (LINE / sizeof(uint32_t))];
    lua_getglobal(w->L, "judge");
    lua_pushinteger(w->L, (lua_Integer)i);
    lua_call(w->L, 1, 1);
    w->sink += (uint64_t)lua_tointeger(w->L, -1);
    lua_pop(w->L, 1);
}

static void on_hop(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    wake *w = ud;
    int64_t t = clock_ns(CLOCK_MONOTONIC);
    w->turn[w->done] = t - w->t_tick;
    int64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    work(w);
    w->work_cpu[w->done] = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    w->work[w->done] = clock_ns(CLOCK_MONOTONIC) - t;
    if (++w->done == w->want) event_base_loopexit(w->base, NULL);
    else if (w->b2b) event_active(w->tick, EV_TIMEOUT, 1);
}

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    wake *w = ud;
    w->t_tick = clock_ns(CLOCK_MONOTONIC);
    event_active(w->hop, EV_TIMEOUT, 1);   /* as the host's drain: after this callback */
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double p50(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    return (double)v[n / 2] / 1000.0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summary(const char *what, double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    printf("  %-34s median %8.2f us   spread %.2f .. %.2f\n", what, v[n / 2], v[0], v[n - 1]);
}

static const char *const JUDGE =
    "local t = { qty = 1, price = 2, notional = 3 }\n"
    "function judge(i) local s = 0 for k, v in pairs(t) do s = s + v end\n"
    "  if (i + s) % 7 == 0 then return 1 end return 0 end";

int main(int argc, char **argv)
{
    size_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
    size_t runs = argc > 2 ? strtoull(argv[2], NULL, 10) : 5;
    if (want < 10 || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: bench_loop_wake [ticks per run >= 10] [runs 1..100]\n");
        return 2;
    }
    /* one random cycle through every cache line of the buffer */
    size_t lines = WALK_BYTES / LINE, stride = LINE / sizeof(uint32_t);
    uint32_t *cycle = aligned_alloc(LINE, WALK_BYTES);
    uint32_t *order = malloc(lines * sizeof *order);
    if (!cycle || !order) return 1;
    srand(1);
    for (size_t i = 0; i < lines; i++) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < lines; i++) cycle[order[i] * stride] = order[(i + 1) % lines];
    free(order);
    lua_State *L = luaL_newstate();
    if (!L) return 1;
    luaL_openlibs(L);
    if (luaL_dostring(L, JUDGE) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    double turn[2][100], wk[2][100], cpu[2][100];
    for (size_t k = 0; k < runs; k++)
        for (int mode = 0; mode < 2; mode++) {
            wake w;
            memset(&w, 0, sizeof w);
            w.L = L;
            w.cycle = cycle;
            w.want = want;
            w.b2b = mode == 1;
            w.turn = calloc(want, sizeof *w.turn);
            w.work = calloc(want, sizeof *w.work);
            w.work_cpu = calloc(want, sizeof *w.work_cpu);
            w.base = event_base_new();
            if (!w.turn || !w.work || !w.work_cpu || !w.base) return 1;
            w.tick = event_new(w.base, -1, EV_PERSIST, on_tick, &w);
            w.hop = event_new(w.base, -1, 0, on_hop, &w);
            struct timeval every = { 0, 2000 };
            if (w.b2b) event_active(w.tick, EV_TIMEOUT, 1);
            else event_add(w.tick, &every);
            event_base_dispatch(w.base);
            turn[mode][k] = p50(w.turn, want);
            wk[mode][k] = p50(w.work, want);
            cpu[mode][k] = p50(w.work_cpu, want);
            printf("run %zu %-12s loop turn p50 %6.2f us   work p50 %7.2f us (CPU %7.2f us)   [%llu]\n", k + 1,
                   w.b2b ? "back to back" : "one per 2 ms", turn[mode][k], wk[mode][k], cpu[mode][k],
                   (unsigned long long)(w.sink & 1));
            event_free(w.tick);
            event_free(w.hop);
            event_base_free(w.base);
            free(w.turn);
            free(w.work);
            free(w.work_cpu);
        }
    printf("%zu runs of %zu ticks, a %u KiB walk of %d steps and one Lua call per tick:\n", runs, want,
           WALK_BYTES / 1024, STEPS);
    summary("one per 2 ms: loop turn p50", turn[0], runs);
    summary("one per 2 ms: work p50", wk[0], runs);
    summary("one per 2 ms: work CPU p50", cpu[0], runs);
    summary("back to back: loop turn p50", turn[1], runs);
    summary("back to back: work p50", wk[1], runs);
    summary("back to back: work CPU p50", cpu[1], runs);
    lua_close(L);
    free(cycle);
    return 0;
}
