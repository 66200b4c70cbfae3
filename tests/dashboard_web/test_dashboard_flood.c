/* Slow clients under an event flood. 20 WebSocket clients, one of which
 * never reads. 500 events (2 s), then 50,000 events (5 s; the 10 s
 * compressed by publishing in bursts from a timer). Every reading client
 * must see every event in order, or an honest missed count for the ones it
 * did not get; the latest position per symbol survives; the stalled client
 * is closed once its unsent output reaches client_buffer_bytes; and the
 * plugin's own queued-bytes gauges never pass that cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CLIENTS 20
#define PHASE1_EVENTS 500
#define PHASE1_TICKS 100           /* every 20 ms: 2 s */
#define PHASE2_EVENTS 50000
#define PHASE2_TICKS 100           /* every 50 ms: 5 s */
#define N_POSITIONS 5
#define TOTAL_EVENTS (PHASE1_EVENTS + PHASE2_EVENTS)
#define CAP_BYTES 262144           /* client_buffer_bytes for this test */

typedef struct reader {
    int64_t last_seq;
    int64_t last_id;
    uint64_t received, missed, phase1;
    unsigned positions_seen;       /* bit per position symbol */
    size_t biggest_batch;
    char error[160];
} reader;

static void on_msg(ws_tc *c, const char *text, size_t len, void *ud)
{
    (void)c;
    reader *r = ud;
    if (r->error[0]) return;
    json_error_t err;
    json_t *j = json_loadb(text, len, 0, &err);
    if (!j) { snprintf(r->error, sizeof r->error, "not JSON: %.100s", err.text); return; }
    int64_t seq = json_integer_value(json_object_get(j, "seq"));
    if (r->last_seq && seq != r->last_seq + 1)
        snprintf(r->error, sizeof r->error, "seq %lld after %lld", (long long)seq, (long long)r->last_seq);
    r->last_seq = seq;
    json_t *evs = json_object_get(j, "events");
    size_t n_real = 0, i;
    json_t *ev;
    json_array_foreach(evs, i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (type && strcmp(type, "missed") == 0) {
            r->missed += (uint64_t)json_integer_value(json_object_get(ev, "count"));
            continue;
        }
        n_real++;
        int64_t id = json_integer_value(json_object_get(ev, "id"));
        if (id <= r->last_id)
            snprintf(r->error, sizeof r->error, "event id %lld after %lld", (long long)id, (long long)r->last_id);
        r->last_id = id;
        r->received++;
        if (id <= PHASE1_EVENTS) r->phase1++;
        if (type && strcmp(type, "position") == 0) {
            const char *sym = json_string_value(json_object_get(json_object_get(ev, "payload"), "symbol"));
            if (sym && strncmp(sym, "POS", 3) == 0) r->positions_seen |= 1u << (sym[3] - '0');
        }
    }
    if (n_real > r->biggest_batch) r->biggest_batch = n_real;
    json_decref(j);
}

typedef struct flood {
    mock_host *m;
    struct event *timer;
    int tick;
    int published;
    bool done;
} flood;

static void publish_fill(mock_host *m, int i)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_strlcpy(ev.u.fill.symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    snprintf(ev.u.fill.fill_id, QTR_CLIENT_ID_MAX, "fill-%d", i);
    ev.u.fill.side = (i & 1) ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    ev.u.fill.qty = D("0.001");
    ev.u.fill.price = D("43000.5") + i;
    ev.u.fill.fee = D("0.0172");
    mock_host_publish(m, &ev);
}

static void publish_position(mock_host *m, int k)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_POSITION;
    snprintf(ev.u.position.symbol, QTR_SYMBOL_MAX, "POS%d", k);
    ev.u.position.qty = D("1.5");
    mock_host_publish(m, &ev);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    flood *f = arg;
    if (f->tick < PHASE1_TICKS) {
        for (int i = 0; i < PHASE1_EVENTS / PHASE1_TICKS; i++) publish_fill(f->m, f->published++);
    } else if (f->tick < PHASE1_TICKS + PHASE2_TICKS) {
        int n = PHASE2_EVENTS / PHASE2_TICKS;
        if (f->tick == PHASE1_TICKS) {
            for (int k = 0; k < N_POSITIONS; k++, n--, f->published++) publish_position(f->m, k);
        }
        for (int i = 0; i < n; i++) publish_fill(f->m, f->published++);
    }
    f->tick++;
    if (f->tick == PHASE1_TICKS) {
        /* phase 2 ticks every 50 ms */
        struct timeval tv = { 0, 50000 };
        event_del(f->timer);
        event_add(f->timer, &tv);
    }
    if (f->tick >= PHASE1_TICKS + PHASE2_TICKS) {
        f->done = true;
        event_del(f->timer);
    }
}

