/* Which Redis a consumer takes: redis_version from INFO server, at least
 * 6.2 (qh_redis_version_ok, bus/redis_conn.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bus/redis_conn.h"

static int check(const char *info, char *version, char *why)
{
    why[0] = '\0';
    return qh_redis_version_ok(info, strlen(info), version, 32, why, 160);
}

static void versions(void **state)
{
    (void)state;
    static const struct { const char *info, *version; int ok; } cases[] = {
        { "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n", "7.0.15", 1 },
        { "# Server\r\nredis_version:6.2.0\r\n", "6.2.0", 1 },
        { "redis_version:6.2.14\r\n", "6.2.14", 1 },     /* the first line */
        { "# Server\r\nredis_version:10.0.1\r\n", "10.0.1", 1 },
        { "# Server\r\nredis_version:7.2.4", "7.2.4", 1 },  /* no line end */
        { "# Server\r\nredis_version:6.0.16\r\n", "6.0.16", 0 },
        { "# Server\r\nredis_version:6.1.9\r\n", "6.1.9", 0 },
        { "# Server\r\nredis_version:5.0.14\r\n", "5.0.14", 0 },
        { "# Server\r\nredis_version:6\r\n", "6", -1 },   /* no minor */
        { "# Server\r\nredis_version:.2\r\n", ".2", -1 },
        { "# Server\r\nredis_version:x\r\n", "", -1 },
        { "# Server\r\nmy_redis_version:9.9.9\r\n", "?", -1 },   /* not at a line's start */
        { "# Server\r\nredis_mode:standalone\r\n", "?", -1 },
        { "", "?", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char version[32], why[160];
        int ok = check(cases[i].info, version, why);
        if (ok != cases[i].ok || strcmp(version, cases[i].version) != 0)
            fail_msg("case %zu: got %d '%s', want %d '%s'", i, ok, version, cases[i].ok, cases[i].version);
        if (ok == 0 && (!strstr(why, cases[i].version) || !strstr(why, "too old") || !strstr(why, "6.2 or later")))
            fail_msg("case %zu: the refusal does not say why: '%s'", i, why);
    }
    /* the text is bounded by its length, not a NUL */
    char version[32], why[160];
    const char *info = "redis_version:6.2.1";
    assert_int_equal(qh_redis_version_ok(info, 16, version, sizeof version, why, sizeof why), -1);   /* "6." */
    assert_int_equal(qh_redis_version_ok(info, 17, version, sizeof version, why, sizeof why), 1);    /* "6.2" */
    assert_int_equal(qh_redis_version_ok(NULL, 0, version, sizeof version, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
