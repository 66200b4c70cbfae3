/* The candle CSV reader: both formats, every refusal with its line, real data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "market/candles.h"

static char g_path[64];

/* Writes text to a fresh temporary file; the path is in g_path. */
static const char *write_temp(const char *text)
{
    /* the mkstemp template: a fixed prefix and six X's */
    size_t k = (size_t)snprintf(g_path, sizeof g_path, "/tmp/qtr-market-test-");
    for (int i = 0; i < 6; i++) g_path[k++] = 'X';
    g_path[k] = '\0';
    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return g_path;
}

/* Loads text that must be refused at `line` with a message containing `what`. */
static void expect_refusal(const char *text, int line, const char *what)
{
    const char *path = write_temp(text);
    qh_candle_vec v = { 0 };
    qtr_candle keep = { .symbol = "KEEP", .open_time_ms = 7 };
    assert_int_equal(qh_candle_vec_push(&v, &keep), 0);
    char err[256] = "";
    int rc = qh_csv_load(path, "TEST", &v, err, sizeof err);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("expected refusal '%s%s', got rc=%d err='%s'", prefix, what, rc, err);
    /* all or nothing: what was in the vector before is all that is there */
    assert_int_equal(v.len, 1);
    assert_int_equal(v.items[0].open_time_ms, 7);
    qh_candle_vec_free(&v);
    unlink(path);
}

#define H6 "open_time_ms,open,high,low,close,volume\n"

static void refuses_wrong_header(void **state)
{
    (void)state;
    expect_refusal("open_time,open,high,low,close\n1000,1,2,1,1,5\n", 1, "unknown header");
    expect_refusal("time,o,h,l,c,v\n1000,1,2,1,1,5\n", 1, "unknown header");
}

static void refuses_wrong_column_count(void **state)
{
    (void)state;
    expect_refusal(H6 "1000,1,2,1,1,5\n2000,1,2,1,1\n", 3, "expected 6 columns, found 5");
    expect_refusal(H6 "1000,1,2,1,1,5,9\n", 2, "expected 6 columns, found 7");
    /* a file without a header must be Binance's 12 columns */
    expect_refusal("1000,1,2,1,1,5\n", 1, "no header and 6 columns");
    expect_refusal("0,1,2,1,1,5,59999,0,0,0,0,0\n60000,1,2,1,1,5,119999,0,0,0,0\n", 2,
                   "expected 12 columns, found 11");
}

static void refuses_bad_numbers(void **state)
{
    (void)state;
    expect_refusal(H6 "1000,1,2,1,1,5\n2000,1,2.x,1,1,5\n", 3, "column 'high': not a decimal number ('2.x')");
    expect_refusal(H6 "1000,1,2,,1,5\n", 2, "column 'low': empty");
    expect_refusal(H6 "1000,1,2,1,1,\n", 2, "column 'volume': empty");
    expect_refusal(H6 "abc,1,2,1,1,5\n", 2, "column 'open_time_ms': not a time");
    expect_refusal(H6 "-5,1,2,1,1,5\n", 2, "column 'open_time_ms': not a time");
    expect_refusal(H6 "1000,1.123456789,2,1,1.5,5\n", 2, "column 'open': more than 8 decimal places");
    expect_refusal(H6 "1000, 1,2,1,1,5\n", 2, "column 'open': not a decimal number");
    expect_refusal(H6 "1000,0,0,0,0,5\n", 2, "column 'low': price must be positive");
    expect_refusal("0,1,2,1,1,5,x,0,0,0,0,0\n", 1, "column 'close_time': not a time");
}

static void refuses_inconsistent_prices(void **state)
{
    (void)state;
    expect_refusal(H6 "1000,1,2,1,1,5\n2000,1.5,1,2,1.5,5\n", 3, "high 1 is below low 2");
    expect_refusal(H6 "1000,3,2,1,1.5,5\n", 2, "column 'open': 3 is outside [low, high]");
    expect_refusal(H6 "1000,1.5,2,1,0.5,5\n", 2, "column 'close': 0.5 is outside [low, high]");
    expect_refusal(H6 "1000,1.5,2,1,1.5,-0.1\n", 2, "column 'volume': negative");
}

