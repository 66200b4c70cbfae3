/* webhook.c — see webhook.h. The socket/timer glue is libcurl's documented
 * multi_socket pattern (CURLMOPT_SOCKETFUNCTION + CURLMOPT_TIMERFUNCTION).
 * <curl/curl.h> gives the types and constants; the functions are reached
 * through a table filled by dlsym, never linked. */
#include "webhook.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each pointer has the type of the function curl.h declares. */
#define CURL_FN(name) __typeof__(curl_##name) *name
struct webhook_lib {
    void *dl;
    bool pinned;              /* a post was abandoned in flight: never unload */
    CURL_FN(global_init);
    CURL_FN(global_cleanup);
    CURL_FN(multi_init);
    CURL_FN(multi_setopt);
    CURL_FN(multi_cleanup);
    CURL_FN(multi_info_read);
    CURL_FN(multi_add_handle);
    CURL_FN(multi_remove_handle);
    CURL_FN(multi_socket_action);
    CURL_FN(multi_assign);
    CURL_FN(easy_init);
    CURL_FN(easy_setopt);
    CURL_FN(easy_getinfo);
    CURL_FN(easy_cleanup);
    CURL_FN(easy_strerror);
    CURL_FN(slist_append);
    CURL_FN(slist_free_all);
};
#undef CURL_FN

static bool load_fn(webhook_lib *lib, const char *name, void *slot, char *err, size_t cap)
{
    dlerror();
    void *sym = dlsym(lib->dl, name);
    if (!sym) {
        const char *why = dlerror();
        snprintf(err, cap, "%s", why ? why : name);
        return false;
    }
    memcpy(slot, &sym, sizeof sym);   /* POSIX: a data pointer that holds a function */
    return true;
}

webhook_lib *webhook_lib_open(char *err, size_t cap)
{
    webhook_lib *lib = calloc(1, sizeof *lib);
    if (!lib) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    lib->dl = dlopen(WEBHOOK_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        const char *why = dlerror();
        snprintf(err, cap, "%s", why ? why : WEBHOOK_LIBCURL_SONAME ": cannot load");
        free(lib);
        return NULL;
    }
#define LOAD(name) load_fn(lib, "curl_" #name, &lib->name, err, cap)
    _Static_assert(sizeof(void *) == sizeof lib->easy_init, "function pointers must fit a void *");
    if (!LOAD(global_init) || !LOAD(global_cleanup) || !LOAD(multi_init) || !LOAD(multi_setopt) ||
        !LOAD(multi_cleanup) || !LOAD(multi_info_read) || !LOAD(multi_add_handle) || !LOAD(multi_remove_handle) ||
        !LOAD(multi_socket_action) || !LOAD(multi_assign) || !LOAD(easy_init) || !LOAD(easy_setopt) ||
        !LOAD(easy_getinfo) || !LOAD(easy_cleanup) || !LOAD(easy_strerror) || !LOAD(slist_append) ||
        !LOAD(slist_free_all)) {
        dlclose(lib->dl);
        free(lib);
        return NULL;
    }
#undef LOAD
    return lib;
}

void webhook_lib_close(webhook_lib *lib)
{
    if (!lib) return;
    /* A libcurl older than 7.87 leaves the resolver thread of an abandoned
     * post running detached: unloading the code under it would crash. */
    if (!lib->pinned) dlclose(lib->dl);
    free(lib);
}

struct post;
struct webhook {
    webhook_lib *lib;
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    char *url;
    long timeout_ms;
    int max_inflight, inflight;
    webhook_done_fn done;
    void *ud;
    struct post *posts;
};

typedef struct post {
    struct post *prev, *next;    /* in flight, for webhook_free */
    CURL *easy;
    char *body;
    struct curl_slist *headers;
    char error[CURL_ERROR_SIZE];
} post;

typedef struct sock_ctx {
    struct event *ev;
    webhook *w;
} sock_ctx;

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr; (void)ud;
    return size * nmemb;
}

static void post_free(const webhook_lib *c, post *p)
{
    if (!p) return;
    if (p->easy) c->easy_cleanup(p->easy);
    c->slist_free_all(p->headers);
    free(p->body);
    free(p);
}

