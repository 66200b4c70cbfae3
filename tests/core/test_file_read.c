/* core/file_read: the host's own input files never hang or swell the
 * process. A FIFO with no writer, /dev/zero and a folder are refused at once
 * by name; a file over its cap is refused; a file at its cap is read whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_read.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-file-read-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void refused(const char *path, const char *what, const char *want)
{
    char err[256] = "";
    size_t len = 99;
    /* a FIFO must be refused at once: the alarm ends a test that blocks */
    alarm(10);
    char *buf = qh_file_read_whole(path, what, 1 << 20, &len, err, sizeof err);
    alarm(0);
    assert_null(buf);
    assert_int_equal(len, 99);
    if (!strstr(err, want)) fail_msg("'%s': got '%s', want '%s'", path, err, want);
    assert_non_null(strstr(err, path));
}

static void special_files_are_refused_at_once(void **state)
{
    (void)state;
    char fifo[96];
    snprintf(fifo, sizeof fifo, "%s/fifo", g_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    refused(fifo, "config", "not a regular file (a FIFO or pipe)");
    refused("/dev/zero", "policy", "not a regular file (a character device)");
    refused(g_dir, NULL, "not a regular file (a directory)");
    refused("/nonexistent-qtr/x.lua", "config", "cannot open config: No such file");
    refused("/nonexistent-qtr/x.lua", NULL, "cannot open: No such file");
}

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) fputc('a' + (int)(i % 26), f);
    assert_int_equal(fclose(f), 0);
}

static void the_cap_is_exact(void **state)
{
    (void)state;
    char path[96], err[256] = "";
    snprintf(path, sizeof path, "%s/f", g_dir);
    write_file(path, 4096);
    size_t len = 0;
    char *buf = qh_file_read_whole(path, "policy", 4096, &len, err, sizeof err);
    assert_non_null(buf);
    assert_int_equal(len, 4096);
    assert_int_equal(buf[4096], '\0');
    assert_int_equal(buf[25], 'z');
    free(buf);

    write_file(path, 4097);
    assert_null(qh_file_read_whole(path, "policy", 4096, &len, err, sizeof err));
    assert_non_null(strstr(err, "policy larger than 4096 bytes"));

    write_file(path, 0);
    buf = qh_file_read_whole(path, NULL, 4096, &len, err, sizeof err);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(special_files_are_refused_at_once),
        cmocka_unit_test(the_cap_is_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
