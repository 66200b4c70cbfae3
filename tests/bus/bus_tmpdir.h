/* bus_tmpdir.h — one fresh folder under /tmp for a bus test. */
#ifndef QTR_TEST_BUS_TMPDIR_H
#define QTR_TEST_BUS_TMPDIR_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "/tmp/qtr-<name>-" and six 'X' that mkdtemp replaces; the folder's path
 * in dir. 0, or -1 when it cannot be made (or does not fit). */
static inline int bus_tmpdir(char *dir, size_t cap, const char *name)
{
    int n = snprintf(dir, cap, "/tmp/qtr-%s-", name);
    if (n < 0 || (size_t)n + 7 > cap) return -1;
    memset(dir + n, 'X', 6);
    dir[n + 6] = '\0';
    return mkdtemp(dir) ? 0 : -1;
}
#endif
