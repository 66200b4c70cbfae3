/* api.c — see api.h. Host services are optional members of qtr_host: a
 * missing one reads as empty, never as a crash. */
#include "api.h"
#include "exits_json.h"
#include "json_encode.h"
#include "log_text.h"
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
#define LIST_CAP_EXITS 1024          /* the host's QH_EXITS_MAX_SYMBOLS: every plan */

/* The JSON written in d->json as the answer. */
static void reply_json(dash *d, http_response *res, int status)
{
    if (d->json.failed) { http_error(res, 500, "out of memory"); return; }
    res->status = status;
    res->content_type = "application/json";
    http_add_header(res, "Cache-Control: no-store\r\n");
    evbuffer_expand(res->body, d->json.len + 1);
    evbuffer_add(res->body, d->json.buf, d->json.len);
    evbuffer_add(res->body, "\n", 1);
}

static jw *json_begin(dash *d)
{
    jw_reset(&d->json);
    return &d->json;
}

#define UNUSED_ARGS (void)req; (void)body; (void)len; (void)peer

/* A host list service into a reused buffer (slot 0 or 1: two lists may be
 * needed at once) of cap items; n is 0 if the host lacks the service. NULL
 * only if out of memory. Reused, never zeroed: a big calloc per request used
 * to cost more than the answer itself. */
static void *list_buffer(dash *d, int slot, size_t bytes)
{
    if (d->list_cap[slot] < bytes) {
        void *p = realloc(d->list_buf[slot], bytes);
        if (!p) return NULL;
        d->list_buf[slot] = p;
        d->list_cap[slot] = bytes;
    }
    return d->list_buf[slot];
}

#define HOST_LIST(var, n, d, slot, member, type, cap)                              \
    type *var = list_buffer((d), (slot), (cap) * sizeof(type));                    \
    size_t n = 0;                                                                   \
    if (var && QTR_HOST_HAS((d)->h, member)) {                                      \
        qtr_list l_ = QTR_LIST_OF(var, (cap));                                      \
        n = (d)->h->member((d)->ctx, &l_);                                          \
        if (n > (cap)) n = (cap);                                                   \
    }

qtr_health_status api_worst_health(const qtr_component_health *c, size_t n)
{
    qtr_health_status worst = QTR_HEALTH_OK;
    for (size_t i = 0; i < n; i++)
        if (c[i].health.status > worst) worst = c[i].health.status > QTR_HEALTH_CRITICAL ? QTR_HEALTH_CRITICAL
                                                                                        : c[i].health.status;
    return worst;
}

static void put_json(void *ud, const char *text, size_t len) { jw_raw(ud, text, len); }

/* The host's description of its policy, {"loaded":true,...limits}, or
 * {"loaded":false}; brief: name, version and loaded_at_ms only (for
 * /api/status). */
static void write_policy(dash *d, jw *w, bool brief)
{
    if (!brief && QTR_HOST_HAS(d->h, policy_describe) && d->h->policy_describe(d->ctx, put_json, w) == QTR_OK)
        return;
    qtr_policy_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    jw_begin_object(w);
    if (QTR_HOST_HAS(d->h, policy_info) && d->h->policy_info(d->ctx, &info) == QTR_OK) {
        jw_key(w, "loaded");
        jw_bool(w, true);
        jw_key(w, "name"); JW_FIELD(w, info.name);
        jw_key(w, "version"); jw_int(w, info.version);
        jw_key(w, "loaded_at_ms"); jw_int(w, info.loaded_at_ms);
    } else {
        jw_key(w, "loaded");
        jw_bool(w, false);
    }
    jw_end_object(w);
}

/* The ESS status as an object, or null if the host has no ESS. */
static bool write_ess(dash *d, jw *w)
{
    qtr_ess_status s = QTR_SIZED(qtr_ess_status);
    if (!QTR_HOST_HAS(d->h, ess_status) || d->h->ess_status(d->ctx, &s) != QTR_OK) {
        jw_null(w);
        return false;
    }
    jw_ess_status(w, &s);
    return true;
}

