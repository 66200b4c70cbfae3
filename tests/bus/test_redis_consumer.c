/* bus/redis_consumer against a real redis-server: two members of one group
 * never both act on a signal; an entry a dead member left pending is claimed
 * after claim_idle_ms and acted on once; a duplicate delivery is dropped; a
 * stale signal is refused, counted and acknowledged (never executed late);
 * nothing stays pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/redis_consumer.h"
#include "bus/redis_mirror.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "bus_tmpdir.h"
#include "redis_fixture.h"

#define N_SIGNALS 2000

static redis_fx g_redis;
static char g_dir[64], g_buf[128], g_seq[128];
static struct event_base *g_base;
static qh_bus_config g_cfg;
static int g_acted[N_SIGNALS + 1];     /* times each seq was acted on */
static int g_by[2];                    /* how many each member acted on */
static bool g_refuse;                  /* a member that never finishes */
/* what the engine does after queueing a signal: make its drain active; the
 * drain notes whether the XACKs were still unwritten when it ran */
static struct event *g_drain;
static qh_consumer *g_drain_of;
static int g_drains, g_drains_before_ack;

static int setup(void **state)
{
    (void)state;
    if (!redis_fx_start(&g_redis, false)) {
        fprintf(stderr, "redis-server not installed: skipped\n");
        exit(77);
    }
    if (bus_tmpdir(g_dir, sizeof g_dir, "consumer") != 0) return -1;
    snprintf(g_buf, sizeof g_buf, "%s/bus.buf", g_dir);
    snprintf(g_seq, sizeof g_seq, "%s/bus.seq", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    redis_fx_stop(&g_redis);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fresh(int64_t claim_idle_ms)
{
    unlink(g_buf);
    unlink(g_seq);
    memset(&g_cfg, 0, sizeof g_cfg);
    memset(g_acted, 0, sizeof g_acted);
    memset(g_by, 0, sizeof g_by);
    g_refuse = false;
    g_cfg.enabled = true;
    snprintf(g_cfg.host_id, sizeof g_cfg.host_id, "strat-1");
    snprintf(g_cfg.redis.host, sizeof g_cfg.redis.host, "127.0.0.1");
    g_cfg.redis.port = g_redis.port;
    snprintf(g_cfg.redis.stream_prefix, sizeof g_cfg.redis.stream_prefix, "c%d", (int)getpid());
    g_cfg.redis.maxlen = 1000000;
    g_cfg.redis.batch_max = 128;
    g_cfg.redis.flush_ms = 1;
    g_cfg.buffer.max_events = 100000;
    g_cfg.buffer.fsync_ms = 20;
    g_cfg.consume = UINT64_C(1) << QTR_EV_SIGNAL;
    snprintf(g_cfg.group, sizeof g_cfg.group, "execution");
    g_cfg.claim_idle_ms = claim_idle_ms;
    redisContext *c = redis_fx_client(&g_redis);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

typedef struct member {
    int idx;
    qh_bus_config cfg;
    qh_consumer *c;
} member;

static int g_hostile_acted;            /* signals from "x-" hosts acted on */

static int handler(void *ud, const qh_busev *ev)
{
    member *m = ud;
    if (g_refuse && m->idx == 1) return -1;
    assert_int_equal(ev->ev.type, QTR_EV_SIGNAL);
    if (strncmp(ev->host_id, "x-", 2) == 0) {   /* hostile_entries_are_refused's own */
        g_hostile_acted++;
        return 0;
    }
    assert_true(ev->seq >= 1 && ev->seq <= N_SIGNALS);
    g_acted[ev->seq]++;
    g_by[m->idx]++;
    if (g_drain && m->c == g_drain_of) event_active(g_drain, EV_TIMEOUT, 1);
    return 0;
}

static qh_metrics *g_metrics;          /* the members' metrics, when a test wants them */

static void member_start(member *m, int idx, const char *host)
{
    m->idx = idx;
    m->cfg = g_cfg;
    snprintf(m->cfg.host_id, sizeof m->cfg.host_id, "%s", host);
    qh_consumer_opts o = { .base = g_base, .cfg = &m->cfg, .redis_ip = "127.0.0.1", .handler = handler, .ud = m,
                           .max_age_ms = 5000, .reply_timeout_ms = 1000, .metrics = g_metrics };
    char err[256] = "";
    m->c = qh_consumer_new(&o, err, sizeof err);
    if (!m->c) fail_msg("%s", err);
}

static qh_mirror *producer(void)
{
    qh_mirror_opts o = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .buffer_path = g_buf,
                         .seq_path = g_seq, .reply_timeout_ms = 1000 };
    char err[256] = "";
    qh_mirror *p = qh_mirror_new(&o, err, sizeof err);
    if (!p) fail_msg("%s", err);
    return p;
}

static qtr_event a_signal(int64_t time_ms)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = time_ms;
    snprintf(ev.u.signal.symbol, sizeof ev.u.signal.symbol, "BTCUSDT");
    ev.u.signal.time_ms = time_ms;
    ev.u.signal.side = QTR_SIDE_BUY;
    ev.u.signal.qty = QTR_DEC_INT(1);
    return ev;
}

static void publish_signals(qh_mirror *p, int n, int64_t time_ms)
{
    for (int i = 0; i < n; i++) {
        qtr_event ev = a_signal(time_ms);
        snprintf(ev.u.signal.strategy, sizeof ev.u.signal.strategy, "ma_cross");
        assert_int_equal(qh_mirror_publish(p, &ev, NULL), QTR_OK);
    }
}

static void run_ms(int64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    event_base_loopexit(g_base, &tv);
    event_base_dispatch(g_base);
}

static int total_acted(void)
{
    int t = 0;
    for (int i = 1; i <= N_SIGNALS; i++) t += g_acted[i];
    return t;
}

/* Runs until `want` signals were acted on and the group has nothing pending. */
static bool settle(member *ms, int n, int want, int64_t max_ms)
{
    int64_t end = qh_mono_ns() + max_ms * 1000000;
    while (qh_mono_ns() < end) {
        run_ms(20);
        qh_consumer_stats s;
        qh_consumer_stats_get(ms[0].c, &s);
        if (total_acted() >= want && s.pending == 0) {
            bool all = true;
            for (int i = 0; i < n; i++) {
                qh_consumer_stats_get(ms[i].c, &s);
                all = all && s.connected;
            }
            if (all) { run_ms(1200); return true; }   /* one more XPENDING round */
        }
    }
    return false;
}

static void two_members_never_act_twice(void **state)
{
    (void)state;
    fresh(30000);
    g_base = event_base_new();
    member ms[2];
    member_start(&ms[0], 0, "exec-a");
    member_start(&ms[1], 1, "exec-b");
    run_ms(200);
    qh_mirror *p = producer();
    publish_signals(p, N_SIGNALS, qh_wall_ms());
    assert_true(settle(ms, 2, N_SIGNALS, 20000));
    for (int i = 1; i <= N_SIGNALS; i++)
        if (g_acted[i] != 1) fail_msg("signal #%d acted on %d times", i, g_acted[i]);
    assert_int_equal(g_by[0] + g_by[1], N_SIGNALS);
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(s.pending, 0);
    fprintf(stderr, "exec-a acted on %d, exec-b on %d\n", g_by[0], g_by[1]);
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);
    qh_consumer_free(ms[1].c);
    event_base_free(g_base);
}

