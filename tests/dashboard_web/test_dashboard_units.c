/* Unit tests of the dashboard's pure parts: request parsing, the WebSocket
 * accept key, the bearer token, the per-client queue, alert rules, JSON
 * money encoding and the metrics text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "alert_rules.h"
#include "answer_cache.h"
#include "auth.h"
#include "client_queue.h"
#include "event_blob.h"
#include "host_allow.h"
#include "http_parse.h"
#include "json_encode.h"
#include "log_text.h"
#include "metrics.h"
#include "sha1.h"
#include "ws_handshake.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static qtr_dec dec(const char *s)
{
    qtr_dec v = 0;
    assert_int_equal(qtr_dec_parse(s, (size_t)-1, &v), QTR_DEC_OK);
    return v;
}

/* ---- http_parse ---------------------------------------------------------- */

static int parse(const char *text, http_request *req, char **keep)
{
    *keep = strdup(text);
    return http_parse_head(*keep, strlen(text), req);
}

static void test_parse_get_with_headers(void **state)
{
    (void)state;
    http_request req;
    char *buf;
    assert_int_equal(parse("GET /api/status?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  spaced value \r\n\r\n", &req, &buf), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.path, "/api/status");
    assert_string_equal(req.target, "/api/status?x=1");
    assert_int_equal(req.minor_version, 1);
    assert_string_equal(http_header_get(&req, "x-thing"), "spaced value");
    assert_true(req.keep_alive);
    assert_false(req.has_content_length);
    free(buf);
}

static void test_parse_connection_and_length(void **state)
{
    (void)state;
    http_request req;
    char *buf;
    assert_int_equal(parse("POST /a HTTP/1.1\r\nConnection: keep-alive, close\r\nContent-Length: 12\r\n\r\n", &req, &buf), 0);
    assert_false(req.keep_alive);
    assert_true(req.has_content_length);
    assert_int_equal(req.content_length, 12);
    free(buf);
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req, &buf), 0);
    assert_false(req.keep_alive);      /* 1.0 closes unless asked */
    free(buf);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req, &buf), 0);
    assert_true(req.keep_alive);
    free(buf);
}

