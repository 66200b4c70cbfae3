/*
 * bench_backtest_scale: `qtr backtest` end to end on 1 and 50 symbols, at 1x
 * and Mx the real data, beside a minimal C loop doing the same job (below:
 * every field read and checked as qtr's reader does, a k-way merge, a 10/30
 * (or QTR_BENCH_MA's) moving-average cross per symbol, one position per
 * symbol, order_notional 1000, taker fee 0.0004; it ends with qtr's net PnL,
 * both printed). Each run is a child process: candles/s from its CPU time
 * (user + system; on a loaded machine wall time swings with the load) and
 * from wall time, and its peak RSS (ru_maxrss from wait4). Median and spread
 * (min..max) over the runs, the CPU ratio qtr / loop, and CPU per candle of
 * 50 symbols against 1 at the same candle count and at the same data
 * multiple. With `callgrind`, the cases of at most 200,000 candles also run
 * once under valgrind --tool=callgrind: instructions per candle of both,
 * which the load does not move.
 *
 * Usage: bench_backtest_scale [runs=3] [multiple=50] [callgrind]
 *        bench_backtest_scale --loop FILE...   (the minimal loop alone)
 * QTR_BENCH_SYMBOLS=1 (or 50): only the cases of that many symbols; with a
 * large multiple, `QTR_BENCH_SYMBOLS=1 bench_backtest_scale 5 1126` is one
 * symbol's 2.25 M candles without the 50 symbols' 112 M.
 * QTR_BENCH_OTHER=BUILD: another build folder's qtr (with its plugins/) runs
 * interleaved with this one, run for run, and each case also prints its
 * CPU time against this qtr's: an A/B of two builds that the machine's
 * drift from one minute to the next does not tilt.
 * QTR_BENCH_MA=20/60: ma_cross 20/60 in both qtr and the loop (default
 * 10/30). On the 1126x file 10/30 makes 193,671 fills, twice the density of
 * the issue's own measurement (2.25 M real 1m candles, about 94,600 fills);
 * 20/60 makes 90,077, close to it. Only these two pairs: the loop is
 * compiled for each, its divisions by constants as a short C loop has them.
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
#include <stdbool.h>
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
static size_t g_fills;

/* QTR_BENCH_MA: 10/30 (unset) or 20/60; anything else ends the bench. */
static int bench_slow(void)
{
    const char *ma = getenv("QTR_BENCH_MA");
    if (!ma || strcmp(ma, "10/30") == 0) return 30;
    if (strcmp(ma, "20/60") == 0) return 60;
    fprintf(stderr, "QTR_BENCH_MA must be 10/30 or 20/60 (or unset for 10/30), not '%s'\n", ma);
    exit(2);
}

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

/* The bench's folder and its CSV files (up to 250 MiB). */
static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    fflush(stdout);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
}

static void free_source(rows *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->line[i]);
    free(r->line);
    free(r->t);
    memset(r, 0, sizeof *r);
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

/* The config of n_symbols, bt-<n_symbols><tag>.lua, with its plugins from plugin_dir. */
static void write_config(const char *plugin_dir, int n_symbols, const char *tag)
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
    snprintf(path, sizeof path, "%s/bt-%d%s.lua", g_dir, n_symbols, tag);
    f = fopen(path, "w");
    if (!f) exit(1);
    fprintf(f, "return {\n  plugin_path = { \"%s\" },\n  account = { starting_balance = \"1000000\" },\n"
               "  policy = { file = \"%s/policy.lua\" },\n  store = false,\n  plugins = {\n"
               "    { kind = \"exchange\", name = \"paper\", options = { taker_fee = \"0.0004\", slippage_bps = \"0\",\n"
               "      max_volume_share = \"1\", price_tick = \"0.0001\", min_qty_step = \"0.1\" } },\n"
               "    { kind = \"risk\", name = \"policy\" },\n"
               "    { kind = \"strategy\", name = \"ma_cross\", options = { fast = %d, slow = %d,\n"
               "      order_notional = \"1000\", symbols = {",
            plugin_dir, g_dir, bench_slow() / 3, bench_slow());
    for (int k = 0; k < n_symbols; k++) {
        char sym[16];
        symbol_name(k + 1, sym);
        fprintf(f, "%s\"%s\"", k ? ", " : " ", sym);
    }
    fputs(" } } },\n  },\n}\n", f);
    fclose(f);
}

