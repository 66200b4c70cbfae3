/*
 * Metrics registry: counters and gauges, each with at most one label, written
 * in the Prometheus text exposition format as qtr_<name>{label="value"}.
 * Families (same name) are written together with one HELP and TYPE line.
 */
#ifndef QH_METRICS_H
#define QH_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_metrics qh_metrics;
typedef struct qh_metric qh_metric;

qh_metrics *qh_metrics_new(void);
void qh_metrics_free(qh_metrics *m);

/* Returns the existing series when name and label match. NULL if the name
 * is not [a-z_][a-z0-9_]* or is already registered with the other type. */
qh_metric *qh_metrics_counter(qh_metrics *m, const char *name, const char *help,
                              const char *label_name, const char *label_value);
qh_metric *qh_metrics_gauge(qh_metrics *m, const char *name, const char *help,
                            const char *label_name, const char *label_value);
void qh_metric_add(qh_metric *metric, int64_t delta);
void qh_metric_set(qh_metric *metric, double value);
int64_t qh_metric_count(const qh_metric *metric);
double qh_metric_value(const qh_metric *metric);

/* Writes every family; write() may be called many times. */
void qh_metrics_write(const qh_metrics *m, qtr_write_cb write, void *ud);

#endif
