/*
 * The HTML report (`qtr backtest --html FILE`): one self-contained file, no
 * script and no network: the summary, equity, drawdown and the position over
 * time, trade markers on the price of the first symbol, the monthly returns
 * and the trades. Charts are inline SVG; coordinates are computed in double
 * from the exact figures (display only), every number shown is the exact
 * decimal string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_internal.h"

#define W 900.0
#define H 180.0
/* Room left of a chart for its value labels: the longest "%.8g" of a value
 * the report can chart ("-9.2233720e+10": a sign, 8 digits, '.', a two-digit
 * exponent) is under 100 units at 11px in DejaVu Sans, the widest of the
 * common sans fonts (0.636em a digit). The same for every chart, so their
 * time axes line up one above the other. */
#define LEFT 100.0

/* Display coordinates only: the values are read from the exact series. */
typedef struct chart {
    int64_t t[QH_SERIES_MAX + 1];
    qtr_dec raw[QH_SERIES_MAX + 1];
    double v[QH_SERIES_MAX + 1];
    size_t n;
    int64_t t0, t1;
    double lo, hi;
} chart;

static double dbl(qtr_dec v) { return qtr_dec_to_display_double(v); }

static void bounds(chart *c, int64_t t0, int64_t t1)
{
    c->t0 = t0;
    c->t1 = t1 > t0 ? t1 : t0 + 1;
    c->lo = c->hi = c->n ? c->v[0] : 0.0;
    for (size_t i = 1; i < c->n; i++) {
        double v = c->v[i];
        if (v < c->lo) c->lo = v;
        if (v > c->hi) c->hi = v;
    }
    if (c->hi <= c->lo) c->hi = c->lo + 1.0;
}

static double x_of(const chart *c, int64_t t) { return (double)(t - c->t0) / (double)(c->t1 - c->t0) * W; }
static double y_of(const chart *c, double v) { return H - (v - c->lo) / (c->hi - c->lo) * H; }

static void html_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M", &tm)) snprintf(buf, cap, "%lld", (long long)ms);
}

/* A polyline (step: holds each value until the next point), its highest
 * and lowest values left of it, its first and last times under it. */
static void svg_line(FILE *o, const chart *c, const char *title, const char *color, bool step)
{
    char from[32], to[32];
    html_time(c->t0, from, sizeof from);
    html_time(c->t1, to, sizeof to);
    fprintf(o, "<h2>%s</h2>\n<svg viewBox=\"%.0f -10 %.0f %.0f\" width=\"100%%\">", title, -LEFT, W + LEFT + 10, H + 30);
    fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" stroke=\"#ccc\"/>", W, H);
    fprintf(o, "<text x=\"-5\" y=\"10\" text-anchor=\"end\">%.8g</text><text x=\"-5\" y=\"%.0f\" text-anchor=\"end\">%.8g</text>",
            c->hi, H, c->lo);
    fprintf(o, "<text x=\"0\" y=\"%.0f\">%s</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s UTC</text>", H + 14,
            from, W, H + 14, to);
    fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" points=\"", color);
    for (size_t i = 0; i < c->n; i++) {
        double x = x_of(c, c->t[i]), y = y_of(c, c->v[i]);
        if (step && i) fprintf(o, "%.1f,%.1f ", x, y_of(c, c->v[i - 1]));
        fprintf(o, "%.1f,%.1f ", x, y);
    }
    fputs("\"/>", o);
}

static void load(chart *c, const qh_series *s)
{
    c->n = qh_series_points(s, c->t, c->raw);
    for (size_t i = 0; i < c->n; i++) c->v[i] = dbl(c->raw[i]);
}

/* Where a marker at t sits on the chart: the last plotted point at or before
 * it. A drawing coordinate, never money. */
static double chart_y_at(const chart *c, int64_t t)
{
    double p = c->n ? c->v[0] : 0.0;
    for (size_t i = 0; i < c->n && c->t[i] <= t; i++) p = c->v[i];
    return p;
}

/* One row per symbol (the console table's, with net PnL = realized +
 * unrealized - fees + funding), then the positions still open. */
