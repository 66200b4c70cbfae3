/* dash_test_host — the dashboard plugin in a real-time mock host with live
 * looking data, for the browser test (and for a person to look at). Prints
 * "PORT <n>" once listening, publishes events every 250 ms, and exits after
 * --seconds (default 60) or on SIGTERM/SIGINT. Listens on 127.0.0.1 only.
 *
 *   dash_test_host [--seconds N] [--port P]
 */
#include "mock_host.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HIST_MAX 4096
#define RING 64

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static mock_host *g_m;
static qtr_account g_hist[HIST_MAX];
static size_t g_n_hist;
static qtr_fill g_fills[RING];
static size_t g_n_fills;
static qtr_order_update g_orders[RING];
static size_t g_n_orders;
static qtr_signal_record g_signals[RING];
static size_t g_n_signals;
static qtr_component_health g_health[5];
static uint32_t g_rand = 12345;
static uint64_t g_tick;
static int (*g_mock_trip)(qtr_ctx *, const char *, const char *);
static int (*g_mock_reset)(qtr_ctx *, const char *, const char *, bool, char *, size_t);

static uint32_t rnd(void) { g_rand = g_rand * 1103515245u + 12345u; return (g_rand >> 8) & 0xffffff; }
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Newest last, as the host services return them. */
#define PUSH(arr, n, item)                                                   \
    do {                                                                     \
        if ((n) == RING) { memmove(&(arr)[0], &(arr)[1], (RING - 1) * sizeof (arr)[0]); (n)--; } \
        (arr)[(n)++] = (item);                                               \
    } while (0)

/* The newest cap of n items (the ring's end), into the dashboard's list. */
static size_t copy(qtr_list *l, const void *src, size_t n, size_t size)
{
    if (l && n > l->cap) { src = (const char *)src + (n - l->cap) * size; n = l->cap; }
    return mock_list_fill(l, src, n, size);
}
static size_t h_fills(qtr_ctx *c, qtr_list *l) { (void)c; return copy(l, g_fills, g_n_fills, sizeof(qtr_fill)); }
static size_t h_orders(qtr_ctx *c, qtr_list *l) { (void)c; return copy(l, g_orders, g_n_orders, sizeof(qtr_order_update)); }
static size_t h_open(qtr_ctx *c, qtr_list *l)
{
    (void)c;
    qtr_order_update o[RING];
    size_t n = 0;
    for (size_t i = 0; i < g_n_orders; i++)
        if (!qtr_order_status_final(g_orders[i].status)) o[n++] = g_orders[i];
    return mock_list_fill(l, o, n, sizeof o[0]);
}
static size_t h_signals(qtr_ctx *c, qtr_list *l) { (void)c; return copy(l, g_signals, g_n_signals, sizeof(qtr_signal_record)); }
static size_t h_equity(qtr_ctx *c, qtr_list *l) { (void)c; return copy(l, g_hist, g_n_hist, sizeof(qtr_account)); }
static size_t h_health(qtr_ctx *c, qtr_list *l) { (void)c; return copy(l, g_health, 5, sizeof(qtr_component_health)); }
static size_t h_plugins(qtr_ctx *c, qtr_list *l)
{
    qtr_plugin_info o[3];
    (void)c;
    static const char *const names[][3] = { { "dashboard", "1.0.0", "4" }, { "paper", "0.2.0", "3" },
                                             { "ma_cross", "1.1.0", "1" } };
    size_t n = 0;
    for (; n < 3; n++) {
        memset(&o[n], 0, sizeof o[n]);
        qtr_strlcpy(o[n].name, names[n][0], QTR_NAME_MAX);
        qtr_strlcpy(o[n].version, names[n][1], QTR_NAME_MAX);
        o[n].kind = (qtr_kind)atoi(names[n][2]);
        o[n].abi_major = QTR_ABI_MAJOR;
    }
    return mock_list_fill(l, o, n, sizeof o[0]);
}

static void publish_ess(qtr_ess_state prev, const char *user, const char *reason)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.u.ess.state = g_m->ess.state;
    ev.u.ess.previous = prev;
    ev.u.ess.trips = g_m->ess.trips;
    ev.u.ess.resets = g_m->ess.resets;
    ev.u.ess.time_ms = wall_ms();
    qtr_strlcpy(ev.u.ess.reason, reason, QTR_REASON_MAX);
    qtr_strlcpy(ev.u.ess.user, user, QTR_NAME_MAX);
    mock_host_publish(g_m, &ev);
}
static int h_trip(qtr_ctx *c, const char *user, const char *reason)
{
    qtr_ess_state prev = g_m->ess.state;
    int rc = g_mock_trip(c, user, reason);
    g_m->ess.tripped_at_ms = wall_ms();
    if (rc == QTR_OK) publish_ess(prev, user, reason);
    return rc;
}
static int h_reset(qtr_ctx *c, const char *user, const char *reason, bool force, char *err, size_t errlen)
{
    qtr_ess_state prev = g_m->ess.state;
    int rc = g_mock_reset(c, user, reason, force, err, errlen);
    if (rc == QTR_OK) publish_ess(prev, user, reason);
    return rc;
}

