/* mock_server — the HTTP side of the mock Binance USD-M API (libevent evhttp):
 * request parsing, signature/timestamp/key checks, rate limits, faults. */
#ifndef MOCK_SERVER_H
#define MOCK_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>

#include "mock_faults.h"
#include "mock_state.h"

typedef struct mock_server {
    struct event_base *base;
    struct evhttp *http;
    ms_state *st;
    mf_table faults;
    struct ms_delayed *delayed;
    int64_t cur_log;      /* the request being answered now, -1 if none */
    struct mock_ws *ws;   /* the WebSocket streams (mock_ws.c)          */
} mock_server;

typedef struct mock_req {
    struct evhttp_request *req;
    char method[8];
    char path[128];
    char *raw_query;      /* "" when none; as sent, not decoded */
    char *raw_body;       /* "" when none */
    struct evkeyvalq qparams, bparams;
} mock_req;

typedef struct mock_reply {
    int status;
    json_t *body;         /* owned */
    const char *raw;      /* or a raw body (HTML, broken JSON) */
    bool order_headers;   /* add X-MBX-ORDER-COUNT-* */
    int retry_after;      /* seconds: a Retry-After header when > 0 */
} mock_reply;

/* A parameter from the query string or, failing that, the body. */
const char *mr_param(mock_req *r, const char *name);
/* {"code":code,"msg":msg} with an HTTP status. */
void mr_error(mock_reply *out, int status, int code, const char *msg);

int mock_server_start(mock_server *s, struct event_base *base, int port, int *bound_port);
void mock_server_stop(mock_server *s);

/* mock_api.c: the /fapi endpoints. Returns false if the path is unknown. */
typedef struct mock_endpoint {
    const char *method, *path;
    bool is_signed;
    int weight;
    bool order;            /* counts against the order limits */
    void (*handle)(mock_server *s, mock_req *r, mock_reply *out);
} mock_endpoint;
const mock_endpoint *mock_api_find(const char *method, const char *path);
/* The weight this request costs (some endpoints cost less with a symbol). */
int mock_api_weight(const mock_endpoint *ep, mock_req *r);

/* The conditional fields of an algo order (workingType, triggerPrice or
 * callbackRate and activatePrice) from r into c; false with the exchange's
 * error in out. */
bool mock_read_conditional(mock_req *r, mock_reply *out, ms_symbol *y, const char *type, ms_order *c);

/* mock_control.c: /mock/... endpoints for tests. */
void mock_control(mock_server *s, mock_req *r, mock_reply *out);

/* Helpers for JSON answers. */
json_t *mj_dec(qtr_dec v);
json_t *mj_order(const ms_order *o);
json_t *mj_algo(const ms_order *o);
json_t *mj_trade(const ms_state *st, const ms_trade *t);

#endif
