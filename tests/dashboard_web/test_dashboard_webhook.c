/* Alerts by webhook: a small HTTP receiver on loopback in this test gets
 * Slack-style {"text": …} posts for an ESS trip, a daily drawdown and a
 * CRITICAL component; repeats are held back; a dead or silent webhook never
 * stalls the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the receiver ------------------------------------------------------------ */
typedef struct receiver {
    struct evconnlistener *l;
    int port;
    bool silent;                 /* accept, never answer */
    char bodies[8][1024];
    char heads[8][1024];
    int n;
} receiver;

typedef struct rconn { receiver *r; struct bufferevent *bev; } rconn;

static void r_read(struct bufferevent *bev, void *arg)
{
    rconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) return;
    size_t hl = (size_t)end.pos + 4;
    char head[1024];
    size_t take = hl < sizeof head - 1 ? hl : sizeof head - 1;
    evbuffer_copyout(in, head, take);
    head[take] = '\0';
    const char *cl = strcasestr(head, "Content-Length:");
    size_t blen = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    if (evbuffer_get_length(in) < hl + blen) return;
    receiver *r = c->r;
    if (r->n < 8) {
        evbuffer_drain(in, hl);
        size_t b = blen < 1023 ? blen : 1023;
        evbuffer_remove(in, r->bodies[r->n], b);
        r->bodies[r->n][b] = '\0';
        memcpy(r->heads[r->n], head, take + 1);
        r->n++;
    }
    if (r->silent) return;
    bufferevent_write(bev, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 60);
}

static void r_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    bufferevent_free(bev);
    free(arg);
}

static void r_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    (void)sa; (void)len;
    rconn *c = calloc(1, sizeof *c);
    c->r = arg;
    c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, r_read, NULL, r_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void receiver_start(receiver *r, struct event_base *base)
{
    memset(r, 0, sizeof *r);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->l = evconnlistener_new_bind(base, r_accept, r, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                   (struct sockaddr *)&sin, sizeof sin);
    assert_non_null(r->l);
    socklen_t sl = sizeof sin;
    getsockname(evconnlistener_get_fd(r->l), (struct sockaddr *)&sin, &sl);
    r->port = ntohs(sin.sin_port);
}

typedef struct count_wait { receiver *r; int n; } count_wait;
static bool got(void *ud) { count_wait *w = ud; return w->r->n >= w->n; }

static const char *text_of(receiver *r, int i)
{
    static char buf[1024];
    json_error_t err;
    json_t *j = json_loads(r->bodies[i], 0, &err);
    if (!j) fail_msg("webhook body %d is not JSON: %s", i, r->bodies[i]);
    const char *t = json_string_value(json_object_get(j, "text"));
    assert_non_null(t);
    snprintf(buf, sizeof buf, "%s", t);
    assert_int_equal(json_object_size(j), 1);
    json_decref(j);
    return buf;
}

/* ---- events ---------------------------------------------------------------------- */
static void publish_trip(mock_host *m)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.u.ess.state = QTR_ESS_TRIPPED;
    ev.u.ess.previous = QTR_ESS_ARMED;
    qtr_strlcpy(ev.u.ess.reason, "drawdown 5.2% over 5%", QTR_REASON_MAX);
    mock_host_publish(m, &ev);
}

static void publish_drawdown(mock_host *m, const char *pct)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_EQUITY;
    ev.u.equity.equity = D("9650");
    ev.u.equity.daily_drawdown_pct = D(pct);
    mock_host_publish(m, &ev);
}

static void publish_critical(mock_host *m, const char *component)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_HEALTH;
    qtr_strlcpy(ev.u.health.component, component, QTR_NAME_MAX);
    ev.u.health.health.status = QTR_HEALTH_CRITICAL;
    qtr_strlcpy(ev.u.health.health.reason, "no market data for 60 s", QTR_REASON_MAX);
    mock_host_publish(m, &ev);
}

static bool start_with_hook(dash_fixture *f, mock_host *m, int port, const char *timeout_ms)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/T000/B000", port);
    const char *opts[] = { "webhook_url", url, "webhook_timeout_ms", timeout_ms, NULL };
    return dash_start_on(f, m, opts);
}

