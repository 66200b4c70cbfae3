/*
 * bn_rest.c — every REST call goes through the queue, one FIFO per lane
 * (bn_lane: ESS actions, then fills/queries/account, then new orders, then
 * market data). A call is signed when it leaves (so the timestamp is
 * fresh), it leaves only when every rate bucket it needs has the tokens
 * (else a libevent timer wakes the queue when they return), and a lane that
 * waits for a bucket holds back only the lower lanes needing that bucket.
 * Its answer is classified once for all callers:
 *   429  -> pause the queue (the largest Retry-After, or exponential backoff
 *           with jitter) and put the call back at the head of its lane: it
 *           was not executed. 429s of calls sent before the pause began are
 *           echoes of the same episode: they never lengthen it beyond their
 *           own Retry-After, nor count as another error;
 *   418  -> banned: stop sending, alert, health CRITICAL;
 *   -1021 -> resync the server time, then send the call again once;
 *   timeouts, dropped connections, 5xx, HTML or malformed JSON -> UNKNOWN.
 * Errors of order and account calls are "exchange_error" alerts (the ESS
 * counts them); errors of market-data calls go to health instead.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bn_codes.h"
#include "kx_buf.h"
#include "bn_jread.h"
#include "bn_json.h"
#include "bn_plugin.h"

struct bn_req {
    bn_req *next;
    bn_lane lane;
    bn_req *iprev, *inext;   /* in flight: freed at destroy if never answered */
    bn_plugin *p;
    char method[8];
    char path[96];
    char *params;
    bool is_signed, non_idempotent, resynced;
    int weight, orders, expected_code, tries_429;
    int64_t taken[BN_MAX_LIMITS];
    int64_t sent_ms, sent_us, sent_ts_ms; /* local ms, mono us, signed timestamp */
    bn_rest_cb cb;
    void *ud;
};

static void pump(bn_plugin *p);

int64_t bn_mono_us(bn_plugin *p) { return p->h->mono_ns(p->ctx) / 1000; }
int64_t bn_server_now_ms(bn_plugin *p) { return p->h->now_ms(p->ctx) + p->time_offset_ms; }

static void schedule_pump_us(bn_plugin *p, int64_t us)
{
    struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };
    evtimer_add(p->pump_ev, &tv);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    pump(arg);
}

static void req_free(bn_req *r)
{
    free(r->params);
    free(r);
}

static void push_tail(bn_plugin *p, bn_req *r)
{
    r->next = NULL;
    if (p->q_tail[r->lane]) p->q_tail[r->lane]->next = r;
    else p->q_head[r->lane] = r;
    p->q_tail[r->lane] = r;
    p->q_len++;
}

static void push_head(bn_plugin *p, bn_req *r)
{
    r->next = p->q_head[r->lane];
    p->q_head[r->lane] = r;
    if (!p->q_tail[r->lane]) p->q_tail[r->lane] = r;
    p->q_len++;
}

static bn_req *pop_lane(bn_plugin *p, bn_lane lane)
{
    bn_req *r = p->q_head[lane];
    if (!r) return NULL;
    p->q_head[lane] = r->next;
    if (!p->q_head[lane]) p->q_tail[lane] = NULL;
    p->q_len--;
    r->next = NULL;
    return r;
}

/* Any queued call, highest lane first (for draining). */
static bn_req *pop_any(bn_plugin *p)
{
    for (int l = 0; l < BN_LANES; l++) {
        bn_req *r = pop_lane(p, (bn_lane)l);
        if (r) return r;
    }
    return NULL;
}

static bn_req *req_new(bn_plugin *p, const bn_call *c, bn_rest_cb cb, void *ud)
{
    bn_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = p;
    r->lane = (unsigned)c->lane < BN_LANES ? c->lane : BN_LANE_QUERY;
    qtr_strlcpy(r->method, c->method, sizeof r->method);
    qtr_strlcpy(r->path, c->path, sizeof r->path);
    r->params = strdup(c->params ? c->params : "");
    if (!r->params) {
        free(r);
        return NULL;
    }
    r->is_signed = c->is_signed;
    r->non_idempotent = c->non_idempotent;
    r->weight = c->weight;
    r->orders = c->orders;
    r->expected_code = c->expected_code;
    r->cb = cb;
    r->ud = ud;
    return r;
}

