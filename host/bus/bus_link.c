/* bus_link.c — see bus_link.h. */
#include "bus/bus_link.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus_key.h"
#include "bus/redis_conn.h"
#include "bus/redis_consumer.h"
#include "bus/redis_mirror.h"
#include "core/log.h"
#include "engine/engine_internal.h"

#define LOGC "bus"

struct qh_bus_link {
    qh_engine *e;
    qh_mirror *mirror;
    qh_consumer *consumer;       /* signals, in the role's shared group */
    qh_consumer *data;           /* everything else, in a group of this host's own */
    qh_bus_sub *subs[64];
    size_t n_subs;
    bool esc_tripped;
};

static void on_local_event(void *ud, const qtr_event *ev)
{
    qh_bus_link *l = ud;
    if (ev->flags & QTR_EVF_REPLAY) return;   /* rebuilt from the store at start: already sent once */
    qh_mirror_publish(l->mirror, ev, NULL);    /* refusals are counted and alarmed by the mirror */
}

static void on_full(void *ud, const char *why)
{
    qh_bus_link *l = ud;
    qh_engine *e = l->e;
    qh_publish_alert(e, QTR_ALERT_CRITICAL, "bus", "bus_buffer_full",
                     "bus disk buffer full: events refused until Redis returns (%.80s)", why);
    if (e->cfg->bus.role == QH_ROLE_EXECUTION && !l->esc_tripped) {
        l->esc_tripped = true;
        qh_ess_trip_host(e->ess, "bus disk buffer full: fills and order updates cannot reach Redis",
                         qh_clock_now_ms(e->clock));
    }
}

static int64_t engine_now(void *ud) { return qh_clock_now_ms(((qh_engine *)ud)->clock); }

/* An event from another host: a signal takes the same entry as a local one;
 * the rest is published here as if it were local. */
static int on_remote(void *ud, const qh_busev *be)
{
    qh_engine *e = ud;
    if (be->ev.type == QTR_EV_SIGNAL) {
        if (e->cfg->bus.role == QH_ROLE_STRATEGY || e->cfg->bus.role == QH_ROLE_OBSERVER) return 0;   /* not ours to act on */
        qtr_signal s = be->ev.u.signal;
        char origin[QTR_NAME_MAX];
        qtr_strlcpy(origin, s.strategy[0] ? s.strategy : be->host_id, sizeof origin);
        /* the order's reason tells which signal it came from: " [strat-1#42]"
         * at its end (the strategy's text shortened to make room) */
        char tag[64];
        int tl = snprintf(tag, sizeof tag, " [%s#%" PRIu64 "]", be->host_id, be->seq);
        size_t keep = sizeof s.reason - 1 - (size_t)tl;
        if (strlen(s.reason) > keep) s.reason[keep] = '\0';
        qtr_strlcpy(s.reason + strlen(s.reason), tag, sizeof s.reason - strlen(s.reason));
        /* queued or refused with its reason (the pipeline records which,
         * and logs a refusal as invalid with where it came from): either
         * way handled, so it is acknowledged */
        qh_signal_source from = { .host = be->host_id, .seq = be->seq, .stream = be->stream, .entry = be->entry };
        qh_pipeline_submit_remote_signal(e, origin, &s, &from);
        return 0;
    }
    qtr_event ev = be->ev;
    int rc = qh_bus_publish(e->bus, &ev);
    return rc == QTR_OK ? 0 : -1;
}

static size_t count_kind(const qh_config *cfg, qtr_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_plugins; i++) n += cfg->plugins[i].kind == kind;
    return n;
}

/* A role without its plugins is refused at start (exit 2). */
static int check_role(const qh_config *cfg, char *err, size_t errlen)
{
    const qh_bus_config *b = &cfg->bus;
    const char *role = qh_bus_role_name(b->role);
    if (b->role == QH_ROLE_STRATEGY && count_kind(cfg, QTR_KIND_STRATEGY) == 0) {
        snprintf(err, errlen, "%s: role = \"strategy\" needs at least one strategy plugin", cfg->path);
        return 2;
    }
    if (b->role == QH_ROLE_EXECUTION && !(b->consume & (UINT64_C(1) << QTR_EV_SIGNAL))) {
        snprintf(err, errlen, "%s: role = \"execution\" needs bus.consume to include \"signal\"", cfg->path);
        return 2;
    }
    if (b->role == QH_ROLE_OBSERVER && count_kind(cfg, QTR_KIND_DASHBOARD) == 0) {
        snprintf(err, errlen, "%s: role = \"observer\" needs a dashboard plugin", cfg->path);
        return 2;
    }
    if (b->role == QH_ROLE_OBSERVER && count_kind(cfg, QTR_KIND_STRATEGY) > 0) {
        snprintf(err, errlen, "%s: role = \"observer\" runs no strategy plugin (it is a read-only replica)", cfg->path);
        return 2;
    }
    (void)role;
    return 0;
}

