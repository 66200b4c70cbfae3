/* output.c — see output.h. */
#include "cli/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* "-" and the names of an already open descriptor: the descriptor's number,
 * or -1. Reopening them would truncate or replace a file the shell opened
 * for us (`qtr ... --json /dev/stdout > f`), or fail on a pipe. */
static int fd_name(const char *path)
{
    if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0) return 1;
    if (strcmp(path, "/dev/stderr") == 0) return 2;
    const char *num = NULL;
    if (strncmp(path, "/dev/fd/", 8) == 0) num = path + 8;
    else if (strncmp(path, "/proc/self/fd/", 14) == 0) num = path + 14;
    if (!num || *num < '0' || *num > '9') return -1;
    char *end;
    long n = strtol(num, &end, 10);
    return *end || n > 1 << 20 ? -1 : (int)n;
}

/* The descriptor a name gives, or -1 if it was closed: one of 0, 1 and 2
 * left closed by the caller holds /dev/null in its place (main.c), which
 * is still no output. */
static int open_fd_of(int n)
{
    if (qh_cli_std_was_closed(n)) return -1;
    return fcntl(n, F_DUPFD_CLOEXEC, 3);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The folder a path names its file in: "." for a bare name, "/" at the top. */
static void folder_of(const char *path, char dir[PATH_MAX])
{
    snprintf(dir, PATH_MAX, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, PATH_MAX, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
}

/* The folder of path, for a new file: it must exist. */
static int check_parent(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    folder_of(path, dir);
    struct stat st;
    if (stat(dir, &st) != 0 && errno == ENOENT) return fail(err, errlen, "%s: folder %s does not exist", path, dir);
    if (stat(dir, &st) != 0) return fail(err, errlen, "%s: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail(err, errlen, "%s: %s is not a folder", path, dir);
    return 0;
}

/* A character device or FIFO, opened for writing. A FIFO with no reader
 * would block for ever: refused instead. */
static int open_stream(const char *path, const struct stat *st, qh_out_dest *d, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISFIFO(st->st_mode) ? O_NONBLOCK : 0));
    if (fd < 0 && errno == ENXIO) return fail(err, errlen, "%s: a FIFO with no reader", path);
    if (fd < 0) return fail(err, errlen, "%s: %s", path, strerror(errno));
    if (S_ISFIFO(st->st_mode)) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    d->stream_fd = fd;
    return 0;
}

/* The file to replace; a name too long to hold is refused, never cut. */
static int set_file(qh_out_dest *d, const char *path, const char *shown, char *err, size_t errlen)
{
    int w = snprintf(d->path, sizeof d->path, "%s", path);
    if (w < 0 || (size_t)w >= sizeof d->path) return fail(err, errlen, "%.200s...: path too long", shown);
    return 0;
}

/* A stream's name for messages ("--out /dev/full: No space left on
 * device"); "-" is standard output. */
static void stream_name(qh_out_dest *d, const char *path)
{
    snprintf(d->path, sizeof d->path, "%s", strcmp(path, "-") == 0 ? "standard output" : path);
}

int qh_out_resolve(const char *path, qh_out_dest *d, char *err, size_t errlen)
{
    d->stream_fd = -1;
    d->path[0] = '\0';
    if (!path || !*path) return fail(err, errlen, "an empty path");
    if (strlen(path) >= PATH_MAX) return fail(err, errlen, "%.200s...: path too long", path);
    int n = fd_name(path);
    if (n >= 0) {
        int fd = open_fd_of(n);
        if (fd < 0) return fail(err, errlen, "%s: not an open descriptor", path);
        d->stream_fd = fd;
        stream_name(d, path);
        return 0;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) return fail(err, errlen, "%s: %s", path, strerror(errno));
        if (check_parent(path, err, errlen) != 0) return -1;
        return set_file(d, path, path, err, errlen);
    }
    bool link = S_ISLNK(st.st_mode);
    if (link && stat(path, &st) != 0) {
        /* Writing through a dangling link would create a file wherever it
         * points (a classic trap for root): the operator decides instead. */
        if (errno == ENOENT) return fail(err, errlen, "%s: a symbolic link to a missing file; refused", path);
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        if (open_stream(path, &st, d, err, errlen) != 0) return -1;
        stream_name(d, path);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) return fail(err, errlen, "%s: is a folder", path);
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, "%s: not a regular file, character device or FIFO; refused", path);
    if (!link) return set_file(d, path, path, err, errlen);
    char real[PATH_MAX];
    if (!realpath(path, real)) return fail(err, errlen, "%s: %s", path, strerror(errno));
    return set_file(d, real, path, err, errlen);
}

