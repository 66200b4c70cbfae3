/*
 * strategy_ma_cross — the example strategy: a moving-average cross.
 *
 * Copy this file to start a strategy. It shows every part a strategy needs:
 * an option table the host validates, init() reading and checking options,
 * per-symbol state, on_candle() deciding and submitting signals, on_fill(),
 * and destroy(). It includes only <qtr/...> headers and never links the host.
 *
 * The rule. For each symbol, keep the last `slow` closes. When the average
 * of the last `fast` closes crosses above the average of the last `slow`,
 * target a long position worth `order_notional` (quote currency); when it
 * crosses below, target a short of the same size. A cross that finds a
 * position on the other side flips it in two signals: a reduce-only close
 * of the WHOLE position (its exact quantity, as the host reports it), then
 * a separate entry of the new size. So if risk resizes the entry, the old
 * side is still closed exactly and no dust of it is left behind.
 *
 * Confidence (a score in [0, 1], not money):
 *     spread     = |fast_ma - slow_ma| / slow_ma
 *     confidence = min(1, 0.5 + spread * CONFIDENCE_GAIN)
 * with CONFIDENCE_GAIN = 50 (strategy_common/strategy_votes.c, the trend
 * vote strategy_ensemble also uses): a cross with the averages 1% apart scores 1.0,
 * one 0.2% apart scores 0.6. Signals below `min_confidence` are skipped.
 *
 * Exits (optional, qtr/exits.h): with stop_loss_bps, take_profit_bps,
 * trailing_callback_bps or time_stop_ms set, the strategy hands the host an
 * exit plan for each symbol on its first candle, and the host keeps those
 * exits on the exchange as reduce-only conditional orders for every
 * position the strategy opens (docs/strategies.md, "Exits"). exit_qty_step
 * and exit_price_tick must be the symbol's lot step and tick.
 *
 * Same behaviour live and in a backtest: decisions use candle data only,
 * never the clock, so a simulated clock changes nothing.
 *
 * Cost: O(1) per candle (a ring buffer and two running sums per symbol, a
 * hash lookup for the symbol), and no allocation after a symbol's first
 * candle. Money stays in qtr_dec throughout; only the confidence is double.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

#include "qc/bytes_eq.h"

#include "ma_side.h"          /* the averages and the side, each candle */
#include "strategy_symbols.h"  /* plugins/strategy_common: per-symbol states */
#include "strategy_target.h"   /* plugins/strategy_common: orders toward a target */
#include "strategy_votes.h"    /* plugins/strategy_common: the confidence as a trend vote */

#define MA_MAX_WINDOW 1000       /* longest `slow` accepted                 */
#define MA_MAX_SYMBOLS 512       /* symbols tracked at most                 */

/* ---- options: the host checks types and fills defaults before init() ---- */
static const qtr_option ma_options[] = {
    { .name = "symbols", .type = QTR_OPT_STRING_LIST,
      .help = "symbols to trade; empty: every symbol seen" },
    { .name = "fast", .type = QTR_OPT_INT, .default_value = "10", .min = "1", .max = "999",
      .help = "fast moving average length, in candles" },
    { .name = "slow", .type = QTR_OPT_INT, .default_value = "30", .min = "2", .max = "1000",
      .help = "slow moving average length, in candles (> fast)" },
    { .name = "order_notional", .type = QTR_OPT_DECIMAL, .default_value = "100", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
      .help = "size of a position, in quote currency" },
    { .name = "min_confidence", .type = QTR_OPT_DOUBLE, .default_value = "0", .min = "0", .max = "1",
      .help = "skip signals scoring below this (0..1)" },
    /* exits, kept by the host (qtr/exits.h); 0 turns each off */
    { .name = "stop_loss_bps", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "9999",
      .help = "stop-loss distance from the entry, in bps (0: none)" },
    { .name = "take_profit_bps", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "100000",
      .help = "take-profit distance from the entry, in bps, for the whole position (0: none)" },
    { .name = "trailing_callback_bps", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "1000",
      .help = "trailing stop: retrace from the best price, in bps, 10..1000 (0: none)" },
    { .name = "trailing_activation_bps", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "100000",
      .help = "trailing stop: profit from the entry that activates it, in bps (0: active at once)" },
    { .name = "time_stop_ms", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "31622400000",
      .help = "close the position this long after the entry, on the trading clock (0: never)" },
    { .name = "exit_working_type", .type = QTR_OPT_STRING, .default_value = "last",
      .allowed = (const char *const[]){ "last", "mark", NULL },
      .help = "the price the exits trigger on: last trade or mark" },
    { .name = "exit_qty_step", .type = QTR_OPT_DECIMAL, .default_value = "0.001", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
      .help = "the symbol's lot step, for the exits' quantities" },
    { .name = "exit_price_tick", .type = QTR_OPT_DECIMAL, .default_value = "0.0001", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE,
      .help = "the symbol's price tick: exit prices are rounded to it" },
    { .name = NULL },
};

