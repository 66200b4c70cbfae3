/*
 * What the host writes into a plugin's memory honours the plugin's size
 * (SDK 2.0): a plugin built against an older minor header has smaller
 * structs, and the bytes after them (canaries here) must never be touched;
 * a plugin built against a newer header has bigger ones, and the fields the
 * host does not know must read 0, not garbage. Checked on the real host's
 * services (an engine, tests/engine's fixture) and on the mock host's, which
 * must behave the same.
 *
 * "Older header" structs are the prefixes an older SDK would have had (a
 * minor only appends); "newer" ones have a field appended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_fixture.h"
#include "mock_host.h"

#define CANARY 0xA5
#define GARBAGE 0x5A

/* Every byte a canary, before the host writes its part. */
static void fill_canary(unsigned char *buf, size_t room) { memset(buf, CANARY, room); }

static void assert_canaries(const unsigned char *buf, size_t from, size_t room, const char *what)
{
    for (size_t i = from; i < room; i++)
        if (buf[i] != CANARY) fail_msg("%s: byte %zu past the plugin's %zu was written", what, i, from);
}

static void assert_zero(const unsigned char *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) fail_msg("%s: byte %zu of a field the host does not know is %#x, not 0", what, i, p[i]);
}

/* ---- the checks, on any host ---- */

static void account_sizes(const qtr_host *h, qtr_ctx *ctx, qtr_dec want_wallet)
{
    unsigned char buf[sizeof(qtr_account) + 64];
    /* an older header: the account up to wallet_balance */
    size_t old = offsetof(qtr_account, wallet_balance) + sizeof(qtr_dec);
    fill_canary(buf, sizeof buf);
    uint32_t size = (uint32_t)old;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->get_account(ctx, (qtr_account *)(void *)buf), QTR_OK);
    qtr_dec wallet;
    memcpy(&wallet, buf + offsetof(qtr_account, wallet_balance), sizeof wallet);
    assert_int_equal(wallet, want_wallet);
    assert_canaries(buf, old, sizeof buf, "get_account (older header)");
    memcpy(&size, buf, sizeof size);
    assert_int_equal(size, old);                      /* the caller's size stays */

    /* a newer header: one more field, which reads 0 */
    struct newer_account { qtr_account a; qtr_dec later; unsigned char canary[32]; } newer;
    memset(&newer, GARBAGE, sizeof newer);
    memset(newer.canary, CANARY, sizeof newer.canary);
    newer.a.size = (uint32_t)offsetof(struct newer_account, canary);   /* qtr_account, then `later` */
    assert_int_equal(h->get_account(ctx, &newer.a), QTR_OK);
    assert_int_equal(newer.a.wallet_balance, want_wallet);
    assert_zero((const unsigned char *)&newer.later, sizeof newer.later, "get_account (newer header)");
    assert_canaries(newer.canary, 0, sizeof newer.canary, "get_account (newer header)");

    /* no size at all: refused, nothing written */
    fill_canary(buf, sizeof buf);
    size = 2;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->get_account(ctx, (qtr_account *)(void *)buf), QTR_EINVAL);
    assert_canaries(buf, sizeof size, sizeof buf, "get_account (no size)");
}

static void exposure_sizes(const qtr_host *h, qtr_ctx *ctx, const char *symbol, qtr_dec want_position)
{
    unsigned char buf[sizeof(qtr_exposure) + 64];
    size_t old = offsetof(qtr_exposure, position) + sizeof(qtr_dec);
    fill_canary(buf, sizeof buf);
    uint32_t size = (uint32_t)old;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->get_exposure(ctx, symbol, (qtr_exposure *)(void *)buf), QTR_OK);
    qtr_dec pos;
    memcpy(&pos, buf + offsetof(qtr_exposure, position), sizeof pos);
    assert_int_equal(pos, want_position);
    assert_canaries(buf, old, sizeof buf, "get_exposure (older header)");
}

