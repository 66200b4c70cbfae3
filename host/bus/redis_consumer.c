/* redis_consumer.c — see redis_consumer.h. */
#include "bus/redis_consumer.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/sds.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qtr/plugin.h>

#include "bus/bus_key.h"
#include "bus/dedupe.h"
#include "bus/log_sample.h"
#include "bus/redis_conn.h"
#include "core/clock.h"
#include "core/log.h"

#define READ_COUNT 256
#define READ_BLOCK_MS 50
#define DEDUPE_WINDOW 65536
#define DEDUPE_HOSTS 256
#define MAX_STREAMS 64

struct qh_consumer {
    qh_consumer_opts o;
    const qh_bus_config *cfg;
    char ip[64], password[256];
    qc_hmac *key;                   /* bus.key_env's: only entries signed with it are taken */
    qc_hmac *accept;                /* bus.accept_key_env's: or with it, while the key changes */
    char group[40];
    struct event_base *base;
    redisAsyncContext *ac;
    bool ready;
    bool own_pending_done;          /* after a (re)connect, our own pending entries first */
    bool version_said;              /* the server's version was refused or unknown, and logged */
    int64_t connect_started_ns, read_sent_ns;
    bool read_outstanding, claim_outstanding;
    unsigned attempt, rng;
    bool reconnect_armed;
    bool reply_too_large;           /* set by the connection (redis_conn.h) */
    bool sweep;                     /* after a reply too large: refuse the entries that made it */
    struct event *ev_reconnect, *ev_watch, *ev_claim, *ev_pending;
    struct event *ev_flush;         /* writes the XACKs out, see ack() */
    size_t n_streams;
    char keys[MAX_STREAMS][96];
    qtr_event_type types[MAX_STREAMS];
    char claim_next[MAX_STREAMS][48];
    size_t claim_idx;
    qh_dedupe *dedupe;
    qh_consumer_stats st;
    struct {
        qh_metric *consumed, *duplicates, *stale, *claimed, *pending, *refused, *accept_key;
    } m;
};

static void set_error(qh_consumer *c, const char *why) { qtr_strlcpy(c->st.last_error, why, sizeof c->st.last_error); }

static void count(qh_metric *m, int64_t n)
{
    if (m && n) qh_metric_add(m, n);
}

static void issue_read(qh_consumer *c);

static void schedule_reconnect(qh_consumer *c)
{
    if (c->reconnect_armed) return;
    int64_t ms = qh_redis_backoff_ms(c->attempt++, &c->rng);
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    evtimer_add(c->ev_reconnect, &tv);
    c->reconnect_armed = true;
}

static void lost(qh_consumer *c, const char *why, bool free_it)
{
    if (!c->ac) return;
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    if (c->ready) qh_warn("bus", "redis consumer %s:%d: %s; reconnecting", c->ip, c->cfg->redis.port, why);
    c->ready = false;
    c->read_outstanding = c->claim_outstanding = false;
    set_error(c, why);
    if (free_it) redisAsyncFree(ac);
    schedule_reconnect(c);
}

/* Acknowledges ids of one stream. The XACKs must reach the socket before the
 * order the entry led to goes out (a claim by another member would act on it
 * again): ev_flush writes them, and it is made active before the handler runs,
 * so it runs ahead of anything the handler makes active (the engine's drain),
 * and outside hiredis's callback, where a failed write may free the context. */
static void ack(qh_consumer *c, size_t stream, const char **ids, const size_t *lens, size_t n)
{
    if (n == 0 || !c->ac) return;
    const char *argv[3 + READ_COUNT];
    size_t len[3 + READ_COUNT];
    argv[0] = "XACK"; len[0] = 4;
    argv[1] = c->keys[stream]; len[1] = strlen(c->keys[stream]);
    argv[2] = c->group; len[2] = strlen(c->group);
    for (size_t i = 0; i < n; i++) { argv[3 + i] = ids[i]; len[3 + i] = lens[i]; }
    if (redisAsyncCommandArgv(c->ac, NULL, NULL, (int)(3 + n), argv, len) == REDIS_OK) c->st.acked += n;
}

