/* Fill on the exchange to the fill row committed in the trade store: the
 * real server (`qtr run`, the binance_usdm plugin, the host engine, the
 * policy, the SQLite store with synchronous=FULL) against binance_mock on a
 * free loopback port, its latency zero (no fault or delay configured). Over
 * the user data stream, and over REST polling (stream_url empty).
 *
 * Each run starts a fresh mock and a fresh server whose test strategy
 * (tests/e2e/strategy_place_orders.c) rests N buy limit orders below the
 * market. Once the store holds all N as NEW, each is filled on the exchange
 * in turn with POST /mock/fill, after a random pause (stream: 2-12 ms;
 * polling: a random point of the poll period, as the exchange would).
 *
 * What is measured: t0 just before the control request that makes the fill
 * (its own round trip is included, printed apart for scale: an upper bound),
 * t1 when a second SQLite connection (read-only, as any reader or backup
 * sees the store) first counts one more row in `fills`. That reader polls
 * every 100 us, so t1 is late by up to about 0.1 ms plus one query. The
 * store directory is BENCH_DIR (default /tmp): a real disk, fsync included;
 * each run prints what one fsync costs there at the time, for it bounds the
 * figure from below (BENCH_DIR=/dev/shm leaves the software path alone).
 *
 * Usage: bench_binance_fill_store [FILLS] [RUNS] [POLL_FILLS] [POLL_MS]
 * (defaults 100, 3, 20, 1000 = the default poll_interval_ms; POLL_FILLS 0
 * skips polling). Prints p50/p99/max of every run, then the median of the
 * runs and their spread, and the load average before and after. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench_report.h"
#include "bn_fixture.h"

#ifndef QTR_BIN
#error "QTR_BIN must name the qtr executable"
#endif

#define MAX_FILLS 1000
#define MAX_RUNS 20
#define CID_MAX 64

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* dir + "/" + name into out; false if it does not fit. */
static bool path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* The reference policy with room for N resting orders and their fills (its
 * own notional caps allow about five). Any other change to it is kept. */
static bool write_policy(const char *path)
{
    FILE *f = fopen(QTR_SOURCE_DIR "/policies/default.lua", "r");
    if (!f) return false;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    static const char *const from[] = { "max_position_notional = \"1000\"", "max_total_exposure = \"3000\"" };
    static const char *const to[] = { "max_position_notional = \"100000\"", "max_total_exposure = \"100000\"" };
    static char out[sizeof text + 64];
    for (size_t i = 0; i < 2; i++) {
        char *at = strstr(text, from[i]);
        if (!at) {
            fprintf(stderr, "policies/default.lua no longer says %s: update this bench\n", from[i]);
            return false;
        }
        int len = snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to[i], at + strlen(from[i]));
        if (len < 0 || (size_t)len >= sizeof text) return false;
        memcpy(text, out, (size_t)len + 1);
    }
    return write_file(path, text);
}

typedef struct run_cfg {
    bool stream;
    int fills;
    int poll_ms;
} run_cfg;

static bool write_config(const char *dir, const mock_exchange *mx, int ws_port, const run_cfg *rc)
{
    char stream_url[64] = "";
    if (rc->stream) snprintf(stream_url, sizeof stream_url, "ws://127.0.0.1:%d", ws_port);
    char text[4096], path[512];
    int len = snprintf(text, sizeof text,
             "return {\n"
             "  mode = \"live\",\n"
             "  state_dir = \"%s/var\",\n"
             "  plugin_path = { \"%s\" },\n"
             "  market = { source = \"exchange\" },\n"
             "  policy = { file = \"%s/policy.lua\" },\n"
             "  signals = { cycle_ms = 20 },\n"
             "  plugins = {\n"
             "    { kind = \"exchange\", name = \"binance_usdm\", options = { base_url = \"%s\", symbols = { \"BTCUSDT\" },\n"
             "      stream_url = \"%s\", poll_interval_ms = %d, mark_poll_ms = 1000, rate_limit_enabled = false } },\n"
             "    { kind = \"risk\", name = \"policy\" },\n"
             "    { kind = \"strategy\", name = \"place_orders\", file = \"%s\",\n"
             "      options = { count = %d, qty = \"0.003\", price = \"49000\", every_ms = 20 } },\n"
             "  },\n"
             "}\n",
             dir, QTR_PLUGIN_DIR, dir, mx->base_url, stream_url, rc->poll_ms, BENCH_PLACE_ORDERS, rc->fills);
    if (len < 0 || (size_t)len >= sizeof text) return false;
    return path_in(path, sizeof path, dir, "qtr.lua") && write_file(path, text);
}

