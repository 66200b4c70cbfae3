/* The WebSocket feed: handshake, a batch arriving with money as strings,
 * batch limits, the per-client rate limit, subscriptions, and closing of
 * clients that send bad, oversized or binary frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int setup(void **state)
{
    dash_fixture *f = calloc(1, sizeof *f);
    if (!dash_start(f, NULL)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    dash_fixture *f = *state;
    dash_stop(f);
    free(f);
    return 0;
}

static void publish_fill(mock_host *m, int i)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_strlcpy(ev.u.fill.symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    snprintf(ev.u.fill.fill_id, QTR_CLIENT_ID_MAX, "f-%d", i);
    ev.u.fill.side = QTR_SIDE_BUY;
    ev.u.fill.qty = D("0.001");
    ev.u.fill.price = D("43000.25");
    ev.u.fill.fee = D("0.0172001");
    mock_host_publish(m, &ev);
}

static void publish_equity(mock_host *m, const char *equity)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_EQUITY;
    ev.u.equity.equity = D(equity);
    mock_host_publish(m, &ev);
}

static json_t *msg_json(ws_tc *c, size_t i)
{
    json_error_t err;
    json_t *j = json_loads(c->msgs[i], 0, &err);
    if (!j) fail_msg("message %zu is not JSON: %s", i, c->msgs[i]);
    return j;
}

/* Counts events in messages [from, n) and checks seq and id order. */
static size_t count_events(ws_tc *c, size_t from, size_t max_per_msg, size_t *biggest)
{
    size_t total = 0;
    int64_t last_seq = -1, last_id = 0;
    *biggest = 0;
    for (size_t i = from; i < c->n_msgs; i++) {
        json_t *j = msg_json(c, i);
        int64_t seq = json_integer_value(json_object_get(j, "seq"));
        if (last_seq >= 0) assert_int_equal(seq, last_seq + 1);
        last_seq = seq;
        assert_string_equal(json_string_value(json_object_get(j, "type")), "batch");
        json_t *evs = json_object_get(j, "events");
        size_t n = json_array_size(evs);
        assert_true(n >= 1);
        assert_true(n <= max_per_msg);
        for (size_t k = 0; k < n; k++) {
            int64_t id = json_integer_value(json_object_get(json_array_get(evs, k), "id"));
            assert_true(id > last_id);
            last_id = id;
        }
        if (n > *biggest) *biggest = n;
        total += n;
        json_decref(j);
    }
    return total;
}

static ws_tc *open_client(dash_fixture *f)
{
    ws_tc *c = ws_tc_connect(f->m, f->port, NULL, 0);
    assert_true(ws_tc_wait_open(c, 3000));
    assert_true(ws_tc_wait_msgs(c, 1, 3000));   /* hello */
    json_t *hello = msg_json(c, 0);
    assert_string_equal(json_string_value(json_object_get(hello, "type")), "hello");
    assert_int_equal(json_integer_value(json_object_get(hello, "seq")), 1);
    json_decref(hello);
    return c;
}

static void test_handshake_and_first_batch(void **state)
{
    dash_fixture *f = *state;
    ws_tc *c = open_client(f);
    assert_string_equal(c->accept, WS_SAMPLE_ACCEPT);
    publish_fill(f->m, 1);
    assert_true(ws_tc_wait_msgs(c, 2, 3000));
    json_t *j = msg_json(c, 1);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
    json_t *ev = json_array_get(json_object_get(j, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "fill");
    assert_true(json_is_integer(json_object_get(ev, "time")));
    json_t *p = json_object_get(ev, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "price")), "43000.25");
    assert_string_equal(json_string_value(json_object_get(p, "qty")), "0.001");
    assert_string_equal(json_string_value(json_object_get(p, "fee")), "0.0172001");
    assert_string_equal(json_string_value(json_object_get(p, "fill_id")), "f-1");
    json_decref(j);
    ws_tc_free(c);
}