int bn_rest_enqueue(bn_plugin *p, const bn_call *c, bn_rest_cb cb, void *ud)
{
    if (p->stopping) return QTR_EREFUSED;
    if (p->banned && bn_mono_us(p) < p->banned_until_us) return QTR_EREFUSED;
    bn_req *r = req_new(p, c, cb, ud);
    if (!r) return QTR_EREFUSED;
    push_tail(p, r);
    schedule_pump_us(p, 0);
    return QTR_OK;
}

static void deliver(bn_plugin *p, bn_req *r, bn_result *res)
{
    res->sent_ts_ms = r->sent_ts_ms;
    if (r->cb) r->cb(p, r->ud, res);
    req_free(r);
}

/* ---------------------------------------------------------------- limits */

static const char *bucket_label(const bn_limit_spec *s, char *buf, size_t len)
{
    const char *kind = s->kind == BN_LIMIT_WEIGHT ? "weight" : "orders";
    if (s->interval_ms % 60000 == 0) snprintf(buf, len, "%s_%lldm", kind, (long long)(s->interval_ms / 60000));
    else snprintf(buf, len, "%s_%llds", kind, (long long)(s->interval_ms / 1000));
    return buf;
}

void bn_rest_set_limits(bn_plugin *p, const bn_limit_spec *specs, size_t n)
{
    static const bn_limit_spec defaults[] = {
        { BN_LIMIT_WEIGHT, 60000, 2400 }, { BN_LIMIT_ORDERS, 10000, 300 }, { BN_LIMIT_ORDERS, 60000, 1200 },
    };
    if (n == 0) {
        specs = defaults;
        n = sizeof defaults / sizeof defaults[0];
    }
    int64_t now = bn_mono_us(p);
    p->n_buckets = 0;
    bool weight_overridden = false;
    for (size_t i = 0; i < n && i < BN_MAX_LIMITS; i++) {
        bn_limit_spec s = specs[i];
        if (s.kind == BN_LIMIT_WEIGHT && p->cfg.weight_limit > 0 && !weight_overridden &&
            (s.interval_ms == 60000 || i + 1 == n)) {
            s.limit = p->cfg.weight_limit;
            weight_overridden = true;
        }
        if (s.kind == BN_LIMIT_ORDERS && s.interval_ms == 10000 && p->cfg.orders_limit_10s > 0)
            s.limit = p->cfg.orders_limit_10s;
        if (s.kind == BN_LIMIT_ORDERS && s.interval_ms == 60000 && p->cfg.orders_limit_1m > 0)
            s.limit = p->cfg.orders_limit_1m;
        /* Keep a margin below the exchange's count: requests sent a window
         * apart can arrive closer together. */
        s.limit -= s.limit * p->cfg.limit_margin_pct / 100;
        if (s.limit < 1) s.limit = 1;
        p->bucket_spec[p->n_buckets] = s;
        kx_bucket_init(&p->buckets[p->n_buckets], s.limit, s.interval_ms, p->cfg.burst, now);
        char label[32];
        p->metrics.tokens[p->n_buckets] =
            p->h->metric_gauge(p->ctx, "exchange_rate_tokens", "Rate-limit tokens left in the local bucket",
                               "bucket", bucket_label(&s, label, sizeof label));
        p->n_buckets++;
    }
}

static int64_t cost_of(const bn_req *r, const bn_limit_spec *s)
{
    return s->kind == BN_LIMIT_WEIGHT ? r->weight : r->orders;
}

static void update_gauges(bn_plugin *p, int64_t now)
{
    for (size_t i = 0; i < p->n_buckets; i++)
        if (p->metrics.tokens[i])
            p->h->metric_set(p->metrics.tokens[i], (double)kx_bucket_tokens(&p->buckets[i], now));
}

/* X-MBX-USED-WEIGHT-1M: 17 and X-MBX-ORDER-COUNT-10S: 3 tighten the bucket
 * of the same kind and interval to what the server has counted. */