static void write_symbols(const qh_report *r, FILE *o)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN], d[QTR_DEC_STRLEN], e[QTR_DEC_STRLEN];
    size_t n = qh_report_symbol_count(r), open = 0;
    fputs("<h2>Per symbol</h2>\n<table><tr><th>symbol</th><th>trades</th><th>wins</th><th>win rate</th><th>realized</th>"
          "<th>unrealized</th><th>fees</th><th>funding</th><th>net PnL</th><th>traded</th><th>turnover</th>"
          "<th>exposure</th></tr>", o);
    for (size_t i = 0; i < n; i++) {
        qh_symbol_row w;
        qh_report_symbol_row(r, i, &w);
        open += w.open;
        qtr_dec net = 0;
        bool ok = qtr_dec_add(w.realized, w.unrealized, &net) && qtr_dec_sub(net, w.fees, &net) &&
                  qtr_dec_add(net, w.funding, &net);
        fprintf(o, "<tr><td>%s</td><td>%lld</td><td>%lld</td><td>%.2f%%</td><td>%s</td><td>%s</td>", w.symbol,
                (long long)w.trades, (long long)w.wins, w.trades ? 100.0 * (double)w.wins / (double)w.trades : 0.0,
                qtr_dec_format(w.realized, a), qtr_dec_format(w.unrealized, b));
        fprintf(o, "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.3f</td></tr>",
                qtr_dec_format(w.fees, c), qtr_dec_format(w.funding, d), ok ? qtr_dec_format(net, e) : "overflow",
                qtr_dec_format(w.traded, a), w.turnover, w.avg_exposure);
    }
    fputs("</table>\n", o);
    if (!open) return;
    fputs("<h2>Open positions (at the last mark)</h2>\n<table><tr><th>symbol</th><th>qty</th><th>entry</th><th>mark</th>"
          "<th>unrealized</th></tr>", o);
    for (size_t i = 0; i < n; i++) {
        qh_symbol_row w;
        qh_report_symbol_row(r, i, &w);
        if (!w.open) continue;
        fprintf(o, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", w.symbol,
                qtr_dec_format(w.position.qty, a), qtr_dec_format(w.position.entry_price, b),
                qtr_dec_format(w.position.mark_price, c), qtr_dec_format(w.position.unrealized_pnl, d));
    }
    fputs("</table>\n", o);
}

