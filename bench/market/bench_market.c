/*
 * bench_market: CSV parsing, synthetic candles and paper exchange matching.
 * Usage: bench_market [rows]   (default 2,000,000 rows for the generated CSV)
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "market/candles.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: on a machine shared with other work, wall time
 * swings with the load; CPU time (user + system) much less. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const SYMBOLS[] = { "BTCUSDT" };

static int write_generated_csv(const char *path, size_t rows)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    qh_synth_config cfg = { .seed = 1, .start_ms = 1600000000000, .interval_ms = 60000, .n_symbols = 1,
                            .symbols = SYMBOLS };
    qh_synth *s = qh_synth_new(&cfg);
    fputs("open_time_ms,open,high,low,close,volume\n", f);
    char o[QTR_DEC_STRLEN], h[QTR_DEC_STRLEN], l[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN], v[QTR_DEC_STRLEN];
    for (size_t i = 0; i < rows; i++) {
        qtr_candle k;
        qh_synth_next(s, &k);
        fprintf(f, "%" PRId64 ",%s,%s,%s,%s,%s\n", k.open_time_ms, qtr_dec_format(k.open, o), qtr_dec_format(k.high, h),
                qtr_dec_format(k.low, l), qtr_dec_format(k.close, c), qtr_dec_format(k.volume, v));
    }
    qh_synth_free(s);
    return fclose(f);
}

static void bench_csv(size_t rows)
{
    char path[] = "/tmp/qtr-bench-market-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write_generated_csv(path, rows) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    close(fd);
    qh_candle_vec v = { 0 };
    char err[256];
    /* the first load pays for fresh memory; later ones reuse the vector */
    for (int run = 0; run < 3; run++) {
        v.len = 0;
        double t0 = now_s(), c0 = cpu_s();
        if (qh_csv_load(path, "BTCUSDT", &v, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
        double dt = now_s() - t0, dc = cpu_s() - c0;
        printf("csv generated file : %s %zu candles in %.3f s = %.2f M candles/s (read + parse); cpu %.3f s = %.2f M/s\n",
               run ? "warm" : "cold", v.len, dt, (double)v.len / dt / 1e6, dc, (double)v.len / dc / 1e6);
    }
    qh_candle_vec_free(&v);
    if (getenv("QTR_BENCH_KEEP")) printf("kept %s\n", path);
    else unlink(path);

    char real[1024];
    snprintf(real, sizeof real, "%s/../shared/data/XRPUSDT-perp-5m.csv", QTR_BENCH_SOURCE_DIR);
    const int reps = 500;
    size_t total = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < reps; i++) {
        v.len = 0;
        if (qh_csv_load(real, "XRPUSDT", &v, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
        total += v.len;
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    printf("csv real 5m file   : %d loads, %zu candles in %.3f s = %.2f M candles/s; cpu %.3f s = %.2f M/s\n", reps,
           total, dt, (double)total / dt / 1e6, dc, (double)total / dc / 1e6);
    qh_candle_vec_free(&v);
}

static void bench_synth(void)
{
    const char *const syms[] = { "BTCUSDT", "ETHUSDT", "XRPUSDT", "SOLUSDT" };
    qh_synth_config cfg = { .seed = 9, .start_ms = 0, .interval_ms = 60000, .n_symbols = 4, .symbols = syms };
    qh_synth *s = qh_synth_new(&cfg);
    const size_t n = 5000000;
    qtr_candle c;
    qtr_dec sink = 0;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        qh_synth_next(s, &c);
        sink ^= c.close;
    }
    double dt = now_s() - t0;
    printf("synthetic market   : %zu candles in %.3f s = %.2f M candles/s (check %lld)\n", n, dt,
           (double)n / dt / 1e6, (long long)(sink & 0xff));
    qh_synth_free(s);
}

/* ---- a minimal host for the paper exchange ------------------------------- */

static const qtr_plugin_desc *g_desc;
static qtr_event_cb g_candle_cb;
static void *g_candle_ud;
static size_t g_published;
static int64_t g_now;

static void h_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    (void)ctx;
    if (level < QTR_LOG_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
static int64_t h_now(qtr_ctx *ctx) { (void)ctx; return g_now; }
static qtr_sub *h_subscribe(qtr_ctx *ctx, qtr_event_type type, const char *symbol, qtr_event_cb cb, void *ud)
{
    (void)ctx; (void)symbol;
    if (type != QTR_EV_CANDLE) return NULL;
    g_candle_cb = cb;
    g_candle_ud = ud;
    return (qtr_sub *)&g_candle_cb;
}
static int h_publish(qtr_ctx *ctx, const qtr_event *ev) { (void)ctx; (void)ev; g_published++; return QTR_OK; }
static const char *option_default(const char *name)
{
    for (const qtr_option *o = g_desc->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o->default_value;
    return NULL;
}
static int h_config_decimal(qtr_ctx *ctx, const char *name, qtr_dec *out)
{
    (void)ctx;
    const char *v = option_default(name);
    return v && qtr_dec_parse(v, (size_t)-1, out) == QTR_DEC_OK ? QTR_OK : QTR_ENOTFOUND;
}
static int h_config_int(qtr_ctx *ctx, const char *name, int64_t *out)
{
    (void)ctx;
    const char *v = option_default(name);
    if (!v) return QTR_ENOTFOUND;
    *out = strtoll(v, NULL, 10);
    return QTR_OK;
}

static void bench_paper(int resting)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/exchange_paper.so", QTR_BENCH_PLUGIN_DIR);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) { fprintf(stderr, "dlopen %s: %s\n", path, dlerror()); exit(1); }
    qtr_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, QTR_ENTRY_SYMBOL);
    uint32_t abi;
    g_desc = entry(QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR), &abi);
    static qtr_host host;   /* zeroed: services the plugin does not use stay NULL */
    host.size = sizeof host;
    host.abi_major = QTR_ABI_MAJOR;
    host.abi_minor = QTR_ABI_MINOR;
    host.log = h_log;
    host.now_ms = h_now;
    host.subscribe = h_subscribe;
    host.publish = h_publish;
    host.config_decimal = h_config_decimal;
    host.config_int = h_config_int;
    void *state = NULL;
    if (g_desc->init(&host, NULL, &state) != 0) { fprintf(stderr, "paper init failed\n"); exit(1); }

    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_candle *c = &ev.u.candle;
    qtr_strlcpy(c->symbol, "BTCUSDT", sizeof c->symbol);
    c->open = c->high = c->low = c->close = QTR_DEC_INT(100);
    c->high = QTR_DEC_INT(101);
    c->low = QTR_DEC_INT(99);
    c->volume = QTR_DEC_INT(1000);
    c->open_time_ms = 0;
    c->close_time_ms = 59999;
    g_candle_cb(g_candle_ud, &ev);
    for (int i = 0; i < resting; i++) {
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
        snprintf(o.client_id, sizeof o.client_id, "r%d", i);
        o.side = i % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
        o.type = QTR_ORDER_LIMIT;
        o.qty = QTR_DEC_INT(1);
        o.price = i % 2 ? QTR_DEC_INT(200 + i) : QTR_DEC_INT(50 - i % 40);   /* never reached */
        g_desc->exchange->submit_order(state, &o);
    }
    const int64_t n = 2000000;
    double t0 = now_s();
    for (int64_t k = 1; k <= n; k++) {
        c->open_time_ms = k * 60000;
        c->close_time_ms = c->open_time_ms + 59999;
        ev.time_ms = c->close_time_ms;
        g_now = ev.time_ms;
        g_candle_cb(g_candle_ud, &ev);
    }
    double dt = now_s() - t0;
    printf("paper exchange     : %3d resting orders, %lld candles in %.3f s = %.1f ns per candle\n", resting,
           (long long)n, dt, dt / (double)n * 1e9);

    /* with a market order filled on every candle */
    size_t before = g_published;
    t0 = now_s();
    const int64_t m = 500000;
    for (int64_t k = 1; k <= m; k++) {
        c->open_time_ms = (n + k) * 60000;
        c->close_time_ms = c->open_time_ms + 59999;
        ev.time_ms = c->close_time_ms;
        g_candle_cb(g_candle_ud, &ev);
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
        snprintf(o.client_id, sizeof o.client_id, "m%lld", (long long)k);
        o.side = k % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
        o.type = QTR_ORDER_MARKET;
        o.qty = QTR_DEC_INT(1);
        g_desc->exchange->submit_order(state, &o);
    }
    dt = now_s() - t0;
    printf("paper exchange     : %3d resting + 1 market order filled per candle: %.1f ns per candle (%zu events)\n",
           resting, dt / (double)m * 1e9, g_published - before);
    g_desc->destroy(state);
    dlclose(dl);
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 2000000;
    bench_csv(rows);
    bench_synth();
    bench_paper(0);
    bench_paper(8);
    bench_paper(64);
    return 0;
}
