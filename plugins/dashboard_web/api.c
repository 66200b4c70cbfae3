/* api.c — see api.h. Host services are optional members of qtr_host: a
 * missing one reads as empty, never as a crash. */
#include "api.h"
#include "json_encode.h"
#include "ws_client.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define LIST_CAP_POSITIONS 512
#define LIST_CAP_ORDERS 500
#define LIST_CAP_FILLS 500
#define LIST_CAP_SIGNALS 500
#define LIST_CAP_EQUITY 5000
#define LIST_CAP_PLUGINS 64
#define LIST_CAP_HEALTH 128

static void reply_json(http_response *res, int status, json_t *j)
{
    res->status = status;
    res->content_type = "application/json";
    http_add_header(res, "Cache-Control: no-store\r\n");
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text) { http_error(res, 500, "could not encode the answer"); return; }
    evbuffer_add(res->body, text, strlen(text));
    evbuffer_add(res->body, "\n", 1);
    free(text);
}

#define UNUSED_ARGS (void)req; (void)body; (void)len; (void)peer

/* Declares var (a heap array of cap items, NULL if out of memory) and n,
 * filled by a host list service; n is 0 if the host lacks the service. */
#define HOST_LIST(var, n, d, member, type, cap)                                     \
    type *var = calloc((cap), sizeof(type));                                        \
    size_t n = 0;                                                                   \
    if (var && QTR_HOST_HAS((d)->h, member)) {                                      \
        n = (d)->h->member((d)->ctx, var, (cap));                                   \
        if (n > (cap)) n = (cap);                                                   \
    }

/* A JSON string of text, or of fallback if text is not UTF-8. */
static json_t *json_text_or(const char *text, const char *fallback)
{
    json_t *j = text[0] ? json_string(text) : NULL;
    return j ? j : json_string(fallback);
}

qtr_health_status api_worst_health(const qtr_component_health *c, size_t n)
{
    qtr_health_status worst = QTR_HEALTH_OK;
    for (size_t i = 0; i < n; i++)
        if (c[i].health.status > worst) worst = c[i].health.status > QTR_HEALTH_CRITICAL ? QTR_HEALTH_CRITICAL
                                                                                        : c[i].health.status;
    return worst;
}

static json_t *policy_json(dash *d)
{
    qtr_policy_limits *l = calloc(1, sizeof *l);
    json_t *o;
    if (l && QTR_HOST_HAS(d->h, policy_limits) && d->h->policy_limits(d->ctx, l) == QTR_OK) {
        o = json_object();
        json_object_set_new(o, "loaded", json_true());
        json_t *limits = json_policy_limits(l);
        json_object_update(o, limits);
        json_decref(limits);
    } else {
        o = json_pack("{s:b}", "loaded", 0);
    }
    free(l);
    return o;
}

void api_status(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    json_t *o = json_object();
    json_object_set_new(o, "time_ms", json_integer(d->h->now_ms(d->ctx)));
    json_object_set_new(o, "host_version", json_string(d->h->host_version ? d->h->host_version : ""));
    json_object_set_new(o, "dashboard_version", json_string(DASH_VERSION));
    json_object_set_new(o, "simulated", json_boolean(d->h->is_simulated(d->ctx)));
    qtr_account acct;
    memset(&acct, 0, sizeof acct);
    if (QTR_HOST_HAS(d->h, get_account) && d->h->get_account(d->ctx, &acct) == QTR_OK)
        json_object_set_new(o, "account", json_account(&acct));
    else
        json_object_set_new(o, "account", json_null());
    qtr_ess_status ess;
    memset(&ess, 0, sizeof ess);
    if (QTR_HOST_HAS(d->h, ess_status) && d->h->ess_status(d->ctx, &ess) == QTR_OK)
        json_object_set_new(o, "ess", json_ess_status(&ess));
    else
        json_object_set_new(o, "ess", json_null());
    HOST_LIST(hc, n_health, d, health_all, qtr_component_health, LIST_CAP_HEALTH)
    json_object_set_new(o, "health", json_string(qtr_health_status_name(api_worst_health(hc, n_health))));
    free(hc);
    HOST_LIST(open, n_open, d, list_open_orders, qtr_order_update, LIST_CAP_ORDERS)
    json_object_set_new(o, "open_orders", json_integer((json_int_t)n_open));
    free(open);
    HOST_LIST(pos, n_pos, d, list_positions, qtr_position, LIST_CAP_POSITIONS)
    json_object_set_new(o, "open_positions", json_integer((json_int_t)n_pos));
    free(pos);
    json_t *pol = policy_json(d);
    json_t *brief = json_object();
    json_object_set(brief, "loaded", json_object_get(pol, "loaded"));
    if (json_is_true(json_object_get(pol, "loaded"))) {
        json_object_set(brief, "name", json_object_get(pol, "name"));
        json_object_set(brief, "version", json_object_get(pol, "version"));
        json_object_set(brief, "loaded_at_ms", json_object_get(pol, "loaded_at_ms"));
    }
    json_decref(pol);
    json_object_set_new(o, "policy", brief);
    json_object_set_new(o, "ws_clients", json_integer((json_int_t)d->n_clients));
    /* coalescing is fine for a client that cannot keep up, as long as it shows */
    json_object_set_new(o, "ws_events_missed", json_integer((json_int_t)d->metrics.ws_events_dropped));
    json_object_set_new(o, "ws_slow_disconnects", json_integer((json_int_t)d->metrics.ws_slow_disconnects));
    json_object_set_new(o, "listen", json_string(d->bound));
    reply_json(res, 200, o);
}

