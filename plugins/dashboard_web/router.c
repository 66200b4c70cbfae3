/* router.c — see router.h. */
#include "router.h"
#include "api.h"
#include "page_assets.h"

#include <event2/buffer.h>
#include <string.h>

static void ws_without_upgrade(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                               http_response *res)
{
    (void)d; (void)req; (void)body; (void)len; (void)peer;
    http_error(res, 426, "this is the WebSocket endpoint: send an Upgrade: websocket request");
    http_add_header(res, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
}

static const route routes[] = {
    { "/api/status", "GET", api_status },
    { "/api/positions", "GET", api_positions },
    { "/api/exits", "GET", api_exits },
    { "/api/orders", "GET", api_orders },
    { "/api/fills", "GET", api_fills },
    { "/api/equity", "GET", api_equity },
    { "/api/signals", "GET", api_signals },
    { "/api/ess", "GET", api_ess },
    { "/api/policy", "GET", api_policy },
    { "/api/plugins", "GET", api_plugins },
    { "/api/ess/trip", "POST", api_ess_trip },
    { "/api/ess/reset", "POST", api_ess_reset },
    { "/api/reconcile/ack", "POST", api_reconcile_ack },
    { "/api/policy/reload", "POST", api_policy_reload },
    { "/health/all", "GET", api_health_all },
    { "/metrics", "GET", api_metrics },
    { "/ws", "GET", ws_without_upgrade },
};

bool router_is_ws(const char *path) { return strcmp(path, "/ws") == 0; }

bool router_is_operator(const dash *d, const http_request *req)
{
    if (strcmp(req->method, "POST") == 0)
        return api_token_check(&d->token, http_header_get(req, "Authorization")) == AUTH_OK;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) return false;
    return strcmp(req->path, "/health/all") == 0 || strcmp(req->path, "/metrics") == 0;
}

static const page_asset *find_asset(const char *path)
{
    if (strcmp(path, "/index.html") == 0) path = "/";
    for (size_t i = 0; i < dash_page_asset_count; i++)
        if (strcmp(dash_page_assets[i].path, path) == 0) return &dash_page_assets[i];
    return NULL;
}

static bool method_matches(const char *allowed, const char *method)
{
    return strcmp(allowed, method) == 0 || (strcmp(allowed, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void method_not_allowed(http_response *res, const char *allowed)
{
    http_error(res, 405, "method not allowed");
    http_add_header(res, "Allow: %s\r\n", strcmp(allowed, "GET") == 0 ? "GET, HEAD" : allowed);
}

static void serve_asset(const page_asset *a, http_response *res)
{
    res->status = 200;
    res->content_type = a->content_type;
    evbuffer_add_reference(res->body, a->data, a->len, NULL, NULL);
    http_add_header(res, "Cache-Control: no-cache\r\n");
    if (strncmp(a->content_type, "text/html", 9) == 0)
        http_add_header(res, "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
                             "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                             "frame-ancestors 'none'\r\nX-Frame-Options: DENY\r\n");
}

void router_dispatch(dash *d, const http_request *req, const char *body, size_t body_len, const char *peer,
                     http_response *res)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, req->path) != 0) continue;
        if (!method_matches(routes[i].method, req->method)) { method_not_allowed(res, routes[i].method); return; }
        routes[i].fn(d, req, body, body_len, peer, res);
        return;
    }
    const page_asset *a = find_asset(req->path);
    if (a) {
        if (!method_matches("GET", req->method)) { method_not_allowed(res, "GET"); return; }
        serve_asset(a, res);
        return;
    }
    http_error(res, 404, "not found");
}
