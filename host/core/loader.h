/*
 * The plugin loader: dlopen a shared object, call its one entry symbol, and
 * check the descriptor before anything else runs (the host side of the
 * two-sided ABI check). Every refusal is one line naming the file, the
 * plugin's ABI and the host's, and the reason, and dlcloses the object.
 */
#ifndef QH_LOADER_H
#define QH_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_loaded {
    char path[512];
    void *dl;
    /* A zero-extended copy: fields a smaller (older) descriptor lacks are NULL. */
    qtr_plugin_desc desc;
    qtr_strategy_ops strategy;
    qtr_risk_ops risk;
    qtr_exchange_ops exchange;
    qtr_dashboard_ops dashboard;
    uint16_t abi_major, abi_minor;
    bool abi_known;             /* the plugin told us its ABI */
} qh_loaded;

/* Open and check one plugin. taken_names (n of them) are names already
 * loaded, to refuse a duplicate. 0 on success; -1 with the one-line reason
 * in err (and nothing left open). */
int qh_loader_open(const char *path, const char *const *taken_names, size_t n_taken,
                   qh_loaded *out, char *err, size_t errlen);
void qh_loader_close(qh_loaded *p);

/* Resolve "<kind>_<name>.so" (or an explicit file) along the search path:
 * the given dirs, then $QTR_PLUGIN_PATH (colon-separated), the folder
 * plugins/ next to the running binary, and the installed plugin folder.
 * Returns true with the path in out. */
bool qh_loader_find(const char *file, const char *const *dirs, size_t n_dirs, char *out, size_t outlen);

/* Every folder the search would look in, in order, each once however many
 * names it is given by (for `qtr plugins`). */
size_t qh_loader_search_dirs(const char *const *dirs, size_t n_dirs, char out[][512], size_t cap);

#endif
