/* candle_stream.c — see candle_stream.h. */
#include "market/candle_stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "core/file_read.h"
#include "market/candles.h"
#include "market/csv_row_fast.h"
#include "market/csv_rows.h"
#include "market/data_file.h"
#include "market/head_ring.h"
#include "market/inputs.h"

/* Read-ahead per file: whole reads of this size keep the system calls rare
 * (a 5m candle row is ~50 bytes: ~5,000 rows a read). */
#define STREAM_BUF ((size_t)256 << 10)
/* A line may also carry a byte order mark (3) and a CR (1). */
#define LINE_SLACK 4

typedef struct cfile {
    const char *path;
    int fd;
    char *buf;
    size_t lo, hi;             /* the bytes not yet parsed: buf[lo, hi)        */
    size_t left;               /* bytes still to read (the size when opened)   */
    bool eof;
    size_t line;               /* the number of the next line                  */
    size_t blank_line;         /* an empty line seen (0: none): only the end may follow */
    qh_csv_rows rows;
    int64_t interval;          /* 6 columns: the spacing of the first two rows */
    qtr_candle cur;            /* the head, the next candle of this file       */
    size_t cur_line;
    bool has_cur;
    qtr_candle ahead;          /* 6 columns: the second row, read with the first */
    size_t ahead_line;
    bool has_ahead;
    size_t rank;               /* of its symbol among the files' symbols       */
} cfile;

struct qh_candle_stream {
    cfile *files;
    size_t n;
    qh_head_ring order;        /* the heads by (t, rank, index): head_ring.h   */
    bool failed;
    char error[1024];
};

/* Fill buf after its unread bytes. 0, or -1 with err. */
static int refill(cfile *f, char *err, size_t errlen)
{
    if (f->lo > 0) {
        memmove(f->buf, f->buf + f->lo, f->hi - f->lo);
        f->hi -= f->lo;
        f->lo = 0;
    }
    while (!f->eof && f->hi < STREAM_BUF) {
        size_t want = STREAM_BUF - f->hi;
        if (want > f->left) want = f->left;
        if (want == 0) { f->eof = true; break; }
        ssize_t r = read(f->fd, f->buf + f->hi, want);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", f->path, strerror(errno));
            return -1;
        }
        if (r == 0) { f->eof = true; break; }   /* shorter than it was: what is there */
        f->hi += (size_t)r;
        f->left -= (size_t)r;
        if (memchr(f->buf + f->hi - (size_t)r, '\n', (size_t)r)) break;   /* a line is complete */
    }
    return 0;
}

/* The next line [*p, *eol) (CR and LF excluded): 1, 0 at the end of the
 * file, -1 with err. */
static int next_line(cfile *f, const char **p, const char **eol, char *err, size_t errlen)
{
    for (;;) {
        char *start = f->buf + f->lo;
        char *nl = memchr(start, '\n', f->hi - f->lo);
        if (nl || (f->eof && f->hi > f->lo)) {
            char *e = nl ? nl : f->buf + f->hi;
            f->lo = nl ? (size_t)(nl - f->buf) + 1 : f->hi;
            if (e > start && e[-1] == '\r') e--;
            *p = start;
            *eol = e;
            return 1;
        }
        if (f->eof) return 0;
        if (f->hi - f->lo > QH_DATA_LINE_MAX + LINE_SLACK) return qh_data_line_refuse(f->path, f->line, err, errlen);
        if (refill(f, err, errlen) != 0) return -1;
    }
}

/* The next row of the file into *c (its line in *line), line by line: 1,
 * 0 at the end, -1 with err. Empty lines may only end the file. */
static int next_row_by_lines(cfile *f, qtr_candle *c, size_t *line, char *err, size_t errlen)
{
    const char *p, *eol;
    for (;;) {
        int got = next_line(f, &p, &eol, err, errlen);
        if (got <= 0) return got;
        size_t ln = f->line++;
        if (eol == p) {
            if (!f->blank_line) f->blank_line = ln;
            continue;
        }
        if (f->blank_line) return qh_csv_rows_fail(&f->rows, f->blank_line, "empty line");
        if (qh_data_line_check(f->path, ln, (size_t)(eol - p), err, errlen)) return -1;
        if (qh_csv_rows_next(&f->rows, ln, p, eol, f->buf + f->hi + QH_CSV_ROW_SLACK, c)) return -1;
        *line = ln;
        return 1;
    }
}

/* As next_row_by_lines. Most rows are read where they are, their line's
 * end found by reading them (the buffer has QH_CSV_ROW_SLACK bytes after
 * its data); any other line by line (an empty line is never read here, and
 * one seen there ends the file or the run). Inline: it runs every candle. */