/* The start-up reconciliation with the exchange (null on an older host). */
static void write_reconcile(dash *d, jw *w)
{
    qtr_reconcile_status r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    if (!QTR_HOST_HAS(d->h, reconcile_status) || d->h->reconcile_status(d->ctx, &r) != QTR_OK) {
        jw_null(w);
        return;
    }
    jw_begin_object(w);
    jw_key(w, "state"); jw_field(w, r.state, sizeof r.state);
    jw_key(w, "entries_blocked"); jw_bool(w, r.entries_blocked);
    jw_key(w, "differences"); jw_int(w, r.n_diffs);
    jw_key(w, "detail"); jw_field(w, r.detail, sizeof r.detail);
    jw_key(w, "since_ms"); jw_int(w, r.since_ms);
    jw_key(w, "ack_user"); jw_field(w, r.ack_user, sizeof r.ack_user);
    jw_key(w, "ack_reason"); jw_field(w, r.ack_reason, sizeof r.ack_reason);
    jw_key(w, "ack_ms"); jw_int(w, r.ack_ms);
    jw_end_object(w);
}

void api_status(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    jw *w = json_begin(d);
    jw_begin_object(w);
    jw_key(w, "time_ms"); jw_int(w, d->h->now_ms(d->ctx));
    jw_key(w, "host_version"); jw_string(w, d->h->host_version ? d->h->host_version : "");
    jw_key(w, "dashboard_version"); jw_string(w, DASH_VERSION);
    jw_key(w, "simulated"); jw_bool(w, d->h->is_simulated(d->ctx));
    qtr_account acct = QTR_SIZED(qtr_account);
    jw_key(w, "account");
    if (QTR_HOST_HAS(d->h, get_account) && d->h->get_account(d->ctx, &acct) == QTR_OK) jw_account(w, &acct);
    else jw_null(w);
    jw_key(w, "ess");
    write_ess(d, w);
    HOST_LIST(hc, n_health, d, 0, health_all, qtr_component_health, LIST_CAP_HEALTH)
    /* no room to read the components' health: say CRITICAL, never a quiet OK */
    jw_key(w, "health");
    jw_string(w, qtr_health_status_name(hc ? api_worst_health(hc, n_health) : QTR_HEALTH_CRITICAL));
    HOST_LIST(open, n_open, d, 0, list_open_orders, qtr_order_update, LIST_CAP_ORDERS)
    jw_key(w, "open_orders"); jw_int(w, (long long)n_open);
    HOST_LIST(pos, n_pos, d, 0, list_positions, qtr_position, LIST_CAP_POSITIONS)
    jw_key(w, "open_positions"); jw_int(w, (long long)n_pos);
    jw_key(w, "policy");
    write_policy(d, w, true);
    jw_key(w, "reconcile");
    write_reconcile(d, w);
    jw_key(w, "ws_clients"); jw_int(w, (long long)d->n_clients);
    jw_key(w, "regimes"); regimes_write(&d->regimes, w);
    /* coalescing is fine for a client that cannot keep up, as long as it shows */
    jw_key(w, "ws_events_missed"); jw_int(w, (long long)d->metrics.ws_events_dropped);
    jw_key(w, "ws_slow_disconnects"); jw_int(w, (long long)d->metrics.ws_slow_disconnects);
    jw_key(w, "listen"); jw_string(w, d->bound);
    jw_end_object(w);
    reply_json(d, res, 200);
}

/* The kept answer made from the same list bytes, if there is one. */
static bool reply_cached(dash *d, answer_cache *cache, const void *items, size_t bytes, http_response *res)
{
    size_t n;
    const char *json = answer_cache_get(cache, items, bytes, &n);
    if (!json) return false;
    jw_reset(&d->json);
    jw_raw(&d->json, json, n);
    reply_json(d, res, 200);
    return true;
}

/* {"<name>":[item...]} from a host list service; the answer is kept in cache
 * and reused while the host's list is the same, byte for byte. */
#define LIST_ANSWER(d, res, cache, name, member, type, cap, writer)                  \
    do {                                                                            \
        HOST_LIST(items_, n_, d, 0, member, type, cap)                              \
        if (!items_) { http_error(res, 500, "out of memory"); return; }             \
        if (reply_cached(d, (cache), items_, n_ * sizeof(type), res)) return;       \
        jw *w_ = json_begin(d);                                                     \
        jw_begin_object(w_);                                                        \
        jw_key(w_, name);                                                           \
        jw_begin_array(w_);                                                         \
        for (size_t i_ = 0; i_ < n_; i_++) writer(w_, &items_[i_]);                 \
        jw_end_array(w_);                                                           \
        jw_end_object(w_);                                                          \
        if (!w_->failed) answer_cache_put((cache), items_, n_ * sizeof(type), w_->buf, w_->len); \
        reply_json(d, res, 200);                                                    \
    } while (0)

