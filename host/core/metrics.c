/* metrics.c — see metrics.h. */
#include "core/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qh_metric {
    char name[64];
    char help[128];
    char label_name[32];
    char label_value[96];
    bool gauge;
    int64_t count;
    double value;
};

struct qh_metrics {
    qh_metric **items;
    size_t len, cap;
};

qh_metrics *qh_metrics_new(void) { return calloc(1, sizeof(qh_metrics)); }

void qh_metrics_free(qh_metrics *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->len; i++) free(m->items[i]);
    free(m->items);
    free(m);
}

static bool valid_name(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) >= max) return false;
    if (!((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

static qh_metric *get(qh_metrics *m, const char *name, const char *help, const char *ln, const char *lv, bool gauge)
{
    if (!valid_name(name, sizeof ((qh_metric *)0)->name)) return NULL;
    if (ln && !valid_name(ln, sizeof ((qh_metric *)0)->label_name)) return NULL;
    const char *lvs = (ln && lv) ? lv : "";
    for (size_t i = 0; i < m->len; i++) {
        qh_metric *x = m->items[i];
        if (strcmp(x->name, name) != 0) continue;
        if (x->gauge != gauge) return NULL;
        if (strcmp(x->label_name, ln ? ln : "") == 0 && strcmp(x->label_value, lvs) == 0) return x;
    }
    if (m->len == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 32;
        qh_metric **n = realloc(m->items, ncap * sizeof *n);
        if (!n) return NULL;
        m->items = n;
        m->cap = ncap;
    }
    qh_metric *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    qtr_strlcpy(x->name, name, sizeof x->name);
    qtr_strlcpy(x->help, help ? help : name, sizeof x->help);
    qtr_strlcpy(x->label_name, ln ? ln : "", sizeof x->label_name);
    qtr_strlcpy(x->label_value, lvs, sizeof x->label_value);
    x->gauge = gauge;
    m->items[m->len++] = x;
    return x;
}

qh_metric *qh_metrics_counter(qh_metrics *m, const char *name, const char *help, const char *ln, const char *lv)
{
    return get(m, name, help, ln, lv, false);
}

qh_metric *qh_metrics_gauge(qh_metrics *m, const char *name, const char *help, const char *ln, const char *lv)
{
    return get(m, name, help, ln, lv, true);
}

void qh_metric_add(qh_metric *x, int64_t d) { if (x && !x->gauge && d > 0) x->count += d; }
void qh_metric_set(qh_metric *x, double v) { if (x && x->gauge) x->value = v; }
int64_t qh_metric_count(const qh_metric *x) { return x ? x->count : 0; }
double qh_metric_value(const qh_metric *x) { return x ? x->value : 0; }

/* Label values and help text escaped as the exposition format asks. */
static void escape(char *out, size_t cap, const char *s, bool quote)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (*s == '\\') { out[n++] = '\\'; out[n++] = '\\'; }
        else if (*s == '\n') { out[n++] = '\\'; out[n++] = 'n'; }
        else if (quote && *s == '"') { out[n++] = '\\'; out[n++] = '"'; }
        else out[n++] = *s;
    }
    out[n] = '\0';
}

void qh_metrics_write(const qh_metrics *m, qtr_write_cb write, void *ud)
{
    char line[512], esc[256];
    bool *done = calloc(m->len ? m->len : 1, sizeof *done);
    if (!done) return;
    for (size_t i = 0; i < m->len; i++) {
        if (done[i]) continue;
        const qh_metric *f = m->items[i];
        escape(esc, sizeof esc, f->help, false);
        int n = snprintf(line, sizeof line, "# HELP qtr_%s %s\n# TYPE qtr_%s %s\n", f->name, esc, f->name,
                         f->gauge ? "gauge" : "counter");
        write(ud, line, (size_t)n);
        for (size_t j = i; j < m->len; j++) {
            const qh_metric *x = m->items[j];
            if (done[j] || strcmp(x->name, f->name) != 0) continue;
            done[j] = true;
            char val[64];
            if (x->gauge) {
                if (isnan(x->value)) snprintf(val, sizeof val, "NaN");
                else if (isinf(x->value)) snprintf(val, sizeof val, x->value > 0 ? "+Inf" : "-Inf");
                else snprintf(val, sizeof val, "%.17g", x->value);
            } else {
                snprintf(val, sizeof val, "%lld", (long long)x->count);
            }
            if (x->label_name[0]) {
                escape(esc, sizeof esc, x->label_value, true);
                n = snprintf(line, sizeof line, "qtr_%s{%s=\"%s\"} %s\n", x->name, x->label_name, esc, val);
            } else {
                n = snprintf(line, sizeof line, "qtr_%s %s\n", x->name, val);
            }
            write(ud, line, (size_t)n);
        }
    }
    free(done);
}
