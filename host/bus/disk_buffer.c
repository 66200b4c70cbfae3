/* disk_buffer.c — see disk_buffer.h. */
#include "bus/disk_buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "bus/crc32c.h"
#include "core/log.h"

static const char MAGIC[8] = { 'Q', 'T', 'R', 'B', 'U', 'F', '1', '\0' };

struct qh_dbuf {
    int fd;
    char path[512];
    size_t max_events;
    uint64_t head;      /* first unacknowledged record */
    uint64_t end;       /* where the next record goes */
    uint64_t cursor;    /* next record to hand out */
    size_t count;       /* records in [head, end) */
    /* end offsets of records handed out and not acknowledged, oldest first */
    uint64_t *sent;
    size_t sent_head, sent_n, sent_cap;
    bool dirty;
    unsigned char *rec;  /* next()'s record, QH_DBUF_RECORD_MAX bytes */
};

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* pread/pwrite of exactly n bytes; a short read at end of file returns the
 * count read. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}
static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = pwrite(fd, (const char *)buf + put, n - put, (off_t)(off + put));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        put += (size_t)r;
    }
    return 0;
}

static int write_header(qh_dbuf *b)
{
    unsigned char h[QH_DBUF_HEADER];
    memcpy(h, MAGIC, 8);
    put_u64(h + 8, b->head);
    return write_at(b->fd, h, sizeof h, 0);
}

/* Reads the record at off: 1 with its end offset, 0 if the file ends inside
 * it (torn), -1 if it is bad (*why says how) or unreadable. */
static int read_record(qh_dbuf *b, uint64_t off, uint64_t size, unsigned char *payload, size_t *len,
                       uint64_t *end, const char **why)
{
    unsigned char fr[QH_DBUF_FRAME];
    if (size - off < QH_DBUF_FRAME) return 0;
    if (read_at(b->fd, fr, sizeof fr, off) != (ssize_t)sizeof fr) { *why = strerror(errno); return -1; }
    uint32_t n = get_u32(fr), crc = get_u32(fr + 4);
    if (size - off - QH_DBUF_FRAME < n) return 0;
    if (n == 0 || n > QH_DBUF_RECORD_MAX) { *why = "impossible length"; return -1; }
    if (read_at(b->fd, payload, n, off + QH_DBUF_FRAME) != (ssize_t)n) { *why = strerror(errno); return -1; }
    if (qh_crc32c(payload, n) != crc) { *why = "checksum mismatch"; return -1; }
    *len = n;
    *end = off + QH_DBUF_FRAME + n;
    return 1;
}

/* Counts the records from the head; cuts a torn tail; refuses corruption. */
static int scan(qh_dbuf *b, uint64_t size, char *err, size_t errlen)
{
    uint64_t off = b->head;
    b->count = 0;
    while (off < size) {
        size_t len;
        uint64_t end;
        const char *why = NULL;
        int r = read_record(b, off, size, b->rec, &len, &end, &why);
        if (r == 1) {
            b->count++;
            off = end;
            continue;
        }
        /* A bad record that ends the file exactly is a torn write too (the
         * length made it, the payload did not). */
        bool last = r == 0;
        if (r < 0 && size - off >= QH_DBUF_FRAME) {
            unsigned char fr[4];
            if (read_at(b->fd, fr, 4, off) == 4) {
                uint32_t n = get_u32(fr);
                last = n > 0 && n <= QH_DBUF_RECORD_MAX && off + QH_DBUF_FRAME + n == size;
            }
        }
        if (!last) {
            errf(err, errlen, "%s: offset %" PRIu64 ": corrupt record (%s) with %" PRIu64
                 " bytes after it; replay stopped (%zu good records before it); move the file aside to start without it",
                 b->path, off, why ? why : "unreadable", size - off, b->count);
            return -1;
        }
        qh_warn("bus", "%s: torn last record at offset %" PRIu64 " (%" PRIu64 " bytes, a crash mid-write): dropped",
                b->path, off, size - off);
        if (ftruncate(b->fd, (off_t)off) != 0 || fsync(b->fd) != 0) {
            errf(err, errlen, "%s: cannot cut the torn record: %s", b->path, strerror(errno));
            return -1;
        }
        size = off;
    }
    b->end = size;
    return 0;
}