static void on_flush(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_consumer *c = ud;
    if (c->ac) redisAsyncHandleWrite(c->ac);
}

static size_t stream_of(qh_consumer *c, const char *key)
{
    for (size_t i = 0; i < c->n_streams; i++)
        if (strcmp(c->keys[i], key) == 0) return i;
    return SIZE_MAX;
}

static int64_t now_ms(qh_consumer *c) { return c->o.now_ms ? c->o.now_ms(c->o.ud) : qh_wall_ms(); }

/* An entry refused for what it is, not for being a replay: counted, kept as
 * the last refusal (health shows it), and logged as bus/log_sample.h says
 * (the first 20, then at each power of two), so a flood cannot flood the
 * log too. */
static void refuse(qh_consumer *c, size_t stream, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(qh_consumer *c, size_t stream, const char *id, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    uint64_t n = ++c->st.refused;
    count(c->m.refused, 1);
    c->st.last_refused_ms = now_ms(c);
    /* a stream key is < 96 bytes, why < 160, and an entry id of Redis's
     * own is at most 41: the bounds make the whole fit (gcc checks it) */
    snprintf(c->st.last_refusal, sizeof c->st.last_refusal, "%.95s %.47s: %.159s", c->keys[stream], id, why);
    if (qh_log_sampled(n))
        qh_warn("bus", "entry %s of %s refused: %s (%" PRIu64 " refused so far)", id, c->keys[stream], why, n);
}

/* A field's name is exactly `name` (one letter; a name with a byte after a
 * NUL is another name). */
static bool field_is(const redisReply *r, char name)
{
    return r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == name;
}

/* An entry's own fields h and s: the host and number the mirror's script
 * writes beside the envelope, what anyone reading the stream sees first. */
typedef struct outer_id {
    const redisReply *h, *s;
    int n_h, n_s;               /* how many times each came: once, from the mirror */
} outer_id;

static void show_field(const redisReply *v, int n, char *out, size_t cap)
{
    if (n == 0) snprintf(out, cap, "(none)");
    else if (n > 1) snprintf(out, cap, "(%d of them)", n);
    else if (v->type != REDIS_REPLY_STRING) snprintf(out, cap, "(not a string)");
    else snprintf(out, cap, "'%.*s'%s", (int)(v->len < 24 ? v->len : 24), v->str, v->len > 24 ? "..." : "");
}

/* NULL if h and s say what the envelope says (h its host_id, s its number
 * in decimal, as the mirror writes them), else why not in why. */
static const char *outer_disagrees(const outer_id *o, const qh_busev *ev, char *why, size_t cap)
{
    char seq[24];
    int sl = snprintf(seq, sizeof seq, "%" PRIu64, ev->seq);
    size_t hl = strlen(ev->host_id);
    bool h_ok = o->n_h == 1 && o->h->type == REDIS_REPLY_STRING && o->h->len == hl && memcmp(o->h->str, ev->host_id, hl) == 0;
    bool s_ok = o->n_s == 1 && o->s->type == REDIS_REPLY_STRING && o->s->len == (size_t)sl &&
                memcmp(o->s->str, seq, (size_t)sl) == 0;
    if (h_ok && s_ok) return NULL;
    char h[48], s[48];
    show_field(o->h, o->n_h, h, sizeof h);
    show_field(o->s, o->n_s, s, sizeof s);
    snprintf(why, cap, "its fields h %s s %s disagree with its envelope's %s#%" PRIu64, h, s, ev->host_id, ev->seq);
    return why;
}

/* One entry (its id and fields) of stream `stream`: true if it may be
 * acknowledged. */
static bool take(qh_consumer *c, size_t stream, const char *id, const redisReply *fields)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY) return true;   /* trimmed away: nothing to do */
    const redisReply *env = NULL;
    outer_id outer = { 0 };
    for (size_t k = 0; k + 1 < fields->elements; k += 2) {
        const redisReply *name = fields->element[k], *value = fields->element[k + 1];
        if (field_is(name, 'e')) env = value;
        else if (field_is(name, 'h')) { outer.h = value; outer.n_h++; }
        else if (field_is(name, 's')) { outer.s = value; outer.n_s++; }
    }
    c->st.delivered++;
    /* larger than any event, as SWEEP_SCRIPT measures it: the same refusal
     * whether it came in a reply of its own (under 8 MiB) or was swept */
    size_t bytes = 0;
    for (size_t k = 0; k < fields->elements; k++)
        if (fields->element[k]->type == REDIS_REPLY_STRING) bytes += fields->element[k]->len;
    if (bytes > QH_BUS_ENTRY_MAX) {
        refuse(c, stream, id, "an entry of %zu bytes: larger than any event (at most %u)", bytes, QH_BUS_ENTRY_MAX);
        return true;
    }
    qh_busev ev;
    char err[200];
    int rc = env && env->type == REDIS_REPLY_STRING
                 ? qh_busev_decode(env->str, env->len, c->key, c->accept, &ev, err, sizeof err)
                 : -1;
    if (rc == QH_BUSEV_UNTRUSTED) {
        /* not written with the hosts' key (or by a host of another setting):
         * nothing of it is believed, not even its host and number */
        refuse(c, stream, id, "%s", err);
        return true;
    }
    if (rc != 0) {
        uint64_t n = ++c->st.undecodable;
        if (!env) snprintf(err, sizeof err, "no 'e' field");
        else if (env->type != REDIS_REPLY_STRING) snprintf(err, sizeof err, "its 'e' field is not a string");
        if (qh_log_sampled(n))
            qh_warn("bus", "undecodable entry %s of %s refused: %s (%" PRIu64 " undecodable so far)", id,
                    c->keys[stream], err, n);
        set_error(c, err);
        return true;   /* it will never decode: do not let it come back */
    }
    /* Who wrote it, and its number: the entry's fields and its envelope must
     * say the same, as the mirror writes them. Which to believe cannot be
     * told (the dedupe window goes by the envelope, an operator reading the
     * stream by the fields): refused, never acted on, never remembered. */
    char why[160];
    if (outer_disagrees(&outer, &ev, why, sizeof why)) {
        refuse(c, stream, id, "%s", why);
        return true;
    }
    /* A stream carries one type: anything else in it is forged or misrouted
     * (a fill written to the signal stream must not be booked, a candle
     * must not price orders). */
    if (ev.ev.type != c->types[stream]) {
        const char *name = qh_busev_type_name(ev.ev.type);
        refuse(c, stream, id, "a %s event from %s#%" PRIu64 " in the stream of %s events", name ? name : "?",
               ev.host_id, ev.seq, qh_busev_type_name(c->types[stream]));
        return true;
    }
    qh_dedupe_verdict v = qh_dedupe_check(c->dedupe, ev.host_id, ev.seq);
    if (v == QH_DEDUPE_DUPLICATE) {
        c->st.duplicates++;
        count(c->m.duplicates, 1);
        return true;
    }
    if (v == QH_DEDUPE_TOO_OLD) {
        /* below the window: a replay or a new entry, nobody can tell; a
         * host whose numbers jumped ahead (a forged one) lands here */
        refuse(c, stream, id, "%s#%" PRIu64 " is below the %d numbers remembered for %s: cannot tell it from a replay",
               ev.host_id, ev.seq, DEDUPE_WINDOW, ev.host_id);
        return true;
    }
    if (v == QH_DEDUPE_NO_ROOM) {
        /* acting on it could not be remembered, so a second delivery would act again */
        refuse(c, stream, id, "%s#%" PRIu64 ": already %d source hosts remembered, no room for %s", ev.host_id, ev.seq,
               DEDUPE_HOSTS, ev.host_id);
        return true;
    }
    if (ev.ev.type == QTR_EV_SIGNAL && c->o.max_age_ms > 0) {
        int64_t age = now_ms(c) - ev.ev.u.signal.time_ms;
        /* ahead by more than the bound: a clock that far off makes the age meaningless */
        if (age > c->o.max_age_ms || age < -c->o.max_age_ms) {
            uint64_t n = ++c->st.stale;
            count(c->m.stale, 1);
            qh_dedupe_admit(c->dedupe, ev.host_id, ev.seq);
            /* a backlog after an outage comes all at once: sampled too */
            if (qh_log_sampled(n))
                qh_warn("bus",
                        "signal %s#%" PRIu64 " (%s %s) refused: %s %" PRId64 " ms %s (max_age_ms %" PRId64
                        "; %" PRIu64 " stale so far)",
                        ev.host_id, ev.seq, ev.ev.u.signal.symbol, qtr_side_name(ev.ev.u.signal.side),
                        age > 0 ? "stale," : "from the future,", age > 0 ? age : -age, age > 0 ? "old" : "ahead",
                        c->o.max_age_ms, n);
            return true;
        }
    }
    ev.stream = c->keys[stream];
    ev.entry = id;
    if (c->o.handler(c->o.ud, &ev) != 0) {
        c->st.not_handled++;
        return false;
    }
    qh_dedupe_admit(c->dedupe, ev.host_id, ev.seq);
    c->st.handled++;
    count(c->m.consumed, 1);
    if (ev.by_accept_key) {            /* still written with the other key: not yet time to drop it */
        c->st.accept_key++;
        count(c->m.accept_key, 1);
    }
    return true;
}

