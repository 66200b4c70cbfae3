/* Bounded reading of data files: see data_file.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memrchr */
#endif
#include "market/data_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_read.h"
#include "market/candles.h"

/* Reads are at most this long, so a run without a newline is noticed within
 * one read of passing the cap. */
#define READ_CHUNK ((size_t)1 << 20)
/* Up to WHOLE_AT_ONCE the buffer is the file's size at once: one allocation
 * keeps the loader fast (growing costs ~25% CPU). A larger file (20 million
 * candles and more), or one whose size cannot be had at once (a tight
 * RLIMIT_AS), starts at GROWING_START and doubles as the data comes: a sparse
 * multi-GB file costs little before its endless line is refused, whatever
 * the allocator does with a huge malloc (AddressSanitizer writes its shadow). */
#define WHOLE_AT_ONCE ((size_t)1 << 30)
#define GROWING_START ((size_t)64 << 20)
/* A line may also carry a byte order mark (3) and a CR (1) that the parsers
 * do not count. */
#define LINE_SLACK 4

int qh_data_line_refuse(const char *name, size_t line, char *err, size_t errlen)
{
    if (err && errlen) snprintf(err, errlen, "%s:%zu: line longer than %d bytes", name, line, QH_DATA_LINE_MAX);
    return -1;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 1;
    for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
    return lines;
}

/* Read [0, size) into a buffer that grows as needed; NULL on error. */
static char *read_bounded(int fd, const char *path, size_t size, size_t *len, char *err, size_t errlen)
{
    size_t cap = size < WHOLE_AT_ONCE ? size + 1 : GROWING_START;
    char *buf = malloc(cap);
    if (!buf && cap > GROWING_START) buf = malloc(cap = GROWING_START);
    if (!buf) goto oom;
    qh_hint_huge_pages(buf, cap);
    size_t n = 0, line_start = 0;
    while (n < size) {
        if (n + 1 == cap) {
            size_t bigger = cap > (size + 1) / 2 ? size + 1 : cap * 2;
            char *b = realloc(buf, bigger);
            if (!b) goto oom;
            buf = b;
            cap = bigger;
            qh_hint_huge_pages(buf, cap);
        }
        size_t want = cap - 1 - n;
        if (want > READ_CHUNK) want = READ_CHUNK;
        if (want > size - n) want = size - n;
        ssize_t r = read(fd, buf + n, want);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            free(buf);
            return NULL;
        }
        if (r == 0) break;                  /* shorter than it was: what is there */
        const char *nl = memrchr(buf + n, '\n', (size_t)r);
        n += (size_t)r;
        if (nl) line_start = (size_t)(nl - buf) + 1;
        else if (n - line_start > QH_DATA_LINE_MAX + LINE_SLACK) {
            qh_data_line_refuse(path, count_lines(buf, line_start), err, errlen);
            free(buf);
            return NULL;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
oom:
    free(buf);
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
}

char *qh_data_file_read(const char *path, size_t *len, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || !errlen) { err = scratch; errlen = sizeof scratch; }
    struct stat st;
    int fd = qh_file_open_regular(path, NULL, &st, err, errlen);
    if (fd < 0) return NULL;
    char *buf = read_bounded(fd, path, (size_t)st.st_size, len, err, errlen);
    close(fd);
    return buf;
}
