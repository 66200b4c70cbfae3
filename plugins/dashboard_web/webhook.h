/* webhook — Slack-compatible {"text": …} POSTs with libcurl's multi interface
 * driven by the host's libevent loop: nothing ever blocks the loop. Each post
 * has a hard timeout and is never retried; past max_inflight posts new ones
 * are dropped (and counted), so a dead endpoint cannot pile up work. */
#ifndef DASH_WEBHOOK_H
#define DASH_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct webhook webhook;

typedef void (*webhook_done_fn)(void *ud, bool ok, long http_status, const char *error);

webhook *webhook_new(struct event_base *base, const char *url, long timeout_ms, int max_inflight,
                     webhook_done_fn done, void *ud);
void webhook_free(webhook *w);

/* Queue a post of {"text": text}. Returns 0, or -1 if dropped (too many in
 * flight or out of memory). */
int webhook_post_text(webhook *w, const char *text);
int webhook_inflight(const webhook *w);

#endif
