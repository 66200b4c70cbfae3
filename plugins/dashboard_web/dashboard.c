/* dashboard.c — the dashboard_web plugin: options, lifecycle, the bus
 * subscription that feeds WebSocket clients and alerts, and health. */
#include "dash.h"
#include "event_blob.h"
#include "http_server.h"
#include "ws_client.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const qtr_option options[] = {
    { .name = "listen", .type = QTR_OPT_STRING, .default_value = "127.0.0.1:8080", .min = "1",
      .help = "host:port to serve on (loopback by default; port 0 picks one)" },
    { .name = "allowed_hosts", .type = QTR_OPT_STRING_LIST, .default_value = "", .max = "16",
      .help = "host names or addresses a request's Host may give besides loopback and listen's (DNS rebinding)" },
    { .name = "batch_max_events", .type = QTR_OPT_INT, .default_value = "10", .min = "1", .max = "1000",
      .help = "events per WebSocket message at most" },
    { .name = "batch_max_ms", .type = QTR_OPT_INT, .default_value = "100", .min = "1", .max = "60000",
      .help = "longest an event waits for its batch, ms" },
    { .name = "max_msgs_per_sec", .type = QTR_OPT_INT, .default_value = "50", .min = "1", .max = "100000",
      .help = "WebSocket messages per second per client at most" },
    { .name = "client_buffer_bytes", .type = QTR_OPT_INT, .default_value = "1048576", .min = "4096", .max = "1073741824",
      .help = "unsent output per client before it is closed (1008)" },
    { .name = "client_queue_events", .type = QTR_OPT_INT, .default_value = "1000", .min = "1", .max = "1000000",
      .help = "events waiting per client before older ones are dropped" },
    { .name = "max_ws_clients", .type = QTR_OPT_INT, .default_value = "256", .min = "1", .max = "100000",
      .help = "WebSocket clients at most" },
    { .name = "max_http_connections", .type = QTR_OPT_INT, .default_value = "256", .min = "1", .max = "100000",
      .help = "open HTTP connections at most" },
    { .name = "max_connections_per_address", .type = QTR_OPT_INT, .default_value = "32", .min = "1", .max = "100000",
      .help = "open HTTP connections from one client address at most" },
    { .name = "request_timeout_ms", .type = QTR_OPT_INT, .default_value = "10000", .min = "50", .max = "600000",
      .help = "a request's head and body must arrive whole within this, ms (408)" },
    { .name = "webhook_url", .type = QTR_OPT_STRING,
      .help = "Slack-compatible webhook for alerts; unset: no alerts" },
    { .name = "webhook_timeout_ms", .type = QTR_OPT_INT, .default_value = "5000", .min = "100", .max = "600000",
      .help = "timeout of one webhook post, ms (never retried)" },
    { .name = "alert_daily_drawdown_pct", .type = QTR_OPT_DECIMAL, .default_value = "2.5", .min = "0",
      .help = "alert when the daily drawdown reaches this percent" },
    { .name = "alert_exchange_errors_per_hour", .type = QTR_OPT_INT, .default_value = "10", .min = "0", .max = "10000",
      .help = "alert when exchange errors in an hour exceed this" },
    { .name = "alert_min_interval_s", .type = QTR_OPT_INT, .default_value = "300", .min = "0", .max = "86400",
      .help = "at most one alert of a kind per this many seconds" },
    { .name = "alert_max_per_minute", .type = QTR_OPT_INT, .default_value = "10", .min = "1", .max = "1000",
      .help = "at most this many alerts per minute overall" },
    { .name = NULL },
};

int64_t dash_now_ns(const dash *d) { return d->h->mono_ns(d->ctx); }

/* The range is declared in options[] and checked by the host before init(). */
static bool read_int(dash *d, const char *name, int64_t *out)
{
    if (d->h->config_int(d->ctx, name, out) == QTR_OK) return true;
    d->h->log(d->ctx, QTR_LOG_ERROR, "option %s: not an integer", name);
    return false;
}