static void test_parse_rejects_bad_input(void **state)
{
    (void)state;
    static const struct { const char *text; int status; } cases[] = {
        { "GET\r\n\r\n", 400 },
        { "GET /a\r\n\r\n", 400 },
        { "GET a HTTP/1.1\r\n\r\n", 400 },                               /* not origin-form */
        { "GET /a HTTP/2.0\r\n\r\n", 505 },
        { "GET /a HTTPS/1.1\r\n\r\n", 400 },
        { "GET /a b HTTP/1.1\r\n\r\n", 400 },
        { "G(T /a HTTP/1.1\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400 },
        { "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
        { "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400 },
        { "GET /a HTTP/1.1\r\nX: a", 400 },                               /* no blank line */
        { "VERYLONGMETHODNAME /a HTTP/1.1\r\n\r\n", 501 },
        { "VERYLONGMETHOD(NAME /a HTTP/1.1\r\n\r\n", 400 },             /* malformed before too long */
        { "VERYLONGMETHODNAME /a\x01 HTTP/1.1\r\n\r\n", 400 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_request req;
        char *buf;
        int rc = parse(cases[i].text, &req, &buf);
        if (rc != cases[i].status) fail_msg("case %zu: '%s' gave %d, want %d", i, cases[i].text, rc, cases[i].status);
        free(buf);
    }
}

static void test_parse_header_limit(void **state)
{
    (void)state;
    char text[8192] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++) {
        char line[32];
        snprintf(line, sizeof line, "H%d: v\r\n", i);
        strcat(text, line);
    }
    strcat(text, "\r\n");
    http_request req;
    char *buf;
    assert_int_equal(parse(text, &req, &buf), 413);
    free(buf);
}

static void test_head_length_ends_at_first_blank_line(void **state)
{
    (void)state;
    static const struct { const char *text; size_t want; } cases[] = {
        { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27 },
        { "GET / HTTP/1.1\nHost: x\n\n", 24 },
        { "GET / HTTP/1.1\nHost: x\n\nGET / HTTP/1.1\r\n\r\n", 24 },        /* not the later CRLFCRLF */
        { "GET / HTTP/1.1\r\nHost: x\n\r\n", 26 },                         /* mixed line ends */
        { "POST / HTTP/1.1\nContent-Length: 4\n\n\r\n\r\n", 35 },           /* body bytes are not head */
        { "GET / HTTP/1.1\r\nHost: x\r\n", 0 },                             /* not yet */
        { "GET / HTTP/1.1\r\nHost: x\r\n\r", 0 },
        { "GET / HTTP/1.1\r\nHost: x\r\r\n", 0 },                          /* a CR alone ends nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = http_head_length(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].want) fail_msg("case %zu: %zu, want %zu", i, got, cases[i].want);
    }
    /* a NUL in the head is refused, not read as the end of a line */
    char nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    http_request req;
    assert_int_equal(http_head_length(nul, sizeof nul - 1), sizeof nul - 1);
    assert_int_equal(http_parse_head(nul, sizeof nul - 1, &req), 400);
}

/* What can never become a request line is known from its first bytes, and
 * is what the full parse refuses with 400; a prefix that may still become one
 * is let through to wait for the rest. */
static void test_request_line_viable(void **state)
{
    (void)state;
    static const char *const viable[] = {
        "", "G", "GET", "GET ", "GET /", "GET /api/status?x=1 HT", "GET / HTTP/1.", "GET / HTTP/1.1",
        "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: x\r\n", "GET / HTTP/1.1\nX: \x01",   /* headers: the parser's */
        "VERYLONGMETHODNAMEINDEED",                                               /* 501 later, not garbage */
        "GET / HTTP/2.0\r\n",                                                   /* 505 later */
    };
    for (size_t i = 0; i < sizeof viable / sizeof viable[0]; i++)
        if (!http_request_line_viable(viable[i], strlen(viable[i]))) fail_msg("viable %zu '%s' refused", i, viable[i]);
    static const struct { const char *text; size_t len; } garbage[] = {
        { "\x00\x16\x03", 3 },
        { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11 },      /* a TLS ClientHello */
        { "SSH-2.0-OpenSSH_9.2p1 Debian", 28 },
        { " GET", 4 }, { "G\xc3\xa9T", 4 }, { "GET\r", 4 }, { "GET  /", 6 }, { "GET a", 5 },
        { "GET http://x/ HTTP/1.1", 22 }, { "GET /a\x01", 7 }, { "GET /\xff", 6 }, { "GET / HTTPS", 11 },
        { "GET / http/1.1", 14 }, { "GET / HTTP/x", 12 }, { "GET / HTTP/1.1 ", 15 }, { "GET / HTTP/1.10", 15 },
        { "GET / HTTP/1.1\rX", 16 },
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        if (http_request_line_viable(garbage[i].text, garbage[i].len)) fail_msg("garbage %zu let through", i);
        /* and the full parse of the same, made a whole head, says 400 */
        char head[64];
        memcpy(head, garbage[i].text, garbage[i].len);
        memcpy(head + garbage[i].len, "\r\n\r\n", 4);
        http_request req;
        int rc = http_parse_head(head, garbage[i].len + 4, &req);
        if (rc != 400) fail_msg("garbage %zu parsed as %d, want 400", i, rc);
    }
}

static void test_header_tokens(void **state)
{
    (void)state;
    assert_true(http_header_has_token("keep-alive, Upgrade", "upgrade"));
    assert_true(http_header_has_token("Upgrade", "upgrade"));
    assert_false(http_header_has_token("upgraded", "upgrade"));
    assert_false(http_header_has_token("", "upgrade"));
}

/* ---- handshake ----------------------------------------------------------- */

static void test_ws_accept_rfc_example(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN];
    /* RFC 6455 section 1.3 */
    assert_true(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* ---- SHA-1 and base64 ---------------------------------------------------- */

static void sha1_hex(const void *data, size_t len, char hex[41])
{
    uint8_t d[DASH_SHA1_LEN];
    dash_sha1(data, len, d);
    for (size_t i = 0; i < sizeof d; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void test_sha1_fips_vectors(void **state)
{
    (void)state;
    char hex[41];
    /* FIPS 180-4 examples (NIST CSRC "SHA1.pdf") */
    sha1_hex("abc", 3, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("", 0, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";   /* 56 bytes: two blocks */
    assert_int_equal(strlen(two), 56);
    sha1_hex(two, 56, hex);
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* one million 'a', fed in odd-sized pieces across block boundaries */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    dash_sha1_ctx c;
    dash_sha1_init(&c);
    size_t left = 1000000;
    for (size_t step = 1; left; step = (step * 31 + 7) % sizeof chunk + 1) {   /* 1..997 bytes */
        size_t n = step < left ? step : left;
        dash_sha1_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[DASH_SHA1_LEN];
    dash_sha1_final(&c, d);
    for (size_t i = 0; i < sizeof d; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha1_padding_edges(void **state)
{
    (void)state;
    /* lengths around the 55/56/64-byte padding boundaries, one-shot vs byte by byte */
    char msg[130];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (char)('0' + i % 43);
    static const size_t lens[] = { 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 129 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        uint8_t a[DASH_SHA1_LEN], b[DASH_SHA1_LEN];
        dash_sha1(msg, lens[k], a);
        dash_sha1_ctx c;
        dash_sha1_init(&c);
        for (size_t i = 0; i < lens[k]; i++) dash_sha1_update(&c, msg + i, 1);
        dash_sha1_final(&c, b);
        assert_memory_equal(a, b, sizeof a);
    }
    char hex[41];
    const char *m64 = "0123456789012345678901234567890123456789012345678901234567890123";
    sha1_hex(m64, 64, hex);   /* a whole block: the padding takes a second one */
    assert_string_equal(hex, "cf0800f7644ace3cb4c3fa33388d3ba0ea3c8b6e");
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char out[16];
    for (size_t n = 0; n <= 6; n++) {
        assert_int_equal(dash_base64_encode("foobar", n, out), strlen(want[n]));
        assert_string_equal(out, want[n]);
    }
    uint8_t all[3] = { 0xfb, 0xff, 0xbf };
    dash_base64_encode(all, 3, out);
    assert_string_equal(out, "+/+/");
    assert_true(dash_base64_char('+'));
    assert_true(dash_base64_char('9'));
    assert_false(dash_base64_char('='));
    assert_false(dash_base64_char('-'));
    assert_false(dash_base64_char(' '));
}

static int check_upgrade(const char *head)
{
    http_request req;
    char *buf = strdup(head);
    assert_int_equal(http_parse_head(buf, strlen(buf), &req), 0);
    const char *why = NULL;
    host_allow allowed;
    host_allow_init(&allowed);
    assert_true(host_allow_add(&allowed, "h"));
    int rc = ws_check_upgrade(&req, &allowed, &why);
    if (rc) assert_non_null(why);
    free(buf);
    return rc;
}

static void test_ws_check_upgrade(void **state)
{
    (void)state;
    const char *good = "GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(check_upgrade(good), 0);
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"),
                     426);
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                     400);
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                     400);   /* not base64 */
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=a\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                     400);   /* not 16 bytes with padding */
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                     400);
    assert_int_equal(check_upgrade("GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Origin: http://evil.example\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                     403);
}

static void test_ws_origin(void **state)
{
    (void)state;
    host_allow allowed;
    host_allow_init(&allowed);
    assert_true(ws_origin_allowed(NULL, "127.0.0.1:8080", &allowed));
    assert_true(ws_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", &allowed));
    assert_true(ws_origin_allowed("http://LOCALHOST:8080", "localhost:8080", &allowed));
    assert_false(ws_origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080", &allowed));
    assert_false(ws_origin_allowed("http://127.0.0.1:8080.evil.com", "127.0.0.1:8080", &allowed));
    assert_false(ws_origin_allowed("null", "127.0.0.1:8080", &allowed));
    assert_false(ws_origin_allowed("http://a", NULL, &allowed));
    /* DNS rebinding: the attacker's page and its Host agree, but the name is not ours */
    assert_false(ws_origin_allowed("http://attacker.example:8080", "attacker.example:8080", &allowed));
    assert_true(host_allow_add(&allowed, "dash.lan"));
    assert_true(ws_origin_allowed("http://dash.lan:8080", "dash.lan:8080", &allowed));
}

static void test_log_text(void **state)
{
    (void)state;
    char out[16];
    assert_string_equal(log_text(out, sizeof out, "a\r\nb\x1b[31m\x7f\tc"), "a??b?[31m??c");
    assert_string_equal(log_text(out, sizeof out, "caf\xc3\xa9"), "caf\xc3\xa9");   /* UTF-8 stays */
    assert_string_equal(log_text(out, 4, "abcdef"), "abc");
    assert_string_equal(log_text(out, sizeof out, NULL), "");
}

static void test_host_allow(void **state)
{
    (void)state;
    host_allow a;
    host_allow_init(&a);
#define HAS(text) host_allow_has(&a, (text), strlen(text))
    assert_true(HAS("127.0.0.1"));
    assert_true(HAS("127.0.0.1:8080"));
    assert_true(HAS("localhost:1"));
    assert_true(HAS("LocalHost"));
    assert_true(HAS("[::1]:8080"));
    assert_true(HAS("[::1]"));
    assert_false(HAS("attacker.example"));
    assert_false(HAS("attacker.example:8080"));
    assert_false(HAS("localhost.attacker.example"));
    assert_false(HAS("127.0.0.1.nip.io"));
    assert_false(HAS("127.0.0.1:80x"));
    assert_false(HAS("127.0.0.1:"));
    assert_false(HAS("127.0.0.1:123456"));
    assert_false(HAS("[::1"));
    assert_false(HAS("[::1]x"));
    assert_false(HAS(""));
    assert_false(HAS("192.168.1.5:8080"));
    assert_true(host_allow_add(&a, "192.168.1.5"));
    assert_true(HAS("192.168.1.5:8080"));
    assert_false(host_allow_add(&a, "dash.lan:8080"));   /* names only, no port */
    assert_false(host_allow_add(&a, ""));
#undef HAS
}

/* ---- auth ----------------------------------------------------------------- */

static void test_auth(void **state)
{
    (void)state;
    api_token t;
    api_token_init(&t, NULL);
    assert_int_equal(api_token_check(&t, "Bearer anything"), AUTH_NOT_CONFIGURED);
    api_token_init(&t, "");
    assert_int_equal(api_token_check(&t, "Bearer "), AUTH_NOT_CONFIGURED);
    api_token_init(&t, "s3cret-token");
    assert_int_equal(api_token_check(&t, "Bearer s3cret-token"), AUTH_OK);
    assert_int_equal(api_token_check(&t, "bearer s3cret-token"), AUTH_OK);
    assert_int_equal(api_token_check(&t, "Bearer s3cret-tokeN"), AUTH_WRONG);
    assert_int_equal(api_token_check(&t, "Bearer s3cret-token2"), AUTH_WRONG);
    assert_int_equal(api_token_check(&t, "Bearer s3cret"), AUTH_WRONG);
    assert_int_equal(api_token_check(&t, "Basic czNjcmV0"), AUTH_MISSING);
    assert_int_equal(api_token_check(&t, "Bearer "), AUTH_MISSING);
    assert_int_equal(api_token_check(&t, NULL), AUTH_MISSING);
    /* only a digest is kept, never the token */
    assert_null(memmem(&t, sizeof t, "s3cret", 6));
    char big[5000] = "Bearer ";
    memset(big + 7, 's', sizeof big - 8);
    big[sizeof big - 1] = '\0';
    assert_int_equal(api_token_check(&t, big), AUTH_WRONG);
}

/* ---- client_queue ------------------------------------------------------------ */

static event_blob *blob(uint64_t id, qtr_event_type type, const char *symbol)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.time_ms = 1000 + (int64_t)id;
    if (symbol) qtr_strlcpy(ev.u.position.symbol, symbol, sizeof ev.u.position.symbol);
    event_blob *b = event_blob_new(&ev, id, 0);
    assert_non_null(b);
    return b;
}

static void push_new(client_queue *q, uint64_t id, qtr_event_type type, const char *symbol)
{
    event_blob *b = blob(id, type, symbol);
    cq_push(q, b);
    event_blob_unref(b);
}

static void test_queue_fifo_without_pressure(void **state)
{
    (void)state;
    client_queue q;
    assert_true(cq_init(&q, 8));
    for (uint64_t i = 1; i <= 5; i++) push_new(&q, i, QTR_EV_FILL, "BTCUSDT");
    assert_int_equal(cq_pending(&q), 5);
    event_blob *out[8];
    uint64_t missed = 99;
    size_t n = cq_take(&q, out, 3, &missed);
    assert_int_equal(n, 3);
    assert_int_equal(missed, 0);
    for (size_t i = 0; i < n; i++) { assert_int_equal(out[i]->id, i + 1); event_blob_unref(out[i]); }
    n = cq_take(&q, out, 8, &missed);
    assert_int_equal(n, 2);
    assert_int_equal(out[0]->id, 4);
    assert_int_equal(out[1]->id, 5);
    for (size_t i = 0; i < n; i++) event_blob_unref(out[i]);
    cq_free(&q);
}

static void test_queue_drops_oldest_and_counts(void **state)
{
    (void)state;
    client_queue q;
    assert_true(cq_init(&q, 4));
    for (uint64_t i = 1; i <= 10; i++) push_new(&q, i, QTR_EV_FILL, "BTCUSDT");
    event_blob *out[16];
    uint64_t missed = 0;
    size_t n = cq_take(&q, out, 16, &missed);
    assert_int_equal(n, 4);
    assert_int_equal(missed, 6);
    for (size_t i = 0; i < n; i++) { assert_int_equal(out[i]->id, 7 + i); event_blob_unref(out[i]); }
    assert_int_equal(q.missed_total, 6);
    n = cq_take(&q, out, 16, &missed);
    assert_int_equal(n, 0);
    assert_int_equal(missed, 0);       /* reported once */
    cq_free(&q);
}

static void test_queue_keeps_latest_state_per_key(void **state)
{
    (void)state;
    client_queue q;
    assert_true(cq_init(&q, 3));
    /* 1: position A, 2: position B, 3: position A again, then fills 4..9 */
    push_new(&q, 1, QTR_EV_POSITION, "AAA");
    push_new(&q, 2, QTR_EV_POSITION, "BBB");
    push_new(&q, 3, QTR_EV_POSITION, "AAA");
    push_new(&q, 4, QTR_EV_EQUITY, NULL);
    for (uint64_t i = 5; i <= 9; i++) push_new(&q, i, QTR_EV_FILL, "AAA");
    event_blob *out[16];
    uint64_t missed = 0;
    size_t n = cq_take(&q, out, 16, &missed);
    /* kept: B(2), A(3), equity(4) as latest states, then the 3 newest fills */
    uint64_t want[] = { 2, 3, 4, 7, 8, 9 };
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) { assert_int_equal(out[i]->id, want[i]); event_blob_unref(out[i]); }
    /* dropped: position A(1) replaced by A(3), fills 5 and 6 */
    assert_int_equal(missed, 3);
    assert_int_equal(n + missed, 9);
    cq_free(&q);
}

static void test_queue_take_in_parts_keeps_order(void **state)
{
    (void)state;
    client_queue q;
    assert_true(cq_init(&q, 2));
    push_new(&q, 1, QTR_EV_POSITION, "AAA");
    push_new(&q, 2, QTR_EV_POSITION, "BBB");
    push_new(&q, 3, QTR_EV_FILL, "AAA");
    push_new(&q, 4, QTR_EV_FILL, "AAA");
    event_blob *out[4];
    uint64_t missed = 0, last = 0;
    size_t total = 0;
    for (int round = 0; round < 4; round++) {
        size_t n = cq_take(&q, out, 1, &missed);
        for (size_t i = 0; i < n; i++) {
            assert_true(out[i]->id > last);
            last = out[i]->id;
            event_blob_unref(out[i]);
        }
        total += n;
    }
    assert_int_equal(total, 4);
    cq_free(&q);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void test_event_json_money_as_strings(void **state)
{
    (void)state;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = 1700000000123;
    qtr_strlcpy(ev.u.fill.symbol, "BTCUSDT", sizeof ev.u.fill.symbol);
    qtr_strlcpy(ev.u.fill.fill_id, "f-1", sizeof ev.u.fill.fill_id);
    ev.u.fill.side = QTR_SIDE_SELL;
    ev.u.fill.qty = dec("0.001");
    ev.u.fill.price = dec("43125.5");
    ev.u.fill.fee = dec("-0.00000001");
    event_blob *b = event_blob_new(&ev, 42, 0);
    assert_non_null(b);
    json_error_t err;
    json_t *j = json_loads(b->json, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "fill");
    assert_int_equal(json_integer_value(json_object_get(j, "time")), 1700000000123);
    json_t *p = json_object_get(j, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "qty")), "0.001");
    assert_string_equal(json_string_value(json_object_get(p, "price")), "43125.5");
    assert_string_equal(json_string_value(json_object_get(p, "fee")), "-0.00000001");
    assert_string_equal(json_string_value(json_object_get(p, "side")), "SELL");
    assert_string_equal(b->key, "");
    json_decref(j);
    event_blob_unref(b);
}

/* The REGIME event: names for the regimes, scores as numbers, one
 * coalescing key per symbol (a slow client keeps each symbol's latest). */
static void test_event_json_regime(void **state)
{
    (void)state;
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_REGIME;
    ev.time_ms = 1700000000123;
    qtr_strlcpy(ev.u.regime.symbol, "XRPUSDT", sizeof ev.u.regime.symbol);
    ev.u.regime.time_ms = 1700000000000;
    ev.u.regime.regime = QTR_REGIME_TREND_DOWN;
    ev.u.regime.previous = QTR_REGIME_RANGE;
    ev.u.regime.adx = 31.25;
    ev.u.regime.plus_di = 12.5;
    ev.u.regime.minus_di = 40;
    ev.u.regime.atr_pct = 0.75;
    ev.u.regime.volatility = NAN;   /* not finite: null, never invalid JSON */
    event_blob *b = event_blob_new(&ev, 7, 0);
    assert_non_null(b);
    json_error_t err;
    json_t *j = json_loads(b->json, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "regime");
    json_t *p = json_object_get(j, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "symbol")), "XRPUSDT");
    assert_int_equal(json_integer_value(json_object_get(p, "time_ms")), 1700000000000);
    assert_string_equal(json_string_value(json_object_get(p, "regime")), "trend_down");
    assert_string_equal(json_string_value(json_object_get(p, "previous")), "range");
    assert_true(json_real_value(json_object_get(p, "adx")) == 31.25);
    assert_true(json_real_value(json_object_get(p, "plus_di")) == 12.5);
    assert_true(json_number_value(json_object_get(p, "minus_di")) == 40);
    assert_true(json_real_value(json_object_get(p, "atr_pct")) == 0.75);
    assert_true(json_is_null(json_object_get(p, "volatility")));
    assert_string_equal(b->key, "regime:XRPUSDT");
    json_decref(j);
    event_blob_unref(b);
}

static void test_event_json_every_type_and_keys(void **state)
{
    (void)state;
    for (int t = 1; t < QTR_EV__COUNT; t++) {
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = (qtr_event_type)t;
        qtr_strlcpy(ev.u.position.symbol, "ETHUSDT", sizeof ev.u.position.symbol);
        event_blob *b = event_blob_new(&ev, (uint64_t)t, 0);
        assert_non_null(b);
        json_error_t err;
        json_t *j = json_loads(b->json, 0, &err);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "type")), qtr_event_type_name((qtr_event_type)t));
        assert_true(json_is_object(json_object_get(j, "payload")));
        json_decref(j);
        if (t == QTR_EV_POSITION) assert_string_equal(b->key, "position:ETHUSDT");
        if (t == QTR_EV_EQUITY) assert_string_equal(b->key, "equity");
        if (t == QTR_EV_ESS_STATE) assert_string_equal(b->key, "ess_state");
        if (t == QTR_EV_ORDER_UPDATE || t == QTR_EV_SIGNAL || t == QTR_EV_ALERT) assert_string_equal(b->key, "");
        event_blob_unref(b);
    }
}

static void expect_json(jw *w, const char *want)
{
    assert_false(w->failed);
    if (w->len != strlen(want) || memcmp(w->buf, want, w->len) != 0)
        fail_msg("wrote '%.*s', want '%s'", (int)w->len, w->buf, want);
    jw_reset(w);
}

static void test_json_field_survives_bad_utf8(void **state)
{
    (void)state;
    jw w;
    jw_init(&w, NULL, 0);
    char field[8] = { 'a', (char)0xff, 'b', 0, 0, 0, 0, 0 };
    JW_FIELD(&w, field);
    expect_json(&w, "\"a?b\"");
    char full[4] = { 'w', 'x', 'y', 'z' };   /* no NUL inside the field */
    JW_FIELD(&w, full);
    expect_json(&w, "\"wxyz\"");
    char utf8[] = "\xc3\xa9t\xc3\xa9";        /* valid UTF-8 is kept as it is */
    JW_FIELD(&w, utf8);
    expect_json(&w, "\"\xc3\xa9t\xc3\xa9\"");
    char overlong[] = "\xc0\xafx";             /* an overlong '/' is not valid */
    JW_FIELD(&w, overlong);
    expect_json(&w, "\"??x\"");
    jw_free(&w);
}

static void test_json_writer_syntax(void **state)
{
    (void)state;
    char stack[8];                            /* tiny: it must move to the heap */
    jw w;
    jw_init(&w, stack, sizeof stack);
    jw_begin_object(&w);
    jw_key(&w, "s"); jw_string(&w, "q\"b\\n\n\x01");
    jw_key(&w, "n"); jw_int(&w, -42);
    jw_key(&w, "lo"); jw_int(&w, INT64_MIN);
    jw_key(&w, "m"); jw_money(&w, dec("-0.00000001"));
    jw_key(&w, "a");
    jw_begin_array(&w);
    jw_bool(&w, true);
    jw_null(&w);
    jw_begin_object(&w);
    jw_end_object(&w);
    jw_real(&w, 0.75);
    jw_real(&w, 2.0);
    jw_end_array(&w);
    jw_end_object(&w);
    expect_json(&w, "{\"s\":\"q\\\"b\\\\n\\n\\u0001\",\"n\":-42,\"lo\":-9223372036854775808,\"m\":\"-0.00000001\",\"a\":[true,null,{},0.75,2.0]}");
    jw_free(&w);
}

/* ---- alert rules ------------------------------------------------------------------- */

static alert_rules make_rules(const char *dd, int64_t errors, int64_t interval_ms, int64_t per_min)
{
    alert_rules r;
    alert_config cfg = { dec(dd), errors, interval_ms, per_min };
    assert_true(alert_rules_init(&r, &cfg));
    return r;
}

static qtr_event ess_event(qtr_ess_state st, qtr_ess_state prev, const char *reason)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.u.ess.state = st;
    ev.u.ess.previous = prev;
    qtr_strlcpy(ev.u.ess.reason, reason, sizeof ev.u.ess.reason);
    qtr_strlcpy(ev.u.ess.user, "alice", sizeof ev.u.ess.user);
    return ev;
}

static void test_alert_ess_trip(void **state)
{
    (void)state;
    alert_rules r = make_rules("2.5", 10, 300000, 10);
    char text[ALERT_TEXT_MAX];
    qtr_event trip = ess_event(QTR_ESS_TRIPPED, QTR_ESS_ARMED, "max drawdown");
    assert_true(alert_rules_on_event(&r, &trip, 1000, text, sizeof text));
    assert_non_null(strstr(text, "TRIPPED"));
    assert_non_null(strstr(text, "max drawdown"));
    assert_non_null(strstr(text, "alice"));
    qtr_event armed = ess_event(QTR_ESS_ARMED, QTR_ESS_TRIPPED, "reset");
    assert_false(alert_rules_on_event(&r, &armed, 2000, text, sizeof text));
    /* a second trip within the interval is held back, and counted */
    assert_false(alert_rules_on_event(&r, &trip, 3000, text, sizeof text));
    assert_int_equal(r.suppressed_total, 1);
    /* after the interval it goes, mentioning what was held back */
    assert_true(alert_rules_on_event(&r, &trip, 1000 + 300000, text, sizeof text));
    assert_non_null(strstr(text, "1 similar"));
    alert_rules_free(&r);
}

static qtr_event equity_event(const char *daily_dd)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_EQUITY;
    ev.u.equity.daily_drawdown_pct = dec(daily_dd);
    ev.u.equity.equity = dec("9700");
    return ev;
}

static void test_alert_daily_drawdown_on_crossing(void **state)
{
    (void)state;
    alert_rules r = make_rules("2.5", 10, 0, 100);
    char text[ALERT_TEXT_MAX];
    qtr_event below = equity_event("2.49999999"), at = equity_event("2.5"), above = equity_event("3.1");
    assert_false(alert_rules_on_event(&r, &below, 1, text, sizeof text));
    assert_true(alert_rules_on_event(&r, &at, 2, text, sizeof text));
    assert_non_null(strstr(text, "2.5%"));
    assert_false(alert_rules_on_event(&r, &above, 3, text, sizeof text));   /* still over: once per crossing */
    assert_false(alert_rules_on_event(&r, &below, 4, text, sizeof text));
    assert_true(alert_rules_on_event(&r, &above, 5, text, sizeof text));
    assert_non_null(strstr(text, "3.1%"));
    alert_rules_free(&r);
}

static void test_alert_exchange_error_rate(void **state)
{
    (void)state;
    alert_rules r = make_rules("0", 10, 0, 100);
    char text[ALERT_TEXT_MAX];
    qtr_event err;
    memset(&err, 0, sizeof err);
    err.type = QTR_EV_ALERT;
    err.u.alert.severity = QTR_ALERT_WARNING;
    qtr_strlcpy(err.u.alert.kind, "exchange_error", sizeof err.u.alert.kind);
    /* rejected orders are not exchange errors by themselves: the host refuses
     * orders too, and a failed exchange call comes with its own alert */
    qtr_event rej;
    memset(&rej, 0, sizeof rej);
    rej.type = QTR_EV_ORDER_UPDATE;
    rej.u.order_update.status = QTR_OS_REJECTED;
    qtr_strlcpy(rej.u.order_update.reason, "invalid: quantity must be > 0", sizeof rej.u.order_update.reason);
    qtr_event other = err;
    qtr_strlcpy(other.u.alert.kind, "policy_load_failed", sizeof other.u.alert.kind);
    assert_true(alert_is_exchange_error(&err));
    assert_false(alert_is_exchange_error(&rej));
    assert_false(alert_is_exchange_error(&other));
    int64_t t = 0;
    for (int i = 0; i < 10; i++) assert_false(alert_rules_on_event(&r, &err, t += 1000, text, sizeof text));
    for (int i = 0; i < 20; i++) assert_false(alert_rules_on_event(&r, &rej, t += 1000, text, sizeof text));
    /* the 11th exchange error within the hour */
    assert_true(alert_rules_on_event(&r, &err, t += 1000, text, sizeof text));
    assert_non_null(strstr(text, "11 exchange errors"));
    assert_false(alert_rules_on_event(&r, &err, t += 1000, text, sizeof text));     /* still over */
    /* an hour later the old ones have aged out: back under, then over again */
    t += 3600000;
    for (int i = 0; i < 10; i++) assert_false(alert_rules_on_event(&r, &err, t += 1000, text, sizeof text));
    assert_true(alert_rules_on_event(&r, &err, t += 1000, text, sizeof text));
    alert_rules_free(&r);
}

static void test_alert_health_and_critical_alerts(void **state)
{
    (void)state;
    alert_rules r = make_rules("0", 10, 300000, 100);
    char text[ALERT_TEXT_MAX];
    qtr_event h;
    memset(&h, 0, sizeof h);
    h.type = QTR_EV_HEALTH;
    qtr_strlcpy(h.u.health.component, "exchange", sizeof h.u.health.component);
    h.u.health.health.status = QTR_HEALTH_DEGRADED;
    assert_false(alert_rules_on_event(&r, &h, 1, text, sizeof text));
    h.u.health.health.status = QTR_HEALTH_CRITICAL;
    qtr_strlcpy(h.u.health.health.reason, "user stream down", sizeof h.u.health.health.reason);
    assert_true(alert_rules_on_event(&r, &h, 2, text, sizeof text));
    assert_non_null(strstr(text, "exchange"));
    assert_non_null(strstr(text, "user stream down"));
    /* another component is another key: not held back by the first */
    qtr_strlcpy(h.u.health.component, "store", sizeof h.u.health.component);
    assert_true(alert_rules_on_event(&r, &h, 3, text, sizeof text));
    qtr_event a;
    memset(&a, 0, sizeof a);
    a.type = QTR_EV_ALERT;
    a.u.alert.severity = QTR_ALERT_WARNING;
    qtr_strlcpy(a.u.alert.kind, "policy", sizeof a.u.alert.kind);
    assert_false(alert_rules_on_event(&r, &a, 4, text, sizeof text));
    a.u.alert.severity = QTR_ALERT_CRITICAL;
    qtr_strlcpy(a.u.alert.text, "policy file unreadable", sizeof a.u.alert.text);
    assert_true(alert_rules_on_event(&r, &a, 5, text, sizeof text));
    assert_non_null(strstr(text, "policy file unreadable"));
    alert_rules_free(&r);
}

static void test_alert_global_cap(void **state)
{
    (void)state;
    alert_rules r = make_rules("0", 10, 300000, 3);
    uint32_t held = 0;
    char key[16];
    int sent = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        sent += alert_rate_allow(&r, key, 1000 + i, &held);
    }
    assert_int_equal(sent, 3);
    assert_int_equal(r.suppressed_total, 7);
    /* a minute after the first ones the window has room again */
    assert_true(alert_rate_allow(&r, "k9", 1000 + 60000, &held));
    assert_int_equal(held, 1);
    alert_rules_free(&r);
}

