/* bus/redis_mirror against a real redis-server on a free loopback port:
 * events reach their streams once each, in order, pipelined; through an
 * outage (SIGKILL, then SIGSTOP, then a restart with an empty dataset) every
 * event reaches the stream exactly once in order by host_id and seq, health
 * goes DEGRADED and comes back; a full buffer refuses loudly (CRITICAL, the
 * alarm once) and is replayed in order when Redis returns; a buffer left by
 * an earlier run is replayed before anything new.
 *
 * QTR_BUS_OUTAGE_S sets the outage phases' length (the scenario is
 * 10; ctest's default run uses 2, the `long` label runs 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/event_codec.h"
#include "bus/redis_mirror.h"
#include "core/clock.h"
#include "bus_tmpdir.h"
#include "redis_fixture.h"

#define MAXEV 200000

static redis_fx g_redis;
static char g_dir[64], g_buf[128], g_seq[128];
static struct event_base *g_base;
static qh_bus_config g_cfg;
static int g_full_calls;
static redis_fx_entry *g_entries;

static void on_full(void *ud, const char *why)
{
    (void)ud;
    (void)why;
    g_full_calls++;
}

static int setup(void **state)
{
    (void)state;
    if (!redis_fx_start(&g_redis, false)) {
        fprintf(stderr, "redis-server not installed: skipped\n");
        exit(77);
    }
    if (bus_tmpdir(g_dir, sizeof g_dir, "mirror") != 0) return -1;
    snprintf(g_buf, sizeof g_buf, "%s/bus.buf", g_dir);
    snprintf(g_seq, sizeof g_seq, "%s/bus.seq", g_dir);
    g_entries = calloc(MAXEV, sizeof *g_entries);
    return g_entries ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    redis_fx_stop(&g_redis);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    free(g_entries);
    return system(cmd) == 0 ? 0 : -1;
}

static void fresh(const char *host, int64_t max_events)
{
    unlink(g_buf);
    unlink(g_seq);
    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.enabled = true;
    snprintf(g_cfg.host_id, sizeof g_cfg.host_id, "%s", host);
    snprintf(g_cfg.redis.host, sizeof g_cfg.redis.host, "127.0.0.1");
    g_cfg.redis.port = g_redis.port;
    snprintf(g_cfg.redis.stream_prefix, sizeof g_cfg.redis.stream_prefix, "t%d", (int)getpid());
    g_cfg.redis.maxlen = 1000000;
    g_cfg.redis.batch_max = 256;
    g_cfg.redis.flush_ms = 2;
    g_cfg.buffer.max_events = max_events;
    g_cfg.buffer.fsync_ms = 20;
    g_full_calls = 0;
    redisContext *c = redis_fx_client(&g_redis);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

static qh_mirror *mirror_new_urgent(uint64_t urgent_types)
{
    qh_mirror_opts o = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .buffer_path = g_buf,
                         .seq_path = g_seq, .on_full = on_full, .reply_timeout_ms = 1000,
                         .urgent_types = urgent_types };
    char err[256] = "";
    qh_mirror *m = qh_mirror_new(&o, err, sizeof err);
    if (!m) fail_msg("%s", err);
    return m;
}

static qh_mirror *mirror_new(void) { return mirror_new_urgent(0); }

static qtr_event make(int i)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = i % 3 == 0 ? QTR_EV_FILL : QTR_EV_CANDLE;
    ev.time_ms = 1000 + i;
    snprintf(ev.u.candle.symbol, sizeof ev.u.candle.symbol, "S%d", i);
    return ev;
}

/* Runs the loop until pred holds or ms pass. */
static bool run_until(qh_mirror *m, int64_t ms, bool (*pred)(qh_mirror *m, void *ud), void *ud)
{
    int64_t end = qh_mono_ns() + ms * 1000000;
    while (qh_mono_ns() < end) {
        if (pred && pred(m, ud)) return true;
        struct timeval tv = { 0, 5000 };
        event_base_loopexit(g_base, &tv);
        event_base_dispatch(g_base);
    }
    return pred ? pred(m, ud) : true;
}

static bool connected(qh_mirror *m, void *ud)
{
    (void)ud;
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    return s.connected;
}

static bool drained(qh_mirror *m, void *ud)
{
    (void)ud;
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    return s.in_memory == 0;
}

static bool all_acked(qh_mirror *m, void *ud)
{
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    return s.connected && s.in_memory == 0 && s.buffer_depth == 0 && s.mirrored + s.already_there >= *(uint64_t *)ud;
}

/* Every stream's entries: each seq 1..n exactly once over the two streams,
 * increasing within each, host as given, envelope matching. */
