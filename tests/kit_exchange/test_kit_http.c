/* The kit's transport (kx_http) against an evhttp server on a free loopback
 * port, on the same libevent loop: methods, bodies, headers both ways, the
 * answer's header lookup, a fresh connection when asked (and keep-alive
 * otherwise), timeouts that never block the loop, transport errors, answers
 * discarded, transfers abandoned at free; with the linked libcurl and with
 * libcurl loaded by dlopen (the dashboard's way). Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "kx_http.h"

typedef struct server {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int requests;
    struct evhttp_request *held;   /* a request left unanswered ("/hold") */
    char last_peer_port[3][16];    /* the client ports of the last requests */
} server;

typedef struct answer {
    bool done;
    kx_http_response r;
    char body[512], headers[1024], error[256];
} answer;

static void on_request(struct evhttp_request *req, void *arg)
{
    server *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    char *peer = NULL;
    ev_uint16_t pport = 0;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &pport);
    memmove(s->last_peer_port[0], s->last_peer_port[1], sizeof s->last_peer_port[0] * 2);
    snprintf(s->last_peer_port[2], sizeof s->last_peer_port[2], "%u", (unsigned)pport);
    s->requests++;
    if (!strcmp(uri, "/hold")) {
        s->held = req;
        return;
    }
    static const char *const names[] = { "", "GET", "POST", "", "HEAD", "", "", "", "PUT", "", "", "", "", "",
                                         "", "", "DELETE" };
    int cmd = (int)evhttp_request_get_command(req);
    const char *method = cmd >= 0 && cmd < (int)(sizeof names / sizeof names[0]) ? names[cmd] : "?";
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    const char *test = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test");
    const char *ua = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "%s %s x-test=%s ct=%s ua=%s body=", method, uri, test ? test : "-", ct ? ct : "-",
                        ua ? ua : "-");
    evbuffer_add_buffer(out, in);
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Answer", "  42 ");
    int code = strstr(uri, "/status/503") ? 503 : 200;
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", out);
    evbuffer_free(out);
}

static server *server_start(struct event_base *base)
{
    server *s = calloc(1, sizeof *s);
    s->base = base;
    s->http = evhttp_new(base);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(s->http, on_request, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_storage ss;
    ev_socklen_t len = sizeof ss;
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len), 0);
    s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    assert_true(s->port > 0);
    return s;
}

static void server_stop(server *s)
{
    evhttp_free(s->http);
    free(s);
}

static void on_answer(void *ud, const kx_http_response *r)
{
    answer *a = ud;
    a->done = true;
    a->r = *r;
    snprintf(a->body, sizeof a->body, "%s", r->body ? r->body : "(null)");
    snprintf(a->headers, sizeof a->headers, "%s", r->headers ? r->headers : "(null)");
    snprintf(a->error, sizeof a->error, "%s", r->error ? r->error : "");
    a->r.body = a->body;
    a->r.headers = a->headers;
    a->r.error = a->error;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    *(bool *)arg = true;
}

/* Run the loop until *flag or ms pass; true if *flag. */
static bool run_until(struct event_base *base, const bool *flag, int ms)
{
    bool late = false;
    struct event *t = evtimer_new(base, on_deadline, &late);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(t, &tv);
    while (!*flag && !late) event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return *flag;
}

typedef struct fixture {
    struct event_base *base;
    server *srv;
    kx_curl *dl;    /* set when the test runs on the dlopened libcurl */
    kx_http *http;
    char url[128];
} fixture;

static int setup_with(void **state, bool dlopened)
{
    fixture *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    f->srv = server_start(f->base);
    char err[256] = "";
    if (dlopened) {
        f->dl = kx_curl_open(KX_CURL_SONAME, err, sizeof err);
        if (!f->dl) fail_msg("kx_curl_open: %s", err);
    }
    f->http = kx_http_new(dlopened ? f->dl : kx_curl_linked(), f->base);
    assert_non_null(f->http);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->srv->port);
    *state = f;
    return 0;
}
static int setup_linked(void **state) { return setup_with(state, false); }
static int setup_dlopened(void **state) { return setup_with(state, true); }

