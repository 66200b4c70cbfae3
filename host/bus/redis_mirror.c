/* redis_mirror.c — see redis_mirror.h. */
#include "bus/redis_mirror.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "bus/bus_key.h"
#include "bus/disk_buffer.h"
#include "bus/event_codec.h"
#include "bus/event_seq.h"
#include "bus/mirror_script.h"
#include "bus/redis_conn.h"
#include "core/clock.h"
#include "core/log.h"

#define WINDOW 4         /* data batches in flight on the connection */
#define FIFO_CAP 16      /* WINDOW + the AUTH/SELECT preamble, with room */
#define RING_BATCHES 8   /* the memory queue holds this many batches */

typedef struct slot {
    uint32_t len;
    int64_t queued_ms;
    unsigned char data[QH_BUSEV_MAX];
} slot;

typedef enum bkind { B_CONTROL = 0, B_MEM, B_DISK } bkind;
typedef struct batch {
    bkind kind;
    size_t n;            /* events (0 for control, or a memory batch spilled to disk) */
    uint64_t end_off;    /* disk: ack up to here */
    int64_t sent_ns;
} batch;

struct qh_mirror {
    qh_mirror_opts o;
    const qh_bus_config *cfg;
    char ip[64];
    char password[256];
    qc_hmac *key;                /* bus.key_env's: envelopes signed; NULL: unsigned */
    bool reply_too_large;        /* set by the connection (redis_conn.h) */
    struct event_base *base;
    redisAsyncContext *ac;
    bool connected;
    int64_t connect_started_ns;
    unsigned attempt, rng;
    struct event *ev_reconnect, *ev_flush, *ev_watch, *ev_sync;
    bool flush_armed, reconnect_armed;
    bool flush_now;              /* ev_flush is armed to fire at the end of this loop turn */
    qh_seq *seq;
    qh_dbuf *dbuf;
    bool outage;                 /* since a lost connection, until the buffer is replayed */
    int64_t outage_since_ms;
    slot *ring;
    size_t ring_cap, r_head, r_count, r_sent;
    batch fifo[FIFO_CAP];
    size_t f_head, f_n, data_inflight;
    /* one batch's command */
    const char **argv;
    size_t *argvlen;
    char (*seqtxt)[24];
    unsigned char *scratch;      /* disk records of one batch */
    const unsigned char **env;   /* one batch's envelopes and their lengths */
    size_t *lens;
    size_t batch_max;
    char keys[QTR_EV__COUNT][96];
    char seqhash[96], maxlen_txt[24], numkeys_txt[16];
    bool full;                   /* refused an event for lack of room, until the buffer drains */
    bool full_reported;
    qh_mirror_stats st;
    struct {
        qh_metric *mirrored, *buffered, *replayed, *dropped, *connected, *depth, *rtt, *lag;
    } m;
};

static int64_t now_ms(void) { return qh_wall_ms(); }

static void set_error(qh_mirror *m, const char *why)
{
    qtr_strlcpy(m->st.last_error, why ? why : "", sizeof m->st.last_error);
}

static void count(qh_metric *metric, int64_t n)
{
    if (metric && n) qh_metric_add(metric, n);
}

/* ---- the disk side ---- */

static int to_disk(qh_mirror *m, const void *data, size_t len)
{
    char err[256] = "";
    /* the ESS's state and alerts may use the buffer's reserve: a full
     * buffer trips the ESS and alerts, and the other hosts must learn it */
    qtr_event_type type = qh_busev_peek_type(data, len);
    bool urgent = type == QTR_EV_ESS_STATE || type == QTR_EV_ALERT;
    int rc = qh_dbuf_append(m->dbuf, data, len, urgent, err, sizeof err);
    if (rc == QTR_OK) {
        m->st.buffered++;
        count(m->m.buffered, 1);
        return QTR_OK;
    }
    m->st.dropped++;
    count(m->m.dropped, 1);
    set_error(m, err);
    if (rc == QTR_EFULL) {
        m->full = true;
        if (!m->full_reported) {
            m->full_reported = true;
            qh_error("bus", "disk buffer full (%zu events): events are refused until Redis takes them",
                     qh_dbuf_capacity(m->dbuf));
            if (m->o.on_full) m->o.on_full(m->o.ud, err);
        }
    } else {
        qh_error("bus", "%s", err);
    }
    return rc;
}