void api_positions(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    LIST_ANSWER(d, res, &d->answers[DASH_ANSWER_POSITIONS], "positions", list_positions, qtr_position, LIST_CAP_POSITIONS, jw_position);
}

/* Each symbol's exit plan and what the host does with it now (ABI 2.2:
 * list_exit_plans), in the order the plans were first set. */
void api_exits(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(items, n, d, 0, list_exit_plans, qtr_exit_state, LIST_CAP_EXITS)
    if (!items) { http_error(res, 500, "out of memory"); return; }
    jw *w = json_begin(d);
    jw_begin_object(w);
    jw_key(w, "exits");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) jw_exit_state(w, &items[i]);
    jw_end_array(w);
    jw_end_object(w);
    reply_json(d, res, 200);
}

static void order_array(jw *w, const char *key, const qtr_order_update *o, size_t n)
{
    jw_key(w, key);
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) jw_order_update(w, &o[i]);
    jw_end_array(w);
}

void api_orders(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(open, n_open, d, 0, list_open_orders, qtr_order_update, LIST_CAP_ORDERS)
    HOST_LIST(recent, n_recent, d, 1, recent_orders, qtr_order_update, LIST_CAP_ORDERS)
    if (!open || !recent) { http_error(res, 500, "out of memory"); return; }
    jw *w = json_begin(d);
    jw_begin_object(w);
    order_array(w, "open", open, n_open);
    order_array(w, "recent", recent, n_recent);
    jw_end_object(w);
    reply_json(d, res, 200);
}

void api_fills(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    LIST_ANSWER(d, res, &d->answers[DASH_ANSWER_FILLS], "fills", recent_fills, qtr_fill, LIST_CAP_FILLS, jw_fill);
}

void api_equity(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(a, n, d, 0, equity_history, qtr_account, LIST_CAP_EQUITY)
    if (!a) { http_error(res, 500, "out of memory"); return; }
    jw *w = json_begin(d);
    jw_begin_object(w);
    qtr_account now = QTR_SIZED(qtr_account);
    jw_key(w, "current");
    if (QTR_HOST_HAS(d->h, get_account) && d->h->get_account(d->ctx, &now) == QTR_OK) jw_account(w, &now);
    else jw_null(w);
    jw_key(w, "history");
    jw_begin_array(w);
    for (size_t i = 0; i < n; i++) jw_account(w, &a[i]);
    jw_end_array(w);
    jw_end_object(w);
    reply_json(d, res, 200);
}

void api_signals(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    LIST_ANSWER(d, res, &d->answers[DASH_ANSWER_SIGNALS], "signals", recent_signals, qtr_signal_record, LIST_CAP_SIGNALS, jw_signal_record);
}

void api_ess(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    if (!write_ess(d, json_begin(d))) { http_error(res, 503, "ESS status unavailable"); return; }
    reply_json(d, res, 200);
}

void api_policy(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    write_policy(d, json_begin(d), false);
    reply_json(d, res, 200);
}

void api_plugins(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    LIST_ANSWER(d, res, &d->answers[DASH_ANSWER_PLUGINS], "plugins", list_plugins, qtr_plugin_info, LIST_CAP_PLUGINS, jw_plugin_info);
}

void api_health_all(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    UNUSED_ARGS;
    HOST_LIST(c, n, d, 0, health_all, qtr_component_health, LIST_CAP_HEALTH)
    if (!c) { http_error(res, 500, "out of memory"); return; }
    jw *w = json_begin(d);
    jw_begin_object(w);
    jw_key(w, "status"); jw_string(w, qtr_health_status_name(api_worst_health(c, n)));
    jw_key(w, "components");
    jw_begin_object(w);
    for (size_t i = 0; i < n; i++) {
        /* one key per component: a name reported twice shows its last report */
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++)
            later = strncmp(c[i].component, c[j].component, sizeof c[i].component) == 0;
        if (later) continue;
        qtr_health_status st = c[i].health.status > QTR_HEALTH_CRITICAL ? QTR_HEALTH_CRITICAL : c[i].health.status;
        jw_key_field(w, c[i].component, sizeof c[i].component);
        jw_begin_object(w);
        jw_key(w, "status"); jw_string(w, qtr_health_status_name(st));
        jw_key(w, "reason"); JW_FIELD(w, c[i].health.reason);
        jw_end_object(w);
    }
    jw_end_object(w);
    jw_end_object(w);
    reply_json(d, res, 200);
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
    /* the same for the log (log_text): the host gets them as sent */
    char log_reason[QTR_REASON_MAX];
    char log_user[QTR_NAME_MAX];
} action_body;

