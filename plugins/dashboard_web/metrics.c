/* metrics.c — see metrics.h. Names are qtr_dashboard_*, like the host's qtr_*. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>

void metrics_count_http(dash_metrics *m, int status)
{
    if (status >= 100 && status < METRICS_MAX_CODE) m->http_requests[status]++;
}

static void out(metrics_write_fn write, void *ud, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void out(metrics_write_fn write, void *ud, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) write(ud, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void family(metrics_write_fn w, void *ud, const char *name, const char *type, const char *help)
{
    out(w, ud, "# HELP qtr_dashboard_%s %s\n# TYPE qtr_dashboard_%s %s\n", name, help, name, type);
}

static void single(metrics_write_fn w, void *ud, const char *name, const char *type, const char *help,
                   unsigned long long v)
{
    family(w, ud, name, type, help);
    out(w, ud, "qtr_dashboard_%s %llu\n", name, v);
}

void metrics_render(const dash_metrics *m, const dash_gauges *g, metrics_write_fn w, void *ud)
{
    family(w, ud, "http_requests_total", "counter", "HTTP requests answered, by status code.");
    int any = 0;
    for (int code = 100; code < METRICS_MAX_CODE; code++)
        if (m->http_requests[code]) {
            out(w, ud, "qtr_dashboard_http_requests_total{code=\"%d\"} %llu\n", code,
                (unsigned long long)m->http_requests[code]);
            any = 1;
        }
    if (!any) out(w, ud, "qtr_dashboard_http_requests_total{code=\"200\"} 0\n");
    single(w, ud, "http_connections", "gauge", "Open HTTP connections (not yet upgraded).", g->http_connections);
    single(w, ud, "http_connections_refused_total", "counter", "Connections refused at the connection limit.",
           m->http_connections_refused);
    single(w, ud, "http_connections_evicted_total", "counter",
           "Connections without an operator's request closed to make room for a new one.", m->http_connections_evicted);
    single(w, ud, "http_request_timeouts_total", "counter", "Requests not received whole within request_timeout_ms (408).",
           m->http_request_timeouts);
    single(w, ud, "http_connection_queued_bytes_peak", "gauge",
           "Largest unsent output any one HTTP connection reached since start.", m->http_queued_bytes_peak);
    single(w, ud, "ws_clients", "gauge", "Connected WebSocket clients.", g->ws_clients);
    single(w, ud, "ws_connections_total", "counter", "WebSocket handshakes accepted.", m->ws_connections);
    single(w, ud, "ws_messages_sent_total", "counter", "WebSocket messages queued to clients.", m->ws_messages_sent);
    single(w, ud, "ws_events_sent_total", "counter", "Events sent to clients (one per client).", m->ws_events_sent);
    single(w, ud, "ws_events_dropped_total", "counter",
           "Events a slow client missed (told to it as a missed count).", m->ws_events_dropped);
    single(w, ud, "ws_slow_disconnects_total", "counter", "Clients closed for exceeding client_buffer_bytes.",
           m->ws_slow_disconnects);
    single(w, ud, "ws_protocol_closes_total", "counter", "Clients closed for bad or oversized frames.",
           m->ws_protocol_closes);
    single(w, ud, "ws_queued_bytes", "gauge", "Unsent WebSocket output, all clients.", g->ws_queued_bytes);
    single(w, ud, "ws_client_queued_bytes_max", "gauge", "Unsent WebSocket output of the worst client now.",
           g->ws_queued_bytes_max);
    single(w, ud, "ws_client_queued_bytes_peak", "gauge",
           "Largest unsent WebSocket output any one client reached since start.", m->ws_queued_bytes_peak);
    single(w, ud, "ws_client_buffer_bytes", "gauge", "The per-client cap on unsent output (client_buffer_bytes).",
           g->ws_client_buffer_bytes);
    single(w, ud, "bus_events_total", "counter", "Bus events received by the dashboard.", m->bus_events);
    single(w, ud, "alerts_sent_total", "counter", "Alerts handed to the webhook.", m->alerts_sent);
    single(w, ud, "alerts_suppressed_total", "counter", "Alerts held back by the rate limits.", m->alerts_suppressed);
    single(w, ud, "webhook_failures_total", "counter", "Webhook posts that failed or timed out.", m->webhook_failures);
    single(w, ud, "webhook_dropped_total", "counter", "Alerts dropped because too many posts were in flight.",
           m->webhook_dropped);
}