static inline __attribute__((always_inline)) int next_row(cfile *f, qtr_candle *c, size_t *line, char *err,
                                                           size_t errlen)
{
    const char *eol;
    if (qh_csv_line_fast(f->rows.ncols, f->buf + f->lo, f->buf + f->hi, &eol, c) && qh_csv_row_plain(&f->rows, c)) {
        qh_csv_rows_took(&f->rows, c);
        f->lo = (size_t)(eol - f->buf) + 1 + (*eol == '\r');
        *line = f->line++;
        return 1;
    }
    return next_row_by_lines(f, c, line, err, errlen);
}

/* next_row, once in the code: for the first rows of a file. */
static __attribute__((noinline)) int first_rows(cfile *f, qtr_candle *c, size_t *line, char *err, size_t errlen)
{
    return next_row(f, c, line, err, errlen);
}

/* The file's next candle as its head (has_cur false at its end). */
static int advance(cfile *f, char *err, size_t errlen)
{
    if (f->has_ahead) {
        f->cur = f->ahead;
        f->cur_line = f->ahead_line;
        f->has_ahead = false;
        return 0;
    }
    int64_t prev_open = f->cur.open_time_ms;
    int got = next_row(f, &f->cur, &f->cur_line, err, errlen);
    if (got < 0) return -1;
    f->has_cur = got == 1;
    if (f->has_cur && f->rows.ncols == 6) {
        if (f->cur.open_time_ms - prev_open < f->interval)
            return qh_csv_rows_fail(&f->rows, f->cur_line,
                                    "open time %lld is less than one interval (%lld ms) after the previous row",
                                    (long long)f->cur.open_time_ms, (long long)f->interval);
        f->cur.close_time_ms = f->cur.open_time_ms + f->interval - 1;
    }
    return 0;
}

/* Open one file, read its header and first candle (the first two with 6
 * columns: they give the interval). */
