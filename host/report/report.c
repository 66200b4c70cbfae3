/* report.c — see report.h for every definition. */
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/symbol_cycle.h"
#include "portfolio/dec_mul.h"
#include "report/report_internal.h"

#define MS_PER_YEAR (365.0 * 24.0 * 3600.0 * 1000.0)

static void set_error(qh_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(qh_report *r, const char *fmt, ...)
{
    if (r->error[0]) return;   /* the first error is the one worth reading */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

static sym_stats *stats_of(qh_report *r, const char *symbol);

/* A symbol's exposure after its position, mark or close changed at t. */
static void update_exposure(qh_report *r, sym_stats *ss, int64_t t)
{
    if (ss->last.qty == 0 && ss->exp.value == 0) return;
    qtr_dec v;
    if (!qh_exposure_value(ss->last.qty, ss->has_mark ? ss->mark : ss->close, &v) ||
        !qh_exposure_set(&r->exposure, &ss->exp, v, t))
        set_error(r, "report: %s at %lld: overflow in exposure", ss->last.symbol, (long long)t);
}

qh_report *qh_report_new(qtr_dec start_equity)
{
    qh_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->trip_symbols = qh_symbol_index_new(REPORT_MAX_SYMBOLS);
    r->trips = calloc(REPORT_MAX_SYMBOLS, sizeof *r->trips);
    r->syms = calloc(REPORT_MAX_SYMBOLS, sizeof *r->syms);
    if (!r->trip_symbols || !r->trips || !r->syms) {
        qh_report_free(r);
        return NULL;
    }
    r->start_equity = start_equity;
    r->end_equity = start_equity;
    r->peak = start_equity;
    r->prev_equity = start_equity;   /* the first return is from the start */
    r->prev_equity_d = qtr_dec_to_display_double(start_equity);
    qh_exposure_init(&r->exposure, start_equity);
    return r;
}

void qh_report_free(qh_report *r)
{
    if (!r) return;
    qh_symbol_index_free(r->trip_symbols);
    free(r->trips);
    free(r->syms);
    free(r->closed);
    qh_report_months_free(&r->months);
    free(r);
}

const char *qh_report_error(const qh_report *r) { return r->error; }

static const char *candle_name(const void *syms, size_t i, size_t *len)
{
    const sym_stats *ss = &((const sym_stats *)syms)[i];
    *len = ss->name_len;
    return ss->name;
}

/* The candle's symbol number: symbol_cycle.h's guess first, it runs for
 * every candle, over the names candles gave (a symbol known only from a
 * fill has none yet: a miss, then the index names it). An empty name never
 * takes the guess: it must be refused as the index refuses it. */
static int32_t candle_symbol(qh_report *r, const char symbol[QTR_SYMBOL_MAX])
{
    long likely = symbol[0] ? qh_symbol_cycle_try_field(&r->next_candle_symbol,
                                                        qh_symbol_index_count(r->trip_symbols), symbol,
                                                        candle_name, r->syms)
                            : -1;
    if (likely >= 0) return (int32_t)likely;
    int32_t ix = qh_symbol_index_intern(r->trip_symbols, symbol);
    if (ix >= 0) {
        qh_symbol_cycle_found(&r->next_candle_symbol, (size_t)ix);
        qtr_strlcpy(r->syms[ix].name, qh_symbol_index_name(r->trip_symbols, ix), sizeof r->syms[ix].name);
        r->syms[ix].name_len = strlen(r->syms[ix].name);
    }
    return ix;
}

void qh_report_on_candle(qh_report *r, const qtr_candle *c)
{
    if (r->error[0]) return;
    int32_t ix = c ? candle_symbol(r, c->symbol) : -1;
    if (ix < 0) {
        set_error(r, "report: candle with a bad symbol, or more than %d symbols", REPORT_MAX_SYMBOLS);
        return;
    }
    sym_stats *ss = &r->syms[ix];
    if (!ss->has_candle) ss->has_candle = true, r->candle_symbols++;
    if (r->candles == 0) qh_exposure_start(&r->exposure, c->open_time_ms);
    if (r->candles == 0 || c->open_time_ms < r->first_ms) r->first_ms = c->open_time_ms;
    if (r->candles == 0 || c->open_time_ms > r->last_ms) r->last_ms = c->open_time_ms;
    /* Binance: close = open + interval - 1. Keep the shortest one seen. */
    if (c->close_time_ms >= c->open_time_ms) {
        int64_t iv = c->close_time_ms - c->open_time_ms + 1;
        if (r->interval_ms == 0 || iv < r->interval_ms) r->interval_ms = iv;
    }
    r->candles++;
    if (!r->chart_symbol[0]) {
        qtr_strlcpy(r->chart_symbol, c->symbol, sizeof r->chart_symbol);
        r->chart_index = ix;
    }
    if (ix == r->chart_index) qh_series_add(&r->price_series, c->close_time_ms, c->close);
    ss->close = c->close;
    if (!ss->has_mark) update_exposure(r, ss, c->close_time_ms);
}

static bool add_to(qtr_dec *acc, qtr_dec v) { return qtr_dec_add(*acc, v, acc); }

/* Count a finished round trip (of symbol ix, at close_ms) and keep it. */
static bool close_trip(qh_report *r, trip *t, int32_t ix, int64_t close_ms)
{
    qtr_dec pnl;
    sym_stats *ss = &r->syms[ix];
    if (!qtr_dec_sub(t->realized, t->fees, &pnl) || !add_to(&r->realized, t->realized) ||
        !add_to(&ss->closed_realized, t->realized))
        return false;
    if (r->n_closed == r->cap_closed) {
        size_t cap = r->cap_closed ? r->cap_closed * 2 : 256;
        closed_trade *c = realloc(r->closed, cap * sizeof *c);
        if (!c) return false;
        r->closed = c;
        r->cap_closed = cap;
    }
    r->closed[r->n_closed++] = (closed_trade){ ix, t->side, t->open_ms, close_ms, t->realized, t->fees };
    r->trades++;
    ss->trades++;
    if (pnl > 0) r->wins++, ss->wins++;
    else r->losses++;
    memset(t, 0, sizeof *t);
    return true;
}

void qh_report_on_fill(qh_report *r, const qtr_fill *f, const qtr_position *before, const qtr_position *after)
{
    if (r->error[0]) return;
    if (!f || !before || !after) {
        set_error(r, "report: fill without its positions");
        return;
    }
    const char *id = memchr(f->fill_id, '\0', sizeof f->fill_id) ? f->fill_id : "?";
    int32_t ix = qh_symbol_index_intern(r->trip_symbols, f->symbol);
    if (ix < 0) {
        set_error(r, "report: fill %s: bad symbol, or more than %d symbols", id, REPORT_MAX_SYMBOLS);
        return;
    }
    qtr_dec step, delta_realized;
    if (f->qty <= 0 || (f->side != QTR_SIDE_BUY && f->side != QTR_SIDE_SELL) ||
        !qtr_dec_sub(after->qty, before->qty, &step) || step != (f->side == QTR_SIDE_BUY ? f->qty : -f->qty)) {
        set_error(r, "report: fill %s %s: positions before and after do not match the fill", id, f->symbol);
        return;
    }
    if (!qtr_dec_sub(after->realized_pnl, before->realized_pnl, &delta_realized)) {
        set_error(r, "report: fill %s %s: overflow in realized PnL", id, f->symbol);
        return;
    }
    trip t = r->trips[ix];   /* work on a copy: commit only if nothing overflows */
    qtr_dec fees = r->fees, sym_fees = r->syms[ix].fees;
    qtr_dec b = before->qty, a = after->qty;
    bool ok = add_to(&fees, f->fee) && add_to(&sym_fees, f->fee);
    if (ok && b == 0) {
        /* flat -> open: a new round trip */
        t = (trip){ true, delta_realized, f->fee, f->time_ms, qtr_dec_sign(a) };
    } else if (ok && (a == 0 || qtr_dec_sign(a) == qtr_dec_sign(b))) {
        /* adding, reducing or closing: the same round trip. A position that
         * was open before the report began counts from here. */
        if (!t.open) t = (trip){ true, 0, 0, f->time_ms, qtr_dec_sign(b) };
        ok = add_to(&t.realized, delta_realized) && add_to(&t.fees, f->fee);
        if (ok && a == 0) ok = close_trip(r, &t, ix, f->time_ms);
    } else if (ok) {
        /* flip: close this trip with its share of the fee, open the next */
        qtr_dec close_fee;
        if (!t.open) t = (trip){ true, 0, 0, f->time_ms, qtr_dec_sign(b) };
        ok = qtr_dec_muldiv(f->fee, qtr_dec_abs(b), f->qty, QTR_ROUND_HALF_EVEN, &close_fee) &&
             add_to(&t.realized, delta_realized) && add_to(&t.fees, close_fee) && close_trip(r, &t, ix, f->time_ms);
        if (ok) {
            t = (trip){ true, 0, 0, f->time_ms, qtr_dec_sign(a) };
            ok = qtr_dec_sub(f->fee, close_fee, &t.fees);
        }
    }
    if (!ok) {
        /* close_trip() counts as it goes: the report is void from here (the
         * error is reported instead of any figure) */
        set_error(r, "report: fill %s %s: overflow in trade figures", id, f->symbol);
        return;
    }
    if (!qh_exposure_on_fill(&r->exposure, &r->syms[ix].exp, f->qty, f->price)) {
        set_error(r, "report: fill %s %s: overflow in traded notional", id, f->symbol);
        return;
    }
    r->trips[ix] = t;
    r->fees = fees;
    r->syms[ix].fees = sym_fees;
    r->fills++;
}

/* Add the return from `from` to `to` to the running statistics; from_d
 * and to_d are their qtr_dec_to_display_double(), kept by the caller. */
static void add_return(welford *w, qtr_dec from, double from_d, double to_d)
{
    if (from <= 0) {
        w->undefined = true;
        return;
    }
    /* Statistics, not money: double is the right tool here. */
    double x = (to_d - from_d) / from_d;
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
    if (x < 0) w->down_sq += x * x;
}

void qh_report_on_account(qh_report *r, const qtr_account *a)
{
    if (r->error[0]) return;
    if (!a) {
        set_error(r, "report: missing account");
        return;
    }
    qtr_dec dd = 0, gap;
    qtr_dec peak = a->equity > r->peak ? a->equity : r->peak;
    if (peak > 0 && a->equity < peak) {
        bool ok = qh_dec_sub(peak, a->equity, &gap);
        /* gap * 100 / peak below the largest drawdown so far cannot raise it
         * (nor overflow): the exact products tell it without the division
         * each account update would pay */
        if (ok && (qtr__i128)gap * QTR_DEC_INT(100) >= (qtr__i128)r->max_drawdown_pct * peak)
            ok = qtr_dec_muldiv(gap, QTR_DEC_INT(100), peak, QTR_ROUND_HALF_EVEN, &dd);
        if (!ok) {
            set_error(r, "report: account at %lld: overflow in drawdown", (long long)a->time_ms);
            return;
        }
    }
    r->peak = peak;
    if (dd > r->max_drawdown_pct) r->max_drawdown_pct = dd;
    r->have_account = true;
    r->end_equity = a->equity;
    r->funding = a->funding;
    r->unrealized = a->unrealized_pnl;
    qh_exposure_on_account(&r->exposure, a->equity, a->time_ms);
    qh_series_add(&r->equity_series, a->time_ms, a->equity);
    if (!qh_report_months_on_equity(&r->months, a->time_ms, a->equity, r->start_equity)) {
        set_error(r, "report: out of memory for monthly returns");
        return;
    }
    if (a->time_ms > r->last_event_ms) r->last_event_ms = a->time_ms;

    if (r->have_sample && a->time_ms > r->sample_ms) {
        /* the sample's double is made here, once: it is the next return's
         * start (updates of one time convert nothing) */
        double sample_d = qtr_dec_to_display_double(r->sample_equity);
        add_return(&r->ret, r->prev_equity, r->prev_equity_d, sample_d);
        r->prev_equity = r->sample_equity;
        r->prev_equity_d = sample_d;
    }
    if (!r->have_sample || a->time_ms >= r->sample_ms) r->sample_ms = a->time_ms;
    r->sample_equity = a->equity;   /* the latest equity of this period */
    r->have_sample = true;
}

void qh_report_set_volumes_rounded(qh_report *r, int64_t n) { r->volumes_rounded = n; }

/* Time in the market: from the first symbol's position opening to the last
 * one's closing, summed over the run. */
static void on_position(qh_report *r, const qtr_position *p, int64_t t)
{
    int32_t ix = qh_symbol_index_intern(r->trip_symbols, p->symbol);
    if (ix < 0) {
        set_error(r, "report: position with a bad symbol, or more than %d symbols", REPORT_MAX_SYMBOLS);
        return;
    }
    sym_stats *ss = &r->syms[ix];
    ss->funding = p->funding;
    ss->last = *p;
    update_exposure(r, ss, t);
    if (!strcmp(p->symbol, r->chart_symbol)) qh_series_add(&r->position_series, t, p->qty);
    bool in = p->qty != 0;
    if (in == ss->in_market) return;
    ss->in_market = in;
    if (in && r->symbols_in_market++ == 0) r->in_market_since = t;
    if (!in && --r->symbols_in_market == 0) r->in_market_ms += t - r->in_market_since;
}

void qh_report_on_event(qh_report *r, const qtr_event *ev)
{
    if (r->error[0] || !ev) return;
    if (ev->time_ms > r->last_event_ms) r->last_event_ms = ev->time_ms;
    if (ev->type == QTR_EV_POSITION) {
        on_position(r, &ev->u.position, ev->time_ms);
    } else if (ev->type == QTR_EV_MARK_PRICE) {
        sym_stats *ss = stats_of(r, ev->u.mark_price.symbol);
        if (ss) {
            ss->mark = ev->u.mark_price.mark_price, ss->has_mark = true;
            update_exposure(r, ss, ev->time_ms);
        }
    } else {
        qh_report_activity_on_event(&r->act, ev);
    }
}

/* Symbol i's position if still open, valued at its last mark (else its
 * last close): unrealized = (mark - entry) * qty, HALF_EVEN to 1e-8. */
static bool open_position(const qh_report *r, size_t i, qtr_position *out)
{
    const sym_stats *ss = &r->syms[i];
    if (ss->last.qty == 0) return false;
    *out = ss->last;
    out->mark_price = ss->has_mark ? ss->mark : ss->close;
    qtr_dec diff;
    if (!qtr_dec_sub(out->mark_price, out->entry_price, &diff) ||
        !qtr_dec_mul(diff, out->qty, QTR_ROUND_HALF_EVEN, &out->unrealized_pnl))
        out->unrealized_pnl = 0;
    return true;
}

static sym_stats *stats_of(qh_report *r, const char *symbol)
{
    int32_t ix = qh_symbol_index_intern(r->trip_symbols, symbol);
    if (ix < 0) {
        set_error(r, "report: bad symbol, or more than %d symbols", REPORT_MAX_SYMBOLS);
        return NULL;
    }
    return &r->syms[ix];
}

int qh_report_summary_get(const qh_report *r, qh_report_summary *out)
{
    memset(out, 0, sizeof *out);
    if (r->error[0]) return -1;
    out->candles = r->candles;
    out->trades = r->trades;
    out->wins = r->wins;
    out->losses = r->losses;
    out->fills = r->fills;
    size_t n = qh_symbol_index_count(r->trip_symbols);
    for (size_t i = 0; i < n; i++) out->open_trades += r->trips[i].open;
    out->start_equity = r->start_equity;
    out->end_equity = r->end_equity;
    if (!qtr_dec_sub(r->end_equity, r->start_equity, &out->net_pnl)) return -1;
    out->fees = r->fees;
    out->funding = r->funding;
    out->realized_pnl = r->realized;
    out->max_drawdown_pct = r->max_drawdown_pct;
    out->win_rate = r->trades ? (double)r->wins / (double)r->trades : 0.0;

    welford w = r->ret;   /* the pending sample is the last period's return */
    if (r->have_sample)
        add_return(&w, r->prev_equity, r->prev_equity_d, qtr_dec_to_display_double(r->sample_equity));
    out->sharpe = 0.0;
    if (!w.undefined && w.n >= 2 && r->interval_ms > 0) {
        double sd = sqrt(w.m2 / (double)(w.n - 1));
        double s = sd > 0 ? w.mean / sd * sqrt(MS_PER_YEAR / (double)r->interval_ms) : 0.0;
        if (isfinite(s)) out->sharpe = s;
        double dd = sqrt(w.down_sq / (double)w.n);
        double so = dd > 0 ? w.mean / dd * sqrt(MS_PER_YEAR / (double)r->interval_ms) : 0.0;
        if (isfinite(so)) out->sortino = so;
    }
    /* Calmar: the annualized return over the largest drawdown */
    double span = r->candles && r->interval_ms ? (double)(r->last_ms + r->interval_ms - r->first_ms) : 0.0;
    double from = qtr_dec_to_display_double(r->start_equity), to = qtr_dec_to_display_double(r->end_equity);
    if (span > 0 && from > 0 && to > 0) {
        double annual = pow(to / from, MS_PER_YEAR / span) - 1.0;
        if (isfinite(annual)) out->annual_return_pct = annual * 100.0;
        double mdd = qtr_dec_to_display_double(r->max_drawdown_pct) / 100.0;
        if (mdd > 0 && isfinite(annual / mdd)) out->calmar = annual / mdd;
    }
    out->symbols = r->candle_symbols;
    out->first_candle_ms = r->first_ms;
    out->last_candle_ms = r->last_ms;
    out->interval_ms = r->interval_ms;
    out->volumes_rounded = r->volumes_rounded;
    out->unrealized_pnl = r->unrealized;
    qtr_dec total = r->realized, x;
    for (size_t i = 0; i < n; i++)
        if (r->trips[i].open && !add_to(&total, r->trips[i].realized)) return -1;
    out->realized_pnl_total = total;
    /* net = realized + unrealized - fees + funding, to the unit */
    if (!qtr_dec_add(total, r->unrealized, &x) || !qtr_dec_sub(x, r->fees, &x) || !qtr_dec_add(x, r->funding, &x) ||
        !qtr_dec_sub(out->net_pnl, x, &out->identity_residual))
        return -1;
    out->signals = r->act.signals;
    out->orders = r->act.orders;
    for (int k = 0; k < QH_REFUSAL__COUNT; k++) out->refusals[k] = r->act.refusals[k];
    out->ess_trips = r->act.ess_trips;
    out->guard_first_ms = r->act.guard_first_ms;
    out->guard_last_ms = r->act.guard_last_ms;
    out->time_in_market_ms = r->in_market_ms + (r->symbols_in_market > 0 ? r->last_event_ms - r->in_market_since : 0);
    qh_exposure_figures xf;
    int64_t end = r->last_ms + r->interval_ms, period = r->candles && r->interval_ms ? end - r->first_ms : 0;
    qh_exposure_figures_get(&r->exposure, NULL, end, period, &xf);
    out->avg_equity = xf.avg_equity;
    out->traded_notional = xf.traded;
    out->turnover = xf.turnover;
    out->max_gross_exposure = xf.max_exposure;
    for (size_t i = 0; i < n; i++) {   /* the total share: the symbols' shares added */
        qh_exposure_figures sf;
        qh_exposure_figures_get(&r->exposure, &r->syms[i].exp, end, period, &sf);
        out->avg_gross_exposure += sf.avg_exposure;
    }
    return 0;
}

/* Fixed decimals whatever the process locale says about decimal commas. */
static void fmt_double(double v, int places, char *buf, size_t cap)
{
    if (!isfinite(v)) v = 0.0;
    snprintf(buf, cap, "%.*f", places, v);
    for (char *p = buf; *p; p++)
        if (*p == ',') *p = '.';
}

/* Exact decimal with at least two decimals: "3" -> "3.00", "1.5" -> "1.50". */
static void fmt_pct(qtr_dec v, char *buf)
{
    qtr_dec_format(v, buf);
    char *dot = strchr(buf, '.');
    size_t len = strlen(buf);
    if (!dot) {
        memcpy(buf + len, ".00", 4);
    } else if (len - (size_t)(dot - buf) - 1 < 2) {
        buf[len] = '0';
        buf[len + 1] = '\0';
    }
}

/* Symbol i's exposure and turnover over the period. */
static void sym_exposure(const qh_report *r, size_t i, qh_exposure_figures *out)
{
    int64_t end = r->last_ms + r->interval_ms, span = r->candles && r->interval_ms ? end - r->first_ms : 0;
    qh_exposure_figures_get(&r->exposure, &r->syms[i].exp, end, span, out);
}

size_t qh_report_symbol_count(const qh_report *r) { return qh_symbol_index_count(r->trip_symbols); }

void qh_report_symbol_row(const qh_report *r, size_t i, qh_symbol_row *out)
{
    const sym_stats *ss = &r->syms[i];
    memset(out, 0, sizeof *out);
    out->symbol = qh_symbol_index_name(r->trip_symbols, (int32_t)i);
    out->trades = ss->trades;
    out->wins = ss->wins;
    out->realized = ss->closed_realized;
    if (r->trips[i].open) qtr_dec_add(out->realized, r->trips[i].realized, &out->realized);
    out->open = open_position(r, i, &out->position);
    if (out->open) out->unrealized = out->position.unrealized_pnl;
    out->fees = ss->fees;
    out->funding = ss->funding;
    qh_exposure_figures xf;
    sym_exposure(r, i, &xf);
    out->traded = xf.traded;
    out->turnover = xf.turnover;
    out->avg_exposure = xf.avg_exposure;
}

/* Text and integers copied into a row by hand: the trades list has a row
 * per trade (thousands in a long backtest), and one fprintf a row cost
 * 4,600 instructions, 5% of a backtest of 100,000 candles. */
static char *put_text(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* As "%lld" prints it */
static char *put_int(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *p++ = '-';
    while (n) *p++ = tmp[--n];
    return p;
}

/* One trades_list row, byte for byte what
 * {"symbol":"%s","side":"%s","open_ms":%lld,"close_ms":%lld,"realized_pnl":"%s","fees":"%s","pnl":"%s"}
 * printed, after a comma unless it is the first. */
static void write_json_trade(const qh_report *r, const closed_trade *t, bool first, FILE *m)
{
    char row[256 + QTR_SYMBOL_MAX + 3 * QTR_DEC_STRLEN], *p = row;
    char num[QTR_DEC_STRLEN];
    qtr_dec pnl = 0;
    qtr_dec_sub(t->realized, t->fees, &pnl);
    p = put_text(p, first ? "{\"symbol\":\"" : ",{\"symbol\":\"");
    p = put_text(p, qh_symbol_index_name(r->trip_symbols, t->sym));
    p = put_text(p, t->side > 0 ? "\",\"side\":\"long\",\"open_ms\":" : "\",\"side\":\"short\",\"open_ms\":");
    p = put_int(p, t->open_ms);
    p = put_text(p, ",\"close_ms\":");
    p = put_int(p, t->close_ms);
    p = put_text(p, ",\"realized_pnl\":\"");
    p = put_text(p, qtr_dec_format(t->realized, num));
    p = put_text(p, "\",\"fees\":\"");
    p = put_text(p, qtr_dec_format(t->fees, num));
    p = put_text(p, "\",\"pnl\":\"");
    p = put_text(p, qtr_dec_format(pnl, num));
    p = put_text(p, "\"}");
    fwrite(row, 1, (size_t)(p - row), m);
}

/* The rows after the summary keys: per symbol, open positions, trades. */
static void write_json_rows(const qh_report *r, FILE *m)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN], d[QTR_DEC_STRLEN], e[QTR_DEC_STRLEN];
    size_t n = qh_report_symbol_count(r);
    fputs(",\"per_symbol\":[", m);
    for (size_t i = 0; i < n; i++) {
        qh_symbol_row row;
        qh_report_symbol_row(r, i, &row);
        char to[64], ax[64];
        fmt_double(row.turnover, 6, to, sizeof to);
        fmt_double(row.avg_exposure, 6, ax, sizeof ax);
        fprintf(m, "%s{\"symbol\":\"%s\",\"trades\":%lld,\"wins\":%lld,\"realized_pnl\":\"%s\",\"unrealized_pnl\":\"%s\","
                   "\"fees\":\"%s\",\"funding\":\"%s\",\"traded_notional\":\"%s\",\"turnover\":%s,\"avg_exposure\":%s}",
                i ? "," : "", row.symbol, (long long)row.trades, (long long)row.wins, qtr_dec_format(row.realized, a),
                qtr_dec_format(row.unrealized, b), qtr_dec_format(row.fees, c), qtr_dec_format(row.funding, d),
                qtr_dec_format(row.traded, e), to, ax);
    }
    fputs("],\"open_positions\":[", m);
    bool first = true;
    for (size_t k = 0; k < n; k++) {
        qtr_position op;
        if (!open_position(r, k, &op)) continue;
        const qtr_position *p = &op;
        fprintf(m, "%s{\"symbol\":\"%s\",\"qty\":\"%s\",\"entry_price\":\"%s\",\"mark_price\":\"%s\",\"unrealized_pnl\":\"%s\","
                   "\"realized_pnl\":\"%s\"}",
                first ? "" : ",", p->symbol, qtr_dec_format(p->qty, a), qtr_dec_format(p->entry_price, b),
                qtr_dec_format(p->mark_price, c), qtr_dec_format(p->unrealized_pnl, d), qtr_dec_format(p->realized_pnl, e));
        first = false;
    }
    fputs("],\"trades_list\":[", m);
    for (size_t k = 0; k < r->n_closed; k++) write_json_trade(r, &r->closed[k], k == 0, m);
    fputs("]", m);
}

int qh_report_write_json(const qh_report *r, FILE *out)
{
    qh_report_summary s;
    if (qh_report_summary_get(r, &s) != 0) return -1;
    char se[QTR_DEC_STRLEN], ee[QTR_DEC_STRLEN], np[QTR_DEC_STRLEN], fe[QTR_DEC_STRLEN];
    char fu[QTR_DEC_STRLEN], rp[QTR_DEC_STRLEN], dd[QTR_DEC_STRLEN + 4], wr[64], sh[64];
    char un[QTR_DEC_STRLEN], rt[QTR_DEC_STRLEN], ir[QTR_DEC_STRLEN];
    qtr_dec_format(s.start_equity, se);
    qtr_dec_format(s.end_equity, ee);
    qtr_dec_format(s.net_pnl, np);
    qtr_dec_format(s.fees, fe);
    qtr_dec_format(s.funding, fu);
    qtr_dec_format(s.realized_pnl, rp);
    fmt_pct(s.max_drawdown_pct, dd);
    fmt_double(s.win_rate, 6, wr, sizeof wr);
    fmt_double(s.sharpe, 6, sh, sizeof sh);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return -1;
    fprintf(m,
            "{\"candles\":%lld,\"trades\":%lld,\"wins\":%lld,\"losses\":%lld,"
            "\"start_equity\":\"%s\",\"end_equity\":\"%s\",\"net_pnl\":\"%s\",\"fees\":\"%s\","
            "\"max_drawdown_pct\":\"%s\",\"win_rate\":%s,\"sharpe\":%s,"
            "\"funding\":\"%s\",\"realized_pnl\":\"%s\",\"open_trades\":%lld,\"fills\":%lld,"
            "\"symbols\":%lld,\"first_candle_ms\":%lld,\"last_candle_ms\":%lld,\"interval_ms\":%lld,"
            "\"volumes_rounded\":%lld",
            (long long)s.candles, (long long)s.trades, (long long)s.wins, (long long)s.losses,
            se, ee, np, fe, dd, wr, sh, fu, rp, (long long)s.open_trades, (long long)s.fills,
            (long long)s.symbols, (long long)s.first_candle_ms, (long long)s.last_candle_ms,
            (long long)s.interval_ms, (long long)s.volumes_rounded);
    fprintf(m,
            ",\"unrealized_pnl\":\"%s\",\"realized_pnl_total\":\"%s\",\"identity_residual\":\"%s\","
            "\"signals\":%lld,\"orders\":%lld,\"refusals\":{",
            qtr_dec_format(s.unrealized_pnl, un), qtr_dec_format(s.realized_pnl_total, rt),
            qtr_dec_format(s.identity_residual, ir), (long long)s.signals, (long long)s.orders);
    for (int k = 0; k < QH_REFUSAL__COUNT; k++)
        fprintf(m, "%s\"%s\":%lld", k ? "," : "", qh_refusal_name((qh_refusal_kind)k), (long long)s.refusals[k]);
    char so[64], ca[64], ar[64];
    fmt_double(s.sortino, 6, so, sizeof so);
    fmt_double(s.calmar, 6, ca, sizeof ca);
    fmt_double(s.annual_return_pct, 6, ar, sizeof ar);
    fprintf(m, "},\"sortino\":%s,\"calmar\":%s,\"annual_return_pct\":%s", so, ca, ar);
    qh_report_months_write_json(&r->months, m);
    fprintf(m, ",\"ess_trips\":%lld,\"drawdown_guard_first_ms\":%lld,\"drawdown_guard_last_ms\":%lld,"
               "\"time_in_market_ms\":%lld",
            (long long)s.ess_trips, (long long)s.guard_first_ms, (long long)s.guard_last_ms,
            (long long)s.time_in_market_ms);
    char ae[QTR_DEC_STRLEN], tn[QTR_DEC_STRLEN], to[64], ax[64], mx[64];
    fmt_double(s.turnover, 6, to, sizeof to);
    fmt_double(s.avg_gross_exposure, 6, ax, sizeof ax);
    fmt_double(s.max_gross_exposure, 6, mx, sizeof mx);
    fprintf(m, ",\"avg_equity\":\"%s\",\"traded_notional\":\"%s\",\"turnover\":%s,\"avg_gross_exposure\":%s,"
               "\"max_gross_exposure\":%s",
            qtr_dec_format(s.avg_equity, ae), qtr_dec_format(s.traded_notional, tn), to, ax, mx);
    write_json_rows(r, m);
    fputs("}\n", m);
    if (fclose(m) != 0 || !buf) {
        free(buf);
        return -1;
    }
    /* One write, so a reader never sees half a report from us. */
    int rc = fwrite(buf, 1, len, out) == len && fflush(out) == 0 ? 0 : -1;
    free(buf);
    return rc;
}

static void fmt_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, cap, "%lld", (long long)ms);
}