/* The temporary file is gone (removed, or renamed into place): no longer ours. */
static void drop_tmp(qh_out *o, bool remove)
{
    if (remove && o->tmp[0]) unlink(o->tmp);
    qh_cli_tmp_forget(o->tmp_id);
    o->tmp_id = 0;
    o->tmp[0] = '\0';
}

/* A new file beside the target, named so that it is recognisably ours. */
static int open_tmp(qh_out *o, char *err, size_t errlen)
{
    const char *target = o->dest.path;
    const char *slash = strrchr(target, '/');
    int dirlen = slash ? (int)(slash - target + 1) : 0;
    const char *base = slash ? slash + 1 : target;
    struct stat old;
    bool exists = stat(target, &old) == 0;
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        int w = snprintf(o->tmp, sizeof o->tmp, "%.*s.%s.tmp-%d-%u", dirlen, target, base, (int)getpid(), attempt);
        if (w < 0 || (size_t)w >= sizeof o->tmp) return fail(err, errlen, "%s: path too long", target);
        /* registered as it is made: a command that removes its temporary
         * files on a signal (qh_cli_tmp_on_signals) removes this one too */
        sigset_t saved;
        qh_cli_tmp_hold(&saved);
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        int open_errno = errno;
        if (fd >= 0) o->tmp_id = qh_cli_tmp_add(o->tmp, QH_TMP_FILE);
        qh_cli_tmp_release(&saved);
        if (fd < 0 && open_errno == EEXIST) continue;
        if (fd < 0) {
            o->tmp[0] = '\0';
            return fail(err, errlen, "%s: %s", target, strerror(open_errno));
        }
        /* the replacement keeps what the file was: its mode, and for root its owner */
        if (exists && (fchmod(fd, old.st_mode & 07777) != 0 ||
                       (geteuid() == 0 && fchown(fd, old.st_uid, old.st_gid) != 0))) {
            int e = errno;
            close(fd);
            drop_tmp(o, true);
            return fail(err, errlen, "%s: %s", target, strerror(e));
        }
        o->f = fdopen(fd, "w");
        if (!o->f) {
            close(fd);
            drop_tmp(o, true);
            return fail(err, errlen, "%s: out of memory", target);
        }
        return 0;
    }
    o->tmp[0] = '\0';
    return fail(err, errlen, "%s: cannot create a temporary file beside it", target);
}

int qh_out_open(qh_out *o, const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->dest.stream_fd = -1;
    if (qh_out_resolve(path, &o->dest, err, errlen) != 0) return -1;
    if (o->dest.stream_fd < 0) return open_tmp(o, err, errlen);
    o->f = fdopen(o->dest.stream_fd, "w");
    if (!o->f) {
        close(o->dest.stream_fd);
        o->dest.stream_fd = -1;
        return fail(err, errlen, "%s: out of memory", path);
    }
    return 0;
}

int qh_out_open_held(qh_out *o, const char *path, char *err, size_t errlen)
{
    if (qh_out_open(o, path, err, errlen) != 0) return -1;
    if (o->tmp[0]) return 0;   /* a file: the temporary beside it already holds it back */
    FILE *hold = tmpfile();
    if (!hold) {
        int e = errno;
        qh_out_abort(o);
        return fail(err, errlen, "%s: a temporary file to hold the output: %s", path, strerror(e));
    }
    o->held_for = o->f;
    o->f = hold;
    return 0;
}

/* The held output onto its stream; 0 or an errno. Closes the temporary. */
static int release_held(qh_out *o)
{
    FILE *hold = o->f;
    o->f = o->held_for;
    o->held_for = NULL;
    int e = 0;
    errno = 0;
    if (fflush(hold) != 0 || ferror(hold) || fseek(hold, 0, SEEK_SET) != 0) e = errno ? errno : EIO;
    char buf[1 << 16];
    for (size_t n; !e && (n = fread(buf, 1, sizeof buf, hold)) > 0;)
        if (fwrite(buf, 1, n, o->f) != n) e = errno ? errno : EIO;
    if (!e && ferror(hold)) e = errno ? errno : EIO;
    fclose(hold);
    return e;
}