static void on_drain(evutil_socket_t fd, short what, void *ud)
{
    (void)fd; (void)what; (void)ud;
    g_drains++;
    if (qh_consumer_unsent_bytes(g_drain_of) > 0) g_drains_before_ack++;
}

static void acks_are_written_before_the_order_goes_out(void **state)
{
    (void)state;
    fresh(30000);
    g_base = event_base_new();
    member ms[1];
    member_start(&ms[0], 0, "exec-a");
    g_drain = event_new(g_base, -1, 0, on_drain, NULL);
    g_drain_of = ms[0].c;
    g_drains = g_drains_before_ack = 0;
    run_ms(200);
    qh_mirror *p = producer();
    for (int i = 0; i < 20; i++) {
        publish_signals(p, 5, qh_wall_ms());
        run_ms(30);
    }
    assert_true(settle(ms, 1, 100, 10000));
    assert_true(g_drains > 0);
    assert_int_equal(g_drains_before_ack, 0);
    event_free(g_drain);
    g_drain = NULL;
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);
    event_base_free(g_base);
}

static void a_dead_members_entries_are_claimed_once(void **state)
{
    (void)state;
    fresh(300);
    g_base = event_base_new();
    member ms[2];
    /* exec-b reads everything and never finishes (then dies) */
    g_refuse = true;
    member_start(&ms[1], 1, "exec-b");
    run_ms(200);
    qh_mirror *p = producer();
    publish_signals(p, 200, qh_wall_ms());
    run_ms(500);
    qh_consumer_stats sb;
    qh_consumer_stats_get(ms[1].c, &sb);
    assert_true(sb.not_handled >= 200);
    assert_int_equal(total_acted(), 0);
    qh_consumer_free(ms[1].c);    /* it dies with 200 pending */
    g_refuse = false;
    member_start(&ms[0], 0, "exec-a");
    assert_true(settle(ms, 1, 200, 15000));
    for (int i = 1; i <= 200; i++)
        if (g_acted[i] != 1) fail_msg("signal #%d acted on %d times", i, g_acted[i]);
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_true(s.claimed >= 200);
    assert_int_equal(s.pending, 0);
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);
    event_base_free(g_base);
}