static int open_file(cfile *f, const char *path, const char *symbol, char *err, size_t errlen)
{
    struct stat st;
    f->path = path;
    f->fd = qh_file_open_regular(path, NULL, &st, err, errlen);
    if (f->fd < 0) return -1;
    /* zeros after the data: rows are read 8 bytes at a time into them */
    f->buf = calloc(1, STREAM_BUF + QH_CSV_ROW_SLACK);
    if (!f->buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    f->left = (size_t)st.st_size;
    f->line = 1;
    f->rows = (qh_csv_rows){ .name = path, .err = err, .errlen = errlen, .first = true };
    memset(&f->cur, 0, sizeof f->cur);
    qtr_strlcpy(f->cur.symbol, symbol, sizeof f->cur.symbol);
    if (refill(f, err, errlen) != 0) return -1;
    if (f->hi >= 3 && memcmp(f->buf, "\xEF\xBB\xBF", 3) == 0) f->lo = 3;
    const char *p, *eol;
    int got;
    /* the first non-blank line names the format */
    do {
        got = next_line(f, &p, &eol, err, errlen);
        if (got < 0) return -1;
        if (got == 0) return qh_csv_rows_fail(&f->rows, 1, "empty file");
        f->line++;
    } while (eol == p);
    if (f->line - 1 > 1) return qh_csv_rows_fail(&f->rows, 1, "unknown header '': expected 'open_time_ms,open,high,low,close,volume'");
    if (qh_data_line_check(path, 1, (size_t)(eol - p), err, errlen)) return -1;
    bool header;
    if (qh_csv_rows_begin(&f->rows, p, eol, &header) != 0) return -1;
    if (header) {
        got = first_rows(f, &f->cur, &f->cur_line, err, errlen);
        if (got < 0) return -1;
        if (got == 0) return qh_csv_rows_fail(&f->rows, 2, "no candles after the header");
    } else {
        if (qh_csv_rows_next(&f->rows, 1, p, eol, f->buf + f->hi + QH_CSV_ROW_SLACK, &f->cur)) return -1;
        f->cur_line = 1;
    }
    f->has_cur = true;
    if (f->rows.ncols == 6) {
        f->ahead = f->cur;
        got = first_rows(f, &f->ahead, &f->ahead_line, err, errlen);
        if (got < 0) return -1;
        if (got == 0)
            return qh_csv_rows_fail(&f->rows, f->cur_line,
                                    "a single candle: the interval (spacing of the first two rows) is unknown");
        f->interval = f->ahead.open_time_ms - f->cur.open_time_ms;
        f->cur.close_time_ms = f->cur.open_time_ms + f->interval - 1;
        f->ahead.close_time_ms = f->ahead.open_time_ms + f->interval - 1;
        f->has_ahead = true;
    }
    return 0;
}

typedef struct file_symbol { const char *symbol; size_t index; } file_symbol;

static int by_symbol(const void *x, const void *y)
{
    return strcmp(((const file_symbol *)x)->symbol, ((const file_symbol *)y)->symbol);
}

/* Equal open times go by symbol: each file's symbol ranked once. */
static int rank_symbols(qh_candle_stream *s)
{
    file_symbol *order = malloc(s->n * sizeof *order);
    if (!order) return -1;
    for (size_t i = 0; i < s->n; i++) order[i] = (file_symbol){ s->files[i].cur.symbol, i };
    qsort(order, s->n, sizeof *order, by_symbol);
    for (size_t k = 1; k < s->n; k++)
        s->files[order[k].index].rank =
            s->files[order[k - 1].index].rank + (by_symbol(&order[k - 1], &order[k]) != 0);
    free(order);
    return 0;
}

qh_candle_stream *qh_candle_stream_open(const char *what, const char *const *paths, size_t n, char *err,
                                        size_t errlen)
{
    if (n == 0) { snprintf(err, errlen, "%s: no file given", what); return NULL; }
    if (n > QH_INPUTS_MAX_FILES) { snprintf(err, errlen, "%s: at most %d files", what, QH_INPUTS_MAX_FILES); return NULL; }
    if (qh_inputs_refuse_twice(what, paths, n, err, errlen) != 0) return NULL;
    qh_candle_stream *s = calloc(1, sizeof *s);
    if (s) s->files = calloc(n, sizeof *s->files);
    if (s && s->files) s->order = (qh_head_ring){ .keys = malloc(n * sizeof *s->order.keys), .cap = n };
    if (!s || !s->files || !s->order.keys) {
        snprintf(err, errlen, "out of memory");
        qh_candle_stream_close(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) s->files[i].fd = -1;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        char sym[QTR_SYMBOL_MAX];
        if (!qh_symbol_from_path(paths[i], sym)) {
            snprintf(err, errlen, "%s %s: cannot tell the symbol from the file name", what, paths[i]);
            qh_candle_stream_close(s);
            return NULL;
        }
        if (open_file(&s->files[i], paths[i], sym, err, errlen) != 0) {
            qh_candle_stream_close(s);
            return NULL;
        }
        s->files[i].rows.err = s->error;   /* later messages: kept for next() */
        s->files[i].rows.errlen = sizeof s->error;
    }
    if (rank_symbols(s) != 0) {
        snprintf(err, errlen, "out of memory");
        qh_candle_stream_close(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        qh_head_ring_insert(&s->order, (qh_head_key){ s->files[i].cur.open_time_ms, s->files[i].rank, i });
    return s;
}

int qh_candle_stream_next(qh_candle_stream *s, qtr_candle *out, char *err, size_t errlen)
{
    if (s->failed) {
        snprintf(err, errlen, "%s", s->error);
        return -1;
    }
    if (s->order.len == 0) return 0;
    size_t index = qh_head_ring_front(&s->order)->index;
    cfile *f = &s->files[index];
    *out = f->cur;
    size_t line = f->cur_line;
    if (advance(f, s->error, sizeof s->error) != 0) goto fail;
    if (s->n == 1) {
        /* one file: its head is the next candle, nothing to merge */
        if (!f->has_cur) qh_head_ring_pop(&s->order);
        return 1;
    }
    /* This file's next row is read after one row of every other file:
     * fetch its bytes into the cache now. With 50 files a row cost twice
     * what it costs with one, the bytes of 50 buffers far apart being more
     * streams than the CPU's own prefetcher follows. (A hint: it never
     * faults, wherever it points.) */
    __builtin_prefetch(f->buf + f->lo);
    __builtin_prefetch(f->buf + f->lo + 64);
    if (f->has_cur) qh_head_ring_pop_insert(&s->order, (qh_head_key){ f->cur.open_time_ms, f->rank, index });
    else qh_head_ring_pop(&s->order);
    if (s->order.len) {
        /* the same symbol and open time next: one candle in two files */
        const cfile *g = &s->files[qh_head_ring_front(&s->order)->index];
        if (g->rank == f->rank && g->cur.open_time_ms == out->open_time_ms) {
            snprintf(s->error, sizeof s->error, "%s candle opening at %lld is in both %s:%zu and %s:%zu", out->symbol,
                     (long long)out->open_time_ms, f->path, line, g->path, g->cur_line);
            goto fail;
        }
    }
    return 1;
fail:
    s->failed = true;
    snprintf(err, errlen, "%s", s->error);
    return -1;
}

size_t qh_candle_stream_volumes_rounded(const qh_candle_stream *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->files[i].rows.volumes_rounded;
    return n;
}

void qh_candle_stream_close(qh_candle_stream *s)
{
    if (!s) return;
    for (size_t i = 0; s->files && i < s->n; i++) {
        if (s->files[i].fd >= 0) close(s->files[i].fd);
        free(s->files[i].buf);
    }
    free(s->files);
    free(s->order.keys);
    free(s);
}
