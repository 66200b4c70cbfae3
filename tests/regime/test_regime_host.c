/*
 * The host's regime detection (host/regime, engine/regime_glue.c) in a
 * backtest: a CSV whose candles go up, sideways, down and then swing wildly
 * is fed through qh_engine_feed_candle, the path `qtr backtest` takes. The
 * host publishes REGIME exactly when a symbol's regime changes (checked
 * against a classifier run over the same candles here), stamped with the
 * candle's time; get_regime answers the current one; the qtr_regime gauge
 * follows; the mock host answers get_regime as the host does; and the
 * server config's regime section is range-checked, naming the key.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "engine/engine_internal.h"
#include "market/candles.h"
#include "mock_host.h"
#include "regime/regime_book.h"

/* ---- the CSV: 300 one-hour candles of TESTUSDT that switch regime -------- */

static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "open_time_ms,open,high,low,close,volume\n");
    double price = 100;
    int64_t t = 1700000000000;
    for (int i = 0; i < 300; i++, t += 3600000) {
        double open = price, step;
        if (i < 80) step = 0.004;                       /* up */
        else if (i < 160) step = (i / 3) % 2 ? -0.005 : 0.005;   /* sideways: 3 up, 3 down */
        else if (i < 240) step = -0.004;                /* down */
        else step = (i % 2) ? -0.07 : 0.07;             /* wild */
        price = open * (1 + step);
        double hi = fmax(open, price) * 1.002, lo = fmin(open, price) * 0.998;
        fprintf(f, "%lld,%.6f,%.6f,%.6f,%.6f,10\n", (long long)t, open, hi, lo, price);
    }
    fclose(f);
}

static char g_dir[64];

static void config_text(char *out, size_t len, const char *regime)
{
    const char *plugins = getenv("QTR_PLUGIN_DIR");
    const char *src = getenv("QTR_SOURCE_DIR");
    snprintf(out, len,
             "return {\n"
             "  mode = 'paper',\n"
             "  state_dir = '%s/var',\n"
             "  plugin_path = { '%s' },\n"
             "  store = false,\n"
             "  policy = { file = '%s/policies/default.lua' },\n"
             "  %s\n"
             "  plugins = {\n"
             "    { kind = 'exchange', name = 'paper' },\n"
             "    { kind = 'risk', name = 'policy' },\n"
             "  },\n"
             "}\n",
             g_dir, plugins ? plugins : "build/plugins", src ? src : ".", regime);
}

typedef struct seen {
    qtr_event ev[64];
    size_t n;
} seen;

static void on_regime(void *ud, const qtr_event *ev)
{
    seen *s = ud;
    if (s->n < 64) s->ev[s->n] = *ev;
    s->n++;
}

static void write_to_file(void *ud, const char *text, size_t len) { fwrite(text, 1, len, ud); }

/* A candle subscriber that comes after the host's (as every strategy
 * does): get_regime already answers for this candle. */
typedef struct late_reader {
    qh_engine *e;
    size_t candles, current;
} late_reader;

static void on_candle_late(void *ud, const qtr_event *ev)
{
    late_reader *l = ud;
    qtr_regime_event r;
    const qtr_host *h = qh_engine_host_api(l->e);
    l->candles++;
    if (h->get_regime(qh_engine_host_ctx(l->e), ev->u.candle.symbol, &r, sizeof r) == QTR_OK &&
        r.time_ms == ev->u.candle.close_time_ms)
        l->current++;
}

