/*
 * strategy_flood — a test strategy for tests/stress/stress_signal_flood.py,
 * built by that test with one cc line against sdk/include.
 *
 * Two phases on the candles of `symbol`:
 *  1. steady: on every `steady_every`-th of the first `steady_candles` candles,
 *     one signal (a steady rate); then it logs "steady done: N signals" and,
 *     if `trigger` names a file, waits for that file to exist (so the test can
 *     read the counters between the phases);
 *  2. burst: on each of the next `candles` candles it submits `per_candle`
 *     (at most 100) signals, k = 0 .. per_candle-1 (over 50: k mod 50, each
 *     rank twice), in a shuffled order.
 * A signal of rank k is a market order with
 *   confidence = 0.50 + k / 100         (0.50 .. 0.99)
 *   qty        = (k + 1) * 0.001        (so an order's quantity tells its k)
 *   side       = BUY for even k, SELL for odd k
 * Then it stops and logs "flood done: N signals over C candles".
 */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

static const qtr_option options[] = {
    { .name = "symbol", .type = QTR_OPT_STRING, .default_value = "BTCUSDT",
      .help = "the symbol to flood" },
    { .name = "candles", .type = QTR_OPT_INT, .default_value = "100",
      .help = "candles to flood on, then stop" },
    { .name = "per_candle", .type = QTR_OPT_INT, .default_value = "50",
      .help = "signals per candle (1..100)" },
    { .name = "steady_candles", .type = QTR_OPT_INT, .default_value = "0",
      .help = "candles of the steady phase before the burst" },
    { .name = "steady_every", .type = QTR_OPT_INT, .default_value = "1",
      .help = "one signal every this many candles in the steady phase" },
    { .name = "trigger", .type = QTR_OPT_STRING, .default_value = "",
      .help = "a file whose existence starts the burst (empty: at once)" },
    { .name = "symbols", .type = QTR_OPT_STRING_LIST,
      .help = "set by the host (not read here: `symbol` is the one flooded)" },
    { .name = NULL },
};

typedef struct flood {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *symbol, *trigger;
    int64_t candles, per_candle, seen, steady_candles, steady_every, steady_seen;
    bool steady_logged;
    uint64_t emitted, queued, refused_full, refused_other;
    uint32_t rng;
    qtr_metric *m_emitted;
} flood;

static uint32_t next_rand(flood *f)
{
    f->rng = f->rng * 1664525u + 1013904223u;
    return f->rng >> 8;
}

static void submit(flood *f, const char *symbol, int k)
{
    qtr_signal s;
    memset(&s, 0, sizeof s);
    qtr_strlcpy(s.symbol, symbol, sizeof s.symbol);
    s.side = k % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    s.type = QTR_ORDER_MARKET;
    s.tif = QTR_TIF_GTC;
    s.qty = (qtr_dec)(k + 1) * (QTR_DEC_SCALE / 1000);
    s.confidence = 0.50 + k / 100.0;
    snprintf(s.reason, sizeof s.reason, "flood k=%d", k);
    int rc = f->h->submit_signal(f->ctx, &s);
    f->emitted++;
    if (rc == QTR_OK) f->queued++;
    else if (rc == QTR_EFULL) f->refused_full++;
    else f->refused_other++;
    f->h->metric_add(f->m_emitted, 1);
}

/* The steady phase; true while it (or the wait for the trigger) lasts. */
static bool steady(flood *f, const qtr_candle *c)
{
    if (f->steady_seen < f->steady_candles) {
        if (f->steady_seen++ % f->steady_every == 0) submit(f, c->symbol, (int)(next_rand(f) % 50));
        return true;
    }
    if (!f->steady_logged) {
        f->steady_logged = true;
        f->h->log(f->ctx, QTR_LOG_INFO, "steady done: %llu signals over %lld candles (%llu queued, %llu full, %llu other)",
                  (unsigned long long)f->emitted, (long long)f->steady_seen, (unsigned long long)f->queued,
                  (unsigned long long)f->refused_full, (unsigned long long)f->refused_other);
    }
    if (f->trigger && f->trigger[0] && access(f->trigger, F_OK) != 0) return true;
    return false;
}

static void on_candle(void *state, const qtr_candle *c)
{
    flood *f = state;
    if (strcmp(c->symbol, f->symbol) != 0 || f->seen >= f->candles || steady(f, c)) return;
    f->seen++;
    int order[100];
    for (int i = 0; i < f->per_candle; i++) order[i] = i;
    for (int i = (int)f->per_candle - 1; i > 0; i--) {   /* Fisher-Yates */
        int j = (int)(next_rand(f) % (uint32_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < f->per_candle; i++) submit(f, c->symbol, order[i] % 50);
    if (f->seen == f->candles)
        f->h->log(f->ctx, QTR_LOG_INFO, "flood done: %llu signals over %lld candles (%llu queued, %llu full, %llu other)",
                  (unsigned long long)f->emitted, (long long)f->seen, (unsigned long long)f->queued,
                  (unsigned long long)f->refused_full, (unsigned long long)f->refused_other);
}

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    flood *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->h = h;
    f->ctx = ctx;
    f->rng = 12345u;
    if (h->config_string(ctx, "symbol", &f->symbol) != QTR_OK || h->config_int(ctx, "candles", &f->candles) != QTR_OK ||
        h->config_int(ctx, "per_candle", &f->per_candle) != QTR_OK || f->per_candle < 1 || f->per_candle > 100 ||
        h->config_int(ctx, "steady_candles", &f->steady_candles) != QTR_OK || f->steady_candles < 0 ||
        h->config_int(ctx, "steady_every", &f->steady_every) != QTR_OK || f->steady_every < 1 ||
        h->config_string(ctx, "trigger", &f->trigger) != QTR_OK) {
        h->log(ctx, QTR_LOG_ERROR, "bad options");
        free(f);
        return -1;
    }
    f->m_emitted = h->metric_counter(ctx, "flood_signals_emitted_total", "signals the flood strategy submitted", NULL, NULL);
    *out = f;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "flood", .version = "1.0.0",
                  .description = "stress test: floods the signal queue", .options = options, .init = init,
                  .destroy = destroy, .strategy = &ops)
