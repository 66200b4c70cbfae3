/* report.c — see report.h for every definition. */
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portfolio/symbol_index.h"

/* As many symbols as the portfolio tracks. */
#define REPORT_MAX_SYMBOLS 1024
#define MS_PER_YEAR (365.0 * 24.0 * 3600.0 * 1000.0)

/* One symbol's current round trip. */
typedef struct trip {
    bool open;
    qtr_dec realized, fees;
} trip;

/* Running mean and variance of returns (Welford): no history kept. */
typedef struct welford {
    int64_t n;
    double mean, m2;
    bool undefined;            /* a return from a non-positive equity */
} welford;

struct qh_report {
    qtr_dec start_equity;
    int64_t candles, fills, trades, wins, losses;
    qtr_dec fees, realized;
    /* equity path */
    bool have_account;
    qtr_dec end_equity, funding, peak, max_drawdown_pct;
    /* Sharpe: the pending sample (latest equity at sample_ms) becomes a
     * return only once a later time arrives. */
    bool have_sample;
    int64_t sample_ms;
    qtr_dec sample_equity, prev_equity;
    welford ret;
    /* candles */
    int64_t first_ms, last_ms, interval_ms;
    qh_symbol_index *candle_symbols;
    qh_symbol_index *trip_symbols;
    trip *trips;
    int64_t volumes_rounded;
    char error[192];
};

