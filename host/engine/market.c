/* market.c — the host's view of the market: the last candle, book top and
 * mark price of each symbol (the cache behind get_last_candle, get_book_top
 * and get_mark_price), the portfolio marked on each, funding settled when
 * its time passes, and the account's consequences (ESS, equity history). */
#include "engine/engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "market/symbol_cycle.h"

#define LOGC "market"

static const char *market_symbol(const void *engine, size_t i)
{
    return ((const qh_engine *)engine)->market[i].symbol;
}

static const char *market_symbol_len(const void *engine, size_t i, size_t *len)
{
    const qh_market_sym *m = &((const qh_engine *)engine)->market[i];
    *len = m->symbol_len;
    return m->symbol;
}

/* After the guess missed: the index, and an entry made on first use. */
static qh_market_sym *market_find(qh_engine *e, const char *symbol, bool create)
{
    int32_t i = create ? qh_symbol_index_intern(e->syms, symbol) : qh_symbol_index_find(e->syms, symbol);
    if (i < 0) return NULL;
    if ((size_t)i >= e->n_market) {
        if ((size_t)i >= e->cap_market) {
            size_t ncap = e->cap_market ? e->cap_market * 2 : 16;
            while (ncap <= (size_t)i) ncap *= 2;
            qh_market_sym *n = realloc(e->market, ncap * sizeof *n);
            if (!n) return NULL;
            e->market = n;
            e->cap_market = ncap;
        }
        /* from n_market on: a symbol indexed when memory ran short has an
         * entry too (blank, named), never stale bytes */
        for (size_t k = e->n_market; k <= (size_t)i; k++) {
            memset(&e->market[k], 0, sizeof e->market[k]);
            qtr_strlcpy(e->market[k].symbol, qh_symbol_index_name(e->syms, (int32_t)k), sizeof e->market[k].symbol);
            e->market[k].symbol_len = strlen(e->market[k].symbol);
        }
        e->n_market = (size_t)i + 1;
    }
    qh_symbol_cycle_found(&e->next_market, (size_t)i);
    return &e->market[i];
}

qh_market_sym *qh_market_get(qh_engine *e, const char *symbol, bool create)
{
    /* symbol_cycle.h's guess before the index */
    long likely = symbol ? qh_symbol_cycle_try(&e->next_market, e->n_market, symbol, market_symbol, e) : -1;
    return likely >= 0 ? &e->market[likely] : market_find(e, symbol, create);
}

qh_market_sym *qh_market_get_field(qh_engine *e, const char symbol[QTR_SYMBOL_MAX], bool create)
{
    /* every candle and mark comes here */
    long likely = qh_symbol_cycle_try_field(&e->next_market, e->n_market, symbol, market_symbol_len, e);
    return likely >= 0 ? &e->market[likely] : market_find(e, symbol, create);
}

void qh_engine_account_changed(qh_engine *e, int64_t time_ms)
{
    qtr_account a;
    qh_portfolio_account(e->pf, time_ms, &a);
    /* the ESS acts now: a late event (an execution reported an hour after it
     * happened) must not stamp the trip, and so the cooldown, in the past */
    qh_ess_on_account(e->ess, &a, qh_clock_now_ms(e->clock));
    if (e->obs.on_account) e->obs.on_account(e->obs.ud, &a);
    /* Equity history for charts: one point a minute. A new peak is published
     * (and so stored) at once: drawdown after a crash must count from it. */
    bool minute = time_ms - e->last_equity_point_ms >= 60000 || e->equity_history.count == 0;
    bool new_peak = a.equity_peak > e->last_published_peak;
    if (minute) {
        e->last_equity_point_ms = time_ms;
        QH_RING_PUSH(e->equity_history, a);
    }
    if (minute || new_peak) {
        e->last_published_peak = a.equity_peak;
        QH_PUBLISH(e, QTR_EV_EQUITY, 0, time_ms, equity, a);
    }
}

