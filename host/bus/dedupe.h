/*
 * The consumer's dedupe window: an event already handled (a replay after an
 * outage, an entry claimed from a dead consumer, a duplicate delivery) is
 * recognised by (host_id, seq) and dropped, so a replay never doubles an
 * order.
 *
 * Per source host: the highest sequence seen and a bitmap of the `window`
 * numbers below it. A number inside the window is new once; a number below
 * the window is refused as too old to tell (counted apart: it means a replay
 * older than the window, which the operator must see).
 */
#ifndef QH_BUS_DEDUPE_H
#define QH_BUS_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qh_dedupe qh_dedupe;

typedef enum qh_dedupe_verdict {
    QH_DEDUPE_NEW = 0,
    QH_DEDUPE_DUPLICATE,     /* seen already */
    QH_DEDUPE_TOO_OLD,       /* below the window: cannot tell, refused */
    QH_DEDUPE_NO_ROOM        /* too many source hosts: refused */
} qh_dedupe_verdict;

/* window: numbers remembered per host (rounded up to a multiple of 64);
 * max_hosts: distinct sources. NULL if out of memory. */
qh_dedupe *qh_dedupe_new(size_t window, size_t max_hosts);
void qh_dedupe_free(qh_dedupe *d);

/* Is (host, seq) new? If so it is remembered. seq 0 is never valid. */
qh_dedupe_verdict qh_dedupe_admit(qh_dedupe *d, const char *host_id, uint64_t seq);
/* Only asks; remembers nothing. A host not yet known when max_hosts are
 * known already is QH_DEDUPE_NO_ROOM here too. */
qh_dedupe_verdict qh_dedupe_check(qh_dedupe *d, const char *host_id, uint64_t seq);

#endif
