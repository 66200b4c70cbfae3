/*
 * A plugin built for the previous minor (tests/loader/fixtures/minor_older.c,
 * a real .so with SDK 2.1's host table and smaller structs) calls every host
 * service that writes into its memory, on the real host (an engine loading
 * it from its config) and on the mock host. For each call: not a byte past
 * the plugin's struct or list items is written (canaries), the caller's size
 * stays, and what the plugin's struct has room for is exactly what the host
 * answers a caller of today's size; the 2.2 service list_exit_plans is absent
 * to it and never called. A host that copies its own, larger size fails here.
 */
#include <dlfcn.h>
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

#include "core/log.h"
#include "engine_fixture.h"
#include "minor_older_probe.h"
#include "mock_host.h"

#define SYMBOL "BTCUSDT"
#define FULL_ROOM 8192

/* ---- today's answer to the same call ---- */

typedef struct full_call {
    long result;
    size_t n;
    size_t item;                     /* today's struct or item size */
    unsigned char buf[FULL_ROOM];
} full_call;

static void full_sized(full_call *f, size_t size)
{
    uint32_t s = (uint32_t)size;
    f->item = size;
    memcpy(f->buf, &s, sizeof s);
}

static void full_list(full_call *f, qtr_ctx *ctx, size_t item, size_t (*fn)(qtr_ctx *, qtr_list *))
{
    qtr_list l = { .size = sizeof l, .item_size = (uint32_t)item, .items = f->buf, .cap = OLDER_LIST_CAP };
    f->item = item;
    f->result = (long)fn(ctx, &l);
    f->n = l.n;
}

/* The service the fixture named, asked with today's sizes. */
static void ask_today(const qtr_host *h, qtr_ctx *ctx, const char *service, full_call *f)
{
    memset(f, 0, sizeof *f);
    memset(f->buf, OLDER_CANARY, sizeof f->buf);
    void *out = f->buf;
    if (!strcmp(service, "get_account")) { full_sized(f, sizeof(qtr_account)); f->result = h->get_account(ctx, out); }
    else if (!strcmp(service, "ess_status")) { full_sized(f, sizeof(qtr_ess_status)); f->result = h->ess_status(ctx, out); }
    else if (!strcmp(service, "policy_info")) { full_sized(f, sizeof(qtr_policy_info)); f->result = h->policy_info(ctx, out); }
    else if (!strcmp(service, "reconcile_status")) {
        full_sized(f, sizeof(qtr_reconcile_status));
        f->result = h->reconcile_status(ctx, out);
    } else if (!strcmp(service, "get_exposure")) {
        full_sized(f, sizeof(qtr_exposure));
        f->result = h->get_exposure(ctx, SYMBOL, out);
    }
    else if (!strcmp(service, "list_positions")) full_list(f, ctx, sizeof(qtr_position), h->list_positions);
    else if (!strcmp(service, "list_open_orders")) full_list(f, ctx, sizeof(qtr_order_update), h->list_open_orders);
    else if (!strcmp(service, "recent_fills")) full_list(f, ctx, sizeof(qtr_fill), h->recent_fills);
    else if (!strcmp(service, "recent_orders")) full_list(f, ctx, sizeof(qtr_order_update), h->recent_orders);
    else if (!strcmp(service, "recent_signals")) full_list(f, ctx, sizeof(qtr_signal_record), h->recent_signals);
    else if (!strcmp(service, "equity_history")) full_list(f, ctx, sizeof(qtr_account), h->equity_history);
    else if (!strcmp(service, "health_all")) full_list(f, ctx, sizeof(qtr_component_health), h->health_all);
    else if (!strcmp(service, "list_plugins")) full_list(f, ctx, sizeof(qtr_plugin_info), h->list_plugins);
    else if (!strcmp(service, "get_position")) {
        f->item = sizeof(qtr_position);
        f->result = h->get_position(ctx, SYMBOL, out, f->item);
    } else if (!strcmp(service, "get_last_candle")) {
        f->item = sizeof(qtr_candle);
        f->result = h->get_last_candle(ctx, SYMBOL, out, f->item);
    } else if (!strcmp(service, "get_book_top")) {
        f->item = sizeof(qtr_book_top);
        f->result = h->get_book_top(ctx, SYMBOL, out, f->item);
    } else if (!strcmp(service, "get_mark_price")) {
        f->item = sizeof(qtr_mark_price);
        f->result = h->get_mark_price(ctx, SYMBOL, out, f->item);
    } else if (!strcmp(service, "get_regime")) {
        f->item = sizeof(qtr_regime_event);
        f->result = h->get_regime(ctx, SYMBOL, out, f->item);
    } else fail_msg("the fixture called %s, which this test does not know", service);
}