static void unlink_post(webhook *w, post *p)
{
    if (!p) return;
    if (p->prev) p->prev->next = p->next; else w->posts = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void check_done(webhook *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = w->lib->multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        post *p = NULL;
        long status = 0;
        w->lib->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&p);
        w->lib->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        w->lib->multi_remove_handle(w->multi, easy);
        w->inflight--;
        unlink_post(w, p);
        bool ok = res == CURLE_OK && status >= 200 && status < 300;
        if (w->done) {
            const char *err = res != CURLE_OK ? (p && p->error[0] ? p->error : w->lib->easy_strerror(res))
                                              : ok ? "" : "HTTP error status";
            w->done(w->ud, ok, status, err);
        }
        post_free(w->lib, p);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    webhook *w = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    w->lib->multi_socket_action(w->multi, fd, flags, &running);
    check_done(w);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    webhook *w = arg;
    int running;
    w->lib->multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(w);
}

static int socket_cb(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    (void)easy;
    webhook *w = userp;
    sock_ctx *sc = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (sc) {
            event_free(sc->ev);
            free(sc);
            w->lib->multi_assign(w->multi, s, NULL);
        }
        return 0;
    }
    short kind = (short)((action & CURL_POLL_IN ? EV_READ : 0) | (action & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc) return -1;
        sc->w = w;
        w->lib->multi_assign(w->multi, s, sc);
    } else {
        event_free(sc->ev);
    }
    sc->ev = event_new(w->base, s, kind, on_socket_event, w);
    if (!sc->ev) return -1;
    event_add(sc->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    webhook *w = userp;
    if (timeout_ms < 0) {
        evtimer_del(w->timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(w->timer, &tv);
    return 0;
}

webhook *webhook_new(webhook_lib *lib, struct event_base *base, const char *url, long timeout_ms,
                     int max_inflight, webhook_done_fn done, void *ud)
{
    if (!lib || !base || !url || !*url) return NULL;
    webhook *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (lib->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(w);
        return NULL;
    }
    w->lib = lib;
    w->base = base;
    w->url = strdup(url);
    w->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    w->max_inflight = max_inflight > 0 ? max_inflight : 4;
    w->done = done;
    w->ud = ud;
    w->multi = w->lib->multi_init();
    w->timer = evtimer_new(base, on_timer, w);
    if (!w->url || !w->multi || !w->timer) { webhook_free(w); return NULL; }
    w->lib->multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    w->lib->multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    w->lib->multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    w->lib->multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    return w;
}

int webhook_inflight(const webhook *w) { return w ? w->inflight : 0; }

int webhook_post_text(webhook *w, const char *text)
{
    if (!w || w->inflight >= w->max_inflight) return -1;
    post *p = calloc(1, sizeof *p);
    if (!p) return -1;
    json_t *o = json_object();
    json_t *t = json_string(text);
    json_object_set_new(o, "text", t ? t : json_string("(alert text was not UTF-8)"));
    p->body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    p->easy = w->lib->easy_init();
    p->headers = w->lib->slist_append(NULL, "Content-Type: application/json");
    if (!p->body || !p->easy || !p->headers) { post_free(w->lib, p); return -1; }
    CURL *e = p->easy;
    w->lib->easy_setopt(e, CURLOPT_URL, w->url);
    w->lib->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    w->lib->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    w->lib->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    w->lib->easy_setopt(e, CURLOPT_TIMEOUT_MS, w->timeout_ms);
    w->lib->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms < 3000 ? w->timeout_ms : 3000L);
    w->lib->easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    w->lib->easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
    w->lib->easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(p->body));
    w->lib->easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    w->lib->easy_setopt(e, CURLOPT_ERRORBUFFER, p->error);
    w->lib->easy_setopt(e, CURLOPT_PRIVATE, p);
    w->lib->easy_setopt(e, CURLOPT_USERAGENT, "qtr-dashboard");
    if (w->lib->multi_add_handle(w->multi, e) != CURLM_OK) { post_free(w->lib, p); return -1; }
    w->inflight++;
    p->next = w->posts;
    if (w->posts) w->posts->prev = p;
    w->posts = p;
    return 0;
}

void webhook_free(webhook *w)
{
    if (!w) return;
    if (w->multi) {
        /* abandon posts still in flight: removing a handle closes its socket */
        while (w->posts) {
            post *p = w->posts;
            unlink_post(w, p);
            w->lib->multi_remove_handle(w->multi, p->easy);
            post_free(w->lib, p);
            w->lib->pinned = true;
        }
        w->lib->multi_cleanup(w->multi);
    }
    if (w->timer) event_free(w->timer);
    webhook_lib *lib = w->lib;
    free(w->url);
    free(w);
    lib->global_cleanup();
}