static void duplicates_and_stale_signals_are_refused(void **state)
{
    (void)state;
    fresh(30000);
    g_base = event_base_new();
    member ms[1];
    member_start(&ms[0], 0, "exec-a");
    run_ms(200);
    qh_mirror *p = producer();
    publish_signals(p, 10, qh_wall_ms());
    publish_signals(p, 5, qh_wall_ms() - 60000);   /* a minute old: stale */
    assert_true(settle(ms, 1, 10, 10000));
    /* a duplicate delivery: the same envelope added again by hand */
    redisContext *rc = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    redis_fx_entry e[20];
    size_t n = redis_fx_read_stream(rc, key, e, 20);
    assert_int_equal(n, 15);
    redisReply *r = redisCommand(rc, "XADD %s * h %s s %llu e %b", key, e[3].host, (unsigned long long)e[3].seq,
                                 e[3].env, e[3].env_len);
    freeReplyObject(r);
    redisFree(rc);
    run_ms(500);
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(total_acted(), 10);
    assert_int_equal(g_acted[4], 1);
    assert_int_equal(s.stale, 5);
    assert_int_equal(s.duplicates, 1);
    assert_true(settle(ms, 1, 10, 5000));
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(s.pending, 0);
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);
    event_base_free(g_base);
}

/* An envelope of `host`#seq written into `key` by hand, as anyone with
 * access to Redis could. */
static void xadd_event(redisContext *rc, const char *key, const char *host, uint64_t seq, const qtr_event *ev)
{
    unsigned char buf[4096];
    size_t n = qh_busev_encode(host, seq, ev, NULL, buf, sizeof buf);
    assert_true(n > 0);
    freeReplyObject(redisCommand(rc, "XADD %s * h %s s %llu e %b", key, host, (unsigned long long)seq, buf, n));
}


/* One member, exec-a, connected on a fresh stream (bus.key_env set to
 * key_env unless NULL): the set-up of the tests of hostile entries. */
static void one_member(member *m, const char *key_env)
{
    fresh(30000);
    if (key_env) snprintf(g_cfg.key_env, sizeof g_cfg.key_env, "%s", key_env);
    g_base = event_base_new();
    g_hostile_acted = 0;
    member_start(m, 0, "exec-a");
    run_ms(200);
}

/* What a probe wrote into the signal stream: another type (a candle, a
 * fill: booked, or pricing orders, before this), a signal from the future,
 * a number below the window after a forged jump, and hosts beyond those the
 * dedupe window remembers (acted on twice before). Each is refused,
 * acknowledged and counted, never handed to the handler. */
static void hostile_entries_are_refused(void **state)
{
    (void)state;
    member ms[1];
    one_member(&ms[0], NULL);
    redisContext *rc = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    int64_t now = qh_wall_ms();

    qtr_event candle;
    memset(&candle, 0, sizeof candle);
    candle.type = QTR_EV_CANDLE;
    candle.time_ms = now;
    snprintf(candle.u.candle.symbol, sizeof candle.u.candle.symbol, "BTCUSDT");
    candle.u.candle.open = candle.u.candle.high = candle.u.candle.low = candle.u.candle.close = QTR_DEC_INT(1);
    candle.u.candle.open_time_ms = now - 60000;
    candle.u.candle.close_time_ms = now - 1;
    xadd_event(rc, key, "x-evil", 1, &candle);
    qtr_event fill;
    memset(&fill, 0, sizeof fill);
    fill.type = QTR_EV_FILL;
    fill.time_ms = now;
    snprintf(fill.u.fill.symbol, sizeof fill.u.fill.symbol, "BTCUSDT");
    snprintf(fill.u.fill.fill_id, sizeof fill.u.fill.fill_id, "forged-fill-0001");
    fill.u.fill.qty = fill.u.fill.price = QTR_DEC_INT(1);
    xadd_event(rc, key, "x-evil", 2, &fill);

    qtr_event ahead = a_signal(now + 60000);   /* a minute ahead: max_age_ms is 5 s */
    xadd_event(rc, key, "x-future", 1, &ahead);

    qtr_event sig = a_signal(now);
    xadd_event(rc, key, "x-jump", 1000000, &sig);   /* acted on: nothing tells it from a real one */
    xadd_event(rc, key, "x-jump", 5, &sig);         /* below the window now */
    run_ms(500);
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(g_hostile_acted, 1);
    assert_int_equal(s.refused, 3);
    assert_int_equal(s.stale, 1);
    assert_non_null(strstr(s.last_refusal, "x-jump#5 is below"));
    assert_non_null(strstr(s.last_refusal, key));
    assert_true(s.last_refused_ms >= now);

    /* 300 stale signals from as many hosts fill the hosts remembered */
    qtr_event old = a_signal(now - 60000);
    for (int i = 0; i < 300; i++) {
        char host[16];
        snprintf(host, sizeof host, "x-flood-%d", i);
        xadd_event(rc, key, host, 1, &old);
    }
    xadd_event(rc, key, "x-late", 1, &sig);
    xadd_event(rc, key, "x-late", 1, &sig);   /* the same envelope again */
    run_ms(800);
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(g_hostile_acted, 1);
    /* x-future and x-jump took two of the 256 places, the first 254 flood
     * hosts the rest: the other 46 flood signals are refused for want of
     * room (stale as well), and x-late twice */
    assert_int_equal(s.refused, 3 + (300 - 254) + 2);
    assert_non_null(strstr(s.last_refusal, "no room for x-late"));
    assert_true(settle(ms, 1, 0, 5000));
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(s.pending, 0);   /* every one acknowledged: none comes back */
    redisFree(rc);
    qh_consumer_free(ms[0].c);
    event_base_free(g_base);
}