/* ---- metrics ------------------------------------------------------------------------ */

typedef struct sink { char buf[16384]; size_t len; } sink;
static void sink_write(void *ud, const char *text, size_t len)
{
    sink *s = ud;
    assert_true(s->len + len < sizeof s->buf);
    memcpy(s->buf + s->len, text, len);
    s->len += len;
    s->buf[s->len] = '\0';
}

static void test_metrics_render(void **state)
{
    (void)state;
    dash_metrics m;
    memset(&m, 0, sizeof m);
    metrics_count_http(&m, 200);
    metrics_count_http(&m, 200);
    metrics_count_http(&m, 404);
    metrics_count_http(&m, 9999);          /* ignored, no crash */
    m.ws_events_dropped = 7;
    dash_gauges g = { .ws_clients = 3, .ws_queued_bytes = 100, .ws_queued_bytes_max = 60 };
    sink s = { .len = 0 };
    metrics_render(&m, &g, sink_write, &s);
    assert_non_null(strstr(s.buf, "# TYPE qtr_dashboard_http_requests_total counter\n"));
    assert_non_null(strstr(s.buf, "qtr_dashboard_http_requests_total{code=\"200\"} 2\n"));
    assert_non_null(strstr(s.buf, "qtr_dashboard_http_requests_total{code=\"404\"} 1\n"));
    assert_non_null(strstr(s.buf, "qtr_dashboard_ws_clients 3\n"));
    assert_non_null(strstr(s.buf, "qtr_dashboard_ws_events_dropped_total 7\n"));
    assert_non_null(strstr(s.buf, "qtr_dashboard_ws_client_queued_bytes_max 60\n"));
}