/* entries: [[id, fields], ...] of one stream. */
static void take_entries(qh_consumer *c, size_t stream, const redisReply *entries, bool claimed)
{
    if (!entries || entries->type != REDIS_REPLY_ARRAY) return;
    const char *ids[READ_COUNT];
    size_t lens[READ_COUNT], n = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 || e->element[0]->type != REDIS_REPLY_STRING) continue;
        if (claimed) {
            c->st.claimed++;
            count(c->m.claimed, 1);
        }
        if (take(c, stream, e->element[0]->str, e->elements > 1 ? e->element[1] : NULL)) {
            ids[n] = e->element[0]->str;
            lens[n] = e->element[0]->len;
            if (++n == READ_COUNT) { ack(c, stream, ids, lens, n); n = 0; }
        }
    }
    ack(c, stream, ids, lens, n);
}

static void on_read(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    c->read_outstanding = false;
    event_active(c->ev_flush, EV_TIMEOUT, 1);   /* ahead of what the handler makes active */
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[200];
        snprintf(why, sizeof why, "XREADGROUP refused: %.160s", reply->str);
        lost(c, why, true);
        return;
    }
    size_t got = 0;
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *s = reply->element[i];
            if (s->type != REDIS_REPLY_ARRAY || s->elements != 2) continue;
            size_t k = stream_of(c, s->element[0]->str);
            if (k == SIZE_MAX) continue;
            got += s->element[1]->type == REDIS_REPLY_ARRAY ? s->element[1]->elements : 0;
            take_entries(c, k, s->element[1], false);
        }
    }
    /* one pass over our own pending history (what we read before a
     * reconnect or a restart and did not acknowledge); anything past it is
     * found by XAUTOCLAIM, which takes idle entries of every member */
    (void)got;
    c->own_pending_done = true;
    issue_read(c);
}

