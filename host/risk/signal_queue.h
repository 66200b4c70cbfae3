/*
 * The bounded signal queue between strategies and the order path.
 *
 * Strategies may emit 30-50 signals a second. The queue holds `capacity`
 * signals (100 by default). When it is full, a new signal replaces the
 * lowest-confidence queued one only if its own confidence is higher;
 * otherwise the new one is dropped. Each cycle takes at most `per_cycle`
 * signals (10), highest confidence first (ties: oldest first), after dropping
 * those older than `max_age_ms`. Every drop is counted by reason. No
 * allocation after qh_sigq_new().
 */
#ifndef QH_SIGNAL_QUEUE_H
#define QH_SIGNAL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>
#include <qtr/plugin.h> /* QTR_OK, QTR_EFULL, QTR_EINVAL */

typedef struct qh_sigq qh_sigq;

typedef struct qh_sigq_config {
    size_t capacity;       /* 100 */
    size_t per_cycle;      /* 10  */
    int64_t max_age_ms;    /* 5000 */
    int64_t cycle_ms;      /* 100: how often the host takes a batch live */
} qh_sigq_config;

typedef enum qh_sigq_drop {
    QH_SIGQ_DROP_FULL = 0,       /* queue full, new one not better       */
    QH_SIGQ_DROP_REPLACED,       /* evicted by a higher-confidence one    */
    QH_SIGQ_DROP_STALE,          /* older than max_age_ms                 */
    QH_SIGQ_DROP_INVALID,        /* bad confidence, qty or side           */
    QH_SIGQ_DROP__COUNT
} qh_sigq_drop;

typedef struct qh_sigq_stats {
    uint64_t pushed, taken;
    uint64_t dropped[QH_SIGQ_DROP__COUNT];
    size_t depth;
} qh_sigq_stats;

qh_sigq *qh_sigq_new(const qh_sigq_config *cfg);
void qh_sigq_free(qh_sigq *q);

/* Queue a signal. QTR_OK if queued (possibly evicting one: then *evicted,
 * if not NULL, receives it and *did_evict is true); QTR_EFULL if dropped
 * because full; QTR_EINVAL if invalid. */
int qh_sigq_push(qh_sigq *q, const qtr_signal *s, qtr_signal *evicted, bool *did_evict);

/* Take up to min(cap, per_cycle) signals, best first, after dropping stale
 * ones (each stale one is passed to on_stale if not NULL). */
size_t qh_sigq_take(qh_sigq *q, int64_t now_ms, qtr_signal *out, size_t cap,
                    void (*on_stale)(void *ud, const qtr_signal *s), void *ud);

void qh_sigq_stats_get(const qh_sigq *q, qh_sigq_stats *out);
/* The signals queued now (0 for no queue): with none, a take does nothing. */
size_t qh_sigq_depth(const qh_sigq *q);
const char *qh_sigq_drop_name(qh_sigq_drop reason);
const qh_sigq_config *qh_sigq_config_get(const qh_sigq *q);

/* Appended. The defaults above (100, 10, 5000, 100). */
qh_sigq_config qh_sigq_default_config(void);
/* 0 if cfg is usable by qh_sigq_new() (every field > 0, capacity at most
 * QH_SIGQ_MAX_CAPACITY); -1 with the field named in err. qh_sigq_new(NULL)
 * uses the defaults; qh_sigq_new() of a bad config returns NULL. */
#define QH_SIGQ_MAX_CAPACITY 1000000
int qh_sigq_config_check(const qh_sigq_config *cfg, char *err, size_t errlen);
/* Why a signal would be refused (NULL if valid): "confidence", "qty", ... */
const char *qh_sigq_invalid_field(const qtr_signal *s);

/* stats: pushed counts signals queued (QTR_OK); those dropped FULL or
 * INVALID never entered. pushed == taken + depth + REPLACED + STALE. */

#endif
