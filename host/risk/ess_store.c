/* ess_store.c — see ess_store.h. Line format, one key per line:
 *   # qtr ess state
 *   version=1
 *   state=COOLDOWN
 *   trip_reason=drawdown 3.12% >= 3%
 *   ...
 * Every key is required exactly once; anything else is refused. */
#include "risk/ess_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_read.h"

#define STORE_MAX_BYTES 8192 /* the real file is a few hundred bytes */

enum { K_VERSION, K_STATE, K_REASON, K_TRIPPED_AT, K_COOLDOWN_UNTIL, K_TRIPS, K_RESETS,
       K_ERRORS, K_USER, K__COUNT };
static const char *const key_names[K__COUNT] = {
    "version", "state", "trip_reason", "tripped_at_ms", "cooldown_until_ms",
    "trips", "resets", "consecutive_errors", "last_user",
};

/* Text fields go on one line: control characters would break the format. */
static void put_text(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
    dst[i] = '\0';
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    qtr_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (!slash) qtr_strlcpy(dir, ".", sizeof dir);
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int qh_ess_store_save(const char *path, const qh_ess_saved *s, char *err, size_t errlen)
{
    char reason[QTR_REASON_MAX], user[QTR_NAME_MAX];
    put_text(reason, sizeof reason, s->trip_reason);
    put_text(user, sizeof user, s->last_user);
    char buf[1024];
    int len = snprintf(buf, sizeof buf,
                       "# qtr ess state\n"
                       "version=%d\nstate=%s\ntrip_reason=%s\ntripped_at_ms=%lld\n"
                       "cooldown_until_ms=%lld\ntrips=%u\nresets=%u\nconsecutive_errors=%d\n"
                       "last_user=%s\n",
                       QH_ESS_STORE_VERSION, qtr_ess_state_name(s->state), reason,
                       (long long)s->tripped_at_ms, (long long)s->cooldown_until_ms, s->trips,
                       s->resets, s->consecutive_errors, user);
    if (len < 0 || (size_t)len >= sizeof buf) {
        snprintf(err, errlen, "%s: state does not fit the record", path);
        return -1;
    }
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, buf, (size_t)len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: cannot close: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* The rename is durable only once the directory entry is on disk. */
    if (fsync_dir_of(path) != 0) {
        snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool parse_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!*text || !(*text == '-' || (*text >= '0' && *text <= '9'))) return false;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

static bool parse_state(const char *text, qtr_ess_state *out)
{
    static const qtr_ess_state states[] = { QTR_ESS_ARMED, QTR_ESS_TRIPPED, QTR_ESS_COOLDOWN };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(text, qtr_ess_state_name(states[i])) == 0) { *out = states[i]; return true; }
    return false;
}

/* One key=value line into *s; false with the reason in why. */
static bool parse_line(char *line, qh_ess_saved *s, bool seen[K__COUNT], const char **why)
{
    char *eq = strchr(line, '=');
    if (!eq) { *why = "expected key=value"; return false; }
    *eq = '\0';
    const char *key = line, *val = eq + 1;
    int k = 0;
    while (k < K__COUNT && strcmp(key, key_names[k]) != 0) k++;
    if (k == K__COUNT) { *why = "unknown key"; return false; }
    if (seen[k]) { *why = "duplicate key"; return false; }
    seen[k] = true;
    int64_t v = 0;
    switch (k) {
    case K_VERSION:
        if (!parse_i64(val, 0, INT32_MAX, &v)) { *why = "version is not a number"; return false; }
        if (v != QH_ESS_STORE_VERSION) { *why = "unsupported version"; return false; }
        return true;
    case K_STATE:
        if (!parse_state(val, &s->state)) { *why = "state is not ARMED, TRIPPED or COOLDOWN"; return false; }
        return true;
    case K_REASON:
        if (strlen(val) >= sizeof s->trip_reason) { *why = "trip_reason too long"; return false; }
        qtr_strlcpy(s->trip_reason, val, sizeof s->trip_reason);
        return true;
    case K_USER:
        if (strlen(val) >= sizeof s->last_user) { *why = "last_user too long"; return false; }
        qtr_strlcpy(s->last_user, val, sizeof s->last_user);
        return true;
    case K_TRIPPED_AT:
        if (!parse_i64(val, 0, INT64_MAX, &v)) { *why = "tripped_at_ms is not a time"; return false; }
        s->tripped_at_ms = v;
        return true;
    case K_COOLDOWN_UNTIL:
        if (!parse_i64(val, 0, INT64_MAX, &v)) { *why = "cooldown_until_ms is not a time"; return false; }
        s->cooldown_until_ms = v;
        return true;
    case K_TRIPS:
        if (!parse_i64(val, 0, UINT32_MAX, &v)) { *why = "trips is not a count"; return false; }
        s->trips = (uint32_t)v;
        return true;
    case K_RESETS:
        if (!parse_i64(val, 0, UINT32_MAX, &v)) { *why = "resets is not a count"; return false; }
        s->resets = (uint32_t)v;
        return true;
    case K_ERRORS:
        if (!parse_i64(val, 0, INT32_MAX, &v)) { *why = "consecutive_errors is not a count"; return false; }
        s->consecutive_errors = (int32_t)v;
        return true;
    }
    *why = "unknown key";
    return false;
}

static int parse_text(const char *path, char *text, size_t len, qh_ess_saved *s, char *err, size_t errlen)
{
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: malformed ESS state file: contains a NUL byte", path);
        return -1;
    }
    if (len == 0 || text[len - 1] != '\n') {
        snprintf(err, errlen, "%s: malformed ESS state file: truncated (no final newline)", path);
        return -1;
    }
    bool seen[K__COUNT] = { false };
    int lineno = 0;
    for (char *line = text, *next; line < text + len; line = next) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        next = nl + 1;
        lineno++;
        if (line[0] == '#' || line[0] == '\0') continue;
        const char *why = NULL;
        if (!parse_line(line, s, seen, &why)) {
            snprintf(err, errlen, "%s:%d: malformed ESS state file: %s", path, lineno, why);
            return -1;
        }
    }
    for (int k = 0; k < K__COUNT; k++)
        if (!seen[k]) {
            snprintf(err, errlen, "%s: malformed ESS state file: missing %s", path, key_names[k]);
            return -1;
        }
    if (s->state != QTR_ESS_ARMED && s->tripped_at_ms == 0) {
        snprintf(err, errlen, "%s: malformed ESS state file: state %s without tripped_at_ms", path,
                 qtr_ess_state_name(s->state));
        return -1;
    }
    return 0;
}

int qh_ess_store_load(const char *path, qh_ess_saved *s, bool *found, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    *found = false;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0;   /* never written: a first start */
    size_t len = 0;
    char *buf = qh_file_read_whole(path, "ESS state file", STORE_MAX_BYTES, &len, err, errlen);
    if (!buf) return -1;
    int rc = parse_text(path, buf, len, s, err, errlen);
    free(buf);
    if (rc != 0) return -1;
    *found = true;
    return 0;
}