static pid_t start_server(const char *dir)
{
    char cfg[512], log[512];
    if (!path_in(cfg, sizeof cfg, dir, "qtr.lua") || !path_in(log, sizeof log, dir, "qtr.log")) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (chdir(dir) != 0) _exit(127);
        setenv("QTR_BINANCE_API_KEY", FX_API_KEY, 1);
        setenv("QTR_BINANCE_API_SECRET", FX_SECRET, 1);
        execl(QTR_BIN, "qtr", "run", "-c", cfg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* SIGTERM, then SIGKILL if it has not stopped within 15 s. */
static int stop_server(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 1500; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
        sleep_us(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The client ids of the resting orders, oldest first; how many. */
static int resting(sqlite3 *db, char cids[][CID_MAX], int max)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT client_id FROM orders WHERE status = 'NEW' ORDER BY rowid", -1, &st, NULL) ==
        SQLITE_OK)
        while (n < max && sqlite3_step(st) == SQLITE_ROW)
            snprintf(cids[n++], CID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return n;
}

/* The store once it exists and holds `want` resting orders (bounded), or NULL. */
static sqlite3 *open_when_resting(const char *dir, int want, pid_t server)
{
    char path[512];
    if (!path_in(path, sizeof path, dir, "var/qtr.db")) return NULL;
    sqlite3 *db = NULL;
    int64_t until = mono_ns() + 60 * 1000000000LL;
    while (mono_ns() < until && waitpid(server, NULL, WNOHANG) == 0) {
        struct stat sb;
        if (!db && stat(path, &sb) == 0 && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db);
            db = NULL;
        }
        if (db) {
            sqlite3_busy_timeout(db, 1000);
            if (count(db, "SELECT count(*) FROM orders WHERE status = 'NEW'") >= want) return db;
        }
        sleep_us(50000);
    }
    sqlite3_close(db);
    return NULL;
}

/* What one durable commit costs on this disk now: the median of 31 fsyncs
 * of a 4 KiB write in dir (synchronous=FULL pays one per commit). */
static double fsync_ms(const char *dir)
{
    char path[512];
    double t[31];
    int fd = path_in(path, sizeof path, dir, "fsync_probe") ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    if (fd < 0) return -1;
    static const char page[4096];
    for (int i = 0; i < 31; i++) {
        int64_t t0 = mono_ns();
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page || fsync(fd) != 0) { close(fd); return -1; }
        t[i] = (double)(mono_ns() - t0) / 1e6;
        sleep_us(2000);
    }
    close(fd);
    unlink(path);
    qsort(t, 31, sizeof t[0], bench_cmp_double);
    return t[15];
}

/* One server, rc->fills fills; latencies in ms into lat, control round trips
 * into ctl. Returns the number of samples, -1 if the setup failed. */
static int one_run(const run_cfg *rc, double *lat, double *ctl, double *disk_ms)
{
    const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
    char dir[256];
    if (!path_in(dir, sizeof dir, base, "qtr_bench_fill_store_XXXXXX")) return -1;
    if (!mkdtemp(dir)) { perror("mkdtemp"); return -1; }
    *disk_ms = fsync_ms(dir);
    mock_exchange *mx = mx_start();
    if (!mx) return -1;
    long st = 0;
    char *body = mx_get(mx, "/mock/ws", &st);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    int ws_port = (int)json_integer_value(json_object_get(j, "port"));
    json_decref(j);
    char policy[600];
    if (!path_in(policy, sizeof policy, dir, "policy.lua") || !write_policy(policy) || !write_config(dir, mx, ws_port, rc)) {
        mx_stop(mx);
        return -1;
    }
    pid_t server = start_server(dir);
    int n = -1;
    sqlite3 *db = server > 0 ? open_when_resting(dir, rc->fills, server) : NULL;
    static char cids[MAX_FILLS][CID_MAX];
    int have = db ? resting(db, cids, rc->fills) : 0;
    if (!db || have < rc->fills) {
        fprintf(stderr, "the server did not rest %d orders within 60 s: see %s/qtr.log\n", rc->fills, dir);
    } else {
        n = 0;
        long long filled = count(db, "SELECT count(*) FROM fills");
        for (int i = 0; i < have && filled >= 0; i++) {
            sleep_us(rc->stream ? 2000 + rand() % 10000 : (int64_t)(rand() % rc->poll_ms) * 1000);
            int64_t c0 = mono_ns();
            mx_post(mx, "/mock/time_offset?ms=0");   /* a control round trip alone, for scale */
            ctl[i] = (double)(mono_ns() - c0) / 1e6;
            char q[160];
            snprintf(q, sizeof q, "/mock/fill?clientOrderId=%s&qty=0.003", cids[i]);
            int64_t t0 = mono_ns(), deadline = t0 + (int64_t)(rc->poll_ms * 3 + 10000) * 1000000;
            if (mx_post(mx, q) != 200) { fprintf(stderr, "POST %s failed\n", q); break; }
            long long now = filled;
            while (now <= filled && mono_ns() < deadline) {
                sleep_us(100);
                now = count(db, "SELECT count(*) FROM fills");
            }
            if (now <= filled) { fprintf(stderr, "fill %s not in the store within the deadline\n", cids[i]); break; }
            lat[n++] = (double)(mono_ns() - t0) / 1e6;
            filled = now;
        }
    }
    sqlite3_close(db);
    int status = server > 0 ? stop_server(server) : -1;
    mx_stop(mx);
    if (n >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fprintf(stderr, "the server did not stop cleanly (status %d): see %s/qtr.log\n", status, dir);
    else if (n == rc->fills) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return n;
}

static double pct(const double *sorted, int n, double p)
{
    int i = (int)(n * p);
    return sorted[i < n ? i : n - 1];
}

/* Every run of one path, then the median of the runs and their spread. */
static bool measure(const char *what, const run_cfg *rc, int runs)
{
    static double lat[MAX_FILLS], ctl[MAX_FILLS];
    double p50[MAX_RUNS], p99[MAX_RUNS], mx[MAX_RUNS], c50[MAX_RUNS];
    printf("%s: %d fills per run\n", what, rc->fills);
    for (int r = 0; r < runs; r++) {
        double disk = 0;
        int n = one_run(rc, lat, ctl, &disk);
        if (n < rc->fills) return false;
        qsort(lat, (size_t)n, sizeof lat[0], bench_cmp_double);
        qsort(ctl, (size_t)n, sizeof ctl[0], bench_cmp_double);
        p50[r] = pct(lat, n, 0.5);
        p99[r] = pct(lat, n, 0.99);
        mx[r] = lat[n - 1];
        c50[r] = pct(ctl, n, 0.5);
        printf("  run %d: p50 %8.3f ms  p99 %8.3f  max %8.3f  min %8.3f   (control round trip p50 %.3f ms, "
               "fsync here p50 %.3f ms)\n", r + 1, p50[r], p99[r], mx[r], lat[0], c50[r], disk);
    }
    qsort(p50, (size_t)runs, sizeof p50[0], bench_cmp_double);
    qsort(p99, (size_t)runs, sizeof p99[0], bench_cmp_double);
    qsort(mx, (size_t)runs, sizeof mx[0], bench_cmp_double);
    printf("  median of %d runs: p50 %.3f ms (%.3f..%.3f), p99 %.3f ms (%.3f..%.3f), max %.3f ms (%.3f..%.3f)\n", runs,
           p50[runs / 2], p50[0], p50[runs - 1], p99[runs / 2], p99[0], p99[runs - 1], mx[runs / 2], mx[0],
           mx[runs - 1]);
    return true;
}

int main(int argc, char **argv)
{
    int fills = argc > 1 ? atoi(argv[1]) : 100, runs = argc > 2 ? atoi(argv[2]) : 3;
    int poll_fills = argc > 3 ? atoi(argv[3]) : 20, poll_ms = argc > 4 ? atoi(argv[4]) : 1000;
    if (fills < 1 || fills > MAX_FILLS || runs < 1 || runs > MAX_RUNS || poll_fills < 0 || poll_fills > MAX_FILLS ||
        poll_ms < 10 || poll_ms > 60000) {
        fprintf(stderr, "usage: bench_binance_fill_store [FILLS 1..%d] [RUNS 1..%d] [POLL_FILLS 0..%d] [POLL_MS 10..60000]\n",
                MAX_FILLS, MAX_RUNS, MAX_FILLS);
        return 2;
    }
    srand(12345);   /* the same pauses every time */
    signal(SIGPIPE, SIG_IGN);
    printf("fill on binance_mock (no delay) -> fill row committed in the store, seen by a second connection\n");
    bench_print_load("before");
    run_cfg stream = { .stream = true, .fills = fills, .poll_ms = 1000 };
    if (!measure("user data stream", &stream, runs)) return 1;
    if (poll_fills) {
        run_cfg poll = { .stream = false, .fills = poll_fills, .poll_ms = poll_ms };
        char what[64];
        snprintf(what, sizeof what, "REST polling every %d ms", poll_ms);
        if (!measure(what, &poll, runs)) return 1;
    }
    bench_print_load("after");
    return 0;
}