int qh_bus_link_check_exchange(const qh_config *cfg, bool backtest, char *err, size_t errlen)
{
    const qh_bus_config *b = &cfg->bus;
    size_t n = count_kind(cfg, QTR_KIND_EXCHANGE);
    bool bus = b->enabled && !backtest;
    const char *role = qh_bus_role_name(b->role);
    if (!bus || b->role == QH_ROLE_ALL) {
        if (n == 1) return 0;
        snprintf(err, errlen, "%s: plugins: exactly one exchange plugin is needed, %zu configured", cfg->path, n);
        return 2;
    }
    if (b->role == QH_ROLE_EXECUTION && n != 1) {
        snprintf(err, errlen, "%s: plugins: role = \"execution\" needs exactly one exchange plugin, %zu configured",
                 cfg->path, n);
        return 2;
    }
    /* a read-only replica: an exchange could only receive the emergency
     * closes of an ESS that watches another host's positions */
    if (b->role == QH_ROLE_OBSERVER && n > 0) {
        snprintf(err, errlen, "%s: plugins: role = \"observer\" sends no orders and takes no exchange plugin", cfg->path);
        return 2;
    }
    if (b->role == QH_ROLE_STRATEGY && n > 1) {
        snprintf(err, errlen, "%s: plugins: role = \"strategy\" takes at most one exchange plugin, %zu configured",
                 cfg->path, n);
        return 2;
    }
    /* without an exchange, "exchange" market data can only be the candles
     * the execution host mirrors */
    if (n == 0 && cfg->market.source == QH_MARKET_EXCHANGE && !(b->consume & (UINT64_C(1) << QTR_EV_CANDLE))) {
        snprintf(err, errlen,
                 "%s: bus.consume: role = \"%s\" without an exchange plugin and market.source = \"exchange\" "
                 "takes its candles from Redis: add \"candle\"",
                 cfg->path, role);
        return 2;
    }
    return 0;
}

void qh_bus_link_paths(const qh_config *cfg, char *out, size_t cap, char *seq, size_t seqcap)
{
    snprintf(seq, seqcap, "%.500s/bus.seq", cfg->state_dir);
    const char *p = cfg->bus.buffer.path;
    static const char tag[] = "<state_dir>";
    if (!*p) snprintf(out, cap, "%.400s/bus.buf", cfg->state_dir);
    else if (strncmp(p, tag, sizeof tag - 1) == 0) snprintf(out, cap, "%.300s%.200s", cfg->state_dir, p + sizeof tag - 1);
    else qh_config_resolve(cfg, p, out, cap);
}

int qh_bus_link_open(qh_engine *e, char *err, size_t errlen)
{
    const qh_config *cfg = e->cfg;
    if (!cfg->bus.enabled || e->backtest || !e->base) return 0;
    int rc = check_role(cfg, err, errlen);
    if (rc) return rc;
    char ip[64], why[200];
    if (qh_redis_resolve(cfg->bus.redis.host, ip, sizeof ip, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: bus.redis.url: %s", cfg->path, why);
        return 2;
    }
    /* the key first: the mirror and the consumers open it again, each its own */
    qc_hmac *key = NULL, *accept = NULL;
    if (qh_bus_keys_open(&cfg->bus, &key, &accept, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", cfg->path, why);
        return 2;
    }
    qc_hmac_free(accept);
    if (!key && cfg->bus.consume)
        qh_warn(LOGC, "bus entries are not signed: anyone who can write to Redis can write what this host takes "
                      "from it; set bus.key_env on every host (docs/bus.md, \"Signed entries\")");
    qc_hmac_free(key);
    qh_bus_link *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "bus: out of memory"); return 2; }
    l->e = e;
    char buf[600], seq[600];
    qh_bus_link_paths(cfg, buf, sizeof buf, seq, sizeof seq);
    qh_mirror_opts mo = { .base = e->base, .cfg = &cfg->bus, .redis_ip = ip, .buffer_path = buf, .seq_path = seq,
                          .metrics = e->metrics, .on_full = on_full, .ud = l,
                          /* signal to order: no batching delay (flush_ms is for the rest) */
                          .urgent_types = UINT64_C(1) << QTR_EV_SIGNAL };
    l->mirror = qh_mirror_new(&mo, err, errlen);
    if (!l->mirror) {
        /* the buffer's own errors start with its path: say which key made it */
        size_t n = strlen(buf);
        if (strncmp(err, buf, n) == 0 && err[n] == ':') {
            char text[1024];
            qtr_strlcpy(text, err, sizeof text);
            snprintf(err, errlen, "%s: bus.buffer.path: %s", cfg->path, text);
        }
        free(l);
        return 2;
    }
    for (int t = 1; t < QTR_EV__COUNT && t < 64 && l->n_subs < 64; t++) {
        if (!(cfg->bus.mirror & (UINT64_C(1) << t))) continue;
        /* a strategy host's signals go out through qh_bus_link_signal_out */
        if (t == QTR_EV_SIGNAL && cfg->bus.role == QH_ROLE_STRATEGY) continue;
        l->subs[l->n_subs++] = qh_bus_subscribe(e->bus, (qtr_event_type)t, NULL, on_local_event, l, l);
    }
    uint64_t sig = UINT64_C(1) << QTR_EV_SIGNAL, rest = cfg->bus.consume & ~sig;
    qh_consumer_opts co = { .base = e->base, .cfg = &cfg->bus, .redis_ip = ip, .handler = on_remote, .ud = e,
                            .now_ms = engine_now, .max_age_ms = cfg->signals.max_age_ms, .metrics = e->metrics };
    if (cfg->bus.consume & sig) {
        co.types = sig;
        if (!(l->consumer = qh_consumer_new(&co, err, errlen))) goto fail;
    }
    if (rest) {
        /* each host needs every candle: a group of its own, not the role's */
        co.types = rest;
        co.group = cfg->bus.host_id;
        if (!(l->data = qh_consumer_new(&co, err, errlen))) goto fail;
    }
    e->bus_link = l;
    qh_info(LOGC, "host %s, role %s: redis %s:%d (%s), prefix %s, group %s", cfg->bus.host_id,
            qh_bus_role_name(cfg->bus.role), ip, cfg->bus.redis.port, cfg->bus.redis.host, cfg->bus.redis.stream_prefix,
            cfg->bus.group);
    return 0;
fail:
    qh_consumer_free(l->consumer);
    qh_bus_unsubscribe_owner(e->bus, l);
    qh_mirror_free(l->mirror);
    free(l);
    return 2;
}

