/*
 * The trading clock and its timers. Live (and paper) it is the wall clock and
 * timers run on the libevent loop; in a backtest it is simulated: it moves
 * only when the host advances it to the next candle, firing due timers in
 * time order on the way. Plugins see one API, so they run unchanged in both.
 */
#ifndef QH_CLOCK_H
#define QH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
typedef struct qh_clock qh_clock;
typedef struct qh_timer qh_timer;
typedef void (*qh_timer_fn)(void *ud);

/* base NULL: simulated, starting at start_ms. */
qh_clock *qh_clock_new(struct event_base *base, int64_t start_ms);
void qh_clock_free(qh_clock *c);

int64_t qh_clock_now_ms(const qh_clock *c);
bool qh_clock_simulated(const qh_clock *c);
int64_t qh_mono_ns(void);
int64_t qh_wall_ms(void);

/* Simulated clocks only: move to to_ms (never backwards), firing due timers. */
void qh_clock_advance(qh_clock *c, int64_t to_ms);

/* interval 0 fires at the next advance (or loop turn). owner tags the timer
 * so every timer of an unloaded plugin can be stopped at once. */
qh_timer *qh_timer_start(qh_clock *c, int64_t interval_ms, bool repeat, qh_timer_fn fn, void *ud, void *owner);
/* Safe from inside the timer's own callback. */
void qh_timer_stop(qh_timer *t);
void qh_timer_stop_owner(qh_clock *c, void *owner);
/* For handles from plugins: stops t only if it is a live timer of owner.
 * A stale handle (a one-shot timer that fired, a timer already stopped or
 * freed with its plugin) is ignored instead of touching freed memory. */
void qh_timer_stop_checked(qh_clock *c, qh_timer *t, void *owner);

#endif
