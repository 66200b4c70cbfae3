/* The streaming reader of backtest candles (market/candle_stream.h) against
 * the whole-file reader (qh_inputs_load_candles): random sets of files in
 * every accepted shape (6 or 12 columns, header or none, CRLF, byte order
 * mark, no final newline, trailing blank lines, volumes with float noise,
 * files larger than the read-ahead buffer, several files of one symbol)
 * give the same candles in the same order, byte for byte; a file spoiled at
 * one row (a bad price, an empty line before more rows, prices out of
 * order, a negative volume, a '\r' inside a row, a missing column, a time
 * going back) is refused with the same message; one candle in two files
 * too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "market/candle_stream.h"
#include "market/candles.h"
#include "market/inputs.h"

static uint64_t g_rng = 15;

static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g_rng >> 33) % n;
}

typedef struct spec {
    char path[128];
    int64_t t0, step;
    int rows;
    bool twelve, header, crlf, bom, final_nl, blank_tail;
} spec;

/* How a spoiled row is spoiled, and what the refusal then names. */
static const struct { const char *row, *message; } spoils[] = {
    { NULL, "column 'high'" },                       /* 'x' for the high price */
    { "", "empty line" },                            /* an empty line, then rows */
    { "%lld,1.2,1.1,1.3,1.2,10", "high 1.1 is below low 1.3" },
    { "%lld,1.5,1.6,1.3,1.4,-10", "column 'volume': negative" },
    { "%lld,1.5,1.6,1.3,1.4\r,10", "column 'close'" },
    { "%lld,1.5,1.6,1.3,1.4", "columns, found" },
    { "1,1.5,1.6,1.3,1.4,10", "is not after the previous" },
};

/* One file of the spec; with spoil_row >= 0 that row is spoiled the
 * spoil_kind way (spoils[]). */
static void write_file_spoiled(const spec *s, int spoil_row, int spoil_kind)
{
    FILE *f = fopen(s->path, "wb");
    assert_non_null(f);
    const char *nl = s->crlf ? "\r\n" : "\n";
    if (s->bom) fputs("\xEF\xBB\xBF", f);
    if (s->header)
        fprintf(f, "%s%s",
                s->twelve ? "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
                            "taker_buy_quote_volume,ignore"
                          : "open_time_ms,open,high,low,close,volume",
                nl);
    int64_t price = 100000;   /* in 1e-4 */
    for (int i = 0; i < s->rows; i++) {
        int64_t t = s->t0 + i * s->step;
        int64_t o = price, c = price + (int64_t)rnd(201) - 100;
        if (c < 1000) c = 1000;
        int64_t hi = (o > c ? o : c) + rnd(50), lo = (o < c ? o : c) - rnd(50);
        price = c;
        char vol[40];
        if (rnd(10) == 0) snprintf(vol, sizeof vol, "%u.5950750000%u", rnd(100000), 1 + rnd(9));   /* float noise */
        else snprintf(vol, sizeof vol, "%u.%u", rnd(100000), rnd(1000));
        if (i == spoil_row && spoil_kind > 0) {
            fprintf(f, spoils[spoil_kind].row, (long long)t);
            if (s->twelve && spoils[spoil_kind].row[0]) fprintf(f, ",%lld,1.5,%d,0.5,0.7,0", (long long)(t + s->step - 1), i);
            fputs(nl, f);
            continue;
        }
        if (i == spoil_row) fprintf(f, "%lld,%lld.%04lld,x,%lld.%04lld,%lld.%04lld,%s", (long long)t, (long long)(o / 10000),
                                    (long long)(o % 10000), (long long)(lo / 10000), (long long)(lo % 10000),
                                    (long long)(c / 10000), (long long)(c % 10000), vol);
        else
            fprintf(f, "%lld,%lld.%04lld,%lld.%04lld,%lld.%04lld,%lld.%04lld,%s", (long long)t, (long long)(o / 10000),
                    (long long)(o % 10000), (long long)(hi / 10000), (long long)(hi % 10000), (long long)(lo / 10000),
                    (long long)(lo % 10000), (long long)(c / 10000), (long long)(c % 10000), vol);
        if (s->twelve) fprintf(f, ",%lld,1.5,%d,0.5,0.7,0", (long long)(t + s->step - 1), i);
        if (i + 1 < s->rows || s->final_nl) fputs(nl, f);
    }
    if (s->blank_tail) fprintf(f, "%s%s", nl, nl);
    fclose(f);
}

static void write_file(const spec *s, int spoil_row) { write_file_spoiled(s, spoil_row, 0); }

static void random_spec(spec *s, const char *dir, int k, const char *symbol, int64_t t0)
{
    memset(s, 0, sizeof s[0]);
    snprintf(s->path, sizeof s->path, "%s/%s-%d.csv", dir, symbol, k);
    s->step = rnd(3) == 0 ? 60000 : 300000;
    s->t0 = t0 + (int64_t)rnd(5) * s->step;
    /* now and then larger than the 256 KiB read-ahead (~70 bytes a row) */
    s->rows = rnd(8) == 0 ? 4000 + (int)rnd(4000) : 2 + (int)rnd(400);
    s->twelve = rnd(3) == 0;
    s->header = !s->twelve || rnd(2);
    s->crlf = rnd(4) == 0;
    s->bom = rnd(5) == 0;
    s->final_nl = rnd(4) != 0;
    s->blank_tail = s->final_nl && rnd(5) == 0;
}