/* ---- answer_cache ------------------------------------------------------------ */

static void test_answer_cache_reuses_only_the_same_bytes(void **state)
{
    (void)state;
    answer_cache c = { 0 };
    size_t n = 0;
    unsigned char list[64];
    memset(list, 7, sizeof list);
    assert_null(answer_cache_get(&c, list, sizeof list, &n));          /* nothing kept yet */
    assert_true(answer_cache_put(&c, list, sizeof list, "[7]", 3));
    list[0] = 9;                                                        /* the caller's buffer is reused */
    assert_null(answer_cache_get(&c, list, sizeof list, &n));          /* the copy was kept, not the pointer */
    list[0] = 7;
    const char *a = answer_cache_get(&c, list, sizeof list, &n);
    assert_non_null(a);
    assert_int_equal(n, 3);
    assert_memory_equal(a, "[7]", 3);
    list[63] = 8;                                                       /* the last byte counts too */
    assert_null(answer_cache_get(&c, list, sizeof list, &n));
    list[63] = 7;
    assert_null(answer_cache_get(&c, list, sizeof list - 1, &n));      /* a shorter list is another list */
    assert_true(answer_cache_put(&c, list, 0, "[]", 2));               /* an empty list */
    a = answer_cache_get(&c, list, 0, &n);
    assert_non_null(a);
    assert_memory_equal(a, "[]", 2);
    assert_null(answer_cache_get(&c, list, sizeof list, &n));
    assert_int_equal(c.hits, 2);
    assert_int_equal(c.misses, 5);
    answer_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_get_with_headers),
        cmocka_unit_test(test_answer_cache_reuses_only_the_same_bytes),
        cmocka_unit_test(test_parse_connection_and_length),
        cmocka_unit_test(test_parse_rejects_bad_input),
        cmocka_unit_test(test_parse_header_limit),
        cmocka_unit_test(test_head_length_ends_at_first_blank_line),
        cmocka_unit_test(test_request_line_viable),
        cmocka_unit_test(test_header_tokens),
        cmocka_unit_test(test_sha1_fips_vectors),
        cmocka_unit_test(test_sha1_padding_edges),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_ws_accept_rfc_example),
        cmocka_unit_test(test_ws_check_upgrade),
        cmocka_unit_test(test_host_allow),
        cmocka_unit_test(test_log_text),
        cmocka_unit_test(test_ws_origin),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_queue_fifo_without_pressure),
        cmocka_unit_test(test_queue_drops_oldest_and_counts),
        cmocka_unit_test(test_queue_keeps_latest_state_per_key),
        cmocka_unit_test(test_queue_take_in_parts_keeps_order),
        cmocka_unit_test(test_event_json_money_as_strings),
        cmocka_unit_test(test_event_json_every_type_and_keys),
        cmocka_unit_test(test_event_json_regime),
        cmocka_unit_test(test_json_field_survives_bad_utf8),
        cmocka_unit_test(test_json_writer_syntax),
        cmocka_unit_test(test_alert_ess_trip),
        cmocka_unit_test(test_alert_daily_drawdown_on_crossing),
        cmocka_unit_test(test_alert_exchange_error_rate),
        cmocka_unit_test(test_alert_health_and_critical_alerts),
        cmocka_unit_test(test_alert_global_cap),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