#define BUS_KEY "0123456789abcdef0123456789abcdef-bus-key"
#define OTHER_KEY "0123456789abcdef0123456789abcdef-not-the-key"

/* With bus.key_env, the mirror signs and the consumer takes only what is
 * signed with the same key: what anyone with access to Redis writes (an
 * unsigned envelope, one signed with another key, a real one altered) is
 * refused, acknowledged and counted, never handed to the handler. Without
 * the key's variable neither starts. */
static void a_signed_bus_takes_only_entries_signed_with_its_key(void **state)
{
    (void)state;
    setenv("QTR_TEST_BUS_KEY", BUS_KEY, 1);
    member ms[1];
    one_member(&ms[0], "QTR_TEST_BUS_KEY");
    qh_mirror *p = producer();
    publish_signals(p, 5, qh_wall_ms());
    assert_true(settle(ms, 1, 5, 10000));

    redisContext *rc = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    redis_fx_entry e[8];
    assert_int_equal(redis_fx_read_stream(rc, key, e, 8), 5);
    assert_int_equal(((const unsigned char *)e[0].env)[0], 2);   /* written signed */

    qtr_event sig = a_signal(qh_wall_ms());
    xadd_event(rc, key, "x-unsigned", 1, &sig);
    qc_hmac *other = qc_hmac_new(OTHER_KEY, strlen(OTHER_KEY));
    unsigned char buf[4096];
    size_t n = qh_busev_encode("x-otherkey", 1, &sig, other, buf, sizeof buf);
    assert_true(n > 0);
    freeReplyObject(redisCommand(rc, "XADD %s * h %s s %s e %b", key, "x-otherkey", "1", buf, n));
    qc_hmac_free(other);
    /* a real entry with its quantity changed, under its own h and s */
    assert_true(e[0].env_len <= sizeof buf);
    memcpy(buf, e[0].env, e[0].env_len);
    buf[e[0].env_len - QC_HMAC_LEN - 1] ^= 0x40;
    freeReplyObject(redisCommand(rc, "XADD %s * h %s s %llu e %b", key, e[0].host, (unsigned long long)e[0].seq + 100,
                                 buf, e[0].env_len));
    run_ms(500);
    qh_consumer_stats st;
    qh_consumer_stats_get(ms[0].c, &st);
    assert_int_equal(g_hostile_acted, 0);
    assert_int_equal(total_acted(), 5);
    assert_int_equal(st.refused, 3);
    assert_int_equal(st.undecodable, 0);
    assert_non_null(strstr(st.last_refusal, "does not check"));
    assert_true(settle(ms, 1, 5, 5000));
    qh_consumer_stats_get(ms[0].c, &st);
    assert_int_equal(st.pending, 0);   /* acknowledged: none comes back */
    redisFree(rc);
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);

    /* the variable unset: neither side starts, and says why */
    unsetenv("QTR_TEST_BUS_KEY");
    char err[256] = "";
    qh_consumer_opts co = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .handler = handler };
    assert_null(qh_consumer_new(&co, err, sizeof err));
    assert_non_null(strstr(err, "bus.key_env: QTR_TEST_BUS_KEY is not set"));
    qh_mirror_opts mo = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .buffer_path = g_buf,
                          .seq_path = g_seq };
    err[0] = '\0';
    assert_null(qh_mirror_new(&mo, err, sizeof err));
    assert_non_null(strstr(err, "bus.key_env: QTR_TEST_BUS_KEY is not set"));
    event_base_free(g_base);
}

#define NEXT_KEY "0123456789abcdef0123456789abcdef-the-next-key"

/* Changing the key without losing an entry (docs/bus.md, "Changing the
 * key"): an execution host that signs with the new key and accepts the old
 * one takes what a strategy host still on the old key wrote, then what it
 * writes once restarted on the new one; bus_entries_accept_key_total counts
 * the first, so an operator sees when the old key is no longer in use. A
 * third key is still refused; without the second key the old entries are;
 * with its variable unset the consumer does not start. */