/* Every service of the 2.1 table that writes into a plugin's memory. */
#define SERVICE(member) { #member, offsetof(qtr_host, member) }
static const struct { const char *name; size_t at; } EVERY_SERVICE[] = {
    SERVICE(get_account), SERVICE(ess_status), SERVICE(policy_info), SERVICE(reconcile_status),
    SERVICE(get_exposure), SERVICE(list_positions), SERVICE(list_open_orders), SERVICE(recent_fills),
    SERVICE(recent_orders), SERVICE(recent_signals), SERVICE(equity_history), SERVICE(health_all),
    SERVICE(list_plugins), SERVICE(get_position), SERVICE(get_last_candle), SERVICE(get_book_top),
    SERVICE(get_mark_price), SERVICE(get_regime),
};
#define N_SERVICES (sizeof EVERY_SERVICE / sizeof EVERY_SERVICE[0])

/* The host's table has the member at `at` (not NULL). */
static bool host_offers(const qtr_host *h, size_t at)
{
    void (*fn)(void);
    memcpy(&fn, (const char *)h + at, sizeof fn);
    return fn != NULL;
}

static const older_call *call_of(const older_probe *p, const char *service)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->calls[i].service, service)) return &p->calls[i];
    fail_msg("the 2.1 fixture did not call %s", service);
    return NULL;
}

static void assert_same_bytes(const unsigned char *older, const unsigned char *today, size_t from, size_t to,
                              const char *service, size_t item)
{
    for (size_t i = from; i < to; i++)
        if (older[i] != today[i])
            fail_msg("%s item %zu: byte %zu is %#x for the 2.1 plugin, %#x for today's size", service, item, i,
                     older[i], today[i]);
}

/* One call's checks; returns how many items (or 1 for a struct) carried data. */
static size_t check_call(const qtr_host *h, qtr_ctx *ctx, const older_call *c)
{
    if (c->overrun >= 0)
        fail_msg("%s: the host wrote byte %ld past the 2.1 plugin's %zu (%s size %zu)", c->service, c->overrun,
                 c->may_write, c->shape == OLDER_LIST ? "item" : "struct", c->old_size);
    static full_call today;
    ask_today(h, ctx, c->service, &today);
    assert_true(c->old_size < today.item || !strcmp(c->service, "policy_info"));
    if (c->result != today.result)
        fail_msg("%s: %ld for the 2.1 plugin, %ld for today's size", c->service, c->result, today.result);
    if (c->shape == OLDER_LIST) {
        assert_int_equal(c->n, today.n);
        for (size_t i = 0; i < c->n; i++)
            assert_same_bytes(c->buf + i * c->old_size, today.buf + i * today.item, 0, c->old_size, c->service, i);
        return c->n;
    }
    size_t from = 0;
    if (c->shape == OLDER_SIZED) {
        uint32_t size;
        memcpy(&size, c->buf, sizeof size);
        assert_int_equal(size, c->old_size);          /* the caller's size stays */
        from = sizeof size;
    }
    /* refused or not found too: what is written (if anything) is today's prefix */
    if (!strcmp(c->service, "get_account") && c->result == QTR_OK &&
        c->old_size >= offsetof(qtr_account, time_ms) + sizeof(int64_t)) {
        /* the account's time is the clock's now at each call: the later
         * call's is the same or later (a slow run, under ASan say, crosses
         * a millisecond between the two); every other byte is the same */
        size_t at = offsetof(qtr_account, time_ms);
        int64_t t_older, t_today;
        memcpy(&t_older, c->buf + at, sizeof t_older);
        memcpy(&t_today, today.buf + at, sizeof t_today);
        if (t_today < t_older || t_today - t_older > 60000)   /* the mock host has no clock: 0 both times */
            fail_msg("get_account: time_ms %lld for the 2.1 plugin, %lld later for today's size", (long long)t_older,
                     (long long)t_today);
        assert_same_bytes(c->buf, today.buf, from, at, c->service, 0);
        assert_same_bytes(c->buf, today.buf, at + sizeof(int64_t), c->old_size, c->service, 0);
        return 1;
    }
    assert_same_bytes(c->buf, today.buf, from, c->old_size, c->service, 0);
    return c->result == QTR_OK;
}