/* Everything in the memory queue (in flight or not) goes to the disk buffer,
 * in order; memory batches still in flight are acknowledged by no one (a
 * second write of them adds nothing: the script skips what a stream holds). */
static void spill_ring(qh_mirror *m)
{
    for (size_t i = 0; i < m->r_count; i++) {
        slot *s = &m->ring[(m->r_head + i) % m->ring_cap];
        to_disk(m, s->data, s->len);
    }
    m->r_head = m->r_count = m->r_sent = 0;
    for (size_t i = 0; i < m->f_n; i++) {
        batch *b = &m->fifo[(m->f_head + i) % FIFO_CAP];
        if (b->kind == B_MEM) b->n = 0;
    }
}

/* ---- sending ---- */

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

static bool fifo_push(qh_mirror *m, bkind kind, size_t n, uint64_t end_off)
{
    if (m->f_n == FIFO_CAP) return false;
    batch *b = &m->fifo[(m->f_head + m->f_n) % FIFO_CAP];
    b->kind = kind;
    b->n = n;
    b->end_off = end_off;
    b->sent_ns = qh_mono_ns();
    m->f_n++;
    if (kind != B_CONTROL) m->data_inflight++;
    return true;
}

/* One EVAL for n envelopes. */
static bool send_batch(qh_mirror *m, const unsigned char *const *env, const size_t *lens, size_t n)
{
    size_t a = 0;
    m->argv[a] = "EVAL"; m->argvlen[a++] = 4;
    m->argv[a] = qh_mirror_script; m->argvlen[a++] = qh_mirror_script_len;
    snprintf(m->numkeys_txt, sizeof m->numkeys_txt, "%zu", n + 1);
    m->argv[a] = m->numkeys_txt; m->argvlen[a++] = strlen(m->numkeys_txt);
    m->argv[a] = m->seqhash; m->argvlen[a++] = strlen(m->seqhash);
    for (size_t j = 0; j < n; j++) {
        unsigned type = (unsigned)(env[j][2] | env[j][3] << 8);
        const char *key = m->keys[type < QTR_EV__COUNT ? type : 0];
        m->argv[a] = key; m->argvlen[a++] = strlen(key);
    }
    m->argv[a] = m->maxlen_txt; m->argvlen[a++] = strlen(m->maxlen_txt);
    m->argv[a] = m->cfg->host_id; m->argvlen[a++] = strlen(m->cfg->host_id);
    for (size_t j = 0; j < n; j++) {
        uint64_t seq = 0;
        for (int i = 7; i >= 0; i--) seq = seq << 8 | env[j][8 + i];
        int k = snprintf(m->seqtxt[j], sizeof m->seqtxt[j], "%" PRIu64, seq);
        m->argv[a] = m->seqtxt[j]; m->argvlen[a++] = (size_t)k;
        m->argv[a] = (const char *)env[j]; m->argvlen[a++] = lens[j];
    }
    if (redisAsyncCommandArgv(m->ac, on_reply, m, (int)a, m->argv, m->argvlen) != REDIS_OK) {
        set_error(m, m->ac->errstr[0] ? m->ac->errstr : "cannot queue a command");
        return false;
    }
    m->st.batches++;
    return true;
}

static void send_disk_batch(qh_mirror *m)
{
    const unsigned char **env = m->env;
    size_t *lens = m->lens;
    size_t n = 0;
    uint64_t end = 0;
    char err[256] = "";
    while (n < m->batch_max) {
        const void *data;
        size_t len;
        int r = qh_dbuf_next(m->dbuf, &data, &len, &end, err, sizeof err);
        if (r == 0) break;
        if (r < 0) {
            set_error(m, err);
            qh_error("bus", "%s", err);
            break;
        }
        unsigned char *dst = m->scratch + n * QH_BUSEV_MAX;
        memcpy(dst, data, len);
        env[n] = dst;
        lens[n] = len;
        n++;
    }
    if (n == 0) return;
    if (send_batch(m, env, lens, n)) fifo_push(m, B_DISK, n, end);
    else qh_dbuf_rewind(m->dbuf);
}

static void send_mem_batch(qh_mirror *m, size_t n)
{
    const unsigned char **env = m->env;
    size_t *lens = m->lens;
    for (size_t j = 0; j < n; j++) {
        slot *s = &m->ring[(m->r_head + m->r_sent + j) % m->ring_cap];
        env[j] = s->data;
        lens[j] = s->len;
    }
    if (!send_batch(m, env, lens, n)) return;
    fifo_push(m, B_MEM, n, 0);
    m->r_sent += n;
}