static bool has_text(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return true;
    return false;
}

/* Who asked, in the log, when the body does not say: the action's own
 * default, or that the body could not be read. */
#define LOG_USER_UNKNOWN "(unknown)"

/* Parses {"reason":…,"user":…,"force":…}; an empty body is {}. NULL, or why
 * it is not that (the 400's message). Either way out->log_user says who
 * asked as far as the body tells, for the refusal's log line too. */
static const char *parse_action(const char *body, size_t len, action_body *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "api");
    snprintf(out->log_user, sizeof out->log_user, "api");
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) i++;
    if (i == len) return NULL;
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        snprintf(out->log_user, sizeof out->log_user, LOG_USER_UNKNOWN);
        return "body must be a JSON object like {\"reason\":\"...\",\"user\":\"...\",\"force\":false}";
    }
    json_t *reason = json_object_get(root, "reason"), *user = json_object_get(root, "user"),
           *force = json_object_get(root, "force");
    /* named before the fields are checked: a refusal is logged with it (cut to fit) */
    if (user && !json_is_string(user)) snprintf(out->log_user, sizeof out->log_user, LOG_USER_UNKNOWN);
    else if (user && json_string_length(user)) log_text(out->log_user, sizeof out->log_user, json_string_value(user));
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
        return bad;
    }
    if (reason) snprintf(out->reason, sizeof out->reason, "%s", json_string_value(reason));
    if (user && json_string_length(user)) snprintf(out->user, sizeof out->user, "%s", json_string_value(user));
    out->force = force && json_is_true(force);
    json_decref(root);
    log_text(out->log_reason, sizeof out->log_reason, out->reason);
    log_text(out->log_user, sizeof out->log_user, out->user);
    return NULL;
}

/* An action refused before the host saw it (why: ours, no client text):
 * the answer, and its one log line with who asked and why. */
static void refuse_action(dash *d, http_response *res, int status, const char *action, const action_body *a,
                          const char *peer, const char *why)
{
    d->h->log(d->ctx, QTR_LOG_WARN, "%s by %s from %s refused with %d: %s", action, a->log_user, peer, status, why);
    http_error(res, status, why);
}

/* The token checked, the body parsed and a reason there if need_reason
 * (its message): false with the answer set and logged if not. */
static bool action_allowed(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                           http_response *res, const char *action, const char *need_reason, action_body *a)
{
    if (!authorized(d, req, peer, res)) return false;
    const char *bad = parse_action(body, len, a);
    if (!bad && need_reason && !has_text(a->reason)) bad = need_reason;
    if (bad) { refuse_action(d, res, 400, action, a, peer, bad); return false; }
    return true;
}

/* {"ok":true,"<what>":{…}} or, with an error, {"error":"…","<what>":{…}};
 * what is "ess" or "policy". An empty error reads as fallback. */
static void reply_outcome(dash *d, http_response *res, int status, const char *error, const char *fallback,
                          const char *what)
{
    jw *w = json_begin(d);
    jw_begin_object(w);
    if (error) {
        jw_key(w, "error");
        jw_string(w, error[0] ? error : fallback);
    } else {
        jw_key(w, "ok");
        jw_bool(w, true);
    }
    jw_key(w, what);
    if (strcmp(what, "ess") == 0) write_ess(d, w);
    else write_policy(d, w, false);
    jw_end_object(w);
    reply_json(d, res, status);
}

