/* mock_exchange — start binance_mock on a free loopback port, drive its
 * control endpoints and read its state (blocking libcurl: test side only). */
#ifndef MOCK_EXCHANGE_H
#define MOCK_EXCHANGE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct mock_exchange {
    pid_t pid;
    int port;
    char base_url[64];
} mock_exchange;

/* NULL if the mock did not start and print its port within 5 s. */
mock_exchange *mx_start(void);
void mx_stop(mock_exchange *mx);
/* POST a control request ("/mock/price?symbol=BTCUSDT&price=50000"); the HTTP status. */
int mx_post(mock_exchange *mx, const char *path_and_query);
/* GET any path; returns the body (free it) and the status. */
char *mx_get(mock_exchange *mx, const char *path_and_query, long *status);
/* GET /mock/state (json_decref it). */
json_t *mx_state(mock_exchange *mx);
/* GET /mock/requests (json_decref it): {"requests": [{t_us, method, path,
 * cid, status}, ...]} oldest first, t_us on the mock's monotonic clock. */
json_t *mx_request_log(mock_exchange *mx);
/* From a state: placements of a client id (accepted orders; attempts if not NULL). */
int mx_accepted(json_t *state, const char *cid, int *attempts);
/* The mock's order for cid (borrowed from state), or NULL. */
json_t *mx_order(json_t *state, const char *cid);
/* Requests the mock served for "METHOD /path". */
long mx_requests(json_t *state, const char *method_path);
long mx_counter(json_t *state, const char *name);
/* The index-th execution (userTrades row) of the order cid, borrowed; NULL if none. */
json_t *mx_trade(json_t *state, const char *cid, size_t index);

#endif
