/* core/log: an entry is one line whatever text it quotes. A policy's
 * print, an operator's reason or an exchange's message with a newline, a
 * carriage return or a terminal escape could forge a log line or drive the
 * terminal; in the text format those bytes are written out (\n, \r, \xNN),
 * tab stays; the JSON format escapes them as JSON does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* What one qh_log call writes, with its timestamp cut off. */
static char *logged(bool json, const char *msg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    qh_log_init(f, QH_LOG_INFO, json);
    qh_log(QH_LOG_WARN, "dashboard", "reason %s", msg);
    fclose(f);
    qh_log_init(NULL, QH_LOG_INFO, false);
    char *from = json ? strstr(buf, "\"level\"") : strstr(buf, " WARN ");
    assert_non_null(from);
    char *out = strdup(from);
    free(buf);
    return out;
}

static void text_entry_is_one_line(void **state)
{
    (void)state;
    char *s = logged(false, "a\nFAKE ERROR [ess] forged\r\x1b[31mred\tb\x7f");
    assert_string_equal(s, " WARN  [dashboard] reason a\\nFAKE ERROR [ess] forged\\r\\x1b[31mred\tb\\x7f\n");
    free(s);
    s = logged(false, "plain text, UTF-8 \xc3\xa9 kept");
    assert_string_equal(s, " WARN  [dashboard] reason plain text, UTF-8 \xc3\xa9 kept\n");
    free(s);
}

static void json_entry_escapes(void **state)
{
    (void)state;
    char *s = logged(true, "a\nb\x1b");
    assert_string_equal(s, "\"level\":\"warn\",\"component\":\"dashboard\",\"msg\":\"reason a\\nb\\u001b\"}\n");
    free(s);
}

/* A message longer than the line keeps its newline at the end: the next
 * entry starts on a line of its own. */
static void long_entry_ends_its_line(void **state)
{
    (void)state;
    char big[3000];
    memset(big, '\n', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *s = logged(false, big);
    size_t n = strlen(s);
    assert_true(n > 1000);
    assert_int_equal(s[n - 1], '\n');
    assert_ptr_equal(strchr(s, '\n'), s + n - 1);   /* the only newline: the last byte */
    free(s);
}

/* Each level qh_log writes reads back as that level; what it did not write
 * (a plain error message, a JSON line, a forged level in a message) does not. */
static void a_written_line_reads_back_its_level(void **state)
{
    (void)state;
    for (int want = QH_LOG_DEBUG; want <= QH_LOG_ERROR; want++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        qh_log_init(f, QH_LOG_DEBUG, false);
        qh_log((qh_log_level)want, "paper", "no symbols_file");
        fclose(f);
        qh_log_init(NULL, QH_LOG_INFO, false);
        qh_log_level got = (qh_log_level)-1;
        assert_true(qh_log_line_level(buf, &got));
        assert_int_equal(got, want);
        free(buf);
    }
    qh_log_level got;
    assert_false(qh_log_line_level("qtr backtest: XRPUSDT.csv:3: column 'open': not a decimal", &got));
    assert_false(qh_log_line_level("{\"ts\":\"2026-12-04T10:00:00.000Z\",\"level\":\"warn\"}", &got));
    assert_false(qh_log_line_level("2026-12-04T10:00:00.000Z WARNING [x] not a level word", &got));
    assert_false(qh_log_line_level("exit 2: WARN  [paper] a level, but no time first", &got));
    assert_false(qh_log_line_level("", &got));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_entry_is_one_line),
        cmocka_unit_test(json_entry_escapes),
        cmocka_unit_test(long_entry_ends_its_line),
        cmocka_unit_test(a_written_line_reads_back_its_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