/* The "net_pnl" string of a qtr backtest JSON report; exits if it has none. */
static void json_net_pnl(const char *path, char *out, size_t cap)
{
    static char buf[1 << 16];   /* the key comes early in the report's one line */
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    const char *at = strstr(buf, "\"net_pnl\":\"");
    const char *end = at ? strchr(at + 11, '"') : NULL;
    if (!end || (size_t)(end - (at + 11)) >= cap) {
        fprintf(stderr, "no net_pnl in %s\n", path);
        exit(1);
    }
    memcpy(out, at + 11, (size_t)(end - (at + 11)));
    out[end - (at + 11)] = '\0';
}

/* ---- the minimal loop: the baseline the issue compares against ----------- */
/*
 * The same job as qtr backtest on the bench's files, as a short C program
 * would do it, and no less: every row read and checked as qtr's reader
 * checks it (the header; 6 columns; a time of 1 to 18 digits; open, high,
 * low, close and volume as exact decimals of at most 8 decimals and 18
 * digits, anything else refused; low > 0, high >= low, open and close in
 * [low, high]; open times increasing by at least the first two rows'
 * interval; lines of at most 4096 bytes), the files merged by open time then
 * file (= symbol) order through a binary heap, a candle in two files
 * refused; ma_cross 10/30 (or 20/60) on the averages rounded half-even to 8
 * decimals; a flip as two taker fills at the close (close the whole
 * position, open order_notional / close rounded down to 8 decimals then to
 * the 0.1 lot), each with its fee 0.0004 of the notional rounded up to 1e-8,
 * both within the candle's volume (max_volume_share 1). It ends with qtr's
 * net PnL to the unit (1e-8). What it does not do: write a report, keep a
 * trade list, run a risk policy or anything of the engine; a row qtr would
 * read the general way (a sign, an exponent, more digits, Binance's 12
 * columns) stops it with exit 1 (the bench's files have none).
 */

#define SLOW_MAX 60   /* the longest of the two pairs (QTR_BENCH_MA) */
#define SCALE 100000000LL   /* 8 decimals, as qtr_dec */
#define LINE_MAX_BYTES 4096
#define HEADER "open_time_ms,open,high,low,close,volume"

typedef struct loop_symbol {
    const char *path;
    FILE *f;
    size_t line;
    int64_t t, prev_t, interval;   /* the head row's open time */
    int64_t close, volume;
    int rows;
    int rank;            /* of its symbol among the files' (one symbol a file: its index) */
    int64_t ring[SLOW_MAX], fast_sum, slow_sum;
    int head, count, last_side;
    int64_t qty;         /* signed, 8 decimals */
    int64_t cash;        /* quote, 8 decimals */
} loop_symbol;

static void loop_refuse(const loop_symbol *s, const char *why)
{
    fprintf(stderr, "minimal loop: %s:%zu: %s\n", s->path, s->line, why);
    exit(1);
}

/* Digits [. digits] up to the separator `end`: at most 18 digits and 8
 * decimals, as qtr's one-pass reader takes them; anything else refused. */
static int64_t parse_dec8(const loop_symbol *s, const char **pp, char end)
{
    static const int64_t unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    const char *p = *pp;
    int64_t m = 0;
    int digits = 0, frac = -1;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 18) loop_refuse(s, "more than 18 digits");
            m = m * 10 + (*p - '0');
            if (frac >= 0) frac++;
        } else if (*p == '.' && frac < 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (*p != end || digits == 0 || frac > 8) loop_refuse(s, "not a decimal of at most 8 decimals");
    int64_t unit = unit_of[frac < 0 ? 0 : frac];
    if (m > INT64_MAX / unit) loop_refuse(s, "decimal out of range");
    *pp = p + 1;
    return m * unit;
}

