/* Bounded, non-blocking reading of input files: see file_read.h. */
#include "core/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m)) return "a FIFO or pipe";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

int qh_file_open_regular(const char *path, const char *what, struct stat *st, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO with no writer must not wait for one */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open%s%s: %s", path, what ? " " : "", what ? what : "", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (%s)", path, file_kind(st->st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

char *qh_file_read_whole(const char *path, const char *what, size_t max, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    int fd = qh_file_open_regular(path, what, &st, err, errlen);
    if (fd < 0) return NULL;
    const char *name = what ? what : "file";
    if ((unsigned long long)st.st_size > max) {
        snprintf(err, errlen, "%s: %s larger than %zu bytes", path, name, max);
        close(fd);
        return NULL;
    }
    /* one byte more than the cap tells a file that grew past it */
    char *buf = malloc((size_t)st.st_size + 2);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory reading the %s", path, name);
        close(fd);
        return NULL;
    }
    size_t want = (size_t)st.st_size + 1, n = 0;
    while (n < want) {
        ssize_t r = read(fd, buf + n, want - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n > (size_t)st.st_size && n > max) {
        snprintf(err, errlen, "%s: %s larger than %zu bytes", path, name, max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
