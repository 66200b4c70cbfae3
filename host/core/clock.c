/* clock.c — see clock.h. */
#include "core/clock.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

struct qh_timer {
    qh_timer *next;
    qh_clock *clock;
    int64_t interval_ms, due_ms;
    bool repeat, dead;
    qh_timer_fn fn;
    void *ud, *owner;
    struct event *ev;       /* live clocks */
};

struct qh_clock {
    struct event_base *base;
    int64_t sim_now_ms;
    int64_t next_due_ms;    /* earliest due simulated timer: skip work until then */
    qh_timer *timers;
    int firing;             /* > 0 while callbacks run: defer frees */
};

int64_t qh_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t qh_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

qh_clock *qh_clock_new(struct event_base *base, int64_t start_ms)
{
    qh_clock *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base = base;
    c->sim_now_ms = start_ms;
    c->next_due_ms = INT64_MAX;
    return c;
}

static void sweep(qh_clock *c)
{
    if (c->firing) return;
    qh_timer **pp = &c->timers;
    while (*pp) {
        qh_timer *t = *pp;
        if (t->dead) {
            *pp = t->next;
            if (t->ev) event_free(t->ev);
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

void qh_clock_free(qh_clock *c)
{
    if (!c) return;
    for (qh_timer *t = c->timers; t; t = t->next) t->dead = true;
    c->firing = 0;
    sweep(c);
    free(c);
}

int64_t qh_clock_now_ms(const qh_clock *c) { return c->base ? qh_wall_ms() : c->sim_now_ms; }
bool qh_clock_simulated(const qh_clock *c) { return c->base == NULL; }

static void recompute_next_due(qh_clock *c)
{
    int64_t next = INT64_MAX;
    for (qh_timer *t = c->timers; t; t = t->next)
        if (!t->dead && t->due_ms < next) next = t->due_ms;
    c->next_due_ms = next;
}

void qh_clock_advance(qh_clock *c, int64_t to_ms)
{
    if (c->base || to_ms < c->sim_now_ms) return;
    while (c->next_due_ms <= to_ms) {
        /* earliest due timer; ties in creation order (list is newest first, so take the last) */
        qh_timer *pick = NULL;
        for (qh_timer *t = c->timers; t; t = t->next)
            if (!t->dead && t->due_ms <= to_ms && (!pick || t->due_ms <= pick->due_ms)) pick = t;
        if (!pick) break;
        c->sim_now_ms = pick->due_ms;
        if (pick->repeat) pick->due_ms += pick->interval_ms > 0 ? pick->interval_ms : 1;
        else pick->dead = true;
        c->firing++;
        pick->fn(pick->ud);
        c->firing--;
        recompute_next_due(c);
    }
    c->sim_now_ms = to_ms;
    sweep(c);
}

static void on_live_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    qh_timer *t = arg;
    if (t->dead) return;
    if (!t->repeat) t->dead = true;
    t->clock->firing++;
    t->fn(t->ud);
    t->clock->firing--;
    sweep(t->clock);
}

qh_timer *qh_timer_start(qh_clock *c, int64_t interval_ms, bool repeat, qh_timer_fn fn, void *ud, void *owner)
{
    if (!fn || interval_ms < 0) return NULL;
    qh_timer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->clock = c;
    t->interval_ms = interval_ms;
    t->repeat = repeat;
    t->fn = fn;
    t->ud = ud;
    t->owner = owner;
    if (c->base) {
        t->ev = event_new(c->base, -1, repeat ? EV_PERSIST : 0, on_live_timer, t);
        struct timeval tv = { (time_t)(interval_ms / 1000), (suseconds_t)((interval_ms % 1000) * 1000) };
        if (!t->ev || event_add(t->ev, &tv) != 0) {
            if (t->ev) event_free(t->ev);
            free(t);
            return NULL;
        }
    } else {
        t->due_ms = c->sim_now_ms + interval_ms;
        if (t->due_ms < c->next_due_ms) c->next_due_ms = t->due_ms;
    }
    t->next = c->timers;
    c->timers = t;
    return t;
}

void qh_timer_stop(qh_timer *t)
{
    if (!t || t->dead) return;
    t->dead = true;
    if (t->ev) event_del(t->ev);
    if (!t->clock->base) recompute_next_due(t->clock);
    sweep(t->clock);
}

void qh_timer_stop_checked(qh_clock *c, qh_timer *t, void *owner)
{
    for (qh_timer *x = c->timers; x; x = x->next)
        if (x == t && x->owner == owner && !x->dead) {
            qh_timer_stop(x);
            return;
        }
}

void qh_timer_stop_owner(qh_clock *c, void *owner)
{
    for (qh_timer *t = c->timers; t; t = t->next)
        if (t->owner == owner && !t->dead) {
            t->dead = true;
            if (t->ev) event_del(t->ev);
        }
    if (!c->base) recompute_next_due(c);
    sweep(c);
}