/* The next row of the file as its head: 1, or 0 at its end. */
static int loop_next(loop_symbol *s)
{
    char buf[LINE_MAX_BYTES + 8];
    if (!fgets(buf, sizeof buf, s->f)) return 0;
    s->line++;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n') buf[--n] = '\0';
    else if (!feof(s->f)) loop_refuse(s, "line longer than 4096 bytes");
    if (n && buf[n - 1] == '\r') buf[--n] = '\0';
    if (n > LINE_MAX_BYTES) loop_refuse(s, "line longer than 4096 bytes");
    const char *p = buf;
    int64_t t = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) t = t * 10 + (*p - '0');
    if (digits == 0 || digits > 18 || *p++ != ',') loop_refuse(s, "not a time in milliseconds");
    int64_t open = parse_dec8(s, &p, ','), high = parse_dec8(s, &p, ','), low = parse_dec8(s, &p, ',');
    int64_t close = parse_dec8(s, &p, ','), volume = parse_dec8(s, &p, '\0');
    if (low <= 0) loop_refuse(s, "low must be positive");
    if (high < low) loop_refuse(s, "high below low");
    if (open < low || open > high || close < low || close > high) loop_refuse(s, "open or close outside [low, high]");
    if (s->rows > 0 && t <= s->prev_t) loop_refuse(s, "open time not after the previous row's");
    if (s->rows == 1) s->interval = t - s->prev_t;
    if (s->rows > 1 && t - s->prev_t < s->interval) loop_refuse(s, "less than one interval after the previous row");
    s->rows++;
    s->prev_t = s->t = t;
    s->close = close;
    s->volume = volume;
    return 1;
}

/* x / d rounded half-even (x >= 0, d > 0), as qtr_dec_div. */
static int64_t div_half_even(int64_t x, int64_t d)
{
    int64_t q = x / d, r2 = 2 * (x % d);
    return q + (r2 > d || (r2 == d && (q & 1)));
}

/* One taker fill of `qty` (signed) at the close: cash and fee. */
static void loop_fill(loop_symbol *s, int64_t qty)
{
    int64_t c = s->close;
    __int128 notional = (__int128)(qty < 0 ? -qty : qty) * c;   /* 1e-16 */
    int64_t fee = (int64_t)((notional * 4 + (__int128)10000 * SCALE - 1) / ((__int128)10000 * SCALE));   /* up */
    s->cash -= (int64_t)((__int128)qty * c / SCALE) + fee;
    s->qty += qty;
    g_fills++;
}

/* Inlined with the pair (fast, slow) as constants into each pair's loop. */
static inline __attribute__((always_inline)) void loop_trade(loop_symbol *s, const int fast, const int slow)
{
    int64_t c = s->close;
    if (s->count >= fast) s->fast_sum -= s->ring[(s->head - fast + slow) % slow];
    if (s->count >= slow) s->slow_sum -= s->ring[s->head];
    s->fast_sum += c;
    s->slow_sum += c;
    s->ring[s->head] = c;
    s->head = (s->head + 1) % slow;
    if (s->count < slow) s->count++;
    if (s->count < slow) return;
    int64_t fast_ma = div_half_even(s->fast_sum, fast), slow_ma = div_half_even(s->slow_sum, slow);
    int side = fast_ma > slow_ma ? 1 : fast_ma < slow_ma ? -1 : 0;
    if (!side) return;
    int before = s->last_side;
    s->last_side = side;
    if (!before || side == before) return;
    /* order_notional / close down to 8 decimals, then down to the 0.1 lot */
    int64_t target = (int64_t)((__int128)1000 * SCALE * SCALE / c) / 10000000 * 10000000 * side;
    int64_t budget = s->volume / 10000000 * 10000000;   /* max_volume_share 1, on the lot */
    if ((s->qty < 0 ? -s->qty : s->qty) + (target < 0 ? -target : target) > budget)
        loop_refuse(s, "the candle's volume would cap the fills (the loop does not model partial fills)");
    if (s->qty) loop_fill(s, -s->qty);   /* close the whole position */
    loop_fill(s, target);                /* then the entry */
}