static void issue_read(qh_consumer *c)
{
    if (!c->ac || !c->ready || c->read_outstanding) return;
    const char *argv[9 + 2 * MAX_STREAMS];
    size_t len[9 + 2 * MAX_STREAMS];
    size_t a = 0;
    static const char count_txt[] = "256", block_txt[] = "50";
    argv[a] = "XREADGROUP"; len[a++] = 10;
    argv[a] = "GROUP"; len[a++] = 5;
    argv[a] = c->group; len[a++] = strlen(c->group);
    argv[a] = c->cfg->host_id; len[a++] = strlen(c->cfg->host_id);
    argv[a] = "COUNT"; len[a++] = 5;
    argv[a] = count_txt; len[a++] = sizeof count_txt - 1;
    argv[a] = "BLOCK"; len[a++] = 5;
    argv[a] = block_txt; len[a++] = sizeof block_txt - 1;
    argv[a] = "STREAMS"; len[a++] = 7;
    for (size_t i = 0; i < c->n_streams; i++) { argv[a] = c->keys[i]; len[a++] = strlen(c->keys[i]); }
    const char *from = c->own_pending_done ? ">" : "0";
    for (size_t i = 0; i < c->n_streams; i++) { argv[a] = from; len[a++] = 1; }
    if (redisAsyncCommandArgv(c->ac, on_read, c, (int)a, argv, len) == REDIS_OK) {
        c->read_outstanding = true;
        c->read_sent_ns = qh_mono_ns();
    }
}

