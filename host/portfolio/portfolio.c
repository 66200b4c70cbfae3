/* portfolio.c — see portfolio.h for the semantics and the rounding rules.
 *
 * Every mutating call works on copies (the account figures and one slot),
 * checks each arithmetic step, and commits only when all steps succeeded:
 * that is how "overflow changes nothing" holds. Account totals (unrealized
 * PnL, exposure) are kept incrementally so a mark is O(1).
 */
#include "portfolio/portfolio.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portfolio/dec_mul.h"
#include "portfolio/symbol_index.h"

#define MS_PER_DAY INT64_C(86400000)
#define NO_DAY INT64_MIN

typedef struct pf_slot {
    qtr_position pos;
    qtr_dec notional;          /* |qty| * mark: this symbol's share of exposure */
} pf_slot;

/* Account-wide figures, copied as a whole so an update can be abandoned. */
typedef struct pf_acct {
    qtr_dec wallet, realized, fees, funding;
    qtr_dec unrealized, exposure, equity, peak, drawdown_pct;
    qtr_dec day_start_equity, daily_pnl, daily_drawdown_pct;
    int64_t day;               /* UTC day number of the latest update         */
    int64_t time_ms;           /* time of the latest update                   */
    size_t open;               /* positions with qty != 0                     */
} pf_acct;

struct qh_portfolio {
    qh_symbol_index *ix;
    pf_slot *slots;            /* by dense symbol index: first-seen order     */
    pf_acct acct;
    char error[192];
};