typedef struct all_readers { reader *r; size_t n; } all_readers;
static bool all_accounted(void *ud)
{
    all_readers *a = ud;
    for (size_t i = 0; i < a->n; i++)
        if (a->r[i].received + a->r[i].missed < TOTAL_EVENTS && !a->r[i].error[0]) return false;
    return true;
}

static void test_flood_with_a_stalled_client(void **state)
{
    (void)state;
    dash_fixture fx;
    char cap[32];
    snprintf(cap, sizeof cap, "%d", CAP_BYTES);
    const char *opts[] = { "client_buffer_bytes", cap, NULL };
    assert_true(dash_start(&fx, opts));

    reader readers[N_CLIENTS - 1];
    memset(readers, 0, sizeof readers);
    ws_tc *clients[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS - 1; i++) {
        clients[i] = ws_tc_connect(fx.m, fx.port, NULL, 0);
        clients[i]->keep = false;
        clients[i]->on_msg = on_msg;
        clients[i]->ud = &readers[i];
    }
    /* the stalled one: a tiny receive window, and it stops reading */
    ws_tc *stalled = ws_tc_connect(fx.m, fx.port, NULL, 4096);
    clients[N_CLIENTS - 1] = stalled;
    for (int i = 0; i < N_CLIENTS; i++) assert_true(ws_tc_wait_open(clients[i], 5000));
    mock_host_run_for(fx.m, 100);          /* hellos */
    ws_tc_pause(stalled, true);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_clients"), N_CLIENTS);

    flood fl = { .m = fx.m };
    fl.timer = event_new(fx.m->base, -1, EV_PERSIST, on_tick, &fl);
    struct timeval tv = { 0, 20000 };
    event_add(fl.timer, &tv);
    double worst_seen = 0;
    int64_t deadline = test_now_ms() + 40000;
    while (!fl.done && test_now_ms() < deadline) {
        double w = dash_scrape(&fx, "qtr_dashboard_ws_client_queued_bytes_max");
        if (w > worst_seen) worst_seen = w;
        mock_host_run_for(fx.m, 150);
    }
    assert_true(fl.done);
    assert_int_equal(fl.published, TOTAL_EVENTS);

    /* readers drain: everything received or declared missed */
    all_readers all = { readers, N_CLIENTS - 1 };
    assert_true(mock_host_run_until(fx.m, 20000, all_accounted, &all));
    for (int i = 0; i < N_CLIENTS - 1; i++) {
        reader *r = &readers[i];
        if (r->error[0]) fail_msg("client %d: %s", i, r->error);
        assert_false(clients[i]->eof);
        assert_int_equal(r->received + r->missed, TOTAL_EVENTS);
        assert_int_equal(r->phase1, PHASE1_EVENTS);        /* no loss while it could keep up */
        assert_true(r->missed > 0);                        /* 5,000/s is more than 50 msgs/s can carry */
        assert_int_equal(r->last_id, TOTAL_EVENTS);        /* the newest event always arrives */
        assert_int_equal(r->positions_seen, (1u << N_POSITIONS) - 1);   /* latest state kept */
        assert_true(r->biggest_batch <= 10);
    }

    /* the stalled client was closed at its cap; the others stayed */
    int64_t until = test_now_ms() + 15000;
    while (dash_scrape(&fx, "qtr_dashboard_ws_clients") != N_CLIENTS - 1 && test_now_ms() < until)
        mock_host_run_for(fx.m, 250);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_clients"), N_CLIENTS - 1);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_slow_disconnects_total"), 1);
    double peak = dash_scrape(&fx, "qtr_dashboard_ws_client_queued_bytes_peak");
    assert_true(peak > 0);
    if (peak > CAP_BYTES || worst_seen > CAP_BYTES)
        fail_msg("unsent output reached %.0f (sampled %.0f), cap %d", peak, worst_seen, CAP_BYTES);
    double dropped = dash_scrape(&fx, "qtr_dashboard_ws_events_dropped_total");
    assert_true(dropped > 0);
    /* and the operator sees it on /api/status too */
    http_result st;
    assert_true(http_req(fx.m, fx.port, "GET", "/api/status", NULL, NULL, &st));
    json_t *status = http_result_json(&st);
    assert_non_null(status);
    assert_int_equal(json_integer_value(json_object_get(status, "ws_events_missed")), (json_int_t)dropped);
    assert_int_equal(json_integer_value(json_object_get(status, "ws_slow_disconnects")), 1);
    json_decref(status);
    http_result_free(&st);

    /* it reads again: what it gets ends in EOF, and a close frame if any is 1008 */
    ws_tc_pause(stalled, false);
    assert_true(ws_tc_wait_closed(stalled, 10000));
    if (stalled->close_received) assert_int_equal(stalled->close_code, 1008);

    event_free(fl.timer);
    for (int i = 0; i < N_CLIENTS; i++) ws_tc_free(clients[i]);
    dash_stop(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_with_a_stalled_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