static void observe_headers(bn_plugin *p, const char *headers, int64_t now)
{
    static const struct { const char *prefix; bn_limit_kind kind; } names[] = {
        { "X-MBX-USED-WEIGHT-", BN_LIMIT_WEIGHT }, { "X-MBX-ORDER-COUNT-", BN_LIMIT_ORDERS },
    };
    for (const char *line = headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        for (size_t k = 0; k < 2; k++) {
            size_t pl = strlen(names[k].prefix);
            if (strncasecmp(line, names[k].prefix, pl) != 0) continue;
            char *end;
            long long num = strtoll(line + pl, &end, 10);
            char unit[2] = { *end, 0 };
            if (num <= 0 || !*end) continue;
            const char *colon = strchr(end, ':');
            if (!colon || (eol && colon > eol)) continue;
            char *vend;
            long long used = strtoll(colon + 1, &vend, 10);
            if (vend == colon + 1 || used < 0) continue;
            int64_t ms = bn_interval_ms(unit, num);
            for (size_t i = 0; i < p->n_buckets; i++)
                if (p->bucket_spec[i].kind == names[k].kind && p->bucket_spec[i].interval_ms == ms)
                    kx_bucket_observe_used(&p->buckets[i], used, now);
        }
        line = eol ? eol + 1 : NULL;
    }
}

/* ---------------------------------------------------------------- sending */

static void on_http_done(void *ud, const kx_http_response *resp);
static void on_time(bn_plugin *p, void *ud, const bn_result *r);

static void send_req(bn_plugin *p, bn_req *r)
{
    kx_buf q, url;
    kx_buf_init(&q);
    kx_buf_init(&url);
    kx_buf_puts(&q, r->params);
    bool body_params = !strcmp(r->method, "POST") || !strcmp(r->method, "PUT");
    r->sent_ms = p->h->now_ms(p->ctx);
    r->sent_us = bn_mono_us(p);
    r->sent_ts_ms = r->sent_ms + p->time_offset_ms;
    if (r->cb == on_time) p->sync_sent_ms = r->sent_ms; /* for the round-trip midpoint */
    if (r->is_signed) {
        kx_query_add_int(&q, "recvWindow", p->cfg.recv_window_ms);
        kx_query_add_int(&q, "timestamp", r->sent_ms + p->time_offset_ms);
        char sig[KX_HMAC_HEX_LEN + 1];
        if (!q.oom && kx_signer_sign(p->signer, kx_buf_str(&q), q.len, NULL, 0, sig))
            kx_query_add(&q, "signature", sig);
        else
            q.oom = true;
    }
    kx_buf_puts(&url, p->cfg.base_url);
    kx_buf_puts(&url, r->path);
    if (!body_params && q.len) {
        kx_buf_puts(&url, "?");
        kx_buf_puts(&url, kx_buf_str(&q));
    }
    const char *headers[2] = { p->key_header, "Content-Type: application/x-www-form-urlencoded" };
    kx_http_request hr = {
        .method = r->method,
        .url = kx_buf_str(&url),
        .body = body_params ? kx_buf_str(&q) : NULL,
        .headers = headers,
        .n_headers = body_params ? 2 : 1,
        .timeout_ms = p->cfg.timeout_ms,
        .fresh_connection = r->non_idempotent,
    };
    if (p->cfg.debug) {
        char red[1024];
        kx_redact_signature(body_params ? kx_buf_str(&q) : kx_buf_str(&url), red, sizeof red);
        p->h->log(p->ctx, QTR_LOG_DEBUG, "-> %s %s %s", r->method, r->path, red);
    }
    int rc = (q.oom || url.oom) ? -1 : kx_http_send(p->http, &hr, on_http_done, r);
    kx_buf_free(&q);
    kx_buf_free(&url);
    if (rc != 0) {
        for (size_t i = 0; i < p->n_buckets; i++) kx_bucket_answered(&p->buckets[i], r->taken[i]);
        bn_result res = { .kind = BN_RES_REFUSED };
        snprintf(res.msg, sizeof res.msg, "could not start the HTTP request");
        p->h->log(p->ctx, QTR_LOG_ERROR, "%s %s: %s", r->method, r->path, res.msg);
        deliver(p, r, &res);
        return;
    }
    p->inflight++;
    r->inext = p->inflight_reqs;
    r->iprev = NULL;
    if (p->inflight_reqs) p->inflight_reqs->iprev = r;
    p->inflight_reqs = r;
}