/* A payload getter with an older (shorter) qtr_position and a newer one. */
static void position_sizes(const qtr_host *h, qtr_ctx *ctx, const char *symbol, qtr_dec want_qty)
{
    unsigned char buf[sizeof(qtr_position) + 64];
    size_t old = offsetof(qtr_position, qty) + sizeof(qtr_dec);
    fill_canary(buf, sizeof buf);
    assert_int_equal(h->get_position(ctx, symbol, (qtr_position *)(void *)buf, old), QTR_OK);
    assert_string_equal((const char *)buf, symbol);
    qtr_dec qty;
    memcpy(&qty, buf + offsetof(qtr_position, qty), sizeof qty);
    assert_int_equal(qty, want_qty);
    assert_canaries(buf, old, sizeof buf, "get_position (older header)");

    struct newer_position { qtr_position p; qtr_dec later; unsigned char canary[32]; } newer;
    memset(&newer, GARBAGE, sizeof newer);
    memset(newer.canary, CANARY, sizeof newer.canary);
    assert_int_equal(h->get_position(ctx, symbol, &newer.p, offsetof(struct newer_position, canary)), QTR_OK);
    assert_int_equal(newer.p.qty, want_qty);
    assert_zero((const unsigned char *)&newer.later, sizeof newer.later, "get_position (newer header)");
    assert_canaries(newer.canary, 0, sizeof newer.canary, "get_position (newer header)");
}

/* A list of older (shorter) positions: each item at the plugin's stride,
 * nothing past cap items; a list of newer (longer) ones: zeroed tails. */
static void position_list_sizes(const qtr_host *h, qtr_ctx *ctx, const char *symbol, qtr_dec want_qty)
{
    enum { CAP = 3 };
    size_t old = offsetof(qtr_position, qty) + sizeof(qtr_dec);
    unsigned char buf[CAP * sizeof(qtr_position) + 64];
    fill_canary(buf, sizeof buf);
    qtr_list l = { .size = sizeof l, .item_size = (uint32_t)old, .items = buf, .cap = 1 };
    size_t n = h->list_positions(ctx, &l);
    assert_int_equal(n, 1);
    assert_int_equal(l.n, 1);
    assert_string_equal((const char *)buf, symbol);
    qtr_dec qty;
    memcpy(&qty, buf + offsetof(qtr_position, qty), sizeof qty);
    assert_int_equal(qty, want_qty);
    assert_canaries(buf, old, sizeof buf, "list_positions (older header, cap 1)");

    struct newer_pos { qtr_position p; qtr_dec later; } items[CAP + 1];
    memset(items, GARBAGE, sizeof items);
    memset(&items[CAP], CANARY, sizeof items[CAP]);
    qtr_list ln = QTR_LIST_OF(items, CAP);
    assert_int_equal(ln.item_size, sizeof(struct newer_pos));
    n = h->list_positions(ctx, &ln);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].p.qty, want_qty);
    assert_zero((const unsigned char *)&items[0].later, sizeof items[0].later, "list_positions (newer header)");
    assert_canaries((const unsigned char *)&items[CAP], 0, sizeof items[CAP], "list_positions (past cap)");

    /* a malformed list gets nothing */
    qtr_list bad = { .size = 4, .item_size = (uint32_t)old, .items = buf, .cap = CAP };
    fill_canary(buf, sizeof buf);
    assert_int_equal(h->list_positions(ctx, &bad), 0);
    assert_canaries(buf, 0, sizeof buf, "list_positions (malformed list)");
}

/* The reconciliation status: an older header's prefix, a newer header's
 * tail zeroed. */
static void reconcile_sizes(const qtr_host *h, qtr_ctx *ctx)
{
    unsigned char buf[sizeof(qtr_reconcile_status) + 64];
    size_t old = offsetof(qtr_reconcile_status, entries_blocked) + sizeof(bool);
    fill_canary(buf, sizeof buf);
    uint32_t size = (uint32_t)old;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->reconcile_status(ctx, (qtr_reconcile_status *)(void *)buf), QTR_OK);
    assert_true(buf[offsetof(qtr_reconcile_status, state)] != CANARY);   /* a state name was written */
    assert_canaries(buf, old, sizeof buf, "reconcile_status (older header)");

    struct newer_recon { qtr_reconcile_status r; int64_t later; unsigned char canary[32]; } newer;
    memset(&newer, GARBAGE, sizeof newer);
    memset(newer.canary, CANARY, sizeof newer.canary);
    newer.r.size = (uint32_t)offsetof(struct newer_recon, canary);
    assert_int_equal(h->reconcile_status(ctx, &newer.r), QTR_OK);
    assert_zero((const unsigned char *)&newer.later, sizeof newer.later, "reconcile_status (newer header)");
    assert_canaries(newer.canary, 0, sizeof newer.canary, "reconcile_status (newer header)");
}

