/* An execution host's engine over a real redis-server (free loopback port,
 * started here): what other hosts write into its signal stream.
 *
 *  - a signal the pipeline refuses as invalid (a bad quantity, side,
 *    confidence or symbol) is never sent, is counted where a local one is
 *    (qtr_signal_drops_total{reason="invalid"}, or
 *    qtr_orders_total{result="rejected_invalid"} for what the order path
 *    refuses), and leaves a log line naming its host, number, stream entry
 *    and reason; a flood of them is logged the first 20 times, then at each
 *    power of two, and one with a bad symbol takes no place in the queue and
 *    makes no ORDER_UPDATE (nothing for the store or Redis); none of it is a
 *    refused entry of the bus;
 *  - an entry whose fields h and s disagree with its envelope is not acted
 *    on, and bus_redis's health says so. */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/event_codec.h"
#include "core/clock.h"
#include "engine_fixture.h"
#include "redis_fixture.h"

static redis_fx g_redis;

static int setup(void **state)
{
    (void)state;
    if (!redis_fx_start(&g_redis, false)) {
        fprintf(stderr, "redis-server not installed: skipped\n");
        exit(77);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    redis_fx_stop(&g_redis);
    return 0;
}

/* An execution host "exec-t" reading <prefix>:signal, with a policy that
 * takes any order and a price for BTCUSDT, started. */
static efx *execution_host(const char *prefix)
{
    char extra[512];
    snprintf(extra, sizeof extra,
             "  host_id = 'exec-t', role = 'execution',\n"
             "  bus = { redis = { url = 'redis://127.0.0.1:%d/0', stream_prefix = '%s', flush_ms = 1 },\n"
             "          mirror = { 'order_update' }, consume = { 'signal' }, group = 'execution' },\n",
             g_redis.port, prefix);
    efx *f = efx_new_with(extra);
    assert_non_null(f->e->bus_link);
    efx_open_policy_and_price(f);
    char err[256] = "";
    assert_int_equal(qh_engine_start(f->e, err, sizeof err), 0);
    return f;
}

static qtr_event a_signal(const char *symbol)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.time_ms = qh_wall_ms();
    qtr_signal *s = &ev.u.signal;
    snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
    snprintf(s->strategy, sizeof s->strategy, "ma_cross");
    s->time_ms = ev.time_ms;
    s->side = QTR_SIDE_BUY;
    s->type = QTR_ORDER_MARKET;
    s->tif = QTR_TIF_GTC;
    s->qty = QTR_DEC_INT(1) / 1000;
    s->confidence = 0.9;
    return ev;
}

/* XADD of host#seq's envelope with fields h and s as given (NULL: the
 * envelope's own, as the mirror writes them); its entry id in id. */
static void xadd(redisContext *rc, const char *key, const char *host, uint64_t seq, const qtr_event *ev,
                 const char *h, const char *s, char *id, size_t idcap)
{
    unsigned char buf[4096];
    size_t n = qh_busev_encode(host, seq, ev, NULL, buf, sizeof buf);
    assert_true(n > 0);
    char seqtxt[24];
    snprintf(seqtxt, sizeof seqtxt, "%llu", (unsigned long long)seq);
    redisReply *r = redisCommand(rc, "XADD %s * h %s s %s e %b", key, h ? h : host, s ? s : seqtxt, buf, n);
    assert_non_null(r);
    if (r->type != REDIS_REPLY_STRING) fail_msg("XADD: %s", r->str ? r->str : "?");
    if (id) snprintf(id, idcap, "%s", r->str);
    freeReplyObject(r);
}

static void run_ms(efx *f, int64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    event_base_loopexit(f->base, &tv);
    event_base_dispatch(f->base);
}

static const char *bus_redis_health(efx *f, qtr_component_health *c)
{
    qtr_component_health all[64];
    size_t n = qh_engine_health(f->e, all, 64);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].component, "bus_redis") == 0) {
            *c = all[i];
            return c->health.reason;
        }
    fail_msg("no bus_redis in the health");
    return NULL;
}

#define FLOOD 100

