/* The loader's checks, one fixture plugin per rule (host/core/loader.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "core/abi_signature.h"
#include "core/loader.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define HOST_ABI STR(QTR_ABI_MAJOR) "." STR(QTR_ABI_MINOR)

static char err[2048];

static int open_fixture(const char *name, qh_loaded *p, const char *const *taken, size_t n_taken)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIXTURE_DIR, name);
    err[0] = '\0';
    return qh_loader_open(path, taken, n_taken, p, err, sizeof err);
}

/* A refusal names the file, both ABIs and the reason, and leaves nothing
 * open: the object is unloaded (dlclose on every path), not only forgotten. */
static void expect_refused(const char *fixture, const char *reason, const char *plugin_abi)
{
    qh_loaded p;
    assert_int_equal(open_fixture(fixture, &p, NULL, 0), -1);
    assert_null(p.dl);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIXTURE_DIR, fixture);
    void *still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (still) {
        dlclose(still);
        fail_msg("%s is still loaded after its refusal", fixture);
    }
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

/* A plugin built for an older minor (2.1) loads: its qtr_host was
 * shorter, and it never sees what 2.2 and 2.3 appended. */
static void accepts_an_older_minor(void **s)
{
    (void)s;
    qh_loaded p;
    assert_int_equal(open_fixture("minor_older", &p, NULL, 0), 0);
    assert_int_equal(p.abi_major, QTR_ABI_MAJOR);
    assert_int_equal(p.abi_minor, 1);   /* the fixture is a 2.1 build */
    assert_non_null(p.strategy.on_candle);
    qh_loader_close(&p);
}

/* A plugin built for this minor (QTR_PLUGIN_DEFINE) declines a host of
 * the previous one, whose services it could miss; it still says its own
 * version. */
static void a_plugin_of_this_minor_declines_an_older_host(void **s)
{
    (void)s;
    char path[1024];
    snprintf(path, sizeof path, "%s/good.so", FIXTURE_DIR);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    qtr_plugin_entry_fn entry = (qtr_plugin_entry_fn)(uintptr_t)dlsym(dl, QTR_ENTRY_SYMBOL);
    assert_non_null(entry);
    uint32_t abi = 0;
    assert_null(entry(QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR - 1), &abi));
    assert_int_equal(abi, QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR));
    assert_non_null(entry(QTR_ABI_VERSION(QTR_ABI_MAJOR, QTR_ABI_MINOR), &abi));
    dlclose(dl);
}

static void refuses_newer_major(void **s)
{
    (void)s;
    char abi[16];
    snprintf(abi, sizeof abi, "%d.0", QTR_ABI_MAJOR + 1);
    expect_refused("major_newer", "newer than the host", abi);
}

static void refuses_older_major(void **s)
{
    (void)s;
    char abi[16];
    snprintf(abi, sizeof abi, "%d.0", QTR_ABI_MAJOR - 1);
    expect_refused("major_older", "older than the host's: rebuild the plugin against SDK " HOST_ABI, abi);
}

/* A plugin built with SDK 1.1 declines a 2.x host itself: the host still
 * says what to do. */
static void refuses_a_1x_plugin_with_a_clear_line(void **s)
{
    (void)s;
    expect_refused("abi_1_1", "ABI major version older than the host's: rebuild the plugin against SDK " HOST_ABI,
                   "1.1");
}

/* The build signature: the same version, other layout facts. Each refusal
 * names the fact, the plugin's value and the host's. */
static void refuses_another_enum_size(void **s)
{
    (void)s;
    char want[128];
    snprintf(want, sizeof want, "build signature differs: enum size is 1 in the plugin, %zu in this host",
             sizeof(qtr_kind));
    expect_refused("sig_short_enums", want, HOST_ABI);
}

static void refuses_another_event_size(void **s)
{
    (void)s;
    char want[128];
    snprintf(want, sizeof want, "build signature differs: qtr_event size is %zu in the plugin, %zu in this host",
             sizeof(qtr_event) + 8, sizeof(qtr_event));
    expect_refused("sig_event_size", want, HOST_ABI);
}

static void refuses_another_payload_size(void **s)
{
    (void)s;
    char want[160];
    snprintf(want, sizeof want,
             "build signature differs: the position event payload size is %zu in the plugin, %zu in this host",
             sizeof(qtr_position) + 16, sizeof(qtr_position));
    expect_refused("sig_payload", want, HOST_ABI);
}

static void refuses_a_descriptor_without_signature(void **s)
{
    (void)s;
    expect_refused("sig_missing", "no build signature", HOST_ABI);
}

/* The rules of the comparison, on hand-made signatures: SAME facts equal
 * always; GROWS facts equal at the same minor, not larger from an older
 * minor; a signature with fewer facts from an older SDK. */
