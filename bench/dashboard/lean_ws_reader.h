/* lean_ws_reader — many WebSocket clients on one thread that cost as little
 * as a reader can: server frames are parsed in place (unmasked, one frame per
 * message), with no UTF-8 check and no copy. A fan-out benchmark must measure
 * the server, not its own readers' backlog: with wslay's reader (which checks
 * every byte's UTF-8) the 100 readers took more CPU than the server. */
#ifndef LEAN_WS_READER_H
#define LEAN_WS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*lean_msg_fn)(const char *text, size_t len, void *ud);
typedef struct lean_readers lean_readers;

/* n clients connected to 127.0.0.1:port, their handshakes sent; NULL on
 * failure (message on stderr). */
lean_readers *lean_connect(int port, int n);
/* Reads what has arrived, waiting up to wait_ms; calls fn for every text
 * message. Returns false if a client broke the protocol (message on stderr). */
bool lean_poll(lean_readers *r, int wait_ms, lean_msg_fn fn, void *ud);
int lean_open(const lean_readers *r);      /* clients past their 101 */
int lean_closed(const lean_readers *r);    /* clients closed by the server */
void lean_free(lean_readers *r);

#endif