typedef struct total_wait { ws_tc *c; size_t want; } total_wait;
static bool has_events(void *ud)
{
    total_wait *w = ud;
    size_t total = 0;
    for (size_t i = 1; i < w->c->n_msgs; i++) {
        json_t *j = json_loads(w->c->msgs[i], 0, NULL);
        total += json_array_size(json_object_get(j, "events"));
        json_decref(j);
    }
    return total >= w->want;
}

static void test_batches_hold_at_most_ten(void **state)
{
    dash_fixture *f = *state;
    ws_tc *c = open_client(f);
    for (int i = 0; i < 35; i++) publish_fill(f->m, i);
    total_wait w = { c, 35 };
    assert_true(mock_host_run_until(f->m, 5000, has_events, &w));
    size_t biggest = 0;
    assert_int_equal(count_events(c, 1, 10, &biggest), 35);
    assert_int_equal(biggest, 10);
    assert_true(c->n_msgs - 1 >= 4);          /* 35 events need four messages at least */
    /* a lone event goes out on its own after batch_max_ms */
    size_t before = c->n_msgs;
    publish_fill(f->m, 99);
    assert_true(ws_tc_wait_msgs(c, before + 1, 3000));
    json_t *j = msg_json(c, before);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
    json_decref(j);
    ws_tc_free(c);
}

static void test_rate_limit_upper_bound(void **state)
{
    dash_fixture *f = *state;
    ws_tc *c = open_client(f);
    /* counted where they are sent, not where they are read: a loaded
     * machine may leave some unread at the end of a window */
    double m0 = dash_scrape(f, "qtr_dashboard_ws_messages_sent_total");
    int64_t t0 = test_now_ms();
    for (int i = 0; i < 2000; i++) publish_fill(f->m, i);
    mock_host_run_for(f->m, 600);
    double m1 = dash_scrape(f, "qtr_dashboard_ws_messages_sent_total");
    int64_t elapsed = test_now_ms() - t0;
    /* 50 messages a second: one second's worth at once after a quiet spell
     * (the hello took one), then at most one per 20 ms, whatever the load */
    assert_true(m1 - m0 >= 49);
    if (m1 - m0 > 49 + elapsed / 20 + 2) fail_msg("%.0f messages in %lld ms", m1 - m0, (long long)elapsed);
    /* the client stays behind (2,000 more events), so the burst is spent:
     * the next second carries one per 20 ms */
    t0 = test_now_ms();
    for (int i = 0; i < 2000; i++) publish_fill(f->m, i);
    mock_host_run_for(f->m, 1000);
    double m2 = dash_scrape(f, "qtr_dashboard_ws_messages_sent_total");
    elapsed = test_now_ms() - t0;
    if (m2 - m1 > elapsed / 20 + 2) fail_msg("%.0f messages in %lld ms after the burst", m2 - m1, (long long)elapsed);
    ws_tc_free(c);
}

/* The loop was held up (a busy machine) and then hands over 1,400 events in
 * one go: a client that reads everything gets every one, none missed. */
static void test_burst_after_a_stall_is_delivered(void **state)
{
    dash_fixture *f = *state;
    ws_tc *c = open_client(f);
    mock_host_run_for(f->m, 1000);              /* a quiet second */
    for (int i = 0; i < 1400; i++) publish_fill(f->m, i);
    total_wait w = { c, 1400 };
    assert_true(mock_host_run_until(f->m, 10000, has_events, &w));
    size_t biggest = 0;
    assert_int_equal(count_events(c, 1, 10, &biggest), 1400);   /* and no "missed" entry among them */
    http_result r;
    assert_true(http_req(f->m, f->port, "GET", "/metrics", NULL, NULL, &r));
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_ws_events_dropped_total"), 0);
    http_result_free(&r);
    ws_tc_free(c);
}

static void test_subscribe_filters_types(void **state)
{
    dash_fixture *f = *state;
    ws_tc *c = open_client(f);
    ws_tc_send_text(c, "{\"subscribe\":[\"equity\"]}");
    ws_tc_send_text(c, "not json at all: ignored");
    mock_host_run_for(f->m, 50);
    publish_fill(f->m, 1);
    publish_equity(f->m, "10001.5");
    publish_fill(f->m, 2);
    assert_true(ws_tc_wait_msgs(c, 2, 3000));
    mock_host_run_for(f->m, 250);
    assert_int_equal(c->n_msgs, 2);
    json_t *j = msg_json(c, 1);
    json_t *evs = json_object_get(j, "events");
    assert_int_equal(json_array_size(evs), 1);
    json_t *ev = json_array_get(evs, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "equity");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "payload"), "equity")), "10001.5");
    json_decref(j);
    ws_tc_free(c);
}

