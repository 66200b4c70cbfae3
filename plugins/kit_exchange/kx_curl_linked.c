/* kx_curl_linked.c — kx_curl_linked(): the table of the linked libcurl. The
 * only file of the kit that references libcurl's symbols (see kx_curl.h). */
#include "kx_curl.h"

static CURLcode init_once(long flags)
{
    static bool done;
    static CURLcode rc = CURLE_OK;
    if (!done) {
        rc = curl_global_init(flags);
        done = rc == CURLE_OK;
    }
    return rc;
}

static void keep_global(void) {}

kx_curl *kx_curl_linked(void)
{
    static kx_curl table = {
        .global_init = init_once,
        .global_cleanup = keep_global,
        .multi_init = curl_multi_init,
        .multi_setopt = curl_multi_setopt,
        .multi_cleanup = curl_multi_cleanup,
        .multi_info_read = curl_multi_info_read,
        .multi_add_handle = curl_multi_add_handle,
        .multi_remove_handle = curl_multi_remove_handle,
        .multi_socket_action = curl_multi_socket_action,
        .multi_assign = curl_multi_assign,
        .easy_init = curl_easy_init,
        .easy_setopt = curl_easy_setopt,
        .easy_getinfo = curl_easy_getinfo,
        .easy_cleanup = curl_easy_cleanup,
        .easy_strerror = curl_easy_strerror,
        .slist_append = curl_slist_append,
        .slist_free_all = curl_slist_free_all,
    };
    return &table;
}