void api_ess_trip(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    action_body a;
    if (!action_allowed(d, req, body, len, peer, res, "ESS trip", "a trip needs a reason", &a)) return;
    if (!QTR_HOST_HAS(d->h, ess_trip)) {
        refuse_action(d, res, 501, "ESS trip", &a, peer, "this host has no ESS");
        return;
    }
    int rc = d->h->ess_trip(d->ctx, a.user, a.reason);
    if (rc != QTR_OK) {
        /* The host refuses a trip while trading is halted already (it notes
         * the new reason): say so, with the state, rather than a bare refusal. */
        char err[QTR_REASON_MAX + 64] = "";
        qtr_ess_status s = QTR_SIZED(qtr_ess_status);
        if (QTR_HOST_HAS(d->h, ess_status) && d->h->ess_status(d->ctx, &s) == QTR_OK && s.state != QTR_ESS_ARMED)
            snprintf(err, sizeof err, "already %s: %.*s", qtr_ess_state_name(s.state), (int)sizeof s.trip_reason,
                     s.trip_reason);
        else
            snprintf(err, sizeof err, "the host refused the trip (%d)", rc);
        char log_err[sizeof err];
        d->h->log(d->ctx, QTR_LOG_WARN, "ESS trip by %s from %s refused: %s", a.log_user, peer,
                  log_text(log_err, sizeof log_err, err));
        reply_outcome(d, res, 409, err, NULL, "ess");
        return;
    }
    d->h->log(d->ctx, QTR_LOG_WARN, "ESS tripped by %s from %s: %s", a.log_user, peer, a.log_reason);
    reply_outcome(d, res, 200, NULL, NULL, "ess");
}

void api_ess_reset(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res)
{
    action_body a;
    if (!action_allowed(d, req, body, len, peer, res, "ESS reset", "a reset needs a reason", &a)) return;
    if (!QTR_HOST_HAS(d->h, ess_reset)) {
        refuse_action(d, res, 501, "ESS reset", &a, peer, "this host has no ESS");
        return;
    }
    char err[256] = "";
    int rc = d->h->ess_reset(d->ctx, a.user, a.reason, a.force, err, sizeof err);
    if (rc != QTR_OK) {
        err[sizeof err - 1] = '\0';
        d->h->log(d->ctx, QTR_LOG_WARN, "ESS reset by %s from %s refused: %s", a.log_user, peer,
                  err[0] ? err : "refused");
        reply_outcome(d, res, 409, err, "the host refused the reset", "ess");
        return;
    }
    d->h->log(d->ctx, QTR_LOG_WARN, "ESS reset by %s from %s%s: %s", a.log_user, peer, a.force ? " (forced)" : "",
              a.log_reason);
    reply_outcome(d, res, 200, NULL, NULL, "ess");
}

void api_reconcile_ack(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                       http_response *res)
{
    action_body a;
    if (!action_allowed(d, req, body, len, peer, res, "reconcile ack", "an acknowledgement needs a reason", &a)) return;
    if (!QTR_HOST_HAS(d->h, reconcile_ack)) {
        refuse_action(d, res, 501, "reconcile ack", &a, peer, "this host cannot reconcile");
        return;
    }
    char err[256] = "";
    int rc = d->h->reconcile_ack(d->ctx, a.user, a.reason, err, sizeof err);
    err[sizeof err - 1] = '\0';
    jw *w = json_begin(d);
    jw_begin_object(w);
    if (rc != QTR_OK) {
        d->h->log(d->ctx, QTR_LOG_WARN, "reconcile ack by %s from %s refused: %s", a.log_user, peer, err);
        jw_key(w, "error"); jw_string(w, err[0] ? err : "the host refused the acknowledgement");
    } else {
        d->h->log(d->ctx, QTR_LOG_WARN, "reconciliation acknowledged by %s from %s: %s", a.log_user, peer,
                  a.log_reason);
        jw_key(w, "ok"); jw_bool(w, true);
    }
    jw_key(w, "reconcile");
    write_reconcile(d, w);
    jw_end_object(w);
    reply_json(d, res, rc == QTR_OK ? 200 : 409);
}

void api_policy_reload(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                       http_response *res)
{
    action_body a;
    if (!action_allowed(d, req, body, len, peer, res, "policy reload", NULL, &a)) return;
    if (!QTR_HOST_HAS(d->h, policy_reload)) {
        refuse_action(d, res, 501, "policy reload", &a, peer, "this host cannot reload policies");
        return;
    }
    char err[256] = "";
    int rc = d->h->policy_reload(d->ctx, err, sizeof err);
    if (rc != QTR_OK) {
        err[sizeof err - 1] = '\0';
        d->h->log(d->ctx, QTR_LOG_WARN, "policy reload by %s from %s failed: %s", a.log_user, peer,
                  err[0] ? err : "refused");
        reply_outcome(d, res, 409, err, "the host refused the reload", "policy");
        return;
    }
    d->h->log(d->ctx, QTR_LOG_INFO, "policy reloaded by %s from %s", a.log_user, peer);
    reply_outcome(d, res, 200, NULL, NULL, "policy");
}
