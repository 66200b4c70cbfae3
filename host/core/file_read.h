/*
 * Opening and reading the host's own input files (config, policy, ESS state,
 * candle and funding data) so that no path can hang or swell the process:
 * opening never blocks (a FIFO with no writer is refused at once, not waited
 * for), only regular files are read (/dev/zero, devices, sockets, folders
 * are refused by name), and a whole-file read stops at a size cap.
 */
#ifndef QH_FILE_READ_H
#define QH_FILE_READ_H

#include <stddef.h>
#include <sys/stat.h>

/* A read-only descriptor of the regular file at path, its stat in *st.
 * -1 with one line in err: "path: cannot open[ WHAT]: reason" or
 * "path: not a regular file (a FIFO or pipe)". what ("config", "policy",
 * ...) may be NULL. */
int qh_file_open_regular(const char *path, const char *what, struct stat *st, char *err, size_t errlen);

/* The whole of a regular file of at most max bytes, NUL-terminated (the NUL
 * not counted in *len); free() it. NULL with one line in err, as above, or
 * "path: WHAT larger than N bytes", "path: cannot read: reason". A file that
 * grows while it is read is refused by the same cap. */
char *qh_file_read_whole(const char *path, const char *what, size_t max, size_t *len, char *err, size_t errlen);

#endif
