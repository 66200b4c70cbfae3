/* kx_curl_dl.c — kx_curl_open(): libcurl through dlopen/dlsym, never linked. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx_curl.h"

static bool load_fn(void *dl, const char *name, void *slot, char *err, size_t cap)
{
    dlerror();
    void *sym = dlsym(dl, name);
    if (!sym) {
        const char *why = dlerror();
        snprintf(err, cap, "%s", why ? why : name);
        return false;
    }
    memcpy(slot, &sym, sizeof sym); /* POSIX: a data pointer that holds a function */
    return true;
}

kx_curl *kx_curl_open(const char *soname, char *err, size_t cap)
{
    kx_curl *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    c->dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!c->dl) {
        const char *why = dlerror();
        snprintf(err, cap, "%s", why ? why : "libcurl: cannot load");
        free(c);
        return NULL;
    }
    _Static_assert(sizeof(void *) == sizeof c->easy_init, "function pointers must fit a void *");
#define LOAD(name) load_fn(c->dl, "curl_" #name, &c->name, err, cap)
    if (!LOAD(global_init) || !LOAD(global_cleanup) || !LOAD(multi_init) || !LOAD(multi_setopt) ||
        !LOAD(multi_cleanup) || !LOAD(multi_info_read) || !LOAD(multi_add_handle) || !LOAD(multi_remove_handle) ||
        !LOAD(multi_socket_action) || !LOAD(multi_assign) || !LOAD(easy_init) || !LOAD(easy_setopt) ||
        !LOAD(easy_getinfo) || !LOAD(easy_cleanup) || !LOAD(easy_strerror) || !LOAD(slist_append) ||
        !LOAD(slist_free_all)) {
        dlclose(c->dl);
        free(c);
        return NULL;
    }
#undef LOAD
    return c;
}

void kx_curl_close(kx_curl *c)
{
    if (!c || !c->dl) return;
    if (!c->pinned) dlclose(c->dl);
    free(c);
}
