/* Every record type written through the queue and read back exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store_fixture.h"

typedef sf_scratch fixture;

static int setup(void **state)
{
    fixture *f = sf_scratch_new("trades.db");
    *state = f;
    if (!f) return -1;
    char err[256] = "";
    f->st = qh_store_open(f->path, NULL, err, sizeof err);
    if (!f->st) fprintf(stderr, "open: %s\n", err);
    return f->st ? 0 : -1;
}

static int teardown(void **state)
{
    sf_scratch_free(*state);
    return 0;
}

static void enqueue_ok(qh_store *st, const qtr_event *ev)
{
    char err[256] = "";
    int rc = qh_store_enqueue(st, ev, NULL, err, sizeof err);
    if (rc != QTR_OK) fprintf(stderr, "enqueue: %s\n", err);
    assert_int_equal(rc, QTR_OK);
}

static qtr_dec dec(const char *text)
{
    qtr_dec v = 0;
    assert_int_equal(qtr_dec_parse(text, (size_t)-1, &v), QTR_DEC_OK);
    return v;
}

static void test_money_exact(void **state)
{
    fixture *f = *state;
    qtr_dec sum = 0;
    assert_true(qtr_dec_add(dec("0.1"), dec("0.2"), &sum));
    qtr_fill a = sf_fill("f-sum", "BTCUSDT", QTR_SIDE_BUY, sum, dec("92233720368.54775807"), dec("-0.00000001"), 1);
    qtr_fill b = sf_fill("f-neg", "BTCUSDT", QTR_SIDE_SELL, dec("0.00000001"), dec("0.00000001"),
                         dec("-92233720368.54775807"), 2);
    assert_int_equal(qh_store_record_fill(f->st, &a, NULL), QTR_OK);
    assert_int_equal(qh_store_record_fill(f->st, &b, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);

    qtr_fill got[4];
    assert_int_equal(qh_store_recent_fills(f->st, got, 4), 2);
    /* newest first */
    assert_string_equal(got[1].fill_id, "f-sum");
    assert_int_equal(got[1].qty, dec("0.3"));
    assert_int_equal(got[1].price, INT64_MAX);
    assert_int_equal(got[1].fee, -1);
    assert_string_equal(got[0].fill_id, "f-neg");
    assert_int_equal(got[0].fee, -INT64_MAX);
    assert_int_equal(got[0].qty, 1);
    char text[QTR_DEC_STRLEN];
    assert_string_equal(qtr_dec_format(got[1].qty, text), "0.3");

    /* In the file: integers scaled by 1e8, never REAL or TEXT. */
    assert_int_equal(sf_sql_int(f->path, "SELECT qty FROM fills WHERE fill_id='f-sum'"), 30000000);
    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM fills WHERE typeof(qty)<>'integer'"
                                         " OR typeof(price)<>'integer' OR typeof(fee)<>'integer'"), 0);
    /* The CHECK refuses a REAL written behind the store's back. */
    assert_false(sf_sql_exec(f->path, "INSERT INTO fills(fill_id, client_id, symbol, side, qty, price, fee,"
                                      " maker, reduce_only, time_ms) VALUES('x','c','BTCUSDT','BUY',0.3,1,0,0,0,1)"));
}

