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
 *     With `bursts` > 1 it then waits for `trigger`.2 (`trigger`.3, ...) and
 *     floods again, `bursts` times in all (without a trigger: at once).
 * A signal of rank k is a market order with
 *   confidence = 0.50 + k / 100         (0.50 .. 0.99)
 *   qty        = (k + 1) * 0.001        (so an order's quantity tells its k)
 *   side       = BUY for even k, SELL for odd k
 * Then it stops and logs "flood done: N signals over C candles".
 *
 * With `model_capacity` > 0 (the host queue's capacity) it also checks the
 * queue against a model of it, whatever the timing: it knows every signal it
 * queued (ranks counted, 50 counters) and sees every take synchronously (the
 * drain sends the order, the exchange publishes NEW or REJECTED through the
 * bus before the next candle is dispatched). Checked at every step:
 *   - a push the queue refused as full must be no better than the worst
 *     queued; one it took into a full queue must be better (and evicts the
 *     worst: the model drops one of its lowest rank);
 *   - every take must be of the highest rank still queued.
 * A queue that takes or keeps the wrong signals fails here, however the
 * candles and the 100 ms cycles interleave. Stale drops are invisible to the
 * model: the test sets max_age_ms out of reach. "model: ..." is logged with
 * the counts at "steady done" and "flood done".
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
    { .name = "bursts", .type = QTR_OPT_INT, .default_value = "1",
      .help = "bursts of `candles` candles; the n-th (n > 1) waits for the file `trigger`.n" },
    { .name = "seed", .type = QTR_OPT_INT, .default_value = "12345",
      .help = "seed of the ranks' random order" },
    { .name = "model_capacity", .type = QTR_OPT_INT, .default_value = "0",
      .help = "the host queue's capacity: check the queue against a model of it (0: off)" },
    { .name = "symbols", .type = QTR_OPT_STRING_LIST,
      .help = "set by the host (not read here: `symbol` is the one flooded)" },
    { .name = NULL },
};

typedef struct flood {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *symbol, *trigger;
    int64_t candles, per_candle, seen, steady_candles, steady_every, steady_seen, bursts, burst;
    bool steady_logged;
    uint64_t emitted, queued, refused_full, refused_other;
    uint32_t rng;
    qtr_metric *m_emitted, *m_model_pushes, *m_model_takes, *m_model_evicted, *m_model_wrong;
    /* the queue model (model_capacity > 0) */
    int64_t model_capacity;
    uint32_t model_count[50];          /* queued signals of each rank */
    uint64_t model_depth, model_pushes, model_takes, model_evicted, model_wrong;
    char model_first_wrong[160];
} flood;

#define RANKS 50

static int model_max(const flood *f)
{
    for (int k = RANKS - 1; k >= 0; k--)
        if (f->model_count[k]) return k;
    return -1;
}

static int model_min(const flood *f)
{
    for (int k = 0; k < RANKS; k++)
        if (f->model_count[k]) return k;
    return RANKS;
}

static void model_wrong(flood *f, const char *what, int k, int expected)
{
    f->h->metric_add(f->m_model_wrong, 1);
    if (!f->model_wrong++) {
        snprintf(f->model_first_wrong, sizeof f->model_first_wrong, "%s rank %d (model: %d) at push %llu take %llu",
                 what, k, expected, (unsigned long long)f->model_pushes, (unsigned long long)f->model_takes);
        f->h->log(f->ctx, QTR_LOG_ERROR, "model: first wrong step: %s", f->model_first_wrong);
    }
}

/* The queue answered rc to a push of rank k. */
static void model_push(flood *f, int k, int rc)
{
    if (f->model_capacity <= 0) return;
    f->model_pushes++;
    f->h->metric_add(f->m_model_pushes, 1);
    bool full = f->model_depth >= (uint64_t)f->model_capacity;
    int worst = model_min(f);
    if (rc == QTR_EFULL) {
        if (!full || k > worst) model_wrong(f, "refused as full", k, full ? worst : -1);
        return;
    }
    if (rc != QTR_OK) return;
    if (full) {
        if (k <= worst) model_wrong(f, "queued into a full queue over a better one,", k, worst);
        if (worst < RANKS) f->model_count[worst]--;
        f->model_evicted++;
        f->h->metric_add(f->m_model_evicted, 1);
    } else {
        f->model_depth++;
    }
    f->model_count[k]++;
}

/* The queue took a signal of rank k (its order's first update). */
static void model_take(flood *f, int k)
{
    if (f->model_capacity <= 0) return;
    f->model_takes++;
    f->h->metric_add(f->m_model_takes, 1);
    int best = model_max(f);
    if (k != best) model_wrong(f, "took", k, best);
    if (f->model_count[k]) {
        f->model_count[k]--;
        f->model_depth--;
    }
}

static void model_log(flood *f, const char *when)
{
    if (f->model_capacity <= 0) return;
    f->h->log(f->ctx, f->model_wrong ? QTR_LOG_ERROR : QTR_LOG_INFO,
              "model %s: %llu pushes, %llu takes, %llu evicted, depth %llu, %llu wrong%s%s", when,
              (unsigned long long)f->model_pushes, (unsigned long long)f->model_takes,
              (unsigned long long)f->model_evicted, (unsigned long long)f->model_depth,
              (unsigned long long)f->model_wrong, f->model_wrong ? ": first " : "", f->model_first_wrong);
}

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
    model_push(f, k, rc);
    f->emitted++;
    if (rc == QTR_OK) f->queued++;
    else if (rc == QTR_EFULL) f->refused_full++;
    else f->refused_other++;
    f->h->metric_add(f->m_emitted, 1);
}