/* Min-heap of file indexes by (head open time, index): qtr's order (time,
 * symbol, file) when each file holds its own symbol in name order. */
static bool loop_less(const loop_symbol *s, int a, int b) { return s[a].t != s[b].t ? s[a].t < s[b].t : a < b; }

static void loop_sift(const loop_symbol *s, int *heap, int len, int i)
{
    int k = heap[i];
    for (;;) {
        int l = 2 * i + 1, m = l;
        if (l >= len) break;
        if (l + 1 < len && loop_less(s, heap[l + 1], heap[l])) m = l + 1;
        if (!loop_less(s, heap[m], k)) break;
        heap[i] = heap[m];
        i = m;
    }
    heap[i] = k;
}

/* The merge and the trading of n open files, with the pair's constants. */
static inline __attribute__((always_inline)) size_t merge_and_trade(loop_symbol *s, int *heap, int len, const int fast,
                                                                    const int slow)
{
    size_t candles = 0;
    while (len > 0) {
        int best = heap[0];
        loop_trade(&s[best], fast, slow);
        candles++;
        int64_t t = s[best].t;
        if (loop_next(&s[best])) heap[0] = best;
        else heap[0] = heap[--len];
        if (len) loop_sift(s, heap, len, 0);
        /* the same symbol and open time next: one candle in two files (as qtr checks) */
        if (len && s[heap[0]].rank == s[best].rank && s[heap[0]].t == t) loop_refuse(&s[heap[0]], "one candle in two files");
    }
    return candles;
}

static size_t __attribute__((noinline)) merge_and_trade_10_30(loop_symbol *s, int *heap, int len)
{
    return merge_and_trade(s, heap, len, 10, 30);
}

static size_t __attribute__((noinline)) merge_and_trade_20_60(loop_symbol *s, int *heap, int len)
{
    return merge_and_trade(s, heap, len, 20, 60);
}

/* bench_backtest_scale --loop FILE...: prints candles, fills and net PnL. */
static int minimal_loop(char **paths, int n)
{
    int slow = bench_slow();
    loop_symbol *s = calloc((size_t)n, sizeof *s);
    int *heap = calloc((size_t)n, sizeof *heap);
    char header[128];
    if (!s || !heap) return 1;
    int len = 0;
    for (int i = 0; i < n; i++) {
        s[i].path = paths[i];
        s[i].rank = i;
        if (!(s[i].f = fopen(paths[i], "r"))) { perror(paths[i]); return 1; }
        setvbuf(s[i].f, NULL, _IOFBF, (size_t)256 << 10);   /* qtr's read-ahead */
        s[i].line = 1;
        if (!fgets(header, sizeof header, s[i].f) || strncmp(header, HEADER, strlen(HEADER)) != 0 ||
            strspn(header + strlen(HEADER), "\r\n") != strlen(header + strlen(HEADER)))
            loop_refuse(&s[i], "unknown header");
        if (loop_next(&s[i])) heap[len++] = i;
    }
    for (int i = len / 2; i-- > 0;) loop_sift(s, heap, len, i);
    size_t candles = slow == 60 ? merge_and_trade_20_60(s, heap, len) : merge_and_trade_10_30(s, heap, len);
    int64_t pnl = 0;
    for (int i = 0; i < n; i++) {
        pnl += s[i].cash + (int64_t)((__int128)s[i].qty * s[i].close / SCALE);
        fclose(s[i].f);
    }
    free(s);
    free(heap);
    int64_t whole = pnl / SCALE, frac = pnl % SCALE;
    printf("  minimal loop: %zu candles, %zu fills, net PnL %s%lld.%08lld USDT\n", candles, g_fills,
           pnl < 0 && whole == 0 ? "-" : "", (long long)whole, (long long)(frac < 0 ? -frac : frac));
    return 0;
}

/* ---- runs ----------------------------------------------------------------- */

typedef struct result { double cpu_s, wall_s; long rss_kib; } result;

