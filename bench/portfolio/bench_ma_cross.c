/* bench_ma_cross: the ma_cross strategy's on_candle cost, in candles per
 * second, replaying the real XRPUSDT 5m candles many times through the
 * plugin loaded from its .so into the mock host.
 * Run from the repo root (or set QTR_SOURCE_DIR) with QTR_PLUGIN_DIR set to
 * <build>/plugins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_host.h"

#define MAX_ROWS 4096
#define REPEATS 2000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    static qtr_candle rows[MAX_ROWS];
    size_t n = 0;
    char path[1024], line[512];
    const char *src = getenv("QTR_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/../shared/data/XRPUSDT-perp-5m.csv", src ? src : ".");
    FILE *fp = fopen(path, "r");
    if (!fp) { fprintf(stderr, "bench_ma_cross: cannot open %s\n", path); return 2; }
    if (!fgets(line, sizeof line, fp)) { fclose(fp); return 2; }
    while (n < MAX_ROWS && fgets(line, sizeof line, fp)) {
        char *save = NULL, *tok = strtok_r(line, ",\r\n", &save);
        qtr_candle *c = &rows[n];
        memset(c, 0, sizeof *c);
        qtr_strlcpy(c->symbol, "XRPUSDT", sizeof c->symbol);
        c->open_time_ms = strtoll(tok, NULL, 10);
        c->close_time_ms = c->open_time_ms + 299999;
        qtr_dec *fields[] = { &c->open, &c->high, &c->low, &c->close, &c->volume };
        for (int k = 0; k < 5; k++) {
            tok = strtok_r(NULL, ",\r\n", &save);
            if (!tok || qtr_dec_parse(tok, (size_t)-1, fields[k]) != QTR_DEC_OK) {
                fprintf(stderr, "bench_ma_cross: %s:%zu: bad field %d\n", path, n + 2, k + 2);
                fclose(fp);
                return 2;
            }
        }
        n++;
    }
    fclose(fp);

    mock_host *m = mock_host_new(false);
    mock_plugin p;
    if (mock_plugin_load(m, mock_plugin_path("strategy_ma_cross"), &p) != 0) {
        fprintf(stderr, "bench_ma_cross: cannot load the plugin: %s\n", m->last_log);
        return 2;
    }
    size_t signals = 0;
    int64_t shift = 0, span = rows[n - 1].open_time_ms - rows[0].open_time_ms + 300000;
    double t0 = now_s();
    for (int r = 0; r < REPEATS; r++) {
        for (size_t i = 0; i < n; i++) {
            qtr_candle c = rows[i];
            c.open_time_ms += shift;   /* later each pass, so none is a repeat */
            p.desc->strategy->on_candle(p.state, &c);
        }
        shift += span;
        signals += m->n_signals;
        m->n_signals = 0;   /* the mock keeps at most MOCK_MAX_SIGNALS */
    }
    double dt = now_s() - t0;
    double total = (double)n * REPEATS;
    printf("ma_cross on_candle      %.2f million candles/s (%.0f candles, %zu signals, %.3f s, %.0f ns/candle)\n",
           total / dt / 1e6, total, signals, dt, dt / total * 1e9);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
    return 0;
}