qh_dbuf *qh_dbuf_open(const char *path, size_t max_events, char *err, size_t errlen)
{
    if (max_events == 0) {
        errf(err, errlen, "%s: capacity must be at least 1 event", path);
        return NULL;
    }
    qh_dbuf *b = calloc(1, sizeof *b);
    if (!b) { errf(err, errlen, "%s: out of memory", path); return NULL; }
    b->fd = -1;
    qtr_strlcpy(b->path, path, sizeof b->path);
    b->max_events = max_events;
    b->sent_cap = max_events + QH_DBUF_URGENT_RESERVE;
    b->sent = calloc(b->sent_cap, sizeof *b->sent);
    b->rec = malloc(QH_DBUF_RECORD_MAX);
    if (!b->sent || !b->rec) { errf(err, errlen, "%s: out of memory", path); goto fail; }
    b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (b->fd < 0) { errf(err, errlen, "%s: cannot open the bus buffer: %s", path, strerror(errno)); goto fail; }
    struct stat st;
    if (fstat(b->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errf(err, errlen, "%s: the bus buffer is not a regular file", path);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    unsigned char h[QH_DBUF_HEADER];
    if (size < QH_DBUF_HEADER) {
        /* new, or a crash before the first header reached the disk */
        b->head = b->end = QH_DBUF_HEADER;
        if (ftruncate(b->fd, 0) != 0 || write_header(b) != 0 || fsync(b->fd) != 0) {
            errf(err, errlen, "%s: cannot write the bus buffer: %s", path, strerror(errno));
            goto fail;
        }
        size = QH_DBUF_HEADER;
    } else {
        if (read_at(b->fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, MAGIC, 8) != 0) {
            errf(err, errlen, "%s: not a qtr bus buffer (bad header)", path);
            goto fail;
        }
        b->head = get_u64(h + 8);
        /* truncated after the last acknowledgement, header not yet rewritten */
        if (size == QH_DBUF_HEADER) b->head = QH_DBUF_HEADER;
        if (b->head < QH_DBUF_HEADER || b->head > size) {
            errf(err, errlen, "%s: header points at offset %" PRIu64 " outside the file (%" PRIu64 " bytes)", path,
                 b->head, size);
            goto fail;
        }
    }
    if (scan(b, size, err, errlen) != 0) goto fail;
    b->cursor = b->head;
    return b;
fail:
    qh_dbuf_close(b);
    return NULL;
}

int qh_dbuf_inspect(const char *path, size_t *count, bool *bad, char *err, size_t errlen)
{
    *count = 0;
    *bad = false;
    qh_dbuf b;
    memset(&b, 0, sizeof b);
    qtr_strlcpy(b.path, path, sizeof b.path);
    b.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (b.fd < 0) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    unsigned char h[QH_DBUF_HEADER];
    b.rec = malloc(QH_DBUF_RECORD_MAX);
    int rc = -1;
    if (!b.rec || fstat(b.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errf(err, errlen, "%s: not a regular file", path);
    } else if ((uint64_t)st.st_size < QH_DBUF_HEADER) {
        rc = 0;   /* new: empty */
    } else if (read_at(b.fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, MAGIC, 8) != 0) {
        errf(err, errlen, "%s: not a qtr bus buffer (bad header)", path);
    } else {
        uint64_t size = (uint64_t)st.st_size, off = get_u64(h + 8);
        if (size == QH_DBUF_HEADER || off < QH_DBUF_HEADER || off > size) off = size;
        while (off < size) {
            size_t len;
            uint64_t end;
            const char *why;
            if (read_record(&b, off, size, b.rec, &len, &end, &why) != 1) {
                *bad = true;
                break;
            }
            (*count)++;
            off = end;
        }
        rc = 0;
    }
    free(b.rec);
    close(b.fd);
    return rc;
}

void qh_dbuf_close(qh_dbuf *b)
{
    if (!b) return;
    if (b->fd >= 0) {
        if (b->dirty) (void)fsync(b->fd);
        close(b->fd);
    }
    free(b->sent);
    free(b->rec);
    free(b);
}

int qh_dbuf_append(qh_dbuf *b, const void *data, size_t len, bool urgent, char *err, size_t errlen)
{
    if (len == 0 || len > QH_DBUF_RECORD_MAX) {
        errf(err, errlen, "%s: record of %zu bytes refused (1..%u)", b->path, len, QH_DBUF_RECORD_MAX);
        return QTR_EINVAL;
    }
    if (b->count >= b->max_events + (urgent ? QH_DBUF_URGENT_RESERVE : 0)) {
        errf(err, errlen, "%s: full (%zu events%s)", b->path, b->max_events, urgent ? " and its reserve" : "");
        return QTR_EFULL;
    }
    unsigned char fr[QH_DBUF_FRAME];
    put_u32(fr, (uint32_t)len);
    put_u32(fr + 4, qh_crc32c(data, len));
    if (write_at(b->fd, fr, sizeof fr, b->end) != 0 || write_at(b->fd, data, len, b->end + QH_DBUF_FRAME) != 0) {
        int e = errno;
        /* leave no half record behind: it would read as corruption later */
        if (ftruncate(b->fd, (off_t)b->end) != 0) { /* the next append overwrites it */ }
        errf(err, errlen, "%s: cannot append: %s", b->path, strerror(e));
        return QTR_EIO;
    }
    b->end += QH_DBUF_FRAME + len;
    b->count++;
    b->dirty = true;
    return QTR_OK;
}

int qh_dbuf_sync(qh_dbuf *b, char *err, size_t errlen)
{
    if (!b->dirty) return QTR_OK;
    if (fdatasync(b->fd) != 0) {
        errf(err, errlen, "%s: fsync: %s", b->path, strerror(errno));
        return QTR_EIO;
    }
    b->dirty = false;
    return QTR_OK;
}

bool qh_dbuf_dirty(const qh_dbuf *b) { return b->dirty; }
size_t qh_dbuf_count(const qh_dbuf *b) { return b->count; }
size_t qh_dbuf_unsent(const qh_dbuf *b) { return b->count - b->sent_n; }
size_t qh_dbuf_capacity(const qh_dbuf *b) { return b->max_events; }

int qh_dbuf_next(qh_dbuf *b, const void **data, size_t *len, uint64_t *end_off, char *err, size_t errlen)
{
    if (b->cursor >= b->end) return 0;
    if (b->sent_n == b->sent_cap) return 0;   /* cannot happen: count <= cap */
    const char *why = "truncated";
    uint64_t end;
    int r = read_record(b, b->cursor, b->end, b->rec, len, &end, &why);
    if (r != 1) {
        errf(err, errlen, "%s: offset %" PRIu64 ": %s; replay stopped", b->path, b->cursor, why);
        return -1;
    }
    b->sent[(b->sent_head + b->sent_n) % b->sent_cap] = end;
    b->sent_n++;
    b->cursor = end;
    *data = b->rec;
    *end_off = end;
    return 1;
}

void qh_dbuf_rewind(qh_dbuf *b)
{
    b->cursor = b->head;
    b->sent_head = b->sent_n = 0;
}

int qh_dbuf_ack(qh_dbuf *b, uint64_t end_off, char *err, size_t errlen)
{
    size_t n = 0;
    while (n < b->sent_n && b->sent[(b->sent_head + n) % b->sent_cap] != end_off) n++;
    if (n == b->sent_n) {
        errf(err, errlen, "%s: acknowledgement of offset %" PRIu64 " matches no record handed out", b->path, end_off);
        return QTR_EINVAL;
    }
    n++;
    b->sent_head = (b->sent_head + n) % b->sent_cap;
    b->sent_n -= n;
    b->count -= n;
    b->head = end_off;
    if (b->count == 0) {
        /* everything acknowledged: start the file over */
        b->head = b->end = b->cursor = QH_DBUF_HEADER;
        b->sent_head = 0;
        if (ftruncate(b->fd, QH_DBUF_HEADER) != 0) {
            errf(err, errlen, "%s: cannot truncate: %s", b->path, strerror(errno));
            return QTR_EIO;
        }
    }
    if (write_header(b) != 0) {
        errf(err, errlen, "%s: cannot write the header: %s", b->path, strerror(errno));
        return QTR_EIO;
    }
    b->dirty = true;
    return QTR_OK;
}