static void on_claim(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    c->claim_outstanding = false;
    event_active(c->ev_flush, EV_TIMEOUT, 1);
    size_t k = c->claim_idx;
    c->claim_idx = (c->claim_idx + 1) % c->n_streams;
    if (reply->type == REDIS_REPLY_ERROR) {
        set_error(c, reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) return;
    if (reply->element[0]->type == REDIS_REPLY_STRING)
        qtr_strlcpy(c->claim_next[k], reply->element[0]->str, sizeof c->claim_next[k]);
    take_entries(c, k, reply->element[1], true);
}

static void on_claim_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_consumer *c = ud;
    if (!c->ac || !c->ready || c->claim_outstanding) return;
    size_t k = c->claim_idx;
    char idle[24];
    snprintf(idle, sizeof idle, "%" PRId64, c->cfg->claim_idle_ms);
    const char *argv[] = { "XAUTOCLAIM", c->keys[k], c->group, c->cfg->host_id, idle, c->claim_next[k], "COUNT", "256" };
    size_t len[8];
    for (int i = 0; i < 8; i++) len[i] = strlen(argv[i]);
    if (redisAsyncCommandArgv(c->ac, on_claim, c, 8, argv, len) == REDIS_OK) c->claim_outstanding = true;
}

static void on_pending_sum(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply || reply->type != REDIS_REPLY_INTEGER) return;
    c->st.pending = reply->integer;
    if (c->m.pending) qh_metric_set(c->m.pending, (double)reply->integer);
}

static const char PENDING_SCRIPT[] =
    "local n = 0\n"
    "for i = 1, #KEYS do\n"
    "  local ok, r = pcall(redis.call, 'XPENDING', KEYS[i], ARGV[1])\n"
    "  if ok and type(r) == 'table' then n = n + r[1] end\n"
    "end\n"
    "return n\n";

/* EVAL of script with every stream as KEYS, and the group then the n_extra
 * strings of extra as ARGV; cb gets the reply. REDIS_OK if queued. */
#define EVAL_EXTRA_MAX 2
static int eval_streams(qh_consumer *c, const char *script, size_t script_len, const char *const *extra,
                        size_t n_extra, redisCallbackFn *cb)
{
    const char *argv[4 + MAX_STREAMS + EVAL_EXTRA_MAX];
    size_t len[4 + MAX_STREAMS + EVAL_EXTRA_MAX];
    char nk[8];
    snprintf(nk, sizeof nk, "%zu", c->n_streams);
    size_t a = 0;
    argv[a] = "EVAL"; len[a++] = 4;
    argv[a] = script; len[a++] = script_len;
    argv[a] = nk; len[a++] = strlen(nk);
    for (size_t i = 0; i < c->n_streams; i++) { argv[a] = c->keys[i]; len[a++] = strlen(c->keys[i]); }
    argv[a] = c->group; len[a++] = strlen(c->group);
    for (size_t i = 0; i < n_extra && i < EVAL_EXTRA_MAX; i++) { argv[a] = extra[i]; len[a++] = strlen(extra[i]); }
    return redisAsyncCommandArgv(c->ac, cb, c, (int)a, argv, len);
}

static void on_pending_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_consumer *c = ud;
    if (!c->ac || !c->ready) return;
    eval_streams(c, PENDING_SCRIPT, sizeof PENDING_SCRIPT - 1, NULL, 0, on_pending_sum);
}

static void on_setup(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    /* XGROUP CREATE answers BUSYGROUP when the group exists: that is fine */
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0) {
        char why[200];
        snprintf(why, sizeof why, "setup refused: %.160s", reply->str);
        lost(c, why, true);
    }
}

/* Every entry pending for this consumer whose fields and values hold more
 * than ARGV[3] bytes, of each stream: acknowledged, and returned as (stream
 * number, id, bytes) for the log. Measured inside Redis, so the entry never
 * crosses the connection. At most 64 pages of 256 entries a stream. */