static int teardown(void **state)
{
    fixture *f = *state;
    kx_http_free(f->http);
    kx_curl_close(f->dl);
    server_stop(f->srv); /* frees a held request with its connection */
    event_base_free(f->base);
    free(f);
    return 0;
}

static void send_ok(fixture *f, kx_http_request *req, answer *a)
{
    memset(a, 0, sizeof *a);
    assert_int_equal(kx_http_send(f->http, req, on_answer, a), 0);
    assert_int_equal(kx_http_active(f->http), 1);
    assert_true(run_until(f->base, &a->done, 5000));
    assert_int_equal(kx_http_active(f->http), 0);
}

/* A GET the server holds unanswered. */
static void send_held(fixture *f, answer *a, long timeout_ms)
{
    char url[192];
    snprintf(url, sizeof url, "%s/hold", f->url);
    memset(a, 0, sizeof *a);
    kx_http_request req = { .method = "GET", .url = url, .timeout_ms = timeout_ms };
    assert_int_equal(kx_http_send(f->http, &req, on_answer, a), 0);
}

static void get_and_post_with_headers(void **state)
{
    fixture *f = *state;
    char url[192];
    answer a;
    const char *hdrs[] = { "X-Test: hello" };
    snprintf(url, sizeof url, "%s/fapi/v1/time?x=1", f->url);
    kx_http_request get = { .method = "GET", .url = url, .headers = hdrs, .n_headers = 1, .timeout_ms = 3000,
                            .user_agent = "kit-test" };
    send_ok(f, &get, &a);
    assert_int_equal(a.r.curl_code, 0);
    assert_int_equal(a.r.status, 200);
    assert_string_equal(a.body, "GET /fapi/v1/time?x=1 x-test=hello ct=- ua=kit-test body=");
    assert_int_equal(a.r.body_len, strlen(a.body));
    char v[16];
    assert_true(kx_http_header(a.headers, "x-answer", v, sizeof v)); /* any case, trimmed */
    assert_string_equal(v, "42");
    assert_false(kx_http_header(a.headers, "X-Missing", v, sizeof v));

    const char *form[] = { "Content-Type: application/x-www-form-urlencoded" };
    snprintf(url, sizeof url, "%s/fapi/v1/order", f->url);
    kx_http_request post = { .method = "POST", .url = url, .body = "symbol=BTCUSDT&qty=1", .headers = form,
                             .n_headers = 1, .timeout_ms = 3000 };
    send_ok(f, &post, &a);
    assert_int_equal(a.r.status, 200);
    assert_string_equal(a.body, "POST /fapi/v1/order x-test=- ct=application/x-www-form-urlencoded ua=- "
                                "body=symbol=BTCUSDT&qty=1");
    kx_http_request del = { .method = "DELETE", .url = url, .body = "a=1", .timeout_ms = 3000 };
    send_ok(f, &del, &a);
    assert_non_null(strstr(a.body, "DELETE /fapi/v1/order"));
    assert_non_null(strstr(a.body, "body=a=1"));
    /* an error status is an answer, not a transport failure */
    snprintf(url, sizeof url, "%s/status/503", f->url);
    kx_http_request bad = { .method = "GET", .url = url, .timeout_ms = 3000 };
    send_ok(f, &bad, &a);
    assert_int_equal(a.r.curl_code, 0);
    assert_int_equal(a.r.status, 503);
    assert_int_equal(f->srv->requests, 4);
}

static void fresh_connection_only_when_asked(void **state)
{
    fixture *f = *state;
    answer a;
    kx_http_request get = { .method = "GET", .url = f->url, .timeout_ms = 3000 };
    send_ok(f, &get, &a);
    send_ok(f, &get, &a);   /* keep-alive: the same client port */
    assert_string_equal(f->srv->last_peer_port[1], f->srv->last_peer_port[2]);
    get.fresh_connection = true;
    send_ok(f, &get, &a);   /* a new connection: another port */
    assert_string_not_equal(f->srv->last_peer_port[1], f->srv->last_peer_port[2]);
}