static void test_duplicate_fill_ignored(void **state)
{
    fixture *f = *state;
    qtr_fill a = sf_fill("dup-1", "ETHUSDT", QTR_SIDE_BUY, QTR_DEC_INT(2), QTR_DEC_INT(3000), QTR_DEC_INT(1), 10);
    qtr_fill again = a;
    again.qty = QTR_DEC_INT(5);   /* same fill_id, other content: the first one stands */
    assert_int_equal(qh_store_record_fill(f->st, &a, NULL), QTR_OK);
    assert_int_equal(qh_store_record_fill(f->st, &again, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);
    assert_int_equal(qh_store_record_fill(f->st, &a, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);

    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM fills WHERE fill_id='dup-1'"), 1);
    assert_int_equal(sf_sql_int(f->path, "SELECT qty FROM fills WHERE fill_id='dup-1'"), QTR_DEC_INT(2));
    qh_store_stats stats;
    qh_store_get_stats(f->st, &stats);
    assert_int_equal(stats.duplicate_fills, 2);
    assert_int_equal(stats.committed, 3);
    qtr_health h;
    qh_store_health(f->st, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    /* the reason says that records are written, as every other component says something */
    char want[64];
    snprintf(want, sizeof want, "%llu records written, queue 0 of ", (unsigned long long)stats.committed);
    assert_non_null(strstr(h.reason, want));
}

static void test_orders_and_events(void **state)
{
    fixture *f = *state;
    qtr_event intent = sf_event(QTR_EV_ORDER_INTENT);
    qtr_order_intent *oi = &intent.u.order_intent;
    qtr_strlcpy(oi->symbol, "BTCUSDT", sizeof oi->symbol);
    qtr_strlcpy(oi->client_id, "o-1", sizeof oi->client_id);
    qtr_strlcpy(oi->strategy, "ema_cross", sizeof oi->strategy);
    oi->side = QTR_SIDE_BUY;
    oi->type = QTR_ORDER_LIMIT;
    oi->qty = dec("0.5");
    oi->price = dec("50000.1");
    oi->reduce_only = true;
    oi->time_ms = 1000;
    enqueue_ok(f->st, &intent);

    qtr_event up = sf_event(QTR_EV_ORDER_UPDATE);
    up.u.order_update = sf_order("o-1", "BTCUSDT", QTR_SIDE_BUY, QTR_OS_NEW, dec("0.5"), dec("50000.1"), 0, 1100);
    qtr_strlcpy(up.u.order_update.exchange_id, "889900", sizeof up.u.order_update.exchange_id);
    enqueue_ok(f->st, &up);
    up.u.order_update = sf_order("o-1", "BTCUSDT", QTR_SIDE_BUY, QTR_OS_FILLED, dec("0.5"), dec("50000.1"),
                                 dec("0.5"), 1200);
    enqueue_ok(f->st, &up);
    /* A stale update arriving late must not reopen a filled order. */
    up.u.order_update = sf_order("o-1", "BTCUSDT", QTR_SIDE_BUY, QTR_OS_PARTIALLY_FILLED, dec("0.5"),
                                 dec("50000.1"), dec("0.2"), 1150);
    enqueue_ok(f->st, &up);
    /* Another order that stays open. */
    up.u.order_update = sf_order("o-2", "ETHUSDT", QTR_SIDE_SELL, QTR_OS_PARTIALLY_FILLED, dec("3"),
                                 dec("3000"), dec("1.25"), 1300);
    up.u.order_update.type = QTR_ORDER_STOP_MARKET;
    enqueue_ok(f->st, &up);
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);

    qtr_order_update o;
    assert_int_equal(qh_store_get_order(f->st, "o-1", &o), QTR_OK);
    assert_int_equal(o.status, QTR_OS_FILLED);
    assert_int_equal(o.filled_qty, dec("0.5"));
    assert_int_equal(o.avg_price, dec("50000.1"));
    assert_string_equal(o.exchange_id, "889900");
    assert_true(o.reduce_only);   /* set by the first record; updates do not change it */
    assert_false(o.external);
    assert_int_equal(o.time_ms, 1200);
    assert_int_equal(qh_store_get_order(f->st, "nope", &o), QTR_ENOTFOUND);

    char strategy[64];
    sf_sql_text(f->path, "SELECT strategy FROM orders WHERE client_id='o-1'", strategy, sizeof strategy);
    assert_string_equal(strategy, "ema_cross");
    /* Every change is in order_events: PENDING, NEW, FILLED, the stale one. */
    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM order_events e JOIN orders o ON o.id=e.order_id"
                                         " WHERE o.client_id='o-1'"), 4);

    qtr_order_update recent[8];
    size_t n = qh_store_recent_orders(f->st, recent, 8);
    assert_int_equal(n, 2);
    assert_string_equal(recent[0].client_id, "o-2");
    assert_int_equal(recent[0].type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(recent[0].side, QTR_SIDE_SELL);
    assert_int_equal(qh_store_recent_orders(f->st, recent, 1), 1);

    qh_store_state s;
    char err[256];
    assert_int_equal(qh_store_load_state(f->st, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n_open_orders, 1);
    assert_string_equal(s.open_orders[0].client_id, "o-2");
    assert_int_equal(s.open_orders[0].filled_qty, dec("1.25"));
    qh_store_state_free(&s);
}

static void test_positions_equity_ess_policy_alerts(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(qh_store_set_starting_balance(f->st, dec("10000.5"), err, sizeof err), QTR_OK);

    qtr_fill buy = sf_fill("p-1", "BTCUSDT", QTR_SIDE_BUY, dec("0.3"), QTR_DEC_INT(100), dec("0.01"), 5);
    qtr_fill sell = sf_fill("p-2", "BTCUSDT", QTR_SIDE_SELL, dec("0.1"), QTR_DEC_INT(110), dec("0.01"), 6);
    assert_int_equal(qh_store_record_fill(f->st, &buy, NULL), QTR_OK);
    assert_int_equal(qh_store_record_fill(f->st, &sell, NULL), QTR_OK);

    qtr_event pos = sf_event(QTR_EV_POSITION);
    qtr_position *p = &pos.u.position;
    qtr_strlcpy(p->symbol, "BTCUSDT", sizeof p->symbol);
    p->qty = dec("0.2");
    p->entry_price = QTR_DEC_INT(100);
    p->mark_price = QTR_DEC_INT(105);
    p->unrealized_pnl = QTR_DEC_INT(1);
    p->realized_pnl = QTR_DEC_INT(1);
    p->fees = dec("0.02");
    p->funding = dec("-0.003");
    p->time_ms = 7;
    enqueue_ok(f->st, &pos);
    /* A position whose fills were never stored: must show as a mismatch. */
    qtr_strlcpy(p->symbol, "SOLUSDT", sizeof p->symbol);
    p->qty = dec("-4");
    enqueue_ok(f->st, &pos);

    const int64_t day = 86400000;
    qtr_event eq = sf_event(QTR_EV_EQUITY);
    for (int i = 0; i < 3; i++) {
        qtr_equity *e = &eq.u.equity;
        e->time_ms = 3 * day + 1000 + i;
        e->wallet_balance = dec("10000.5") + i;
        e->equity = dec("10001.5") + i;
        e->equity_peak = dec("10002") + i;
        e->drawdown_pct = dec("0.004");
        e->day_start_equity = dec("9990");
        e->daily_pnl = dec("11.5");
        e->realized_pnl = QTR_DEC_INT(1);
        e->fees = dec("0.02");
        e->funding = dec("-0.003");
        e->exposure = QTR_DEC_INT(21);
        e->open_positions = 2;
        enqueue_ok(f->st, &eq);
    }

    qtr_event ess = sf_event(QTR_EV_ESS_STATE);
    ess.u.ess.time_ms = 50;
    ess.u.ess.state = QTR_ESS_TRIPPED;
    ess.u.ess.previous = QTR_ESS_ARMED;
    qtr_strlcpy(ess.u.ess.reason, "max_drawdown", sizeof ess.u.ess.reason);
    qtr_strlcpy(ess.u.ess.user, "system", sizeof ess.u.ess.user);
    ess.u.ess.trips = 1;
    enqueue_ok(f->st, &ess);
    ess.u.ess.time_ms = 60;
    ess.u.ess.state = QTR_ESS_COOLDOWN;
    ess.u.ess.previous = QTR_ESS_TRIPPED;
    ess.u.ess.cooldown_until_ms = 9999;
    qtr_strlcpy(ess.u.ess.user, "alice", sizeof ess.u.ess.user);
    ess.u.ess.resets = 1;
    enqueue_ok(f->st, &ess);

    qtr_event pol = sf_event(QTR_EV_POLICY);
    pol.u.policy.time_ms = 70;
    pol.u.policy.ok = true;
    pol.u.policy.version = 3;
    qtr_strlcpy(pol.u.policy.file, "policies/default.lua", sizeof pol.u.policy.file);
    qtr_strlcpy(pol.u.policy.hash, "ab12", sizeof pol.u.policy.hash);
    enqueue_ok(f->st, &pol);
    pol.u.policy.time_ms = 80;
    pol.u.policy.ok = false;
    qtr_strlcpy(pol.u.policy.hash, "cd34", sizeof pol.u.policy.hash);
    qtr_strlcpy(pol.u.policy.error, "default.lua:12: unknown key", sizeof pol.u.policy.error);
    enqueue_ok(f->st, &pol);

    qtr_event al = sf_event(QTR_EV_ALERT);
    al.u.alert.time_ms = 90;
    al.u.alert.severity = QTR_ALERT_CRITICAL;
    qtr_strlcpy(al.u.alert.source, "ess", sizeof al.u.alert.source);
    qtr_strlcpy(al.u.alert.kind, "ess_trip", sizeof al.u.alert.kind);
    qtr_strlcpy(al.u.alert.text, "tripped: max_drawdown", sizeof al.u.alert.text);
    enqueue_ok(f->st, &al);
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);

    qh_store_state s;
    assert_int_equal(qh_store_load_state(f->st, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n_fills, 2);
    assert_true(s.has_starting_balance);
    assert_int_equal(s.starting_balance, dec("10000.5"));
    assert_int_equal(s.n_positions, 2);
    assert_string_equal(s.positions[0].symbol, "BTCUSDT");
    assert_int_equal(s.positions[0].qty, dec("0.2"));
    assert_int_equal(s.positions[0].entry_price, QTR_DEC_INT(100));
    assert_int_equal(s.positions[0].mark_price, QTR_DEC_INT(105));
    assert_int_equal(s.positions[0].fees, dec("0.02"));
    assert_int_equal(s.positions[0].funding, dec("-0.003"));
    assert_int_equal(s.positions[0].time_ms, 7);
    /* BTC: 0.3 - 0.1 = 0.2 matches; SOL has no fills. */
    assert_int_equal(s.n_mismatches, 1);
    assert_string_equal(s.mismatches[0].symbol, "SOLUSDT");
    assert_int_equal(s.mismatches[0].stored_qty, dec("-4"));
    assert_int_equal(s.mismatches[0].fills_qty, 0);

    assert_true(s.has_equity);
    assert_int_equal(s.equity.time_ms, 3 * day + 1002);
    assert_int_equal(s.equity.wallet_balance, dec("10000.5") + 2);
    assert_int_equal(s.equity.equity_peak, dec("10002") + 2);
    assert_int_equal(s.equity.day_start_equity, dec("9990"));
    assert_int_equal(s.equity.funding, dec("-0.003"));
    assert_int_equal(s.equity.open_positions, 2);
    assert_int_equal(s.day_start_ms, 3 * day);

    assert_true(s.has_ess);
    assert_int_equal(s.ess.state, QTR_ESS_COOLDOWN);
    assert_int_equal(s.ess.previous, QTR_ESS_TRIPPED);
    assert_string_equal(s.ess.user, "alice");
    assert_int_equal(s.ess.cooldown_until_ms, 9999);
    assert_int_equal(s.ess.trips, 1);
    assert_int_equal(s.ess.resets, 1);

    assert_true(s.has_policy);
    assert_false(s.last_policy.ok);
    assert_string_equal(s.last_policy.hash, "cd34");
    assert_string_equal(s.last_policy.error, "default.lua:12: unknown key");
    assert_true(s.has_good_policy);
    assert_string_equal(s.last_good_policy.hash, "ab12");
    assert_int_equal(s.last_good_policy.version, 3);
    qh_store_state_free(&s);

    qtr_equity hist[2];
    assert_int_equal(qh_store_equity_history(f->st, hist, 2), 2);
    assert_int_equal(hist[0].time_ms, 3 * day + 1002);
    assert_int_equal(hist[1].time_ms, 3 * day + 1001);
    qtr_ess_event eh[4];
    assert_int_equal(qh_store_ess_history(f->st, eh, 4), 2);
    assert_int_equal(eh[1].state, QTR_ESS_TRIPPED);
    assert_string_equal(eh[1].reason, "max_drawdown");
    qtr_alert alerts[2];
    assert_int_equal(qh_store_recent_alerts(f->st, alerts, 2), 1);
    assert_int_equal(alerts[0].severity, QTR_ALERT_CRITICAL);
    assert_string_equal(alerts[0].text, "tripped: max_drawdown");
    assert_string_equal(alerts[0].kind, "ess_trip");
}

static void test_empty_store_state(void **state)
{
    fixture *f = *state;
    qh_store_state s;
    char err[256];
    assert_int_equal(qh_store_load_state(f->st, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n_open_orders + s.n_positions + s.n_mismatches + s.n_fills, 0);
    assert_false(s.has_equity || s.has_ess || s.has_policy || s.has_starting_balance);
    qh_store_state_free(&s);
}

static void test_bad_records_refused(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    qtr_event ev = sf_event(QTR_EV_FILL);
    ev.u.fill = sf_fill("", "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, 1);
    assert_int_equal(qh_store_enqueue(f->st, &ev, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "fill_id"));
    ev.u.fill = sf_fill("z", "BTCUSDT", QTR_SIDE_BUY, 0, 1, 0, 1);
    assert_int_equal(qh_store_enqueue(f->st, &ev, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "qty"));
    ev.u.fill = sf_fill("z", "BTCUSDT", (qtr_side)7, 1, 1, 0, 1);
    assert_int_equal(qh_store_enqueue(f->st, &ev, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "side"));
    memset(ev.u.fill.symbol, 'A', sizeof ev.u.fill.symbol);   /* not terminated */
    assert_int_equal(qh_store_enqueue(f->st, &ev, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "symbol"));
    qtr_event candle = sf_event(QTR_EV_CANDLE);
    assert_int_equal(qh_store_enqueue(f->st, &candle, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "candle"));
    qtr_event up = sf_event(QTR_EV_ORDER_UPDATE);
    up.u.order_update = sf_order("o", "BTCUSDT", QTR_SIDE_BUY, (qtr_order_status)42, 1, 1, 0, 1);
    assert_int_equal(qh_store_enqueue(f->st, &up, NULL, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "status"));
    qh_store_stats stats;
    qh_store_get_stats(f->st, &stats);
    assert_int_equal(stats.enqueued, 0);
}

typedef struct watch_log {
    uint64_t seqs[8];
    int status[8];
    int n;
} watch_log;

static void on_durable(void *ud, uint64_t seq, int status)
{
    watch_log *log = ud;
    if (log->n < 8) {
        log->seqs[log->n] = seq;
        log->status[log->n] = status;
    }
    log->n++;
}

static void test_durability_watch(void **state)
{
    fixture *f = *state;
    watch_log log = { .n = 0 };
    uint64_t s1 = 0, s2 = 0;
    qtr_fill a = sf_fill("w-1", "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, 1);
    qtr_fill b = sf_fill("w-2", "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, 2);
    assert_int_equal(qh_store_record_fill(f->st, &a, &s1), QTR_OK);
    assert_int_equal(qh_store_record_fill(f->st, &b, &s2), QTR_OK);
    assert_int_equal(s2, s1 + 1);
    assert_int_equal(qh_store_last_seq(f->st), s2);
    assert_int_equal(qh_store_watch(f->st, s1, on_durable, &log), QTR_OK);
    assert_int_equal(qh_store_watch(f->st, s2, on_durable, &log), QTR_OK);
    assert_int_equal(qh_store_watch(f->st, s1, on_durable, &log), QTR_EINVAL);  /* out of order */
    assert_int_equal(qh_store_flush(f->st, -1), QTR_OK);
    assert_true(qh_store_durable_seq(f->st) >= s2);

    /* The eventfd is readable now; dispatch clears it and runs both. */
    int fd = qh_store_notify_fd(f->st);
    assert_true(fd >= 0);
    uint64_t counter = 0;
    assert_int_equal(read(fd, &counter, sizeof counter), (ssize_t)sizeof counter);
    assert_true(counter >= 1);
    assert_int_equal(qh_store_dispatch(f->st), 2);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.seqs[0], s1);
    assert_int_equal(log.seqs[1], s2);
    assert_int_equal(log.status[0], QTR_OK);
    assert_int_equal(qh_store_dispatch(f->st), 0);
    assert_int_equal(sf_sql_int(f->path, "SELECT count(*) FROM fills WHERE fill_id IN ('w-1','w-2')"), 2);
}

static void test_synchronous_mode(void **state)
{
    fixture *f = *state;
    char *path = sf_path(f->dir, "sync.db");
    qh_store_options opt = { .synchronous = true, .queue_capacity = 4 };
    char err[256];
    qh_store *st = qh_store_open(path, &opt, err, sizeof err);
    assert_non_null(st);
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "s-%d", i);
        qtr_fill fl = sf_fill(id, "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, i);
        uint64_t seq = 0;
        assert_int_equal(qh_store_record_fill(st, &fl, &seq), QTR_OK);
        /* Committed before the call returned. */
        assert_int_equal(qh_store_durable_seq(st), seq);
    }
    assert_int_equal(qh_store_close(st), QTR_OK);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), 10);
    free(path);
}

static void test_meta(void **state)
{
    fixture *f = *state;
    char err[256], buf[8];
    assert_int_equal(qh_store_meta_get(f->st, "run_id", buf, sizeof buf), QTR_ENOTFOUND);
    assert_int_equal(qh_store_meta_set(f->st, "run_id", "r-1", err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_meta_set(f->st, "run_id", "r-2", err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_meta_get(f->st, "run_id", buf, sizeof buf), QTR_OK);
    assert_string_equal(buf, "r-2");
    assert_int_equal(qh_store_meta_set(f->st, "long", "0123456789", err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_meta_get(f->st, "long", buf, sizeof buf), QTR_EINVAL);
    assert_int_equal(qh_store_meta_set(f->st, "", "x", err, sizeof err), QTR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_money_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_fill_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_equity_ess_policy_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_store_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_records_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durability_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_synchronous_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_roundtrip", tests, NULL, NULL);
}
