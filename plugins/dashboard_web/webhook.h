/* webhook — Slack-compatible {"text": …} POSTs with libcurl's multi interface
 * driven by the host's libevent loop: nothing ever blocks the loop. Each post
 * has a hard timeout and is never retried; past max_inflight posts new ones
 * are dropped (and counted), so a dead endpoint cannot pile up work.
 *
 * The transport is the exchange kit's (plugins/kit_exchange: kx_http).
 * libcurl is not linked: webhook_lib_open() dlopens libcurl.so.4 only when a
 * webhook is configured, so a dashboard without alerts never maps libcurl
 * and the TLS, Kerberos, LDAP, … libraries it pulls in. */
#ifndef DASH_WEBHOOK_H
#define DASH_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct webhook webhook;
typedef struct webhook_lib webhook_lib;

#define WEBHOOK_LIBCURL_SONAME "libcurl.so.4"

/* Loads libcurl and the functions the webhook uses. NULL on failure, with
 * one line of explanation in err. */
webhook_lib *webhook_lib_open(char *err, size_t cap);
/* Unloads it again: after every webhook_free of webhooks made with it. */
void webhook_lib_close(webhook_lib *lib);

typedef void (*webhook_done_fn)(void *ud, bool ok, long http_status, const char *error);

webhook *webhook_new(webhook_lib *lib, struct event_base *base, const char *url, long timeout_ms,
                     int max_inflight, webhook_done_fn done, void *ud);
/* Abandons posts still in flight. */
void webhook_free(webhook *w);

/* Queue a post of {"text": text}. Returns 0, or -1 if dropped (too many in
 * flight or out of memory). */
int webhook_post_text(webhook *w, const char *text);
int webhook_inflight(const webhook *w);

#endif