static bool ticked;
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what; (void)arg;
    ticked = true;
}

static void timeout_never_blocks_the_loop(void **state)
{
    fixture *f = *state;
    answer a;
    send_held(f, &a, 300);
    ticked = false;
    struct event *tick = evtimer_new(f->base, on_tick, NULL);
    struct timeval tv = { 0, 50000 };
    evtimer_add(tick, &tv);
    assert_true(run_until(f->base, &ticked, 1000));   /* the loop ran while the request waited */
    assert_false(a.done);
    assert_true(run_until(f->base, &a.done, 5000));
    event_free(tick);
    assert_true(a.r.timed_out);
    assert_int_equal(a.r.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(a.r.status, 0);
    assert_true(a.error[0] != '\0');
}

static void transport_errors_are_reported(void **state)
{
    fixture *f = *state;
    answer a;
    /* a port nobody listens on: the server's, once it is gone */
    server *other = server_start(f->base);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", other->port);
    server_stop(other);
    kx_http_request req = { .method = "GET", .url = url, .timeout_ms = 3000 };
    send_ok(f, &req, &a);
    assert_int_equal(a.r.curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(a.r.status, 0);
    assert_false(a.r.timed_out);
    assert_true(a.error[0] != '\0');
    /* only http and https: never a file read through a configured URL */
    kx_http_request file = { .method = "GET", .url = "file:///etc/passwd", .timeout_ms = 3000 };
    send_ok(f, &file, &a);
    assert_int_equal(a.r.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    assert_string_equal(a.body, "");
}

static void answer_discarded_when_asked(void **state)
{
    fixture *f = *state;
    answer a;
    kx_http_request req = { .method = "POST", .url = f->url, .body = "{\"text\":\"hi\"}", .timeout_ms = 3000,
                            .discard_answer = true };
    send_ok(f, &req, &a);
    assert_int_equal(a.r.status, 200);
    assert_string_equal(a.body, "");
    assert_int_equal(a.r.body_len, 0);
    assert_int_equal(a.r.headers_len, 0);
}

static void abandoned_at_free_without_callback(void **state)
{
    fixture *f = *state;
    answer a;
    send_held(f, &a, 5000);
    bool held = false;
    struct event *t = evtimer_new(f->base, on_deadline, &held);
    struct timeval tv = { 0, 100000 };
    evtimer_add(t, &tv);
    while (!f->srv->held && !held) event_base_loop(f->base, EVLOOP_ONCE);
    event_free(t);
    assert_non_null(f->srv->held);
    kx_http_free(f->http);
    f->http = NULL;
    assert_false(a.done);
    kx_curl *c = f->dl ? f->dl : kx_curl_linked();
    assert_true(c->pinned); /* a dlopened libcurl then stays mapped */
    if (f->dl) {
        kx_curl_close(f->dl); /* pinned: freed, not unloaded */
        f->dl = NULL;
    }
    kx_curl_linked()->pinned = false;
}

static void dlopen_failure_names_the_library(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(kx_curl_open("libcurl-that-is-not-there.so.4", err, sizeof err));
    assert_non_null(strstr(err, "libcurl-that-is-not-there.so.4"));
}

#define BOTH(fn) cmocka_unit_test_setup_teardown(fn, setup_linked, teardown), \
                 cmocka_unit_test_setup_teardown(fn, setup_dlopened, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(get_and_post_with_headers),
        BOTH(fresh_connection_only_when_asked),
        BOTH(timeout_never_blocks_the_loop),
        BOTH(transport_errors_are_reported),
        BOTH(answer_discarded_when_asked),
        BOTH(abandoned_at_free_without_callback),
        cmocka_unit_test(dlopen_failure_names_the_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