static void expect_close(dash_fixture *f, const void *frame, size_t len, const char *text, uint16_t code)
{
    ws_tc *c = open_client(f);
    if (text) ws_tc_send_text(c, text);
    else ws_tc_send_raw(c, frame, len);
    assert_true(ws_tc_wait_closed(c, 3000));
    assert_true(c->close_received);
    assert_int_equal(c->close_code, code);
    ws_tc_free(c);
}

static void test_bad_frames_close(void **state)
{
    dash_fixture *f = *state;
    static const unsigned char unmasked[] = { 0x81, 0x05, 'h', 'e', 'l', 'l', 'o' };
    expect_close(f, unmasked, sizeof unmasked, NULL, 1002);
    static const unsigned char bad_opcode[] = { 0x83, 0x80, 1, 2, 3, 4 };   /* reserved opcode 3 */
    expect_close(f, bad_opcode, sizeof bad_opcode, NULL, 1002);
    static const unsigned char binary[] = { 0x82, 0x83, 0, 0, 0, 0, 1, 2, 3 };
    expect_close(f, binary, sizeof binary, NULL, 1003);
    char *big = malloc(5001);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    expect_close(f, NULL, 0, big, 1009);
    free(big);
    /* the server is unharmed */
    ws_tc *c = open_client(f);
    publish_fill(f->m, 7);
    assert_true(ws_tc_wait_msgs(c, 2, 3000));
    ws_tc_free(c);
    http_result r;
    assert_true(http_req(f->m, f->port, "GET", "/metrics", NULL, NULL, &r));
    assert_true(metric_value(r.body, "qtr_dashboard_ws_protocol_closes_total") >= 3);
    http_result_free(&r);
}

/* Frames RFC 6455 forbids that wslay's frame parser itself refuses: closed
 * with 1002 like the others, not with a bare TCP close. */
static void test_frame_errors_close_with_1002(void **state)
{
    dash_fixture *f = *state;
    static unsigned char long_ping[2 + 2 + 4 + 126] = { 0x89, 0xfe, 0x00, 126, 1, 2, 3, 4 };   /* control: 125 at most */
    expect_close(f, long_ping, sizeof long_ping, NULL, 1002);
    static const unsigned char fragmented_ping[] = { 0x09, 0x80, 1, 2, 3, 4 };                  /* FIN clear */
    expect_close(f, fragmented_ping, sizeof fragmented_ping, NULL, 1002);
    static const unsigned char top_bit_length[] = { 0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4 };   /* 2^63 + 5 */
    expect_close(f, top_bit_length, sizeof top_bit_length, NULL, 1002);
}

/* A close body is empty or starts with a 2-byte status code (RFC 6455
 * 5.5.1): a 1-byte one is a protocol error, closed with 1002 like the others
 * (it used to be echoed with an empty close). Legal closes are still echoed. */
static void test_one_byte_close_body_closes_with_1002(void **state)
{
    dash_fixture *f = *state;
    double before = dash_scrape(f, "qtr_dashboard_ws_protocol_closes_total");
    assert_true(before >= 0);
    static const unsigned char one_byte[] = { 0x88, 0x81, 1, 2, 3, 4, 0x03 ^ 1 };
    expect_close(f, one_byte, sizeof one_byte, NULL, 1002);
    assert_int_equal((int)(dash_scrape(f, "qtr_dashboard_ws_protocol_closes_total") - before), 1);
    static const unsigned char normal[] = { 0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2 };   /* 1000, masked */
    expect_close(f, normal, sizeof normal, NULL, 1000);
    static const unsigned char empty[] = { 0x88, 0x80, 1, 2, 3, 4 };
    expect_close(f, empty, sizeof empty, NULL, 0);                                          /* no status: none back */
    assert_int_equal((int)(dash_scrape(f, "qtr_dashboard_ws_protocol_closes_total") - before), 1);
}