void api_positions(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(p, n, d, list_positions, qtr_position, LIST_CAP_POSITIONS)
    if (!p) { http_error(res, 500, "out of memory"); return; }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_position(&p[i]));
    free(p);
    reply_json(res, 200, json_pack("{s:o}", "positions", arr));
}

void api_orders(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(open, n_open, d, list_open_orders, qtr_order_update, LIST_CAP_ORDERS)
    HOST_LIST(recent, n_recent, d, recent_orders, qtr_order_update, LIST_CAP_ORDERS)
    if (!open || !recent) { free(open); free(recent); http_error(res, 500, "out of memory"); return; }
    json_t *a = json_array(), *b = json_array();
    for (size_t i = 0; i < n_open; i++) json_array_append_new(a, json_order_update(&open[i]));
    for (size_t i = 0; i < n_recent; i++) json_array_append_new(b, json_order_update(&recent[i]));
    free(open);
    free(recent);
    reply_json(res, 200, json_pack("{s:o,s:o}", "open", a, "recent", b));
}

void api_fills(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(f, n, d, recent_fills, qtr_fill, LIST_CAP_FILLS)
    if (!f) { http_error(res, 500, "out of memory"); return; }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_fill(&f[i]));
    free(f);
    reply_json(res, 200, json_pack("{s:o}", "fills", arr));
}

void api_equity(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(a, n, d, equity_history, qtr_account, LIST_CAP_EQUITY)
    if (!a) { http_error(res, 500, "out of memory"); return; }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_account(&a[i]));
    free(a);
    qtr_account now;
    memset(&now, 0, sizeof now);
    json_t *cur = QTR_HOST_HAS(d->h, get_account) && d->h->get_account(d->ctx, &now) == QTR_OK ? json_account(&now)
                                                                                                 : json_null();
    reply_json(res, 200, json_pack("{s:o,s:o}", "current", cur, "history", arr));
}

void api_signals(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(s, n, d, recent_signals, qtr_signal_record, LIST_CAP_SIGNALS)
    if (!s) { http_error(res, 500, "out of memory"); return; }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_signal_record(&s[i]));
    free(s);
    reply_json(res, 200, json_pack("{s:o}", "signals", arr));
}

static json_t *ess_json(dash *d)
{
    qtr_ess_status s;
    memset(&s, 0, sizeof s);
    if (!QTR_HOST_HAS(d->h, ess_status) || d->h->ess_status(d->ctx, &s) != QTR_OK) return NULL;
    return json_ess_status(&s);
}

void api_ess(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    json_t *e = ess_json(d);
    if (!e) { http_error(res, 503, "ESS status unavailable"); return; }
    reply_json(res, 200, e);
}

void api_policy(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    reply_json(res, 200, policy_json(d));
}

void api_plugins(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(p, n, d, list_plugins, qtr_plugin_info, LIST_CAP_PLUGINS)
    if (!p) { http_error(res, 500, "out of memory"); return; }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_plugin_info(&p[i]));
    free(p);
    reply_json(res, 200, json_pack("{s:o}", "plugins", arr));
}

