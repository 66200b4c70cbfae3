/* cmd_plugins.c — `qtr plugins [-c FILE] [-v]`: every plugin found on the
 * search path and whether this host accepts it; with a config, also whether
 * each plugin it names would load, as `qtr run` would find and check it.
 * Exit 2 when one of those is refused (or missing and required): the
 * server would not start with it. */
#include "cli/cli.h"
#include "cli/usage.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/loader.h"
#include "core/plugin_needs.h"

#define MAX_DIRS 16
#define MAX_FILES 256

typedef struct seen_plugin {
    dev_t dev;
    ino_t ino;                  /* the same file through another name is listed once */
    qtr_kind kind;
    char name[QTR_NAME_MAX];    /* "" when refused */
    char path[1100];
} seen_plugin;

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int is_plugin_file(const struct dirent *de)
{
    size_t len = strlen(de->d_name);
    return len >= 4 && strcmp(de->d_name + len - 3, ".so") == 0;
}

static void print_row(const char *kind, const char *name, const char *version, const char *abi, const char *status,
                      const char *path)
{
    printf("%-10s %-16s %-10s %-6s %-9s %s\n", kind, name, version, abi, status, path);
}

static void print_details(const qh_loaded *p)
{
    if (p->desc.description) printf("           %s\n", p->desc.description);
    for (const qtr_option *op = p->desc.options; op && op->name; op++)
        printf("           option %-24s default %-12s %s\n", op->name, op->default_value ? op->default_value : "(none)",
               op->help ? op->help : "");
    /* the costly services it may use (qtr_plugin_desc.needs, SDK 2.4) */
    if (qh_plugin_needs(&p->desc, QTR_NEEDS_REGIME))
        printf("           needs  regime (%s)\n", p->abi_major == 2 && p->abi_minor < 4
                   ? "built before SDK 2.4: taken to need every service it could not declare"
                   : "QTR_NEEDS_REGIME: a backtest classifies candles for it");
}

/* One plugin file: its row, and what it is in seen (for the next ones). */
static void list_one(const char *path, bool verbose, seen_plugin *seen, size_t *n_seen)
{
    struct stat st;
    if (stat(path, &st) != 0) return;
    for (size_t i = 0; i < *n_seen; i++)
        if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino) return;   /* listed already */
    qh_loaded p;
    char err[1400];
    if (qh_loader_open(path, NULL, 0, &p, err, sizeof err) != 0) {
        print_row("?", "?", "?", "?", "refused", path);
        printf("           %s\n", err);
    } else {
        char abi[16];
        snprintf(abi, sizeof abi, "%u.%u", p.abi_major, p.abi_minor);
        const seen_plugin *first = NULL;
        for (size_t i = 0; i < *n_seen && !first; i++)
            if (seen[i].name[0] && seen[i].kind == p.desc.kind && strcmp(seen[i].name, p.desc.name) == 0) first = &seen[i];
        print_row(qtr_kind_name(p.desc.kind), p.desc.name, p.desc.version, abi, first ? "shadowed" : "accepted", path);
        if (first) printf("           the same plugin as %s, which comes first on the search path\n", first->path);
        if (verbose) print_details(&p);
    }
    if (*n_seen < MAX_FILES) {
        seen_plugin *s = &seen[(*n_seen)++];
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->kind = p.desc.kind;
        qtr_strlcpy(s->name, p.dl ? p.desc.name : "", sizeof s->name);
        qtr_strlcpy(s->path, path, sizeof s->path);
    }
    qh_loader_close(&p);
}

/* Would `qtr run -c` load this configured plugin? Found and checked as the
 * server does (host/engine/engine.c, load_one), short of its init. Returns
 * true when it is fine (or optional and absent). */