/* Every candle of the stream, in order; -1 and the message on an error. */
static int drain(const char *const *paths, size_t n, qh_candle_vec *out, size_t *rounded, char *err, size_t errlen)
{
    qh_candle_stream *s = qh_candle_stream_open("--data", paths, n, err, errlen);
    if (!s) return -1;
    qtr_candle c;
    int got;
    while ((got = qh_candle_stream_next(s, &c, err, errlen)) == 1) {
        assert_int_equal(qh_candle_vec_push(out, &c), 0);
        /* bounded: the files of a round hold fewer (a stream that never
         * ends fails here, not by a timeout) */
        if (out->len > 100000) fail_msg("more candles than the files hold");
    }
    *rounded = qh_candle_stream_volumes_rounded(s);
    qh_candle_stream_close(s);
    return got;
}

static void same_candles_as_the_whole_file_reader(void **state)
{
    (void)state;
    char dir[] = "/tmp/qtr-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const syms[] = { "BTCUSDT", "ETHUSDT", "XRPUSDT", "A1USDT", "B2USDT" };
    for (int round = 0; round < 40; round++) {
        spec sp[12];
        const char *paths[12];
        int sym_of[12];
        size_t n = 1 + rnd(8);
        for (size_t k = 0; k < n; k++) {
            /* a symbol may come in two files: the later one starts after the earlier ends */
            sym_of[k] = (int)rnd(5);
            int64_t t0 = 1700000000000LL;
            for (size_t j = 0; j < k; j++) {
                int64_t end = sp[j].t0 + sp[j].rows * sp[j].step + 600000;
                if (sym_of[j] == sym_of[k] && end > t0) t0 = end;
            }
            random_spec(&sp[k], dir, (int)k, syms[sym_of[k]], t0);
            write_file(&sp[k], -1);
            paths[k] = sp[k].path;
        }
        qh_candle_vec whole = { 0 }, streamed = { 0 };
        char e1[1024] = "", e2[1024] = "";
        size_t rounded = 0;
        int rc1 = qh_inputs_load_candles("--data", paths, n, &whole, e1, sizeof e1);
        int rc2 = drain(paths, n, &streamed, &rounded, e2, sizeof e2);
        if (rc1 != 0) fail_msg("round %d: the whole-file reader refused: %s", round, e1);
        assert_int_equal(rc2, 0);
        assert_int_equal(streamed.len, whole.len);
        assert_memory_equal(streamed.items, whole.items, whole.len * sizeof *whole.items);
        assert_int_equal(rounded, whole.volumes_rounded);

        /* one file spoiled at one row, not its last (an empty line there
         * would end it): the same message from both */
        size_t k = rnd((uint32_t)n);
        int row = (int)rnd((uint32_t)sp[k].rows - 1), kind = round % (int)(sizeof spoils / sizeof spoils[0]);
        if (kind == 6 && row < 2) row = 2;   /* after the rows that give the interval */
        write_file_spoiled(&sp[k], row, kind);
        qh_candle_vec w2 = { 0 }, s2 = { 0 };
        e1[0] = e2[0] = '\0';
        assert_int_equal(qh_inputs_load_candles("--data", paths, n, &w2, e1, sizeof e1), -1);
        assert_int_equal(drain(paths, n, &s2, &rounded, e2, sizeof e2), -1);
        assert_string_equal(e2, e1);
        if (!strstr(e2, spoils[kind].message)) fail_msg("round %d, spoil %d: '%s'", round, kind, e2);
        qh_candle_vec_free(&w2);
        qh_candle_vec_free(&s2);
        qh_candle_vec_free(&whole);
        qh_candle_vec_free(&streamed);
        for (size_t j = 0; j < n; j++) unlink(sp[j].path);
    }
    rmdir(dir);
}

static void one_candle_in_two_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/qtr-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    spec a = { .t0 = 1700000000000LL, .step = 60000, .rows = 5000, .header = true, .final_nl = true };
    spec b = a, c = a;
    b.t0 = a.t0 + 4321 * a.step;   /* overlaps a from a's row 4321 (line 4323) */
    b.rows = 30;
    snprintf(a.path, sizeof a.path, "%s/ETHUSDT-a.csv", dir);
    snprintf(b.path, sizeof b.path, "%s/ETHUSDT-b.csv", dir);
    snprintf(c.path, sizeof c.path, "%s/BTCUSDT-c.csv", dir);
    write_file(&a, -1);
    write_file(&b, -1);
    write_file(&c, -1);
    const char *paths[] = { c.path, b.path, a.path };
    qh_candle_vec w = { 0 }, s = { 0 };
    char e1[1024] = "", e2[1024] = "";
    size_t rounded;
    assert_int_equal(qh_inputs_load_candles("--data", paths, 3, &w, e1, sizeof e1), -1);
    assert_int_equal(drain(paths, 3, &s, &rounded, e2, sizeof e2), -1);
    assert_string_equal(e2, e1);
    char want[512];
    snprintf(want, sizeof want, "ETHUSDT candle opening at %lld is in both %s:2 and %s:4323", (long long)b.t0, b.path,
             a.path);
    assert_string_equal(e2, want);
    /* everything before the duplicate came out, in order */
    assert_true(s.len >= 2 * 4321);
    qh_candle_vec_free(&s);
    unlink(a.path);
    unlink(b.path);
    unlink(c.path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_candles_as_the_whole_file_reader),
        cmocka_unit_test(one_candle_in_two_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