static void signature_rules(void **s)
{
    (void)s;
    const qtr_build_signature *host = qh_host_signature();
    uint32_t facts[QTR_SIG__COUNT], payloads[QTR_EV__COUNT];
    memcpy(facts, host->facts, sizeof facts);
    memcpy(payloads, host->payload_sizes, sizeof payloads);
    qtr_build_signature sig = *host;
    sig.facts = facts;
    sig.payload_sizes = payloads;
    char why[320];
    assert_true(qh_signature_compatible(host, 3, &sig, 3, why, sizeof why));
    /* a table built for an older minor is smaller: fine then, not at the same minor */
    facts[QTR_SIG_HOST_SIZE] -= 8;
    assert_true(qh_signature_compatible(host, 3, &sig, 2, why, sizeof why));
    assert_false(qh_signature_compatible(host, 3, &sig, 3, why, sizeof why));
    assert_non_null(strstr(why, "qtr_host size"));
    /* larger than the host's is never fine */
    facts[QTR_SIG_HOST_SIZE] += 16;
    assert_false(qh_signature_compatible(host, 3, &sig, 2, why, sizeof why));
    facts[QTR_SIG_HOST_SIZE] -= 8;
    /* a SAME fact: never smaller, even from an older minor */
    facts[QTR_SIG_SYMBOL_MAX] = 16;
    assert_false(qh_signature_compatible(host, 3, &sig, 2, why, sizeof why));
    assert_non_null(strstr(why, "QTR_SYMBOL_MAX is 16 in the plugin"));
    facts[QTR_SIG_SYMBOL_MAX] = host->facts[QTR_SIG_SYMBOL_MAX];
    /* an older SDK knew fewer facts and fewer types */
    sig.n_facts = QTR_SIG__COUNT - 1;
    sig.n_payloads = QTR_EV__COUNT - 1;
    assert_true(qh_signature_compatible(host, 3, &sig, 2, why, sizeof why));
    assert_false(qh_signature_compatible(host, 3, &sig, 3, why, sizeof why));
    sig.n_facts = QTR_SIG__COUNT + 1;
    assert_false(qh_signature_compatible(host, 3, &sig, 2, why, sizeof why));
    sig.n_facts = QTR_SIG__COUNT;
    sig.magic = 0;
    assert_false(qh_signature_compatible(host, 3, &sig, 3, why, sizeof why));
    assert_non_null(strstr(why, "malformed"));
}

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
static void refuses_null_init(void **s) { (void)s; expect_refused("null_init", "init is NULL", HOST_ABI); }
static void refuses_null_destroy(void **s) { (void)s; expect_refused("null_destroy", "destroy is NULL", HOST_ABI); }
static void refuses_unknown_needs(void **s)
{
    (void)s;
    expect_refused("needs_unknown", "needs 0x80000001 has bits this host does not know (0x80000000)", HOST_ABI);
}
static void refuses_null_on_candle(void **s) { (void)s; expect_refused("null_on_candle", "strategy.on_candle is NULL", HOST_ABI); }
static void refuses_exchange_without_cancel(void **s)
{
    (void)s;
    expect_refused("exchange_no_cancel", "exchange.cancel_order is NULL", HOST_ABI);
}
static void refuses_unknown_kind(void **s) { (void)s; expect_refused("unknown_kind", "unknown kind 9", HOST_ABI); }
static void refuses_callbacks_of_another_kind(void **s) { (void)s; expect_refused("wrong_ops", "has exchange callbacks", HOST_ABI); }
static void refuses_bad_name(void **s) { (void)s; expect_refused("bad_name", "name missing or not", HOST_ABI); }

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
        cmocka_unit_test(accepts_an_older_minor),
        cmocka_unit_test(a_plugin_of_this_minor_declines_an_older_host),
        cmocka_unit_test(refuses_newer_major),
        cmocka_unit_test(refuses_older_major),
        cmocka_unit_test(refuses_newer_minor),
        cmocka_unit_test(refuses_a_1x_plugin_with_a_clear_line),
        cmocka_unit_test(refuses_another_enum_size),
        cmocka_unit_test(refuses_another_event_size),
        cmocka_unit_test(refuses_another_payload_size),
        cmocka_unit_test(refuses_a_descriptor_without_signature),
        cmocka_unit_test(signature_rules),
        cmocka_unit_test(plugin_side_declines_old_host),
        cmocka_unit_test(refuses_missing_entry),
        cmocka_unit_test(refuses_null_init),
        cmocka_unit_test(refuses_null_destroy),
        cmocka_unit_test(refuses_null_on_candle),
        cmocka_unit_test(refuses_unknown_needs),
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
