/* libcurl is loaded lazily: a dashboard without webhook_url serves the API
 * and the WebSocket without libcurl (or OpenSSL) ever being mapped into the
 * process; with webhook_url, libcurl is mapped once the plugin is up and gone
 * again after it is unloaded; a libcurl that lacks a function the webhook
 * needs refuses the plugin with one error line (run with "--broken-libcurl"
 * and a stand-in libcurl.so.4 first on LD_LIBRARY_PATH).
 *
 * This binary must not link libcurl or OpenSSL itself (see CMakeLists.txt);
 * each test checks that before it trusts /proc/self/maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True if a file mapped into this process has a name (the part after the
 * last '/': this binary's own path holds "libcurl") starting with prefix. */
static bool mapped(const char *prefix)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4096];
    bool found = false;
    size_t n = strlen(prefix);
    while (!found && fgets(line, sizeof line, f)) {
        const char *slash = strrchr(line, '/');
        found = slash && strncmp(slash + 1, prefix, n) == 0;
    }
    fclose(f);
    return found;
}

static void get_ok(dash_fixture *f, const char *path)
{
    http_result r;
    assert_true(http_req(f->m, f->port, "GET", path, NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    http_result_free(&r);
}

static void test_without_webhook_libcurl_is_never_mapped(void **state)
{
    (void)state;
    assert_false(mapped("libcurl"));        /* else the test would prove nothing */
    assert_false(mapped("libcrypto"));
    dash_fixture f;
    assert_true(dash_start(&f, NULL));
    get_ok(&f, "/api/status");
    get_ok(&f, "/metrics");
    ws_tc *c = ws_tc_connect(f.m, f.port, NULL, 0);
    assert_true(ws_tc_wait_open(c, 5000));  /* the accept key was right */
    assert_true(ws_tc_wait_msgs(c, 1, 5000));
    assert_non_null(strstr(c->msgs[0], "\"hello\""));
    ws_tc_free(c);
    assert_true(mapped("dashboard_web.so"));
    assert_false(mapped("libcurl"));
    assert_false(mapped("libcrypto"));
    assert_false(mapped("libssl"));
    dash_stop(&f);
}

static void test_webhook_maps_libcurl_until_unloaded(void **state)
{
    (void)state;
    assert_false(mapped("libcurl"));
    dash_fixture f;
    const char *opts[] = { "webhook_url", "http://127.0.0.1:9/hook", NULL };
    assert_true(dash_start(&f, opts));
    assert_true(mapped("libcurl.so.4"));
    get_ok(&f, "/api/status");
    dash_stop(&f);
    assert_false(mapped("libcurl"));        /* dlclose'd with the plugin */
}

static void test_broken_libcurl_refuses_the_plugin(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(true);
    mock_host_set_option(m, "listen", "127.0.0.1:0");
    mock_host_set_option(m, "webhook_url", "http://127.0.0.1:9/hook");
    mock_plugin p;
    assert_int_not_equal(mock_plugin_load(m, mock_plugin_path("dashboard_web"), &p), 0);
    assert_int_equal(m->n_logs_error, 1);
    assert_non_null(strstr(m->last_log, "webhook_url"));
    assert_non_null(strstr(m->last_log, "libcurl"));
    assert_non_null(strstr(m->last_log, "curl_global_cleanup"));   /* the first one missing */
    mock_host_free(m);
    /* without a webhook the same libcurl is never looked at */
    dash_fixture f;
    assert_true(dash_start(&f, NULL));
    get_ok(&f, "/api/status");
    assert_false(mapped("libcurl"));
    dash_stop(&f);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--broken-libcurl") == 0) {
        const struct CMUnitTest broken[] = {
            cmocka_unit_test(test_broken_libcurl_refuses_the_plugin),
        };
        return cmocka_run_group_tests_name("broken libcurl", broken, NULL, NULL);
    }
    /* in this order: the first must run before anything loaded libcurl */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_webhook_libcurl_is_never_mapped),
        cmocka_unit_test(test_webhook_maps_libcurl_until_unloaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
