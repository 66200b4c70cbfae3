/* bn_stream.c — see bn_stream.h. */
#include "bn_stream.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "kx_buf.h"
#include "bn_plugin.h"
#include "bn_ws.h"

static void metric(bn_stream *s, const char *name, const char *help, int64_t add)
{
    bn_plugin *p = s->p;
    qtr_metric *m = p->h->metric_counter(p->ctx, name, help, "stream", s->name);
    if (m) p->h->metric_add(m, add);
}

static void set_up_gauge(bn_stream *s, int64_t v)
{
    bn_plugin *p = s->p;
    qtr_metric *m = p->h->metric_gauge(p->ctx, "exchange_stream_up", "1 while the stream is connected", "stream", s->name);
    if (m) p->h->metric_set(m, v);
}

/* Frees a connection closed inside one of its own callbacks. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_stream *s = arg;
    bn_ws_free(s->dead);
    s->dead = NULL;
}

static void retire_ws(bn_stream *s)
{
    if (!s->ws) return;
    if (s->dead) bn_ws_free(s->dead); /* an older one: its callbacks are long over */
    s->dead = s->ws;
    s->ws = NULL;
    event_active(s->reap_ev, EV_TIMEOUT, 0);
}

static int64_t backoff_ms(bn_stream *s)
{
    const bn_config *c = &s->p->cfg;
    int n = s->failures < 20 ? s->failures : 20;
    int64_t d = c->stream_backoff_ms << n;
    if (d > c->stream_backoff_max_ms || d <= 0) d = c->stream_backoff_max_ms;
    /* jitter: half fixed, half random, so reconnects of many hosts spread */
    uint32_t x = s->p->jitter_state ? s->p->jitter_state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->p->jitter_state = x;
    return d / 2 + (int64_t)(x % (uint32_t)(d / 2 + 1));
}

void bn_stream_down(bn_stream *s, const char *why)
{
    bn_plugin *p = s->p;
    bool was_live = s->live;
    s->live = false;
    qtr_strlcpy(s->reason, why, sizeof s->reason);
    retire_ws(s);
    event_del(s->stall_ev);
    event_del(s->ping_ev);
    set_up_gauge(s, 0);
    if (s->stopped || p->stopping) return;
    s->failures++;
    int64_t d = backoff_ms(s);
    p->h->log(p->ctx, was_live ? QTR_LOG_WARN : QTR_LOG_INFO, "%s stream down: %s; polling over REST, reconnecting in %lld ms",
              s->name, why, (long long)d);
    s->ops->on_down(s, why);
    if (!evtimer_pending(s->retry_ev, NULL)) bn_timer_once(s->retry_ev, d);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_stream *s = arg;
    if (s->stopped || s->p->stopping) return;
    s->reconnects++;
    metric(s, "exchange_stream_reconnects_total", "Stream (re)connection attempts after a close", 1);
    s->ops->connect(s);
}

static void on_stall(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_stream *s = arg;
    char why[96];
    kx_fmt(why, sizeof why, "stalled (nothing for %lld ms)", (long long)s->p->cfg.stream_stall_ms);
    metric(s, "exchange_stream_stalls_total", "Streams closed because nothing arrived in time", 1);
    bn_stream_down(s, why);
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_stream *s = arg;
    bn_ws_ping(s->ws);
}

static void ws_open(void *ud)
{
    bn_stream *s = ud;
    bn_plugin *p = s->p;
    s->live = true;
    s->reason[0] = '\0';
    set_up_gauge(s, 1);
    bn_timer_once(s->stall_ev, p->cfg.stream_stall_ms);
    p->h->log(p->ctx, QTR_LOG_INFO, "%s stream connected", s->name);
    s->ops->on_live(s);
}

static void ws_activity(void *ud)
{
    bn_stream *s = ud;
    s->failures = 0; /* the server talks: the next close starts the backoff over */
    bn_timer_once(s->stall_ev, s->p->cfg.stream_stall_ms);
}

static void ws_message(void *ud, const char *text, size_t len)
{
    bn_stream *s = ud;
    s->messages++;
    s->ops->on_message(s, text, len);
}

