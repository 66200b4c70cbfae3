/* event_seq.c — see event_seq.h. */
#include "bus/event_seq.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "core/file_read.h"

struct qh_seq {
    char path[512];
    uint64_t next;     /* next number to hand out */
    uint64_t limit;    /* first number not yet reserved on disk */
    uint64_t block;
};

static int fsync_dir_of(const char *path)
{
    char dir[512];
    qtr_strlcpy(dir, path, sizeof dir);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Makes "everything below limit may be in use" durable. */
static int reserve(qh_seq *s, uint64_t limit, char *err, size_t errlen)
{
    char tmp[600], text[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    int n = snprintf(text, sizeof text, "qtr-bus-seq 1 %" PRIu64 "\n", limit);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write the bus sequence: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (rename(tmp, s->path) != 0 || fsync_dir_of(s->path) != 0) {
        snprintf(err, errlen, "%s: cannot store the bus sequence: %s", s->path, strerror(errno));
        return -1;
    }
    s->limit = limit;
    return 0;
}

qh_seq *qh_seq_open(const char *path, uint64_t block, char *err, size_t errlen)
{
    qh_seq *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "%s: out of memory", path); return NULL; }
    qtr_strlcpy(s->path, path, sizeof s->path);
    s->block = block ? block : QH_SEQ_BLOCK_DEFAULT;
    s->next = 1;
    if (access(path, F_OK) == 0) {
        size_t len;
        char *text = qh_file_read_whole(path, "bus sequence", 256, &len, err, errlen);
        if (!text) { free(s); return NULL; }
        uint64_t v = 0;
        char tail = 0;
        int got = sscanf(text, "qtr-bus-seq 1 %" SCNu64 "%c", &v, &tail);
        free(text);
        if (got != 2 || tail != '\n' || v == 0) {
            snprintf(err, errlen, "%s: not a bus sequence file (want 'qtr-bus-seq 1 N'); refusing to reuse numbers", path);
            free(s);
            return NULL;
        }
        s->next = v;
    }
    s->limit = s->next;   /* nothing of this run is reserved yet */
    return s;
}

void qh_seq_close(qh_seq *s) { free(s); }

uint64_t qh_seq_next(qh_seq *s, char *err, size_t errlen)
{
    if (s->next >= s->limit && reserve(s, s->next + s->block, err, errlen) != 0) return 0;
    return s->next++;
}

uint64_t qh_seq_peek(const qh_seq *s) { return s->next; }