static void refuses_bad_time_order(void **state)
{
    (void)state;
    expect_refusal(H6 "1000,1,2,1,1,5\n2000,1,2,1,1,5\n2000,1,2,1,1,5\n", 4, "not after the previous row");
    expect_refusal(H6 "1000,1,2,1,1,5\n2000,1,2,1,1,5\n1500,1,2,1,1,5\n", 4, "not after the previous row");
    /* rows closer than the interval of the first two would overlap */
    expect_refusal(H6 "0,1,2,1,1,5\n1000,1,2,1,1,5\n3000,1,2,1,1,5\n3500,1,2,1,1,5\n", 5,
                   "less than one interval (1000 ms)");
    expect_refusal("0,1,2,1,1,5,59999,0,0,0,0,0\n30000,1,2,1,1,5,89999,0,0,0,0,0\n", 2,
                   "not after the previous candle's close time 59999");
    expect_refusal("60000,1,2,1,1,5,59999,0,0,0,0,0\n", 1, "column 'close_time': 59999 is before");
    /* microseconds, as Binance's spot klines write them since 2025: read
     * as milliseconds they were the year 53842, and the file accepted */
    expect_refusal("1735689600000000,1,2,1,1,5,1735689659999999,0,0,0,0,0\n", 1,
                   "column 'open_time_ms': 1735689600000000 is after the year 2286: times must be Unix milliseconds");
    expect_refusal("1735689600000,1,2,1,1,5,1735689659999999,0,0,0,0,0\n", 1,
                   "column 'close_time': 1735689659999999 is after the year 2286");
    expect_refusal(H6 "1735689600000000,1,2,1,1,5\n1735689660000000,1,2,1,1,5\n", 2, "is after the year 2286");
    /* the last millisecond before the bound is a time */
    qh_candle_vec v = { 0 };
    char err[256] = "";
    assert_int_equal(qh_csv_load(write_temp(H6 "9999999880000,1,2,1,1,5\n9999999940000,1,2,1,1,5\n"), "TEST", &v, err,
                                 sizeof err), 0);
    assert_int_equal(v.len, 2);
    qh_candle_vec_free(&v);
    unlink(g_path);
}

static void refuses_empty_and_short_files(void **state)
{
    (void)state;
    expect_refusal("", 1, "empty file");
    expect_refusal("\r\n\n", 1, "empty file");
    expect_refusal(H6, 2, "no candles after the header");
    expect_refusal(H6 "1000,1,2,1,1,5\n", 2, "a single candle");
    expect_refusal(H6 "1000,1,2,1,1,5\n\n2000,1,2,1,1,5\n", 3, "empty line");
}

static void refuses_unreadable_file(void **state)
{
    (void)state;
    qh_candle_vec v = { 0 };
    char err[256] = "";
    const char *path = "/nonexistent/qtr/no-such-file.csv";
    assert_int_equal(qh_csv_load(path, "X", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(v.len, 0);
    /* a directory opens but cannot be read as a file */
    err[0] = '\0';
    assert_int_equal(qh_csv_load("/tmp", "X", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "/tmp"));
    assert_int_equal(v.len, 0);
}

static void load_text(const char *text, qh_candle_vec *v)
{
    const char *path = write_temp(text);
    char err[256] = "";
    int rc = qh_csv_load(path, "XRPUSDT", v, err, sizeof err);
    if (rc != 0) fail_msg("load failed: %s", err);
    unlink(path);
}

static void both_formats_give_the_same_candles(void **state)
{
    (void)state;
    /* the same three 5-minute candles; CRLF and no final newline in one */
    const char *six = "open_time_ms,open,high,low,close,volume\r\n"
                      "1636934400000,1.1893,1.1954,1.1891,1.1941,9289043.5\r\n"
                      "1636934700000,1.1941,1.1993,1.1934,1.1972,7267451.9\r\n"
                      "1636935000000,1.1972,1.2,1.196,1.1999,100";
    const char *twelve =
        "1636934400000,1.1893,1.1954,1.1891,1.1941,9289043.5,1636934699999,11070000.1,5000,4000000,4700000,0\n"
        "1636934700000,1.1941,1.1993,1.1934,1.1972,7267451.9,1636934999999,8690000.2,4000,3000000,3600000,0\n"
        "1636935000000,1.1972,1.2,1.196,1.1999,100,1636935299999,119.9,3,50,60,0\n";
    qh_candle_vec a = { 0 }, b = { 0 };
    load_text(six, &a);
    load_text(twelve, &b);
    assert_int_equal(a.len, 3);
    assert_int_equal(b.len, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(a.items[i].symbol, "XRPUSDT");
        assert_memory_equal(&a.items[i], &b.items[i], sizeof a.items[i]);
    }
    assert_int_equal(a.items[0].open, 118930000);
    assert_int_equal(a.items[0].volume, 928904350000000);
    assert_int_equal(a.items[1].close_time_ms, 1636934700000 + 300000 - 1);
    assert_int_equal(a.items[2].high, 120000000);
    qh_candle_vec_free(&a);
    qh_candle_vec_free(&b);
}

static void accepts_binance_header_and_bom(void **state)
{
    (void)state;
    qh_candle_vec v = { 0 };
    load_text("\xEF\xBB\xBF"
              "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
              "taker_buy_quote_volume,ignore\n"
              "0,1,2,1,1,5,59999,0,0,0,0,0\n\n",
              &v);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.items[0].close_time_ms, 59999);
    qh_candle_vec_free(&v);
}

/* One data line of the real file, parsed here without the reader. */
static qtr_candle candle_from_line(char *line)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    line[strcspn(line, "\r\n")] = '\0';
    char *fields[6];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, ",", &save); tok && n < 6; tok = strtok_r(NULL, ",", &save))
        fields[n++] = tok;
    assert_int_equal(n, 6);
    c.open_time_ms = strtoll(fields[0], NULL, 10);
    qtr_dec *dst[5] = { &c.open, &c.high, &c.low, &c.close, &c.volume };
    for (int k = 0; k < 5; k++) assert_int_equal(qtr_dec_parse(fields[k + 1], (size_t)-1, dst[k]), QTR_DEC_OK);
    return c;
}