static const char SWEEP_SCRIPT[] =
    "local out, limit = {}, tonumber(ARGV[3])\n"
    "for i = 1, #KEYS do\n"
    "  local start = '-'\n"
    "  for page = 1, 64 do\n"
    "    local ok, p = pcall(redis.call, 'XPENDING', KEYS[i], ARGV[1], start, '+', 256, ARGV[2])\n"
    "    if not ok or #p == 0 then break end\n"
    "    for _, e in ipairs(p) do\n"
    "      local r, n = redis.call('XRANGE', KEYS[i], e[1], e[1]), 0\n"
    "      if r[1] then for _, v in ipairs(r[1][2]) do n = n + #v end end\n"
    "      if n > limit then\n"
    "        redis.call('XACK', KEYS[i], ARGV[1], e[1])\n"
    "        out[#out + 1] = i; out[#out + 1] = e[1]; out[#out + 1] = n\n"
    "      end\n"
    "    end\n"
    "    if #p < 256 then break end\n"
    "    start = '(' .. p[#p][1]\n"
    "  end\n"
    "end\n"
    "return out\n";

static void on_sweep(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    c->read_outstanding = false;
    if (reply->type != REDIS_REPLY_ARRAY) {
        char why[200];
        snprintf(why, sizeof why, "the sweep of entries too large was refused: %.120s",
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "not an array");
        lost(c, why, true);
        return;
    }
    for (size_t i = 0; i + 2 < reply->elements; i += 3) {
        const redisReply *k = reply->element[i], *id = reply->element[i + 1], *n = reply->element[i + 2];
        if (k->type != REDIS_REPLY_INTEGER || k->integer < 1 || (size_t)k->integer > c->n_streams ||
            id->type != REDIS_REPLY_STRING || n->type != REDIS_REPLY_INTEGER)
            continue;
        refuse(c, (size_t)k->integer - 1, id->str, "an entry of %lld bytes: larger than any event (at most %u)",
               n->integer, QH_BUS_ENTRY_MAX);
    }
    c->sweep = false;
    issue_read(c);
}

static void issue_sweep(qh_consumer *c)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%u", QH_BUS_ENTRY_MAX);
    const char *extra[] = { c->cfg->host_id, limit };
    if (eval_streams(c, SWEEP_SCRIPT, sizeof SWEEP_SCRIPT - 1, extra, 2, on_sweep) == REDIS_OK)
        c->read_outstanding = true;
}

static void on_ping(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        lost(c, reply->str, true);
        return;
    }
    c->ready = true;
    c->attempt = 0;
    c->own_pending_done = false;
    if (c->sweep) issue_sweep(c);   /* issue_read follows it */
    else issue_read(c);
}

/* INFO server's answer: a Redis too old for XAUTOCLAIM is refused as a
 * connection that failed (the health says why, and it is tried again), not
 * left to fail at the first claim, when a dead member's entries would stay
 * pending. One that does not say its version is taken, with a warning. */