static void backtest_publishes_on_change_only(void **state)
{
    (void)state;
    char csv[128], text[4096], err[1024] = "";
    snprintf(csv, sizeof csv, "%s/TESTUSDT.csv", g_dir);
    write_csv(csv);
    qh_candle_vec v = { 0 };
    assert_int_equal(qh_csv_load(csv, "TESTUSDT", &v, err, sizeof err), 0);
    assert_int_equal(v.len, 300);

    config_text(text, sizeof text, "regime = { confirm = 1, volatile_vol_pct = '3' },");
    qh_config cfg;
    if (qh_config_load_string(text, "regime-test.lua", g_dir, &cfg, err, sizeof err) != 0) fail_msg("config: %s", err);
    qh_engine *e = qh_engine_new(&cfg, NULL, v.items[0].open_time_ms, err, sizeof err);
    if (!e) fail_msg("engine: %s", err);
    const qtr_host *h = qh_engine_host_api(e);
    seen s = { .n = 0 };
    assert_non_null(h->subscribe(qh_engine_host_ctx(e), QTR_EV_REGIME, NULL, on_regime, &s));
    if (qh_engine_load(e, err, sizeof err) != 0 || qh_engine_start(e, err, sizeof err) != 0) fail_msg("%s", err);
    late_reader late = { .e = e };
    assert_non_null(h->subscribe(qh_engine_host_ctx(e), QTR_EV_CANDLE, NULL, on_candle_late, &late));

    /* the same candles through a classifier of our own, with the same parameters */
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    p.confirm = 1;
    p.volatile_vol_pct = 3;
    qtr_regime_classifier k;
    assert_true(qtr_regime_classifier_init(&k, &p));
    size_t expected = 0;
    bool seen_regime[QTR_REGIME__COUNT] = { false };
    qtr_regime_event r;
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "TESTUSDT", &r, sizeof r), QTR_ENOTFOUND);
    for (size_t i = 0; i < v.len; i++) {
        size_t before = s.n;
        qh_engine_feed_candle(e, &v.items[i]);
        qtr_regime_classifier_update(&k, &v.items[i]);
        if (k.changed) {
            /* one event, for this candle, saying what changed */
            if (s.n != before + 1) fail_msg("candle %zu: regime %s, %zu events", i + 1, qtr_regime_name(k.regime), s.n - before);
            const qtr_event *ev = &s.ev[expected];
            assert_int_equal(ev->type, QTR_EV_REGIME);
            assert_string_equal(ev->u.regime.symbol, "TESTUSDT");
            assert_int_equal(ev->u.regime.regime, k.regime);
            assert_int_equal(ev->u.regime.previous, k.previous);
            assert_int_equal(ev->u.regime.time_ms, v.items[i].close_time_ms);
            assert_int_equal(ev->time_ms, v.items[i].close_time_ms);   /* the simulated clock */
            assert_true(ev->u.regime.adx == k.adx && ev->u.regime.volatility == k.volatility);
            if (expected > 0) assert_int_equal(ev->u.regime.previous, s.ev[expected - 1].u.regime.regime);
            expected++;
            seen_regime[k.regime] = true;
        } else if (s.n != before) {
            fail_msg("candle %zu: no change, yet %zu events", i + 1, s.n - before);
        }
        /* get_regime always says the current one */
        assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "TESTUSDT", &r, sizeof r), QTR_OK);
        assert_int_equal(r.regime, k.regime);
        assert_int_equal(r.time_ms, v.items[i].close_time_ms);
    }
    assert_int_equal(s.n, expected);
    assert_int_equal(late.candles, v.len);
    assert_int_equal(late.current, v.len);
    /* the CSV switches: up, range, down and volatile all appear */
    assert_true(expected >= 4);
    for (int g = QTR_REGIME_TREND_UP; g <= QTR_REGIME_VOLATILE; g++)
        if (!seen_regime[g]) fail_msg("regime %s never published", qtr_regime_name((qtr_regime)g));
    assert_int_equal(s.ev[0].u.regime.previous, QTR_REGIME_UNKNOWN);

    /* the current regime as a gauge */
    char series[96];
    snprintf(series, sizeof series, "qtr_regime{symbol=\"TESTUSDT\"} %d\n", (int)k.regime);
    char *metrics = NULL;
    size_t metrics_len = 0;
    FILE *mem = open_memstream(&metrics, &metrics_len);
    assert_non_null(mem);
    qh_engine_metrics_write(e, write_to_file, mem);
    fclose(mem);
    if (!strstr(metrics, series)) fail_msg("no '%s' in the metrics", series);
    free(metrics);

    /* a plugin built against an older header (a shorter struct): its size
     * is honoured, nothing past it is written; a newer one (a longer
     * struct): what the host does not know reads 0 */
    _Alignas(qtr_regime_event) unsigned char buf[sizeof(qtr_regime_event) + 16];
    memset(buf, 0xA5, sizeof buf);
    size_t older = offsetof(qtr_regime_event, volatility);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "TESTUSDT", (qtr_regime_event *)(void *)buf, older), QTR_OK);
    for (size_t i = older; i < sizeof buf; i++) assert_int_equal(buf[i], 0xA5);
    assert_int_equal(((qtr_regime_event *)(void *)buf)->regime, k.regime);
    memset(buf, 0xA5, sizeof buf);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "TESTUSDT", (qtr_regime_event *)(void *)buf, sizeof buf), QTR_OK);
    for (size_t i = sizeof(qtr_regime_event); i < sizeof buf; i++) assert_int_equal(buf[i], 0);

    /* get_regime's refusals */
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "NOSUCH", &r, sizeof r), QTR_ENOTFOUND);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), NULL, &r, sizeof r), QTR_EINVAL);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(e), "TESTUSDT", NULL, sizeof r), QTR_EINVAL);

    qtr_regime_classifier_free(&k);
    qh_engine_free(e);
    qh_config_free(&cfg);
    qh_candle_vec_free(&v);
    unlink(csv);
}

/* The mock host answers get_regime from the regimes a test sets, as the
 * host does: sized copy, ENOTFOUND, EINVAL. */