/* ---- state ---- */

/* One symbol: the last `slow` closes and their running sums. */
typedef struct ma_symbol {
    char symbol[QTR_SYMBOL_MAX];
    size_t symbol_len;           /* strlen(symbol): the per-candle compare  */
    int64_t last_open_ms;        /* newest candle used: repeats are skipped */
    qtr_dec fast_sum, slow_sum;
    int count;                   /* closes seen, capped at slow             */
    int head;                    /* ring index of the next close to write   */
    int fast_out;                /* ring index of the close `fast` back: (head - fast) mod slow */
    int last_side;               /* sign of fast - slow last time it was not 0; 0: unknown */
    size_t seen_ix;              /* its place in ma_state.seen              */
    qtr_dec closes[];            /* ring of `slow` closes                   */
} ma_symbol;

typedef struct ma_state {
    const qtr_host *host;
    qtr_ctx *ctx;
    int fast, slow;
    qtr_dec order_notional;
    double min_confidence;
    const char *const *only;     /* the `symbols` option (host-owned)       */
    size_t n_only;
    qtr_metric *signals_metric;
    bool has_exits;              /* an exit plan is set for each symbol    */
    qtr_exit_plan exits;
    strategy_symbols *symbols;   /* ma_symbol (with `slow` closes) by name  */
    /* The states in the order their symbols were first seen, and the one
     * found last: candles of several symbols come in that order every
     * interval, so the last one's name, then the next one's, is compared
     * before the name is hashed. A state is never removed nor moved. */
    ma_symbol *seen[MA_MAX_SYMBOLS];
    size_t n_seen, last_seen;
    /* A signal's reason up to the averages, by side ("ma_cross fast 10 >
     * slow 30 ("): formatted once at init, not on every cross. */
    char reason_up[QTR_REASON_MAX], reason_down[QTR_REASON_MAX];
} ma_state;

/* ---- helpers ---- */

static bool symbol_wanted(const ma_state *st, const char *symbol)
{
    if (st->n_only == 0) return true;
    for (size_t i = 0; i < st->n_only; i++)
        if (strcmp(st->only[i], symbol) == 0) return true;
    return false;
}

/* The state of a symbol, created on its first candle; NULL when the table
 * is full (logged once). Allocation happens here only, once per symbol. */
static ma_symbol *symbol_state(ma_state *st, const char *symbol)
{
    bool created;
    ma_symbol *s = strategy_symbols_get(st->symbols, st->host, st->ctx, symbol, &created);
    if (!s || !created) return s;
    qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    s->symbol_len = strlen(s->symbol);
    s->last_open_ms = INT64_MIN;
    s->fast_out = st->slow - st->fast;   /* (0 - fast) mod slow, slow > fast */
    s->seen_ix = st->n_seen;           /* the table holds MA_MAX_SYMBOLS at most */
    st->seen[st->n_seen++] = s;
    if (st->has_exits) {   /* the host keeps the exits of this symbol's positions */
        char err[QTR_TEXT_MAX];
        if (st->host->set_exit_plan(st->ctx, symbol, &st->exits, err, sizeof err) != QTR_OK)
            st->host->log(st->ctx, QTR_LOG_ERROR, "%s: exit plan refused: %s", symbol, err);
    }
    return s;
}

/* The state's symbol is the string in field `symbol`: their first
 * symbol_len + 1 bytes, the NUL included, are equal (both fields hold
 * QTR_SYMBOL_MAX; no strcmp call on every candle). */
static bool is_symbol(const ma_symbol *s, const char symbol[QTR_SYMBOL_MAX])
{
    return qc_bytes_eq(s->symbol, symbol, s->symbol_len + 1);
}