static void on_version(redisAsyncContext *ac, void *r, void *privdata)
{
    qh_consumer *c = privdata;
    redisReply *reply = r;
    if (ac != c->ac || !reply) return;
    char version[32], why[160];
    int ok = reply->type == REDIS_REPLY_STRING
                 ? qh_redis_version_ok(reply->str, reply->len, version, sizeof version, why, sizeof why)
                 : -1;
    if (ok == 0) {
        if (!c->version_said)
            qh_error("bus", "redis consumer %s:%d: %s; nothing is taken from it until it is upgraded", c->ip,
                     c->cfg->redis.port, why);
        c->version_said = true;
        lost(c, why, true);
    } else if (ok < 0 && !c->version_said) {
        qh_warn("bus", "redis consumer %s:%d: the server does not say its version (INFO server); the bus's consumers "
                       "need Redis %d.%d or later", c->ip, c->cfg->redis.port, QH_REDIS_MIN_MAJOR, QH_REDIS_MIN_MINOR);
        c->version_said = true;
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    qh_consumer *c = cac->data;
    if (!c || cac != c->ac) return;
    if (status != REDIS_OK) {
        lost(c, cac->errstr[0] ? cac->errstr : "connect failed", false);
        return;
    }
    qh_redis_preamble(c->ac, c->password, c->cfg->redis.db, on_setup, c);
    const char *info[] = { "INFO", "server" };
    size_t il[] = { 4, 6 };
    redisAsyncCommandArgv(c->ac, on_version, c, 2, info, il);
    for (size_t i = 0; i < c->n_streams; i++) {
        /* signals from the stream's start (older ones are refused as stale,
         * not lost), other types from now on */
        const char *start = c->types[i] == QTR_EV_SIGNAL ? "0" : "$";
        const char *argv[] = { "XGROUP", "CREATE", c->keys[i], c->group, start, "MKSTREAM" };
        size_t len[6];
        for (int k = 0; k < 6; k++) len[k] = strlen(argv[k]);
        redisAsyncCommandArgv(c->ac, on_setup, c, 6, argv, len);
    }
    const char *ping[] = { "PING" };
    size_t pl[] = { 4 };
    redisAsyncCommandArgv(c->ac, on_ping, c, 1, ping, pl);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    (void)status;
    qh_consumer *c = cac->data;
    if (!c || cac != c->ac) return;
    if (c->reply_too_large) {
        /* an entry far larger than any event is pending (read, not yet
         * acknowledged): reading it again would end the same way */
        c->reply_too_large = false;
        c->sweep = true;
        c->st.replies_too_large++;
        char why[128];
        snprintf(why, sizeof why, "%s; entries over %u bytes are refused at the reconnect", QH_REDIS_TOO_LARGE,
                 QH_BUS_ENTRY_MAX);
        lost(c, why, false);
        return;
    }
    lost(c, cac->errstr[0] ? cac->errstr : "connection closed", false);
}

static void start_connect(qh_consumer *c)
{
    char err[256];
    c->ac = qh_redis_open(c->base, c->ip, c->cfg->redis.port, c, on_connect, on_disconnect, &c->reply_too_large, err,
                          sizeof err);
    if (!c->ac) {
        set_error(c, err);
        schedule_reconnect(c);
        return;
    }
    c->connect_started_ns = qh_mono_ns();
}

static void on_reconnect_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_consumer *c = ud;
    c->reconnect_armed = false;
    if (!c->ac) start_connect(c);
}

static void on_watch_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what;
    qh_consumer *c = ud;
    int64_t limit = c->o.reply_timeout_ms * 1000000, now = qh_mono_ns();
    if (c->ac && !c->ready && now - c->connect_started_ns > limit) lost(c, "connect timed out", true);
    else if (c->ac && c->read_outstanding && now - c->read_sent_ns > limit + READ_BLOCK_MS * 1000000)
        lost(c, "no reply to XREADGROUP", true);
}

size_t qh_consumer_unsent_bytes(const qh_consumer *c)
{
    return c->ac && c->ac->c.obuf ? sdslen(c->ac->c.obuf) : 0;
}

void qh_consumer_stats_get(const qh_consumer *c, qh_consumer_stats *out)
{
    *out = c->st;
    out->connected = c->ready;
}

