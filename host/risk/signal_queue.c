/* signal_queue.c — see signal_queue.h. One array of `capacity` slots,
 * unordered; with ~100 slots a linear scan for the best or worst beats any
 * heap bookkeeping, and nothing is allocated after qh_sigq_new(). */
#include "risk/signal_queue.h"

#include <qtr/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    qtr_signal sig;
    uint64_t seq;       /* arrival order: breaks ties of equal time_ms */
} slot;

struct qh_sigq {
    qh_sigq_config cfg;
    slot *slots;        /* slots[0..depth) are live */
    size_t depth;
    uint64_t next_seq;
    qh_sigq_stats stats;
};

qh_sigq_config qh_sigq_default_config(void)
{
    qh_sigq_config c = { .capacity = 100, .per_cycle = 10, .max_age_ms = 5000, .cycle_ms = 100 };
    return c;
}

int qh_sigq_config_check(const qh_sigq_config *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!cfg) why = "no config";
    else if (cfg->capacity == 0 || cfg->capacity > QH_SIGQ_MAX_CAPACITY) why = "capacity must be 1..1000000";
    else if (cfg->per_cycle == 0) why = "per_cycle must be > 0";
    else if (cfg->max_age_ms <= 0) why = "max_age_ms must be > 0";
    else if (cfg->cycle_ms <= 0) why = "cycle_ms must be > 0";
    if (!why) return 0;
    if (err && errlen) snprintf(err, errlen, "signal queue: %s", why);
    return -1;
}

qh_sigq *qh_sigq_new(const qh_sigq_config *cfg)
{
    qh_sigq_config c = cfg ? *cfg : qh_sigq_default_config();
    if (qh_sigq_config_check(&c, NULL, 0) != 0) return NULL;
    qh_sigq *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->slots = calloc(c.capacity, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return NULL;
    }
    q->cfg = c;
    return q;
}

void qh_sigq_free(qh_sigq *q)
{
    if (!q) return;
    free(q->slots);
    free(q);
}

const char *qh_sigq_invalid_field(const qtr_signal *s)
{
    if (!s) return "signal";
    if (!s->symbol[0] || !memchr(s->symbol, '\0', sizeof s->symbol)) return "symbol";
    if (isnan(s->confidence) || s->confidence < 0.0 || s->confidence > 1.0) return "confidence";
    if (s->qty <= 0) return "qty";
    if (s->side != QTR_SIDE_BUY && s->side != QTR_SIDE_SELL) return "side";
    if (s->type != QTR_ORDER_MARKET && s->type != QTR_ORDER_LIMIT) return "type";
    if (s->tif != QTR_TIF_GTC && s->tif != QTR_TIF_IOC && s->tif != QTR_TIF_FOK && s->tif != QTR_TIF_GTX)
        return "tif";
    if (s->type == QTR_ORDER_LIMIT ? s->price <= 0 : s->price < 0) return "price";
    return NULL;
}

/* True if a should be taken before b: higher confidence, then older. */
static bool better(const slot *a, const slot *b)
{
    if (a->sig.confidence != b->sig.confidence) return a->sig.confidence > b->sig.confidence;
    if (a->sig.time_ms != b->sig.time_ms) return a->sig.time_ms < b->sig.time_ms;
    return a->seq < b->seq;
}

/* The one that would be taken last is the one a better newcomer evicts. */
static size_t worst_index(const qh_sigq *q)
{
    size_t w = 0;
    for (size_t i = 1; i < q->depth; i++)
        if (better(&q->slots[w], &q->slots[i])) w = i;
    return w;
}

static void remove_at(qh_sigq *q, size_t i)
{
    q->slots[i] = q->slots[--q->depth];
}

int qh_sigq_push(qh_sigq *q, const qtr_signal *s, qtr_signal *evicted, bool *did_evict)
{
    if (did_evict) *did_evict = false;
    if (!q) return QTR_EINVAL;
    if (qh_sigq_invalid_field(s)) {
        q->stats.dropped[QH_SIGQ_DROP_INVALID]++;
        return QTR_EINVAL;
    }
    slot incoming = { .sig = *s, .seq = q->next_seq };
    size_t at = q->depth;
    if (q->depth == q->cfg.capacity) {
        size_t w = worst_index(q);
        /* Strictly higher confidence only: an equal one does not displace. */
        if (!(s->confidence > q->slots[w].sig.confidence)) {
            q->stats.dropped[QH_SIGQ_DROP_FULL]++;
            return QTR_EFULL;
        }
        if (evicted) *evicted = q->slots[w].sig;
        if (did_evict) *did_evict = true;
        q->stats.dropped[QH_SIGQ_DROP_REPLACED]++;
        at = w;
    } else {
        q->depth++;
    }
    q->slots[at] = incoming;
    q->next_seq++;
    q->stats.pushed++;
    return QTR_OK;
}

static bool is_stale(const qh_sigq *q, const qtr_signal *s, int64_t now_ms)
{
    /* time_ms + max_age_ms < now, without overflowing */
    return s->time_ms < now_ms && now_ms - s->time_ms > q->cfg.max_age_ms;
}

size_t qh_sigq_take(qh_sigq *q, int64_t now_ms, qtr_signal *out, size_t cap,
                    void (*on_stale)(void *ud, const qtr_signal *s), void *ud)
{
    if (!q) return 0;
    for (size_t i = 0; i < q->depth;) {
        if (is_stale(q, &q->slots[i].sig, now_ms)) {
            qtr_signal gone = q->slots[i].sig;
            remove_at(q, i);
            q->stats.dropped[QH_SIGQ_DROP_STALE]++;
            if (on_stale) on_stale(ud, &gone);
        } else {
            i++;
        }
    }
    if (!out) return 0;
    size_t want = cap < q->cfg.per_cycle ? cap : q->cfg.per_cycle, n = 0;
    for (; n < want && q->depth > 0; n++) {
        size_t best = 0;
        for (size_t i = 1; i < q->depth; i++)
            if (better(&q->slots[i], &q->slots[best])) best = i;
        out[n] = q->slots[best].sig;
        remove_at(q, best);
    }
    q->stats.taken += n;
    return n;
}

size_t qh_sigq_depth(const qh_sigq *q) { return q ? q->depth : 0; }

void qh_sigq_stats_get(const qh_sigq *q, qh_sigq_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!q) return;
    *out = q->stats;
    out->depth = q->depth;
}

const char *qh_sigq_drop_name(qh_sigq_drop reason)
{
    switch (reason) {
    case QH_SIGQ_DROP_FULL: return "full";
    case QH_SIGQ_DROP_REPLACED: return "replaced";
    case QH_SIGQ_DROP_STALE: return "stale";
    case QH_SIGQ_DROP_INVALID: return "invalid";
    case QH_SIGQ_DROP__COUNT: break;
    }
    return "unknown";
}

const qh_sigq_config *qh_sigq_config_get(const qh_sigq *q) { return q ? &q->cfg : NULL; }