static void unlink_inflight(bn_plugin *p, bn_req *r)
{
    if (r->iprev) r->iprev->inext = r->inext;
    else if (p->inflight_reqs == r) p->inflight_reqs = r->inext;
    if (r->inext) r->inext->iprev = r->iprev;
    r->iprev = r->inext = NULL;
}

static void fail_all_queued(bn_plugin *p, const char *why)
{
    bn_req *r;
    while ((r = pop_any(p))) {
        bn_result res = { .kind = BN_RES_REFUSED, .code = BN_ERR_TOO_MANY_REQUESTS };
        qtr_strlcpy(res.msg, why, sizeof res.msg);
        deliver(p, r, &res);
    }
}

/* The lanes, highest priority first. */
static const bn_lane lane_order[BN_LANES] = { BN_LANE_ESS, BN_LANE_QUERY, BN_LANE_ORDER, BN_LANE_MARKET };

static void pump(bn_plugin *p)
{
    int64_t now = bn_mono_us(p);
    if (p->banned) {
        if (now < p->banned_until_us) {
            fail_all_queued(p, "not sent: the exchange banned this IP (HTTP 418)");
            return;
        }
        p->banned = false;
        bn_set_health(p, QTR_HEALTH_DEGRADED, "IP ban lifted; sending again");
    }
    if (p->q_len == 0) {
        update_gauges(p, now);
        return;
    }
    if (now < p->pause_until_us) { /* a 429 pause holds every lane: the limit is per IP */
        schedule_pump_us(p, p->pause_until_us - now);
        return;
    }
    /* A bucket a higher lane is waiting for is not spent by a lower one. */
    bool held[BN_MAX_LIMITS] = { false };
    int64_t wake = 0;
again:
    for (int li = 0; li < BN_LANES; li++) {
        bn_lane lane = lane_order[li];
        bn_req *r;
        while ((r = p->q_head[lane])) {
            if (r->is_signed && !p->time_synced) {
                if (!p->syncing) {
                    bn_rest_sync_time(p); /* the time request is now first in the ESS lane */
                    if (p->syncing) goto again;
                }
                break; /* woken when the time is known */
            }
            /* Market data never takes the last slot: the ESS, fills and
             * orders always find one. */
            bool last_slot = p->inflight + 1 >= p->cfg.max_inflight && p->cfg.max_inflight > 1;
            if (lane == BN_LANE_MARKET && last_slot) break;
            if (p->inflight >= p->cfg.max_inflight) return; /* woken by a completion */
            if (p->cfg.rate_limit_enabled) {
                int64_t wait = 0;
                bool behind = false;
                for (size_t i = 0; i < p->n_buckets; i++) {
                    int64_t cost = cost_of(r, &p->bucket_spec[i]);
                    if (cost <= 0) continue;
                    if (held[i]) behind = true;
                    int64_t w = kx_bucket_wait_us(&p->buckets[i], cost, now);
                    if (w > wait) wait = w;
                }
                if (wait > 0 || behind) {
                    for (size_t i = 0; i < p->n_buckets; i++)
                        if (cost_of(r, &p->bucket_spec[i]) > 0) held[i] = true;
                    if (wait > 0 && (wake == 0 || wait < wake)) wake = wait;
                    break; /* this lane waits; lower lanes may still go */
                }
                for (size_t i = 0; i < p->n_buckets; i++) {
                    int64_t cost = cost_of(r, &p->bucket_spec[i]);
                    r->taken[i] = 0;
                    if (cost > 0 && kx_bucket_take(&p->buckets[i], cost, now)) r->taken[i] = cost;
                }
            }
            pop_lane(p, lane);
            send_req(p, r);
        }
    }
    if (wake > 0) schedule_pump_us(p, wake);
    update_gauges(p, now);
}

/* ---------------------------------------------------------------- answers */

static uint32_t jitter_next(bn_plugin *p)
{
    uint32_t x = p->jitter_state ? p->jitter_state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p->jitter_state = x;
    return x;
}

