/* bus/mirror_script against a real redis-server on a free loopback port,
 * called directly with EVAL (no mirror, no loop): a batch written again adds
 * only what its streams do not hold, per stream and per host, in order, even
 * when the batch overlaps what is there by a prefix of one stream and not of
 * another; and what each batch costs Redis: one XADD per event, one HGET,
 * HSET and XTRIM per stream (not per event), so the streams stay trimmed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/mirror_script.h"
#include "redis_fixture.h"

#define MAXB 600

static redis_fx g_redis;
static redisContext *g_c;
static redis_fx_entry g_entries[2 * MAXB];

static int setup(void **state)
{
    (void)state;
    if (!redis_fx_start(&g_redis, true)) {
        fprintf(stderr, "redis-server not installed: skipped\n");
        exit(77);
    }
    g_c = redis_fx_client(&g_redis);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    redisFree(g_c);
    redis_fx_stop(&g_redis);
    return 0;
}

static void flushall(void) { freeReplyObject(redisCommand(g_c, "FLUSHALL")); }

/* One batch of host's events seq first..last; event seq goes to stream
 * "x" when odd, "y" when even (interleaved, as a host's types are), unless
 * only_x. The envelope is "<host>:<seq>". Returns the script's count. */
static long long batch(const char *host, uint64_t first, uint64_t last, bool only_x, const char *maxlen)
{
    static const char *argv[6 + 3 * MAXB];
    static size_t len[6 + 3 * MAXB];
    static char seqs[MAXB][24], envs[MAXB][48], numkeys[16];
    size_t n = (size_t)(last - first + 1), a = 0;
    assert_true(n <= MAXB);
    argv[a] = "EVAL"; len[a++] = 4;
    argv[a] = qh_mirror_script; len[a++] = qh_mirror_script_len;
    snprintf(numkeys, sizeof numkeys, "%zu", n + 1);
    argv[a] = numkeys; len[a++] = strlen(numkeys);
    argv[a] = "t:_seq"; len[a++] = 6;
    for (size_t j = 0; j < n; j++) {
        argv[a] = only_x || (first + j) % 2 ? "t:x" : "t:y";
        len[a++] = 3;
    }
    argv[a] = maxlen; len[a++] = strlen(maxlen);
    argv[a] = host; len[a++] = strlen(host);
    for (size_t j = 0; j < n; j++) {
        snprintf(seqs[j], sizeof seqs[j], "%" PRIu64, first + j);
        snprintf(envs[j], sizeof envs[j], "%s:%" PRIu64, host, first + j);
        argv[a] = seqs[j]; len[a++] = strlen(seqs[j]);
        argv[a] = envs[j]; len[a++] = strlen(envs[j]);
    }
    redisReply *r = redisCommandArgv(g_c, (int)a, argv, len);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR) fprintf(stderr, "EVAL: %s\n", r->str);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long added = r->integer;
    freeReplyObject(r);
    return added;
}

/* The stream holds exactly host's seqs want[0..n) in this order, once each. */
static void holds(const char *key, const char *host, const uint64_t *want, size_t n)
{
    size_t got = redis_fx_read_stream(g_c, key, g_entries, sizeof g_entries / sizeof g_entries[0]), k = 0;
    for (size_t i = 0; i < got; i++) {
        if (strcmp(g_entries[i].host, host) != 0) continue;
        assert_true(k < n);
        assert_int_equal(g_entries[i].seq, want[k]);
        char env[48];
        snprintf(env, sizeof env, "%s:%" PRIu64, host, want[k]);
        assert_int_equal(g_entries[i].env_len, strlen(env));
        assert_memory_equal(g_entries[i].env, env, strlen(env));
        k++;
    }
    assert_int_equal(k, n);
}

static void adds_only_what_each_stream_lacks(void **state)
{
    (void)state;
    flushall();
    assert_int_equal(batch("a", 1, 8, false, "1000"), 8);
    /* written again, and overlapping: 5..8 are there (x: 5 7, y: 6 8) */
    assert_int_equal(batch("a", 5, 12, false, "1000"), 4);
    assert_int_equal(batch("a", 1, 12, false, "1000"), 0);
    /* y holds up to 12, x up to 11: 13 is x's first new one, 14 y's */
    assert_int_equal(batch("a", 11, 14, false, "1000"), 2);
    /* one stream all old, the other's prefix old, within one batch */
    assert_int_equal(batch("a", 13, 13, true, "1000"), 0);
    assert_int_equal(batch("a", 15, 15, true, "1000"), 1);
    assert_int_equal(batch("a", 12, 18, false, "1000"), 3);   /* 16 17 18 */
    /* another host is counted on its own */
    assert_int_equal(batch("b", 1, 4, false, "1000"), 4);
    static const uint64_t ax[] = { 1, 3, 5, 7, 9, 11, 13, 15, 17 }, ay[] = { 2, 4, 6, 8, 10, 12, 14, 16, 18 };
    static const uint64_t bx[] = { 1, 3 }, by[] = { 2, 4 };
    holds("t:x", "a", ax, 9);
    holds("t:y", "a", ay, 9);
    holds("t:x", "b", bx, 2);
    holds("t:y", "b", by, 2);
}

static long long cmdstat_calls(const char *info, const char *cmd)
{
    char key[64];
    snprintf(key, sizeof key, "cmdstat_%s:calls=", cmd);
    const char *p = strstr(info, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

static void costs_one_xadd_per_event_and_trims_per_stream(void **state)
{
    (void)state;
    flushall();
    freeReplyObject(redisCommand(g_c, "CONFIG RESETSTAT"));
    assert_int_equal(batch("c", 1, 500, false, "10"), 500);
    redisReply *r = redisCommand(g_c, "INFO commandstats");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    long long xadd = cmdstat_calls(r->str, "xadd"), hget = cmdstat_calls(r->str, "hget"),
              hset = cmdstat_calls(r->str, "hset"), xtrim = cmdstat_calls(r->str, "xtrim");
    freeReplyObject(r);
    assert_int_equal(xadd, 500);
    assert_int_equal(hget, 2);
    assert_int_equal(hset, 2);
    assert_int_equal(xtrim, 2);
    /* the trim took effect: MAXLEN ~ 10 keeps whole nodes (100 entries a node by default) */
    for (int i = 0; i < 2; i++) {
        r = redisCommand(g_c, "XLEN %s", i ? "t:y" : "t:x");
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_true(r->integer < 250);
        assert_true(r->integer >= 10);
        freeReplyObject(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adds_only_what_each_stream_lacks),
        cmocka_unit_test(costs_one_xadd_per_event_and_trims_per_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
