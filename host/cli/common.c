/* common.c — options every command shares. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

int qh_common_opt(int argc, char **argv, int *i, qh_common_opts *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
        if (*i + 1 >= argc) { fprintf(stderr, "qtr: %s needs a file\n", a); return -1; }
        /* never the last one silently: which config ran would be a guess */
        if (o->config) { fprintf(stderr, "qtr: %s given twice\n", a); return -1; }
        o->config = argv[++*i];
        return 1;
    }
    if (strcmp(a, "--log-json") == 0) { o->log_json = true; return 1; }
    if (strcmp(a, "--log-level") == 0) {
        if (*i + 1 >= argc) { fprintf(stderr, "qtr: --log-level needs debug, info, warn or error\n"); return -1; }
        if (o->log_level) { fprintf(stderr, "qtr: --log-level given twice\n"); return -1; }
        o->log_level = argv[++*i];
        qh_log_level l;
        if (!qh_log_level_parse(o->log_level, &l)) {
            fprintf(stderr, "qtr: --log-level: '%s' is not debug, info, warn or error\n", o->log_level);
            return -1;
        }
        return 1;
    }
    return 0;
}

void qh_common_log_init(const qh_common_opts *o, const char *default_level)
{
    qh_log_level l = QH_LOG_INFO;
    qh_log_level_parse(o->log_level ? o->log_level : default_level, &l);
    qh_log_init(stderr, l, o->log_json);
}

int qh_common_load_config(const qh_common_opts *o, const char *builtin, qh_config *cfg)
{
    char err[1024];
    int rc = o->config ? qh_config_load_file(o->config, cfg, err, sizeof err)
                       : qh_config_load_string(builtin, "(built-in default)", ".", cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "qtr: config: %s\n", err);
        return -1;
    }
    if (!o->log_level && cfg->log_level[0]) {
        qh_log_level l;
        if (qh_log_level_parse(cfg->log_level, &l)) qh_log_set_level(l);
    }
    return 0;
}

/* bit fd set: standard descriptor fd was closed when qtr started */
static unsigned std_closed;

int qh_cli_std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        /* read-only, so a write to it fails as to the closed descriptor; not
         * close-on-exec, so a child (a sweep's) finds it taken as well */
        int n = open("/dev/null", O_RDONLY);
        if (n < 0) n = open("/", O_RDONLY | O_DIRECTORY);   /* no /dev here: any descriptor that holds the place */
        if (n < 0) return -1;
        if (n != fd) {   /* the lowest free descriptor is fd, so never; but never a guess either */
            int d = dup2(n, fd);
            close(n);
            if (d != fd) return -1;
        }
        std_closed |= 1u << fd;
    }
    return 0;
}

bool qh_cli_std_was_closed(int fd) { return fd >= 0 && fd <= 2 && (std_closed & (1u << fd)); }

int qh_cli_finish_stdout(int rc)
{
    errno = 0;
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    /* A stdout closed by the shell (>&-) is /dev/null opened read-only
     * (qh_cli_std_fds_open): what was written to it failed above, and
     * nothing written is no failure. */
    if (fclose(stdout) != 0 && !failed && errno != EBADF) {
        failed = true;
        e = errno;
    }
    if (!failed) return rc;
    fprintf(stderr, "qtr: cannot write standard output: %s\n", e ? strerror(e) : "write error");
    return rc ? rc : 1;
}

const char *qh_cli_tmpdir(void)
{
    const char *tmpdir = getenv("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

int qh_cli_private_copy(const char *stem, int *tmp_id, char *path, size_t pathlen, char *err, size_t errlen)
{
    const char *dir = qh_cli_tmpdir();
    *tmp_id = 0;
    /* the folder's name, then the database's in it ("/store.db" fits: checked) */
    int w = snprintf(path, pathlen, "%s/qtr-%s-XXXXXX", dir, stem);
    if (w < 0 || (size_t)w + sizeof "/store.db" > pathlen) {
        snprintf(err, errlen, "temporary folder in %s: %s", dir, strerror(ENAMETOOLONG));
        return -1;
    }
    sigset_t saved;
    qh_cli_tmp_hold(&saved);   /* a signal now is handled once the names are registered */
    int rc = mkdtemp(path) ? 0 : -1;
    int e = errno;
    if (rc == 0) {
        memcpy(path + w, "/store.db", sizeof "/store.db");
        *tmp_id = qh_cli_tmp_add(path, QH_TMP_DB | QH_TMP_BACKUP | QH_TMP_FOLDER);
    }
    qh_cli_tmp_release(&saved);
    if (rc != 0) snprintf(err, errlen, "temporary folder in %s: %s", dir, strerror(e));
    return rc;
}

void qh_cli_private_copy_remove(const char *path, int tmp_id, const char *who)
{
    char p[PATH_MAX + 32];
    qh_cli_remove_db(path, who);
    snprintf(p, sizeof p, "%s%s", path, QH_STORE_BACKUP_SUFFIX);   /* a copy cut short */
    qh_cli_remove_db(p, who);
    const char *slash = strrchr(path, '/');
    if (slash) {
        snprintf(p, sizeof p, "%.*s", (int)(slash - path), path);
        if (rmdir(p) != 0 && errno != ENOENT) fprintf(stderr, "qtr %s: could not remove %s: %s\n", who, p, strerror(errno));
    }
    qh_cli_tmp_forget(tmp_id);
}

void qh_cli_remove_db(const char *path, const char *who)
{
    static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
    char p[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        if (unlink(p) != 0 && errno != ENOENT) fprintf(stderr, "qtr %s: could not remove %s: %s\n", who, p, strerror(errno));
    }
}

void qh_cli_err_rename(char *err, size_t errlen, const char *from, const char *to)
{
    size_t flen = strlen(from), tlen = strlen(to);
    if (!flen || !errlen) return;
    char out[2048];
    size_t o = 0;
    for (const char *p = err; *p && o + 1 < sizeof out;) {
        if (strncmp(p, from, flen) == 0) {
            size_t n = tlen < sizeof out - 1 - o ? tlen : sizeof out - 1 - o;
            memcpy(out + o, to, n);
            o += n;
            p += flen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(err, errlen, "%s", out);
}
