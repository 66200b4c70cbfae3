/* loader.c — see loader.h. Modelled on nginx's and Janus's module checks. */
#include "core/loader.h"

#include "core/abi_signature.h"
#include "core/plugin_needs.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef QTR_PLUGIN_INSTALL_DIR
#define QTR_PLUGIN_INSTALL_DIR "/usr/lib/quantum-trader/plugins"
#endif

static int refuse(qh_loaded *p, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(qh_loaded *p, char *err, size_t errlen, const char *fmt, ...)
{
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char pabi[16] = "?";
    if (p->abi_known) snprintf(pabi, sizeof pabi, "%u.%u", p->abi_major, p->abi_minor);
    snprintf(err, errlen, "plugin %s refused: %s (plugin ABI %s, host ABI %d.%d)", p->path, why, pabi,
             QTR_ABI_MAJOR, QTR_ABI_MINOR);
    if (p->dl) dlclose(p->dl);
    p->dl = NULL;
    return -1;
}

static int refuse_major(qh_loaded *p, char *err, size_t errlen)
{
    if (p->abi_major < QTR_ABI_MAJOR)
        return refuse(p, err, errlen, "ABI major version older than the host's: rebuild the plugin against SDK %d.%d",
                      QTR_ABI_MAJOR, QTR_ABI_MINOR);
    return refuse(p, err, errlen, "ABI major version newer than the host's: upgrade the host");
}

static bool valid_plugin_name(const char *s)
{
    if (!s || !*s || strlen(s) >= QTR_NAME_MAX) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

/* Copy a table that starts with its own size, zero-extending an older one. */
static bool copy_sized(void *dst, size_t dst_size, const void *src)
{
    uint32_t sz;
    memcpy(&sz, src, sizeof sz);
    /* A table too small to hold a mandatory member reads as NULL there and
     * is refused by the caller's NULL check. */
    if (sz < sizeof(uint32_t)) return false;
    memset(dst, 0, dst_size);
    memcpy(dst, src, sz < dst_size ? sz : dst_size);
    return true;
}

int qh_loader_open(const char *path, const char *const *taken, size_t n_taken, qh_loaded *p, char *err,
                   size_t errlen)
{
    memset(p, 0, sizeof *p);
    qtr_strlcpy(p->path, path, sizeof p->path);
    dlerror();
    /* RTLD_LOCAL: one plugin's symbols never satisfy another's. */
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) {
        const char *e = dlerror();
        return refuse(p, err, errlen, "cannot load: %s", e ? e : "unknown error");
    }
    qtr_plugin_entry_fn entry;
    *(void **)&entry = dlsym(p->dl, QTR_ENTRY_SYMBOL);
    if (!entry) return refuse(p, err, errlen, "no entry symbol %s", QTR_ENTRY_SYMBOL);

    uint32_t plugin_abi = 0;
    const qtr_plugin_desc *d = entry(QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR), &plugin_abi);
    if (plugin_abi) {
        p->abi_known = true;
        p->abi_major = QTR_ABI_MAJOR_OF(plugin_abi);
        p->abi_minor = QTR_ABI_MINOR_OF(plugin_abi);
    }
    /* A plugin of another major (a 1.x one declines this host itself) is
     * told apart from one that declines for its own reasons. */
    if (!d && p->abi_known && p->abi_major != QTR_ABI_MAJOR) return refuse_major(p, err, errlen);
    if (!d) return refuse(p, err, errlen, "the plugin declined this host");
    /* size and version are the descriptor's first members in every major */
    if (d->size < offsetof(qtr_plugin_desc, abi_minor) + sizeof d->abi_minor)
        return refuse(p, err, errlen, "descriptor too small (%u bytes)", (unsigned)d->size);
    /* The descriptor's own version is the one that counts. */
    p->abi_known = true;
    p->abi_major = d->abi_major;
    p->abi_minor = d->abi_minor;
    if (d->abi_major != QTR_ABI_MAJOR) return refuse_major(p, err, errlen);
    if (d->abi_minor > QTR_ABI_MINOR) return refuse(p, err, errlen, "built for a newer host (ABI minor)");
    if (d->size < offsetof(qtr_plugin_desc, strategy))
        return refuse(p, err, errlen, "descriptor too small (%u bytes)", (unsigned)d->size);
    /* The build's layout facts, before anything else of the descriptor is
     * read or anything in the plugin called. */
    char why[320];
    if (!qh_signature_compatible(qh_host_signature(), QTR_ABI_MINOR, d->signature, d->abi_minor, why, sizeof why))
        return refuse(p, err, errlen, "%s", why);
    memset(&p->desc, 0, sizeof p->desc);
    memcpy(&p->desc, d, d->size < sizeof p->desc ? d->size : sizeof p->desc);
    const qtr_plugin_desc *c = &p->desc;

    if (c->kind < QTR_KIND_STRATEGY || c->kind > QTR_KIND_DASHBOARD)
        return refuse(p, err, errlen, "unknown kind %d", (int)c->kind);
    if (!valid_plugin_name(c->name)) return refuse(p, err, errlen, "name missing or not [a-z0-9_]{1,31}");
    if (!c->version || !*c->version) return refuse(p, err, errlen, "version missing");
    if (!c->init) return refuse(p, err, errlen, "mandatory callback init is NULL");
    if (!c->destroy) return refuse(p, err, errlen, "mandatory callback destroy is NULL");
    if (c->needs & ~(uint32_t)QH_NEEDS_KNOWN)
        return refuse(p, err, errlen, "needs 0x%x has bits this host does not know (0x%x)", (unsigned)c->needs,
                      (unsigned)(c->needs & ~(uint32_t)QH_NEEDS_KNOWN));

    const void *ops[] = { c->strategy, c->risk, c->exchange, c->dashboard };
    for (int k = 0; k < 4; k++)
        if (ops[k] && k != (int)c->kind - 1)
            return refuse(p, err, errlen, "kind %s but has %s callbacks", qtr_kind_name(c->kind),
                          qtr_kind_name((qtr_kind)(k + 1)));
    switch (c->kind) {
    case QTR_KIND_STRATEGY:
        if (!c->strategy || !copy_sized(&p->strategy, sizeof p->strategy, c->strategy))
            return refuse(p, err, errlen, "strategy callbacks missing");
        if (!p->strategy.on_candle) return refuse(p, err, errlen, "mandatory callback strategy.on_candle is NULL");
        break;
    case QTR_KIND_RISK:
        if (!c->risk || !copy_sized(&p->risk, sizeof p->risk, c->risk))
            return refuse(p, err, errlen, "risk callbacks missing");
        if (!p->risk.check_order) return refuse(p, err, errlen, "mandatory callback risk.check_order is NULL");
        break;
    case QTR_KIND_EXCHANGE:
        if (!c->exchange || !copy_sized(&p->exchange, sizeof p->exchange, c->exchange))
            return refuse(p, err, errlen, "exchange callbacks missing");
        if (!p->exchange.submit_order) return refuse(p, err, errlen, "mandatory callback exchange.submit_order is NULL");
        if (!p->exchange.cancel_order) return refuse(p, err, errlen, "mandatory callback exchange.cancel_order is NULL");
        break;
    case QTR_KIND_DASHBOARD:
        if (c->dashboard && !copy_sized(&p->dashboard, sizeof p->dashboard, c->dashboard))
            return refuse(p, err, errlen, "dashboard callbacks malformed");
        break;
    }
    if (c->options)
        for (const qtr_option *o = c->options; o->name; o++)
            if (o->type < QTR_OPT_STRING || o->type > QTR_OPT_PATH)
                return refuse(p, err, errlen, "option %s has an unknown type", o->name);
    for (size_t i = 0; i < n_taken; i++)
        if (taken[i] && strcmp(taken[i], c->name) == 0)
            return refuse(p, err, errlen, "duplicate name '%s'", c->name);
    return 0;
}