static int64_t retry_after_ms(const char *headers)
{
    char v[32];
    if (!kx_http_header(headers, "Retry-After", v, sizeof v)) return 0;
    char *end;
    long long s = strtoll(v, &end, 10);
    return (end != v && s > 0) ? (int64_t)s * 1000 : 0;
}

/* Market-data calls count their errors toward health, the others toward
 * the ESS (bn_plugin.h). */
static void count_error(bn_plugin *p, const bn_req *r, const char *reason)
{
    if (r->lane == BN_LANE_MARKET) {
        char text[160];
        kx_fmt(text, sizeof text, "%s %s: %s", r->method, r->path, reason);
        bn_count_md_error(p, reason, text);
    } else {
        bn_count_error(p, reason);
    }
}

/* A 429: the call was not executed. One episode is one pause: the answers
 * of calls that left before it began (already in flight, however late they
 * come back) only make sure the pause lasts their own Retry-After from when
 * they arrive; they neither double the backoff nor count as further errors. A call sent after the pause that meets 429
 * again starts the next step: the Retry-After given, else the doubled
 * backoff with jitter. */
static void on_rate_limited(bn_plugin *p, bn_req *r, const kx_http_response *resp, int64_t now)
{
    int64_t ra = retry_after_ms(resp->headers);
    if (p->metrics.rate_limited) p->h->metric_add(p->metrics.rate_limited, 1);
    if (p->pause_set_us && r->sent_us < p->pause_set_us) {
        int64_t until = now + ra * 1000;
        if (ra && until > p->pause_until_us) p->pause_until_us = until;
        p->h->log(p->ctx, QTR_LOG_INFO, "%s %s: HTTP 429 sent before the pause; resumes in %lld ms", r->method,
                  r->path, (long long)((p->pause_until_us - now) / 1000));
        return;
    }
    int64_t delay = ra;
    if (!ra) {
        delay = p->cfg.backoff_429_ms;
        for (int i = 0; i < p->backoff_429_n && delay < p->cfg.backoff_max_ms; i++) delay *= 2;
        if (delay > p->cfg.backoff_max_ms) delay = p->cfg.backoff_max_ms;
        delay += (int64_t)(jitter_next(p) % (uint32_t)(delay / 4 + 1));
    }
    p->backoff_429_n++;
    p->pause_set_us = now;
    int64_t until = now + delay * 1000;
    if (until > p->pause_until_us) p->pause_until_us = until;
    count_error(p, r, "rate_limited");
    p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: HTTP 429 (rate limited); pausing %lld ms%s", r->method, r->path,
              (long long)((p->pause_until_us - now) / 1000), ra ? " (Retry-After)" : "");
}

static void on_banned(bn_plugin *p, const kx_http_response *resp, int64_t now)
{
    int64_t ra = retry_after_ms(resp->headers);
    int64_t until = ra ? now + ra * 1000 : INT64_MAX;
    if (p->banned && now < p->banned_until_us) {
        /* A reply already in flight when the ban began: the same ban, one
         * error and one alert; it can only lengthen it. */
        if (until > p->banned_until_us) p->banned_until_us = until;
        p->h->log(p->ctx, QTR_LOG_WARN, "HTTP 418 again during the ban");
        return;
    }
    p->banned = true;
    p->banned_until_us = until;
    bn_count_error(p, "banned");
    char text[QTR_TEXT_MAX];
    if (ra)
        snprintf(text, sizeof text, "Binance banned this IP (HTTP 418) for %lld s: no requests are sent",
                 (long long)(ra / 1000));
    else
        snprintf(text, sizeof text, "Binance banned this IP (HTTP 418): no requests are sent until restart");
    p->h->log(p->ctx, QTR_LOG_ERROR, "%s", text);
    bn_alert(p, QTR_ALERT_CRITICAL, "exchange_banned", text);
    bn_set_health(p, QTR_HEALTH_CRITICAL, "exchange IP ban (HTTP 418)");
}

/* A short printable excerpt of a bad body for the log. */
static void excerpt(const char *body, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen && i < 80; i++)
        out[o++] = (body[i] >= 32 && body[i] < 127) ? body[i] : ' ';
    out[o] = '\0';
}