/* argv run as a child, its standard output kept or sent to /dev/null. */
static result run_child(char *const argv[], bool keep_stdout)
{
    double t0 = now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        if (!keep_stdout) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) { dup2(null, 1); close(null); }
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) { perror("wait4"); exit(1); }
    result r = { .wall_s = now_s() - t0, .rss_kib = ru.ru_maxrss };
    r.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s failed (status %d)\n", argv[0], status);
        exit(1);
    }
    return r;
}

/* Instructions of argv under callgrind (valgrind's "I refs"), 0 if valgrind
 * could not say. */
static double callgrind_instructions(char *const argv[], int argc)
{
    char log[512], out[512], *vargv[16 + 2 * MAX_SYMBOLS + 8];
    snprintf(log, sizeof log, "--log-file=%s/callgrind.log", g_dir);
    snprintf(out, sizeof out, "--callgrind-out-file=%s/callgrind.out", g_dir);
    int n = 0;
    vargv[n++] = "/usr/bin/valgrind";
    vargv[n++] = "--tool=callgrind";
    vargv[n++] = log;
    vargv[n++] = out;
    for (int i = 0; i < argc; i++) vargv[n++] = argv[i];
    vargv[n] = NULL;
    run_child(vargv, false);
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/callgrind.log", g_dir);
    FILE *f = fopen(path, "r");
    double refs = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *at = strstr(line, "I   refs:");
        if (!at) continue;
        for (char *p = at + 9; *p; p++)
            if (*p >= '0' && *p <= '9') refs = refs * 10 + (*p - '0');
    }
    if (f) fclose(f);
    return refs;
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
    double cpu_rate[MAX_RUNS] = { 0 }, wall_rate[MAX_RUNS] = { 0 }, rss[MAX_RUNS] = { 0 }, m, lo, hi;
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

/* One case's medians, for the 1 against 50 symbols lines. */
typedef struct figures {
    size_t candles;
    double qtr_cpu_ns, loop_cpu_ns;      /* CPU time per candle, medians */
    double qtr_instr, loop_instr;        /* per candle, 0 if not measured */
} figures;

static double median_cpu_ns(const result *r, int runs, size_t candles)
{
    double v[MAX_RUNS] = { 0 }, m, lo, hi;
    for (int i = 0; i < runs; i++) v[i] = r[i].cpu_s * 1e9 / (double)candles;
    stats(v, runs, &m, &lo, &hi);
    return m;
}