static qtr_account next_account(qtr_account a, int64_t t)
{
    /* a random walk in cents, exact */
    int64_t cents = (int64_t)(rnd() % 2001) - 960;
    qtr_dec delta = cents * (QTR_DEC_SCALE / 100);
    a.time_ms = t;
    qtr_dec_add(a.unrealized_pnl, delta / 3, &a.unrealized_pnl);
    qtr_dec_add(a.wallet_balance, delta - delta / 3, &a.wallet_balance);
    qtr_dec_add(a.wallet_balance, a.unrealized_pnl, &a.equity);
    if (a.equity > a.equity_peak) a.equity_peak = a.equity;
    qtr_dec dd = 0;
    qtr_dec_muldiv(a.equity_peak - a.equity, QTR_DEC_INT(100), a.equity_peak, QTR_ROUND_HALF_EVEN, &dd);
    qtr_dec_round_step(dd, QTR_DEC_SCALE / 100, QTR_ROUND_HALF_EVEN, &a.drawdown_pct);
    a.daily_pnl = a.equity - a.day_start_equity;
    return a;
}

/* BTCUSDT's exit plan: a stop and one take-profit resting for the long
 * position; the host's list says nothing of their status, which reaches
 * the page by the order updates of on_tick (tests/dashboard_web/e2e). */
static qtr_exit_state g_exit;
static size_t h_exits(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, &g_exit, 1, sizeof g_exit); }

static void setup_exits(void)
{
    qtr_exit_state *x = &g_exit;
    qtr_strlcpy(x->symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    qtr_strlcpy(x->owner, "ma_cross", QTR_NAME_MAX);
    x->price_tick = D("0.1");
    x->qty_step = D("0.001");
    x->params.stop_loss.bps = 150;
    x->params.n_take_profit = 1;
    x->params.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 300 }, .share_bps = 10000 };
    x->params.trailing_callback_bps = 100;
    x->position_qty = D("0.015");
    x->entry_price = D("43012.4");
    x->opened_ms = wall_ms() - 600000;
    x->n_orders = 2;
    qtr_strlcpy(x->orders[0].client_id, "qtr-demo-e1", QTR_CLIENT_ID_MAX);
    x->orders[0].role = QTR_EXIT_STOP_LOSS;
    x->orders[0].side = QTR_SIDE_SELL;
    x->orders[0].type = QTR_ORDER_STOP_MARKET;
    x->orders[0].qty = D("0.015");
    x->orders[0].stop_price = D("42367.3");
    qtr_strlcpy(x->orders[1].client_id, "qtr-demo-e2", QTR_CLIENT_ID_MAX);
    x->orders[1].role = QTR_EXIT_TAKE_PROFIT;
    x->orders[1].side = QTR_SIDE_SELL;
    x->orders[1].type = QTR_ORDER_TAKE_PROFIT_MARKET;
    x->orders[1].qty = D("0.015");
    x->orders[1].stop_price = D("44302.8");
}

/* The take-profit's state on the exchange, as its order update. */
static void exit_order_update(mock_host *m, int64_t t, qtr_order_status st)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    qtr_strlcpy(u->client_id, "qtr-demo-e2", QTR_CLIENT_ID_MAX);
    u->time_ms = t;
    u->side = QTR_SIDE_SELL;
    u->type = QTR_ORDER_TAKE_PROFIT_MARKET;
    u->status = st;
    u->qty = D("0.015");
    u->stop_price = D("44302.8");
    u->reduce_only = true;
    mock_host_publish(m, &ev);
}