void api_health_all(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(c, n, d, health_all, qtr_component_health, LIST_CAP_HEALTH)
    if (!c) { http_error(res, 500, "out of memory"); return; }
    json_t *comps = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *name = JSON_FIELD(c[i].component);
        json_t *entry = json_object();
        qtr_health_status st = c[i].health.status > QTR_HEALTH_CRITICAL ? QTR_HEALTH_CRITICAL : c[i].health.status;
        json_object_set_new(entry, "status", json_string(qtr_health_status_name(st)));
        json_object_set_new(entry, "reason", JSON_FIELD(c[i].health.reason));
        json_object_set_new(comps, json_string_value(name), entry);
        json_decref(name);
    }
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(qtr_health_status_name(api_worst_health(c, n))));
    json_object_set_new(o, "components", comps);
    free(c);
    reply_json(res, 200, o);
}

/* ---- /metrics ------------------------------------------------------------ */

typedef struct metrics_sink {
    struct evbuffer *out;
    bool ends_with_newline;
} metrics_sink;

static void sink_write(void *ud, const char *text, size_t n)
{
    metrics_sink *s = ud;
    if (!n) return;
    evbuffer_add(s->out, text, n);
    s->ends_with_newline = text[n - 1] == '\n';
}

void api_metrics(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    metrics_sink sink = { res->body, true };
    if (QTR_HOST_HAS(d->h, metrics_write)) d->h->metrics_write(d->ctx, sink_write, &sink);
    if (!sink.ends_with_newline) evbuffer_add(res->body, "\n", 1);
    dash_gauges g = { .ws_clients = d->n_clients, .http_connections = d->n_conns,
                      .ws_client_buffer_bytes = (size_t)d->opt.client_buffer_bytes };
    g.ws_queued_bytes = ws_clients_queued_bytes(d, &g.ws_queued_bytes_max);
    dash_metrics m = d->metrics;
    m.alerts_sent = d->alerts.sent_total;
    m.alerts_suppressed = d->alerts.suppressed_total;
    metrics_render(&m, &g, sink_write, &sink);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    http_add_header(res, "Cache-Control: no-store\r\n");
}

/* ---- mutating calls ------------------------------------------------------ */

/* The bearer-token gate. False if the answer is already set. */
static bool authorized(dash *d, const http_request *req, const char *peer, http_response *res)
{
    switch (api_token_check(&d->token, http_header_get(req, "Authorization"))) {
    case AUTH_OK:
        return true;
    case AUTH_NOT_CONFIGURED:
        d->h->log(d->ctx, QTR_LOG_WARN, "POST %s from %s refused: QTR_API_TOKEN is not set", req->path, peer);
        http_error(res, 403, "mutating API calls are disabled: set QTR_API_TOKEN in the server's environment");
        return false;
    case AUTH_MISSING:
        d->h->log(d->ctx, QTR_LOG_WARN, "POST %s from %s refused: no bearer token", req->path, peer);
        http_error(res, 401, "missing Authorization: Bearer <token>");
        http_add_header(res, "WWW-Authenticate: Bearer\r\n");
        return false;
    case AUTH_WRONG:
    default:
        d->h->log(d->ctx, QTR_LOG_WARN, "POST %s from %s refused: wrong bearer token", req->path, peer);
        http_error(res, 401, "wrong bearer token");
        http_add_header(res, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
        return false;
    }
}

typedef struct action_body {
    char reason[QTR_REASON_MAX];
    char user[QTR_NAME_MAX];
    bool force;
} action_body;

/* Parses {"reason":…,"user":…,"force":…}; an empty body is {}. False with
 * a 400 answer set if it is not that. */
static bool parse_action(const char *body, size_t len, action_body *out, http_response *res)
{
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "api");
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) i++;
    if (i == len) return true;
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        http_error(res, 400, "body must be a JSON object like {\"reason\":\"...\",\"user\":\"...\",\"force\":false}");
        return false;
    }
    json_t *reason = json_object_get(root, "reason"), *user = json_object_get(root, "user"),
           *force = json_object_get(root, "force");
    const char *bad = NULL;
    if (reason && !json_is_string(reason)) bad = "reason must be a string";
    else if (user && !json_is_string(user)) bad = "user must be a string";
    else if (force && !json_is_boolean(force)) bad = "force must be true or false";
    else if (reason && json_string_length(reason) >= sizeof out->reason) bad = "reason is too long (95 bytes at most)";
    else if (user && json_string_length(user) >= sizeof out->user) bad = "user is too long (31 bytes at most)";
    else if (reason && strlen(json_string_value(reason)) != json_string_length(reason)) bad = "reason contains NUL";
    else if (user && strlen(json_string_value(user)) != json_string_length(user)) bad = "user contains NUL";
    if (bad) {
        json_decref(root);
        http_error(res, 400, bad);
        return false;
    }
    if (reason) snprintf(out->reason, sizeof out->reason, "%s", json_string_value(reason));
    if (user && json_string_length(user)) snprintf(out->user, sizeof out->user, "%s", json_string_value(user));
    out->force = force && json_is_true(force);
    json_decref(root);
    return true;
}

