/*
 * Candles per second through the whole order path, candles in memory:
 * the paper exchange, the host's portfolio and ESS checks, the ma_cross
 * strategy, the signal queue, the risk plugin and the policy, exactly as
 * `qtr backtest` runs them but without CSV parsing.
 *
 *   bench_engine [N candles, default 3000000] [symbols, default 1]
 *
 * Needs QTR_PLUGIN_DIR (the built plugins) and QTR_SOURCE_DIR (policies/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "engine/engine.h"
#include "market/candles.h"

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 3000000;
    size_t n_sym = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    const char *plugins = getenv("QTR_PLUGIN_DIR") ? getenv("QTR_PLUGIN_DIR") : "build/plugins";
    const char *src = getenv("QTR_SOURCE_DIR") ? getenv("QTR_SOURCE_DIR") : ".";
    qh_log_init(stderr, QH_LOG_ERROR, false);

    static const char *const names[] = { "BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPUSDT", "SOLUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT" };
    if (n_sym < 1 || n_sym > 8) n_sym = 1;
    qh_synth_config sc = { .seed = 1, .start_ms = 1600000000000, .interval_ms = 60000, .n_symbols = n_sym, .symbols = names };
    qh_synth *synth = qh_synth_new(&sc);
    qtr_candle *candles = malloc(n * sizeof *candles);
    if (!synth || !candles) return 1;
    for (size_t i = 0; i < n; i++) qh_synth_next(synth, &candles[i]);
    qh_synth_free(synth);

    char text[2048];
    snprintf(text, sizeof text,
             "return { plugin_path = { '%s' }, policy = { file = '%s/policies/default.lua' }, store = false,\n"
             "  account = { starting_balance = '1000000' },\n"
             "  plugins = { { kind = 'exchange', name = 'paper', options = { max_volume_share = '1' } },\n"
             "              { kind = 'risk', name = 'policy' },\n"
             "              { kind = 'strategy', name = 'ma_cross', options = { fast = 10, slow = 30, order_notional = '500' } } } }",
             plugins, src);
    qh_config cfg;
    char err[1024];
    if (qh_config_load_string(text, "bench", ".", &cfg, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
    qh_engine *e = qh_engine_new(&cfg, NULL, candles[0].open_time_ms, err, sizeof err);
    if (!e || qh_engine_load(e, err, sizeof err) != 0 || qh_engine_start(e, err, sizeof err) != 0) {
        fprintf(stderr, "engine: %s\n", err);
        return 1;
    }
    double t0 = seconds();
    for (size_t i = 0; i < n; i++) qh_engine_feed_candle(e, &candles[i]);
    double t1 = seconds();
    qtr_account a;
    qh_engine_account(e, &a);
    char eq[QTR_DEC_STRLEN];
    printf("engine: %zu candles (%zu symbol%s) in %.3f s = %.2f million candles/s (%.0f ns/candle); end equity %s\n",
           n, n_sym, n_sym > 1 ? "s" : "", t1 - t0, (double)n / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n,
           qtr_dec_format(a.equity, eq));
    qh_engine_free(e);
    qh_config_free(&cfg);
    free(candles);
    return 0;
}