int qh_report_write_html(const qh_report *r, FILE *o)
{
    qh_report_summary s;
    if (qh_report_summary_get(r, &s) != 0) return -1;
    chart *c = malloc(sizeof *c);
    if (!c) return -1;
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], d[QTR_DEC_STRLEN], t0[32], t1[32];
    int64_t start = s.first_candle_ms, end = s.last_candle_ms + s.interval_ms;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Backtest report</title>\n"
          "<style>body{font:14px sans-serif;margin:2em;max-width:1240px}table{border-collapse:collapse;display:block;max-width:100%;overflow-x:auto}"
          "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}"
          "svg text{font:11px sans-serif}</style></head><body>\n<h1>Backtest report</h1>\n", o);
    html_time(start, t0, sizeof t0);
    html_time(end, t1, sizeof t1);
    fprintf(o, "<table><tr><th>period</th><td>%s .. %s UTC</td></tr>", t0, t1);
    fprintf(o, "<tr><th>candles</th><td>%lld</td></tr><tr><th>trades</th><td>%lld (%lld wins), %lld open</td></tr>",
            (long long)s.candles, (long long)s.trades, (long long)s.wins, (long long)s.open_trades);
    fprintf(o, "<tr><th>start / end equity</th><td>%s / %s</td></tr>", qtr_dec_format(s.start_equity, a),
            qtr_dec_format(s.end_equity, b));
    fprintf(o, "<tr><th>net PnL</th><td>%s</td></tr>", qtr_dec_format(s.net_pnl, a));
    fprintf(o, "<tr><th>realized + unrealized - fees + funding</th><td>%s + %s - ", qtr_dec_format(s.realized_pnl_total, a),
            qtr_dec_format(s.unrealized_pnl, b));
    fprintf(o, "%s + ", qtr_dec_format(s.fees, a));
    fprintf(o, "%s (%s)</td></tr>", qtr_dec_format(s.funding, b), s.identity_residual == 0 ? "holds" : "does not hold");
    fprintf(o, "<tr><th>max drawdown</th><td>%s%%</td></tr>", qtr_dec_format(s.max_drawdown_pct, a));
    fprintf(o, "<tr><th>Sharpe / Sortino / Calmar</th><td>%.3f / %.3f / %.3f</td></tr>", s.sharpe, s.sortino, s.calmar);
    fprintf(o, "<tr><th>activity</th><td>%lld signals, %lld orders, %lld fills</td></tr>", (long long)s.signals,
            (long long)s.orders, (long long)s.fills);
    fprintf(o, "<tr><th>refused</th><td>%lld policy, %lld drawdown guard, %lld ESS, %lld invalid, %lld exchange</td></tr>",
            (long long)s.refusals[0], (long long)s.refusals[1], (long long)s.refusals[2], (long long)s.refusals[3],
            (long long)s.refusals[4]);
    if (s.guard_first_ms) {
        html_time(s.guard_first_ms, t0, sizeof t0);
        html_time(s.guard_last_ms, t1, sizeof t1);
        fprintf(o, "<tr><th>drawdown guard</th><td>refused orders from %s to %s UTC</td></tr>", t0, t1);
    }
    if (end > start)
        fprintf(o, "<tr><th>in the market</th><td>%.2f%% of the period</td></tr>",
                100.0 * (double)s.time_in_market_ms / (double)(end - start));
    if (s.volumes_rounded)
        fprintf(o, "<tr><th>data</th><td>%lld input volumes had more than 8 decimals (rounded half-even)</td></tr>",
                (long long)s.volumes_rounded);
    fprintf(o, "<tr><th>ESS trips</th><td>%lld</td></tr>", (long long)s.ess_trips);
    fprintf(o, "<tr><th>gross exposure / equity (average, max)</th><td>%.3f, %.3f</td></tr>", s.avg_gross_exposure,
            s.max_gross_exposure);
    fprintf(o, "<tr><th>turnover (traded / average equity)</th><td>%.2f (%s / ", s.turnover,
            qtr_dec_format(s.traded_notional, a));
    fprintf(o, "%s)</td></tr></table>\n", qtr_dec_format(s.avg_equity, b));
    write_symbols(r, o);

    load(c, &r->equity_series);
    bounds(c, start, end);
    svg_line(o, c, "Equity", "#1565c0", false);
    fputs("</svg>\n", o);
    /* drawdown from the running peak, in percent (display) */
    double peak = dbl(r->start_equity);
    for (size_t i = 0; i < c->n; i++) {
        double e = c->v[i];
        if (e > peak) peak = e;
        c->v[i] = peak > 0 ? (e - peak) / peak * 100.0 : 0.0;
    }
    bounds(c, start, end);
    if (c->hi > 0) c->hi = 0;
    svg_line(o, c, "Drawdown (%)", "#c62828", false);
    fputs("</svg>\n", o);

    load(c, &r->price_series);
    bounds(c, start, end);
    char title[96];
    snprintf(title, sizeof title, "%s price, trades (&#9650; opened, &#9660; closed)", r->chart_symbol);
    svg_line(o, c, title, "#424242", false);
    for (size_t k = 0; k < r->n_closed; k++) {
        const closed_trade *t = &r->closed[k];
        if (strcmp(qh_symbol_index_name(r->trip_symbols, t->sym), r->chart_symbol) != 0) continue;
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"middle\">&#9650;</text>", x_of(c, t->open_ms),
                y_of(c, chart_y_at(c, t->open_ms)) + 4, t->side > 0 ? "#2e7d32" : "#c62828");
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\" text-anchor=\"middle\">&#9660;</text>", x_of(c, t->close_ms),
                y_of(c, chart_y_at(c, t->close_ms)) + 4);
    }
    fputs("</svg>\n", o);
    load(c, &r->position_series);
    bounds(c, start, end);
    snprintf(title, sizeof title, "%s position", r->chart_symbol);
    svg_line(o, c, title, "#6a1b9a", true);
    fputs("</svg>\n", o);
    free(c);

    fputs("<h2>Monthly returns</h2>\n<table><tr><th>month</th><th>start equity</th><th>end equity</th><th>return</th></tr>", o);
    for (size_t i = 0; i < r->months.n; i++) {
        const qh_month *m = &r->months.items[i];
        double from = dbl(m->start_equity), to = dbl(m->end_equity);
        fprintf(o, "<tr><td>%04d-%02d</td><td>%s</td><td>%s</td><td>%.2f%%</td></tr>", (int)m->year, (int)m->month,
                qtr_dec_format(m->start_equity, a), qtr_dec_format(m->end_equity, b),
                from > 0 ? (to / from - 1.0) * 100.0 : 0.0);
    }
    fputs("</table>\n<h2>Trades</h2>\n<table><tr><th>symbol</th><th>side</th><th>opened (UTC)</th><th>closed (UTC)</th>"
          "<th>realized</th><th>fees</th><th>PnL</th></tr>", o);
    for (size_t k = 0; k < r->n_closed; k++) {
        const closed_trade *t = &r->closed[k];
        qtr_dec pnl = 0;
        qtr_dec_sub(t->realized, t->fees, &pnl);
        html_time(t->open_ms, t0, sizeof t0);
        html_time(t->close_ms, t1, sizeof t1);
        fprintf(o, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                qh_symbol_index_name(r->trip_symbols, t->sym), t->side > 0 ? "long" : "short", t0, t1,
                qtr_dec_format(t->realized, a), qtr_dec_format(t->fees, b), qtr_dec_format(pnl, d));
    }
    fputs("</table>\n</body></html>\n", o);
    return ferror(o) ? -1 : 0;
}