/* A frame that declares more than 4 KiB is closed with 1009 as soon as its
 * header is in, without waiting for payload that may never come. */
static void test_declared_oversize_frame_closes_at_once(void **state)
{
    dash_fixture *f = *state;
    static const unsigned char huge[] = { 0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4 };   /* 1 GiB, masked */
    expect_close(f, huge, sizeof huge, NULL, 1009);
    static const unsigned char just_over[] = { 0x81, 0xfe, 0x10, 0x01, 1, 2, 3, 4 };               /* 4097 */
    expect_close(f, just_over, sizeof just_over, NULL, 1009);
}

static long rss_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    if (fp) fclose(fp);
    return kib;
}

/* Subscribe to nothing, flood pings, never read: the pongs count against
 * client_buffer_bytes like everything else, the client is closed at the
 * cap, and the memory is back once it is gone. */
static void test_ping_flood_is_capped(void **state)
{
    (void)state;
    dash_fixture fx;
    const char *opts[] = { "client_buffer_bytes", "65536", NULL };
    assert_true(dash_start(&fx, opts));
    ws_tc *c = ws_tc_connect(fx.m, fx.port, NULL, 4096);
    assert_true(ws_tc_wait_open(c, 3000));
    ws_tc_send_text(c, "{\"subscribe\":[]}");
    mock_host_run_for(fx.m, 50);
    ws_tc_pause(c, true);
    long rss0 = rss_kib();
    /* masked pings with 125-byte payloads, as fast as the server takes them */
    static unsigned char chunk[131 * 500];
    for (size_t i = 0; i < sizeof chunk; i += 131) {
        chunk[i] = 0x89;
        chunk[i + 1] = 0x80 | 125;
        memset(chunk + i + 2, 0x5a, 129);
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    size_t sent = 0;
    int64_t quiet_since = test_now_ms();
    while (sent < (size_t)64 << 20 && test_now_ms() - quiet_since < 1000) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) { sent += (size_t)n; quiet_since = test_now_ms(); }
        else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;     /* reset: it is gone */
        mock_host_run_for(fx.m, 1);
    }
    long grown = rss_kib() - rss0;
    if (sent >= (size_t)64 << 20) fail_msg("64 MiB of pings taken and the client still open");
    assert_true(grown < 16 * 1024);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_slow_disconnects_total"), 1);
    double peak = dash_scrape(&fx, "qtr_dashboard_ws_client_queued_bytes_peak");
    if (peak > 65536) fail_msg("unsent output reached %.0f bytes, cap 65536", peak);
    /* it never reads its close frame: dropped after the grace period */
    int64_t until = test_now_ms() + 10000;
    while (dash_scrape(&fx, "qtr_dashboard_ws_clients") != 0 && test_now_ms() < until) mock_host_run_for(fx.m, 100);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_clients"), 0);
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_queued_bytes"), 0);
    ws_tc_free(c);
    dash_stop(&fx);
}

/* What a client that stopped reading is ever sent is at most its cap: the
 * kernel's send queue counts too, not only the plugin's own buffer (which
 * used to let 1 MiB become 1.28 MB). */
static void test_cap_counts_the_kernel_queue(void **state)
{
    (void)state;
    dash_fixture fx;
    const char *opts[] = { "client_buffer_bytes", "65536", "max_msgs_per_sec", "1000", "batch_max_events", "100", NULL };
    assert_true(dash_start(&fx, opts));
    ws_tc *c = ws_tc_connect(fx.m, fx.port, NULL, 4096);
    assert_true(ws_tc_wait_open(c, 3000));
    mock_host_run_for(fx.m, 50);
    ws_tc_pause(c, true);
    int64_t until = test_now_ms() + 5000;
    int i = 0;
    while (dash_scrape(&fx, "qtr_dashboard_ws_slow_disconnects_total") < 1 && test_now_ms() < until) {
        for (int k = 0; k < 200; k++) publish_fill(fx.m, i++);
        mock_host_run_for(fx.m, 10);
    }
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_slow_disconnects_total"), 1);
    ws_tc_pause(c, false);                      /* before the 5 s grace: it gets all there is */
    assert_true(ws_tc_wait_closed(c, 5000));
    assert_true(c->close_received);
    assert_int_equal(c->close_code, 1008);
    /* plus what sat in its own 4 KiB receive window (acknowledged, so no
     * longer the server's) and the hello */
    if (c->bytes_in > 65536 + 16384) fail_msg("a client with a 65536-byte cap was sent %llu bytes", (unsigned long long)c->bytes_in);
    ws_tc_free(c);
    dash_stop(&fx);
}

