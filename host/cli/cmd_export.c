/* cmd_export.c — `qtr export-trades [-c FILE] [--out FILE]`: every fill of
 * the trade store as CSV, from a running server or a stopped one. It reads
 * an online backup, so the server's writer is never held up or disturbed. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/usage.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

int qh_cmd_export(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    const char *out_path = NULL;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("export-trades");
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (strcmp(argv[i], "--out") != 0) return qh_usage_unknown_option("export-trades", argv[i]);
        if (!qh_usage_value_once(argc, argv, &i, "export-trades", &out_path)) return 2;
    }
    if (!out_path) out_path = "-";
    /* SIGINT, SIGTERM or SIGHUP: neither the snapshot nor --out's temporary
     * file left behind */
    qh_cli_tmp_on_signals();
    /* a reader gone early (--out - | head) is EPIPE and one line, not a
     * SIGPIPE that kills us before the snapshot is removed */
    signal(SIGPIPE, SIG_IGN);
    qh_common_log_init(&o, "warn");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    if (!cfg.store.path[0]) {
        fprintf(stderr, "qtr export-trades: %s: no trade store configured\n", cfg.path);
        qh_config_free(&cfg);
        return 2;
    }
    char src[600], snap[PATH_MAX], where[PATH_MAX + 64], err[PATH_MAX + 200];
    qh_config_resolve(&cfg, cfg.store.path, src, sizeof src);
    qh_config_free(&cfg);
    if (access(src, R_OK) != 0) {
        fprintf(stderr, "qtr export-trades: %s: no trade store there\n", src);
        return 2;
    }
    qh_out out;
    if (qh_out_open(&out, out_path, err, sizeof err) != 0) {
        fprintf(stderr, "qtr export-trades: --out %s\n", err);
        return 2;
    }
    int snap_id;
    if (qh_cli_private_copy("export", &snap_id, snap, sizeof snap, err, sizeof err) != 0) {
        fprintf(stderr, "qtr export-trades: %s\n", err);
        qh_out_abort(&out);
        return 1;
    }
    int rc = 1;
    qh_store *st = NULL;
    /* Errors name the store the user configured, never the snapshot: the
     * copy's own failures as "a temporary copy in DIR", the snapshot's
     * content (not a qtr store, a newer schema) as the store's. */
    snprintf(where, sizeof where, "a temporary copy in %s", qh_cli_tmpdir());
    if (qh_store_backup_file_as(src, snap, where, err, sizeof err) != 0) {
        fprintf(stderr, "qtr export-trades: %s\n", err);
        goto done;
    }
    st = qh_store_open(snap, NULL, err, sizeof err);
    if (!st) {
        qh_cli_err_rename(err, sizeof err, snap, src);
        fprintf(stderr, "qtr export-trades: %s\n", err);
        goto done;
    }
    errno = 0;
    if (qh_store_export_trades_csv(st, out.f, err, sizeof err) != QTR_OK) {
        int e = errno;
        /* a failed write is the output's (a closed pipe, a full disk), not the snapshot's */
        if (ferror(out.f)) fprintf(stderr, "qtr export-trades: --out %s: %s\n", out_path, e ? strerror(e) : "write failed");
        else {
            qh_cli_err_rename(err, sizeof err, snap, src);
            fprintf(stderr, "qtr export-trades: %s\n", err);
        }
        goto done;
    }
    if (qh_out_commit(&out, err, sizeof err) != 0) {   /* never a half-written file */
        fprintf(stderr, "qtr export-trades: --out %s\n", err);
        goto done;
    }
    rc = 0;
done:
    qh_out_abort(&out);
    if (st) qh_store_close(st);
    qh_cli_private_copy_remove(snap, snap_id, "export-trades");   /* its journals and folder too */
    return rc;
}
