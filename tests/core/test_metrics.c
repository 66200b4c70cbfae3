/* The metrics registry and its Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/metrics.h"

typedef struct buf { char text[4096]; size_t len; } buf;
static void sink(void *ud, const char *t, size_t n)
{
    buf *b = ud;
    if (b->len + n < sizeof b->text) { memcpy(b->text + b->len, t, n); b->len += n; b->text[b->len] = 0; }
}

static void counters_gauges_labels(void **s)
{
    (void)s;
    qh_metrics *m = qh_metrics_new();
    qh_metric *a = qh_metrics_counter(m, "orders_total", "Orders", "result", "sent");
    qh_metric *b = qh_metrics_counter(m, "orders_total", "Orders", "result", "rejected");
    assert_ptr_equal(a, qh_metrics_counter(m, "orders_total", "Orders", "result", "sent"));
    qh_metric_add(a, 3);
    qh_metric_add(b, 1);
    qh_metric_add(a, -5);   /* counters never go down */
    assert_int_equal(qh_metric_count(a), 3);
    qh_metric *g = qh_metrics_gauge(m, "equity", "Equity \"quoted\"\nline", NULL, NULL);
    qh_metric_set(g, 1234.5);
    assert_null(qh_metrics_gauge(m, "orders_total", "x", NULL, NULL));  /* type clash */
    assert_null(qh_metrics_counter(m, "Bad-Name", "x", NULL, NULL));
    assert_null(qh_metrics_counter(m, "ok", "x", "bad label", "v"));
    qh_metric *q = qh_metrics_counter(m, "odd_total", "x", "path", "a\"b\\c");
    qh_metric_add(q, 1);
    buf out = { .len = 0 };
    qh_metrics_write(m, sink, &out);
    assert_non_null(strstr(out.text, "# TYPE qtr_orders_total counter\n"));
    assert_non_null(strstr(out.text, "qtr_orders_total{result=\"sent\"} 3\n"));
    assert_non_null(strstr(out.text, "qtr_orders_total{result=\"rejected\"} 1\n"));
    assert_non_null(strstr(out.text, "# TYPE qtr_equity gauge\n"));
    assert_non_null(strstr(out.text, "qtr_equity 1234.5\n"));
    assert_non_null(strstr(out.text, "# HELP qtr_equity Equity \"quoted\"\\nline\n"));
    assert_non_null(strstr(out.text, "qtr_odd_total{path=\"a\\\"b\\\\c\"} 1\n"));
    /* one HELP per family */
    const char *first = strstr(out.text, "# HELP qtr_orders_total");
    assert_null(strstr(first + 1, "# HELP qtr_orders_total"));
    qh_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(counters_gauges_labels) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
