/*
 * bench_backtest_scale: `qtr backtest` end to end on 1 and 50 symbols, at 1x
 * and Mx the real data, beside a minimal C loop doing the same job (read the
 * CSV candles, a 10/30 moving-average cross per symbol, one position per
 * symbol, order_notional 1000, taker fee 0.0004). Each run is a child
 * process: candles/s from its CPU time (user + system; on a loaded machine
 * wall time swings with the load) and from wall time, and its peak RSS
 * (ru_maxrss from wait4). Median and spread (min..max) over the runs.
 *
 * Usage: bench_backtest_scale [runs=3] [multiple=50]
 * The data is the real XRPUSDT 5m file (QTR_BENCH_DATA overrides the path),
 * copied into /tmp under 50 symbol names and repeated `multiple` times with
 * the open times shifted past the previous copy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* wait4, mkdtemp, asprintf */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench_report.h"

#define MAX_SYMBOLS 50
#define MAX_RUNS 15

static char g_dir[256];
static int g_print_loop;   /* the minimal loop prints its totals */
static size_t g_fills;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the data ------------------------------------------------------------ */

typedef struct rows {
    char **line;       /* the text after the open time, with its newline */
    int64_t *t;
    size_t n;
    int64_t span;      /* last open - first open + interval */
} rows;

static void read_source(const char *path, rows *r)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "%s: %s\n", path, strerror(errno)); exit(1); }
    char buf[512];
    size_t cap = 0;
    memset(r, 0, sizeof *r);
    while (fgets(buf, sizeof buf, f)) {
        char *comma = strchr(buf, ',');
        if (!comma || buf[0] < '0' || buf[0] > '9') continue;   /* the header */
        if (r->n == cap) {
            cap = cap ? cap * 2 : 4096;
            r->line = realloc(r->line, cap * sizeof *r->line);
            r->t = realloc(r->t, cap * sizeof *r->t);
            if (!r->line || !r->t) exit(1);
        }
        r->t[r->n] = strtoll(buf, NULL, 10);
        r->line[r->n++] = strdup(comma);
    }
    fclose(f);
    if (r->n < 2) { fprintf(stderr, "%s: fewer than 2 rows\n", path); exit(1); }
    r->span = r->t[r->n - 1] - r->t[0] + (r->t[1] - r->t[0]);
}

static void symbol_name(int k, char out[16]) { snprintf(out, 16, "S%02dUSDT", k); }

/* <dir>/S01USDT-x<mult>.csv ... one file per symbol, `mult` shifted copies. */
static void write_set(const rows *r, int n_symbols, int mult)
{
    for (int k = 0; k < n_symbols; k++) {
        char sym[16], path[512];
        symbol_name(k + 1, sym);
        snprintf(path, sizeof path, "%s/%s-x%d.csv", g_dir, sym, mult);
        FILE *f = fopen(path, "w");
        if (!f) { fprintf(stderr, "%s: %s\n", path, strerror(errno)); exit(1); }
        fputs("open_time_ms,open,high,low,close,volume\n", f);
        for (int m = 0; m < mult; m++)
            for (size_t i = 0; i < r->n; i++) fprintf(f, "%" PRId64 "%s", r->t[i] + (int64_t)m * r->span, r->line[i]);
        if (fclose(f) != 0) { fprintf(stderr, "%s: write failed\n", path); exit(1); }
    }
}

static void write_config(const char *plugin_dir, int n_symbols)
{
    char path[512];
    snprintf(path, sizeof path, "%s/policy.lua", g_dir);
    FILE *f = fopen(path, "w");
    if (!f) exit(1);
    fputs("return {\n  name = \"bench_policy\",\n"
          "  limits = { max_positions = 64, max_symbols = 64, min_confidence = 0,\n"
          "             max_position_notional = \"100000\", max_order_notional = \"100000\",\n"
          "             max_total_exposure = \"100000000\", max_leverage = 100 },\n"
          "  ess = { max_drawdown_pct = \"99\", daily_loss_pct = \"99\", max_consecutive_errors = 5,\n"
          "          cooldown_minutes = 15, close_positions = false, alert_daily_drawdown_pct = \"90\" },\n"
          "  judge = function(order, ctx) return \"allow\" end,\n}\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/bt-%d.lua", g_dir, n_symbols);
    f = fopen(path, "w");
    if (!f) exit(1);
    fprintf(f, "return {\n  plugin_path = { \"%s\" },\n  account = { starting_balance = \"1000000\" },\n"
               "  policy = { file = \"%s/policy.lua\" },\n  store = false,\n  plugins = {\n"
               "    { kind = \"exchange\", name = \"paper\", options = { taker_fee = \"0.0004\", slippage_bps = \"0\",\n"
               "      max_volume_share = \"1\", price_tick = \"0.0001\", min_qty_step = \"0.1\" } },\n"
               "    { kind = \"risk\", name = \"policy\" },\n"
               "    { kind = \"strategy\", name = \"ma_cross\", options = { fast = 10, slow = 30,\n"
               "      order_notional = \"1000\", symbols = {",
            plugin_dir, g_dir);
    for (int k = 0; k < n_symbols; k++) {
        char sym[16];
        symbol_name(k + 1, sym);
        fprintf(f, "%s\"%s\"", k ? ", " : " ", sym);
    }
    fputs(" } } },\n  },\n}\n", f);
    fclose(f);
}

