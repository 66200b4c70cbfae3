/* The built-in default policy: policies/default.lua embedded at build
 * time, byte for byte, and loadable with no file anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy_internal.h"

static void test_builtin_is_the_file(void **state)
{
    (void)state;
    char path[1024], err[512];
    const char *src = getenv("QTR_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/policies/default.lua", src ? src : ".");
    char *buf;
    size_t len;
    if (qh_policy_read_file(path, &buf, &len, err, sizeof err) != 0) fail_msg("%s", err);
    size_t blen = 0;
    const char *text = qh_policy_builtin_text(&blen);
    assert_int_equal(blen, len);
    assert_memory_equal(text, buf, len);
    assert_int_equal(text[blen], '\0');
    free(buf);
}

/* Loaded by its name, from a folder with no policies/ at all. */
static void test_builtin_loads_by_name(void **state)
{
    (void)state;
    /* mkdtemp's template: the prefix, then six 'X' it replaces */
    char dir[32];
    int n = snprintf(dir, sizeof dir, "/tmp/qtr_builtin_");
    memset(dir + n, 'X', 6);
    dir[n + 6] = '\0';
    assert_non_null(mkdtemp(dir));
    char old[1024];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(dir), 0);
    qh_policy *p = qh_policy_new(NULL);
    qtr_policy_event ev;
    int rc = qh_policy_load(p, QH_POLICY_BUILTIN, 1000, &ev);
    assert_int_equal(chdir(old), 0);
    rmdir(dir);
    if (rc != 0) fail_msg("%s", ev.error);
    assert_true(ev.ok);
    assert_string_equal(ev.file, QH_POLICY_BUILTIN);
    assert_string_equal(qh_policy_limits(p)->name, "default");
    /* the hash is the file's */
    size_t blen;
    const char *text = qh_policy_builtin_text(&blen);
    char hex[65];
    qh_policy_sha256_hex(text, blen, hex);
    assert_string_equal(ev.hash, hex);
    /* a reload finds it again */
    assert_int_equal(qh_policy_reload(p, 2000, &ev), 0);
    assert_int_equal(ev.version, 2);
    qh_policy_free(p);
}

/* An error longer than the event's field is cut visibly. */
static void test_long_error_cut_with_marker(void **state)
{
    (void)state;
    char path[QTR_TEXT_MAX - 8];
    memset(path, 'a', sizeof path - 1);
    memcpy(path, "/nonexistent/", 13);
    path[sizeof path - 1] = '\0';
    qh_policy *p = qh_policy_new(NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(p, path, 1000, &ev), -1);
    size_t n = strlen(ev.error);
    assert_int_equal(n, sizeof ev.error - 1);
    assert_string_equal(ev.error + n - 3, "...");
    assert_int_equal(strncmp(ev.error, path, 40), 0);
    qh_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_is_the_file),
        cmocka_unit_test(test_builtin_loads_by_name),
        cmocka_unit_test(test_long_error_cut_with_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
