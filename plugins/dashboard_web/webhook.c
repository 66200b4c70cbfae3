/* webhook.c — see webhook.h. The transport is the exchange kit's kx_http
 * (plugins/kit_exchange) over a dlopened libcurl (kx_curl_open): one
 * libcurl-multi-on-libevent glue in the project, never linked here. */
#include "webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx_http.h"

struct webhook_lib {
    kx_curl *curl;
};

webhook_lib *webhook_lib_open(char *err, size_t cap)
{
    webhook_lib *lib = calloc(1, sizeof *lib);
    if (!lib) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    lib->curl = kx_curl_open(WEBHOOK_LIBCURL_SONAME, err, cap);
    if (!lib->curl) {
        free(lib);
        return NULL;
    }
    return lib;
}

void webhook_lib_close(webhook_lib *lib)
{
    if (!lib) return;
    kx_curl_close(lib->curl); /* stays mapped if a post was abandoned in flight */
    free(lib);
}

struct webhook {
    kx_http *http;
    char *url;
    long timeout_ms;
    int max_inflight;
    webhook_done_fn done;
    void *ud;
};

static void on_posted(void *ud, const kx_http_response *r)
{
    webhook *w = ud;
    bool ok = r->curl_code == 0 && r->status >= 200 && r->status < 300;
    if (w->done) w->done(w->ud, ok, r->status, r->curl_code != 0 ? r->error : ok ? "" : "HTTP error status");
}

webhook *webhook_new(webhook_lib *lib, struct event_base *base, const char *url, long timeout_ms,
                     int max_inflight, webhook_done_fn done, void *ud)
{
    if (!lib || !base || !url || !*url) return NULL;
    webhook *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->http = kx_http_new(lib->curl, base);
    w->url = strdup(url);
    w->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    w->max_inflight = max_inflight > 0 ? max_inflight : 4;
    w->done = done;
    w->ud = ud;
    if (!w->http || !w->url) {
        webhook_free(w);
        return NULL;
    }
    return w;
}

int webhook_inflight(const webhook *w) { return w ? (int)kx_http_active(w->http) : 0; }

int webhook_post_text(webhook *w, const char *text)
{
    if (!w || webhook_inflight(w) >= w->max_inflight) return -1;
    json_t *o = json_object();
    json_t *t = json_string(text);
    json_object_set_new(o, "text", t ? t : json_string("(alert text was not UTF-8)"));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body) return -1;
    static const char *const headers[] = { "Content-Type: application/json" };
    kx_http_request req = {
        .method = "POST",
        .url = w->url,
        .body = body,
        .headers = headers,
        .n_headers = 1,
        .timeout_ms = w->timeout_ms,
        .connect_timeout_ms = w->timeout_ms < 3000 ? w->timeout_ms : 3000L,
        .user_agent = "qtr-dashboard",
        .discard_answer = true,
    };
    int rc = kx_http_send(w->http, &req, on_posted, w);
    free(body);
    return rc;
}

void webhook_free(webhook *w)
{
    if (!w) return;
    kx_http_free(w->http); /* abandons posts still in flight */
    free(w->url);
    free(w);
}