static void trade_round(mock_host *m, int64_t t);
static void setup_data(mock_host *m)
{
    int64_t now = wall_ms();
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.wallet_balance = D("10000");
    a.equity = a.equity_peak = a.day_start_equity = D("10000");
    a.exposure = D("1311.46");
    a.open_positions = 2;
    for (int i = 0; i < 240; i++) {
        a = next_account(a, now - (240 - i) * 15000);
        g_hist[g_n_hist++] = a;
    }
    m->account = a;
    qtr_position *p = &m->positions[0];
    qtr_strlcpy(p->symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    p->qty = D("0.015");
    p->entry_price = D("43012.4");
    p->mark_price = D("43120.1");
    p->unrealized_pnl = D("1.6155");
    p->fees = D("0.2580744");
    p = &m->positions[1];
    qtr_strlcpy(p->symbol, "ETHUSDT", QTR_SYMBOL_MAX);
    p->qty = D("-0.25");
    p->entry_price = D("2281.55");
    p->mark_price = D("2290.02");
    p->unrealized_pnl = D("-2.1175");
    p->realized_pnl = D("4.12");
    p->funding = D("-0.0123");
    m->n_positions = 2;
    m->has_limits = true;
    qtr_strlcpy(m->limits.name, "default", QTR_NAME_MAX);
    qtr_strlcpy(m->limits.hash, "9f2c1e7a44d0b6c3e58a2f4b71d9c0e6a3b5f8d2c1e4a7b9d0f3e6c8a1b4d7e0", 65);
    m->limits.version = 3;
    m->limits.loaded_at_ms = now - 3600000;
    m->limits.max_positions = 3;
    m->limits.max_order_notional = D("2500");
    m->limits.max_total_exposure = D("10000");
    m->limits.ess_max_drawdown_pct = D("5");
    static const char *const comps[] = { "dashboard", "exchange", "market", "store", "strategy" };
    for (int i = 0; i < 5; i++) {
        qtr_strlcpy(g_health[i].component, comps[i], QTR_NAME_MAX);
        qtr_strlcpy(g_health[i].health.reason, "ok", QTR_REASON_MAX);
    }
    g_health[3].health.status = QTR_HEALTH_DEGRADED;
    qtr_strlcpy(g_health[3].health.reason, "event buffer 71% full", QTR_REASON_MAX);
    m->api.recent_fills = h_fills;
    m->api.recent_orders = h_orders;
    m->api.list_open_orders = h_open;
    m->api.recent_signals = h_signals;
    m->api.equity_history = h_equity;
    m->api.health_all = h_health;
    m->api.list_plugins = h_plugins;
    setup_exits();
    m->api.list_exit_plans = h_exits;
    /* some earlier trading, so the tables are not empty at first sight */
    for (int i = 0; i < 10; i++) trade_round(m, now - (10 - i) * 45000);
    g_mock_trip = m->api.ess_trip;
    g_mock_reset = m->api.ess_reset;
    m->api.ess_trip = h_trip;
    m->api.ess_reset = h_reset;
}

static void trade_round(mock_host *m, int64_t t)
{
    static int seq;
    seq++;
    bool buy = rnd() % 2;
    const char *sym = seq % 3 ? "BTCUSDT" : "ETHUSDT";
    qtr_signal_record rec;
    memset(&rec, 0, sizeof rec);
    qtr_signal *s = &rec.signal;
    qtr_strlcpy(s->symbol, sym, QTR_SYMBOL_MAX);
    qtr_strlcpy(s->strategy, "ma_cross", QTR_NAME_MAX);
    s->time_ms = t;
    s->side = buy ? QTR_SIDE_BUY : QTR_SIDE_SELL;
    s->type = QTR_ORDER_MARKET;
    s->qty = sym[0] == 'B' ? D("0.002") : D("0.05");
    s->confidence = 0.4 + (rnd() % 55) / 100.0;
    snprintf(s->reason, QTR_REASON_MAX, "fast MA crossed %s slow MA", buy ? "above" : "below");
    bool accepted = s->confidence >= 0.55;
    qtr_strlcpy(rec.outcome, accepted ? "accepted" : "rejected", QTR_NAME_MAX);
    if (!accepted) qtr_strlcpy(rec.reason, "min_confidence 0.55", QTR_REASON_MAX);
    PUSH(g_signals, g_n_signals, rec);
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_SIGNAL;
    ev.u.signal = *s;
    mock_host_publish(m, &ev);
    if (!accepted) return;
    qtr_order_update o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, sym, QTR_SYMBOL_MAX);
    o.time_ms = t;
    snprintf(o.client_id, QTR_CLIENT_ID_MAX, "qtr-%06d", seq);
    snprintf(o.exchange_id, QTR_CLIENT_ID_MAX, "%d", 8800000 + seq);
    o.side = s->side;
    o.type = QTR_ORDER_MARKET;
    o.status = QTR_OS_FILLED;
    o.qty = o.filled_qty = s->qty;
    o.avg_price = sym[0] == 'B' ? D("43120.1") + (qtr_dec)(rnd() % 500) * 1000000 : D("2290.02");
    PUSH(g_orders, g_n_orders, o);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.u.order_update = o;
    mock_host_publish(m, &ev);
    qtr_fill f;
    memset(&f, 0, sizeof f);
    qtr_strlcpy(f.symbol, sym, QTR_SYMBOL_MAX);
    f.time_ms = t;
    qtr_strlcpy(f.client_id, o.client_id, QTR_CLIENT_ID_MAX);
    snprintf(f.fill_id, QTR_CLIENT_ID_MAX, "t%d", seq);
    f.side = o.side;
    f.qty = o.qty;
    f.price = o.avg_price;
    qtr_dec notional = 0;
    qtr_dec_mul(f.qty, f.price, QTR_ROUND_HALF_EVEN, &notional);
    qtr_dec_mul(notional, D("0.0004"), QTR_ROUND_HALF_EVEN, &f.fee);
    PUSH(g_fills, g_n_fills, f);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.u.fill = f;
    mock_host_publish(m, &ev);
}

