/*
 * Data files that never end: /dev/zero, a FIFO, a directory, a file that is
 * one line of gigabytes. Each is refused at once with a message naming it,
 * without blocking and in bounded memory, by the candle and the funding
 * readers alike; lines are capped at exactly QH_DATA_LINE_MAX bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "market/candles.h"
#include "market/data_file.h"
#include "market/funding.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define H6 "open_time_ms,open,high,low,close,volume\n"
#define HF "funding_time_ms,funding_rate\n"

static char g_dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-data-file-%d", (int)getpid());
    return mkdir(g_dir, 0700);
}

static int remove_dir(void **state)
{
    (void)state;
    return rmdir(g_dir);
}

static void path_in_dir(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g_dir, name); }

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Both loaders refuse `path` with a message that starts with `prefix` and
 * contains `what`. The alarm turns a blocking open into a failure. */
static void both_refuse(const char *path, const char *prefix, const char *what)
{
    char err[512] = "";
    qh_candle_vec v = { 0 };
    alarm(20);
    int rc = qh_csv_load(path, "XRPUSDT", &v, err, sizeof err);
    alarm(0);
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("candles: expected '%s...%s', got rc=%d '%s'", prefix, what, rc, err);
    assert_int_equal(v.len, 0);
    qh_funding f;
    err[0] = '\0';
    alarm(20);
    rc = qh_funding_load(path, &f, err, sizeof err);
    alarm(0);
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("funding: expected '%s...%s', got rc=%d '%s'", prefix, what, rc, err);
    assert_null(f.rows);
}

static void refuses_dev_zero(void **state)
{
    (void)state;
    both_refuse("/dev/zero", "/dev/zero: ", "not a regular file (a character device)");
    size_t len = 7;
    char err[256];
    assert_null(qh_data_file_read("/dev/zero", &len, err, sizeof err));
    assert_int_equal(len, 7);
}

/* A FIFO nobody writes to: opening it must not wait for a writer. */
static void refuses_a_fifo_without_blocking(void **state)
{
    (void)state;
    char path[128], prefix[160];
    path_in_dir(path, sizeof path, "XRPUSDT-fifo.csv");
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(prefix, sizeof prefix, "%s: ", path);
    both_refuse(path, prefix, "not a regular file (a FIFO or pipe)");
    unlink(path);
}

static void refuses_a_directory(void **state)
{
    (void)state;
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s: ", g_dir);
    both_refuse(g_dir, prefix, "not a regular file (a directory)");
}

/* The loader runs in a child so its peak memory is its own: a sparse file of
 * `mib` MiB whose second line never ends is refused, and the child's peak
 * RSS stays far below the file's size (with its address space limited to
 * `address_space_mib` MiB if not 0). */
static void sparse_line_refused_in_bounded_memory(const char *name, const char *first_line, bool funding,
                                                  size_t mib, size_t address_space_mib)
{
    char path[128];
    path_in_dir(path, sizeof path, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, first_line, strlen(first_line)), (ssize_t)strlen(first_line));
    assert_int_equal(ftruncate(fd, (off_t)mib << 20), 0);   /* nearly all a hole of NUL bytes */
    close(fd);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512] = "";
        if (address_space_mib) {   /* no room for the file's size at once: the growing buffer */
            struct rlimit lim = { (rlim_t)address_space_mib << 20, (rlim_t)address_space_mib << 20 };
            if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
        }
        int rc;
        if (funding) {
            qh_funding f;
            rc = qh_funding_load(path, &f, err, sizeof err);
        } else {
            qh_candle_vec v = { 0 };
            rc = qh_csv_load(path, "XRPUSDT", &v, err, sizeof err);
        }
        if (rc == 0) snprintf(err, sizeof err, "accepted");
        ssize_t w = write(pipefd[1], err, strlen(err) + 1);
        _exit(w > 0 ? 0 : 1);
    }
    close(pipefd[1]);
    /* bounded wait: 60 s at most, then the child is killed and the test fails */
    int status = 0;
    struct rusage ru;
    pid_t got = 0;
    for (int k = 0; k < 6000 && (got = wait4(pid, &status, WNOHANG, &ru)) == 0; k++)
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        unlink(path);
        fail_msg("%s: the loader did not finish within 60 s", path);
    }
    char err[512] = "";
    ssize_t r = read(pipefd[0], err, sizeof err - 1);
    close(pipefd[0]);
    unlink(path);
    assert_true(r > 0);
    char want[200];
    snprintf(want, sizeof want, "%s:2: line longer than %d bytes", path, QH_DATA_LINE_MAX);
    if (strcmp(err, want) != 0) fail_msg("expected '%s', got '%s'", want, err);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* ru_maxrss is in KiB: the file cost less than 64 MiB */
    if (ru.ru_maxrss > 64 * 1024) fail_msg("peak RSS %ld KiB for a refused %zu MiB line", ru.ru_maxrss, mib);
}