static void test_alerts_reach_the_webhook(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(true);
    receiver r;
    receiver_start(&r, m->base);
    dash_fixture g;
    assert_true(start_with_hook(&g, m, r.port, "2000"));

    publish_trip(g.m);
    count_wait w = { &r, 1 };
    assert_true(mock_host_run_until(g.m, 5000, got, &w));
    assert_non_null(strstr(r.heads[0], "POST /hook/T000/B000 HTTP/1.1"));
    assert_non_null(strcasestr(r.heads[0], "Content-Type: application/json"));
    assert_non_null(strstr(text_of(&r, 0), "TRIPPED"));
    assert_non_null(strstr(text_of(&r, 0), "drawdown 5.2% over 5%"));

    /* a second trip right away is held back; other kinds still go */
    publish_trip(g.m);
    publish_drawdown(g.m, "1.2");          /* under 2.5: nothing */
    publish_drawdown(g.m, "3.05");
    w.n = 2;
    assert_true(mock_host_run_until(g.m, 5000, got, &w));
    assert_non_null(strstr(text_of(&r, 1), "Daily drawdown 3.05%"));
    publish_critical(g.m, "market");
    w.n = 3;
    assert_true(mock_host_run_until(g.m, 5000, got, &w));
    assert_non_null(strstr(text_of(&r, 2), "market is CRITICAL"));
    http_result res;
    assert_true(http_req(g.m, g.port, "GET", "/metrics", NULL, NULL, &res));
    assert_int_equal((int)metric_value(res.body, "qtr_dashboard_alerts_sent_total"), 3);
    assert_int_equal((int)metric_value(res.body, "qtr_dashboard_alerts_suppressed_total"), 1);
    assert_int_equal((int)metric_value(res.body, "qtr_dashboard_webhook_failures_total"), 0);
    http_result_free(&res);
    assert_int_equal(r.n, 3);
    evconnlistener_free(r.l);
    dash_stop(&g);
}

static bool failures_seen(void *ud)
{
    dash_fixture *f = ud;
    qtr_health h;
    f->p.desc->health(f->p.state, &h);
    return h.status == QTR_HEALTH_DEGRADED;
}

static void test_dead_webhook_degrades_health_only(void **state)
{
    (void)state;
    /* a port with nothing listening: bind, note it, close */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t sl = sizeof sin;
    getsockname(s, (struct sockaddr *)&sin, &sl);
    close(s);
    dash_fixture f;
    assert_true(start_with_hook(&f, mock_host_new(true), ntohs(sin.sin_port), "1000"));
    publish_trip(f.m);
    assert_true(mock_host_run_until(f.m, 5000, failures_seen, &f));
    qtr_health h;
    f.p.desc->health(f.p.state, &h);
    assert_non_null(strstr(h.reason, "webhook failing"));
    assert_null(strstr(h.reason, "T000"));       /* the URL (a secret in Slack's case) is not shown */
    http_result res;
    assert_true(http_req(f.m, f.port, "GET", "/metrics", NULL, NULL, &res));
    assert_int_equal((int)metric_value(res.body, "qtr_dashboard_webhook_failures_total"), 1);
    http_result_free(&res);
    dash_stop(&f);
}

static void test_silent_webhook_times_out_without_blocking(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(true);
    receiver r;
    receiver_start(&r, m->base);
    r.silent = true;
    dash_fixture g;
    assert_true(start_with_hook(&g, m, r.port, "400"));
    publish_trip(g.m);
    count_wait w = { &r, 1 };
    assert_true(mock_host_run_until(g.m, 5000, got, &w));
    /* while the post hangs, the API answers */
    http_result res;
    assert_true(http_req(g.m, g.port, "GET", "/api/ess", NULL, NULL, &res));
    assert_int_equal(res.status, 200);
    http_result_free(&res);
    assert_true(mock_host_run_until(g.m, 5000, failures_seen, &g));
    assert_true(http_req(g.m, g.port, "GET", "/metrics", NULL, NULL, &res));
    assert_int_equal((int)metric_value(res.body, "qtr_dashboard_webhook_failures_total"), 1);
    http_result_free(&res);
    evconnlistener_free(r.l);
    dash_stop(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alerts_reach_the_webhook),
        cmocka_unit_test(test_dead_webhook_degrades_health_only),
        cmocka_unit_test(test_silent_webhook_times_out_without_blocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