/* Sends what may go: the disk buffer first (in order, before anything new),
 * then full memory batches, or any remainder when force. */
static void pump(qh_mirror *m, bool force)
{
    while (m->connected && m->ac && m->data_inflight < WINDOW && m->f_n < FIFO_CAP) {
        if (qh_dbuf_unsent(m->dbuf) > 0) {
            size_t before = qh_dbuf_unsent(m->dbuf);
            send_disk_batch(m);
            if (qh_dbuf_unsent(m->dbuf) == before) break;
            continue;
        }
        if (qh_dbuf_count(m->dbuf) > 0) break;   /* the replay's acks first */
        size_t waiting = m->r_count - m->r_sent;
        if (waiting == 0 || (waiting < m->batch_max && !force)) break;
        send_mem_batch(m, waiting < m->batch_max ? waiting : m->batch_max);
        if (m->r_count - m->r_sent == waiting) break;
    }
}

/* ---- the connection ---- */

static void schedule_reconnect(qh_mirror *m)
{
    if (m->reconnect_armed) return;
    int64_t ms = qh_redis_backoff_ms(m->attempt++, &m->rng);
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    evtimer_add(m->ev_reconnect, &tv);
    m->reconnect_armed = true;
}

/* The connection is gone (or given up on): everything not acknowledged goes
 * to the disk buffer, to be replayed from its head after a reconnect. */
static void lost(qh_mirror *m, const char *why, bool free_it)
{
    if (!m->ac) return;
    redisAsyncContext *ac = m->ac;
    m->ac = NULL;
    bool was = m->connected;
    m->connected = false;
    if (m->m.connected) qh_metric_set(m->m.connected, 0);
    set_error(m, why);
    if (was || !m->outage) qh_warn("bus", "redis %s:%d: %s; events go to the disk buffer", m->ip, m->cfg->redis.port, why);
    m->f_head = m->f_n = m->data_inflight = 0;
    spill_ring(m);
    qh_dbuf_rewind(m->dbuf);
    if (!m->outage) {
        m->outage = true;
        m->outage_since_ms = now_ms();
    }
    if (free_it) redisAsyncFree(ac);
    schedule_reconnect(m);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    qh_mirror *m = cac->data;
    if (!m || cac != m->ac) return;
    if (status != REDIS_OK) {
        lost(m, cac->errstr[0] ? cac->errstr : "connect failed", false);
        return;
    }
    /* A socket is not a server: a frozen Redis still completes the TCP
     * handshake. Ready once PING (after AUTH/SELECT) is answered. */
    int n = qh_redis_preamble(m->ac, m->password, m->cfg->redis.db, on_reply, m);
    for (int i = 0; i < n; i++) fifo_push(m, B_CONTROL, 0, 0);
    const char *argv[] = { "PING" };
    size_t len[] = { 4 };
    if (redisAsyncCommandArgv(m->ac, on_reply, m, 1, argv, len) == REDIS_OK) fifo_push(m, B_CONTROL, 0, 1);
}

/* PING answered: the server is there. */
static void ready(qh_mirror *m)
{
    m->connected = true;
    m->attempt = 0;
    if (m->m.connected) qh_metric_set(m->m.connected, 1);
    if (m->st.reconnects++ > 0 || m->outage)
        qh_info("bus", "redis %s:%d: connected; replaying %zu buffered events", m->ip, m->cfg->redis.port,
                qh_dbuf_count(m->dbuf));
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    (void)status;
    qh_mirror *m = cac->data;
    if (!m || cac != m->ac) return;
    bool too_large = m->reply_too_large;
    m->reply_too_large = false;
    lost(m, too_large ? QH_REDIS_TOO_LARGE : cac->errstr[0] ? cac->errstr : "connection closed", false);
}

static void start_connect(qh_mirror *m)
{
    char err[256];
    m->ac = qh_redis_open(m->base, m->ip, m->cfg->redis.port, m, on_connect, on_disconnect, &m->reply_too_large, err,
                          sizeof err);
    if (!m->ac) {
        set_error(m, err);
        if (!m->outage) {
            m->outage = true;
            m->outage_since_ms = now_ms();
            spill_ring(m);
        }
        schedule_reconnect(m);
        return;
    }
    m->connect_started_ns = qh_mono_ns();
}