static void set_error(qh_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(qh_report *r, const char *fmt, ...)
{
    if (r->error[0]) return;   /* the first error is the one worth reading */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

qh_report *qh_report_new(qtr_dec start_equity)
{
    qh_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->candle_symbols = qh_symbol_index_new(REPORT_MAX_SYMBOLS);
    r->trip_symbols = qh_symbol_index_new(REPORT_MAX_SYMBOLS);
    r->trips = calloc(REPORT_MAX_SYMBOLS, sizeof *r->trips);
    if (!r->candle_symbols || !r->trip_symbols || !r->trips) {
        qh_report_free(r);
        return NULL;
    }
    r->start_equity = start_equity;
    r->end_equity = start_equity;
    r->peak = start_equity;
    r->prev_equity = start_equity;   /* the first return is from the start */
    return r;
}

void qh_report_free(qh_report *r)
{
    if (!r) return;
    qh_symbol_index_free(r->candle_symbols);
    qh_symbol_index_free(r->trip_symbols);
    free(r->trips);
    free(r);
}

const char *qh_report_error(const qh_report *r) { return r->error; }

void qh_report_on_candle(qh_report *r, const qtr_candle *c)
{
    if (r->error[0]) return;
    if (!c || qh_symbol_index_intern(r->candle_symbols, c->symbol) < 0) {
        set_error(r, "report: candle with a bad symbol, or more than %d symbols", REPORT_MAX_SYMBOLS);
        return;
    }
    if (r->candles == 0 || c->open_time_ms < r->first_ms) r->first_ms = c->open_time_ms;
    if (r->candles == 0 || c->open_time_ms > r->last_ms) r->last_ms = c->open_time_ms;
    /* Binance: close = open + interval - 1. Keep the shortest one seen. */
    if (c->close_time_ms >= c->open_time_ms) {
        int64_t iv = c->close_time_ms - c->open_time_ms + 1;
        if (r->interval_ms == 0 || iv < r->interval_ms) r->interval_ms = iv;
    }
    r->candles++;
}

static bool add_to(qtr_dec *acc, qtr_dec v) { return qtr_dec_add(*acc, v, acc); }

/* Count a finished round trip. */
static bool close_trip(qh_report *r, trip *t)
{
    qtr_dec pnl;
    if (!qtr_dec_sub(t->realized, t->fees, &pnl) || !add_to(&r->realized, t->realized)) return false;
    r->trades++;
    if (pnl > 0) r->wins++;
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
    qtr_dec fees = r->fees, realized = r->realized;
    int64_t trades = r->trades, wins = r->wins, losses = r->losses;
    qtr_dec b = before->qty, a = after->qty;
    bool ok = add_to(&fees, f->fee);
    if (ok && b == 0) {
        /* flat -> open: a new round trip */
        t.open = true;
        t.realized = delta_realized;
        t.fees = f->fee;
    } else if (ok && (a == 0 || qtr_dec_sign(a) == qtr_dec_sign(b))) {
        /* adding, reducing or closing: the same round trip. A position that
         * was open before the report began counts from here. */
        t.open = true;
        ok = add_to(&t.realized, delta_realized) && add_to(&t.fees, f->fee);
        if (ok && a == 0) ok = close_trip(r, &t);
    } else if (ok) {
        /* flip: close this trip with its share of the fee, open the next */
        qtr_dec close_fee;
        ok = qtr_dec_muldiv(f->fee, qtr_dec_abs(b), f->qty, QTR_ROUND_HALF_EVEN, &close_fee) &&
             add_to(&t.realized, delta_realized) && add_to(&t.fees, close_fee) && close_trip(r, &t);
        if (ok) {
            t.open = true;
            t.realized = 0;
            ok = qtr_dec_sub(f->fee, close_fee, &t.fees);
        }
    }
    if (!ok) {
        r->realized = realized;
        r->trades = trades;
        r->wins = wins;
        r->losses = losses;
        set_error(r, "report: fill %s %s: overflow in trade figures", id, f->symbol);
        return;
    }
    r->trips[ix] = t;
    r->fees = fees;
    r->fills++;
}

/* Add the return from `from` to `to` to the running statistics. */
static void add_return(welford *w, qtr_dec from, qtr_dec to)
{
    if (from <= 0) {
        w->undefined = true;
        return;
    }
    /* Statistics, not money: double is the right tool here. */
    double x = (qtr_dec_to_display_double(to) - qtr_dec_to_display_double(from)) / qtr_dec_to_display_double(from);
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
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
        if (!qtr_dec_sub(peak, a->equity, &gap) ||
            !qtr_dec_muldiv(gap, QTR_DEC_INT(100), peak, QTR_ROUND_HALF_EVEN, &dd)) {
            set_error(r, "report: account at %lld: overflow in drawdown", (long long)a->time_ms);
            return;
        }
    }
    r->peak = peak;
    if (dd > r->max_drawdown_pct) r->max_drawdown_pct = dd;
    r->have_account = true;
    r->end_equity = a->equity;
    r->funding = a->funding;

    if (r->have_sample && a->time_ms > r->sample_ms) {
        add_return(&r->ret, r->prev_equity, r->sample_equity);
        r->prev_equity = r->sample_equity;
    }
    if (!r->have_sample || a->time_ms >= r->sample_ms) r->sample_ms = a->time_ms;
    r->sample_equity = a->equity;   /* the latest equity of this period */
    r->have_sample = true;
}

void qh_report_set_volumes_rounded(qh_report *r, int64_t n) { r->volumes_rounded = n; }

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
    if (r->have_sample) add_return(&w, r->prev_equity, r->sample_equity);
    out->sharpe = 0.0;
    if (!w.undefined && w.n >= 2 && r->interval_ms > 0) {
        double sd = sqrt(w.m2 / (double)(w.n - 1));
        double s = sd > 0 ? w.mean / sd * sqrt(MS_PER_YEAR / (double)r->interval_ms) : 0.0;
        if (isfinite(s)) out->sharpe = s;
    }
    out->symbols = (int64_t)qh_symbol_index_count(r->candle_symbols);
    out->first_candle_ms = r->first_ms;
    out->last_candle_ms = r->last_ms;
    out->interval_ms = r->interval_ms;
    out->volumes_rounded = r->volumes_rounded;
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

int qh_report_write_json(const qh_report *r, FILE *out)
{
    qh_report_summary s;
    if (qh_report_summary_get(r, &s) != 0) return -1;
    char se[QTR_DEC_STRLEN], ee[QTR_DEC_STRLEN], np[QTR_DEC_STRLEN], fe[QTR_DEC_STRLEN];
    char fu[QTR_DEC_STRLEN], rp[QTR_DEC_STRLEN], dd[QTR_DEC_STRLEN + 4], wr[64], sh[64];
    qtr_dec_format(s.start_equity, se);
    qtr_dec_format(s.end_equity, ee);
    qtr_dec_format(s.net_pnl, np);
    qtr_dec_format(s.fees, fe);
    qtr_dec_format(s.funding, fu);
    qtr_dec_format(s.realized_pnl, rp);
    fmt_pct(s.max_drawdown_pct, dd);
    fmt_double(s.win_rate, 6, wr, sizeof wr);
    fmt_double(s.sharpe, 6, sh, sizeof sh);
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "{\"candles\":%lld,\"trades\":%lld,\"wins\":%lld,\"losses\":%lld,"
                     "\"start_equity\":\"%s\",\"end_equity\":\"%s\",\"net_pnl\":\"%s\",\"fees\":\"%s\","
                     "\"max_drawdown_pct\":\"%s\",\"win_rate\":%s,\"sharpe\":%s,"
                     "\"funding\":\"%s\",\"realized_pnl\":\"%s\",\"open_trades\":%lld,\"fills\":%lld,"
                     "\"symbols\":%lld,\"first_candle_ms\":%lld,\"last_candle_ms\":%lld,\"interval_ms\":%lld,"
                     "\"volumes_rounded\":%lld}\n",
                     (long long)s.candles, (long long)s.trades, (long long)s.wins, (long long)s.losses,
                     se, ee, np, fe, dd, wr, sh, fu, rp, (long long)s.open_trades, (long long)s.fills,
                     (long long)s.symbols, (long long)s.first_candle_ms, (long long)s.last_candle_ms,
                     (long long)s.interval_ms, (long long)s.volumes_rounded);
    if (n < 0 || (size_t)n >= sizeof buf) return -1;
    /* One write, so a reader never sees half a report from us. */
    if (fwrite(buf, 1, (size_t)n, out) != (size_t)n || fflush(out) != 0) return -1;
    return 0;
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
    fmt_pct(s.max_drawdown_pct, a);
    fprintf(out, "  %-16s %s%%\n", "max drawdown", a);
    fmt_double(s.sharpe, 3, d, sizeof d);
    fprintf(out, "  %-16s %s\n", "Sharpe", d);
}