static void parses_the_real_5m_file(void **state)
{
    (void)state;
    const char *src = getenv("QTR_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/../shared/data/XRPUSDT-perp-5m.csv", src ? src : ".");

    /* the expected first, second and last rows, read independently */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512], first[512] = "", second[512] = "", last[512] = "";
    size_t rows = 0;
    assert_non_null(fgets(line, sizeof line, f));   /* header */
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\r' || line[0] == '\n') continue;
        if (rows == 0) strcpy(first, line);
        if (rows == 1) strcpy(second, line);
        strcpy(last, line);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 1999);
    qtr_candle want_first = candle_from_line(first), want_second = candle_from_line(second),
               want_last = candle_from_line(last);
    int64_t interval = want_second.open_time_ms - want_first.open_time_ms;

    qh_candle_vec v = { 0 };
    char err[256] = "", sym[QTR_SYMBOL_MAX];
    assert_true(qh_symbol_from_path(path, sym));
    assert_int_equal(qh_csv_load(path, sym, &v, err, sizeof err), 0);
    assert_int_equal(v.len, 1999);
    const qtr_candle *got[2] = { &v.items[0], &v.items[v.len - 1] };
    const qtr_candle *want[2] = { &want_first, &want_last };
    for (int k = 0; k < 2; k++) {
        assert_string_equal(got[k]->symbol, "XRPUSDT");
        assert_int_equal(got[k]->open_time_ms, want[k]->open_time_ms);
        assert_int_equal(got[k]->close_time_ms, want[k]->open_time_ms + interval - 1);
        assert_int_equal(got[k]->open, want[k]->open);
        assert_int_equal(got[k]->high, want[k]->high);
        assert_int_equal(got[k]->low, want[k]->low);
        assert_int_equal(got[k]->close, want[k]->close);
        assert_int_equal(got[k]->volume, want[k]->volume);
    }
    for (size_t i = 1; i < v.len; i++) assert_true(v.items[i].open_time_ms > v.items[i - 1].open_time_ms);
    qh_candle_vec_free(&v);
}

static void symbol_from_path(void **state)
{
    (void)state;
    char sym[QTR_SYMBOL_MAX];
    assert_true(qh_symbol_from_path("../data/XRPUSDT-perp-5m.csv", sym));
    assert_string_equal(sym, "XRPUSDT");
    assert_true(qh_symbol_from_path("btcusdt.csv", sym));
    assert_string_equal(sym, "BTCUSDT");
    assert_true(qh_symbol_from_path("/a.b/eth_1h.csv", sym));
    assert_string_equal(sym, "ETH");
    assert_false(qh_symbol_from_path("/data/-5m.csv", sym));
    assert_false(qh_symbol_from_path("/data/", sym));
    assert_false(qh_symbol_from_path("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.csv", sym));   /* 30 characters */
    assert_false(qh_symbol_from_path(NULL, sym));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_wrong_header),
        cmocka_unit_test(refuses_wrong_column_count),
        cmocka_unit_test(refuses_bad_numbers),
        cmocka_unit_test(refuses_inconsistent_prices),
        cmocka_unit_test(refuses_bad_time_order),
        cmocka_unit_test(refuses_empty_and_short_files),
        cmocka_unit_test(refuses_unreadable_file),
        cmocka_unit_test(both_formats_give_the_same_candles),
        cmocka_unit_test(accepts_binance_header_and_bom),
        cmocka_unit_test(parses_the_real_5m_file),
        cmocka_unit_test(symbol_from_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