static bool has_text(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return true;
    return false;
}

void api_ess_trip(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    action_body a;
    if (!authorized(d, req, peer, res) || !parse_action(body, len, &a, res)) return;
    if (!has_text(a.reason)) { http_error(res, 400, "a trip needs a reason"); return; }
    if (!QTR_HOST_HAS(d->h, ess_trip)) { http_error(res, 501, "this host has no ESS"); return; }
    int rc = d->h->ess_trip(d->ctx, a.user, a.reason);
    if (rc != QTR_OK) {
        d->h->log(d->ctx, QTR_LOG_WARN, "ESS trip by %s from %s refused by the host (%d)", a.user, peer, rc);
        http_error(res, 409, "the host refused the trip");
        return;
    }
    d->h->log(d->ctx, QTR_LOG_WARN, "ESS tripped by %s from %s: %s", a.user, peer, a.reason);
    json_t *e = ess_json(d);
    reply_json(res, 200, json_pack("{s:b,s:o}", "ok", 1, "ess", e ? e : json_null()));
}

void api_ess_reset(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    action_body a;
    if (!authorized(d, req, peer, res) || !parse_action(body, len, &a, res)) return;
    if (!has_text(a.reason)) { http_error(res, 400, "a reset needs a reason"); return; }
    if (!QTR_HOST_HAS(d->h, ess_reset)) { http_error(res, 501, "this host has no ESS"); return; }
    char err[256] = "";
    int rc = d->h->ess_reset(d->ctx, a.user, a.reason, a.force, err, sizeof err);
    if (rc != QTR_OK) {
        err[sizeof err - 1] = '\0';
        d->h->log(d->ctx, QTR_LOG_WARN, "ESS reset by %s from %s refused: %s", a.user, peer, err[0] ? err : "refused");
        json_t *o = json_object();
        json_object_set_new(o, "error", json_text_or(err, "the host refused the reset"));
        json_t *e = ess_json(d);
        json_object_set_new(o, "ess", e ? e : json_null());
        reply_json(res, 409, o);
        return;
    }
    d->h->log(d->ctx, QTR_LOG_WARN, "ESS reset by %s from %s%s: %s", a.user, peer, a.force ? " (forced)" : "", a.reason);
    json_t *e = ess_json(d);
    reply_json(res, 200, json_pack("{s:b,s:o}", "ok", 1, "ess", e ? e : json_null()));
}

void api_policy_reload(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                       http_response *res)
{
    action_body a;
    if (!authorized(d, req, peer, res) || !parse_action(body, len, &a, res)) return;
    if (!QTR_HOST_HAS(d->h, policy_reload)) { http_error(res, 501, "this host cannot reload policies"); return; }
    char err[256] = "";
    int rc = d->h->policy_reload(d->ctx, err, sizeof err);
    if (rc != QTR_OK) {
        err[sizeof err - 1] = '\0';
        d->h->log(d->ctx, QTR_LOG_WARN, "policy reload by %s from %s failed: %s", a.user, peer, err[0] ? err : "refused");
        json_t *o = json_object();
        json_object_set_new(o, "error", json_text_or(err, "the host refused the reload"));
        json_object_set_new(o, "policy", policy_json(d));
        reply_json(res, 409, o);
        return;
    }
    d->h->log(d->ctx, QTR_LOG_INFO, "policy reloaded by %s from %s", a.user, peer);
    reply_json(res, 200, json_pack("{s:b,s:o}", "ok", 1, "policy", policy_json(d)));
}
