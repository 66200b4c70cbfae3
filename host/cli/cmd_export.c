/* cmd_export.c — `qtr export-trades [-c FILE] [--out CSV]`: every fill of the
 * trade store as CSV, from a running server or a stopped one. It reads an
 * online backup, so the server's writer is never held up or disturbed. */
#include "cli/cli.h"

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
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
        else { fprintf(stderr, "usage: qtr export-trades [-c FILE] [--out CSV]\n"); return 2; }
    }
    qh_common_log_init(&o, "warn");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    if (!cfg.store.path[0]) {
        fprintf(stderr, "qtr export-trades: %s: no trade store configured\n", cfg.path);
        qh_config_free(&cfg);
        return 2;
    }
    char src[600], snap[] = "/tmp/qtr-export-XXXXXX", err[1024];
    qh_config_resolve(&cfg, cfg.store.path, src, sizeof src);
    qh_config_free(&cfg);
    if (access(src, R_OK) != 0) {
        fprintf(stderr, "qtr export-trades: %s: no trade store there\n", src);
        return 2;
    }
    int fd = mkstemp(snap);
    if (fd < 0) { perror("qtr export-trades: temporary file"); return 1; }
    close(fd);
    unlink(snap);   /* the backup refuses an existing destination */
    int rc = 1;
    qh_store *st = NULL;
    FILE *out = NULL;
    if (qh_store_backup_file(src, snap, err, sizeof err) != 0) {
        fprintf(stderr, "qtr export-trades: %s\n", err);
        goto done;
    }
    st = qh_store_open(snap, NULL, err, sizeof err);
    if (!st) { fprintf(stderr, "qtr export-trades: %s\n", err); goto done; }
    char tmp_out[1100] = "";
    if (out_path) {
        snprintf(tmp_out, sizeof tmp_out, "%s.tmp.%d", out_path, (int)getpid());
        out = fopen(tmp_out, "w");
        if (!out) { perror(out_path); goto done; }
    }
    if (qh_store_export_trades_csv(st, out ? out : stdout, err, sizeof err) != QTR_OK) {
        fprintf(stderr, "qtr export-trades: %s\n", err);
        if (out) { fclose(out); unlink(tmp_out); out = NULL; }
        goto done;
    }
    rc = 0;
    if (out) {   /* never a half-written file */
        if (fclose(out) != 0 || rename(tmp_out, out_path) != 0) {
            fprintf(stderr, "qtr export-trades: cannot write %s\n", out_path);
            unlink(tmp_out);
            rc = 1;
        }
        out = NULL;
    }
done:
    if (st) qh_store_close(st);
    unlink(snap);
    return rc;
}