static void refuses_a_huge_line_in_bounded_memory(void **state)
{
    (void)state;
    sparse_line_refused_in_bounded_memory("XRPUSDT-huge.csv", H6, false, 3 << 10, 0);
    sparse_line_refused_in_bounded_memory("XRPUSDT-funding-huge.csv", HF, true, 3 << 10, 0);
    /* below WHOLE_AT_ONCE but more than the address space allows: the
     * fallback to a growing buffer (AddressSanitizer reserves terabytes of
     * shadow, so no RLIMIT_AS under it) */
#ifndef UNDER_ASAN
    sparse_line_refused_in_bounded_memory("XRPUSDT-huge-tight.csv", H6, false, 768, 512);
#endif
}

/* A regular file whose 5th line runs on for 3 MiB before its newline: the
 * reader stops within about 1 MiB of passing the cap, and names the line. */
static void reader_stops_at_the_long_line(void **state)
{
    (void)state;
    size_t n = (size_t)3 << 20;
    char *text = malloc(n + 200);
    assert_non_null(text);
    int k = snprintf(text, 200, H6 "1000,1,2,1,1,5\n2000,1,2,1,1,5\n3000,1,2,1,1,5\n");
    memset(text + k, '7', n);
    memcpy(text + k + n, "\n4000,1,2,1,1,5\n", 16);
    char path[128], want[200], err[512] = "";
    path_in_dir(path, sizeof path, "XRPUSDT-long.csv");
    write_file(path, text, (size_t)k + n + 16);
    free(text);
    size_t len = 0;
    assert_null(qh_data_file_read(path, &len, err, sizeof err));
    snprintf(want, sizeof want, "%s:5: line longer than %d bytes", path, QH_DATA_LINE_MAX);
    assert_string_equal(err, want);
    unlink(path);
}

/* A candle row of exactly `n` bytes: volume 5.000… padded with zeros (exact). */
static char *row_of(size_t n, const char *time)
{
    char *row = malloc(n + 1);
    assert_non_null(row);
    int k = snprintf(row, n + 1, "%s,1,2,1,1,5.", time);
    assert_true((size_t)k < n);
    memset(row + k, '0', n - (size_t)k);
    row[n] = '\0';
    return row;
}

static int parse_csv(const char *text, char *err, size_t errlen)
{
    qh_candle_vec v = { 0 };
    int rc = qh_csv_parse("mem.csv", text, strlen(text), "XRPUSDT", &v, err, errlen);
    if (rc == 0) {
        assert_int_equal(v.len, 2);
        assert_int_equal(v.items[0].volume, QTR_DEC_INT(5));   /* the padding is exact */
    }
    qh_candle_vec_free(&v);
    return rc;
}

static void the_cap_is_exact(void **state)
{
    (void)state;
    char text[3 * QH_DATA_LINE_MAX], err[256];
    for (int crlf = 0; crlf < 2; crlf++) {
        const char *eol = crlf ? "\r\n" : "\n";
        char *ok = row_of(QH_DATA_LINE_MAX, "1000"), *over = row_of(QH_DATA_LINE_MAX + 1, "1000");
        snprintf(text, sizeof text, "%s%s%s2000,1,2,1,1,5%s", H6, ok, eol, eol);
        assert_int_equal(parse_csv(text, err, sizeof err), 0);
        snprintf(text, sizeof text, "%s%s%s2000,1,2,1,1,5%s", H6, over, eol, eol);
        assert_int_equal(parse_csv(text, err, sizeof err), -1);
        assert_string_equal(err, "mem.csv:2: line longer than 4096 bytes");
        /* the last line, without a newline */
        snprintf(text, sizeof text, "%s1000,1,2,1,1,5%s%s", H6, eol, over);
        assert_int_equal(parse_csv(text, err, sizeof err), -1);
        assert_string_equal(err, "mem.csv:3: line longer than 4096 bytes");
        /* the first line, header or not */
        snprintf(text, sizeof text, "%s%s", over, eol);
        assert_int_equal(parse_csv(text, err, sizeof err), -1);
        assert_string_equal(err, "mem.csv:1: line longer than 4096 bytes");
        free(ok);
        free(over);
    }
    /* funding rows likewise: a rate padded with zeros */
    char rate[QH_DATA_LINE_MAX + 2];
    qh_funding f;
    for (size_t n = QH_DATA_LINE_MAX; n <= QH_DATA_LINE_MAX + 1; n++) {
        int k = snprintf(rate, sizeof rate, "1000,0.0001");
        memset(rate + k, '0', n - (size_t)k);
        rate[n] = '\0';
        snprintf(text, sizeof text, HF "%s\n", rate);
        int rc = qh_funding_parse("mem-funding.csv", text, strlen(text), "XRPUSDT", &f, err, sizeof err);
        if (n == QH_DATA_LINE_MAX) {
            assert_int_equal(rc, 0);
            assert_int_equal(f.n, 1);
            assert_int_equal(f.rows[0].rate, 10000);
            qh_funding_free(&f);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(err, "mem-funding.csv:2: line longer than 4096 bytes");
        }
    }
}

