/* window.c — rings and monotonic deques of a fixed size (see window.h). */
#include "window.h"

#include <stdlib.h>

bool qtr_ind__period_ok(int period, int min) { return period >= min && period <= QTR_IND_PERIOD_MAX; }

bool qtr_ind__ring_init(qtr_ind_ring *r, int cap)
{
    r->v = calloc((size_t)cap, sizeof *r->v);
    r->cap = cap;
    r->len = r->head = 0;
    return r->v != NULL;
}

void qtr_ind__ring_free(qtr_ind_ring *r)
{
    free(r->v);
    r->v = NULL;
    r->len = r->head = 0;
}

bool qtr_ind__dring_init(qtr_ind_dring *r, int cap)
{
    r->v = calloc((size_t)cap, sizeof *r->v);
    r->cap = cap;
    r->len = r->head = r->since_resum = 0;
    r->sum = 0;
    return r->v != NULL;
}

void qtr_ind__dring_free(qtr_ind_dring *r)
{
    free(r->v);
    r->v = NULL;
    r->len = r->head = 0;
}

void qtr_ind__dring_push(qtr_ind_dring *r, double x)
{
    if (r->len == r->cap) r->sum -= r->v[r->head];
    else r->len++;
    r->v[r->head] = x;
    r->sum += x;
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    /* A running double sum gathers rounding; a fresh one every cap values
     * bounds it to that of one window (O(cap) once per cap values). */
    if (++r->since_resum >= r->cap) {
        double s = 0;
        for (int i = 0; i < r->len; i++) s += r->v[i];
        r->sum = s;
        r->since_resum = 0;
    }
}

bool qtr_ind__extreme_init(qtr_ind_extreme *e, int period, bool is_max)
{
    e->val = calloc((size_t)period, sizeof *e->val);
    e->seq = calloc((size_t)period, sizeof *e->seq);
    e->cap = period;
    e->head = e->len = 0;
    e->n = 0;
    e->is_max = is_max;
    if (!e->val || !e->seq) {
        qtr_ind__extreme_free(e);
        return false;
    }
    return true;
}

void qtr_ind__extreme_free(qtr_ind_extreme *e)
{
    free(e->val);
    free(e->seq);
    e->val = NULL;
    e->seq = NULL;
    e->len = 0;
}

/* The deque holds, oldest first, the values that can still become the
 * extreme: each is strictly better than every later one. */
void qtr_ind__extreme_push(qtr_ind_extreme *e, qtr_dec x)
{
    int64_t seq = e->n++;
    if (e->len > 0 && e->seq[e->head] <= seq - e->cap) {   /* the oldest left the window */
        e->head = e->head + 1 == e->cap ? 0 : e->head + 1;
        e->len--;
    }
    while (e->len > 0) {
        int back = (e->head + e->len - 1) % e->cap;
        bool dominated = e->is_max ? e->val[back] <= x : e->val[back] >= x;
        if (!dominated) break;
        e->len--;
    }
    int at = (e->head + e->len) % e->cap;
    e->val[at] = x;
    e->seq[at] = seq;
    e->len++;
}