static bool read_options(dash *d)
{
    dash_options *o = &d->opt;
    if (d->h->config_string(d->ctx, "listen", &o->listen) != QTR_OK || !o->listen[0]) {
        d->h->log(d->ctx, QTR_LOG_ERROR, "option listen: missing");
        return false;
    }
    /* the listen address itself is added once it is bound (http_server_start) */
    host_allow_init(&d->hosts);
    const char *const *names = NULL;
    size_t n_names = 0;
    if (d->h->config_list(d->ctx, "allowed_hosts", &names, &n_names) != QTR_OK) n_names = 0;
    for (size_t i = 0; i < n_names; i++)
        if (!host_allow_add(&d->hosts, names[i])) {
            d->h->log(d->ctx, QTR_LOG_ERROR,
                      "option allowed_hosts: '%.100s' is not a host name or address without a port", names[i]);
            return false;
        }
    if (!read_int(d, "batch_max_events", &o->batch_max_events) ||
        !read_int(d, "batch_max_ms", &o->batch_max_ms) ||
        !read_int(d, "max_msgs_per_sec", &o->max_msgs_per_sec) ||
        !read_int(d, "client_buffer_bytes", &o->client_buffer_bytes) ||
        !read_int(d, "client_queue_events", &o->client_queue_events) ||
        !read_int(d, "max_ws_clients", &o->max_ws_clients) ||
        !read_int(d, "max_http_connections", &o->max_http_connections) ||
        !read_int(d, "max_connections_per_address", &o->max_connections_per_address) ||
        !read_int(d, "request_timeout_ms", &o->request_timeout_ms) ||
        !read_int(d, "webhook_timeout_ms", &o->webhook_timeout_ms) ||
        !read_int(d, "alert_exchange_errors_per_hour", &o->alerts.exchange_errors_per_hour) ||
        !read_int(d, "alert_min_interval_s", &o->alerts.min_interval_ms) ||
        !read_int(d, "alert_max_per_minute", &o->alerts.max_per_minute))
        return false;
    o->alerts.min_interval_ms *= 1000;
    if (d->h->config_decimal(d->ctx, "alert_daily_drawdown_pct", &o->alerts.daily_drawdown_pct) != QTR_OK) {
        d->h->log(d->ctx, QTR_LOG_ERROR, "option alert_daily_drawdown_pct: not a decimal");
        return false;
    }
    const char *url = NULL;
    if (d->h->config_string(d->ctx, "webhook_url", &url) == QTR_OK && url && url[0]) {
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
            d->h->log(d->ctx, QTR_LOG_ERROR, "option webhook_url: must start with http:// or https://");
            return false;
        }
        o->webhook_url = url;
    }
    return true;
}

static void on_webhook_done(void *ud, bool ok, long status, const char *error)
{
    dash *d = ud;
    d->webhook_failing = !ok;
    if (ok) {
        d->webhook_error[0] = '\0';
        return;
    }
    d->metrics.webhook_failures++;
    /* the URL may hold a secret (Slack puts one in the path): never log it */
    snprintf(d->webhook_error, sizeof d->webhook_error, "%s (HTTP %ld)", error, status);
    d->h->log(d->ctx, QTR_LOG_WARN, "alert webhook failed: %s", d->webhook_error);
}

static void on_bus_event(void *ud, const qtr_event *ev)
{
    dash *d = ud;
    d->metrics.bus_events++;
    uint64_t id = ++d->next_event_id;
    regimes_on_event(&d->regimes, ev);
    if (d->hook && !(ev->flags & QTR_EVF_REPLAY)) {
        char text[ALERT_TEXT_MAX];
        if (alert_rules_on_event(&d->alerts, ev, d->h->mono_ns(d->ctx) / 1000000, text, sizeof text)) {
            d->h->log(d->ctx, QTR_LOG_INFO, "alert: %s", text);
            if (webhook_post_text(d->hook, text) != 0) {
                d->metrics.webhook_dropped++;
                d->h->log(d->ctx, QTR_LOG_WARN, "alert dropped: %d webhook posts already in flight",
                          webhook_inflight(d->hook));
            }
        }
    }
    if (!d->clients) return;           /* nobody watching: skip the encoding */
    event_blob *b = event_blob_new(ev, id, dash_now_ns(d));
    if (!b) {
        d->h->log(d->ctx, QTR_LOG_WARN, "could not encode a %s event", qtr_event_type_name(ev->type));
        return;
    }
    ws_clients_broadcast(d, b);
    event_blob_unref(b);
}