/* The state of a symbol seen before, or NULL; symbol: a candle's field. */
static ma_symbol *known_symbol(ma_state *st, const char symbol[QTR_SYMBOL_MAX])
{
    if (st->n_seen) {
        ma_symbol *s = st->seen[st->last_seen];
        if (is_symbol(s, symbol)) return s;
        size_t next = st->last_seen + 1 < st->n_seen ? st->last_seen + 1 : 0;
        if (next != st->last_seen && is_symbol(st->seen[next], symbol)) {
            st->last_seen = next;
            return st->seen[next];
        }
    }
    ma_symbol *s = strategy_symbols_find(st->symbols, symbol);
    if (s) st->last_seen = s->seen_ix;
    return s;
}

/* Push a close into the ring and keep both sums exact. The fast window is
 * the newest `fast` entries of the same ring. False on overflow. Closes are
 * > 0 (ma_on_candle skips others), so each sum is the exact sum of closes
 * in [0, QTR_DEC_MAX = INT64_MAX]: taking a close out of it cannot
 * overflow, and adding one overflows just when int64_t does (what
 * qtr_dec_add's range check said, without its 128-bit sum). */
static bool push_close(const ma_state *st, ma_symbol *s, qtr_dec close)
{
    qtr_dec fast_sum = s->fast_sum, slow_sum = s->slow_sum;
    if (s->count >= st->fast) fast_sum -= s->closes[s->fast_out];   /* the close leaving the fast window */
    if (s->count >= st->slow) slow_sum -= s->closes[s->head];       /* the close leaving the slow window */
    if (__builtin_add_overflow(fast_sum, close, &fast_sum) || __builtin_add_overflow(slow_sum, close, &slow_sum))
        return false;
    s->fast_sum = fast_sum;
    s->slow_sum = slow_sum;
    s->closes[s->head] = close;
    /* both indices move one place a close, wrapping without a division */
    s->head = s->head + 1 == st->slow ? 0 : s->head + 1;
    s->fast_out = s->fast_out + 1 == st->slow ? 0 : s->fast_out + 1;
    if (s->count < st->slow) s->count++;
    return true;
}

/* Submit what takes the symbol from its position (with what is pending)
 * to `target`: strategy_target.h says how a flip is done. */
/* Append src to the string in buf (size bytes, *len used), cut as snprintf
 * cuts: at most size - 1 characters, always terminated. */
static void append(char *buf, size_t size, size_t *len, const char *src)
{
    size_t n = *len + 1 < size ? strnlen(src, size - 1 - *len) : 0;   /* libc, not a byte loop */
    memcpy(buf + *len, src, n);
    *len += n;
    buf[*len] = '\0';
}

static void go_to_target(ma_state *st, const qtr_candle *c, qtr_dec target, double confidence,
                         qtr_dec fast_ma, qtr_dec slow_ma)
{
    char f[QTR_DEC_STRLEN], s[QTR_DEC_STRLEN], reason[QTR_REASON_MAX];
    qtr_dec_format_fixed(fast_ma, 4, QTR_ROUND_HALF_EVEN, f);
    qtr_dec_format_fixed(slow_ma, 4, QTR_ROUND_HALF_EVEN, s);
    /* "ma_cross fast %d %s slow %d (%s %s %s)", without snprintf's parsing */
    size_t len = 0;
    reason[0] = '\0';
    append(reason, sizeof reason, &len, target > 0 ? st->reason_up : st->reason_down);
    append(reason, sizeof reason, &len, f);
    append(reason, sizeof reason, &len, target > 0 ? " > " : " < ");
    append(reason, sizeof reason, &len, s);
    append(reason, sizeof reason, &len, ")");
    strategy_go_to_target(st->host, st->ctx, st->signals_metric, c->symbol, target, confidence, reason);
}

/* ---- callbacks ---- */

/* A cross to `side` on candle c: score, size and submit it. Apart from the
 * per-candle path (crosses are rare), so that path stays small. */
