/*
 * A small HTTP client for the command-line tools that talk to a running
 * server's REST API (qtr check, qtr ess), on libevent's evhttp (already in
 * the binary; libcurl would map a dozen more libraries into the server).
 * Plain http:// only: the dashboard serves HTTP, normally on loopback.
 * Blocking is fine here: these run in their own process, never on the
 * server's loop. Several requests run in parallel on one event loop.
 */
#ifndef QH_HTTP_CLIENT_H
#define QH_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define QH_HTTP_URL_MAX 1024
/* room for the base URL: the longest API path a command adds fits in the rest */
#define QH_HTTP_BASE_MAX (QH_HTTP_URL_MAX - 64)

typedef struct qh_http_req {
    /* in */
    char url[QH_HTTP_URL_MAX];
    const char *method;        /* "GET" (default) or "POST" */
    const char *body;          /* JSON, for POST */
    const char *bearer;        /* Authorization: Bearer …, or NULL */
    long timeout_ms;
    /* out */
    long status;               /* 0: no answer (see error) */
    char error[256];
    char *response;            /* NUL-terminated, malloc'd; free with qh_http_free */
    size_t response_len;
    int64_t elapsed_ms;
} qh_http_req;

/* What one answer may hold, head and body together: the API's answers are
 * a few KB, and a listener that streams for ever must not fill this host's
 * memory. The head alone gets QH_HTTP_MAX_HEAD of it. */
#define QH_HTTP_MAX_RESPONSE (4u << 20)
#define QH_HTTP_MAX_HEAD (64u << 10)

/* Run every request at once and wait for all (each bounded by its timeout). */
void qh_http_run(qh_http_req *reqs, size_t n);
void qh_http_free(qh_http_req *r);

/* The server's base URL: --url, else $QTR_URL, else http://127.0.0.1:8080,
 * into buf without its trailing slashes, so that base + "/api/..." asks for
 * one path (the server answers 404 to "//api/..."). Only http://host[:port]
 * with an optional "/" is taken: 0, or -1 with one line printed naming the
 * command (bad input, exit 2). */
int qh_http_base_url(const char *flag, const char *command, char *buf, size_t cap);

#endif
