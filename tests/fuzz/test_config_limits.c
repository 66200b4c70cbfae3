/* qh_config_load_string_limited (core/config_limits.h), which the config
 * fuzz target runs under: the bounds given are the ones applied (a loop the
 * server's bounds let finish is refused under a tight instruction bound, a
 * table the server's memory holds is refused under a tight one), each
 * refusal is one line naming the file, and the server's bounds are the ones
 * qh_config_load_string uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"
#include "core/config_limits.h"

static const qh_config_limits tight = { .mem_bytes = 8u << 20, .instructions = 200000, .time_ms = 50,
                                        .alloc_bytes = 8u << 20 };

/* ~1 M instructions, then a minimal config */
static const char *busy = "local n = 0 for i = 1, 300000 do n = n + i end "
                           "return { plugins = { { kind = 'exchange', name = 'paper' } } }";
/* ~16 MiB of live strings, then a minimal config */
static const char *big = "local t = {} for i = 1, 16 do t[i] = string.rep('x', 1 << 20) .. i end "
                          "return { plugins = { { kind = 'exchange', name = 'paper' } } }";

static int load_limited(const char *text, const qh_config_limits *lim, char *err, size_t errlen)
{
    qh_config c;
    memset(&c, 0, sizeof c);
    err[0] = '\0';
    int rc = qh_config_load_string_limited(text, "limits.lua", "/etc/qtr", lim, &c, err, errlen);
    qh_config_free(&c);
    return rc;
}

static void server_bounds_let_them_finish(void **state)
{
    (void)state;
    char err[512];
    if (load_limited(busy, &qh_config_limits_server, err, sizeof err) != 0) fail_msg("%s", err);
    if (load_limited(big, &qh_config_limits_server, err, sizeof err) != 0) fail_msg("%s", err);
    qh_config c;
    memset(&c, 0, sizeof c);
    assert_int_equal(qh_config_load_string(busy, "limits.lua", "/etc/qtr", &c, err, sizeof err), 0);
    qh_config_free(&c);
}

static void tight_bounds_refuse_them_in_one_line(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(load_limited(busy, &tight, err, sizeof err), -1);
    assert_non_null(strstr(err, "limits.lua"));
    assert_non_null(strstr(err, "instruction limit"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(load_limited(big, &tight, err, sizeof err), -1);
    assert_non_null(strstr(err, "limits.lua"));
    assert_null(strchr(err, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_bounds_let_them_finish),
        cmocka_unit_test(tight_bounds_refuse_them_in_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