void qh_bus_link_close(qh_engine *e)
{
    qh_bus_link *l = e->bus_link;
    if (!l) return;
    e->bus_link = NULL;
    qh_bus_unsubscribe_owner(e->bus, l);
    qh_consumer_free(l->consumer);
    qh_consumer_free(l->data);
    qh_mirror_free(l->mirror);   /* what Redis has not acknowledged stays in the disk buffer */
    free(l);
}

bool qh_bus_link_signal_out(qh_engine *e, const char *origin, const qtr_signal *in, int *rc)
{
    qh_bus_link *l = e->bus_link;
    if (!l || e->cfg->bus.role != QH_ROLE_STRATEGY) return false;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = qh_clock_now_ms(e->clock);
    ev.u.signal = *in;
    ev.u.signal.time_ms = ev.time_ms;
    qtr_strlcpy(ev.u.signal.strategy, origin, sizeof ev.u.signal.strategy);
    qh_metric_add(e->m.signals_in, 1);
    *rc = qh_mirror_publish(l->mirror, &ev, NULL);
    if (*rc != QTR_OK)
        qh_warn(LOGC, "signal of %s on %s refused: %s", origin, ev.u.signal.symbol,
                *rc == QTR_EFULL ? "Redis unreachable and the disk buffer full" : "cannot be sent to Redis");
    else
        qh_bus_publish(e->bus, &ev);   /* the dashboard of this host sees it too */
    return true;
}

/* how long bus_redis stays DEGRADED after the consumer refused an entry */
#define REFUSED_DEGRADED_MS (10 * 60 * 1000)

void qh_bus_link_health(qh_engine *e, qtr_component_health *out, size_t cap, size_t *n)
{
    qh_bus_link *l = e->bus_link;
    if (!l || *n >= cap) return;
    qtr_component_health *c = &out[(*n)++];
    memset(c, 0, sizeof *c);
    qtr_strlcpy(c->component, "bus_redis", sizeof c->component);
    qh_mirror_health(l->mirror, &c->health);
    qh_consumer *cons[2] = { l->consumer, l->data };
    for (int i = 0; i < 2; i++) {
        if (!cons[i]) continue;
        qh_consumer_stats cs;
        qh_consumer_stats_get(cons[i], &cs);
        char tail[64];
        snprintf(tail, sizeof tail, "; %s pending %" PRId64, i == 0 ? "signals" : "data", cs.pending);
        size_t len = strlen(c->health.reason);
        qtr_strlcpy(c->health.reason + len, tail, sizeof c->health.reason - len);
        if (!cs.connected && c->health.status == QTR_HEALTH_OK) {
            c->health.status = QTR_HEALTH_DEGRADED;
            snprintf(c->health.reason, sizeof c->health.reason, "consumer not connected: %.70s", cs.last_error);
        }
        /* forged, misrouted or unremembered entries are an operator's
         * business for a while after the last one */
        if (cs.last_refused_ms > 0 && qh_clock_now_ms(e->clock) - cs.last_refused_ms < REFUSED_DEGRADED_MS &&
            c->health.status == QTR_HEALTH_OK) {
            c->health.status = QTR_HEALTH_DEGRADED;
            /* the reason's 96 bytes take the start of the last refusal; the log has it whole */
            int head = snprintf(c->health.reason, sizeof c->health.reason, "%" PRIu64 " entries refused, the last: ",
                                cs.refused);
            if (head > 0 && (size_t)head < sizeof c->health.reason)
                qtr_strlcpy(c->health.reason + head, cs.last_refusal, sizeof c->health.reason - (size_t)head);
        }
    }
}