/* A list with more items than room: cap items, and not a byte more. */
static void health_list_cap(const qtr_host *h, qtr_ctx *ctx)
{
    size_t old = offsetof(qtr_component_health, health) + sizeof(qtr_health_status);
    unsigned char buf[4 * sizeof(qtr_component_health)];
    fill_canary(buf, sizeof buf);
    qtr_list l = { .size = sizeof l, .item_size = (uint32_t)old, .items = buf, .cap = 1 };
    assert_int_equal(h->health_all(ctx, &l), 1);
    assert_true(buf[0] != CANARY);                       /* a component name was written */
    assert_canaries(buf, old, sizeof buf, "health_all (older header, cap 1)");
}

/* The policy brief: an older header's prefix and nothing after it; a newer
 * header's field past the host's own size reads 0, not what was in the
 * plugin's memory; the caller's size stays. */
static void policy_info_sizes(const qtr_host *h, qtr_ctx *ctx, int want_rc, bool want_loaded)
{
    unsigned char buf[sizeof(qtr_policy_info) + 64];
    size_t old = offsetof(qtr_policy_info, version) + sizeof(uint32_t);
    fill_canary(buf, sizeof buf);
    uint32_t size = (uint32_t)old;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->policy_info(ctx, (qtr_policy_info *)(void *)buf), QTR_EINVAL);   /* no loaded_at_ms */
    assert_canaries(buf, sizeof size, sizeof buf, "policy_info (too old)");

    old = offsetof(qtr_policy_info, loaded_at_ms) + sizeof(int64_t);
    fill_canary(buf, sizeof buf);
    size = (uint32_t)old;
    memcpy(buf, &size, sizeof size);
    assert_int_equal(h->policy_info(ctx, (qtr_policy_info *)(void *)buf), want_rc);
    assert_int_equal(buf[offsetof(qtr_policy_info, loaded)], want_loaded);
    assert_canaries(buf, old, sizeof buf, "policy_info (older header)");
    memcpy(&size, buf, sizeof size);
    assert_int_equal(size, old);

    struct newer_info { qtr_policy_info i; int64_t later; unsigned char canary[32]; } newer;
    memset(&newer, GARBAGE, sizeof newer);
    memset(newer.canary, CANARY, sizeof newer.canary);
    newer.i.size = (uint32_t)offsetof(struct newer_info, canary);
    assert_int_equal(h->policy_info(ctx, &newer.i), want_rc);
    assert_int_equal(newer.i.loaded, want_loaded);
    assert_int_equal(newer.i.size, offsetof(struct newer_info, canary));   /* the caller's size stays */
    assert_zero((const unsigned char *)&newer.later, sizeof newer.later, "policy_info (newer header)");
    assert_canaries(newer.canary, 0, sizeof newer.canary, "policy_info (newer header)");
}

/* The exit plans (2.2): a list item of an older header (the state up to
 * its params) at that stride, nothing past cap; a newer header's appended
 * field reads 0. A host that is older than the list (its qtr_host shorter)
 * is seen by QTR_HOST_HAS. */
static void exit_list_sizes(const qtr_host *h, qtr_ctx *ctx, const char *symbol, uint32_t want_stop_bps)
{
    assert_true(QTR_HOST_HAS(h, list_exit_plans));
    enum { CAP = 2 };
    size_t old = offsetof(qtr_exit_state, params) + sizeof(qtr_exit_params);
    static unsigned char buf[CAP * sizeof(qtr_exit_state) + 64];
    fill_canary(buf, sizeof buf);
    qtr_list l = { .size = sizeof l, .item_size = (uint32_t)old, .items = buf, .cap = 1 };
    assert_int_equal(h->list_exit_plans(ctx, &l), 1);
    assert_int_equal(l.n, 1);
    assert_string_equal((const char *)buf, symbol);
    qtr_exit_params p;
    memcpy(&p, buf + offsetof(qtr_exit_state, params), sizeof p);
    assert_int_equal(p.stop_loss.bps, want_stop_bps);
    assert_canaries(buf, old, sizeof buf, "list_exit_plans (older header, cap 1)");

    static struct newer_exit { qtr_exit_state s; int64_t later; } items[CAP + 1];
    memset(items, GARBAGE, sizeof items);
    memset(&items[CAP], CANARY, sizeof items[CAP]);
    qtr_list ln = QTR_LIST_OF(items, CAP);
    assert_int_equal(h->list_exit_plans(ctx, &ln), 1);
    assert_string_equal(items[0].s.symbol, symbol);
    assert_int_equal(items[0].s.params.stop_loss.bps, want_stop_bps);
    assert_zero((const unsigned char *)&items[0].later, sizeof items[0].later, "list_exit_plans (newer header)");
    assert_canaries((const unsigned char *)&items[CAP], 0, sizeof items[CAP], "list_exit_plans (past cap)");

    qtr_list bad = { .size = 4, .item_size = (uint32_t)old, .items = buf, .cap = CAP };
    fill_canary(buf, sizeof buf);
    assert_int_equal(h->list_exit_plans(ctx, &bad), 0);
    assert_canaries(buf, 0, sizeof buf, "list_exit_plans (malformed list)");

    /* a 2.1 host: its table ends before list_exit_plans */
    qtr_host older = *h;
    older.size = (uint32_t)offsetof(qtr_host, list_exit_plans);
    assert_false(QTR_HOST_HAS(&older, list_exit_plans));
}

