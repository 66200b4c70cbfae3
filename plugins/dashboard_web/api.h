/* api — the REST endpoints of the product surface (GET /api/..., POST
 * /api/ess/trip|reset, /api/policy/reload, /health/all, /metrics). */
#ifndef DASH_API_H
#define DASH_API_H

#include "router.h"

void api_status(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_positions(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_exits(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_orders(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_fills(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_equity(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_signals(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_ess(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_policy(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_plugins(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_ess_trip(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_ess_reset(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_reconcile_ack(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                       http_response *res);
void api_policy_reload(dash *d, const http_request *req, const char *body, size_t len, const char *peer,
                       http_response *res);
void api_health_all(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);
void api_metrics(dash *d, const http_request *req, const char *body, size_t len, const char *peer, http_response *res);

/* Worst of the statuses ("OK" < "DEGRADED" < "CRITICAL"). */
qtr_health_status api_worst_health(const qtr_component_health *c, size_t n);

#endif