/* The kernel is asked for a client's unsent bytes only when a frame could
 * pass the cap or set a new peak: the peak must still cover every backlog
 * the client ever had, i.e. never read below what is queued for it now. */
static void test_peak_covers_the_backlog(void **state)
{
    (void)state;
    dash_fixture fx;
    const char *opts[] = { "max_msgs_per_sec", "1000", "batch_max_events", "20", NULL };
    assert_true(dash_start(&fx, opts));
    ws_tc *c = ws_tc_connect(fx.m, fx.port, NULL, 4096);
    assert_true(ws_tc_wait_open(c, 3000));
    mock_host_run_for(fx.m, 50);
    ws_tc_pause(c, true);
    int i = 0;
    for (int round = 0; round < 8; round++) {
        for (int k = 0; k < 100; k++) publish_fill(fx.m, i++);
        mock_host_run_for(fx.m, 20);
        double now = dash_scrape(&fx, "qtr_dashboard_ws_client_queued_bytes_max");
        double peak = dash_scrape(&fx, "qtr_dashboard_ws_client_queued_bytes_peak");
        if (peak < now) fail_msg("round %d: %.0f bytes queued now, the peak says %.0f", round, now, peak);
        if (round == 7 && now < 32768) fail_msg("the backlog of a client that reads nothing is only %.0f bytes", now);
    }
    assert_int_equal((int)dash_scrape(&fx, "qtr_dashboard_ws_slow_disconnects_total"), 0);
    ws_tc_free(c);
    dash_stop(&fx);
}