/* True while the current burst's trigger file is missing. */
static bool waiting_for_trigger(const flood *f)
{
    if (!f->trigger || !f->trigger[0]) return false;
    char path[4096];
    if (f->burst == 0) snprintf(path, sizeof path, "%s", f->trigger);
    else snprintf(path, sizeof path, "%s.%lld", f->trigger, (long long)f->burst + 1);
    return access(path, F_OK) != 0;
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
        model_log(f, "steady done");
    }
    return waiting_for_trigger(f);
}

static void on_candle(void *state, const qtr_candle *c)
{
    flood *f = state;
    if (strcmp(c->symbol, f->symbol) != 0 || steady(f, c)) return;
    if (f->seen >= f->candles) {                      /* a burst done: the next one, if any */
        if (f->burst + 1 >= f->bursts) return;
        f->burst++;
        f->seen = 0;
    }
    if (waiting_for_trigger(f)) return;
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
    if (f->seen == f->candles) model_log(f, "flood done");
}

/* The first update of an order is NEW, or REJECTED if it never got that far:
 * the moment the queue gave it up. Its quantity tells its rank. */
static void on_order_update(void *state, const qtr_order_update *u)
{
    flood *f = state;
    if (u->status != QTR_OS_NEW && u->status != QTR_OS_REJECTED) return;
    int64_t k = u->qty / (QTR_DEC_SCALE / 1000) - 1;
    if (k < 0 || k >= RANKS || u->qty % (QTR_DEC_SCALE / 1000)) {
        model_wrong(f, "an order not of this strategy", (int)k, -1);
        return;
    }
    model_take(f, (int)k);
}

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    flood *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->h = h;
    f->ctx = ctx;
    int64_t seed = 0;
    if (h->config_string(ctx, "symbol", &f->symbol) != QTR_OK || h->config_int(ctx, "candles", &f->candles) != QTR_OK ||
        h->config_int(ctx, "per_candle", &f->per_candle) != QTR_OK || f->per_candle < 1 || f->per_candle > 100 ||
        h->config_int(ctx, "steady_candles", &f->steady_candles) != QTR_OK || f->steady_candles < 0 ||
        h->config_int(ctx, "steady_every", &f->steady_every) != QTR_OK || f->steady_every < 1 ||
        h->config_string(ctx, "trigger", &f->trigger) != QTR_OK || h->config_int(ctx, "seed", &seed) != QTR_OK ||
        h->config_int(ctx, "bursts", &f->bursts) != QTR_OK || f->bursts < 1 ||
        h->config_int(ctx, "model_capacity", &f->model_capacity) != QTR_OK) {
        h->log(ctx, QTR_LOG_ERROR, "bad options");
        free(f);
        return -1;
    }
    f->rng = (uint32_t)seed;
    f->m_emitted = h->metric_counter(ctx, "flood_signals_emitted_total", "signals the flood strategy submitted", NULL, NULL);
    /* the queue model's counts (model_capacity > 0), final once the queue is drained */
    f->m_model_pushes = h->metric_counter(ctx, "flood_model_pushes_total", "pushes checked against the queue model", NULL, NULL);
    f->m_model_takes = h->metric_counter(ctx, "flood_model_takes_total", "takes checked against the queue model", NULL, NULL);
    f->m_model_evicted = h->metric_counter(ctx, "flood_model_evicted_total", "evictions the queue model made", NULL, NULL);
    f->m_model_wrong = h->metric_counter(ctx, "flood_model_wrong_total", "pushes or takes the queue model disagrees with", NULL, NULL);
    *out = f;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle, .on_order_update = on_order_update };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "flood", .version = "1.0.0",
                  .description = "stress test: floods the signal queue", .options = options, .init = init,
                  .destroy = destroy, .strategy = &ops)
