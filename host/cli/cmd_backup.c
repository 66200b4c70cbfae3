/* cmd_backup.c — `qtr backup [-c FILE] DEST`: online backup of the trade
 * store. DEST is a new file (the store writes DEST.partial, syncs it and
 * renames it), or a stream ("-", a device, a FIFO) that gets a copy of a
 * finished backup. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/usage.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

/* Copy the file at path to fd, to the end. 0; -1 with errno when the file
 * could not be read, -2 with errno when fd could not be written. */
static int copy_to(const char *path, int fd)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = -1; break; }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) { rc = -2; break; }
            off += w;
        }
    }
    int e = errno;
    close(in);
    errno = e;
    return rc;
}

/* A backup to a stream: made in a temporary file first, so the stream gets
 * one consistent copy or nothing. */
static int backup_to_stream(const char *src, int fd, const char *dest, char *err, size_t errlen)
{
    char tmp[PATH_MAX], where[PATH_MAX + 64];
    int tmp_id;
    /* removed on SIGINT/SIGTERM/SIGHUP too, with its .partial and journals */
    if (qh_cli_private_copy("backup", &tmp_id, tmp, sizeof tmp, err, errlen) != 0) return 1;
    /* its errors name the store and where the copy was made, not a name the user never saw */
    snprintf(where, sizeof where, "a temporary copy in %s", qh_cli_tmpdir());
    int rc = qh_store_backup_file_as(src, tmp, where, err, errlen) == 0 ? 0 : 1;
    /* a reader gone early (| head) is EPIPE and one line, not a SIGPIPE that
     * kills us before the temporary copy is removed */
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);
    int copied = rc == 0 ? copy_to(tmp, fd) : 0;
    if (copied == -2) snprintf(err, errlen, "%s: %s", dest, strerror(errno));
    else if (copied == -1) snprintf(err, errlen, "%s: reading %s: %s", dest, where, strerror(errno));
    if (copied != 0) rc = 1;
    sigaction(SIGPIPE, &old, NULL);
    qh_cli_private_copy_remove(tmp, tmp_id, "backup");
    return rc;
}

int qh_cmd_backup(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    const char *dest = NULL;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("backup");
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (dest || (argv[i][0] == '-' && argv[i][1])) return qh_usage_unknown_option("backup", argv[i]);
        dest = argv[i];
    }
    if (!dest) {
        fprintf(stderr, "qtr backup: DEST is required (see qtr backup --help)\n");
        return 2;
    }
    /* SIGINT, SIGTERM or SIGHUP during the copy: no DEST.partial or
     * temporary copy left behind */
    qh_cli_tmp_on_signals();
    qh_common_log_init(&o, "warn");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    char src[600];
    if (!cfg.store.path[0]) {
        fprintf(stderr, "qtr backup: %s: no trade store configured\n", cfg.path);
        qh_config_free(&cfg);
        return 2;
    }
    qh_config_resolve(&cfg, cfg.store.path, src, sizeof src);
    qh_config_free(&cfg);
    char err[PATH_MAX + 200];
    qh_out_dest d;
    if (qh_out_resolve(dest, &d, err, sizeof err) != 0) {
        fprintf(stderr, "qtr backup: %s\n", err);
        return 2;
    }
    struct stat st;
    if (d.stream_fd < 0 && stat(d.path, &st) == 0) {   /* never over an older backup */
        fprintf(stderr, "qtr backup: %s already exists; refused\n", dest);
        return 2;
    }
    int rc;
    if (d.stream_fd >= 0) {
        rc = backup_to_stream(src, d.stream_fd, dest, err, sizeof err);
        if (close(d.stream_fd) != 0 && rc == 0) {
            snprintf(err, sizeof err, "%s: %s", dest, strerror(errno));
            rc = 1;
        }
    } else {
        int partial_id = qh_cli_tmp_add(d.path, QH_TMP_BACKUP);   /* DEST.partial, never DEST */
        rc = qh_store_backup_file_as(src, d.path, dest, err, sizeof err) == 0 ? 0 : 1;
        qh_cli_tmp_forget(partial_id);
    }
    if (rc != 0) fprintf(stderr, "qtr backup: %s\n", err);
    else fprintf(d.stream_fd >= 0 ? stderr : stdout, "backup of %s written to %s\n", src, dest);
    return rc;
}