static void test_handshake_refusals(void **state)
{
    dash_fixture *f = *state;
    static const struct { const char *raw; int status; } cases[] = {
        { "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
          WS_SAMPLE_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n", 426 },
        { "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_SAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n", 403 },
        { "POST /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
          WS_SAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", 400 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_result r;
        assert_true(http_raw(f->m, f->port, cases[i].raw, strlen(cases[i].raw), &r));
        if (r.status != cases[i].status) fail_msg("case %zu gave %d, want %d", i, r.status, cases[i].status);
        http_result_free(&r);
    }
}

/* DNS rebinding: a page on attacker.example that points its name at
 * 127.0.0.1 sends its own name as Host, and as Origin for the WebSocket.
 * Neither the API nor the feed may answer it; the loopback names may. */
static void test_foreign_host_refused(void **state)
{
    (void)state;
    dash_fixture f;
    assert_true(dash_start(&f, NULL));
    char host[64], origin[96];
    snprintf(host, sizeof host, "attacker.example:%d", f.port);
    snprintf(origin, sizeof origin, "Origin: http://attacker.example:%d\r\n", f.port);
    ws_tc *evil = ws_tc_connect_as(f.m, f.port, host, origin, 0);
    assert_false(ws_tc_wait_open(evil, 3000));
    assert_int_equal(evil->http_status, 421);
    ws_tc_free(evil);

    char ip[32], name[32];
    snprintf(ip, sizeof ip, "127.0.0.1:%d", f.port);
    snprintf(name, sizeof name, "localhost:%d", f.port);
    const struct { const char *host; int status; } cases[] = {
        { "attacker.example", 421 }, { host, 421 }, { ip, 200 }, { name, 200 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char raw[256];
        int n = snprintf(raw, sizeof raw, "GET /api/positions HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                         cases[i].host);
        http_result r;
        assert_true(http_raw(f.m, f.port, raw, (size_t)n, &r));
        if (r.status != cases[i].status)
            fail_msg("Host %s: %d, want %d (%s)", cases[i].host, r.status, cases[i].status, r.body ? r.body : "");
        if (r.status == 421) assert_non_null(strstr(r.body, "allowed_hosts"));
        http_result_free(&r);
    }

    char loopback[64], loopback_origin[96];
    snprintf(loopback, sizeof loopback, "localhost:%d", f.port);
    snprintf(loopback_origin, sizeof loopback_origin, "Origin: http://localhost:%d\r\n", f.port);
    ws_tc *ok = ws_tc_connect_as(f.m, f.port, loopback, loopback_origin, 0);
    assert_true(ws_tc_wait_open(ok, 3000));
    ws_tc_free(ok);
    snprintf(loopback_origin, sizeof loopback_origin, "Origin: http://127.0.0.1:%d\r\n", f.port);
    ok = ws_tc_connect(f.m, f.port, loopback_origin, 0);
    assert_true(ws_tc_wait_open(ok, 3000));
    ws_tc_free(ok);
    dash_stop(&f);
}

/* allowed_hosts adds names a reverse proxy or a LAN browser uses. */
static void test_allowed_hosts_option(void **state)
{
    (void)state;
    dash_fixture f;
    const char *opts[] = { "allowed_hosts", "dash.lan,192.168.7.7", NULL };
    assert_true(dash_start(&f, opts));
    const char *hosts[] = { "dash.lan", "DASH.LAN:8080", "192.168.7.7:80", "other.lan", NULL };
    for (int i = 0; hosts[i]; i++) {
        char raw[256];
        int n = snprintf(raw, sizeof raw, "GET /api/ess HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", hosts[i]);
        http_result r;
        assert_true(http_raw(f.m, f.port, raw, (size_t)n, &r));
        int want = i < 3 ? 200 : 421;
        if (r.status != want) fail_msg("Host %s: %d, want %d", hosts[i], r.status, want);
        http_result_free(&r);
    }
    dash_stop(&f);
    /* a name with a port is refused with the option named */
    const char *bad[] = { "allowed_hosts", "dash.lan:8080", NULL };
    assert_false(dash_start(&f, bad));
    mock_host_free(f.m);   /* the host the refused load was tried on */
}

static void test_client_limit(void **state)
{
    (void)state;
    dash_fixture f;
    const char *opts[] = { "max_ws_clients", "2", NULL };
    assert_true(dash_start(&f, opts));
    ws_tc *a = open_client(&f), *b = open_client(&f);
    ws_tc *c = ws_tc_connect(f.m, f.port, NULL, 0);
    assert_false(ws_tc_wait_open(c, 3000));
    assert_int_equal(c->http_status, 503);
    ws_tc_free(c);
    ws_tc_free(a);
    ws_tc_free(b);
    dash_stop(&f);
}

static void test_stop_closes_clients(void **state)
{
    (void)state;
    dash_fixture f;
    assert_true(dash_start(&f, NULL));
    ws_tc *c = open_client(&f);
    mock_plugin_unload(f.m, &f.p);
    assert_true(ws_tc_wait_closed(c, 3000));
    assert_true(c->close_received);
    assert_int_equal(c->close_code, 1001);
    ws_tc_free(c);
    mock_host_free(f.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_first_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_hold_at_most_ten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_upper_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_after_a_stall_is_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_filters_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frames_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_oversize_frame_closes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_errors_close_with_1002, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte_close_body_closes_with_1002, setup, teardown),
        cmocka_unit_test(test_ping_flood_is_capped),
        cmocka_unit_test(test_cap_counts_the_kernel_queue),
        cmocka_unit_test(test_peak_covers_the_backlog),
        cmocka_unit_test_setup_teardown(test_handshake_refusals, setup, teardown),
        cmocka_unit_test(test_foreign_host_refused),
        cmocka_unit_test(test_allowed_hosts_option),
        cmocka_unit_test(test_client_limit),
        cmocka_unit_test(test_stop_closes_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