static void check_streams(const char *host, uint64_t n, redis_fx_entry *before, size_t n_before_fill,
                          size_t n_before_candle)
{
    static unsigned char seen[MAXEV + 1];
    memset(seen, 0, sizeof seen);
    redisContext *c = redis_fx_client(&g_redis);
    const char *types[] = { "fill", "candle" };
    size_t n_before[] = { n_before_fill, n_before_candle };
    uint64_t total = 0;
    for (int t = 0; t < 2; t++) {
        char key[64];
        snprintf(key, sizeof key, "%s:%s", g_cfg.redis.stream_prefix, types[t]);
        size_t k = 0;
        /* what an earlier (now emptied) Redis held, then what this one holds */
        if (before && n_before[t]) {
            memcpy(g_entries, before + (t ? n_before_fill : 0), n_before[t] * sizeof *g_entries);
            k = n_before[t];
        }
        k += redis_fx_read_stream(c, key, g_entries + k, MAXEV - k);
        uint64_t prev = 0;
        for (size_t i = 0; i < k; i++) {
            redis_fx_entry *e = &g_entries[i];
            assert_string_equal(e->host, host);
            if (e->seq <= prev) fail_msg("%s: seq %llu after %llu: out of order or doubled", key,
                                         (unsigned long long)e->seq, (unsigned long long)prev);
            prev = e->seq;
            assert_true(e->seq <= n);
            assert_int_equal(seen[e->seq], 0);
            seen[e->seq] = 1;
            qh_busev ev;
            char err[256];
            if (qh_busev_decode(e->env, e->env_len, NULL, NULL, &ev, err, sizeof err) != 0) fail_msg("%s", err);
            assert_int_equal(ev.seq, e->seq);
            char want[24];
            snprintf(want, sizeof want, "S%d", (int)(e->seq - 1));
            assert_string_equal(ev.ev.u.candle.symbol, want);
            total++;
        }
    }
    redisFree(c);
    for (uint64_t q = 1; q <= n; q++)
        if (!seen[q]) fail_msg("seq %llu never reached its stream", (unsigned long long)q);
    assert_int_equal(total, n);
}

