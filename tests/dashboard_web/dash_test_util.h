/* dash_test_util — what the dashboard tests share: the plugin loaded into a
 * real-time mock host on an ephemeral loopback port, and HTTP and WebSocket
 * clients that run on the same libevent loop (so a test drives server and
 * clients with mock_host_run_until, every wait bounded). */
#ifndef DASH_TEST_UTIL_H
#define DASH_TEST_UTIL_H

#include "mock_host.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dash_fixture {
    mock_host *m;
    mock_plugin p;
    int port;
} dash_fixture;

/* Load dashboard_web listening on 127.0.0.1:0 with the given extra options
 * (NULL-terminated name, value pairs). Returns false if it did not load. */
bool dash_start(dash_fixture *f, const char *const *options);
/* The same on a host the test made already (to put its own servers on the
 * host's loop before the plugin starts). */
bool dash_start_on(dash_fixture *f, mock_host *m, const char *const *options);
void dash_stop(dash_fixture *f);

/* ---- HTTP over the loop ------------------------------------------------- */
typedef struct http_result {
    int status;          /* 0: no answer */
    char *head;          /* status line and headers */
    char *body;
    size_t body_len;
    int n_responses;     /* complete responses seen on the connection */
} http_result;

/* Send raw bytes, read until the peer closes (or 5 s). */
bool http_raw(mock_host *m, int port, const char *raw, size_t len, http_result *out);
/* A request with Connection: close; extra_headers lines end in CRLF. */
bool http_req(mock_host *m, int port, const char *method, const char *path, const char *extra_headers,
              const char *body, http_result *out);
/* Header value from the first response (copied into buf), or NULL. */
const char *http_result_header(const http_result *r, const char *name, char *buf, size_t cap);
json_t *http_result_json(const http_result *r);
void http_result_free(http_result *r);

/* ---- WebSocket client over the loop (wslay) ------------------------------ */
typedef struct ws_tc ws_tc;
typedef void (*ws_tc_msg_fn)(ws_tc *c, const char *text, size_t len, void *ud);

struct ws_tc {
    mock_host *m;
    struct bufferevent *bev;
    void *ws;                 /* wslay_event_context_ptr */
    bool open;                /* 101 received and checked */
    bool failed;              /* handshake failed */
    int http_status;
    bool eof;                 /* TCP closed */
    bool close_received;
    uint16_t close_code;
    char accept[64];          /* Sec-WebSocket-Accept as received */
    char **msgs;              /* text messages, if keep */
    size_t n_msgs, cap_msgs;
    bool keep;
    ws_tc_msg_fn on_msg;
    void *ud;
    uint64_t bytes_in;
};

/* Connect and start the handshake with the RFC 6455 sample key. rcvbuf > 0
 * sets SO_RCVBUF first (to make a stalled client fill up fast). */
ws_tc *ws_tc_connect(mock_host *m, int port, const char *extra_headers, int rcvbuf);
/* The same with the given Host header (NULL: 127.0.0.1:port). */
ws_tc *ws_tc_connect_as(mock_host *m, int port, const char *host, const char *extra_headers, int rcvbuf);
bool ws_tc_wait_open(ws_tc *c, int64_t ms);
bool ws_tc_wait_msgs(ws_tc *c, size_t n, int64_t ms);
bool ws_tc_wait_closed(ws_tc *c, int64_t ms);
void ws_tc_send_text(ws_tc *c, const char *text);
void ws_tc_send_raw(ws_tc *c, const void *data, size_t len);
void ws_tc_pause(ws_tc *c, bool paused);
void ws_tc_free(ws_tc *c);

/* The RFC 6455 section 1.3 example key and its accept value. */
#define WS_SAMPLE_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- misc ---------------------------------------------------------------- */
int64_t test_now_ms(void);
/* One metric of f's dashboard, scraped from GET /metrics; -1 if absent or
 * the scrape failed. */
double dash_scrape(dash_fixture *f, const char *series);
/* A metric's value from a /metrics text ("name" or "name{labels}"), -1 if absent. */
double metric_value(const char *text, const char *series);

#endif