static void invalid_remote_signals_are_logged_with_their_source_and_counted(void **state)
{
    (void)state;
    efx *f = execution_host("tsig");
    fx_exchange *x = efx_exchange(f);
    efx_seen updates;
    efx_watch(f->e, QTR_EV_ORDER_UPDATE, &updates);
    redisContext *rc = redis_fx_client(&g_redis);
    const char *key = "tsig:signal";

    /* seven ways to be invalid, and what the log line says of each */
    static const char *const why[7] = {
        "refused: invalid signal: qty", "refused: invalid signal: qty", "refused: invalid signal: side",
        "refused: invalid signal: confidence", "refused: invalid signal: symbol", "refused: invalid: symbol",
        "refused: invalid: symbol",
    };
    qtr_event ev[7];
    for (int i = 0; i < 7; i++) ev[i] = a_signal("BTCUSDT");
    ev[0].u.signal.qty = 0;
    ev[1].u.signal.qty = -QTR_DEC_INT(1);
    ev[2].u.signal.side = (qtr_side)7;
    ev[3].u.signal.confidence = 1.5;
    ev[4].u.signal.symbol[0] = '\0';
    snprintf(ev[5].u.signal.symbol, sizeof ev[5].u.signal.symbol, "btcusdt");    /* the queue takes it */
    snprintf(ev[6].u.signal.symbol, sizeof ev[6].u.signal.symbol, "BTC/USDT");   /* the queue takes it */

    /* strat-9#1 is valid: the path from Redis to the exchange is open */
    char ids[8][48];
    qtr_event ok = a_signal("BTCUSDT");
    xadd(rc, key, "strat-9", 1, &ok, NULL, NULL, ids[0], sizeof ids[0]);
    for (int i = 0; i < 7; i++) xadd(rc, key, "strat-9", (uint64_t)i + 2, &ev[i], NULL, NULL, ids[i + 1], sizeof ids[i + 1]);
    /* then a flood, strat-9#100..#199: a quantity of 0 and a bad symbol by turns */
    for (int i = 0; i < FLOOD; i++) xadd(rc, key, "strat-9", (uint64_t)i + 100, &ev[i % 2 ? 5 : 0], NULL, NULL, NULL, 0);

    /* 7 + 100 refused: logged 20 times, then at the 32nd and the 64th */
    const size_t want_lines = 22;
    int64_t end = qh_mono_ns() + 15 * INT64_C(1000000000);
    while (qh_mono_ns() < end && (efx_log_count(f, "from other hosts refused as invalid so far") < want_lines ||
                                  x->n_orders < 1 || qh_sigq_depth(f->e->sigq) > 0))
        run_ms(f, 50);
    run_ms(f, 300);   /* anything late would show */

    assert_int_equal(x->n_orders, 1);                   /* strat-9#1 only */
    assert_string_equal(x->orders[0].symbol, "BTCUSDT");
    assert_int_equal(qh_sigq_depth(f->e->sigq), 0);
    for (int i = 0; i < 7; i++) {
        char who[160];
        snprintf(who, sizeof who, "[bus] signal strat-9#%d from another host (entry %s of %s) %s", i + 2, ids[i + 1], key,
                 why[i]);
        if (efx_log_count(f, who) != 1) fail_msg("no one log line with '%s'", who);
    }
    assert_int_equal(efx_log_count(f, "from other hosts refused as invalid so far"), want_lines);
    assert_int_equal(efx_log_count(f, "(20 from other hosts refused as invalid so far)"), 1);
    assert_int_equal(efx_log_count(f, "(21 from other hosts refused as invalid so far)"), 0);
    assert_int_equal(efx_log_count(f, "(32 from other hosts refused as invalid so far)"), 1);
    assert_int_equal(efx_log_count(f, "(64 from other hosts refused as invalid so far)"), 1);
    assert_int_equal(efx_log_count(f, "(107 from other hosts refused as invalid so far)"), 0);
    /* counted where a local signal's refusal is: the queue's and the order path's */
    assert_int_equal(efx_metric(f, "qtr_signal_drops_total{reason=\"invalid\"}"), 5 + FLOOD / 2);
    assert_int_equal(efx_metric(f, "qtr_orders_total{result=\"rejected_invalid\"}"), 2 + FLOOD / 2);
    assert_int_equal(efx_metric(f, "qtr_orders_total{result=\"sent\"}"), 1);
    /* none of them was ever an order: no REJECTED update, no line per order */
    for (size_t i = 0; i < updates.n; i++)
        if (updates.items[i].u.order_update.status == QTR_OS_REJECTED)
            fail_msg("an ORDER_UPDATE REJECTED for %s: %s", updates.items[i].u.order_update.symbol,
                     updates.items[i].u.order_update.reason);
    assert_int_equal(efx_log_count(f, "refused: invalid: symbol\n"), 0);   /* reject_local's "order ... refused: <why>" */
    /* the bad symbols logged: #7 and #8 (the 6th and 7th refused), then of the
     * flood's, the odd ones up to the 20th: 9, 11, ..., 19 */
    assert_int_equal(efx_log_count(f, "refused: invalid: symbol; it was BUY 'btcusdt'"), 1 + 6);
    /* well-formed entries of a known host: not the bus's refusals */
    assert_int_equal(efx_metric(f, "qtr_bus_entries_refused_total"), 0);
    qtr_component_health c;
    bus_redis_health(f, &c);
    assert_int_equal(c.health.status, QTR_HEALTH_OK);
    redisFree(rc);
    efx_free(f);
    efx_seen_free(&updates);
}

static void an_entry_whose_fields_disagree_with_its_envelope_is_not_acted_on(void **state)
{
    (void)state;
    efx *f = execution_host("ths");
    fx_exchange *x = efx_exchange(f);
    redisContext *rc = redis_fx_client(&g_redis);
    const char *key = "ths:signal";
    qtr_event sig = a_signal("BTCUSDT");
    char bad[48], good[48];
    /* the fields name a trusted host; the envelope is x-evil's */
    xadd(rc, key, "x-evil", 300, &sig, "strat-9", "300", bad, sizeof bad);
    xadd(rc, key, "strat-9", 1, &sig, NULL, NULL, good, sizeof good);
    int64_t end = qh_mono_ns() + 10 * INT64_C(1000000000);
    while (qh_mono_ns() < end && (x->n_orders < 1 || efx_metric(f, "qtr_bus_entries_refused_total") < 1))
        run_ms(f, 50);
    run_ms(f, 300);
    assert_int_equal(x->n_orders, 1);                   /* strat-9#1 only */
    assert_int_equal(efx_metric(f, "qtr_bus_entries_refused_total"), 1);
    char line[200];
    snprintf(line, sizeof line, "entry %s of %s refused: its fields h 'strat-9' s '300' disagree with its envelope's x-evil#300",
             bad, key);
    assert_int_equal(efx_log_count(f, line), 1);
    qtr_component_health c;
    const char *reason = bus_redis_health(f, &c);
    assert_int_equal(c.health.status, QTR_HEALTH_DEGRADED);
    if (!strstr(reason, "1 entries refused") || !strstr(reason, bad)) fail_msg("bus_redis: %s", reason);
    redisFree(rc);
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invalid_remote_signals_are_logged_with_their_source_and_counted),
        cmocka_unit_test(an_entry_whose_fields_disagree_with_its_envelope_is_not_acted_on),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
