/* wss:// against the mock's streams over TLS, with certificates made here:
 * the CA given in stream_ca_file is trusted and the fill comes over the
 * stream; a certificate from another CA is refused (the stream stays down,
 * health says why, polling books the fill). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "bn_fixture.h"

static char dir[64];

/* A self-signed certificate for 127.0.0.1 (its own CA): <name>.pem, <name>.key */
static void make_cert(const char *name)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid());
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    assert_non_null(san);
    assert_non_null(bc);
    X509_add_ext(x, san, -1);
    X509_add_ext(x, bc, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION_free(bc);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    char path[128];
    snprintf(path, sizeof path, "%s/%s.pem", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static int setup_tls(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/bn_tls.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    make_cert("mock");
    make_cert("other");
    char cert[128], key[128];
    snprintf(cert, sizeof cert, "%s/mock.pem", dir);
    snprintf(key, sizeof key, "%s/mock.key", dir);
    setenv("BINANCE_MOCK_TLS_CERT", cert, 1);
    setenv("BINANCE_MOCK_TLS_KEY", key, 1);
    bn_fx *fx = fx_new(); /* the mock inherits the two variables */
    unsetenv("BINANCE_MOCK_TLS_CERT");
    unsetenv("BINANCE_MOCK_TLS_KEY");
    *state = fx;
    return fx ? 0 : -1;
}

static int teardown_tls(void **state)
{
    fx_free(*state);
    const char *names[] = { "mock.pem", "mock.key", "other.pem", "other.key" };
    for (size_t i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

/* stream_ca_file as written in the config: ca_file */
static void load_wss_with(bn_fx *fx, const char *ca_file, const char *poll_ms)
{
    char url[64];
    snprintf(url, sizeof url, "wss://127.0.0.1:%ld", fx_ws_info(fx, "port"));
    mock_host_set_option(fx->m, "stream_url", url);
    mock_host_set_option(fx->m, "stream_ca_file", ca_file);
    mock_host_set_option(fx->m, "poll_interval_ms", poll_ms);
    mock_host_set_option(fx->m, "stream_backoff_ms", "20");
    mock_host_set_option(fx->m, "stream_backoff_max_ms", "100");
    assert_true(fx_load(fx));
}

/* stream_ca_file: ca's PEM in the test's folder, by its absolute path */
static void load_wss(bn_fx *fx, const char *ca, const char *poll_ms)
{
    char ca_path[128];
    snprintf(ca_path, sizeof ca_path, "%s/%s.pem", dir, ca);
    load_wss_with(fx, ca_path, poll_ms);
}

static bool is_new(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && u->status == QTR_OS_NEW;
}

static void rest_then_fill(bn_fx *fx, const char *cid)
{
    assert_int_equal(fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, is_new, cid));
    char q[128];
    snprintf(q, sizeof q, "/mock/fill?clientOrderId=%s&qty=0.010", cid);
    assert_int_equal(mx_post(fx->mx, q), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, cid));
    assert_int_equal(fx_last_update(fx, cid)->status, QTR_OS_FILLED);
    qtr_dec sum = 0;
    assert_int_equal(fx_fills(fx, cid, &sum), 1);
    assert_int_equal(sum, D("0.010"));
}

/* Polling every 10 minutes: the fill can only come over the TLS stream. */
static void trusted_certificate_streams(void **state)
{
    bn_fx *fx = *state;
    load_wss(fx, "mock", "600000");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "fills: stream"));
    rest_then_fill(fx, "tls-1");
}

/* stream_ca_file is a path option: "mock.pem" is the one in the config
 * file's folder, not in the working directory (the test runs elsewhere; as a
 * plain string it was "not a readable file" and the plugin refused to load). */
static void a_relative_ca_file_is_from_the_config_folder(void **state)
{
    bn_fx *fx = *state;
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_string_not_equal(cwd, dir);
    mock_host_set_config_dir(fx->m, dir);
    load_wss_with(fx, "mock.pem", "600000");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "fills: stream"));
    rest_then_fill(fx, "tls-3");
}

static void other_ca_is_refused(void **state)
{
    bn_fx *fx = *state;
    load_wss(fx, "other", "40");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "TLS error"));
    fx_run_for(fx, 300);
    assert_false(fx_health_says(fx, "fills: stream"));
    long status = 0;
    char *body = mx_get(fx->mx, "/mock/ws", &status);
    assert_non_null(strstr(body, "\"user_connections\":0"));
    free(body);
    rest_then_fill(fx, "tls-2"); /* polling */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(trusted_certificate_streams, setup_tls, teardown_tls),
        cmocka_unit_test_setup_teardown(other_ca_is_refused, setup_tls, teardown_tls),
        cmocka_unit_test_setup_teardown(a_relative_ca_file_is_from_the_config_folder, setup_tls, teardown_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
