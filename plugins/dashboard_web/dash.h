/* dash — the dashboard plugin's state, shared by its parts: the HTTP server
 * (http_server.c), the REST API (api.c), the WebSocket clients (ws_client.c)
 * and the plugin glue (dashboard.c). Everything runs on the host's loop. */
#ifndef DASH_DASH_H
#define DASH_DASH_H

#include <qtr/plugin.h>

#include "alert_rules.h"
#include "answer_cache.h"
#include "auth.h"
#include "host_allow.h"
#include "json_encode.h"
#include "metrics.h"
#include "regimes.h"
#include "webhook.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DASH_VERSION "1.0.0"
#define DASH_MAX_HEADER_BYTES 8192
#define DASH_MAX_BODY_BYTES 65536
#define DASH_HTTP_IDLE_S 30
#define DASH_WS_MAX_RECV 4096          /* a client has nothing big to say */

/* The list answers kept by answer_cache (api.c). */
enum { DASH_ANSWER_POSITIONS, DASH_ANSWER_FILLS, DASH_ANSWER_SIGNALS, DASH_ANSWER_PLUGINS, DASH_ANSWER__COUNT };

typedef struct dash_options {
    const char *listen;
    int64_t batch_max_events;
    int64_t batch_max_ms;
    int64_t max_msgs_per_sec;
    int64_t client_buffer_bytes;
    int64_t client_queue_events;
    int64_t max_ws_clients;
    int64_t max_http_connections;
    int64_t max_connections_per_address;
    int64_t request_timeout_ms;        /* a whole request (head and body) by then */
    const char *webhook_url;            /* NULL: alerts off */
    int64_t webhook_timeout_ms;
    alert_config alerts;
} dash_options;

struct http_conn;
struct ws_client;
struct evconnlistener;
struct event_base;
struct evbuffer;

typedef struct dash {
    const qtr_host *h;
    qtr_ctx *ctx;
    struct event_base *base;
    dash_options opt;
    api_token token;

    struct evconnlistener *listener;
    char bound[80];                    /* "127.0.0.1:43123" once listening */
    host_allow hosts;                  /* the names a request's Host may give */

    struct http_conn *conns;
    size_t n_conns;
    struct ws_client *clients;
    size_t n_clients;
    struct evbuffer *ws_frame;         /* the WebSocket message being assembled, reused */
    jw json;                           /* the API answer being written, reused */
    void *list_buf[2];                 /* host lists for the API, reused (api.c) */
    size_t list_cap[2];
    answer_cache answers[DASH_ANSWER__COUNT];   /* the last list answers, reused while the list is the same */

    uint64_t next_event_id;
    regimes regimes;                   /* the latest REGIME of each symbol (regimes.h) */
    dash_metrics metrics;
    alert_rules alerts;
    webhook_lib *curl;                 /* libcurl, loaded only with a webhook_url */
    webhook *hook;
    bool webhook_failing;
    char webhook_error[128];
} dash;

int64_t dash_now_ns(const dash *d);

#endif