static void on_http_done(void *ud, const kx_http_response *resp)
{
    bn_req *r = ud;
    bn_plugin *p = r->p;
    int64_t now = bn_mono_us(p);
    p->inflight--;
    unlink_inflight(p, r);
    for (size_t i = 0; i < p->n_buckets; i++) kx_bucket_answered(&p->buckets[i], r->taken[i]);
    memset(r->taken, 0, sizeof r->taken);
    if (resp->headers) observe_headers(p, resp->headers, now);
    if (p->cfg.debug)
        p->h->log(p->ctx, QTR_LOG_DEBUG, "<- %s %s HTTP %ld %.300s", r->method, r->path, resp->status,
                  resp->body ? resp->body : "");

    bn_result res = { .kind = BN_RES_UNKNOWN, .http_status = resp->status };
    char ex[96];
    if (resp->curl_code != 0) {
        snprintf(res.msg, sizeof res.msg, "%s", resp->timed_out ? "timeout" : resp->error);
        count_error(p, r, resp->timed_out ? "timeout" : "network");
        p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: no answer (%s)", r->method, r->path, res.msg);
    } else if (resp->status == 418) {
        on_banned(p, resp, now);
        res.kind = BN_RES_REFUSED;
        res.code = BN_ERR_TOO_MANY_REQUESTS;
        snprintf(res.msg, sizeof res.msg, "IP banned (HTTP 418)");
    } else if (resp->status == 429) {
        on_rate_limited(p, r, resp, now);
        if (r->tries_429++ < p->cfg.max_429_retries) {
            push_head(p, r); /* not executed: first in its lane again, after the pause */
            pump(p);
            return;
        }
        res.kind = BN_RES_REFUSED;
        res.code = BN_ERR_TOO_MANY_REQUESTS;
        snprintf(res.msg, sizeof res.msg, "rate limited (HTTP 429) %d times", r->tries_429);
    } else {
        /* Checked whole here (bn_jread, no allocation); callers read r->body. */
        char why[96];
        bool valid = bn_json_check(resp->body, resp->body_len, why, sizeof why) == 0;
        bool api_error = valid && bn_api_error_read(resp->body, resp->body_len, &res.code, res.msg, sizeof res.msg);
        if (!valid) {
            bool html = resp->body_len && (resp->body[0] == '<' || strstr(resp->body, "<html") != NULL);
            excerpt(resp->body, resp->body_len, ex, sizeof ex);
            snprintf(res.msg, sizeof res.msg, "HTTP %ld with %s body", resp->status,
                     html ? "an HTML" : "a malformed JSON");
            count_error(p, r, html ? "html" : "malformed_json");
            p->h->log(p->ctx, QTR_LOG_ERROR, "%s %s: %s: '%s'", r->method, r->path, res.msg, ex);
        } else if (api_error) {
            if (res.code == BN_ERR_TIMESTAMP && r->is_signed && !r->resynced) {
                count_error(p, r, "timestamp");
                p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: -1021 %s; resyncing the server time and retrying once",
                          r->method, r->path, res.msg);
                r->resynced = true;
                r->next = p->resync_waiters;
                p->resync_waiters = r;
                bn_rest_sync_time(p);
                pump(p);
                return;
            }
            if (resp->status >= 500) {
                res.kind = BN_RES_UNKNOWN;
                count_error(p, r, "http_5xx");
                p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: HTTP %ld code %d %s", r->method, r->path, resp->status,
                          res.code, res.msg);
            } else {
                res.kind = BN_RES_API_ERROR;
                if (res.code != r->expected_code) {
                    count_error(p, r, "api_error");
                    p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: HTTP %ld code %d %s", r->method, r->path,
                              resp->status, res.code, res.msg);
                }
            }
        } else if (resp->status >= 200 && resp->status < 300) {
            res.kind = BN_RES_OK;
            res.body = resp->body;
            res.body_len = resp->body_len;
            if (r->sent_us >= p->pause_set_us) p->backoff_429_n = 0; /* the episode is over */
            if (r->lane == BN_LANE_MARKET) bn_md_ok(p);
        } else {
            count_error(p, r, resp->status >= 500 ? "http_5xx" : "http_status");
            snprintf(res.msg, sizeof res.msg, "HTTP %ld", resp->status);
            p->h->log(p->ctx, QTR_LOG_WARN, "%s %s: unexpected HTTP %ld", r->method, r->path, resp->status);
        }
    }
    deliver(p, r, &res);
    pump(p);
}