static void a_second_key_takes_the_old_entries_while_the_key_changes(void **state)
{
    (void)state;
    setenv("QTR_TEST_BUS_KEY", BUS_KEY, 1);             /* the old key */
    setenv("QTR_TEST_BUS_KEY_NEXT", NEXT_KEY, 1);       /* the new one */
    fresh(30000);
    g_base = event_base_new();
    g_hostile_acted = 0;
    g_metrics = qh_metrics_new();
    snprintf(g_cfg.key_env, sizeof g_cfg.key_env, "QTR_TEST_BUS_KEY_NEXT");
    snprintf(g_cfg.accept_key_env, sizeof g_cfg.accept_key_env, "QTR_TEST_BUS_KEY");
    member ms[2];
    member_start(&ms[0], 0, "exec-a");
    run_ms(200);

    /* the strategy host, not yet changed: signs with the old key */
    snprintf(g_cfg.key_env, sizeof g_cfg.key_env, "QTR_TEST_BUS_KEY");
    g_cfg.accept_key_env[0] = '\0';
    qh_mirror *p = producer();
    publish_signals(p, 5, qh_wall_ms());
    assert_true(settle(ms, 1, 5, 10000));
    qh_mirror_free(p);
    /* another strategy host, changed already: signs with the new key */
    snprintf(g_cfg.key_env, sizeof g_cfg.key_env, "QTR_TEST_BUS_KEY_NEXT");
    snprintf(g_cfg.host_id, sizeof g_cfg.host_id, "strat-2");
    char seq2[sizeof g_seq + 8];
    snprintf(seq2, sizeof seq2, "%s.2", g_seq);
    unlink(seq2);
    qh_mirror_opts mo = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .buffer_path = g_buf,
                          .seq_path = seq2, .reply_timeout_ms = 1000 };
    char err[256] = "";
    p = qh_mirror_new(&mo, err, sizeof err);
    if (!p) fail_msg("%s", err);
    publish_signals(p, 5, qh_wall_ms());
    assert_true(settle(ms, 1, 10, 10000));
    qh_consumer_stats st;
    qh_consumer_stats_get(ms[0].c, &st);
    for (int i = 1; i <= 5; i++) assert_int_equal(g_acted[i], 2);   /* strat-1#i and strat-2#i */
    assert_int_equal(st.handled, 10);
    assert_int_equal(st.refused, 0);
    assert_int_equal(st.accept_key, 5);
    assert_int_equal(qh_metric_count(qh_metrics_counter(g_metrics, "bus_entries_accept_key_total", "", NULL, NULL)), 5);

    /* a key that is neither: refused, acknowledged, never acted on */
    redisContext *rc = redis_fx_client(&g_redis);
    char key[64];
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    qtr_event sig = a_signal(qh_wall_ms());
    unsigned char buf[4096];
    qc_hmac *other = qc_hmac_new(OTHER_KEY, strlen(OTHER_KEY)), *old = qc_hmac_new(BUS_KEY, strlen(BUS_KEY));
    size_t n = qh_busev_encode("x-otherkey", 1, &sig, other, buf, sizeof buf);
    assert_true(n > 0);
    freeReplyObject(redisCommand(rc, "XADD %s * h %s s %s e %b", key, "x-otherkey", "1", buf, n));
    run_ms(500);
    qh_consumer_stats_get(ms[0].c, &st);
    assert_int_equal(st.refused, 1);
    assert_non_null(strstr(st.last_refusal, "nor bus.accept_key_env's"));
    assert_int_equal(g_hostile_acted, 0);
    qh_consumer_free(ms[0].c);

    /* the change done, the old key dropped: what it signs is refused */
    g_cfg.accept_key_env[0] = '\0';
    member_start(&ms[1], 1, "exec-b");
    run_ms(200);
    n = qh_busev_encode("x-oldkey", 1, &sig, old, buf, sizeof buf);
    freeReplyObject(redisCommand(rc, "XADD %s * h %s s %s e %b", key, "x-oldkey", "1", buf, n));
    publish_signals(p, 1, qh_wall_ms());
    assert_true(settle(&ms[1], 1, 11, 10000));
    qh_consumer_stats_get(ms[1].c, &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.accept_key, 0);
    assert_non_null(strstr(st.last_refusal, "does not check"));
    assert_int_equal(g_hostile_acted, 0);
    qc_hmac_free(other);
    qc_hmac_free(old);
    redisFree(rc);
    qh_mirror_free(p);
    qh_consumer_free(ms[1].c);

    unlink(seq2);
    /* the second key's variable unset: the consumer does not start */
    snprintf(g_cfg.accept_key_env, sizeof g_cfg.accept_key_env, "QTR_TEST_BUS_KEY_GONE");
    unsetenv("QTR_TEST_BUS_KEY_GONE");
    qh_consumer_opts co = { .base = g_base, .cfg = &g_cfg, .redis_ip = "127.0.0.1", .handler = handler };
    assert_null(qh_consumer_new(&co, err, sizeof err));
    assert_non_null(strstr(err, "bus.accept_key_env: QTR_TEST_BUS_KEY_GONE is not set"));
    unsetenv("QTR_TEST_BUS_KEY");
    unsetenv("QTR_TEST_BUS_KEY_NEXT");
    event_base_free(g_base);
    qh_metrics_free(g_metrics);
    g_metrics = NULL;
}