static void on_tick(void *ud)
{
    mock_host *m = ud;
    int64_t t = wall_ms();
    g_tick++;
    qtr_account a = next_account(m->account, t);
    m->account = a;
    if (g_n_hist == HIST_MAX) { memmove(g_hist, g_hist + 1, (HIST_MAX - 1) * sizeof g_hist[0]); g_n_hist--; }
    g_hist[g_n_hist++] = a;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_EQUITY;
    ev.u.equity = a;
    mock_host_publish(m, &ev);
    qtr_position *p = &m->positions[g_tick % 2];
    p->time_ms = t;
    qtr_dec_add(p->unrealized_pnl, ((qtr_dec)(rnd() % 200) - 100) * 100000, &p->unrealized_pnl);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_POSITION;
    ev.u.position = *p;
    mock_host_publish(m, &ev);
    if (g_tick % 6 == 0) trade_round(m, t);
    if (g_tick % 8 == 4) exit_order_update(m, t, QTR_OS_NEW);   /* the take-profit rests: NEW */
    if (g_tick % 10 == 1) {   /* BTCUSDT's regime switches every 2.5 s; the first before the page opens */
        bool up = (g_tick / 10) % 2 == 0;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_REGIME;
        qtr_strlcpy(ev.u.regime.symbol, "BTCUSDT", QTR_SYMBOL_MAX);
        ev.u.regime.time_ms = t;
        ev.u.regime.regime = up ? QTR_REGIME_TREND_UP : QTR_REGIME_RANGE;
        ev.u.regime.previous = g_tick == 1 ? QTR_REGIME_UNKNOWN : up ? QTR_REGIME_RANGE : QTR_REGIME_TREND_UP;
        ev.u.regime.adx = up ? 31.5 : 14.25;
        ev.u.regime.plus_di = 28;
        ev.u.regime.minus_di = 12;
        ev.u.regime.atr_pct = 0.8;
        ev.u.regime.volatility = 0.6;
        mock_host_publish(m, &ev);
    }
    if (g_tick % 40 == 20) {
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_ALERT;
        ev.u.alert.severity = QTR_ALERT_WARNING;
        qtr_strlcpy(ev.u.alert.source, "exchange", QTR_NAME_MAX);
        qtr_strlcpy(ev.u.alert.kind, "latency", QTR_NAME_MAX);
        qtr_strlcpy(ev.u.alert.text, "order ack took 850 ms (p99 over 500 ms)", QTR_TEXT_MAX);
        mock_host_publish(m, &ev);
    }
}

int main(int argc, char **argv)
{
    int seconds = 60, port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) seconds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    }
    if (seconds <= 0 || seconds > 3600 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: dash_test_host [--seconds 1..3600] [--port P]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    mock_host *m = mock_host_new(true);
    g_m = m;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    mock_host_set_option(m, "listen", listen);
    setup_data(m);
    mock_plugin p;
    if (mock_plugin_load(m, mock_plugin_path("dashboard_web"), &p) != 0) {
        fprintf(stderr, "dash_test_host: dashboard_web did not load: %s\n", m->last_log);
        return 1;
    }
    qtr_health h;
    p.desc->health(p.state, &h);
    const char *at = strstr(h.reason, "listening on ");
    const char *colon = at ? strchr(at + 13, ':') : NULL;
    printf("PORT %d\n", colon ? atoi(colon + 1) : 0);
    fflush(stdout);
    m->api.timer_start(m->ctx, 250, true, on_tick, m);
    int64_t until = wall_ms() + (int64_t)seconds * 1000;
    while (!g_stop && wall_ms() < until && m->n_events < MOCK_MAX_EVENTS - 1000) mock_host_run_for(m, 100);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
    return 0;
}