static qtr_exit_plan stop_plan(uint32_t bps)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = bps;
    return p;
}

/* ---- on the real host ---- */

static void the_host_honours_every_size(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    qh_plugin_rt *rec = efx_plugin(f, "rec");
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
    qtr_event fill = efx_fill("BTCUSDT", "sized-1", QTR_DEC_INT(2), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, rec, &fill), QTR_OK);
    qtr_account a = QTR_SIZED(qtr_account);
    assert_int_equal(e->api.get_account(&quiet->ctx, &a), QTR_OK);
    account_sizes(&e->api, &quiet->ctx, a.wallet_balance);
    exposure_sizes(&e->api, &quiet->ctx, "BTCUSDT", QTR_DEC_INT(2));
    position_sizes(&e->api, &quiet->ctx, "BTCUSDT", QTR_DEC_INT(2));
    position_list_sizes(&e->api, &quiet->ctx, "BTCUSDT", QTR_DEC_INT(2));
    health_list_cap(&e->api, &quiet->ctx);
    reconcile_sizes(&e->api, &quiet->ctx);
    policy_info_sizes(&e->api, &quiet->ctx, QTR_OK, true);
    qtr_exit_plan plan = stop_plan(150);
    char err[256] = "";
    assert_int_equal(e->api.set_exit_plan(&quiet->ctx, "BTCUSDT", &plan, err, sizeof err), QTR_OK);
    exit_list_sizes(&e->api, &quiet->ctx, "BTCUSDT", 150);
    efx_free(f);
}

/* The other way: what the host reads from a plugin's memory. A plugin built
 * for an older minor hands over a smaller qtr_order_intent; the host reads
 * no more than its build signature says. The plugin's struct ends at an
 * unmapped page here: one byte more is a crash. */
static void the_host_reads_no_more_than_the_plugins_struct(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
    /* the plugin's signature, as an older SDK without the intent's reason would say */
    const qtr_build_signature *real = quiet->ld.desc.signature;
    uint32_t payloads[QTR_EV__COUNT];
    memcpy(payloads, real->payload_sizes, sizeof payloads);
    size_t old = offsetof(qtr_order_intent, reason);
    payloads[QTR_EV_ORDER_INTENT] = (uint32_t)old;
    payloads[QTR_EV_SIGNAL] = (uint32_t)offsetof(qtr_signal, reason);
    qtr_build_signature older = *real;
    older.payload_sizes = payloads;
    quiet->ld.desc.signature = &older;

    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    qtr_order_intent want = efx_market_buy("BTCUSDT");
    unsigned char *at = map + page - old;                  /* ends where the mapping ends */
    memcpy(at, &want, old);
    char cid[QTR_CLIENT_ID_MAX] = "";
    assert_int_equal(e->api.submit_order(&quiet->ctx, (const qtr_order_intent *)(void *)at, cid), QTR_OK);
    fx_exchange *x = efx_exchange(f);
    assert_int_equal(x->n_orders, 1);
    assert_string_equal(x->orders[0].symbol, "BTCUSDT");
    assert_int_equal(x->orders[0].qty, QTR_DEC_INT(1));

    qtr_signal sig;
    memset(&sig, 0, sizeof sig);
    qtr_strlcpy(sig.symbol, "BTCUSDT", sizeof sig.symbol);
    sig.side = QTR_SIDE_BUY;
    sig.type = QTR_ORDER_MARKET;
    sig.qty = QTR_DEC_INT(1);
    sig.confidence = 1.0;
    size_t old_sig = offsetof(qtr_signal, reason);
    at = map + page - old_sig;
    memcpy(at, &sig, old_sig);
    assert_int_equal(e->api.submit_signal(&quiet->ctx, (const qtr_signal *)(void *)at), QTR_OK);

    quiet->ld.desc.signature = real;
    munmap(map, (size_t)page * 2);
    efx_free(f);
}