/* ---- the minimal loop: the baseline the issue compares against ----------- */

#define FAST 10
#define SLOW 30
#define SCALE 100000000LL   /* 8 decimals, as qtr_dec */

typedef struct loop_symbol {
    FILE *f;
    int64_t t, close;    /* the head row */
    int live;
    int64_t ring[SLOW], fast_sum, slow_sum;
    int head, count, last_side;
    int64_t qty;         /* signed, 8 decimals */
    int64_t cash;        /* quote, 8 decimals */
} loop_symbol;

/* "1.1941" -> 119410000; the bench's own files carry at most 8 decimals. */
static int64_t parse_fixed(const char *p)
{
    int64_t v = 0, frac = 0, scale = SCALE;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) { scale /= 10; frac = frac * 10 + (*p - '0'); }
    return v * SCALE + frac * scale;
}

static int loop_next(loop_symbol *s)
{
    char buf[256];
    while (fgets(buf, sizeof buf, s->f)) {
        if (buf[0] < '0' || buf[0] > '9') continue;
        char *p = buf;
        s->t = strtoll(p, &p, 10);
        for (int col = 0; col < 3; col++) p = strchr(p + 1, ',');   /* past open, high, low */
        s->close = parse_fixed(p + 1);
        return 1;
    }
    return 0;
}

static void loop_trade(loop_symbol *s)
{
    int64_t c = s->close;
    if (s->count >= FAST) s->fast_sum -= s->ring[(s->head - FAST + SLOW) % SLOW];
    if (s->count >= SLOW) s->slow_sum -= s->ring[s->head];
    s->fast_sum += c;
    s->slow_sum += c;
    s->ring[s->head] = c;
    s->head = (s->head + 1) % SLOW;
    if (s->count < SLOW) s->count++;
    if (s->count < SLOW) return;
    /* fast_ma > slow_ma  <=>  fast_sum * SLOW > slow_sum * FAST */
    __int128 d = (__int128)s->fast_sum * SLOW - (__int128)s->slow_sum * FAST;
    int side = d > 0 ? 1 : d < 0 ? -1 : 0;
    if (!side) return;
    if (s->last_side && side != s->last_side) {
        /* close the position, open 1000 USDT the other way, at the close */
        int64_t target = (int64_t)((__int128)1000 * SCALE * SCALE / c) / 10000000 * 10000000 * side;   /* 0.1 step */
        int64_t trade = target - s->qty;
        int64_t notional = (int64_t)((__int128)(trade < 0 ? -trade : trade) * c / SCALE);
        s->cash -= (int64_t)((__int128)trade * c / SCALE) + notional * 4 / 10000;   /* taker 0.0004 */
        s->qty = target;
        g_fills++;
    }
    s->last_side = side;
}

static int minimal_loop(char **paths, int n)
{
    loop_symbol *s = calloc((size_t)n, sizeof *s);
    if (!s) return 1;
    for (int i = 0; i < n; i++) {
        if (!(s[i].f = fopen(paths[i], "r"))) return 1;
        s[i].live = loop_next(&s[i]);
    }
    size_t candles = 0;
    for (;;) {   /* k-way merge by open time, ties in file (symbol) order */
        int best = -1;
        for (int i = 0; i < n; i++)
            if (s[i].live && (best < 0 || s[i].t < s[best].t)) best = i;
        if (best < 0) break;
        loop_trade(&s[best]);
        candles++;
        s[best].live = loop_next(&s[best]);
    }
    int64_t pnl = 0;
    size_t fills = g_fills;
    for (int i = 0; i < n; i++) {
        pnl += s[i].cash + (int64_t)((__int128)s[i].qty * s[i].close / SCALE);
        fclose(s[i].f);
    }
    free(s);
    if (g_print_loop) {   /* once per set: the loop did the work, and what it made */
        printf("  minimal loop: %zu candles, %zu fills, pnl %.2f USDT\n", candles, fills, (double)pnl / SCALE);
        fflush(stdout);
    }
    return 0;
}

/* ---- runs ----------------------------------------------------------------- */

typedef struct result { double cpu_s, wall_s; long rss_kib; } result;

