/* ws_client — one WebSocket client after the upgrade: wslay's event API for
 * the framing, a bounded client_queue of events, batches of at most
 * batch_max_events or batch_max_ms, at most max_msgs_per_sec messages a
 * second, and a hard cap on unsent output (client_buffer_bytes) past which
 * the client is closed with 1008. Never blocks, never waits for a client. */
#ifndef DASH_WS_CLIENT_H
#define DASH_WS_CLIENT_H

#include "dash.h"
#include "event_blob.h"

struct bufferevent;

/* Take over bev (the 101 answer already queued on it). */
void ws_client_adopt(dash *d, struct bufferevent *bev, const char *peer);

/* Queue an event for every client that wants its type. */
void ws_clients_broadcast(dash *d, event_blob *b);

/* Unsent output bytes, all clients and the worst one. */
size_t ws_clients_queued_bytes(const dash *d, size_t *worst);

/* Close every client (1001 going away, best effort) and free them. */
void ws_clients_close_all(dash *d);

#endif
