/* cmd_plugins.c — `qtr plugins [-c FILE]`: every plugin found on the search
 * path, and whether this host accepts it. */
#include "cli/cli.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "core/loader.h"

int qh_cmd_plugins(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    bool verbose = false;
    for (int i = 0; i < argc; i++) {
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (strcmp(argv[i], "-v") == 0) verbose = true;
        else { fprintf(stderr, "qtr plugins: unknown option '%s' (usage: qtr plugins [-c FILE] [-v])\n", argv[i]); return 2; }
    }
    qh_common_log_init(&o, "warn");
    qh_config cfg = { 0 };
    const char *dirs[16];
    char resolved[16][600];
    size_t nd = 0;
    if (o.config) {
        if (qh_common_load_config(&o, NULL, &cfg) != 0) return 2;
        for (size_t i = 0; i < cfg.n_plugin_path && nd < 16; i++) {
            qh_config_resolve(&cfg, cfg.plugin_path[i], resolved[nd], sizeof resolved[nd]);
            dirs[nd] = resolved[nd];
            nd++;
        }
    }
    char search[16][512];
    size_t ns = qh_loader_search_dirs(dirs, nd, search, 16);
    printf("%-10s %-16s %-10s %-6s %-9s %s\n", "KIND", "NAME", "VERSION", "ABI", "STATUS", "FILE");
    const char *names[256];
    char name_store[256][QTR_NAME_MAX];
    size_t n_names = 0, found = 0;
    for (size_t d = 0; d < ns; d++) {
        DIR *dir = opendir(search[d]);
        if (!dir) continue;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t len = strlen(de->d_name);
            if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0) continue;
            char path[1100];
            snprintf(path, sizeof path, "%s/%s", search[d], de->d_name);
            qh_loaded p;
            char err[1400];
            found++;
            if (qh_loader_open(path, names, n_names, &p, err, sizeof err) == 0) {
                char abi[16];
                snprintf(abi, sizeof abi, "%u.%u", p.abi_major, p.abi_minor);
                printf("%-10s %-16s %-10s %-6s %-9s %s\n", qtr_kind_name(p.desc.kind), p.desc.name, p.desc.version, abi,
                       "accepted", path);
                if (verbose && p.desc.description) printf("           %s\n", p.desc.description);
                if (verbose)
                    for (const qtr_option *op = p.desc.options; op && op->name; op++)
                        printf("           option %-24s default %-12s %s\n", op->name,
                               op->default_value ? op->default_value : "(none)", op->help ? op->help : "");
                if (n_names < 256) {
                    qtr_strlcpy(name_store[n_names], p.desc.name, QTR_NAME_MAX);
                    names[n_names] = name_store[n_names];
                    n_names++;
                }
                qh_loader_close(&p);
            } else {
                printf("%-10s %-16s %-10s %-6s %-9s %s\n", "?", "?", "?", "?", "refused", path);
                printf("           %s\n", err);
            }
        }
        closedir(dir);
    }
    if (!found) {
        printf("(no plugins found; searched:");
        for (size_t d = 0; d < ns; d++) printf(" %s", search[d]);
        printf(")\n");
    }
    qh_config_free(&cfg);
    return 0;
}