/* Probe through the fixture's own code (the .so's exported entry), check
 * every call; `with_data` lists the services that must have answered with
 * something on this host, so no comparison is of two empty answers. */
static const older_probe *probe_and_check(void *dl, const qtr_host *h, qtr_ctx *ctx, const char *const *with_data)
{
    older_probe_fn probe_fn;
    *(void **)&probe_fn = dlsym(dl, OLDER_PROBE_ENTRY);
    assert_non_null(probe_fn);
    const older_probe *p = probe_fn(SYMBOL);
    assert_non_null(p);
    assert_false(p->saw_list_exit_plans);
    for (size_t i = 0; i < p->n; i++) assert_string_not_equal(p->calls[i].service, "list_exit_plans");
    assert_int_equal(p->n, N_SERVICES);
    for (size_t i = 0; i < N_SERVICES; i++) {
        const char *name = EVERY_SERVICE[i].name;
        const older_call *c = call_of(p, name);
        if (!host_offers(h, EVERY_SERVICE[i].at)) {   /* the mock has no reconcile_status, say */
            if (!c->absent) fail_msg("%s: the host has none, yet the fixture called it", name);
            assert_int_equal(c->overrun, -1);
            continue;
        }
        if (c->absent) fail_msg("%s: the host has it, yet the 2.1 fixture saw it absent", name);
        size_t filled = check_call(h, ctx, c);
        for (const char *const *w = with_data; *w; w++)
            if (!strcmp(*w, name) && filled == 0) fail_msg("%s answered nothing on this host", *w);
    }
    return p;
}

static int exit_lists;
static size_t counting_list_exit_plans(qtr_ctx *ctx, qtr_list *out)
{
    (void)ctx;
    (void)out;
    exit_lists++;
    return 0;
}

/* A field of item i of a call, read at today's offset (the older struct is
 * today's prefix). */
#define FIELD(call, type, member, i, out) \
    memcpy(&(out), (call)->buf + (i) * (call)->old_size + offsetof(type, member), sizeof(out))

/* ---- the real host ---- */

static efx *older_engine(void)
{
    efx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/qtr-older-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->log_path, sizeof f->log_path, "%s/host.log", f->dir);
    f->log = fopen(f->log_path, "w");
    assert_non_null(f->log);
    qh_log_init(f->log, QH_LOG_INFO, false);
    const char *src = getenv("QTR_SOURCE_DIR");
    char text[4096];
    snprintf(text, sizeof text,
             "return {\n"
             "  mode = 'paper', state_dir = '%s/var',\n"
             "  plugin_path = { '%s', '%s' },\n"
             "  market = { source = 'synthetic', symbols = { '" SYMBOL "' } },\n"
             "  account = { starting_balance = '1000000' },\n"
             "  policy = { file = '%s/policies/default.lua' },\n"
             "  plugins = {\n"
             "    { kind = 'exchange', name = 'rec' },\n"
             "    { kind = 'risk', name = 'approve' },\n"
             "    { kind = 'strategy', name = 'quiet', options = { symbols = { '" SYMBOL "' } } },\n"
             "    { kind = 'strategy', name = 'fixture_minor_older', file = 'minor_older.so',\n"
             "      options = { stop_bps = 275 } },\n"
             "  },\n"
             "}\n",
             f->dir, ENGINE_FIXTURE_DIR, FIXTURE_DIR, src ? src : ".");
    char err[1024] = "";
    if (qh_config_load_string(text, "older-minor.lua", f->dir, &f->cfg, err, sizeof err) != 0)
        fail_msg("config: %s", err);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->e = qh_engine_new(&f->cfg, f->base, 0, err, sizeof err);
    if (!f->e) fail_msg("engine: %s", err);
    if (qh_engine_load(f->e, err, sizeof err) != 0) fail_msg("engine load: %s", err);
    return f;
}