static void on_reconnect_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_mirror *m = ud;
    m->reconnect_armed = false;
    if (!m->ac) start_connect(m);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_mirror *m = privdata;
    redisReply *reply = r;
    if (ac != m->ac || !reply || m->f_n == 0) return;   /* a lost connection's leftovers */
    batch b = m->fifo[m->f_head];
    m->f_head = (m->f_head + 1) % FIFO_CAP;
    m->f_n--;
    if (b.kind != B_CONTROL) m->data_inflight--;
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[200];
        snprintf(why, sizeof why, "%s refused: %.160s", b.kind == B_CONTROL ? "AUTH/SELECT" : "EVAL", reply->str);
        lost(m, why, true);
        return;
    }
    if (b.kind == B_CONTROL && b.end_off == 1) ready(m);
    m->st.rtt_ms = (double)(qh_mono_ns() - b.sent_ns) / 1e6;
    if (m->m.rtt) qh_metric_set(m->m.rtt, m->st.rtt_ms);
    uint64_t added = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 ? (uint64_t)reply->integer : 0;
    if (b.kind == B_MEM && b.n > 0) {
        m->r_head = (m->r_head + b.n) % m->ring_cap;
        m->r_count -= b.n;
        m->r_sent -= b.n;
    } else if (b.kind == B_DISK) {
        char err[256] = "";
        if (qh_dbuf_ack(m->dbuf, b.end_off, err, sizeof err) != QTR_OK) {
            set_error(m, err);
            qh_error("bus", "%s", err);
        }
        m->st.replayed += b.n;
        count(m->m.replayed, (int64_t)b.n);
    }
    m->st.mirrored += added;
    count(m->m.mirrored, (int64_t)added);
    if (b.n > added) m->st.already_there += b.n - added;
    if (m->outage && qh_dbuf_count(m->dbuf) == 0) {
        m->outage = false;
        m->full = m->full_reported = false;
        qh_info("bus", "redis %s:%d: the disk buffer is replayed; mirroring directly again", m->ip, m->cfg->redis.port);
    }
    pump(m, true);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_mirror *m = ud;
    m->flush_armed = m->flush_now = false;
    pump(m, true);
}

static void on_watch_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_mirror *m = ud;
    int64_t limit_ns = m->o.reply_timeout_ms * 1000000;
    int64_t now = qh_mono_ns();
    if (m->ac && !m->connected && now - m->connect_started_ns > limit_ns) lost(m, "connect timed out", true);
    else if (m->ac && m->f_n > 0 && now - m->fifo[m->f_head].sent_ns > limit_ns) {
        char why[64];
        snprintf(why, sizeof why, "no reply for %" PRId64 " ms", m->o.reply_timeout_ms);
        lost(m, why, true);
    }
    if (m->m.depth) qh_metric_set(m->m.depth, (double)qh_dbuf_count(m->dbuf));
    if (m->m.lag) {
        qh_mirror_stats s;
        qh_mirror_stats_get(m, &s);
        qh_metric_set(m->m.lag, (double)s.lag_ms);
    }
}

static void on_sync_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_mirror *m = ud;
    char err[256];
    if (qh_dbuf_sync(m->dbuf, err, sizeof err) != QTR_OK) {
        set_error(m, err);
        qh_error("bus", "%s", err);
    }
}

/* ---- the public side ---- */

int qh_mirror_publish(qh_mirror *m, const qtr_event *ev, uint64_t *seq_out)
{
    if (!qh_busev_type_name(ev->type)) return QTR_EINVAL;
    char err[256] = "";
    uint64_t seq = qh_seq_next(m->seq, err, sizeof err);
    if (seq == 0) {
        set_error(m, err);
        qh_error("bus", "%s", err);
        return QTR_EIO;
    }
    if (seq_out) *seq_out = seq;
    m->st.last_seq = seq;
    bool disk = m->outage || qh_dbuf_count(m->dbuf) > 0;
    if (!disk && m->r_count == m->ring_cap) {
        spill_ring(m);   /* Redis is slower than the events: the buffer keeps them, in order */
        disk = true;
    }
    if (disk) {
        unsigned char buf[QH_BUSEV_MAX];
        size_t n = qh_busev_encode(m->cfg->host_id, seq, ev, m->key, buf, sizeof buf);
        return n ? to_disk(m, buf, n) : QTR_EINVAL;
    }
    slot *s = &m->ring[(m->r_head + m->r_count) % m->ring_cap];
    s->len = (uint32_t)qh_busev_encode(m->cfg->host_id, seq, ev, m->key, s->data, sizeof s->data);
    if (!s->len) return QTR_EINVAL;
    s->queued_ms = now_ms();
    m->r_count++;
    bool urgent = (unsigned)ev->type < 64 && (m->o.urgent_types & (UINT64_C(1) << ev->type));
    if (m->r_count - m->r_sent >= m->batch_max) pump(m, false);
    else if (!m->flush_armed || (urgent && !m->flush_now)) {
        /* an urgent event goes when the loop turn ends, with everything
         * queued before it (in order) and whatever that turn adds */
        int64_t ms = urgent ? 0 : m->cfg->redis.flush_ms;
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
        evtimer_add(m->ev_flush, &tv);
        m->flush_armed = true;
        m->flush_now = ms == 0;
    }
    return QTR_OK;
}

