/* mock_ws — the mock's WebSocket server (its own loopback port): the user
 * data stream (/private/ws/<listenKey> or /ws/<listenKey>) with
 * ORDER_TRADE_UPDATE events made from the mock's orders and executions,
 * and the combined market stream (/market/stream?streams=a/b or
 * /stream?streams=). Controls (POST /mock/ws?action=...) disconnect, stall,
 * reorder, expire the listenKey, refuse connections, send raw or oversized
 * frames. Frames are written by hand (a server sends them unmasked); what
 * the client sends is read for ping, pong and close only. */
#ifndef MOCK_WS_H
#define MOCK_WS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "mock_state.h"

struct event_base;
typedef struct mock_ws mock_ws;

/* tls: wss:// with this server context (NULL: plain ws://). */
struct ssl_ctx_st;
mock_ws *mock_ws_start(struct event_base *base, ms_state *st, struct ssl_ctx_st *tls);
void mock_ws_free(mock_ws *w);
int mock_ws_port(const mock_ws *w);
/* After every request: send the events of what changed. */
void mock_ws_flush(mock_ws *w);
/* listenKey endpoints: a key (new unless one is valid), keepalive, close. */
const char *mock_ws_key_new(mock_ws *w);
bool mock_ws_key_keepalive(mock_ws *w);
void mock_ws_key_close(mock_ws *w);
/* POST /mock/ws?action=...; GET /mock/ws: counters. Returns the body. */
json_t *mock_ws_control(mock_ws *w, const char *action, const char *arg, const char *kind, char *err, size_t errlen);
json_t *mock_ws_info(const mock_ws *w);
/* The market side: to every market connection subscribed to a stream
 * whose name starts with prefix ("btcusdt@kline_"), {"stream","data"}. */
void mock_ws_market(mock_ws *w, const char *prefix, json_t *data);
/* The events of the control endpoints: kline k of y, its premium, its book. */
void mock_ws_kline(mock_ws *w, const ms_symbol *y, int k);
void mock_ws_mark(mock_ws *w, const ms_symbol *y);
void mock_ws_book(mock_ws *w, const ms_symbol *y);

#endif