static void __attribute__((noinline)) on_cross(ma_state *st, const ma_symbol *s, const qtr_candle *c, int side)
{
    /* Averages rounded half-even to 8 decimals (ma_side.h). */
    qtr_dec fast_ma = ma_average(s->fast_sum, st->fast), slow_ma = ma_average(s->slow_sum, st->slow);
    /* the score above, shared with strategy_ensemble's trend voter */
    double confidence = strategy_vote_trend(fast_ma, slow_ma).confidence;
    if (confidence < st->min_confidence) {
        st->host->log(st->ctx, QTR_LOG_DEBUG, "%s: cross with confidence %.3f below %.3f; skipped",
                      c->symbol, confidence, st->min_confidence);
        return;
    }
    /* Size: order_notional / close, rounded down to 8 decimals (the
     * exchange plugin rounds further to the lot size). */
    qtr_dec size;
    if (!qtr_dec_div(st->order_notional, c->close, QTR_ROUND_DOWN, &size) || size == 0) {
        st->host->log(st->ctx, QTR_LOG_WARN, "%s: order_notional too small for price; skipped", c->symbol);
        return;
    }
    go_to_target(st, c, side > 0 ? size : -size, confidence, fast_ma, slow_ma);
}

static void ma_on_candle(void *state, const qtr_candle *c)
{
    ma_state *st = state;
    /* The host already filters by `symbols`; checking again keeps the
     * strategy correct with any host. Only wanted symbols get a state, so a
     * symbol with one was checked on its first candle: the list is walked
     * once a symbol, not once a candle (50 symbols: 50 strcmp a candle). */
    ma_symbol *s = known_symbol(st, c->symbol);
    if (!s && !symbol_wanted(st, c->symbol)) return;
    if (c->close <= 0) {
        st->host->log(st->ctx, QTR_LOG_WARN, "%s: candle at %lld has close <= 0; skipped", c->symbol,
                      (long long)c->open_time_ms);
        return;
    }
    if (!s && !(s = symbol_state(st, c->symbol))) return;
    if (c->open_time_ms <= s->last_open_ms) return;   /* a repeat after a reconnect */
    s->last_open_ms = c->open_time_ms;
    if (!push_close(st, s, c->close)) {
        st->host->log(st->ctx, QTR_LOG_WARN, "%s: price sums overflow; skipped", c->symbol);
        return;
    }
    if (s->count < st->slow) return;   /* not enough history yet */

    /* the sign of fast_ma - slow_ma, the averages rounded to 8 decimals */
    int side = ma_side(s->fast_sum, st->fast, s->slow_sum, st->slow);
    if (side == 0) return;                        /* touching is not crossing */
    int before = s->last_side;
    s->last_side = side;
    if (before == 0 || before == side) return;    /* first reading, or no cross */
    on_cross(st, s, c, side);
}

/* Whether a debug line is written (QTR_HOST_HAS: a service of ABI 2.3):
 * the formatting below is skipped when it would not be. */
static bool debug_on(const ma_state *st)
{
    return !QTR_HOST_HAS(st->host, log_enabled) || st->host->log_enabled(st->ctx, QTR_LOG_DEBUG);
}

static void ma_on_fill(void *state, const qtr_fill *f)
{
    ma_state *st = state;
    if (!debug_on(st)) return;   /* every fill: two decimals formatted for nothing */
    char q[QTR_DEC_STRLEN], p[QTR_DEC_STRLEN];
    st->host->log(st->ctx, QTR_LOG_DEBUG, "fill %s %s %s @ %s", f->symbol, qtr_side_name(f->side),
                  qtr_dec_format(f->qty, q), qtr_dec_format(f->price, p));
}

/* ---- lifecycle ---- */

static void ma_destroy(void *state)
{
    ma_state *st = state;
    if (!st) return;
    strategy_symbols_free(st->symbols, NULL);
    free(st);
}

/* Read one integer option; log and fail if absent (it has a default). */
static bool read_int(ma_state *st, const char *name, int64_t *out)
{
    if (st->host->config_int(st->ctx, name, out) == QTR_OK) return true;
    st->host->log(st->ctx, QTR_LOG_ERROR, "option %s: not an integer", name);
    return false;
}

/* The exit options as one exit plan (ranges declared in ma_options); false
 * with a logged reason when they cannot be. */
