/* cmd_backup.c — `qtr backup FILE`: online backup of the trade store. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"

int qh_cmd_backup(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    const char *dest = NULL;
    for (int i = 0; i < argc; i++) {
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (!dest && argv[i][0] != '-') dest = argv[i];
        else { fprintf(stderr, "usage: qtr backup [-c FILE] DEST\n"); return 2; }
    }
    if (!dest) { fprintf(stderr, "usage: qtr backup [-c FILE] DEST\n"); return 2; }
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
    char err[1024];
    int rc = qh_store_backup_file(src, dest, err, sizeof err);
    if (rc != 0) fprintf(stderr, "qtr backup: %s\n", err);
    else printf("backup of %s written to %s\n", src, dest);
    qh_config_free(&cfg);
    return rc ? 1 : 0;
}