qh_consumer *qh_consumer_new(const qh_consumer_opts *o, char *err, size_t errlen)
{
    qh_consumer *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "bus: out of memory"); return NULL; }
    c->o = *o;
    if (c->o.reply_timeout_ms <= 0) c->o.reply_timeout_ms = 2000;
    c->cfg = o->cfg;
    c->base = o->base;
    qtr_strlcpy(c->ip, o->redis_ip, sizeof c->ip);
    const char *pw = o->cfg->redis.password_env[0] ? getenv(o->cfg->redis.password_env) : NULL;
    if (pw) qtr_strlcpy(c->password, pw, sizeof c->password);
    if (qh_bus_keys_open(o->cfg, &c->key, &c->accept, err, errlen) != 0) {
        free(c);
        return NULL;
    }
    c->rng = (unsigned)(qh_mono_ns() ^ ((int64_t)getpid() << 8));
    qtr_strlcpy(c->group, o->group ? o->group : o->cfg->group, sizeof c->group);
    uint64_t types = o->types ? o->types : o->cfg->consume;
    for (int t = 0; t < QTR_EV__COUNT && t < 64; t++) {
        if (!(types & (UINT64_C(1) << t)) || c->n_streams == MAX_STREAMS) continue;
        const char *name = qh_busev_type_name((qtr_event_type)t);
        if (!name) continue;
        snprintf(c->keys[c->n_streams], sizeof c->keys[0], "%s:%s", o->cfg->redis.stream_prefix, name);
        c->types[c->n_streams] = (qtr_event_type)t;
        snprintf(c->claim_next[c->n_streams], sizeof c->claim_next[0], "0-0");
        c->n_streams++;
    }
    if (c->n_streams == 0) {
        snprintf(err, errlen, "bus.consume: no event type to consume");
        qc_hmac_free(c->key);
        qc_hmac_free(c->accept);
        free(c);
        return NULL;
    }
    c->dedupe = qh_dedupe_new(DEDUPE_WINDOW, DEDUPE_HOSTS);
    c->ev_reconnect = evtimer_new(c->base, on_reconnect_timer, c);
    c->ev_watch = event_new(c->base, -1, EV_PERSIST, on_watch_timer, c);
    c->ev_claim = event_new(c->base, -1, EV_PERSIST, on_claim_timer, c);
    c->ev_pending = event_new(c->base, -1, EV_PERSIST, on_pending_timer, c);
    c->ev_flush = event_new(c->base, -1, 0, on_flush, c);
    if (!c->ev_flush || !c->dedupe || !c->ev_reconnect || !c->ev_watch || !c->ev_claim || !c->ev_pending) {
        snprintf(err, errlen, "bus: out of memory");
        qh_consumer_free(c);
        return NULL;
    }
    if (o->metrics) {
        qh_metrics *mt = o->metrics;
        c->m.consumed = qh_metrics_counter(mt, "bus_events_consumed_total", "Events taken from Redis and handled", NULL, NULL);
        c->m.duplicates = qh_metrics_counter(mt, "bus_duplicates_dropped_total", "Events dropped as already handled", NULL, NULL);
        c->m.stale = qh_metrics_counter(mt, "bus_stale_signals_refused_total", "Signals refused as older than max_age_ms", NULL, NULL);
        c->m.claimed = qh_metrics_counter(mt, "bus_claimed_entries_total", "Entries claimed from dead group members", NULL, NULL);
        c->m.pending = qh_metrics_gauge(mt, "bus_pending_entries", "Entries the consumer group has pending", NULL, NULL);
        c->m.refused = qh_metrics_counter(mt, "bus_entries_refused_total",
                                          "Entries refused: unsigned or badly signed (bus.key_env), larger than any "
                                          "event, fields h/s that disagree with their envelope, another type than their "
                                          "stream's, below the dedupe window, or from a host beyond those remembered",
                                          NULL, NULL);
        if (c->accept)
            c->m.accept_key = qh_metrics_counter(mt, "bus_entries_accept_key_total",
                                                 "Entries taken whose mac checked under bus.accept_key_env's key "
                                                 "(while the key changes): the old key is still in use while it grows",
                                                 NULL, NULL);
    }
    struct timeval watch = { 0, 100000 }, pending = { 1, 0 };
    int64_t half = c->cfg->claim_idle_ms / 2 > 50 ? c->cfg->claim_idle_ms / 2 : 50;
    struct timeval claim = { (time_t)(half / 1000), (suseconds_t)((half % 1000) * 1000) };
    event_add(c->ev_watch, &watch);
    event_add(c->ev_claim, &claim);
    event_add(c->ev_pending, &pending);
    start_connect(c);
    return c;
}

void qh_consumer_free(qh_consumer *c)
{
    if (!c) return;
    if (c->ac) {
        redisAsyncContext *ac = c->ac;
        c->ac = NULL;
        redisAsyncFree(ac);
    }
    if (c->ev_reconnect) event_free(c->ev_reconnect);
    if (c->ev_watch) event_free(c->ev_watch);
    if (c->ev_claim) event_free(c->ev_claim);
    if (c->ev_pending) event_free(c->ev_pending);
    if (c->ev_flush) event_free(c->ev_flush);
    qh_dedupe_free(c->dedupe);
    qc_hmac_free(c->key);
    qc_hmac_free(c->accept);
    free(c);
}