void qh_mirror_flush(qh_mirror *m) { pump(m, true); }

void qh_mirror_stats_get(const qh_mirror *m, qh_mirror_stats *out)
{
    *out = m->st;
    out->connected = m->connected;
    out->buffer_depth = qh_dbuf_count(m->dbuf);
    out->buffer_capacity = qh_dbuf_capacity(m->dbuf);
    out->in_memory = m->r_count;
    int64_t now = now_ms();
    if (m->outage) out->lag_ms = now - m->outage_since_ms;
    else if (m->r_count) out->lag_ms = now - m->ring[m->r_head].queued_ms;
    else out->lag_ms = 0;
}

void qh_mirror_health(const qh_mirror *m, qtr_health *out)
{
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    memset(out, 0, sizeof *out);
    if (m->full) {
        out->status = QTR_HEALTH_CRITICAL;
        snprintf(out->reason, sizeof out->reason, "disk buffer full (%zu events): %" PRIu64 " refused", s.buffer_capacity,
                 s.dropped);
    } else if (!s.connected) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(out->reason, sizeof out->reason, "redis unreachable: %zu buffered; %.50s", s.buffer_depth, s.last_error);
    } else if (s.buffer_depth > 0) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(out->reason, sizeof out->reason, "replaying: %zu buffered", s.buffer_depth);
    } else {
        out->status = QTR_HEALTH_OK;
        snprintf(out->reason, sizeof out->reason, "connected; lag %" PRId64 " ms, rtt %.2f ms", s.lag_ms, s.rtt_ms);
    }
}

