/* The loader's checks, one fixture plugin per rule (host/core/loader.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/loader.h"

static char err[2048];

static int open_fixture(const char *name, qh_loaded *p, const char *const *taken, size_t n_taken)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIXTURE_DIR, name);
    err[0] = '\0';
    return qh_loader_open(path, taken, n_taken, p, err, sizeof err);
}

/* A refusal names the file, both ABIs and the reason, and leaves nothing open. */
static void expect_refused(const char *fixture, const char *reason, const char *plugin_abi)
{
    qh_loaded p;
    assert_int_equal(open_fixture(fixture, &p, NULL, 0), -1);
    assert_null(p.dl);
    assert_non_null(strstr(err, fixture));
    assert_non_null(strstr(err, reason));
    char abi[64];
    snprintf(abi, sizeof abi, "plugin ABI %s, host ABI %d.%d", plugin_abi, QTR_ABI_MAJOR, QTR_ABI_MINOR);
    assert_non_null(strstr(err, abi));
    assert_null(strchr(err, '\n'));   /* one line */
}

static void accepts_a_good_plugin(void **s)
{
    (void)s;
    qh_loaded p;
    assert_int_equal(open_fixture("good", &p, NULL, 0), 0);
    assert_non_null(p.dl);
    assert_string_equal(p.desc.name, "fixture_good");
    assert_int_equal(p.desc.kind, QTR_KIND_STRATEGY);
    assert_non_null(p.strategy.on_candle);
    assert_int_equal(p.abi_major, QTR_ABI_MAJOR);
    assert_string_equal(p.desc.options[0].name, "speed");
    qh_loader_close(&p);
    assert_null(p.dl);
}

static void accepts_an_exchange(void **s)
{
    (void)s;
    qh_loaded p;
    assert_int_equal(open_fixture("exchange_good", &p, NULL, 0), 0);
    assert_non_null(p.exchange.submit_order);
    assert_non_null(p.exchange.cancel_order);
    assert_null(p.exchange.cancel_all);
    qh_loader_close(&p);
}

static void refuses_newer_major(void **s) { (void)s; expect_refused("major_newer", "newer than the host", "2.0"); }
static void refuses_older_major(void **s) { (void)s; expect_refused("major_older", "older than the host", "0.0"); }

static void refuses_newer_minor(void **s)
{
    (void)s;
    char abi[16];
    snprintf(abi, sizeof abi, "%d.%d", QTR_ABI_MAJOR, QTR_ABI_MINOR + 1);
    expect_refused("minor_newer", "newer host", abi);
}

static void plugin_side_declines_old_host(void **s)
{
    (void)s;
    char abi[16];
    snprintf(abi, sizeof abi, "%d.7", QTR_ABI_MAJOR);
    expect_refused("declines_host", "declined this host", abi);
}

static void refuses_missing_entry(void **s) { (void)s; expect_refused("no_entry", "no entry symbol qtr_plugin_entry", "?"); }
static void refuses_null_init(void **s) { (void)s; expect_refused("null_init", "init is NULL", "1.1"); }
static void refuses_null_destroy(void **s) { (void)s; expect_refused("null_destroy", "destroy is NULL", "1.1"); }
static void refuses_null_on_candle(void **s) { (void)s; expect_refused("null_on_candle", "strategy.on_candle is NULL", "1.1"); }
static void refuses_exchange_without_cancel(void **s)
{
    (void)s;
    expect_refused("exchange_no_cancel", "exchange.cancel_order is NULL", "1.1");
}
static void refuses_unknown_kind(void **s) { (void)s; expect_refused("unknown_kind", "unknown kind 9", "1.1"); }
static void refuses_callbacks_of_another_kind(void **s) { (void)s; expect_refused("wrong_ops", "has exchange callbacks", "1.1"); }
static void refuses_bad_name(void **s) { (void)s; expect_refused("bad_name", "name missing or not", "1.1"); }

static void refuses_duplicate_name(void **s)
{
    (void)s;
    const char *taken[] = { "other", "fixture_good" };
    qh_loaded p;
    assert_int_equal(open_fixture("good", &p, taken, 2), -1);
    assert_null(p.dl);
    assert_non_null(strstr(err, "duplicate name 'fixture_good'"));
}

static void refuses_a_file_that_is_not_a_plugin(void **s)
{
    (void)s;
    qh_loaded p;
    assert_int_equal(qh_loader_open("/etc/hostname", NULL, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot load"));
    assert_int_equal(qh_loader_open("/nonexistent/x.so", NULL, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.so"));
}

static void finds_plugins_on_the_path(void **s)
{
    (void)s;
    const char *dirs[] = { "/nonexistent", FIXTURE_DIR };
    char out[1024];
    assert_true(qh_loader_find("good.so", dirs, 2, out, sizeof out));
    assert_string_equal(out, FIXTURE_DIR "/good.so");
    assert_false(qh_loader_find("absent.so", dirs, 2, out, sizeof out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_a_good_plugin),
        cmocka_unit_test(accepts_an_exchange),
        cmocka_unit_test(refuses_newer_major),
        cmocka_unit_test(refuses_older_major),
        cmocka_unit_test(refuses_newer_minor),
        cmocka_unit_test(plugin_side_declines_old_host),
        cmocka_unit_test(refuses_missing_entry),
        cmocka_unit_test(refuses_null_init),
        cmocka_unit_test(refuses_null_destroy),
        cmocka_unit_test(refuses_null_on_candle),
        cmocka_unit_test(refuses_exchange_without_cancel),
        cmocka_unit_test(refuses_unknown_kind),
        cmocka_unit_test(refuses_callbacks_of_another_kind),
        cmocka_unit_test(refuses_bad_name),
        cmocka_unit_test(refuses_duplicate_name),
        cmocka_unit_test(refuses_a_file_that_is_not_a_plugin),
        cmocka_unit_test(finds_plugins_on_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
