/* The kit's signing helpers (kx_sign, kx_buf): the official Binance
 * HMAC-SHA256 vector (the reference's "SIGNED Endpoint Examples"), query + body
 * concatenation, query encoding and signature redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kx_buf.h"
#include "kx_sign.h"

#define SECRET "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"

static void official_vector(void **state)
{
    (void)state;
    const char *q = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000"
                    "&timestamp=1591702613943";
    kx_signer *s = kx_signer_new(SECRET, strlen(SECRET));
    assert_non_null(s);
    char sig[KX_HMAC_HEX_LEN + 1];
    assert_true(kx_signer_sign(s, q, strlen(q), NULL, 0, sig));
    assert_string_equal(sig, "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
    /* the key is reused: a second signature of the same text is the same */
    assert_true(kx_signer_sign(s, q, strlen(q), NULL, 0, sig));
    assert_string_equal(sig, "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
    kx_signer_free(s);
}

static void second_vector_reordered(void **state)
{
    (void)state;
    const char *q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=9000&recvWindow=5000"
                    "&timestamp=1591702613943";
    kx_signer *s = kx_signer_new(SECRET, strlen(SECRET));
    char sig[KX_HMAC_HEX_LEN + 1];
    assert_true(kx_signer_sign(s, q, strlen(q), NULL, 0, sig));
    assert_string_equal(sig, "ec11dcc17e67e47f0d3c3f513dfe9062307e37619c5c82ebaa8fe0bdf3d59519");
    kx_signer_free(s);
}

/* Mixed query and body: the query directly followed by the body (no '&'). */
static void query_then_body(void **state)
{
    (void)state;
    const char *q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
    const char *b = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943";
    kx_signer *s = kx_signer_new(SECRET, strlen(SECRET));
    char sig[KX_HMAC_HEX_LEN + 1];
    assert_true(kx_signer_sign(s, q, strlen(q), b, strlen(b), sig));
    assert_string_equal(sig, "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4");
    kx_signer_free(s);
}

static void query_encoding(void **state)
{
    (void)state;
    kx_buf b;
    kx_buf_init(&b);
    assert_true(kx_query_add(&b, "symbol", "BTCUSDT"));
    assert_true(kx_query_add(&b, "newClientOrderId", "a:b/c d"));
    assert_true(kx_query_add_int(&b, "timestamp", 1591702613943));
    assert_true(kx_query_add_dec(&b, "quantity", 100000)); /* 0.001 */
    assert_string_equal(kx_buf_str(&b),
                        "symbol=BTCUSDT&newClientOrderId=a%3Ab%2Fc%20d&timestamp=1591702613943&quantity=0.001");
    kx_buf_free(&b);
}

static void redaction(void **state)
{
    (void)state;
    char out[256];
    kx_redact_signature("/fapi/v1/order?symbol=X&timestamp=1&signature=abcdef0123", out, sizeof out);
    assert_string_equal(out, "/fapi/v1/order?symbol=X&timestamp=1&signature=<redacted>");
    kx_redact_signature("signature=ff&a=1", out, sizeof out);
    assert_string_equal(out, "signature=<redacted>&a=1");
    /* a parameter merely ending in "signature" is not touched */
    kx_redact_signature("mysignature=keep", out, sizeof out);
    assert_string_equal(out, "mysignature=keep");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(official_vector), cmocka_unit_test(second_vector_reordered),
        cmocka_unit_test(query_then_body), cmocka_unit_test(query_encoding), cmocka_unit_test(redaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