qh_mirror *qh_mirror_new(const qh_mirror_opts *o, char *err, size_t errlen)
{
    qh_mirror *m = calloc(1, sizeof *m);
    if (!m) { snprintf(err, errlen, "bus: out of memory"); return NULL; }
    m->o = *o;
    if (m->o.reply_timeout_ms <= 0) m->o.reply_timeout_ms = 2000;
    m->cfg = o->cfg;
    m->base = o->base;
    qtr_strlcpy(m->ip, o->redis_ip, sizeof m->ip);
    const char *pw = o->cfg->redis.password_env[0] ? getenv(o->cfg->redis.password_env) : NULL;
    if (pw) qtr_strlcpy(m->password, pw, sizeof m->password);
    if (qh_bus_key_open(o->cfg, &m->key, err, errlen) != 0) {
        qh_mirror_free(m);
        return NULL;
    }
    m->rng = (unsigned)(qh_mono_ns() ^ (int64_t)getpid());
    m->batch_max = (size_t)o->cfg->redis.batch_max;
    m->ring_cap = m->batch_max * RING_BATCHES;
    m->ring = calloc(m->ring_cap, sizeof *m->ring);
    size_t argc = 6 + 3 * m->batch_max;
    m->argv = calloc(argc, sizeof *m->argv);
    m->argvlen = calloc(argc, sizeof *m->argvlen);
    m->seqtxt = calloc(m->batch_max, sizeof *m->seqtxt);
    m->scratch = malloc(m->batch_max * QH_BUSEV_MAX);
    m->env = calloc(m->batch_max, sizeof *m->env);
    m->lens = calloc(m->batch_max, sizeof *m->lens);
    if (!m->env || !m->lens || !m->ring || !m->argv || !m->argvlen || !m->seqtxt || !m->scratch) {
        snprintf(err, errlen, "bus: out of memory");
        qh_mirror_free(m);
        return NULL;
    }
    for (int t = 0; t < QTR_EV__COUNT; t++) {
        const char *name = qh_busev_type_name((qtr_event_type)t);
        snprintf(m->keys[t], sizeof m->keys[t], "%s:%s", o->cfg->redis.stream_prefix, name ? name : "unknown");
    }
    snprintf(m->seqhash, sizeof m->seqhash, "%s:_seq", o->cfg->redis.stream_prefix);
    snprintf(m->maxlen_txt, sizeof m->maxlen_txt, "%" PRId64, o->cfg->redis.maxlen);
    m->seq = qh_seq_open(o->seq_path, 0, err, errlen);
    if (!m->seq) { qh_mirror_free(m); return NULL; }
    m->dbuf = qh_dbuf_open(o->buffer_path, (size_t)o->cfg->buffer.max_events, err, errlen);
    if (!m->dbuf) { qh_mirror_free(m); return NULL; }
    if (qh_dbuf_count(m->dbuf) > 0) {
        qh_info("bus", "%s: %zu events from an earlier run wait to be replayed", o->buffer_path, qh_dbuf_count(m->dbuf));
        m->outage = true;
        m->outage_since_ms = now_ms();
    }
    if (o->metrics) {
        qh_metrics *mt = o->metrics;
        m->m.mirrored = qh_metrics_counter(mt, "bus_events_mirrored_total", "Events Redis acknowledged", NULL, NULL);
        m->m.buffered = qh_metrics_counter(mt, "bus_events_buffered_total", "Events written to the disk buffer", NULL, NULL);
        m->m.replayed = qh_metrics_counter(mt, "bus_events_replayed_total", "Buffered events Redis acknowledged", NULL, NULL);
        m->m.dropped = qh_metrics_counter(mt, "bus_events_refused_total", "Events refused: disk buffer full", NULL, NULL);
        m->m.connected = qh_metrics_gauge(mt, "bus_redis_connected", "1 while the mirror is connected", NULL, NULL);
        m->m.depth = qh_metrics_gauge(mt, "bus_buffer_depth", "Events in the disk buffer", NULL, NULL);
        m->m.rtt = qh_metrics_gauge(mt, "bus_redis_rtt_ms", "Round trip of the last batch", NULL, NULL);
        m->m.lag = qh_metrics_gauge(mt, "bus_lag_ms", "Age of the oldest event Redis has not acknowledged", NULL, NULL);
    }
    m->ev_reconnect = evtimer_new(m->base, on_reconnect_timer, m);
    m->ev_flush = evtimer_new(m->base, on_flush_timer, m);
    m->ev_watch = event_new(m->base, -1, EV_PERSIST, on_watch_timer, m);
    m->ev_sync = event_new(m->base, -1, EV_PERSIST, on_sync_timer, m);
    if (!m->ev_reconnect || !m->ev_flush || !m->ev_watch || !m->ev_sync) {
        snprintf(err, errlen, "bus: cannot make timers");
        qh_mirror_free(m);
        return NULL;
    }
    struct timeval watch = { 0, 100000 };
    event_add(m->ev_watch, &watch);
    int64_t fs = o->cfg->buffer.fsync_ms;
    struct timeval sync = { (time_t)(fs / 1000), (suseconds_t)((fs % 1000) * 1000) };
    event_add(m->ev_sync, &sync);
    start_connect(m);
    return m;
}

void qh_mirror_free(qh_mirror *m)
{
    if (!m) return;
    if (m->ac) {
        redisAsyncContext *ac = m->ac;
        m->ac = NULL;
        m->connected = false;
        redisAsyncFree(ac);
    }
    if (m->dbuf) {
        spill_ring(m);   /* nothing unacknowledged is lost at a clean stop */
        char err[256];
        if (qh_dbuf_sync(m->dbuf, err, sizeof err) != QTR_OK) qh_error("bus", "%s", err);
        qh_dbuf_close(m->dbuf);
    }
    qh_seq_close(m->seq);
    if (m->ev_reconnect) event_free(m->ev_reconnect);
    if (m->ev_flush) event_free(m->ev_flush);
    if (m->ev_watch) event_free(m->ev_watch);
    if (m->ev_sync) event_free(m->ev_sync);
    free(m->ring);
    free(m->argv);
    free(m->argvlen);
    free(m->seqtxt);
    free(m->scratch);
    free(m->env);
    free(m->lens);
    qc_hmac_free(m->key);
    free(m);
}