static void dash_free(dash *d)
{
    alert_rules_free(&d->alerts);
    webhook_lib_close(d->curl);
    if (d->ws_frame) evbuffer_free(d->ws_frame);
    jw_free(&d->json);
    free(d->list_buf[0]);
    free(d->list_buf[1]);
    for (int i = 0; i < DASH_ANSWER__COUNT; i++) answer_cache_free(&d->answers[i]);
    free(d);
}

static int dash_init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    if (!QTR_HOST_HAS(h, event_base) || !h->event_base(ctx)) {
        h->log(ctx, QTR_LOG_ERROR, "this host gives no event loop: the dashboard cannot serve");
        return -1;
    }
    dash *d = calloc(1, sizeof *d);
    if (!d) return -1;
    d->h = h;
    d->ctx = ctx;
    d->base = h->event_base(ctx);
    if (!read_options(d) || !alert_rules_init(&d->alerts, &d->opt.alerts)) {
        dash_free(d);
        return -1;
    }
    if (d->opt.webhook_url) {
        /* only now: a dashboard without alerts never maps libcurl */
        char why[256];
        d->curl = webhook_lib_open(why, sizeof why);
        if (!d->curl) {
            h->log(ctx, QTR_LOG_ERROR, "option webhook_url is set but libcurl cannot be loaded, so alerts "
                                       "could not be sent: %s (install libcurl4 or unset webhook_url)", why);
            dash_free(d);
            return -1;
        }
    }
    api_token_init(&d->token, getenv("QTR_API_TOKEN"));
    if (!d->token.configured)
        h->log(ctx, QTR_LOG_WARN, "QTR_API_TOKEN is not set: ESS trip/reset and policy reload over HTTP are disabled");
    for (int t = 1; t < QTR_EV__COUNT; t++)
        if (!h->subscribe(ctx, (qtr_event_type)t, NULL, on_bus_event, d)) {
            h->log(ctx, QTR_LOG_ERROR, "cannot subscribe to %s events", qtr_event_type_name((qtr_event_type)t));
            dash_free(d);
            return -1;
        }
    *out = d;
    return 0;
}

static int dash_start(void *state)
{
    dash *d = state;
    if (http_server_start(d) != 0) return -1;
    if (d->opt.webhook_url) {
        d->hook = webhook_new(d->curl, d->base, d->opt.webhook_url, (long)d->opt.webhook_timeout_ms, 4,
                              on_webhook_done, d);
        if (!d->hook) {
            d->h->log(d->ctx, QTR_LOG_ERROR, "cannot set up the alert webhook (libcurl)");
            http_server_stop(d);
            return -1;
        }
        d->h->log(d->ctx, QTR_LOG_INFO, "alerts go to the configured webhook");
    }
    return 0;
}

static void dash_stop(void *state)
{
    dash *d = state;
    http_server_stop(d);
    ws_clients_close_all(d);
    webhook_free(d->hook);
    d->hook = NULL;
}

static void dash_destroy(void *state)
{
    dash *d = state;
    if (!d) return;
    dash_stop(d);             /* frees the webhook before libcurl goes */
    dash_free(d);
}

static void dash_health(void *state, qtr_health *out)
{
    dash *d = state;
    char reason[256];          /* formatted whole, then cut to the field */
    if (!d->listener) {
        out->status = QTR_HEALTH_CRITICAL;
        snprintf(out->reason, sizeof out->reason, "not listening");
    } else if (d->webhook_failing) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(reason, sizeof reason, "listening on %s; alert webhook failing: %s", d->bound, d->webhook_error);
        qtr_strlcpy(out->reason, reason, sizeof out->reason);
    } else {
        out->status = QTR_HEALTH_OK;
        snprintf(reason, sizeof reason, "listening on %s; %zu ws clients", d->bound, d->n_clients);
        qtr_strlcpy(out->reason, reason, sizeof out->reason);
    }
}

static const qtr_dashboard_ops dashboard_ops = { .size = sizeof dashboard_ops };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_DASHBOARD, .name = "dashboard", .version = DASH_VERSION,
                  .description = "operator's web page, REST API, live WebSocket feed and alert webhook",
                  .options = options, .init = dash_init, .start = dash_start, .stop = dash_stop,
                  .destroy = dash_destroy, .health = dash_health, .dashboard = &dashboard_ops,
                  .needs = QTR_NEEDS_REGIME);   /* the page shows each symbol's regime */