void qh_report_print(const qh_report *r, FILE *out)
{
    qh_report_summary s;
    if (qh_report_summary_get(r, &s) != 0) {
        fprintf(out, "backtest report unavailable: %s\n", r->error[0] ? r->error : "overflow in net PnL");
        return;
    }
    char a[QTR_DEC_STRLEN + 4], b[QTR_DEC_STRLEN], t0[32], t1[32], d[64];
    fprintf(out, "Backtest report\n");
    fprintf(out, "  %-16s %lld over %lld symbol%s\n", "candles", (long long)s.candles, (long long)s.symbols,
            s.symbols == 1 ? "" : "s");
    if (s.candles) {
        fmt_time(s.first_candle_ms, t0, sizeof t0);
        fmt_time(s.last_candle_ms, t1, sizeof t1);
        fprintf(out, "  %-16s %s .. %s (interval %lld ms)\n", "period", t0, t1, (long long)s.interval_ms);
    }
    fmt_double(s.win_rate * 100.0, 2, d, sizeof d);
    fprintf(out, "  %-16s %lld (%lld wins, %lld losses, win rate %s%%), %lld still open\n", "trades",
            (long long)s.trades, (long long)s.wins, (long long)s.losses, d, (long long)s.open_trades);
    fprintf(out, "  %-16s %s\n", "start equity", qtr_dec_format(s.start_equity, b));
    fprintf(out, "  %-16s %s\n", "end equity", qtr_dec_format(s.end_equity, b));
    fprintf(out, "  %-16s %s\n", "net PnL", qtr_dec_format(s.net_pnl, b));
    fprintf(out, "  %-16s %s\n", "realized PnL", qtr_dec_format(s.realized_pnl, b));
    fprintf(out, "  %-16s %s\n", "fees", qtr_dec_format(s.fees, b));
    fprintf(out, "  %-16s %s\n", "funding", qtr_dec_format(s.funding, b));
    if (s.volumes_rounded)
        fprintf(out, "  %-16s %lld input volumes had more than 8 decimals (rounded half-even)\n", "data",
                (long long)s.volumes_rounded);
    char u[QTR_DEC_STRLEN], rt[QTR_DEC_STRLEN], f2[QTR_DEC_STRLEN], fu[QTR_DEC_STRLEN];
    fprintf(out, "  %-16s %s (open positions at the last mark)\n", "unrealized PnL", qtr_dec_format(s.unrealized_pnl, u));
    fprintf(out, "  %-16s net %s = realized %s + unrealized %s - fees %s + funding %s: %s\n", "identity",
            qtr_dec_format(s.net_pnl, b), qtr_dec_format(s.realized_pnl_total, rt), u, qtr_dec_format(s.fees, f2),
            qtr_dec_format(s.funding, fu), s.identity_residual == 0 ? "holds" : "DOES NOT HOLD");
    fprintf(out, "  %-16s %lld signals, %lld orders, %lld fills\n", "activity", (long long)s.signals,
            (long long)s.orders, (long long)s.fills);
    fprintf(out, "  %-16s", "refused");
    for (int k = 0; k < QH_REFUSAL__COUNT; k++)
        fprintf(out, "%s %lld %s", k ? "," : "", (long long)s.refusals[k], qh_refusal_name((qh_refusal_kind)k));
    fputc('\n', out);
    if (s.guard_first_ms) {
        fmt_time(s.guard_first_ms, t0, sizeof t0);
        fmt_time(s.guard_last_ms, t1, sizeof t1);
        fprintf(out, "  %-16s the drawdown guard refused orders from %s to %s\n", "guard", t0, t1);
    }
    fprintf(out, "  %-16s %lld\n", "ESS trips", (long long)s.ess_trips);
    if (s.candles && s.interval_ms) {
        int64_t span = s.last_candle_ms + s.interval_ms - s.first_candle_ms;
        fmt_double(span > 0 ? 100.0 * (double)s.time_in_market_ms / (double)span : 0.0, 2, d, sizeof d);
        fprintf(out, "  %-16s %s%% of the period\n", "in the market", d);
    }
    char ax[64], mx[64], tv[64];
    fmt_double(s.avg_gross_exposure, 3, ax, sizeof ax);
    fmt_double(s.max_gross_exposure, 3, mx, sizeof mx);
    fmt_double(s.turnover, 2, tv, sizeof tv);
    fprintf(out, "  %-16s average %s, max %s of equity (gross, time-weighted)\n", "exposure", ax, mx);
    fprintf(out, "  %-16s %s (traded %s over average equity %s)\n", "turnover", tv, qtr_dec_format(s.traded_notional, u),
            qtr_dec_format(s.avg_equity, f2));
    fmt_pct(s.max_drawdown_pct, a);
    fprintf(out, "  %-16s %s%%\n", "max drawdown", a);
    fmt_double(s.sharpe, 3, d, sizeof d);
    fprintf(out, "  %-16s %s\n", "Sharpe", d);
    char so[64], ca[64];
    fmt_double(s.sortino, 3, so, sizeof so);
    fmt_double(s.calmar, 3, ca, sizeof ca);
    fmt_double(s.annual_return_pct, 2, d, sizeof d);
    fprintf(out, "  %-16s Sortino %s, Calmar %s (annualized return %s%%)\n", "ratios", so, ca, d);
    for (size_t i = 0; i < r->months.n; i++) {
        const qh_month *mo = &r->months.items[i];
        double from = qtr_dec_to_display_double(mo->start_equity), to = qtr_dec_to_display_double(mo->end_equity);
        fmt_double(from > 0 ? (to / from - 1.0) * 100.0 : 0.0, 2, d, sizeof d);
        fprintf(out, "  %-16s %04d-%02d %s%%\n", i ? "" : "monthly returns", (int)mo->year, (int)mo->month, d);
    }
    size_t n = qh_symbol_index_count(r->trip_symbols);
    if (n)
        fprintf(out, "  %-12s %7s %6s %16s %14s %14s %16s %9s %9s\n", "symbol", "trades", "wins", "realized", "fees",
                "funding", "traded", "turnover", "exposure");
    for (size_t i = 0; i < n; i++) {
        qh_symbol_row row;
        qh_report_symbol_row(r, i, &row);
        fmt_double(row.turnover, 2, tv, sizeof tv);
        fmt_double(row.avg_exposure, 3, ax, sizeof ax);
        fprintf(out, "  %-12s %7lld %6lld %16s %14s %14s %16s %9s %9s\n", row.symbol, (long long)row.trades,
                (long long)row.wins, qtr_dec_format(row.realized, u), qtr_dec_format(row.fees, f2),
                qtr_dec_format(row.funding, fu), qtr_dec_format(row.traded, b), tv, ax);
    }
    for (size_t k = 0; k < n; k++) {
        qtr_position op;
        if (!open_position(r, k, &op)) continue;
        const qtr_position *p = &op;
        fprintf(out, "  open %-8s qty %s entry %s mark %s unrealized %s\n", p->symbol, qtr_dec_format(p->qty, u),
                qtr_dec_format(p->entry_price, f2), qtr_dec_format(p->mark_price, fu), qtr_dec_format(p->unrealized_pnl, rt));
    }
}