static void mock_host_get_regime(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    assert_non_null(m);
    qtr_regime_event set = { .symbol = "XRPUSDT", .time_ms = 5, .regime = QTR_REGIME_VOLATILE,
                             .previous = QTR_REGIME_RANGE, .atr_pct = 4.5 };
    m->regimes[m->n_regimes++] = set;
    qtr_regime_event r;
    memset(&r, 0, sizeof r);
    assert_int_equal(m->api.get_regime(m->ctx, "XRPUSDT", &r, sizeof r), QTR_OK);
    assert_int_equal(r.regime, QTR_REGIME_VOLATILE);
    assert_int_equal(r.previous, QTR_REGIME_RANGE);
    assert_true(r.atr_pct == 4.5);
    assert_int_equal(m->api.get_regime(m->ctx, "BTCUSDT", &r, sizeof r), QTR_ENOTFOUND);
    assert_int_equal(m->api.get_regime(m->ctx, NULL, &r, sizeof r), QTR_EINVAL);
    assert_true(QTR_HOST_HAS(&m->api, get_regime));
    mock_host_free(m);
}

/* The regime section: declared defaults, and a bad value refused with the
 * key's path (qtr exits 2 on any config error: tests/regime/test_regime_cli.py). */
static void expect_config_error(const char *section, const char *key, const char *why)
{
    char text[4096], err[1024] = "";
    config_text(text, sizeof text, section);
    qh_config cfg;
    if (qh_config_load_string(text, "regime-test.lua", g_dir, &cfg, err, sizeof err) == 0)
        fail_msg("'%s' accepted", section);
    if (!strstr(err, key) || !strstr(err, why)) fail_msg("'%s': error '%s' does not name %s (%s)", section, err, key, why);
}

static void config_section_defaults_and_ranges(void **state)
{
    (void)state;
    char text[4096], err[1024] = "";
    config_text(text, sizeof text, "");
    qh_config cfg;
    if (qh_config_load_string(text, "regime-test.lua", g_dir, &cfg, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(cfg.regime.adx_period, 14);
    assert_int_equal(cfg.regime.atr_period, 14);
    assert_int_equal(cfg.regime.vol_period, 20);
    assert_int_equal(cfg.regime.confirm, 2);
    assert_int_equal(cfg.regime.trend_adx, QTR_DEC_INT(25));
    assert_int_equal(cfg.regime.trend_adx_exit, QTR_DEC_INT(20));
    assert_int_equal(cfg.regime.volatile_atr_pct, QTR_DEC_INT(3));
    assert_int_equal(cfg.regime.volatile_vol_pct, QTR_DEC_INT(25) / 10);
    /* the server's defaults are the library's */
    const qtr_regime_params lib = QTR_REGIME_PARAMS_DEFAULT;
    assert_int_equal(cfg.regime.adx_period, lib.adx_period);
    assert_int_equal(cfg.regime.atr_period, lib.atr_period);
    assert_int_equal(cfg.regime.vol_period, lib.vol_period);
    assert_int_equal(cfg.regime.confirm, lib.confirm);
    assert_true(qtr_dec_to_display_double(cfg.regime.trend_adx) == lib.trend_adx);
    assert_true(qtr_dec_to_display_double(cfg.regime.trend_adx_exit) == lib.trend_adx_exit);
    assert_true(qtr_dec_to_display_double(cfg.regime.volatile_atr_pct) == lib.volatile_atr_pct);
    assert_true(qtr_dec_to_display_double(cfg.regime.volatile_vol_pct) == lib.volatile_vol_pct);
    qh_config_free(&cfg);
    config_text(text, sizeof text, "regime = { adx_period = 7, trend_adx = '30', trend_adx_exit = '30', confirm = 1 },");
    if (qh_config_load_string(text, "regime-test.lua", g_dir, &cfg, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(cfg.regime.adx_period, 7);
    assert_int_equal(cfg.regime.trend_adx_exit, QTR_DEC_INT(30));
    qh_config_free(&cfg);

    static const struct { const char *section, *key, *why; } bad[] = {
        { "regime = { adx_period = 1 },", "regime.adx_period", "out of range" },
        { "regime = { vol_period = 5001 },", "regime.vol_period", "out of range" },
        { "regime = { atr_period = 0 },", "regime.atr_period", "out of range" },
        { "regime = { confirm = 101 },", "regime.confirm", "out of range" },
        { "regime = { trend_adx = '100.5' },", "regime.trend_adx", "out of range" },
        { "regime = { volatile_vol_pct = '0' },", "regime.volatile_vol_pct", "out of range (0, 1000]" },
        { "regime = { volatile_atr_pct = '-1' },", "regime.volatile_atr_pct", "out of range (0, 1000]" },
        { "regime = { volatile_atr_pct = 2.5 },", "regime.volatile_atr_pct", "not Lua floats" },
        { "regime = { trend_adx_exit = '30' },", "regime.trend_adx_exit", "above regime.trend_adx" },
        { "regime = { confrim = 2 },", "regime.confrim", "unknown" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_config_error(bad[i].section, bad[i].key, bad[i].why);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-regime-XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    qh_log_init(stderr, QH_LOG_WARN, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backtest_publishes_on_change_only),
        cmocka_unit_test(mock_host_get_regime),
        cmocka_unit_test(config_section_defaults_and_ranges),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