/* Runs until the member has refused `want` entries and nothing is pending. */
static bool settle_refused(member *m, uint64_t want, int64_t max_ms)
{
    int64_t end = qh_mono_ns() + max_ms * 1000000;
    while (qh_mono_ns() < end) {
        run_ms(50);
        qh_consumer_stats st;
        qh_consumer_stats_get(m->c, &st);
        if (st.refused >= want && st.connected) return true;
    }
    return false;
}

/* The process's peak resident memory (VmHWM), in KiB. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/* An entry far larger than any event, as anyone who can write to Redis can
 * add: one of 100 MiB (a bulk string hiredis would buffer whole, written by
 * redis-cli so this process never holds it) and twelve of 1 MiB (strings it
 * would make one by one, 12 MiB in one reply). Neither is read into a
 * reply: the connection closes at 8 MiB (the peak memory grows by far less
 * than the entry), the entries are measured and acknowledged inside Redis,
 * refused and counted, and the signals around them are acted on. */
static void entries_too_large_are_refused_without_being_read(void **state)
{
    (void)state;
    member ms[1];
    one_member(&ms[0], NULL);
    qh_mirror *p = producer();
    publish_signals(p, 3, qh_wall_ms());
    assert_true(settle(ms, 1, 3, 10000));

    char key[64], cmd[256];
    snprintf(key, sizeof key, "%s:signal", g_cfg.redis.stream_prefix);
    long peak_before = peak_rss_kib();
    assert_true(peak_before > 0);
    snprintf(cmd, sizeof cmd, "head -c %d /dev/zero | redis-cli -p %d -x XADD %s '*' h x-big s 1 e >/dev/null",
             100 << 20, g_redis.port, key);
    assert_int_equal(system(cmd), 0);
    assert_true(settle_refused(&ms[0], 1, 20000));
    qh_consumer_stats st;
    qh_consumer_stats_get(ms[0].c, &st);
    /* its fields: h x-big s 1 e and the 100 MiB */
    if (!strstr(st.last_refusal, "an entry of 104857609 bytes: larger than any event")) fail_msg("%s", st.last_refusal);
    assert_int_equal(st.replies_too_large, 1);   /* closed at 8 MiB, not read whole */
    assert_non_null(strstr(st.last_error, "a reply over 8 MiB"));
    long grew = peak_rss_kib() - peak_before;
    /* under 80 MiB: the bound, the reader's doubling buffer and what a sanitizer keeps
     * (8.4 MiB measured in a Debug build, 50 MiB under ASan; read whole, 100 MiB and more) */
    if (grew > 80 * 1024) fail_msg("the peak memory grew by %ld KiB for a 100 MiB entry", grew);

    redisContext *rc = redis_fx_client(&g_redis);
    char *junk = malloc((size_t)1 << 20);
    assert_non_null(junk);
    memset(junk, 'x', (size_t)1 << 20);
    for (int i = 0; i < 12; i++)
        freeReplyObject(redisCommand(rc, "XADD %s * h %s s %d e %b", key, "x-big", i + 2, junk, (size_t)1 << 20));
    free(junk);
    assert_true(settle_refused(&ms[0], 13, 10000));
    publish_signals(p, 3, qh_wall_ms());
    assert_true(settle(ms, 1, 6, 10000));
    qh_consumer_stats_get(ms[0].c, &st);
    assert_int_equal(total_acted(), 6);
    assert_int_equal(g_hostile_acted, 0);
    assert_int_equal(st.refused, 13);
    assert_int_equal(st.undecodable, 0);
    /* the twelve in one reply, or the first alone (it woke the blocked
     * read, 1 MiB: read, and refused for its size) and eleven in the next */
    assert_int_equal(st.replies_too_large, 2);
    assert_int_equal(st.pending, 0);
    redisFree(rc);
    qh_mirror_free(p);
    qh_consumer_free(ms[0].c);
    event_base_free(g_base);
}

/* An entry written by hand with the fields given (name, value; a value
 * NULL is the envelope of env_host#env_seq): fields left out, twice, or
 * saying another host or number than the envelope. Its id in id_out. */