static void compare_symbols(const char *what, const figures *one, const figures *fifty)
{
    printf("  %s: qtr %.0f ns against %.0f ns a candle (50/1 = %.2fx), minimal loop %.0f against %.0f ns (%.2fx)\n",
           what, fifty->qtr_cpu_ns, one->qtr_cpu_ns, fifty->qtr_cpu_ns / one->qtr_cpu_ns, fifty->loop_cpu_ns,
           one->loop_cpu_ns, fifty->loop_cpu_ns / one->loop_cpu_ns);
    if (one->qtr_instr > 0 && fifty->qtr_instr > 0)
        printf("    instructions a candle: qtr %.0f against %.0f (50/1 = %.3fx), minimal loop %.0f against %.0f (%.3fx)\n",
               fifty->qtr_instr, one->qtr_instr, fifty->qtr_instr / one->qtr_instr, fifty->loop_instr, one->loop_instr,
               fifty->loop_instr / one->loop_instr);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--loop") == 0) return minimal_loop(argv + 2, argc - 2);
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    int mult = argc > 2 ? atoi(argv[2]) : 50;
    bool callgrind = argc > 3 && strcmp(argv[3], "callgrind") == 0;
    if (runs < 1 || runs > MAX_RUNS || mult < 1 || (argc > 3 && !callgrind)) {
        fprintf(stderr, "usage: %s [runs 1..15] [multiple] [callgrind]\n       %s --loop FILE...\n", argv[0], argv[0]);
        return 2;
    }
    static char self[512];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0) { perror("/proc/self/exe"); return 1; }
    self[sn] = '\0';
    if (callgrind && access("/usr/bin/valgrind", X_OK) != 0) { fprintf(stderr, "callgrind: no /usr/bin/valgrind\n"); return 1; }
    const char *other = getenv("QTR_BENCH_OTHER");
    static char other_qtr[512], other_plugins[512];
    if (other) {
        snprintf(other_qtr, sizeof other_qtr, "%s/qtr", other);
        snprintf(other_plugins, sizeof other_plugins, "%s/plugins", other);
        if (access(other_qtr, X_OK) != 0) { fprintf(stderr, "QTR_BENCH_OTHER: no %s\n", other_qtr); return 1; }
    }
    /* QTR_BENCH_SYMBOLS: 1 or 50 alone, or (unset) both */
    const int symbol_counts[] = { 1, MAX_SYMBOLS };
    int si_from = 0, si_to = 2;
    const char *only = getenv("QTR_BENCH_SYMBOLS");
    if (only) {
        if (strcmp(only, "1") == 0) si_to = 1;
        else if (strcmp(only, "50") == 0) si_from = 1;
        else {
            fprintf(stderr, "QTR_BENCH_SYMBOLS must be 1 or 50 (or unset for both), not '%s'\n", only);
            return 2;
        }
    }
    const char *data = getenv("QTR_BENCH_DATA");
    if (!data) data = QTR_BENCH_SOURCE_DIR "/../shared/data/XRPUSDT-perp-5m.csv";
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-bench-backtest-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    atexit(remove_dir);   /* on every exit of this process, a failed one too (its children exec or _exit) */
    rows src;
    read_source(data, &src);
    const int multiples[] = { 1, mult };
    figures fig[2][2];
    memset(fig, 0, sizeof fig);
    printf("bench_backtest_scale: %s, %zu rows; %d runs each; ma_cross %d/%d; qtr %s\n", data, src.n, runs,
           bench_slow() / 3, bench_slow(), QTR_BENCH_QTR);
    printf("  its files in %s (removed at exit)\n", g_dir);
    if (other) printf("  and interleaved with it, the other qtr %s\n", other_qtr);
    bench_print_load("before");
    for (int si = si_from; si < si_to; si++) {
        write_config(QTR_BENCH_PLUGIN_DIR, symbol_counts[si], "");
        if (other) write_config(other_plugins, symbol_counts[si], "-other");
        for (int mi = 0; mi < (mult > 1 ? 2 : 1); mi++) {
            int ns = symbol_counts[si], m = multiples[mi];
            write_set(&src, ns, m);
            size_t candles = src.n * (size_t)m * (size_t)ns;
            char *paths[MAX_SYMBOLS], config[512], other_config[512], json[512], other_json[512];
            char *args[10 + 2 * MAX_SYMBOLS], *other_args[10 + 2 * MAX_SYMBOLS], *loop_args[3 + MAX_SYMBOLS];
            int na = 0, nl = 0;
            snprintf(config, sizeof config, "%s/bt-%d.lua", g_dir, ns);
            snprintf(other_config, sizeof other_config, "%s/bt-%d-other.lua", g_dir, ns);
            snprintf(json, sizeof json, "%s/report.json", g_dir);
            snprintf(other_json, sizeof other_json, "%s/report-other.json", g_dir);
            args[na++] = (char *)QTR_BENCH_QTR;
            args[na++] = "backtest";
            args[na++] = "-c";
            args[na++] = config;
            loop_args[nl++] = self;
            loop_args[nl++] = "--loop";
            for (int k = 0; k < ns; k++) {
                char sym[16];
                symbol_name(k + 1, sym);
                if (asprintf(&paths[k], "%s/%s-x%d.csv", g_dir, sym, m) < 0) return 1;
                args[na++] = "--data";
                args[na++] = paths[k];
                loop_args[nl++] = paths[k];
            }
            /* its one tick and step are the loop's on purpose: not the warning about them */
            args[na++] = "--log-level";
            args[na++] = "error";
            args[na++] = "--json";
            args[na++] = json;
            args[na] = NULL;
            loop_args[nl] = NULL;
            memcpy(other_args, args, sizeof(char *) * (size_t)(na + 1));   /* the same run but qtr and config */
            other_args[0] = other_qtr;
            other_args[3] = other_config;
            other_args[na - 1] = other_json;
            struct stat st;
            off_t bytes = 0;
            for (int k = 0; k < ns; k++) if (stat(paths[k], &st) == 0) bytes += st.st_size;
            printf("%d symbol%s, %dx: %zu candles, %.1f MiB of CSV\n", ns, ns > 1 ? "s" : "", m, candles,
                   (double)bytes / (1 << 20));
            result rq[MAX_RUNS], rl[MAX_RUNS], ro[MAX_RUNS];
            for (int i = 0; i < runs; i++) {
                rq[i] = run_child(args, false);
                rl[i] = run_child(loop_args, i == 0);   /* the loop's totals once a case */
                if (other) ro[i] = run_child(other_args, false);
            }
            /* qtr's own net PnL, beside the loop's; the other build's must be the same to the unit */
            char pnl[64], other_pnl[64];
            json_net_pnl(json, pnl, sizeof pnl);
            printf("  qtr backtest: \"net_pnl\":\"%s\"\n", pnl);
            if (other) {
                json_net_pnl(other_json, other_pnl, sizeof other_pnl);
                printf("  other qtr:    \"net_pnl\":\"%s\"\n", other_pnl);
                if (strcmp(pnl, other_pnl) != 0) {
                    fprintf(stderr, "the two builds disagree on the net PnL: %s against %s\n", pnl, other_pnl);
                    return 1;
                }
            }
            report("qtr backtest", candles, rq, runs);
            report("minimal loop", candles, rl, runs);
            double ratio[MAX_RUNS] = { 0 }, med, lo, hi;
            for (int i = 0; i < runs; i++) ratio[i] = rq[i].cpu_s / rl[i].cpu_s;
            stats(ratio, runs, &med, &lo, &hi);
            printf("  cpu time qtr / loop: %.1fx (%.1f..%.1f)\n", med, lo, hi);
            if (other) {
                report("other qtr", candles, ro, runs);
                for (int i = 0; i < runs; i++) ratio[i] = ro[i].cpu_s / rl[i].cpu_s;
                stats(ratio, runs, &med, &lo, &hi);
                printf("  cpu time other qtr / loop: %.1fx (%.1f..%.1f)\n", med, lo, hi);
                for (int i = 0; i < runs; i++) ratio[i] = ro[i].cpu_s / rq[i].cpu_s;
                stats(ratio, runs, &med, &lo, &hi);
                printf("  cpu time other qtr / qtr, run for run: %.3fx (%.3f..%.3f)\n", med, lo, hi);
            }
            figures *fg = &fig[si][mi];
            fg->candles = candles;
            fg->qtr_cpu_ns = median_cpu_ns(rq, runs, candles);
            fg->loop_cpu_ns = median_cpu_ns(rl, runs, candles);
            if (callgrind && candles <= 200000) {   /* callgrind is ~50x slower: the small cases */
                fg->qtr_instr = callgrind_instructions(args, na) / (double)candles;
                fg->loop_instr = callgrind_instructions(loop_args, nl) / (double)candles;
                printf("  instructions a candle (callgrind): qtr %.0f, minimal loop %.0f, qtr / loop %.1fx\n",
                       fg->qtr_instr, fg->loop_instr, fg->qtr_instr / fg->loop_instr);
            }
            for (int k = 0; k < ns; k++) { unlink(paths[k]); free(paths[k]); }
        }
    }
    if (mult > 1 && si_from == 0 && si_to == 2) {
        printf("50 symbols against 1 symbol, CPU time a candle (medians):\n");
        char what[128];
        snprintf(what, sizeof what, "%zu candles each (50 symbols x1, 1 symbol x%d)", fig[1][0].candles, mult);
        compare_symbols(what, &fig[0][1], &fig[1][0]);
        snprintf(what, sizeof what, "x%d each (50 symbols %zu candles, 1 symbol %zu)", mult, fig[1][1].candles,
                 fig[0][1].candles);
        compare_symbols(what, &fig[0][1], &fig[1][1]);
    }
    bench_print_load("after");
    free_source(&src);
    return 0;   /* remove_dir() at exit */
}