static result run_child(char *const argv[], char **loop_paths, int loop_n)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        if (loop_paths) _exit(minimal_loop(loop_paths, loop_n));
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 1); close(null); }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) { perror("wait4"); exit(1); }
    result r = { .wall_s = now_s() - t0, .rss_kib = ru.ru_maxrss };
    r.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s failed (status %d)\n", loop_paths ? "minimal loop" : argv[0], status);
        exit(1);
    }
    return r;
}

static void stats(double *v, int n, double *med, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *lo = v[0];
    *hi = v[n - 1];
}

static void report(const char *what, size_t candles, const result *r, int runs)
{
    double cpu_rate[MAX_RUNS], wall_rate[MAX_RUNS], rss[MAX_RUNS], m, lo, hi;
    for (int i = 0; i < runs; i++) {
        cpu_rate[i] = (double)candles / r[i].cpu_s / 1e6;
        wall_rate[i] = (double)candles / r[i].wall_s / 1e6;
        rss[i] = (double)r[i].rss_kib / 1024;
    }
    printf("  %-14s", what);
    stats(cpu_rate, runs, &m, &lo, &hi);
    printf(" %6.3f M/s cpu (%.3f..%.3f)", m, lo, hi);
    stats(wall_rate, runs, &m, &lo, &hi);
    printf("  %6.3f M/s wall (%.3f..%.3f)", m, lo, hi);
    stats(rss, runs, &m, &lo, &hi);
    printf("  peak RSS %7.1f MiB (%.1f..%.1f)\n", m, lo, hi);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    int mult = argc > 2 ? atoi(argv[2]) : 50;
    if (runs < 1 || runs > MAX_RUNS || mult < 1) { fprintf(stderr, "usage: %s [runs 1..15] [multiple]\n", argv[0]); return 2; }
    const char *data = getenv("QTR_BENCH_DATA");
    if (!data) data = QTR_BENCH_SOURCE_DIR "/../shared/data/XRPUSDT-perp-5m.csv";
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-bench-backtest-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    rows src;
    read_source(data, &src);
    const int symbol_counts[] = { 1, MAX_SYMBOLS };
    const int multiples[] = { 1, mult };
    printf("bench_backtest_scale: %s, %zu rows; %d runs each; qtr %s\n", data, src.n, runs, QTR_BENCH_QTR);
    bench_print_load("before");
    for (int si = 0; si < 2; si++) {
        write_config(QTR_BENCH_PLUGIN_DIR, symbol_counts[si]);
        for (int mi = 0; mi < (mult > 1 ? 2 : 1); mi++) {
            int ns = symbol_counts[si], m = multiples[mi];
            write_set(&src, ns, m);
            size_t candles = src.n * (size_t)m * (size_t)ns;
            char *paths[MAX_SYMBOLS], config[512], json[512];
            char *args[8 + 2 * MAX_SYMBOLS];
            int na = 0;
            snprintf(config, sizeof config, "%s/bt-%d.lua", g_dir, ns);
            snprintf(json, sizeof json, "%s/report.json", g_dir);
            args[na++] = (char *)QTR_BENCH_QTR;
            args[na++] = "backtest";
            args[na++] = "-c";
            args[na++] = config;
            for (int k = 0; k < ns; k++) {
                char sym[16];
                symbol_name(k + 1, sym);
                if (asprintf(&paths[k], "%s/%s-x%d.csv", g_dir, sym, m) < 0) return 1;
                args[na++] = "--data";
                args[na++] = paths[k];
            }
            args[na++] = "--json";
            args[na++] = json;
            args[na] = NULL;
            struct stat st;
            off_t bytes = 0;
            for (int k = 0; k < ns; k++) if (stat(paths[k], &st) == 0) bytes += st.st_size;
            printf("%d symbol%s, %dx: %zu candles, %.1f MiB of CSV\n", ns, ns > 1 ? "s" : "", m, candles,
                   (double)bytes / (1 << 20));
            result rq[MAX_RUNS], rl[MAX_RUNS];
            for (int i = 0; i < runs; i++) {
                g_print_loop = i == 0;
                fflush(stdout);
                rq[i] = run_child(args, NULL, 0);
                rl[i] = run_child(args, paths, ns);
            }
            report("qtr backtest", candles, rq, runs);
            report("minimal loop", candles, rl, runs);
            double ratio[MAX_RUNS], med, lo, hi;
            for (int i = 0; i < runs; i++) ratio[i] = rq[i].cpu_s / rl[i].cpu_s;
            stats(ratio, runs, &med, &lo, &hi);
            printf("  cpu time qtr / loop: %.1fx (%.1f..%.1f)\n", med, lo, hi);
            for (int k = 0; k < ns; k++) { unlink(paths[k]); free(paths[k]); }
        }
    }
    bench_print_load("after");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return 0;
}