/* ---------------------------------------------------------------- time */

static void on_sync_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_rest_sync_time(arg);
}

static void on_time(bn_plugin *p, void *ud, const bn_result *r)
{
    (void)ud;
    p->syncing = false;
    int64_t server = 0;
    char err[128] = "";
    bn_jfield f[] = { BN_JFIELD("serverTime") };
    bool ok = r->kind == BN_RES_OK && bn_jread_object(r->body, r->body_len, f, 1, err, sizeof err) == 0 &&
              bn_jget_int(&f[0].val, "serverTime", &server, err, sizeof err);
    if (ok) {
        int64_t now = p->h->now_ms(p->ctx);
        int64_t sent = p->sync_sent_ms ? p->sync_sent_ms : now;
        p->time_offset_ms = server - (sent + now) / 2;
        p->time_synced = true;
        p->h->log(p->ctx, QTR_LOG_INFO, "server time offset %lld ms", (long long)p->time_offset_ms);
    } else {
        if (r->kind == BN_RES_OK) bn_count_error(p, "malformed_json");
        p->h->log(p->ctx, QTR_LOG_ERROR, "GET /fapi/v1/time failed: %s", err[0] ? err : r->msg);
    }
    /* Calls that met -1021 go again (at the head, in order) or fail with it. */
    bn_req *w = p->resync_waiters, *rev = NULL;
    p->resync_waiters = NULL;
    while (w) {
        bn_req *n = w->next;
        w->next = rev;
        rev = w;
        w = n;
    }
    /* rev is oldest-first; push_head in reverse keeps that order */
    bn_req *stack[256];
    size_t ns = 0;
    for (w = rev; w;) {
        bn_req *n = w->next;
        if (ok && ns < 256) stack[ns++] = w;
        else {
            bn_result res = { .kind = BN_RES_API_ERROR, .code = BN_ERR_TIMESTAMP };
            snprintf(res.msg, sizeof res.msg, "Timestamp for this request is outside of the recvWindow.");
            deliver(p, w, &res);
        }
        w = n;
    }
    while (ns) push_head(p, stack[--ns]);
    if (!ok && !p->time_synced && !p->stopping) bn_timer_once(p->sync_ev, p->cfg.backoff_ms[0]);
    schedule_pump_us(p, 0);
}

void bn_rest_sync_time(bn_plugin *p)
{
    if (p->syncing || p->stopping) return;
    bn_call c = { .lane = BN_LANE_ESS, .method = "GET", .path = "/fapi/v1/time", .weight = 1 };
    bn_req *r = req_new(p, &c, on_time, NULL);
    if (!r) return;
    p->syncing = true;
    push_head(p, r);
    schedule_pump_us(p, 0);
}

int bn_rest_init(bn_plugin *p)
{
    p->http = kx_http_new(kx_curl_linked(), p->base);
    p->pump_ev = evtimer_new(p->base, on_pump, p);
    p->sync_ev = evtimer_new(p->base, on_sync_retry, p);
    if (!p->http || !p->pump_ev || !p->sync_ev) return -1;
    p->jitter_state = p->cfg.jitter_seed ? p->cfg.jitter_seed : 0x2545f491u;
    p->metrics.rate_limited =
        p->h->metric_counter(p->ctx, "rate_limited_total", "HTTP 429 answers from the exchange", NULL, NULL);
    bn_rest_set_limits(p, NULL, 0);
    return 0;
}

void bn_rest_free(bn_plugin *p)
{
    bn_req *r;
    while ((r = pop_any(p))) req_free(r);
    while ((r = p->resync_waiters)) {
        p->resync_waiters = r->next;
        req_free(r);
    }
    kx_http_free(p->http); /* drops transfers without their callbacks */
    p->http = NULL;
    while ((r = p->inflight_reqs)) {
        p->inflight_reqs = r->inext;
        req_free(r);
    }
    if (p->pump_ev) event_free(p->pump_ev);
    if (p->sync_ev) event_free(p->sync_ev);
    p->pump_ev = p->sync_ev = NULL;
}