static void mirrors_once_in_order(void **state)
{
    (void)state;
    fresh("h-basic", 10000);
    g_base = event_base_new();
    qh_mirror *m = mirror_new();
    assert_true(run_until(m, 5000, connected, NULL));
    uint64_t n = 20000;
    for (uint64_t i = 0; i < n; i++) {
        qtr_event ev = make((int)i);
        uint64_t seq;
        assert_int_equal(qh_mirror_publish(m, &ev, &seq), QTR_OK);
        assert_int_equal(seq, i + 1);
        if (i % 1000 == 999) assert_true(run_until(m, 5000, drained, NULL));
    }
    assert_true(run_until(m, 10000, all_acked, &n));
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    assert_int_equal(s.mirrored, n);
    assert_int_equal(s.buffered, 0);
    assert_true(s.batches < n / 10);   /* pipelined in batches, not one by one */
    qtr_health h;
    qh_mirror_health(m, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    qh_mirror_free(m);
    event_base_free(g_base);
    check_streams("h-basic", n, NULL, 0, 0);
}

typedef struct load {
    qh_mirror *m;
    uint64_t sent;
    int worst;         /* worst health seen */
    bool back_ok;      /* OK again after the worst */
    size_t peak_depth; /* the disk buffer's deepest, for the figures */
} load;

/* A steady load: 5 events every ~2 ms, noting health, for ms (or, with
 * until_ok, until health is OK again after being worse, within ms). */
static void steady_load(load *l, int64_t ms, bool until_ok)
{
    int64_t end = qh_mono_ns() + ms * 1000000;
    while (qh_mono_ns() < end && !(until_ok && l->back_ok)) {
        for (int i = 0; i < 5; i++) {
            qtr_event ev = make((int)l->sent);
            assert_int_equal(qh_mirror_publish(l->m, &ev, NULL), QTR_OK);
            l->sent++;
        }
        run_until(l->m, 2, NULL, NULL);
        qtr_health h;
        qh_mirror_health(l->m, &h);
        qh_mirror_stats st;
        qh_mirror_stats_get(l->m, &st);
        if (st.buffer_depth > l->peak_depth) l->peak_depth = st.buffer_depth;
        if ((int)h.status > l->worst) { l->worst = (int)h.status; l->back_ok = false; }
        if (h.status == QTR_HEALTH_OK && l->worst > 0) l->back_ok = true;
    }
}

static void steady(load *l, int64_t ms) { steady_load(l, ms, false); }

/* Until health is OK again (within 20 s); prints the phase's figures, which
 * tests/stress/stress_redis_outage.py (scenario 3 of issue 12) shows. */
static void recover(load *l, const char *phase)
{
    int64_t t0 = qh_mono_ns();
    steady_load(l, 20000, true);   /* the backoff reaches 5 s (+-50%), then the replay */
    fprintf(stderr, "outage figures: %s: buffer peak %zu events, OK again %lld ms after Redis returned\n", phase,
            l->peak_depth, (long long)((qh_mono_ns() - t0) / 1000000));
    assert_true(l->back_ok);
}

static long long xlen(const char *type)
{
    redisContext *c = redis_fx_client(&g_redis);
    redisReply *r = redisCommand(c, "XLEN %s:%s", g_cfg.redis.stream_prefix, type);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    redisFree(c);
    return n;
}

static bool signal_there(qh_mirror *m, void *ud)
{
    (void)m; (void)ud;
    return xlen("signal") == 1;
}

/* A partial batch waits flush_ms; an urgent type (a strategy host's
 * signals) goes at the end of the loop turn, taking what waits before it
 * along, in order. flush_ms 5 s: the timer cannot be what sent it. */
static void urgent_types_skip_the_flush_wait(void **state)
{
    (void)state;
    fresh("h-urgent", 100);
    g_cfg.redis.flush_ms = 5000;
    g_base = event_base_new();
    qh_mirror *m = mirror_new_urgent(UINT64_C(1) << QTR_EV_SIGNAL);
    assert_true(run_until(m, 5000, connected, NULL));
    qtr_event candle = make(1);
    assert_int_equal(qh_mirror_publish(m, &candle, NULL), QTR_OK);
    int64_t t0 = qh_mono_ns();
    run_until(m, 300, NULL, NULL);
    assert_int_equal(xlen("candle"), 0);   /* still waiting for the flush */
    qtr_event sig;
    memset(&sig, 0, sizeof sig);
    sig.type = QTR_EV_SIGNAL;
    snprintf(sig.u.signal.symbol, sizeof sig.u.signal.symbol, "BTCUSDT");
    sig.u.signal.side = QTR_SIDE_BUY;
    assert_int_equal(qh_mirror_publish(m, &sig, NULL), QTR_OK);
    assert_true(run_until(m, 4000, signal_there, NULL));
    assert_true(qh_mono_ns() - t0 < 4500LL * 1000000);
    assert_int_equal(xlen("candle"), 1);   /* went with it */
    redisContext *c = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:candle", g_cfg.redis.stream_prefix);
    assert_int_equal(redis_fx_read_stream(c, key, g_entries, 2), 1);
    assert_int_equal(g_entries[0].seq, 1);
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    assert_int_equal(redis_fx_read_stream(c, key, g_entries, 2), 1);
    assert_int_equal(g_entries[0].seq, 2);
    redisFree(c);
    qh_mirror_free(m);
    event_base_free(g_base);
}

static void outage_kill_stop_restart_empty(void **state)
{
    (void)state;
    int phase_s = getenv("QTR_BUS_OUTAGE_S") ? atoi(getenv("QTR_BUS_OUTAGE_S")) : 2;
    if (phase_s < 1) phase_s = 1;
    fresh("h-outage", 100000);
    g_base = event_base_new();
    load l = { mirror_new(), 0, 0, false, 0 };
    assert_true(run_until(l.m, 5000, connected, NULL));
    steady(&l, 500);
    /* 1: SIGKILL, down for the phase, back with its data (AOF always) */
    redis_fx_kill(&g_redis, SIGKILL);
    steady(&l, phase_s * 1000);
    qh_mirror_stats s;
    qh_mirror_stats_get(l.m, &s);
    assert_false(s.connected);
    assert_true(s.buffer_depth > 0);
    assert_int_equal(l.worst, QTR_HEALTH_DEGRADED);
    redis_fx_restart(&g_redis, false);
    recover(&l, "SIGKILL");
    /* 2: SIGSTOP for the phase: no reply, the mirror gives up on the link */
    l.worst = 0;
    l.back_ok = false;
    l.peak_depth = 0;
    redis_fx_kill(&g_redis, SIGSTOP);
    steady(&l, phase_s * 1000);
    qh_mirror_stats_get(l.m, &s);
    assert_true(s.buffer_depth > 0);
    assert_int_equal(l.worst, QTR_HEALTH_DEGRADED);
    redis_fx_kill(&g_redis, SIGCONT);
    recover(&l, "SIGSTOP");
    /* everything so far is in this Redis: keep it, then restart it empty */
    assert_true(run_until(l.m, 10000, all_acked, &l.sent));
    uint64_t n1 = l.sent;
    redis_fx_entry *before = calloc(MAXEV, sizeof *before);
    redisContext *c = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:fill", g_cfg.redis.stream_prefix);
    size_t nf = redis_fx_read_stream(c, key, before, MAXEV);
    snprintf(key, sizeof key, "%s:candle", g_cfg.redis.stream_prefix);
    size_t nc = redis_fx_read_stream(c, key, before + nf, MAXEV - nf);
    redisFree(c);
    assert_int_equal(nf + nc, n1);
    /* 3: restart with an empty dataset under load */
    redis_fx_restart(&g_redis, true);
    steady(&l, 1500);
    assert_true(run_until(l.m, 10000, all_acked, &l.sent));
    qh_mirror_free(l.m);
    event_base_free(g_base);
    check_streams("h-outage", l.sent, before, nf, nc);
    free(before);
    fprintf(stderr, "outage figures: %llu events, phases of %d s, each in its stream once in order (0 lost, 0 doubled)\n",
            (unsigned long long)l.sent, phase_s);
}

static void full_buffer_refuses_loudly_then_replays(void **state)
{
    (void)state;
    fresh("h-full", 50);
    redis_fx_kill(&g_redis, SIGKILL);
    g_base = event_base_new();
    qh_mirror *m = mirror_new();
    run_until(m, 300, NULL, NULL);   /* the connect fails */
    int refused = 0;
    for (int i = 0; i < 60; i++) {
        qtr_event ev = make(i);
        int rc = qh_mirror_publish(m, &ev, NULL);
        if (rc == QTR_EFULL) refused++;
        else assert_int_equal(rc, QTR_OK);
    }
    assert_int_equal(refused, 10);
    assert_int_equal(g_full_calls, 1);
    qtr_health h;
    qh_mirror_health(m, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_non_null(strstr(h.reason, "disk buffer full (50 events): 10 refused"));
    qh_mirror_stats s;
    qh_mirror_stats_get(m, &s);
    assert_int_equal(s.dropped, 10);
    assert_int_equal(s.buffer_depth, 50);
    redis_fx_restart(&g_redis, false);
    uint64_t want = 50;
    assert_true(run_until(m, 15000, all_acked, &want));
    qh_mirror_health(m, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    qh_mirror_stats_get(m, &s);
    assert_int_equal(s.replayed, 50);
    qh_mirror_free(m);
    event_base_free(g_base);
    /* the 50 kept are seq 1..50 (the refused ones took 51..60) */
    check_streams("h-full", 50, NULL, 0, 0);
}

static void buffer_of_an_earlier_run_goes_first(void **state)
{
    (void)state;
    fresh("h-restart", 1000);
    redis_fx_kill(&g_redis, SIGKILL);
    g_base = event_base_new();
    qh_mirror *m = mirror_new();
    for (int i = 0; i < 100; i++) {
        qtr_event ev = make(i);
        assert_int_equal(qh_mirror_publish(m, &ev, NULL), QTR_OK);
    }
    qh_mirror_free(m);   /* stopped during the outage: all 100 stay on disk */
    redis_fx_restart(&g_redis, false);
    m = mirror_new();
    for (int i = 100; i < 150; i++) {
        qtr_event ev = make(i);
        uint64_t seq;
        assert_int_equal(qh_mirror_publish(m, &ev, &seq), QTR_OK);
        assert_true(seq > 100);   /* numbers of the earlier run are not reused */
    }
    uint64_t want = 150;
    assert_true(run_until(m, 10000, all_acked, &want));
    qh_mirror_free(m);
    event_base_free(g_base);
    /* new events were published with seq from the next block: check order
     * and presence by reading back rather than 1..150 */
    redisContext *c = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:candle", g_cfg.redis.stream_prefix);
    size_t n = redis_fx_read_stream(c, key, g_entries, MAXEV);
    snprintf(key, sizeof key, "%s:fill", g_cfg.redis.stream_prefix);
    size_t nf = redis_fx_read_stream(c, key, g_entries + n, MAXEV - n);
    redisFree(c);
    assert_int_equal(n + nf, 150);
    /* in each stream, the earlier run's events (seq <= 100) all come first */
    for (size_t i = 1; i < n; i++) assert_true(g_entries[i].seq > g_entries[i - 1].seq);
    for (size_t i = n + 1; i < n + nf; i++) assert_true(g_entries[i].seq > g_entries[i - 1].seq);
}

int main(void)
{
    /* one test by name (cmocka's pattern), e.g. the stress suite's outage */
    if (getenv("QTR_BUS_TEST_FILTER")) cmocka_set_test_filter(getenv("QTR_BUS_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mirrors_once_in_order),
        cmocka_unit_test(urgent_types_skip_the_flush_wait),
        cmocka_unit_test(full_buffer_refuses_loudly_then_replays),
        cmocka_unit_test(buffer_of_an_earlier_run_goes_first),
        cmocka_unit_test(outage_kill_stop_restart_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
