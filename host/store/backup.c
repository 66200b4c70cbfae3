/*
 * Online backup: SQLite's backup API, a few pages at a time, from one read
 * snapshot, into a temporary file that is synced and renamed into place so
 * that a backup is either complete or absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_impl.h"

/* Pages per step: small enough that one step is short, large enough that the
 * step overhead is noise. */
#define BACKUP_PAGES_PER_STEP 256
/* Bounded retries when a step finds the source busy (e.g. during recovery). */
#define BACKUP_MAX_BUSY_RETRIES 2000

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int run_backup(sqlite3 *src, sqlite3 *dst, const char *src_path, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        qh_store_errf(err, errlen, "backup of %s: %s", src_path, sqlite3_errmsg(dst));
        return -1;
    }
    int rc, busy = 0;
    do {
        rc = sqlite3_backup_step(b, BACKUP_PAGES_PER_STEP);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (++busy > BACKUP_MAX_BUSY_RETRIES) break;
            sqlite3_sleep(5);
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        qh_store_errf(err, errlen, "backup of %s failed: %s", src_path, sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

int qh_store_backup_file(const char *src_path, const char *dest_path, char *err, size_t errlen)
{
    if (!src_path || !*src_path || !dest_path || !*dest_path) {
        qh_store_errf(err, errlen, "backup: source and destination paths are required");
        return QTR_EINVAL;
    }
    struct stat sb;
    if (stat(src_path, &sb) != 0) {
        qh_store_errf(err, errlen, "backup: source %s: %s", src_path, strerror(errno));
        return QTR_EINVAL;
    }
    if (stat(dest_path, &sb) == 0 || errno != ENOENT) {
        qh_store_errf(err, errlen, "backup: destination %s already exists; refused", dest_path);
        return QTR_EINVAL;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.partial", dest_path) >= (int)sizeof tmp) {
        qh_store_errf(err, errlen, "backup: destination path too long");
        return QTR_EINVAL;
    }
    unlink(tmp);  /* a leftover of an interrupted backup */

    sqlite3 *src = qh_store_connect(src_path, SQLITE_OPEN_READONLY, err, errlen);
    if (!src) return QTR_EIO;
    sqlite3 *dst = qh_store_connect(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
    if (!dst) {
        sqlite3_close(src);
        return QTR_EIO;
    }
    int status = QTR_OK;
    /* Hold one read transaction on the source for the whole copy: every step
     * sees the same snapshot (no restarts), and in WAL mode the server's
     * writer is not blocked by it. */
    char *msg = NULL;
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL, &msg) != SQLITE_OK) {
        qh_store_errf(err, errlen, "backup of %s: %s", src_path, msg ? msg : sqlite3_errmsg(src));
        sqlite3_free(msg);
        status = QTR_EIO;
    } else {
        if (run_backup(src, dst, src_path, err, errlen) != 0) status = QTR_EIO;
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    }
    /* The copy is a self-contained file: no WAL beside it. */
    if (status == QTR_OK &&
        sqlite3_exec(dst, "PRAGMA journal_mode=DELETE;", NULL, NULL, &msg) != SQLITE_OK) {
        qh_store_errf(err, errlen, "backup to %s: %s", tmp, msg ? msg : sqlite3_errmsg(dst));
        sqlite3_free(msg);
        status = QTR_EIO;
    }
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && status == QTR_OK) {
        qh_store_errf(err, errlen, "backup to %s: cannot close", tmp);
        status = QTR_EIO;
    }
    if (status == QTR_OK && fsync_path(tmp) != 0) {
        qh_store_errf(err, errlen, "backup to %s: fsync: %s", tmp, strerror(errno));
        status = QTR_EIO;
    }
    if (status == QTR_OK && rename(tmp, dest_path) != 0) {
        qh_store_errf(err, errlen, "backup: rename to %s: %s", dest_path, strerror(errno));
        status = QTR_EIO;
    }
    if (status != QTR_OK) unlink(tmp);
    return status;
}

int qh_store_backup(qh_store *st, const char *dest_path, char *err, size_t errlen)
{
    return qh_store_backup_file(st->path, dest_path, err, errlen);
}