/* ---- arrays in callbacks: at the plugin's stride ---- */

/* The sizes an exchange built for an older minor would have: the order
 * update before its conditional fields, the position before funding, the
 * fill before maker and reduce_only. */
#define OLD_UPDATE offsetof(qtr_order_update, working_type)
#define OLD_POSITION offsetof(qtr_position, funding)
#define OLD_FILL offsetof(qtr_fill, maker)

static uint32_t older_payloads[QTR_EV__COUNT];
static qtr_build_signature older_signature;

/* The exchange's signature as an older SDK would have built it. */
static const qtr_build_signature *make_exchange_older(qh_plugin_rt *x)
{
    const qtr_build_signature *real = x->ld.desc.signature;
    memcpy(older_payloads, real->payload_sizes, sizeof older_payloads);
    older_payloads[QTR_EV_ORDER_UPDATE] = (uint32_t)OLD_UPDATE;
    older_payloads[QTR_EV_POSITION] = (uint32_t)OLD_POSITION;
    older_payloads[QTR_EV_FILL] = (uint32_t)OLD_FILL;
    older_signature = *real;
    older_signature.payload_sizes = older_payloads;
    x->ld.desc.signature = &older_signature;
    return real;
}

/* fetch_snapshot of an older exchange: two orders and one position at its
 * own (smaller) stride, each list ending where its mapping ends, so a host
 * walking them at its own size reads an unmapped page. */
static unsigned char *snap_map;
static long snap_page;

static int older_fetch_snapshot(void *state, qtr_snapshot_cb cb, void *ud)
{
    (void)state;
    unsigned char *orders = snap_map + snap_page - 2 * OLD_UPDATE;
    unsigned char *positions = snap_map + 3 * snap_page - OLD_POSITION;
    for (int i = 0; i < 2; i++) {
        qtr_order_update u;
        memset(&u, 0, sizeof u);
        qtr_strlcpy(u.symbol, "ETHUSDT", sizeof u.symbol);
        snprintf(u.client_id, sizeof u.client_id, "outside-%d", i + 1);
        u.side = QTR_SIDE_BUY;
        u.type = QTR_ORDER_LIMIT;
        u.status = QTR_OS_NEW;
        u.qty = QTR_DEC_INT(1 + i);
        u.price = QTR_DEC_INT(90);
        memcpy(orders + (size_t)i * OLD_UPDATE, &u, OLD_UPDATE);
    }
    qtr_position p;
    memset(&p, 0, sizeof p);
    qtr_strlcpy(p.symbol, "BTCUSDT", sizeof p.symbol);
    p.qty = QTR_DEC_INT(2);
    memcpy(positions, &p, OLD_POSITION);
    cb(ud, QTR_OK, (const qtr_order_update *)(void *)orders, 2, (const qtr_position *)(void *)positions, 1);
    return QTR_OK;
}

static void the_host_walks_snapshot_lists_at_the_exchanges_size(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *rec = efx_plugin(f, "rec");
    const qtr_build_signature *real = make_exchange_older(rec);
    snap_page = sysconf(_SC_PAGESIZE);
    snap_map = mmap(NULL, (size_t)snap_page * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(snap_map != MAP_FAILED);
    assert_int_equal(mprotect(snap_map + snap_page, (size_t)snap_page, PROT_NONE), 0);
    assert_int_equal(mprotect(snap_map + 3 * snap_page, (size_t)snap_page, PROT_NONE), 0);
    rec->ld.exchange.fetch_snapshot = older_fetch_snapshot;

    qh_persist_reconcile(e);   /* the snapshot check: both orders are unknown to the store */
    const qtr_order_update *a = qh_order_table_find(e->open_orders, "outside-1");
    const qtr_order_update *b = qh_order_table_find(e->open_orders, "outside-2");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->external && b->external);
    assert_int_equal(a->qty, QTR_DEC_INT(1));
    assert_int_equal(b->qty, QTR_DEC_INT(2));            /* found at the exchange's stride */
    assert_int_equal(b->stop_price, 0);                  /* a field it does not have reads 0 */

    rec->ld.exchange.fetch_snapshot = NULL;
    rec->ld.desc.signature = real;
    munmap(snap_map, (size_t)snap_page * 4);
    efx_free(f);
}