void qh_loader_close(qh_loaded *p)
{
    if (p && p->dl) {
        dlclose(p->dl);
        p->dl = NULL;
    }
}

static bool exe_dir(char *out, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) return false;
    *slash = '\0';
    qtr_strlcpy(out, buf, cap);
    return true;
}

/* The search path without repeats: one folder named twice, or through a
 * symlink or with another spelling, would list each of its plugins twice
 * (the second time as a duplicate). A folder that exists is known by its
 * device and inode; one that does not, by its name. */
typedef struct dir_list {
    char (*out)[512];
    size_t n, cap;
    struct { dev_t dev; ino_t ino; bool exists; } id[64];
} dir_list;

static void add_dir(dir_list *l, const char *dir)
{
    if (l->n >= l->cap || l->n >= 64 || !*dir) return;
    struct stat st;
    bool exists = stat(dir, &st) == 0;
    for (size_t i = 0; i < l->n; i++) {
        if (exists && l->id[i].exists && l->id[i].dev == st.st_dev && l->id[i].ino == st.st_ino) return;
        if (!exists && !l->id[i].exists && strcmp(l->out[i], dir) == 0) return;
    }
    l->id[l->n].exists = exists;
    l->id[l->n].dev = exists ? st.st_dev : 0;
    l->id[l->n].ino = exists ? st.st_ino : 0;
    qtr_strlcpy(l->out[l->n++], dir, 512);
}

size_t qh_loader_search_dirs(const char *const *dirs, size_t n_dirs, char out[][512], size_t cap)
{
    dir_list l = { .out = out, .cap = cap };
    for (size_t i = 0; i < n_dirs; i++) add_dir(&l, dirs[i]);
    const char *env = getenv("QTR_PLUGIN_PATH");
    if (env && *env) {
        char tmp[4096];
        qtr_strlcpy(tmp, env, sizeof tmp);
        for (char *save = NULL, *tok = strtok_r(tmp, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            add_dir(&l, tok);
    }
    char ed[PATH_MAX], beside[512];
    if (exe_dir(ed, sizeof ed)) {
        snprintf(beside, sizeof beside, "%.490s/plugins", ed);
        add_dir(&l, beside);
    }
    add_dir(&l, QTR_PLUGIN_INSTALL_DIR);
    return l.n;
}

bool qh_loader_find(const char *file, const char *const *dirs, size_t n_dirs, char *out, size_t outlen)
{
    if (strchr(file, '/')) {
        if (access(file, R_OK) != 0) return false;
        qtr_strlcpy(out, file, outlen);
        return true;
    }
    char list[16][512];
    size_t n = qh_loader_search_dirs(dirs, n_dirs, list, 16);
    for (size_t i = 0; i < n; i++) {
        char cand[1100];
        snprintf(cand, sizeof cand, "%s/%s", list[i], file);
        if (access(cand, R_OK) == 0) {
            qtr_strlcpy(out, cand, outlen);
            return true;
        }
    }
    return false;
}
