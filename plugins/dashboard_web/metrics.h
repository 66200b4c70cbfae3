/* metrics — the dashboard's own counters and their Prometheus text form
 * (appended after the host's metrics on GET /metrics). */
#ifndef DASH_METRICS_H
#define DASH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_CODE 600

typedef struct dash_metrics {
    uint64_t http_requests[METRICS_MAX_CODE];   /* by status code           */
    uint64_t http_connections_refused;
    uint64_t http_connections_evicted;          /* gave their slot to a new connection */
    uint64_t http_request_timeouts;             /* 408: request not whole in time */
    uint64_t ws_connections;
    uint64_t ws_messages_sent;
    uint64_t ws_events_sent;
    uint64_t ws_events_dropped;                 /* missed by slow clients   */
    uint64_t ws_slow_disconnects;
    uint64_t ws_protocol_closes;                /* 1002/1003/1009 from us   */
    uint64_t bus_events;
    uint64_t alerts_sent;
    uint64_t alerts_suppressed;
    uint64_t webhook_failures;
    uint64_t webhook_dropped;
    size_t ws_queued_bytes_peak;                /* largest unsent output of one client */
    size_t http_queued_bytes_peak;              /* largest unsent output of one HTTP connection */
} dash_metrics;

/* What is measured at scrape time. */
typedef struct dash_gauges {
    size_t ws_clients;
    size_t ws_queued_bytes;                     /* unsent output, all clients */
    size_t ws_queued_bytes_max;                 /* unsent output, worst client now */
    size_t http_connections;
    size_t ws_client_buffer_bytes;              /* the cap, for comparison     */
} dash_gauges;

typedef void (*metrics_write_fn)(void *ud, const char *text, size_t len);

void metrics_count_http(dash_metrics *m, int status);
void metrics_render(const dash_metrics *m, const dash_gauges *g, metrics_write_fn write, void *ud);

#endif
