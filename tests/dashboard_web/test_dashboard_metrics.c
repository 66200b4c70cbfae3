/* GET /metrics: the host's metrics followed by the dashboard's own, in the
 * Prometheus text format as `promtool check metrics` judges it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *promtool_path(void)
{
    static const char *const candidates[] = { "/usr/bin/promtool", "/usr/local/bin/promtool" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], X_OK) == 0) return candidates[i];
    return NULL;
}

/* A host writer as the real host would have one: families with HELP/TYPE,
 * the last line without its newline (the plugin must cope). */
static void host_metrics(qtr_ctx *ctx, qtr_write_cb w, void *ud)
{
    (void)ctx;
    static const char text[] =
        "# HELP qtr_orders_submitted_total Orders sent to the exchange.\n"
        "# TYPE qtr_orders_submitted_total counter\n"
        "qtr_orders_submitted_total{strategy=\"ma_cross\"} 12\n"
        "# HELP qtr_equity Account equity (display only).\n"
        "# TYPE qtr_equity gauge\n"
        "qtr_equity 10250.5";
    w(ud, text, sizeof text - 1);
}

/* Runs promtool on text; returns its exit status, output in out. */
static int promtool_check(const char *tool, const char *text, char *out, size_t cap)
{
    const char *dir = getenv("QTR_BUILD_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/dashboard_metrics.prom", dir ? dir : "/tmp");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    char cmd[2300];
    snprintf(cmd, sizeof cmd, "%s check metrics < '%s' 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_metrics_pass_promtool(void **state)
{
    (void)state;
    const char *tool = promtool_path();
    if (!tool) fail_msg("promtool not found: install Debian's 'prometheus' package (it provides /usr/bin/promtool)");
    dash_fixture f;
    assert_true(dash_start(&f, NULL));
    f.m->api.metrics_write = host_metrics;
    http_result r;
    for (int i = 0; i < 2; i++) {
        assert_true(http_req(f.m, f.port, "GET", "/nope", NULL, NULL, &r));
        http_result_free(&r);
    }
    assert_true(http_req(f.m, f.port, "GET", "/api/ess", NULL, NULL, &r));
    http_result_free(&r);
    ws_tc *c = ws_tc_connect(f.m, f.port, NULL, 0);
    assert_true(ws_tc_wait_open(c, 3000));
    mock_host_run_for(f.m, 50);

    assert_true(http_req(f.m, f.port, "GET", "/metrics", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_non_null(strstr(http_result_header(&r, "Content-Type", ct, sizeof ct), "text/plain; version=0.0.4"));
    /* host lines first, intact, then ours */
    assert_non_null(strstr(r.body, "qtr_orders_submitted_total{strategy=\"ma_cross\"} 12\n"));
    assert_non_null(strstr(r.body, "qtr_equity 10250.5\n# HELP qtr_dashboard_"));
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_http_requests_total{code=\"404\"}"), 2);
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_http_requests_total{code=\"200\"}"), 1);
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_http_requests_total{code=\"101\"}"), 1);
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_ws_clients"), 1);
    assert_int_equal((int)metric_value(r.body, "qtr_dashboard_ws_messages_sent_total"), 1);   /* the hello */
    char out[4096];
    int rc = promtool_check(tool, r.body, out, sizeof out);
    if (rc != 0) fail_msg("promtool check metrics failed (%d):\n%s\n--- input ---\n%s", rc, out, r.body);
    http_result_free(&r);

    /* and a broken exposition is caught by the same check (it can fail) */
    rc = promtool_check(tool, "# TYPE x counter\nx{ 1\n", out, sizeof out);
    assert_int_not_equal(rc, 0);
    ws_tc_free(c);
    dash_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_pass_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