static void ws_close(void *ud, const char *why)
{
    bn_stream_down(ud, why);
}

void bn_stream_connect(bn_stream *s, const char *url)
{
    bn_plugin *p = s->p;
    static const bn_ws_callbacks cb = {
        .on_open = ws_open, .on_message = ws_message, .on_close = ws_close, .on_activity = ws_activity,
    };
    retire_ws(s);
    char err[160];
    s->opened_us = bn_mono_us(p);
    /* A failure inside bn_ws_open calls ws_close before it returns: the
     * connection is then already closed and s->ws gets retired at once. */
    bn_ws *ws = bn_ws_open(p->base, s->dns, url, p->cfg.stream_ca_file, (size_t)p->cfg.stream_max_message,
                           p->cfg.timeout_ms, &cb, s, err, sizeof err);
    if (!ws) {
        bn_stream_down(s, err);
        return;
    }
    s->ws = ws;
    if (evtimer_pending(s->retry_ev, NULL)) retire_ws(s); /* closed while opening */
    else {
        int64_t every = p->cfg.stream_stall_ms / 3 > 0 ? p->cfg.stream_stall_ms / 3 : 1;
        struct timeval tv = { (time_t)(every / 1000), (suseconds_t)((every % 1000) * 1000) };
        evtimer_add(s->ping_ev, &tv);
    }
}

void bn_stream_malformed(bn_stream *s, const char *why)
{
    s->malformed++;
    metric(s, "exchange_stream_malformed_total", "Stream messages that could not be read (nothing applied)", 1);
    bn_count_md_error(s->p, "malformed", why);
    s->p->h->log(s->p->ctx, QTR_LOG_ERROR, "%s stream: %s", s->name, why);
}

int bn_stream_init(bn_stream *s, bn_plugin *p, const char *name, const bn_stream_ops *ops, void *ud)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->name = name;
    s->ops = ops;
    s->ud = ud;
    qtr_strlcpy(s->reason, "not started", sizeof s->reason);
    s->retry_ev = evtimer_new(p->base, on_retry, s);
    s->stall_ev = evtimer_new(p->base, on_stall, s);
    s->ping_ev = event_new(p->base, -1, EV_PERSIST, on_ping, s);
    s->reap_ev = event_new(p->base, -1, 0, on_reap, s);
    /* A host name (not an address literal) is resolved by evdns, never by
     * a blocking getaddrinfo on the loop. */
    const char *host = strstr(p->cfg.stream_url, "://");
    char host_name[256] = "";
    if (host) {
        host += 3;
        size_t n = strcspn(host, ":/");
        if (n < sizeof host_name) {
            memcpy(host_name, host, n);
            host_name[n] = '\0';
        }
    }
    unsigned char addr[16];
    if (host_name[0] && inet_pton(AF_INET, host_name, addr) != 1 && inet_pton(AF_INET6, host_name, addr) != 1) {
        s->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (!s->dns) {
            p->h->log(p->ctx, QTR_LOG_ERROR, "%s stream: no DNS resolver for %s (/etc/resolv.conf)", name, host_name);
            return -1;
        }
    }
    return s->retry_ev && s->stall_ev && s->ping_ev && s->reap_ev ? 0 : -1;
}

void bn_stream_start(bn_stream *s)
{
    s->stopped = false;
    qtr_strlcpy(s->reason, "connecting", sizeof s->reason);
    s->ops->connect(s);
}

void bn_stream_free(bn_stream *s)
{
    s->stopped = true;
    bn_ws_free(s->ws);
    bn_ws_free(s->dead);
    s->ws = s->dead = NULL;
    if (s->retry_ev) event_free(s->retry_ev);
    if (s->stall_ev) event_free(s->stall_ev);
    if (s->ping_ev) event_free(s->ping_ev);
    if (s->reap_ev) event_free(s->reap_ev);
    s->retry_ev = s->stall_ev = s->ping_ev = s->reap_ev = NULL;
    if (s->dns) evdns_base_free(s->dns, 0); /* after its connections: no lookup is pending */
    s->dns = NULL;
}