static void xadd_fields(redisContext *rc, const char *key, const char *env_host, uint64_t env_seq, const qtr_event *ev,
                        const char *const *fields, size_t n_fields, char *id_out, size_t id_cap)
{
    unsigned char buf[4096];
    size_t n = qh_busev_encode(env_host, env_seq, ev, NULL, buf, sizeof buf);
    assert_true(n > 0);
    const char *argv[16];
    size_t len[16], a = 0;
    argv[a] = "XADD"; len[a++] = 4;
    argv[a] = key; len[a++] = strlen(key);
    argv[a] = "*"; len[a++] = 1;
    for (size_t i = 0; i + 1 < n_fields && a + 2 <= 16; i += 2) {
        argv[a] = fields[i]; len[a++] = strlen(fields[i]);
        if (fields[i + 1]) { argv[a] = fields[i + 1]; len[a++] = strlen(fields[i + 1]); }
        else { argv[a] = (const char *)buf; len[a++] = n; }
    }
    redisReply *r = redisCommandArgv(rc, (int)a, argv, len);
    assert_non_null(r);
    if (r->type != REDIS_REPLY_STRING) fail_msg("XADD: %s", r->str ? r->str : "?");
    snprintf(id_out, id_cap, "%s", r->str);
    freeReplyObject(r);
}

static size_t lines_with(const char *path, const char *a, const char *b)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, in))
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
    fclose(in);
    return n;
}

/* One consumer "exec-a" of a fresh stream whose log goes to log_path (in
 * the test's folder), a client to write entries by hand, and the signal
 * stream's key: what the tests of refused entries start from. */
typedef struct logged_member {
    member m;
    FILE *log;
    char log_path[128];
    redisContext *rc;
    char key[64];
} logged_member;

static void logged_member_start(logged_member *lm, bool with_metrics)
{
    fresh(30000);
    g_base = event_base_new();
    g_hostile_acted = 0;
    if (with_metrics) g_metrics = qh_metrics_new();
    snprintf(lm->log_path, sizeof lm->log_path, "%s/consumer.log", g_dir);
    lm->log = fopen(lm->log_path, "w");
    assert_non_null(lm->log);
    setvbuf(lm->log, NULL, _IOLBF, 0);
    qh_log_init(lm->log, QH_LOG_INFO, false);
    member_start(&lm->m, 0, "exec-a");
    run_ms(200);
    lm->rc = redis_fx_client(&g_redis);
    snprintf(lm->key, sizeof lm->key, "%s:signal", g_cfg.redis.stream_prefix);
}

static void logged_member_stop(logged_member *lm)
{
    redisFree(lm->rc);
    qh_consumer_free(lm->m.c);
    event_base_free(g_base);
    qh_log_init(stderr, QH_LOG_INFO, false);
    fclose(lm->log);
    qh_metrics_free(g_metrics);
    g_metrics = NULL;
}

/* The fields h and s beside the envelope must say what the envelope says:
 * an entry whose fields name another host (a trusted one, say) or another
 * number, leave one out or give it twice, is refused like the other
 * hostile entries: never handed to the handler, logged with its stream and
 * entry id, counted in bus_entries_refused_total, kept as the last refusal
 * (what bus_redis's health shows), acknowledged. Nor is it remembered: the
 * same envelope in an entry that agrees with it is acted on, once. */