/* adopt_order of an older exchange walks the recorded fills at its stride. */
static char adopted_fill_ids[4][QTR_CLIENT_ID_MAX];
static size_t adopted_fills;

static int older_adopt_order(void *state, const qtr_order_update *known, const qtr_fill *fills, size_t n_fills)
{
    (void)state;
    (void)known;
    const unsigned char *at = (const unsigned char *)fills;
    adopted_fills = n_fills;
    for (size_t i = 0; i < n_fills && i < 4; i++)
        memcpy(adopted_fill_ids[i], at + i * OLD_FILL + offsetof(qtr_fill, fill_id), QTR_CLIENT_ID_MAX);
    return QTR_OK;
}

static int no_snapshot(void *state, qtr_snapshot_cb cb, void *ud)
{
    (void)state;
    (void)cb;
    (void)ud;
    return QTR_EIO;
}

static void the_host_hands_fills_at_the_exchanges_size(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_plugin_rt *rec = efx_plugin(f, "rec");
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
    qtr_event fill = efx_fill("BTCUSDT", "sized-a", QTR_DEC_INT(1), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, rec, &fill), QTR_OK);
    fill = efx_fill("BTCUSDT", "sized-b", QTR_DEC_INT(1), QTR_DEC_INT(101));
    assert_int_equal(efx_publish(f, rec, &fill), QTR_OK);
    qtr_order_intent o = efx_market_buy("BTCUSDT");
    char cid[QTR_CLIENT_ID_MAX] = "";
    assert_int_equal(f->e->api.submit_order(&quiet->ctx, &o, cid), QTR_OK);   /* left open: rec never answers */
    efx_restart(f, NULL, NULL);

    rec = efx_plugin(f, "rec");
    const qtr_build_signature *real = make_exchange_older(rec);
    rec->ld.exchange.adopt_order = older_adopt_order;
    rec->ld.exchange.fetch_snapshot = no_snapshot;
    memset(adopted_fill_ids, 0, sizeof adopted_fill_ids);
    adopted_fills = 0;
    assert_true(qh_recon_start(f->e));
    assert_int_equal(adopted_fills, 2);
    bool a = false, b = false;
    for (size_t i = 0; i < 2; i++) {
        a |= strcmp(adopted_fill_ids[i], "sized-a") == 0;
        b |= strcmp(adopted_fill_ids[i], "sized-b") == 0;
    }
    assert_true(a && b);   /* each fill where the exchange's struct puts it */

    rec->ld.exchange.adopt_order = NULL;
    rec->ld.exchange.fetch_snapshot = NULL;
    rec->ld.desc.signature = real;
    efx_free(f);
}

/* ---- on the mock host ---- */

static void the_mock_honours_every_size(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    m->account.wallet_balance = D("1234.5");
    m->positions[0].qty = D("2");
    qtr_strlcpy(m->positions[0].symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    m->n_positions = 1;
    account_sizes(&m->api, m->ctx, D("1234.5"));
    exposure_sizes(&m->api, m->ctx, "BTCUSDT", D("2"));
    position_sizes(&m->api, m->ctx, "BTCUSDT", D("2"));
    position_list_sizes(&m->api, m->ctx, "BTCUSDT", D("2"));
    health_list_cap(&m->api, m->ctx);
    policy_info_sizes(&m->api, m->ctx, QTR_ENOTFOUND, false);
    qtr_exit_plan plan = stop_plan(150);
    assert_int_equal(m->api.set_exit_plan(m->ctx, "BTCUSDT", &plan, NULL, 0), QTR_OK);
    exit_list_sizes(&m->api, m->ctx, "BTCUSDT", 150);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_host_honours_every_size),
        cmocka_unit_test(the_host_reads_no_more_than_the_plugins_struct),
        cmocka_unit_test(the_host_walks_snapshot_lists_at_the_exchanges_size),
        cmocka_unit_test(the_host_hands_fills_at_the_exchanges_size),
        cmocka_unit_test(the_mock_honours_every_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
