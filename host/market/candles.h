/*
 * Market data sources for the host: candle files and a synthetic market.
 *
 * CSV files: the header format `open_time_ms,open,high,low,close,volume`, or
 * Binance's 12-column kline CSV without a header (open time, o, h, l, c, v,
 * close time, quote volume, trades, taker base, taker quote, ignore). Decimals
 * are parsed exactly; a bad row is refused with "file:line: reason". Rows must
 * be in strictly increasing open time. Only regular files are read, and no
 * line may be longer than QH_DATA_LINE_MAX bytes (market/data_file.h).
 */
#ifndef QH_CANDLES_H
#define QH_CANDLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

typedef struct qh_candle_vec {
    qtr_candle *items;
    size_t len, cap;
    size_t volumes_rounded;   /* volumes read with more than 8 decimals, rounded half-even */
    size_t first_line;        /* a vector of one file: the line of its first row */
} qh_candle_vec;

void qh_candle_vec_free(qh_candle_vec *v);
/* Ask the kernel for huge pages over a large buffer (a hint; no effect on
 * results): fewer page faults when millions of candles are loaded. */
void qh_hint_huge_pages(void *p, size_t bytes);

/* The symbol a file stands for: the leading [A-Za-z0-9]+ of its basename,
 * upper-cased ("../data/XRPUSDT-perp-5m.csv" -> "XRPUSDT"). False if none. */
bool qh_symbol_from_path(const char *path, char out[QTR_SYMBOL_MAX]);

/* Append every candle of `path` to `out`, tagged with `symbol`. The interval
 * (close_time_ms) comes from the 12-column format, or from the spacing of the
 * rows. 0 on success; -1 with "path:line: reason" in err. */
int qh_csv_load(const char *path, const char *symbol, qh_candle_vec *out, char *err, size_t errlen);

/* Merge several per-symbol series into one, ordered by open time then by
 * symbol (stable and deterministic: equal keys keep series order, then their
 * order within the series). Series already in that order (every file read by
 * qh_csv_load) are k-way merged without a scratch copy; otherwise all of them
 * are sorted together, to the same order. */
int qh_candles_merge(qh_candle_vec *const *series, size_t n, qh_candle_vec *out);
/* The same merge, for series that are thrown away after it: they are freed
 * (also on error), and as the merge goes the pages of candles already merged
 * are returned to the kernel, so the peak is about one copy of the candles,
 * not two. */
int qh_candles_merge_consume(qh_candle_vec *const *series, size_t n, qh_candle_vec *out);

/* The synthetic market: a seeded random walk per symbol that switches between
 * trending, ranging and volatile regimes, with volatility clustering
 * (GARCH-like), and volumes that grow with volatility. Same seed, same
 * candles, on every machine (integer arithmetic only for prices). */
typedef struct qh_synth_config {
    uint64_t seed;
    int64_t start_ms;          /* open time of the first candle            */
    int64_t interval_ms;       /* candle length                            */
    size_t n_symbols;
    const char *const *symbols;
    const qtr_dec *start_prices; /* one per symbol; NULL: 100 for each       */
} qh_synth_config;

typedef struct qh_synth qh_synth;
qh_synth *qh_synth_new(const qh_synth_config *cfg);
void qh_synth_free(qh_synth *s);
/* The next candle, cycling through the symbols; never fails. */
void qh_synth_next(qh_synth *s, qtr_candle *out);
/* The regime a symbol is in now: "trending", "ranging" or "volatile". */
const char *qh_synth_regime(const qh_synth *s, size_t symbol_index);

/* ---- additions to the original interface ---------------------------------- */

/* Grow v to hold at least cap candles; 0, or -1 when out of memory. */
int qh_candle_vec_reserve(qh_candle_vec *v, size_t cap);
/* Append one candle; 0, or -1 when out of memory. */
int qh_candle_vec_push(qh_candle_vec *v, const qtr_candle *c);

/* qh_csv_load() on text already in memory (len bytes, no NUL needed); name is
 * what error messages call the source. On error `out` is left as it was: a
 * file is loaded whole or not at all.
 *
 * The 6-column format has no close time: the interval is the spacing of the
 * first two rows, so a 6-column file with a single row is refused (a guessed
 * interval would be a silent default). Every row must open at or after the
 * previous row's close (open + interval), so candles never overlap. Columns 8
 * to 12 of the Binance format are counted but not used. A UTF-8 byte order
 * mark, CRLF line endings and a missing final newline are accepted; blank
 * lines only at the end. Binance's own header line (open_time,open,...,ignore)
 * is accepted before 12-column rows. */
int qh_csv_parse(const char *name, const char *data, size_t len, const char *symbol,
                 qh_candle_vec *out, char *err, size_t errlen);

/* qh_synth_new() returns NULL for a bad config (no symbols, interval <= 0, a
 * start price <= 0, a NULL or over-long symbol) or when out of memory. */

/* Times at or after this (2286-11-20) are not milliseconds: a file in
 * microseconds (Binance's spot klines since 2025 write 16 digits) would be
 * read as the year 53842. Refused, with this said. */
#define QH_CSV_TIME_MAX_MS INT64_C(10000000000000)
#define QH_CSV_TIME_UNIT_HINT "times must be Unix milliseconds (a file in microseconds must be converted)"

/* A time in milliseconds as the CSV files write it: 1 to 18 digits, nothing
 * else. False if the text is not one. Inline: it runs for every row. */
static inline bool qh_csv_parse_ms(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 18) return false;   /* 18 digits cannot overflow int64 */
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Regime codes behind qh_synth_regime(), for statistics in tests and tools. */
typedef enum qh_regime { QH_REGIME_TRENDING = 0, QH_REGIME_RANGING, QH_REGIME_VOLATILE } qh_regime;
qh_regime qh_synth_regime_code(const qh_synth *s, size_t symbol_index);

#endif