static void funding_rows_and_refusals(void **state)
{
    (void)state;
    qh_funding f;
    char err[256];
    const char *good = "\xEF\xBB\xBF" HF "1000,0.0001\r\n\n2000,-0.00025\n3000,1e-4\n";
    assert_int_equal(qh_funding_parse("f.csv", good, strlen(good), "XRPUSDT", &f, err, sizeof err), 0);
    assert_string_equal(f.symbol, "XRPUSDT");
    assert_int_equal(f.n, 3);
    assert_int_equal(f.rows[0].time_ms, 1000);
    assert_int_equal(f.rows[0].rate, 10000);
    assert_int_equal(f.rows[1].rate, -25000);
    assert_int_equal(f.rows[2].time_ms, 3000);
    assert_int_equal(f.rows[2].rate, 10000);
    qh_funding_free(&f);
    static const struct { const char *text, *err; } bad[] = {
        { HF "1000,0.0001\n1000,0.0002\n", "f.csv:3: funding times must increase (1000 after 1000)" },
        { HF "1000,abc\n", "f.csv:2: column 'funding_rate': not a decimal number" },
        { HF "1000,0.000000001\n", "f.csv:2: column 'funding_rate': more than 8 decimal places" },
        { HF "x1000,0.1\n", "f.csv:2: expected funding_time_ms,funding_rate (a time in milliseconds, then a rate)" },
        { HF "0,0.1\n", "f.csv:2: expected funding_time_ms,funding_rate (a time in milliseconds, then a rate)" },
        /* microseconds (16 digits) would be the year 53842 */
        { HF "1735689600000000,0.1\n", "f.csv:2: 1735689600000000 is after the year 2286: times must be Unix milliseconds "
                                  "(a file in microseconds must be converted)" },
        { HF "1000\n", "f.csv:2: expected funding_time_ms,funding_rate (a time in milliseconds, then a rate)" },
        { HF "1000,0.1,2\n", "f.csv:2: column 'funding_rate': not a decimal number" },
        { HF, "f.csv: no funding rows" },
        { "", "f.csv: no funding rows" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        err[0] = '\0';
        assert_int_equal(qh_funding_parse("f.csv", bad[k].text, strlen(bad[k].text), "XRPUSDT", &f, err, sizeof err), -1);
        assert_string_equal(err, bad[k].err);
        assert_null(f.rows);
        assert_int_equal(f.n, 0);
    }
    char path[128];
    path_in_dir(path, sizeof path, "funding.csv");
    assert_int_equal(qh_funding_load("/nonexistent/XRPUSDT-funding.csv", &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/XRPUSDT-funding.csv: cannot open"));
    assert_int_equal(qh_funding_load("/tmp/-funding.csv", &f, err, sizeof err), -1);
    assert_string_equal(err, "/tmp/-funding.csv: cannot tell the symbol from the file name");
}

/* The real data files still load, exactly. */
static void real_files_load(void **state)
{
    (void)state;
    const char *src = getenv("QTR_SOURCE_DIR");
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/../shared/data/XRPUSDT-perp-1h.csv", src ? src : ".");
    qh_candle_vec v = { 0 };
    if (qh_csv_load(path, "XRPUSDT", &v, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(v.len, 100);
    assert_int_equal(v.items[0].open_time_ms, 1637110800000);
    assert_int_equal(v.items[0].open, 108010000);     /* 1.0801 */
    assert_int_equal(v.items[0].volume, 315369460735900);   /* 3153694.607359 */
    qh_candle_vec_free(&v);
    snprintf(path, sizeof path, "%s/../shared/data/XRPUSDT-perp-funding-8h.csv", src ? src : ".");
    qh_funding f;
    if (qh_funding_load(path, &f, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(f.symbol, "XRPUSDT");
    assert_int_equal(f.n, 91);
    assert_int_equal(f.rows[0].time_ms, 1637193600017);
    assert_int_equal(f.rows[0].rate, 10000);          /* 0.0001 */
    for (size_t i = 1; i < f.n; i++) assert_true(f.rows[i].time_ms > f.rows[i - 1].time_ms);
    qh_funding_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_dev_zero),
        cmocka_unit_test(refuses_a_fifo_without_blocking),
        cmocka_unit_test(refuses_a_directory),
        cmocka_unit_test(refuses_a_huge_line_in_bounded_memory),
        cmocka_unit_test(reader_stops_at_the_long_line),
        cmocka_unit_test(the_cap_is_exact),
        cmocka_unit_test(funding_rows_and_refusals),
        cmocka_unit_test(real_files_load),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
