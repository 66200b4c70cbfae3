/* dedupe.c — see dedupe.h. */
#include "bus/dedupe.h"

#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct source {
    char host[QTR_NAME_MAX + 1];
    uint64_t max;          /* highest seq seen; 0 none */
    uint64_t *bits;        /* bit (seq % window) set: seq seen */
} source;

struct qh_dedupe {
    size_t window, words;
    source *src;
    size_t n, cap;
};

qh_dedupe *qh_dedupe_new(size_t window, size_t max_hosts)
{
    qh_dedupe *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->words = (window + 63) / 64;
    if (d->words == 0) d->words = 1;
    d->window = d->words * 64;
    d->cap = max_hosts ? max_hosts : 1;
    d->src = calloc(d->cap, sizeof *d->src);
    if (!d->src) { free(d); return NULL; }
    return d;
}

void qh_dedupe_free(qh_dedupe *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free(d->src[i].bits);
    free(d->src);
    free(d);
}

static source *find(qh_dedupe *d, const char *host, bool create)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->src[i].host, host) == 0) return &d->src[i];
    if (!create || d->n == d->cap) return NULL;
    source *s = &d->src[d->n];
    s->bits = calloc(d->words, sizeof *s->bits);
    if (!s->bits) return NULL;
    qtr_strlcpy(s->host, host, sizeof s->host);
    s->max = 0;
    d->n++;
    return s;
}

static bool bit_get(const source *s, size_t window, uint64_t seq)
{
    uint64_t i = seq % window;
    return (s->bits[i / 64] >> (i % 64)) & 1u;
}
static void bit_put(source *s, size_t window, uint64_t seq, bool on)
{
    uint64_t i = seq % window;
    if (on) s->bits[i / 64] |= UINT64_C(1) << (i % 64);
    else s->bits[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

static qh_dedupe_verdict judge(qh_dedupe *d, const char *host, uint64_t seq, bool remember)
{
    if (seq == 0 || !host) return QH_DEDUPE_TOO_OLD;
    source *s = find(d, host, remember);
    /* a host that could not be remembered is refused when asked too: acted
     * on, a second delivery of it would look new again */
    if (!s) return remember || d->n == d->cap ? QH_DEDUPE_NO_ROOM : QH_DEDUPE_NEW;
    if (seq > s->max) {
        if (!remember) return QH_DEDUPE_NEW;
        /* the numbers between the old max and seq leave the window's memory */
        if (seq - s->max >= d->window) memset(s->bits, 0, d->words * sizeof *s->bits);
        else
            for (uint64_t q = s->max + 1; q < seq; q++) bit_put(s, d->window, q, false);
        bit_put(s, d->window, seq, true);
        s->max = seq;
        return QH_DEDUPE_NEW;
    }
    if (s->max - seq >= d->window) return QH_DEDUPE_TOO_OLD;
    if (bit_get(s, d->window, seq)) return QH_DEDUPE_DUPLICATE;
    if (remember) bit_put(s, d->window, seq, true);
    return QH_DEDUPE_NEW;
}

qh_dedupe_verdict qh_dedupe_admit(qh_dedupe *d, const char *host_id, uint64_t seq)
{
    return judge(d, host_id, seq, true);
}

qh_dedupe_verdict qh_dedupe_check(qh_dedupe *d, const char *host_id, uint64_t seq)
{
    return judge(d, host_id, seq, false);
}
