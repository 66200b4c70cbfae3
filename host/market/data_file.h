/*
 * Reading a data file (candles, funding rates) without letting it run away
 * with the process: only regular files, only as much as their size when
 * opened, and no line longer than QH_DATA_LINE_MAX bytes. A FIFO, /dev/zero
 * or a socket is refused at once (opening never blocks), and a file that is
 * one endless line is refused after about QH_DATA_LINE_MAX + 1 MiB of reading.
 */
#ifndef QH_DATA_FILE_H
#define QH_DATA_FILE_H

#include <stddef.h>

/* The longest line a data file may have, its line ending not counted. Real
 * candle and funding rows are under 200 bytes. */
#define QH_DATA_LINE_MAX 4096

/* The whole of a regular file, NUL-terminated (the NUL not counted in *len):
 * free() it. NULL with the reason in err: "path: cannot open: ...",
 * "path: not a regular file (a FIFO or pipe)", "path:line: line longer than
 * 4096 bytes", ... Lines are checked here only as far as needed to bound
 * memory; the parsers check every line with qh_data_line_check(). */
char *qh_data_file_read(const char *path, size_t *len, char *err, size_t errlen);

/* Writes "name:line: line longer than 4096 bytes" to err; returns -1. */
int qh_data_line_refuse(const char *name, size_t line, char *err, size_t errlen);

/* The check for a line of `n` bytes (line ending excluded) in `name`: 0 if
 * it is within the cap, else -1 with the message. Inline: it runs for every
 * row. */
static inline int qh_data_line_check(const char *name, size_t line, size_t n, char *err, size_t errlen)
{
    return n <= QH_DATA_LINE_MAX ? 0 : qh_data_line_refuse(name, line, err, errlen);
}

#endif
