/* The plugin search path lists each folder once (host/core/loader.c,
 * qh_loader_search_dirs): one folder named twice, with a trailing slash,
 * through "..", or through a symlink would otherwise list (and offer) each
 * of its plugins twice. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loader.h"

static char root[PATH_MAX];

static int setup(void **s)
{
    (void)s;
    snprintf(root, sizeof root, "/tmp/qtr_search_path_XXXXXX");
    if (!mkdtemp(root)) return -1;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/a", root);
    if (mkdir(p, 0755) != 0) return -1;
    snprintf(p, sizeof p, "%s/b", root);
    if (mkdir(p, 0755) != 0) return -1;
    snprintf(p, sizeof p, "%s/link", root);
    if (symlink("a", p) != 0) return -1;
    unsetenv("QTR_PLUGIN_PATH");
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/link", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/a", root);
    rmdir(p);
    snprintf(p, sizeof p, "%s/b", root);
    rmdir(p);
    rmdir(root);
    return 0;
}

/* How many entries of the search path name the folder `sub` of root (by
 * any spelling: the list holds the first spelling given). */
static size_t count_named(char list[][512], size_t n, const char *spelling)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], spelling) == 0) c++;
    return c;
}

static void one_folder_named_many_ways_is_searched_once(void **s)
{
    (void)s;
    char a[PATH_MAX + 8], a_slash[PATH_MAX + 8], a_dots[PATH_MAX + 16], via_link[PATH_MAX + 8], b[PATH_MAX + 8];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(a_slash, sizeof a_slash, "%s/a/", root);
    snprintf(a_dots, sizeof a_dots, "%s/b/../a", root);
    snprintf(via_link, sizeof via_link, "%s/link", root);
    snprintf(b, sizeof b, "%s/b", root);
    const char *dirs[] = { a, a_slash, b, a_dots, via_link, a, b };
    char list[16][512];
    size_t n = qh_loader_search_dirs(dirs, 7, list, 16);
    assert_int_equal(count_named(list, n, a), 1);
    assert_int_equal(count_named(list, n, b), 1);
    assert_int_equal(count_named(list, n, a_slash) + count_named(list, n, a_dots) + count_named(list, n, via_link), 0);
    /* the order of first appearance is kept: a, then b */
    assert_string_equal(list[0], a);
    assert_string_equal(list[1], b);
}

static void the_environment_repeating_the_config_adds_nothing(void **s)
{
    (void)s;
    char a[PATH_MAX + 8], env[2 * PATH_MAX + 32];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(env, sizeof env, "%s/link:%s/a/", root, root);
    setenv("QTR_PLUGIN_PATH", env, 1);
    const char *dirs[] = { a };
    char list[16][512];
    size_t n = qh_loader_search_dirs(dirs, 1, list, 16);
    unsetenv("QTR_PLUGIN_PATH");
    for (size_t i = 1; i < n; i++) assert_true(strncmp(list[i], root, strlen(root)) != 0);
    assert_string_equal(list[0], a);
}

static void missing_folders_are_kept_once_by_name(void **s)
{
    (void)s;
    const char *dirs[] = { "/nonexistent/x", "/nonexistent/x", "/nonexistent/y" };
    char list[16][512];
    size_t n = qh_loader_search_dirs(dirs, 3, list, 16);
    assert_int_equal(count_named(list, n, "/nonexistent/x"), 1);
    assert_int_equal(count_named(list, n, "/nonexistent/y"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_folder_named_many_ways_is_searched_once),
        cmocka_unit_test(the_environment_repeating_the_config_adds_nothing),
        cmocka_unit_test(missing_folders_are_kept_once_by_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