static bool check_configured(const qh_config *cfg, const qh_plugin_conf *pc, const char *const *dirs, size_t nd,
                             const char **taken, size_t *n_taken)
{
    char file[600], path[1200], why[1600] = "";
    if (pc->file[0] && strchr(pc->file, '/')) qh_config_resolve(cfg, pc->file, file, sizeof file);
    else if (pc->file[0]) qtr_strlcpy(file, pc->file, sizeof file);
    else snprintf(file, sizeof file, "%s_%s.so", qtr_kind_name(pc->kind), pc->name);
    const char *kind = qtr_kind_name(pc->kind);
    if (!qh_loader_find(file, dirs, nd, path, sizeof path)) {
        printf("%-10s %-16s %-9s %s not found on the search path\n", kind, pc->name,
               pc->required ? "MISSING" : "absent", file);
        if (!pc->required) printf("           optional (required = false): the server runs without it\n");
        return !pc->required;
    }
    qh_loaded p;
    if (qh_loader_open(path, taken, *n_taken, &p, why, sizeof why) == 0) {
        if (p.desc.kind != pc->kind || strcmp(p.desc.name, pc->name) != 0)
            snprintf(why, sizeof why, "plugin %s refused: it is %s %s, the config names %s %s", path,
                     qtr_kind_name(p.desc.kind), p.desc.name, kind, pc->name);
        else if (qh_config_check_options(pc, p.desc.options, why, sizeof why) == 0)
            why[0] = '\0';
        if (!why[0]) taken[(*n_taken)++] = pc->name;
        qh_loader_close(&p);
    }
    printf("%-10s %-16s %-9s %s\n", kind, pc->name, why[0] ? "REFUSED" : "accepted", path);
    if (why[0]) printf("           %s\n", why);
    return !why[0];
}

int qh_cmd_plugins(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    bool verbose = false;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("plugins");
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) verbose = true;
        else return qh_usage_unknown_option("plugins", argv[i]);
    }
    qh_common_log_init(&o, "warn");
    qh_config cfg = { 0 };
    const char *dirs[MAX_DIRS];
    char resolved[MAX_DIRS][600];
    size_t nd = 0;
    if (o.config) {
        if (qh_common_load_config(&o, NULL, &cfg) != 0) return 2;
        for (size_t i = 0; i < cfg.n_plugin_path && nd < MAX_DIRS; i++) {
            qh_config_resolve(&cfg, cfg.plugin_path[i], resolved[nd], sizeof resolved[nd]);
            dirs[nd] = resolved[nd];
            nd++;
        }
    }
    char search[MAX_DIRS][512];
    size_t ns = qh_loader_search_dirs(dirs, nd, search, MAX_DIRS);
    printf("%-10s %-16s %-10s %-6s %-9s %s\n", "KIND", "NAME", "VERSION", "ABI", "STATUS", "FILE");
    seen_plugin *seen = calloc(MAX_FILES, sizeof *seen);
    if (!seen) {
        fprintf(stderr, "qtr plugins: out of memory\n");
        qh_config_free(&cfg);
        return 1;
    }
    size_t n_seen = 0;
    for (size_t d = 0; d < ns; d++) {
        struct dirent **names;
        int n = scandir(search[d], &names, is_plugin_file, by_name);
        for (int k = 0; k < n; k++) {
            char path[1100];
            snprintf(path, sizeof path, "%s/%s", search[d], names[k]->d_name);
            list_one(path, verbose, seen, &n_seen);
            free(names[k]);
        }
        if (n >= 0) free(names);
    }
    free(seen);
    if (!n_seen) {
        printf("(no plugins found; searched:");
        for (size_t d = 0; d < ns; d++) printf(" %s", search[d]);
        printf(")\n");
    }
    int rc = 0;
    if (o.config) {
        printf("\nplugins named by %s:\n", cfg.path);
        const char *taken[64];
        size_t n_taken = 0;
        for (size_t i = 0; i < cfg.n_plugins && n_taken < 64; i++)
            if (!check_configured(&cfg, &cfg.plugins[i], dirs, nd, taken, &n_taken)) rc = 2;
        if (rc) fprintf(stderr, "qtr plugins: %s names a plugin that is refused or missing\n", cfg.path);
    }
    qh_config_free(&cfg);
    return rc;
}