static bool read_exits(ma_state *st)
{
    int64_t sl, tp, cb, act, ts;
    if (!read_int(st, "stop_loss_bps", &sl) || !read_int(st, "take_profit_bps", &tp) ||
        !read_int(st, "trailing_callback_bps", &cb) || !read_int(st, "trailing_activation_bps", &act) ||
        !read_int(st, "time_stop_ms", &ts))
        return false;
    st->has_exits = sl || tp || cb || ts;
    if (!st->has_exits) return true;
    if (!QTR_HOST_HAS(st->host, set_exit_plan)) {
        st->host->log(st->ctx, QTR_LOG_ERROR, "exit options set, but this host keeps no exit plans (set_exit_plan)");
        return false;
    }
    if (cb && cb < 10) {
        st->host->log(st->ctx, QTR_LOG_ERROR, "option trailing_callback_bps: %lld is below 10 (0.1%%, the least "
                      "Binance takes); 0 turns the trailing stop off", (long long)cb);
        return false;
    }
    if (act && !cb) {
        st->host->log(st->ctx, QTR_LOG_ERROR, "option trailing_activation_bps: set without trailing_callback_bps");
        return false;
    }
    const char *working;
    qtr_exit_plan *p = &st->exits;
    *p = QTR_SIZED(qtr_exit_plan);
    if (st->host->config_string(st->ctx, "exit_working_type", &working) != QTR_OK ||
        st->host->config_decimal(st->ctx, "exit_qty_step", &p->qty_step) != QTR_OK ||
        st->host->config_decimal(st->ctx, "exit_price_tick", &p->price_tick) != QTR_OK)
        return false;
    p->working_type = strcmp(working, "mark") == 0 ? QTR_WORKING_MARK : QTR_WORKING_LAST;
    p->base.stop_loss.bps = (uint32_t)sl;
    if (tp) {
        p->base.n_take_profit = 1;
        p->base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = (uint32_t)tp }, .share_bps = 10000 };
    }
    p->base.trailing_callback_bps = (uint32_t)cb;
    p->base.trailing_activation.bps = (uint32_t)act;
    p->base.time_stop_ms = ts;
    return true;
}

static int ma_init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    ma_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = host;
    st->ctx = ctx;
    int64_t fast, slow;
    if (!read_int(st, "fast", &fast) || !read_int(st, "slow", &slow)) goto refuse;
    /* ranges (fast 1..999, slow 2..1000, order_notional > 0, min_confidence
     * 0..1) are declared in ma_options and checked by the host */
    if (slow <= fast) {
        host->log(ctx, QTR_LOG_ERROR, "option slow: must be greater than fast (%lld), got %lld", (long long)fast,
                  (long long)slow);
        goto refuse;
    }
    st->fast = (int)fast;
    st->slow = (int)slow;
    snprintf(st->reason_up, sizeof st->reason_up, "ma_cross fast %d > slow %d (", st->fast, st->slow);
    snprintf(st->reason_down, sizeof st->reason_down, "ma_cross fast %d < slow %d (", st->fast, st->slow);
    if (host->config_decimal(ctx, "order_notional", &st->order_notional) != QTR_OK) {
        host->log(ctx, QTR_LOG_ERROR, "option order_notional: not a decimal");
        goto refuse;
    }
    if (host->config_double(ctx, "min_confidence", &st->min_confidence) != QTR_OK) {
        host->log(ctx, QTR_LOG_ERROR, "option min_confidence: not a number");
        goto refuse;
    }
    int rc = host->config_list(ctx, "symbols", &st->only, &st->n_only);
    if (rc == QTR_ENOTFOUND) {
        st->n_only = 0;              /* unset: every symbol */
    } else if (rc != QTR_OK) {
        host->log(ctx, QTR_LOG_ERROR, "option symbols: must be a list of symbol names");
        goto refuse;
    }
    if (!read_exits(st)) goto refuse;
    st->symbols = strategy_symbols_new(MA_MAX_SYMBOLS, sizeof(ma_symbol) + (size_t)slow * sizeof(qtr_dec));
    if (!st->symbols) {
        host->log(ctx, QTR_LOG_ERROR, "out of memory for %d symbols", MA_MAX_SYMBOLS);
        goto refuse;
    }
    st->signals_metric = host->metric_counter(ctx, "ma_cross_signals_total", "signals submitted by ma_cross",
                                              NULL, NULL);
    host->log(ctx, QTR_LOG_INFO, "ma_cross fast %d slow %d, %zu symbol filter(s)", st->fast, st->slow, st->n_only);
    *out = st;
    return 0;
refuse:
    ma_destroy(st);
    return -1;
}

static const qtr_strategy_ops ma_ops = {
    .size = sizeof ma_ops,
    .on_candle = ma_on_candle,
    .on_fill = ma_on_fill,
};

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "ma_cross", .version = "1.0.0",
                  .description = "moving-average cross: long above, short below",
                  .options = ma_options, .init = ma_init, .destroy = ma_destroy, .strategy = &ma_ops);