static int fsync_folder_of(const char *path)
{
    char dir[PATH_MAX];
    folder_of(path, dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int qh_out_commit(qh_out *o, char *err, size_t errlen)
{
    if (!o->f) return fail(err, errlen, "output not open");
    int e = o->held_for ? release_held(o) : 0;
    FILE *f = o->f;
    o->f = NULL;
    bool is_file = o->tmp[0] != '\0';
    const char *shown = o->dest.path[0] ? o->dest.path : "output";
    if (!e && (fflush(f) != 0 || ferror(f))) e = errno ? errno : EIO;
    if (!e && is_file && fsync(fileno(f)) != 0) e = errno;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    o->dest.stream_fd = -1;
    if (!is_file) return e ? fail(err, errlen, "%s: %s", shown, strerror(e)) : 0;
    if (!e && rename(o->tmp, o->dest.path) != 0) e = errno;
    if (e) {
        drop_tmp(o, true);
        return fail(err, errlen, "%s: %s; not replaced", shown, strerror(e));
    }
    drop_tmp(o, false);   /* renamed: the target now, never removed */
    if (fsync_folder_of(o->dest.path) != 0)   /* the rename itself is durable only then */
        return fail(err, errlen, "%s: fsync of its folder: %s", shown, strerror(errno));
    return 0;
}

void qh_out_abort(qh_out *o)
{
    if (o->f) fclose(o->f);
    if (o->held_for) fclose(o->held_for);
    o->f = o->held_for = NULL;
    o->dest.stream_fd = -1;
    drop_tmp(o, true);
}

bool qh_out_is_stdout(const qh_out *o)
{
    FILE *stream = o->held_for ? o->held_for : o->f;
    /* a closed stdout holds /dev/null in its place: no stream is it */
    if (!stream || o->tmp[0] || qh_cli_std_was_closed(1)) return false;
    struct stat a, b;
    return fstat(fileno(stream), &a) == 0 && fstat(1, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* What a path names: an existing regular file by device and inode; a new
 * one by its folder's device and inode and its name. False for a stream
 * (or what cannot be looked at: the output's own checks say why later). */
typedef struct file_identity {
    dev_t dev;
    ino_t ino;
    bool exists;
    const char *name;   /* a new file's name in its folder */
} file_identity;

static bool identify(const char *path, bool output, file_identity *id)
{
    if (!path || !*path || (output && fd_name(path) >= 0)) return false;
    struct stat st;
    if (stat(path, &st) == 0) {
        *id = (file_identity){ .dev = st.st_dev, .ino = st.st_ino, .exists = true };
        return S_ISREG(st.st_mode);
    }
    if (!output || errno != ENOENT) return false;
    char dir[PATH_MAX];
    folder_of(path, dir);
    if (stat(dir, &st) != 0) return false;
    const char *slash = strrchr(path, '/');
    *id = (file_identity){ .dev = st.st_dev, .ino = st.st_ino, .exists = false, .name = slash ? slash + 1 : path };
    return true;
}

static bool same_identity(const file_identity *a, const file_identity *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           (a->exists || strcmp(a->name, b->name) == 0);
}

int qh_out_refuse_same_file(const qh_opt_path *outs, size_t nout, const qh_opt_path *ins, size_t nin, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i < nout; i++) {
        file_identity out, other;
        if (!identify(outs[i].path, true, &out)) continue;
        /* an input exists, so only an existing output can be one */
        for (size_t k = 0; out.exists && k < nin; k++)
            if (identify(ins[k].path, false, &other) && same_identity(&out, &other))
                return fail(err, errlen, "%s %s is the %s file %s: it would be overwritten; refused", outs[i].opt,
                            outs[i].path, ins[k].opt, ins[k].path);
        for (size_t k = 0; k < i; k++)
            if (identify(outs[k].path, true, &other) && same_identity(&out, &other))
                return fail(err, errlen, "%s %s and %s %s name the same file: one would overwrite the other; refused",
                            outs[k].opt, outs[k].path, outs[i].opt, outs[i].path);
    }
    return 0;
}
