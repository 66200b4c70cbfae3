/*
 * strategy_momentum — a minimal strategy to copy and change.
 *
 * Rule: when a symbol's close has risen more than `threshold` (a fraction:
 * 0.01 is 1%) over the last `lookback` candles, hold a long position worth
 * `order_notional`; when it has fallen more than `threshold`, go flat. That
 * is all: no shorts, no stops. Change on_candle() to make it yours.
 *
 * What every strategy does, and where it is here:
 *   options     the table `options` below; the host checks the config
 *               against it (names, types, defaults) before init().
 *   init()      read the options, refuse bad values with a clear log line,
 *               allocate the state.
 *   on_candle() the host calls it for each closed candle; decide, then
 *               host->submit_signal(). The host sends the signal through
 *               the risk checks and the Emergency Stop System.
 *   destroy()   free the state.
 * Rules: money is qtr_dec (qtr/money.h), never double; never block; use only
 * the host table for services; never use the wall clock for decisions, so a
 * backtest behaves like live trading.
 *
 * Build: make   (see README.md)
 */
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

#define MAX_LOOKBACK 100
#define MAX_SYMBOLS 64               /* kept small and simple on purpose */

static const qtr_option options[] = {
    { .name = "lookback", .type = QTR_OPT_INT, .default_value = "5",
      .help = "candles to look back" },
    { .name = "threshold", .type = QTR_OPT_DECIMAL, .default_value = "0.01",
      .help = "move that triggers, as a fraction (0.01 = 1%)" },
    { .name = "order_notional", .type = QTR_OPT_DECIMAL, .default_value = "100",
      .help = "position size in quote currency" },
    /* read by the host, not here: it sends only these symbols' candles */
    { .name = "symbols", .type = QTR_OPT_STRING_LIST,
      .help = "symbols to trade; empty: every symbol" },
    { .name = NULL },
};

typedef struct series {
    char symbol[QTR_SYMBOL_MAX];
    qtr_dec closes[MAX_LOOKBACK + 1];   /* ring: the last lookback+1 closes */
    int count, head;
} series;

typedef struct momentum {
    const qtr_host *host;
    qtr_ctx *ctx;
    int lookback;
    qtr_dec threshold, order_notional;
    series symbols[MAX_SYMBOLS];
    int n_symbols;
} momentum;

static series *find_series(momentum *st, const char *symbol)
{
    for (int i = 0; i < st->n_symbols; i++)
        if (strcmp(st->symbols[i].symbol, symbol) == 0) return &st->symbols[i];
    if (st->n_symbols == MAX_SYMBOLS) return NULL;
    series *s = &st->symbols[st->n_symbols++];
    qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    return s;
}

static void submit(momentum *st, const char *symbol, qtr_side side, qtr_dec qty, bool reduce_only,
                   const char *why)
{
    qtr_signal sig;
    memset(&sig, 0, sizeof sig);
    qtr_strlcpy(sig.symbol, symbol, sizeof sig.symbol);
    sig.side = side;
    sig.type = QTR_ORDER_MARKET;
    sig.qty = qty;
    sig.reduce_only = reduce_only;
    sig.confidence = 0.6;   /* a fixed score; a real strategy rates its signals */
    qtr_strlcpy(sig.reason, why, sizeof sig.reason);
    if (st->host->submit_signal(st->ctx, &sig) != QTR_OK)
        st->host->log(st->ctx, QTR_LOG_WARN, "%s: signal not queued", symbol);
}

static void on_candle(void *state, const qtr_candle *c)
{
    momentum *st = state;
    series *s = find_series(st, c->symbol);
    if (!s || c->close <= 0) return;
    int size = st->lookback + 1;
    s->closes[s->head] = c->close;
    s->head = (s->head + 1) % size;
    if (s->count < size) s->count++;
    if (s->count < size) return;                       /* not enough history */
    qtr_dec old = s->closes[s->head];                  /* lookback candles ago */

    /* move > old * threshold, in exact decimals */
    qtr_dec move, trigger;
    if (!qtr_dec_sub(c->close, old, &move) ||
        !qtr_dec_mul(old, st->threshold, QTR_ROUND_HALF_EVEN, &trigger))
        return;

    qtr_position pos;
    qtr_dec have = st->host->get_position(st->ctx, c->symbol, &pos, sizeof pos) == QTR_OK ? pos.qty : 0;
    if (move > trigger && have <= 0) {
        qtr_dec qty;   /* order_notional / close, rounded down to 8 decimals */
        if (!qtr_dec_div(st->order_notional, c->close, QTR_ROUND_DOWN, &qty) || qty == 0) return;
        if (have < 0 && !qtr_dec_sub(qty, have, &qty)) return;   /* also close a short */
        submit(st, c->symbol, QTR_SIDE_BUY, qty, false, "momentum up");
    } else if (move < -trigger && have > 0) {
        submit(st, c->symbol, QTR_SIDE_SELL, have, true, "momentum down");
    }
}

static int init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    momentum *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = host;
    st->ctx = ctx;
    int64_t lookback = 0;
    if (host->config_int(ctx, "lookback", &lookback) != QTR_OK || lookback < 1 || lookback > MAX_LOOKBACK) {
        host->log(ctx, QTR_LOG_ERROR, "option lookback: must be 1..%d", MAX_LOOKBACK);
        free(st);
        return -1;
    }
    st->lookback = (int)lookback;
    if (host->config_decimal(ctx, "threshold", &st->threshold) != QTR_OK || st->threshold <= 0) {
        host->log(ctx, QTR_LOG_ERROR, "option threshold: must be a decimal > 0");
        free(st);
        return -1;
    }
    if (host->config_decimal(ctx, "order_notional", &st->order_notional) != QTR_OK || st->order_notional <= 0) {
        host->log(ctx, QTR_LOG_ERROR, "option order_notional: must be a decimal > 0");
        free(st);
        return -1;
    }
    *out = st;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "momentum", .version = "0.1.0",
                  .description = "long after a rise, flat after a fall (template)",
                  .options = options, .init = init, .destroy = destroy, .strategy = &ops);
