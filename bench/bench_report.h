/* bench_report.h — what every benchmark prints beside its figures: the load
 * average (a busy machine must show), and sorting for medians and spreads. */
#ifndef QTR_BENCH_REPORT_H
#define QTR_BENCH_REPORT_H

#include <stdio.h>
#include <string.h>

/* qsort comparator for doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "  load average <when>: <the line of /proc/loadavg>" */
static inline void bench_print_load(const char *when)
{
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128] = "?";
    if (f && fgets(line, sizeof line, f)) line[strcspn(line, "\n")] = '\0';
    if (f) fclose(f);
    printf("  load average %s: %s\n", when, line);
}

#endif
