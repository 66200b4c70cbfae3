/* report_exposure.c — see report_exposure.h. A running integral G of 1/E dt
 * lets each symbol add value x (G(b) - G(a)) only when its own value
 * changes: nothing walks every symbol on an account update. */
#include "report/report_exposure.h"

#include <string.h>

#include "portfolio/dec_mul.h"

void qh_exposure_init(qh_exposure *x, qtr_dec start_equity)
{
    memset(x, 0, sizeof *x);
    x->equity = start_equity;
    x->undefined = start_equity <= 0;
}

void qh_exposure_start(qh_exposure *x, int64_t t)
{
    if (x->started) return;
    x->started = true;
    x->t = t;
}

/* G and the equity integral carried to t (never backwards). */
static void advance(qh_exposure *x, int64_t t)
{
    if (!x->started || t <= x->t) return;
    int64_t dt = t - x->t;
    if (x->equity > 0) {
        double e = qtr_dec_to_display_double(x->equity), share = qtr_dec_to_display_double(x->gross) / e;
        x->g += (double)dt / e;
        if (share > x->max_share) x->max_share = share;   /* this state held for dt */
    }
    x->equity_ms += (__int128)x->equity * dt;
    x->t = t;
}

bool qh_exposure_value(qtr_dec qty, qtr_dec price, qtr_dec *out)
{
    /* every candle of an open position: portfolio/dec_mul.h's divq, not __divmodti4 */
    return qh_dec_mul_half_even(qtr_dec_abs(qty), qtr_dec_abs(price), out);
}

bool qh_exposure_set(qh_exposure *x, qh_exposure_sym *s, qtr_dec value, int64_t t)
{
    if (value == s->value) return true;
    qtr_dec gross;
    if (!qh_dec_add(x->gross, value - s->value, &gross)) return false;
    advance(x, t);
    s->integral += qtr_dec_to_display_double(s->value) * (x->g - s->g_at);
    s->g_at = x->g;
    s->value = value;
    x->gross = gross;
    return true;
}

bool qh_exposure_on_account(qh_exposure *x, qtr_dec equity, int64_t t)
{
    advance(x, t);
    x->equity = equity;
    if (equity <= 0) {
        x->undefined = true;
        return true;
    }
    return true;
}

bool qh_exposure_on_fill(qh_exposure *x, qh_exposure_sym *s, qtr_dec qty, qtr_dec price)
{
    qtr_dec notional;
    qtr_dec sym = s->traded, all = x->traded;
    if (!qh_exposure_value(qty, price, &notional) || !qtr_dec_add(sym, notional, &sym) ||
        !qtr_dec_add(all, notional, &all))
        return false;
    s->traded = sym;
    x->traded = all;
    return true;
}

/* n / d, HALF_EVEN, for d > 0. */
static __int128 div_half_even(__int128 n, __int128 d)
{
    __int128 q = n / d, r = n % d;
    if (r < 0) r = -r;
    if (2 * r > d || (2 * r == d && (q & 1))) q += n < 0 ? -1 : 1;
    return q;
}

void qh_exposure_figures_get(const qh_exposure *x, const qh_exposure_sym *s, int64_t end, int64_t span,
                             qh_exposure_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!x->started || span <= 0) return;
    qh_exposure c = *x;   /* carried to the end on a copy: the report keeps counting */
    advance(&c, end);
    __int128 avg = div_half_even(c.equity_ms, span);
    out->avg_equity = avg > INT64_MAX ? INT64_MAX : avg < INT64_MIN ? INT64_MIN : (qtr_dec)avg;
    out->traded = s ? s->traded : x->traded;
    double avg_eq = qtr_dec_to_display_double(out->avg_equity);
    if (avg_eq > 0) out->turnover = qtr_dec_to_display_double(out->traded) / avg_eq;
    if (x->undefined) return;
    out->max_exposure = s ? 0.0 : c.max_share;
    if (s) {
        out->avg_exposure = (s->integral + qtr_dec_to_display_double(s->value) * (c.g - s->g_at)) / (double)span;
    }
    /* the total: the sum of every symbol's share, filled in by the caller */
}