static int fail(qh_portfolio *pf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(qh_portfolio *pf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pf->error, sizeof pf->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* Floor division: days before 1970 stay ordered too. */
static int64_t utc_day(int64_t time_ms)
{
    int64_t d = time_ms / MS_PER_DAY;
    return (time_ms % MS_PER_DAY < 0) ? d - 1 : d;
}

/* utc_day(time_ms) <= day, without the division (every mark asks it):
 * floor(t / D) <= day exactly when t < (day + 1) * D. From the last day
 * an int64 time can have on, every time is in it or before (and the
 * product would overflow). */
static bool no_later_day(int64_t day, int64_t time_ms)
{
    if (day == NO_DAY) return false;
    if (day >= INT64_MAX / MS_PER_DAY) return true;
    return time_ms < (day + 1) * MS_PER_DAY;
}

/* gap * 100 / reference as a decimal percentage, rounded half-even: what
 * qtr_dec_muldiv(gap, QTR_DEC_INT(100), reference, HALF_EVEN) gives, for
 * 0 < gap <= reference. The product needs 128 bits but the quotient is at
 * most 100 (1e10 units), so the product's high half is below reference. */
static qtr_dec pct_of_reference(uint64_t gap, uint64_t reference)
{
    uint64_t r, q = qc_div_128_by_64((qtr__u128)gap * (uint64_t)QTR_DEC_INT(100), reference, &r);
    return (qtr_dec)(q + qc_half_even_away(q, r, reference));
}

/* How far `value` is below `reference`, in percent; 0 when not below or when
 * the reference is not positive (no meaningful percentage). */
static bool pct_below(qtr_dec reference, qtr_dec value, qtr_dec *out)
{
    qtr_dec gap;
    if (reference <= 0 || value >= reference) { *out = 0; return true; }
    if (!qh_dec_sub(reference, value, &gap)) return false;
    if (value >= 0) {                  /* 0 < gap <= reference: at most 100% */
        *out = pct_of_reference((uint64_t)gap, (uint64_t)reference);
        return true;
    }
    return qtr_dec_muldiv(gap, QTR_DEC_INT(100), reference, QTR_ROUND_HALF_EVEN, out);
}

/* A new UTC day starts from the equity as it stood before this update. */
static void roll_day(pf_acct *a, int64_t time_ms)
{
    if (!no_later_day(a->day, time_ms)) {
        a->day_start_equity = a->equity;
        a->day = utc_day(time_ms);
    }
    if (time_ms > a->time_ms) a->time_ms = time_ms;
}

/* Recompute equity and everything derived from it after wallet or
 * unrealized changed. */
static bool settle(pf_acct *a)
{
    if (!qh_dec_add(a->wallet, a->unrealized, &a->equity)) return false;
    if (a->equity > a->peak) a->peak = a->equity;
    if (!pct_below(a->peak, a->equity, &a->drawdown_pct)) return false;
    if (!qh_dec_sub(a->equity, a->day_start_equity, &a->daily_pnl)) return false;
    return pct_below(a->day_start_equity, a->equity, &a->daily_drawdown_pct);
}

/* Value a slot at its mark: unrealized PnL and notional. */
static bool value_at(const qtr_position *p, qtr_dec mark, qtr_dec *unrealized, qtr_dec *notional)
{
    qtr_dec diff;
    if (p->qty == 0) {
        *unrealized = 0;
        *notional = 0;
        return true;
    }
    if (!qh_dec_sub(mark, p->entry_price, &diff)) return false;
    if (!qh_dec_mul_half_even(diff, p->qty, unrealized)) return false;
    return qh_dec_mul_half_even(qtr_dec_abs(p->qty), mark, notional);
}

static bool value_slot(pf_slot *s)
{
    return value_at(&s->pos, s->pos.mark_price, &s->pos.unrealized_pnl, &s->notional);
}

/* Replace a position's unrealized PnL and notional in the account totals. */
static bool swap_values(pf_acct *a, qtr_dec old_unrealized, qtr_dec old_notional, qtr_dec unrealized,
                        qtr_dec notional)
{
    qtr_dec t;
    if (!qh_dec_sub(a->unrealized, old_unrealized, &t)) return false;
    if (!qh_dec_add(t, unrealized, &a->unrealized)) return false;
    if (!qh_dec_sub(a->exposure, old_notional, &t)) return false;
    return qh_dec_add(t, notional, &a->exposure);
}

/* Replace a slot's contribution to the account totals (old -> new). */
static bool swap_contribution(pf_acct *a, const pf_slot *old, const pf_slot *neu)
{
    if (!swap_values(a, old->pos.unrealized_pnl, old->notional, neu->pos.unrealized_pnl, neu->notional))
        return false;
    a->open = a->open - (old->pos.qty != 0) + (neu->pos.qty != 0);
    return true;
}

qh_portfolio *qh_portfolio_new(qtr_dec starting_balance)
{
    qh_portfolio *pf = calloc(1, sizeof *pf);
    if (!pf) return NULL;
    pf->ix = qh_symbol_index_new(QH_PORTFOLIO_MAX_SYMBOLS);
    pf->slots = calloc(QH_PORTFOLIO_MAX_SYMBOLS, sizeof *pf->slots);
    if (!pf->ix || !pf->slots) {
        qh_portfolio_free(pf);
        return NULL;
    }
    pf->acct.wallet = starting_balance;
    pf->acct.equity = starting_balance;
    pf->acct.peak = starting_balance;
    pf->acct.day_start_equity = starting_balance;
    pf->acct.day = NO_DAY;
    pf->acct.time_ms = INT64_MIN;
    return pf;
}

void qh_portfolio_free(qh_portfolio *pf)
{
    if (!pf) return;
    qh_symbol_index_free(pf->ix);
    free(pf->slots);
    free(pf);
}

const char *qh_portfolio_last_error(const qh_portfolio *pf) { return pf->error; }

/* Where an update of `symbol` starts from: its slot, or for a symbol not
 * seen yet a blank one (*ix = -1) that commit_slot() adds only if the
 * update succeeds, so a refused update leaves no trace. -1 (error set) if
 * the name is bad or the table is full. */
static int begin_slot(qh_portfolio *pf, const char *what, const char *symbol, int32_t *ix, pf_slot *out)
{
    if (!qh_symbol_valid(symbol))
        return fail(pf, "%s: symbol must be 1..%d characters", what, QTR_SYMBOL_MAX - 1);
    *ix = qh_symbol_index_find(pf->ix, symbol);
    if (*ix >= 0) {
        *out = pf->slots[*ix];
        return 0;
    }
    if (qh_symbol_index_count(pf->ix) >= QH_PORTFOLIO_MAX_SYMBOLS)
        return fail(pf, "%s %s: more than %d symbols", what, symbol, QH_PORTFOLIO_MAX_SYMBOLS);
    memset(out, 0, sizeof *out);
    qtr_strlcpy(out->pos.symbol, symbol, sizeof out->pos.symbol);
    return 0;
}

/* The slot an update started from (for the account totals). */
static const pf_slot *old_slot(const qh_portfolio *pf, int32_t ix)
{
    static const pf_slot blank;
    return ix >= 0 ? &pf->slots[ix] : &blank;
}

/* Store an updated slot and the account figures that go with it. */
static void commit_slot(qh_portfolio *pf, int32_t ix, const pf_slot *s, const pf_acct *a)
{
    if (ix < 0) ix = qh_symbol_index_intern(pf->ix, s->pos.symbol);   /* room checked by begin_slot */
    pf->slots[ix] = *s;
    pf->acct = *a;
}

/* (q0*e0 + d*p) / q1 with one HALF_EVEN rounding, using the SDK's 128-bit
 * helpers: each product is below 2^126, so the sum fits. Rounding the shift
 * e0 + d*(p-e0)/q1 instead would break HALF_EVEN ties toward the wrong even. */
static bool weighted_entry(qtr_dec q0, qtr_dec e0, qtr_dec d, qtr_dec p, qtr_dec q1, qtr_dec *out)
{
    if (q1 == 0) return false;
    qtr__i128 num = (qtr__i128)q0 * e0 + (qtr__i128)d * p;
    qtr__i128 r = qtr__div_round(num, q1, QTR_ROUND_HALF_EVEN);
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* The position after a fill of signed quantity `delta` at `price`, and the
 * PnL it realizes. Returns the name of the step that overflowed, or NULL. */
static const char *fill_position(qtr_position *p, qtr_dec delta, qtr_dec price, qtr_dec *realized)
{
    qtr_dec q0 = p->qty, q1, diff;
    *realized = 0;
    if (!qh_dec_add(q0, delta, &q1)) return "position quantity";
    if (q0 == 0 || qtr_dec_sign(q0) == qtr_dec_sign(delta)) {
        /* Opening or adding: move the average entry toward the fill price. */
        if (q0 == 0) {
            p->entry_price = price;
        } else if (!weighted_entry(q0, p->entry_price, delta, price, q1, &p->entry_price)) {
            return "entry price";
        }
    } else {
        /* Reducing: realize on the closed part; the rest (if the fill
         * crosses zero) opens the other side at the fill price. */
        qtr_dec closed = qtr_dec_min(qtr_dec_abs(delta), qtr_dec_abs(q0));
        if (!qh_dec_sub(price, p->entry_price, &diff)) return "realized PnL";
        if (!qtr_dec_mul(diff, q0 > 0 ? closed : -closed, QTR_ROUND_HALF_EVEN, realized))
            return "realized PnL";
        if (q1 == 0) p->entry_price = 0;
        else if (qtr_dec_sign(q1) != qtr_dec_sign(q0)) p->entry_price = price;
    }
    p->qty = q1;
    return NULL;
}

int qh_portfolio_apply_fill(qh_portfolio *pf, const qtr_fill *fill, qtr_position *changed)
{
    if (!fill) return fail(pf, "fill: missing");
    const char *id = memchr(fill->fill_id, '\0', sizeof fill->fill_id) ? fill->fill_id : "?";
    if (fill->side != QTR_SIDE_BUY && fill->side != QTR_SIDE_SELL)
        return fail(pf, "fill %s: side must be BUY or SELL", id);
    if (fill->qty <= 0) return fail(pf, "fill %s: qty must be > 0", id);
    if (fill->price <= 0) return fail(pf, "fill %s: price must be > 0", id);
    int32_t ix = -1;   /* set by begin_slot; -1 keeps gcc's flow analysis quiet under -fprofile-use */
    pf_slot s;
    if (begin_slot(pf, "fill", fill->symbol, &ix, &s) != 0) return -1;
    pf_acct a = pf->acct;
    qtr_dec realized, t;
    const char *bad = NULL;
    roll_day(&a, fill->time_ms);
    bad = fill_position(&s.pos, fill->side == QTR_SIDE_BUY ? fill->qty : -fill->qty, fill->price, &realized);
    if (!bad && s.pos.mark_price == 0) s.pos.mark_price = fill->price;
    if (!bad && !value_slot(&s)) bad = "unrealized PnL";
    if (!bad && !qh_dec_add(s.pos.realized_pnl, realized, &s.pos.realized_pnl)) bad = "realized PnL";
    if (!bad && !qh_dec_add(s.pos.fees, fill->fee, &s.pos.fees)) bad = "fees";
    if (!bad && !qh_dec_add(a.realized, realized, &a.realized)) bad = "account realized PnL";
    if (!bad && !qh_dec_add(a.fees, fill->fee, &a.fees)) bad = "account fees";
    if (!bad && !(qh_dec_add(a.wallet, realized, &t) && qh_dec_sub(t, fill->fee, &a.wallet))) bad = "wallet";
    if (!bad && !swap_contribution(&a, old_slot(pf, ix), &s)) bad = "account totals";
    if (!bad && !settle(&a)) bad = "equity";
    if (bad) return fail(pf, "fill %s %s: overflow in %s", id, fill->symbol, bad);

    s.pos.time_ms = fill->time_ms;
    commit_slot(pf, ix, &s, &a);
    if (changed) *changed = s.pos;
    return 0;
}

int qh_portfolio_apply_funding(qh_portfolio *pf, const char *symbol, qtr_dec rate, qtr_dec mark,
                               int64_t time_ms, qtr_position *changed)
{
    if (mark <= 0) return fail(pf, "funding %s: mark price must be > 0", symbol ? symbol : "?");
    int32_t ix = -1;   /* set by begin_slot; -1 keeps gcc's flow analysis quiet under -fprofile-use */
    pf_slot s;
    if (begin_slot(pf, "funding", symbol, &ix, &s) != 0) return -1;
    pf_acct a = pf->acct;
    qtr_dec notional, paid, payment = 0;
    const char *bad = NULL;
    roll_day(&a, time_ms);
    /* Longs pay shorts when the rate is positive: payment = -(qty*mark)*rate. */
    if (!qtr_dec_mul(s.pos.qty, mark, QTR_ROUND_HALF_EVEN, &notional) ||
        !qtr_dec_mul(notional, rate, QTR_ROUND_HALF_EVEN, &paid))
        bad = "payment";
    else
        payment = -paid;
    if (!bad && !qh_dec_add(s.pos.funding, payment, &s.pos.funding)) bad = "funding";
    if (!bad && !qh_dec_add(a.funding, payment, &a.funding)) bad = "account funding";
    if (!bad && !qh_dec_add(a.wallet, payment, &a.wallet)) bad = "wallet";
    if (!bad && !settle(&a)) bad = "equity";
    if (bad) return fail(pf, "funding %s: overflow in %s", symbol, bad);

    s.pos.time_ms = time_ms;
    commit_slot(pf, ix, &s, &a);
    if (changed) *changed = s.pos;
    return 0;
}

/* Mark the slot an update started from (ix as begin_slot() gives it; *s
 * its copy, changed here). */
static int mark_slot(qh_portfolio *pf, int32_t ix, pf_slot *s, qtr_dec price, int64_t time_ms)
{
    const char *symbol = s->pos.symbol;
    pf_acct a = pf->acct;
    s->pos.mark_price = price;
    roll_day(&a, time_ms);
    if (!value_slot(s)) return fail(pf, "mark %s: overflow in unrealized PnL", symbol);
    if (!swap_contribution(&a, old_slot(pf, ix), s)) return fail(pf, "mark %s: overflow in account totals", symbol);
    if (!settle(&a)) return fail(pf, "mark %s: overflow in equity", symbol);

    s->pos.time_ms = time_ms;
    commit_slot(pf, ix, s, &a);
    return 0;
}

int qh_portfolio_mark(qh_portfolio *pf, const char *symbol, qtr_dec price, int64_t time_ms)
{
    if (price <= 0) return fail(pf, "mark %s: price must be > 0", qh_symbol_valid(symbol) ? symbol : "?");
    int32_t ix = -1;
    pf_slot s;
    if (begin_slot(pf, "mark", symbol, &ix, &s) != 0) return -1;
    return mark_slot(pf, ix, &s, price, time_ms);
}

int32_t qh_portfolio_index_of(const qh_portfolio *pf, const char *symbol)
{
    return qh_symbol_valid(symbol) ? qh_symbol_index_find(pf->ix, symbol) : -1;
}

int qh_portfolio_mark_at(qh_portfolio *pf, size_t i, qtr_dec price, int64_t time_ms)
{
    if (i >= qh_symbol_index_count(pf->ix)) return fail(pf, "mark: no symbol at index %zu", i);
    pf_slot *s = &pf->slots[i];
    const char *symbol = s->pos.symbol;
    if (price <= 0) return fail(pf, "mark %s: price must be > 0", symbol);
    /* mark_slot's steps without copying the slot: a mark changes four of
     * its fields, written only once every step succeeded (the quantity, so
     * the count of open positions, stays) */
    qtr_dec unrealized, notional;
    if (!value_at(&s->pos, price, &unrealized, &notional))
        return fail(pf, "mark %s: overflow in unrealized PnL", symbol);
    if (unrealized == s->pos.unrealized_pnl && notional == s->notional && no_later_day(pf->acct.day, time_ms)) {
        /* The slot's values (0 and 0 for a flat one) stay and no day begins:
         * the totals stay, so settle() would derive from the same wallet,
         * unrealized PnL, peak and day start what it derived last time
         * (every change of those settles before it is kept). Only the
         * latest time moves, as roll_day() moves it. */
        if (time_ms > pf->acct.time_ms) pf->acct.time_ms = time_ms;
    } else {
        pf_acct a = pf->acct;
        roll_day(&a, time_ms);
        if (!swap_values(&a, s->pos.unrealized_pnl, s->notional, unrealized, notional))
            return fail(pf, "mark %s: overflow in account totals", symbol);
        if (!settle(&a)) return fail(pf, "mark %s: overflow in equity", symbol);
        pf->acct = a;
    }

    s->pos.mark_price = price;
    s->pos.unrealized_pnl = unrealized;
    s->notional = notional;
    s->pos.time_ms = time_ms;
    return 0;
}

int qh_portfolio_get_position(const qh_portfolio *pf, const char *symbol, qtr_position *out)
{
    int32_t i = qh_symbol_index_find(pf->ix, symbol);
    if (i < 0) return QTR_ENOTFOUND;
    *out = pf->slots[i].pos;
    return QTR_OK;
}

size_t qh_portfolio_list_positions(const qh_portfolio *pf, qtr_position *out, size_t cap)
{
    size_t n = 0, count = qh_symbol_index_count(pf->ix);
    for (size_t i = 0; i < count && n < cap; i++)
        if (pf->slots[i].pos.qty != 0) out[n++] = pf->slots[i].pos;
    return n;
}

size_t qh_portfolio_open_count(const qh_portfolio *pf) { return pf->acct.open; }

size_t qh_portfolio_symbol_count(const qh_portfolio *pf) { return qh_symbol_index_count(pf->ix); }

int qh_portfolio_position_at(const qh_portfolio *pf, size_t i, qtr_position *out)
{
    if (i >= qh_symbol_index_count(pf->ix)) return QTR_ENOTFOUND;
    *out = pf->slots[i].pos;
    return 0;
}

void qh_portfolio_account(const qh_portfolio *pf, int64_t now_ms, qtr_account *out)
{
    /* Every field is written below; of the rest, only the bytes before
     * time_ms (size and padding) and from open_positions to the end (its
     * padding) are zeroed, as a memset of the whole would leave them, in
     * two 8-byte stores instead of fifteen (every candle comes here). */
    _Static_assert(offsetof(qtr_account, time_ms) == 8 && sizeof(qtr_account) - offsetof(qtr_account, open_positions) == 8,
                   "qtr_account's layout: the zeroing below covers its head and tail");
    const pf_acct *a = &pf->acct;
    memset(out, 0, offsetof(qtr_account, time_ms));
    memset(&out->open_positions, 0, sizeof *out - offsetof(qtr_account, open_positions));
    out->time_ms = now_ms;
    out->wallet_balance = a->wallet;
    out->unrealized_pnl = a->unrealized;
    out->equity = a->equity;
    out->equity_peak = a->peak;
    out->drawdown_pct = a->drawdown_pct;
    if (!no_later_day(a->day, now_ms)) {
        /* Nothing happened yet today: the day starts from the equity now. */
        out->day_start_equity = a->equity;
        out->daily_pnl = 0;
        out->daily_drawdown_pct = 0;
    } else {
        out->day_start_equity = a->day_start_equity;
        out->daily_pnl = a->daily_pnl;
        out->daily_drawdown_pct = a->daily_drawdown_pct;
    }
    out->realized_pnl = a->realized;
    out->fees = a->fees;
    out->funding = a->funding;
    out->exposure = a->exposure;
    out->open_positions = (int32_t)a->open;
}

int qh_portfolio_restore_position(qh_portfolio *pf, const qtr_position *pos)
{
    if (!pos) return fail(pf, "restore position: missing");
    if (pos->qty != 0 && pos->entry_price <= 0)
        return fail(pf, "restore position %s: entry_price must be > 0 for an open position",
                    qh_symbol_valid(pos->symbol) ? pos->symbol : "?");
    if (pos->mark_price < 0)
        return fail(pf, "restore position %s: mark_price must be >= 0",
                    qh_symbol_valid(pos->symbol) ? pos->symbol : "?");
    int32_t ix = -1;   /* set by begin_slot; -1 keeps gcc's flow analysis quiet under -fprofile-use */
    pf_slot s;
    if (begin_slot(pf, "restore position", pos->symbol, &ix, &s) != 0) return -1;
    pf_acct a = pf->acct;
    char name[QTR_SYMBOL_MAX];
    qtr_strlcpy(name, s.pos.symbol, sizeof name);
    s.pos = *pos;
    qtr_strlcpy(s.pos.symbol, name, sizeof s.pos.symbol);
    if (s.pos.qty == 0) s.pos.entry_price = 0;
    /* A position stored without a mark is valued at its entry until marked. */
    if (s.pos.mark_price == 0) s.pos.mark_price = s.pos.entry_price;
    if (!value_slot(&s)) return fail(pf, "restore position %s: overflow in unrealized PnL", s.pos.symbol);
    if (!swap_contribution(&a, old_slot(pf, ix), &s) || !settle(&a))
        return fail(pf, "restore position %s: overflow in account totals", s.pos.symbol);
    commit_slot(pf, ix, &s, &a);
    return 0;
}

int qh_portfolio_try_restore_account(qh_portfolio *pf, qtr_dec wallet_balance, qtr_dec equity_peak,
                                     qtr_dec day_start_equity, int64_t day_start_ms,
                                     qtr_dec realized_pnl, qtr_dec fees, qtr_dec funding)
{
    pf_acct a = pf->acct;
    a.wallet = wallet_balance;
    a.peak = equity_peak;
    a.day_start_equity = day_start_equity;
    a.day = utc_day(day_start_ms);
    a.realized = realized_pnl;
    a.fees = fees;
    a.funding = funding;
    /* settle() raises the peak if restored positions put equity above it. */
    if (!settle(&a))
        return fail(pf, "restore account: overflow in equity (wallet plus unrealized PnL); not restored");
    pf->acct = a;
    return 0;
}

void qh_portfolio_restore_account(qh_portfolio *pf, qtr_dec wallet_balance, qtr_dec equity_peak,
                                  qtr_dec day_start_equity, int64_t day_start_ms,
                                  qtr_dec realized_pnl, qtr_dec fees, qtr_dec funding)
{
    /* The void form keeps the original signature; the reason of a refusal
     * stays readable through qh_portfolio_last_error(). */
    (void)qh_portfolio_try_restore_account(pf, wallet_balance, equity_peak, day_start_equity,
                                           day_start_ms, realized_pnl, fees, funding);
}