static void every_service_on_the_real_host(void **state)
{
    (void)state;
    efx *f = older_engine();
    qh_plugin_rt *older = efx_plugin(f, "fixture_minor_older");
    qh_plugin_rt *rec = efx_plugin(f, "rec");
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    assert_int_equal(older->ld.abi_minor, 1);   /* a 2.1 build */

    /* something for every service to answer */
    efx_price(f, SYMBOL, QTR_DEC_INT(100));
    qtr_event ev = efx_fill(SYMBOL, "older-fill-1", QTR_DEC_INT(2), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, rec, &ev), QTR_OK);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_BOOK_TOP;
    qtr_strlcpy(ev.u.book_top.symbol, SYMBOL, QTR_SYMBOL_MAX);
    ev.u.book_top.bid_price = D("99.99");
    ev.u.book_top.ask_price = D("100.01");     /* 2 bps: within the policy's spread */
    ev.u.book_top.bid_depth_notional = QTR_DEC_INT(5000);
    assert_int_equal(efx_publish(f, rec, &ev), QTR_OK);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_MARK_PRICE;
    qtr_strlcpy(ev.u.mark_price.symbol, SYMBOL, QTR_SYMBOL_MAX);
    ev.u.mark_price.mark_price = QTR_DEC_INT(100);
    ev.u.mark_price.next_funding_ms = 1234567;
    assert_int_equal(efx_publish(f, rec, &ev), QTR_OK);
    qtr_order_intent o = efx_market_buy(SYMBOL);
    char cid[QTR_CLIENT_ID_MAX] = "";
    assert_int_equal(f->e->api.submit_order(&quiet->ctx, &o, cid), QTR_OK);
    memset(&ev, 0, sizeof ev);                     /* the exchange takes it, never fills it */
    ev.type = QTR_EV_ORDER_UPDATE;
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, SYMBOL, QTR_SYMBOL_MAX);
    qtr_strlcpy(u->client_id, cid, QTR_CLIENT_ID_MAX);
    qtr_strlcpy(u->exchange_id, "older-x-1", QTR_CLIENT_ID_MAX);
    u->side = QTR_SIDE_BUY;
    u->type = QTR_ORDER_MARKET;
    u->status = QTR_OS_NEW;
    u->qty = QTR_DEC_INT(1);
    u->stop_price = QTR_DEC_INT(90);               /* past 2.0's struct: the plugin never sees it */
    assert_int_equal(efx_publish(f, rec, &ev), QTR_OK);
    qtr_signal sig;
    memset(&sig, 0, sizeof sig);
    qtr_strlcpy(sig.symbol, SYMBOL, QTR_SYMBOL_MAX);
    sig.side = QTR_SIDE_BUY;
    sig.type = QTR_ORDER_MARKET;
    sig.qty = QTR_DEC_INT(1);
    sig.confidence = 1.0;
    qtr_strlcpy(sig.reason, "older-minor", sizeof sig.reason);
    assert_int_equal(f->e->api.submit_signal(&quiet->ctx, &sig), QTR_OK);
    qh_pipeline_drain(f->e);

    exit_lists = 0;
    f->e->api.list_exit_plans = counting_list_exit_plans;   /* the table the plugin was given */
    static const char *const with_data[] = { "get_account", "ess_status", "policy_info", "reconcile_status",
        "get_exposure", "list_positions", "list_open_orders", "recent_fills", "recent_orders", "recent_signals",
        "equity_history", "health_all", "list_plugins", "get_position", "get_last_candle", "get_book_top",
        "get_mark_price", NULL };
    const older_probe *p = probe_and_check(older->ld.dl, &f->e->api, &older->ctx, with_data);
    assert_int_equal(exit_lists, 0);

    /* the fields the 2.1 plugin knows, as set up above */
    qtr_dec d;
    FIELD(call_of(p, "get_position"), qtr_position, qty, 0, d);
    assert_int_equal(d, QTR_DEC_INT(2));
    FIELD(call_of(p, "get_last_candle"), qtr_candle, close, 0, d);
    assert_int_equal(d, QTR_DEC_INT(100));
    FIELD(call_of(p, "get_book_top"), qtr_book_top, ask_price, 0, d);
    assert_int_equal(d, D("100.01"));
    FIELD(call_of(p, "get_mark_price"), qtr_mark_price, mark_price, 0, d);
    assert_int_equal(d, QTR_DEC_INT(100));
    FIELD(call_of(p, "get_exposure"), qtr_exposure, position, 0, d);
    assert_int_equal(d, QTR_DEC_INT(2));
    const older_call *open = call_of(p, "list_open_orders");   /* the order, and the exit plan's stop */
    bool ours = false;
    for (size_t i = 0; i < open->n; i++)
        ours |= !strcmp((const char *)open->buf + i * open->old_size + offsetof(qtr_order_update, client_id), cid);
    assert_true(ours);
    const older_call *fills = call_of(p, "recent_fills");
    assert_string_equal((const char *)fills->buf + offsetof(qtr_fill, fill_id), "older-fill-1");
    const older_call *plugins = call_of(p, "list_plugins");
    bool listed = false;
    for (size_t i = 0; i < plugins->n; i++) listed |= !strcmp((const char *)plugins->buf + i * plugins->old_size,
                                                              "fixture_minor_older");
    assert_true(listed);
    efx_free(f);
}

