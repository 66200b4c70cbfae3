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

static int run_backup(sqlite3 *src, sqlite3 *dst, const char *src_path, const char *dest_name, char *err,
                      size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        qh_store_errf(err, errlen, "backup of %s to %s: %s", src_path, dest_name, sqlite3_errmsg(dst));
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
        qh_store_errf(err, errlen, "backup of %s to %s failed: %s", src_path, dest_name, sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

/* The .partial being written, opened as qh_store_connect would, its errors
 * naming the destination. */
static sqlite3 *create_partial(const char *tmp, const char *dest_name, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int e = db ? sqlite3_system_errno(db) : 0;
        qh_store_errf(err, errlen, "backup to %s: cannot create it: %s%s%s%s", dest_name,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

int qh_store_backup_file(const char *src_path, const char *dest_path, char *err, size_t errlen)
{
    return qh_store_backup_file_as(src_path, dest_path, dest_path, err, errlen);
}

int qh_store_backup_file_as(const char *src_path, const char *dest_path, const char *dest_name, char *err,
                            size_t errlen)
{
    if (!dest_name || !*dest_name) dest_name = dest_path;
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
        qh_store_errf(err, errlen, "backup: destination %s already exists; refused", dest_name);
        return QTR_EINVAL;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s" QH_STORE_BACKUP_SUFFIX, dest_path) >= (int)sizeof tmp) {
        qh_store_errf(err, errlen, "backup to %.200s: destination path too long", dest_name);
        return QTR_EINVAL;
    }
    unlink(tmp);  /* a leftover of an interrupted backup */

    sqlite3 *src = qh_store_connect(src_path, SQLITE_OPEN_READONLY, err, errlen);
    if (!src) return QTR_EIO;
    sqlite3 *dst = create_partial(tmp, dest_name, err, errlen);
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
        if (run_backup(src, dst, src_path, dest_name, err, errlen) != 0) status = QTR_EIO;
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    }
    /* The copy is a self-contained file: no WAL beside it. */
    if (status == QTR_OK &&
        sqlite3_exec(dst, "PRAGMA journal_mode=DELETE;", NULL, NULL, &msg) != SQLITE_OK) {
        qh_store_errf(err, errlen, "backup to %s: %s", dest_name, msg ? msg : sqlite3_errmsg(dst));
        sqlite3_free(msg);
        status = QTR_EIO;
    }
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && status == QTR_OK) {
        qh_store_errf(err, errlen, "backup to %s: cannot close", dest_name);
        status = QTR_EIO;
    }
    if (status == QTR_OK && fsync_path(tmp) != 0) {
        qh_store_errf(err, errlen, "backup to %s: fsync: %s", dest_name, strerror(errno));
        status = QTR_EIO;
    }
    if (status == QTR_OK && rename(tmp, dest_path) != 0) {
        qh_store_errf(err, errlen, "backup: rename to %s: %s", dest_name, strerror(errno));
        status = QTR_EIO;
    }
    if (status != QTR_OK) unlink(tmp);
    return status;
}

int qh_store_backup(qh_store *st, const char *dest_path, char *err, size_t errlen)
{
    return qh_store_backup_file(st->path, dest_path, err, errlen);
}