static void entries_whose_fields_disagree_with_their_envelope_are_refused(void **state)
{
    (void)state;
    logged_member lm;
    logged_member_start(&lm, true);
    member *ms = &lm.m;
    redisContext *rc = lm.rc;
    const char *key = lm.key, *log_path = lm.log_path;
    qtr_event sig = a_signal(qh_wall_ms());

    static const struct {
        const char *env_host;
        const char *fields[8];     /* name, value (NULL: the envelope) */
        size_t n;
        const char *says;          /* in the refusal */
    } cases[] = {
        { "x-hs-a", { "h", "strat-1", "s", "1", "e", NULL }, 6, "h 'strat-1' s '1' disagree with its envelope's x-hs-a#1" },
        { "x-hs-b", { "h", "x-hs-b", "s", "2", "e", NULL }, 6, "h 'x-hs-b' s '2' disagree with its envelope's x-hs-b#1" },
        { "x-hs-c", { "h", "x-hs-c", "s", "01", "e", NULL }, 6, "s '01' disagree with its envelope's x-hs-c#1" },
        { "x-hs-d", { "s", "1", "e", NULL }, 4, "h (none) s '1'" },
        { "x-hs-e", { "h", "x-hs-e", "e", NULL }, 4, "s (none) disagree" },
        { "x-hs-f", { "h", "x-hs-f", "h", "strat-1", "s", "1", "e", NULL }, 8, "h (2 of them) s '1'" },
    };
    size_t n_cases = sizeof cases / sizeof cases[0];
    char ids[8][48];
    for (size_t i = 0; i < n_cases; i++)
        xadd_fields(rc, key, cases[i].env_host, 1, &sig, cases[i].fields, cases[i].n, ids[i], sizeof ids[i]);
    run_ms(500);
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(g_hostile_acted, 0);
    assert_int_equal(s.refused, n_cases);
    assert_int_equal(qh_metric_count(qh_metrics_counter(g_metrics, "bus_entries_refused_total", "", NULL, NULL)),
                     (int64_t)n_cases);
    assert_non_null(strstr(s.last_refusal, key));
    assert_non_null(strstr(s.last_refusal, ids[n_cases - 1]));
    assert_non_null(strstr(s.last_refusal, cases[n_cases - 1].says));
    assert_true(s.last_refused_ms > 0);
    for (size_t i = 0; i < n_cases; i++) {
        char entry[512];
        snprintf(entry, sizeof entry, "entry %s of %s refused: its fields", ids[i], key);
        if (lines_with(log_path, entry, cases[i].says) != 1)
            fail_msg("no one log line with '%s' and '%s'", entry, cases[i].says);
    }

    /* the envelope of the first, in an entry whose fields agree: acted on */
    static const char *const agree[] = { "h", "x-hs-a", "s", "1", "e", NULL };
    char id[48];
    xadd_fields(rc, key, "x-hs-a", 1, &sig, agree, 6, id, sizeof id);
    xadd_fields(rc, key, "x-hs-a", 1, &sig, agree, 6, id, sizeof id);   /* and a duplicate of it */
    run_ms(500);
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(g_hostile_acted, 1);
    assert_int_equal(s.refused, n_cases);
    assert_int_equal(s.duplicates, 1);
    assert_true(settle(ms, 1, 0, 5000));
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(s.pending, 0);   /* every one acknowledged: none comes back */
    logged_member_stop(&lm);
}

/* A flood of undecodable entries, or of stale signals (a backlog after an
 * outage), is logged as refused entries are (bus/log_sample.h): lines for
 * the first 20, then the 32nd, each with the count so far; every one is
 * still counted and acknowledged. */
static void floods_of_undecodable_and_stale_entries_are_sampled_in_the_log(void **state)
{
    (void)state;
    logged_member lm;
    logged_member_start(&lm, false);
    member *ms = &lm.m;
    redisContext *rc = lm.rc;
    const char *key = lm.key, *log_path = lm.log_path;
    enum { FLOOD = 40 };
    for (int i = 0; i < FLOOD; i++) {
        redisReply *r = redisCommand(rc, "XADD %s * e %b", key, "garbage", (size_t)7);
        assert_non_null(r);
        freeReplyObject(r);
    }
    qtr_event old = a_signal(qh_wall_ms() - 60000);   /* a minute old: max_age_ms is 5 s */
    for (int i = 1; i <= FLOOD; i++) {
        char seq[24], id[48];
        snprintf(seq, sizeof seq, "%d", i);
        const char *const fields[] = { "h", "x-backlog", "s", seq, "e", NULL };
        xadd_fields(rc, key, "x-backlog", (uint64_t)i, &old, fields, 6, id, sizeof id);
    }
    run_ms(800);
    assert_true(settle(ms, 1, 0, 5000));
    qh_consumer_stats s;
    qh_consumer_stats_get(ms[0].c, &s);
    assert_int_equal(s.undecodable, FLOOD);
    assert_int_equal(s.stale, FLOOD);
    assert_int_equal(s.pending, 0);
    assert_int_equal(g_hostile_acted, 0);
    assert_int_equal(lines_with(log_path, "undecodable entry", NULL), 21);
    assert_int_equal(lines_with(log_path, "(32 undecodable so far)", NULL), 1);
    assert_int_equal(lines_with(log_path, "refused: stale,", NULL), 21);
    assert_int_equal(lines_with(log_path, "x-backlog#32 ", "32 stale so far)"), 1);
    logged_member_stop(&lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_members_never_act_twice),
        cmocka_unit_test(acks_are_written_before_the_order_goes_out),
        cmocka_unit_test(a_dead_members_entries_are_claimed_once),
        cmocka_unit_test(duplicates_and_stale_signals_are_refused),
        cmocka_unit_test(hostile_entries_are_refused),
        cmocka_unit_test(a_signed_bus_takes_only_entries_signed_with_its_key),
        cmocka_unit_test(a_second_key_takes_the_old_entries_while_the_key_changes),
        cmocka_unit_test(entries_too_large_are_refused_without_being_read),
        cmocka_unit_test(entries_whose_fields_disagree_with_their_envelope_are_refused),
        cmocka_unit_test(floods_of_undecodable_and_stale_entries_are_sampled_in_the_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