/* ---- the mock host ---- */

static void every_service_on_the_mock_host(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    m->account.wallet_balance = D("1234.5");
    m->account.open_positions = 1;
    qtr_strlcpy(m->positions[0].symbol, SYMBOL, QTR_SYMBOL_MAX);
    m->positions[0].qty = D("2");
    m->positions[0].funding = D("-0.5");
    m->n_positions = 1;
    qtr_strlcpy(m->last_candles[0].symbol, SYMBOL, QTR_SYMBOL_MAX);
    m->last_candles[0].close = D("100");
    m->last_candles[0].volume = D("7");
    m->n_last_candles = 1;
    qtr_strlcpy(m->books[0].symbol, SYMBOL, QTR_SYMBOL_MAX);
    m->books[0].ask_price = D("101");
    m->books[0].bid_depth_notional = D("5000");
    m->n_books = 1;
    qtr_strlcpy(m->marks[0].symbol, SYMBOL, QTR_SYMBOL_MAX);
    m->marks[0].mark_price = D("100");
    m->marks[0].next_funding_ms = 1234567;
    m->n_marks = 1;
    qtr_strlcpy(m->regimes[0].symbol, SYMBOL, QTR_SYMBOL_MAX);
    m->regimes[0].regime = QTR_REGIME_TREND_UP;
    m->regimes[0].volatility = 1.5;
    m->n_regimes = 1;
    m->ess.consecutive_exchange_errors = 3;
    mock_host_set_option(m, "stop_bps", "275");
    mock_plugin pl;
    assert_int_equal(mock_plugin_load(m, FIXTURE_DIR "/minor_older.so", &pl), 0);

    m->api.list_exit_plans = counting_list_exit_plans;
    exit_lists = 0;
    static const char *const with_data[] = { "get_account", "ess_status", "get_exposure", "list_positions",
        "health_all", "get_position", "get_last_candle", "get_book_top", "get_mark_price", "get_regime", NULL };
    const older_probe *p = probe_and_check(pl.dl, &m->api, m->ctx, with_data);
    assert_int_equal(exit_lists, 0);
    qtr_dec d;
    FIELD(call_of(p, "get_account"), qtr_account, wallet_balance, 0, d);
    assert_int_equal(d, D("1234.5"));
    FIELD(call_of(p, "list_positions"), qtr_position, qty, 0, d);
    assert_int_equal(d, D("2"));
    qtr_regime r;
    FIELD(call_of(p, "get_regime"), qtr_regime_event, regime, 0, r);
    assert_int_equal(r, QTR_REGIME_TREND_UP);
    mock_plugin_unload(m, &pl);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_service_on_the_real_host),
        cmocka_unit_test(every_service_on_the_mock_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
