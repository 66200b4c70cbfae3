/* kx_curl — the libcurl functions kx_http calls, as a table, so one transport
 * serves a plugin that links libcurl and one that must not map it until it is
 * needed:
 *   - kx_curl_linked(): the functions of the libcurl the plugin links
 *     (kx_curl_linked.c; the only file of the kit that references libcurl's
 *     symbols, so a plugin that never calls it needs no -lcurl);
 *   - kx_curl_open(): libcurl.so.4 loaded with dlopen, each function found
 *     with dlsym (kx_curl_dl.c; the dashboard's alert webhook).
 * <curl/curl.h> only gives the types and constants. */
#ifndef KX_CURL_H
#define KX_CURL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#define KX_CURL_SONAME "libcurl.so.4"

/* Each pointer has the type of the function curl.h declares. */
#define KX_CURL_FN(name) __typeof__(curl_##name) *name
typedef struct kx_curl {
    KX_CURL_FN(global_init);
    KX_CURL_FN(global_cleanup);
    KX_CURL_FN(multi_init);
    KX_CURL_FN(multi_setopt);
    KX_CURL_FN(multi_cleanup);
    KX_CURL_FN(multi_info_read);
    KX_CURL_FN(multi_add_handle);
    KX_CURL_FN(multi_remove_handle);
    KX_CURL_FN(multi_socket_action);
    KX_CURL_FN(multi_assign);
    KX_CURL_FN(easy_init);
    KX_CURL_FN(easy_setopt);
    KX_CURL_FN(easy_getinfo);
    KX_CURL_FN(easy_cleanup);
    KX_CURL_FN(easy_strerror);
    KX_CURL_FN(slist_append);
    KX_CURL_FN(slist_free_all);
    void *dl;    /* the dlopen handle; NULL for the linked table          */
    bool pinned; /* a transfer was abandoned in flight: never unloaded    */
} kx_curl;
#undef KX_CURL_FN

/* The linked libcurl's table (static; never freed). Its global_init runs
 * curl_global_init once per process and its global_cleanup does nothing: a
 * plugin unloaded and loaded again must not tear down curl (and OpenSSL)
 * under the rest of the process. */
kx_curl *kx_curl_linked(void);

/* Loads soname (KX_CURL_SONAME) and every function above. NULL on failure,
 * with one line in err (dlerror's: names the missing library or symbol). */
kx_curl *kx_curl_open(const char *soname, char *err, size_t cap);
/* Unloads it: after every kx_http made with it is freed. A table that was
 * pinned stays mapped (an abandoned transfer may leave a resolver thread
 * running in its code on a libcurl older than 7.87). */
void kx_curl_close(kx_curl *c);

#endif