/* A new price for a symbol: value its position at it (by the portfolio's
 * index of the symbol once it has one: no lookup by name a candle). */
static void mark_portfolio(qh_engine *e, qh_market_sym *m, qtr_dec price, int64_t time_ms)
{
    int rc;
    if (m->has_pf_index) {
        rc = qh_portfolio_mark_at(e->pf, m->pf_index, price, time_ms);
    } else {
        rc = qh_portfolio_mark(e->pf, m->symbol, price, time_ms);
        int32_t i = qh_portfolio_index_of(e->pf, m->symbol);
        m->has_pf_index = i >= 0;
        m->pf_index = i >= 0 ? (size_t)i : 0;
    }
    if (rc != 0) qh_error(LOGC, "marking %s at an overflowing price refused", m->symbol);
    qh_engine_account_changed(e, time_ms);
}

static void on_candle(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_candle *c = &ev->u.candle;
    qh_market_sym *m = qh_market_get_field(e, c->symbol, true);
    if (!m) return;
    m->candle = *c;
    m->has_candle = true;
    qh_metric_add(e->m.candles, 1);
    /* value positions at the mark price when the exchange gives one */
    mark_portfolio(e, m, m->has_mark ? m->mark.mark_price : c->close, c->close_time_ms);
}

int qh_engine_apply_funding(qh_engine *e, const char *symbol, qtr_dec rate, int64_t time_ms)
{
    qh_market_sym *m = qh_market_get(e, symbol, false);
    qtr_position pos;
    if (qh_portfolio_get_position(e->pf, symbol, &pos) != 0 || pos.qty == 0) return 0;   /* nothing to pay */
    qtr_dec mark = m && m->has_mark ? m->mark.mark_price : m && m->has_candle ? m->candle.close : pos.mark_price;
    if (mark <= 0) return -1;
    qtr_position after;
    if (qh_portfolio_apply_funding(e->pf, symbol, rate, mark, time_ms, &after) != 0) {
        qh_error(LOGC, "%s: funding at rate %lld could not be applied: %s", symbol, (long long)rate,
                 qh_portfolio_last_error(e->pf));
        return -1;
    }
    if (qh_log_enabled(QH_LOG_INFO)) {
        char r[QTR_DEC_STRLEN], f[QTR_DEC_STRLEN];
        qh_info(LOGC, "funding %s rate %s: position funding now %s", symbol, qtr_dec_format(rate, r),
                qtr_dec_format(after.funding, f));
    }
    QH_PUBLISH(e, QTR_EV_POSITION, 0, time_ms, position, after);
    qh_engine_account_changed(e, time_ms);
    return 0;
}

static void on_mark(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    const qtr_mark_price *mp = &ev->u.mark_price;
    qh_market_sym *m = qh_market_get_field(e, mp->symbol, true);
    if (!m) return;
    /* A funding time passed since the last mark: settle the rate announced
     * for it, at this mark, as the exchange does at that moment. */
    bool settle = m->has_mark && m->mark.next_funding_ms > 0 && mp->next_funding_ms > m->mark.next_funding_ms;
    qtr_mark_price before = m->mark;
    m->mark = *mp;
    m->has_mark = true;
    if (settle) qh_engine_apply_funding(e, m->symbol, before.funding_rate, before.next_funding_ms);
    mark_portfolio(e, m, m->mark.mark_price, ev->time_ms);
}

static void on_book(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    qh_market_sym *m = qh_market_get(e, ev->u.book_top.symbol, true);
    if (!m) return;
    m->book = ev->u.book_top;
    m->has_book = true;
}

void qh_market_subscribe(qh_engine *e)
{
    qh_bus_subscribe(e->bus, QTR_EV_CANDLE, NULL, on_candle, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_MARK_PRICE, NULL, on_mark, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_BOOK_TOP, NULL, on_book, e, e);
}
