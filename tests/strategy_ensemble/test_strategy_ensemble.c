/* strategy_ensemble loaded from its .so into the mock host: a good model is
 * used (health OK); a missing, corrupt or mismatched one (sidecar missing,
 * wrong format version, wrong feature list or count, bytes that are not the
 * sidecar's, bytes XGBoost refuses) is never used: health DEGRADED with the
 * reason, one error line, every decision counted in
 * strategy_model_fallback_total, and the signals exactly those of the rules
 * alone (no invented score). A reload (qtr_strategy_ops.reload, as SIGHUP
 * does) drops to DEGRADED when the model file is deleted and back to OK
 * when a good one returns. The test models are made here with XGBoost's C
 * API, not by the trainer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xgboost/c_api.h>

#include "core/sha256.h"
#include "ensemble_features.h"
#include "ensemble_model.h"
#include "mock_host.h"

#define T0 INT64_C(1704067200000)
#define STEP_MS INT64_C(300000)
#define N_CANDLES 140
#define DECISIONS (N_CANDLES - ENSEMBLE_WARMUP + 1)   /* candles with every feature ready */
#define FALLBACK "strategy_model_fallback_total"

static char dir[256];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* A small binary:logistic model over n_features columns of a fixed pseudo-random table. */
static void make_model(const char *path, int n_features)
{
    enum { ROWS = 200 };
    static float x[ROWS * 16];
    static float y[ROWS];
    uint32_t s = 12345;
    for (int r = 0; r < ROWS; r++) {
        for (int f = 0; f < n_features; f++) {
            s = s * 1103515245u + 12345u;
            x[r * n_features + f] = (float)((s >> 8) % 1000) / 1000.0f - 0.5f;
        }
        y[r] = x[r * n_features] + 0.3f * x[r * n_features + 1] > 0 ? 1.0f : 0.0f;
    }
    DMatrixHandle d;
    BoosterHandle b;
    assert_int_equal(XGDMatrixCreateFromMat(x, ROWS, (bst_ulong)n_features, NAN, &d), 0);
    assert_int_equal(XGDMatrixSetFloatInfo(d, "label", y, ROWS), 0);
    assert_int_equal(XGBoosterCreate(&d, 1, &b), 0);
    XGBoosterSetParam(b, "objective", "binary:logistic");
    XGBoosterSetParam(b, "max_depth", "2");
    XGBoosterSetParam(b, "nthread", "1");
    for (int i = 0; i < 5; i++) assert_int_equal(XGBoosterUpdateOneIter(b, i, d), 0);
    assert_int_equal(XGBoosterSaveModel(b, path), 0);
    XGBoosterFree(b);
    XGDMatrixFree(d);
}

static void file_sha(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    qh_sha256_hex(buf, n, hex);
}

static const char *feature_list(void)
{
    static char s[512];
    s[0] = '\0';
    for (int i = 0; i < ENSEMBLE_N_FEATURES; i++) {
        if (i) strcat(s, ",");
        strcat(s, ensemble_feature_names[i]);
    }
    return s;
}

/* The sidecar of model_path; sha NULL: the model file's own. */
static void write_sidecar(const char *model_path, int version, int n_features, const char *features, const char *sha)
{
    char meta[512], hex[65];
    snprintf(meta, sizeof meta, "%s.meta", model_path);
    if (!sha) {
        file_sha(model_path, hex);
        sha = hex;
    }
    FILE *f = fopen(meta, "w");
    assert_non_null(f);
    fprintf(f, "# test sidecar\nformat_version = %d\nn_features = %d\nfeatures = %s\nmodel_sha256 = %s\n"
               "objective = binary:logistic\noos_accuracy = 0.5\n",
            version, n_features, features, sha);
    fclose(f);
}

/* A good model and sidecar at dir/name. */
static void good_model(char *path, size_t n, const char *name)
{
    path_in(path, n, name);
    make_model(path, ENSEMBLE_N_FEATURES);
    write_sidecar(path, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), NULL);
}

static int load(mock_host **m, mock_plugin *p, const char *model)
{
    *m = mock_host_new(false);
    mock_host_set_option(*m, "model", model);
    mock_host_set_option(*m, "threshold", "0.05");
    mock_host_set_option(*m, "order_notional", "1000");
    return mock_plugin_load(*m, mock_plugin_path("strategy_ensemble"), p);
}

/* A deterministic wavy series: trends, ranges and breakouts for every voter. */
static void feed(mock_plugin *p, int from, int to)
{
    for (int i = from; i < to; i++) {
        double close = 1.0 + 0.05 * sin(i / 9.0) + 0.02 * sin(i / 2.7) + 0.0004 * i;
        double prev = 1.0 + 0.05 * sin((i - 1) / 9.0) + 0.02 * sin((i - 1) / 2.7) + 0.0004 * (i - 1);
        char o[32], h[32], l[32], c[32], v[32];
        snprintf(o, sizeof o, "%.4f", prev);
        snprintf(c, sizeof c, "%.4f", close);
        snprintf(h, sizeof h, "%.4f", fmax(prev, close) + 0.003);
        snprintf(l, sizeof l, "%.4f", fmin(prev, close) - 0.003);
        snprintf(v, sizeof v, "%d", 1000 + (i * 37) % 500);
        qtr_candle k;
        memset(&k, 0, sizeof k);
        qtr_strlcpy(k.symbol, "XRPUSDT", sizeof k.symbol);
        k.open_time_ms = T0 + i * STEP_MS;
        k.close_time_ms = k.open_time_ms + STEP_MS - 1;
        k.open = D(o);
        k.high = D(h);
        k.low = D(l);
        k.close = D(c);
        k.volume = D(v);
        p->desc->strategy->on_candle(p->state, &k);
    }
}

static bool same_signals(const mock_host *a, const mock_host *b)
{
    if (a->n_signals != b->n_signals) return false;
    for (size_t i = 0; i < a->n_signals; i++) {
        const qtr_signal *x = &a->signals[i], *y = &b->signals[i];
        if (x->side != y->side || x->qty != y->qty || x->reduce_only != y->reduce_only ||
            x->confidence != y->confidence || strcmp(x->reason, y->reason) != 0)
            return false;
    }
    return true;
}

/* The signals of the rules alone (no model configured), for comparison. */
static mock_host *rules_only_run(void)
{
    mock_host *m;
    mock_plugin p;
    assert_int_equal(load(&m, &p, ""), 0);
    feed(&p, 0, N_CANDLES);
    mock_plugin_unload(m, &p);
    return m;
}

static void test_good_model_is_used(void **unused)
{
    (void)unused;
    char model[300];
    good_model(model, sizeof model, "good.json");
    mock_host *m;
    mock_plugin p;
    assert_int_equal(load(&m, &p, model), 0);
    assert_int_equal(m->health.status, QTR_HEALTH_OK);
    assert_non_null(strstr(m->health.reason, "model loaded"));
    assert_true(mock_host_gauge(m, "strategy_model_loaded", "ensemble") == 1);
    feed(&p, 0, N_CANDLES);
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), 0);
    assert_true(m->n_signals > 0);
    assert_non_null(strstr(m->signals[0].reason, "model and rules"));
    assert_int_equal(m->n_logs_error, 0);
    mock_host *rules = rules_only_run();
    assert_false(same_signals(m, rules));   /* the model's votes change decisions */
    mock_host_free(rules);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* Load `model`, expect DEGRADED with `why` in the reason, one error line,
 * every decision a fallback one, and exactly the rules' signals. */
static void expect_fallback(const char *model, const char *why)
{
    mock_host *m;
    mock_plugin p;
    assert_int_equal(load(&m, &p, model), 0);   /* a bad model never stops the plugin */
    assert_int_equal(m->health.status, QTR_HEALTH_DEGRADED);
    if (!strstr(m->health.reason, why)) fail_msg("health reason '%s' lacks '%s'", m->health.reason, why);
    assert_non_null(strstr(m->health.reason, "rules only"));
    assert_true(mock_host_gauge(m, "strategy_model_loaded", "ensemble") == 0);
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), 0);
    feed(&p, 0, N_CANDLES);
    assert_int_equal(m->n_logs_error, 1);   /* said once, not per candle */
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), DECISIONS);
    mock_host *rules = rules_only_run();
    assert_true(rules->n_signals > 0);
    assert_true(same_signals(m, rules));
    mock_host_free(rules);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

static void test_no_model_configured(void **unused)
{
    (void)unused;
    expect_fallback("", "no model configured");
}

static void test_missing_model_file(void **unused)
{
    (void)unused;
    char model[300];
    good_model(model, sizeof model, "deleted.json");
    unlink(model);
    expect_fallback(model, "model file missing");
    char nothing[300];
    path_in(nothing, sizeof nothing, "never_was.json");
    expect_fallback(nothing, "sidecar missing");
}

static void overwrite(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void test_corrupt_bytes(void **unused)
{
    (void)unused;
    char model[300];
    good_model(model, sizeof model, "corrupt.json");
    /* bytes changed after training: the sidecar's SHA-256 no longer matches */
    FILE *f = fopen(model, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET);
    fputc('#', f);
    fclose(f);
    expect_fallback(model, "SHA-256");
    /* garbage, truncated JSON and binary bytes with a sidecar that vouches
     * for them: XGBoost's own parser refuses them */
    static const char *const junk[] = { "{\"learner\": {\"gradient_booster\": {\"model\": {\"trees\": [",
                                        "not a model at all", "{}", "\x00\x01\x02\xff\xfe{[" };
    static const size_t junk_len[] = { 53, 18, 2, 8 };
    for (size_t i = 0; i < 4; i++) {
        overwrite(model, junk[i], junk_len[i]);
        write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), NULL);
        expect_fallback(model, "");
    }
    overwrite(model, "", 0);
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), NULL);
    expect_fallback(model, "");
}

static void test_wrong_feature_count(void **unused)
{
    (void)unused;
    char model[300];
    path_in(model, sizeof model, "eleven.json");
    make_model(model, ENSEMBLE_N_FEATURES - 1);
    /* an honest sidecar: its count is refused */
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES - 1, feature_list(), NULL);
    expect_fallback(model, "n_features 11, the plugin has 12");
    /* a sidecar that claims 12: the booster's own count is refused */
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), NULL);
    expect_fallback(model, "the model takes 11 features");
}

static void test_wrong_version_and_sidecar(void **unused)
{
    (void)unused;
    char model[300];
    good_model(model, sizeof model, "version.json");
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION + 1, ENSEMBLE_N_FEATURES, feature_list(), NULL);
    expect_fallback(model, "format_version 2, the plugin reads 1");
    /* the features in another order */
    char swapped[512];
    snprintf(swapped, sizeof swapped, "rsi_14,ret_1%s", strchr(strchr(feature_list(), ',') + 1, ','));
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, swapped, NULL);
    expect_fallback(model, "feature 1 is 'rsi_14'");
    /* a key the plugin does not know, and a line that is not key = value */
    char meta[320];
    snprintf(meta, sizeof meta, "%s.meta", model);
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), NULL);
    FILE *f = fopen(meta, "a");
    fputs("colour = blue\n", f);
    fclose(f);
    expect_fallback(model, "sidecar:8: unknown key 'colour'");
    write_sidecar(model, ENSEMBLE_FORMAT_VERSION, ENSEMBLE_N_FEATURES, feature_list(), "abc");
    expect_fallback(model, "model_sha256 is not 64");
}

static void test_reload_degrades_and_recovers(void **unused)
{
    (void)unused;
    char model[300], saved[300];
    good_model(model, sizeof model, "reload.json");
    path_in(saved, sizeof saved, "reload.saved");
    mock_host *m;
    mock_plugin p;
    assert_int_equal(load(&m, &p, model), 0);
    assert_int_equal(m->health.status, QTR_HEALTH_OK);
    feed(&p, 0, 60);
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), 0);

    assert_int_equal(rename(model, saved), 0);   /* the operator deletes the model, then reloads */
    assert_true(mock_plugin_reload(m, &p));
    assert_int_equal(m->health.status, QTR_HEALTH_DEGRADED);
    assert_non_null(strstr(m->health.reason, "model file missing"));
    assert_int_equal(m->n_logs_error, 1);
    feed(&p, 60, 100);
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), 40);   /* each decision since */
    size_t before = m->n_signals;

    assert_int_equal(rename(saved, model), 0);   /* a good model comes back */
    assert_true(mock_plugin_reload(m, &p));
    assert_int_equal(m->health.status, QTR_HEALTH_OK);
    assert_true(mock_host_gauge(m, "strategy_model_loaded", "ensemble") == 1);
    feed(&p, 100, N_CANDLES);
    assert_int_equal(mock_host_metric(m, FALLBACK, "ensemble"), 40);   /* no more fallbacks */
    assert_true(m->n_signals >= before);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* ensemble_model_predict (inplace, one reused row and proxy) gives, row
 * after row, exactly what XGBoost gives for each row in a DMatrix of its
 * own: nothing of one prediction leaks into the next. */
static void test_predictions_match_xgboost(void **unused)
{
    (void)unused;
    char model[300], err[128];
    good_model(model, sizeof model, "same.json");
    ensemble_model *m = ensemble_model_load(model, err, sizeof err);
    assert_non_null(m);
    BoosterHandle b;
    assert_int_equal(XGBoosterCreate(NULL, 0, &b), 0);
    assert_int_equal(XGBoosterLoadModel(b, model), 0);
    uint32_t s = 777;
    int differ = 0;
    double first = -1;
    for (int r = 0; r < 200; r++) {
        float row[ENSEMBLE_N_FEATURES];
        for (int f = 0; f < ENSEMBLE_N_FEATURES; f++) {
            s = s * 1103515245u + 12345u;
            row[f] = (float)((s >> 8) % 1000) / 1000.0f - 0.5f;
        }
        double p;
        assert_true(ensemble_model_predict(m, row, &p, err, sizeof err));
        DMatrixHandle d;
        assert_int_equal(XGDMatrixCreateFromMat(row, 1, ENSEMBLE_N_FEATURES, NAN, &d), 0);
        bst_ulong const *shape;
        bst_ulong dim;
        float const *want;
        assert_int_equal(XGBoosterPredictFromDMatrix(b, d, "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                                        "\"iteration_end\": 0, \"strict_shape\": false}",
                                                     &shape, &dim, &want), 0);
        if ((float)p != want[0]) fail_msg("row %d: %.9g, XGBoost says %.9g", r, p, (double)want[0]);
        differ += r > 0 && p != first;
        if (r == 0) first = p;
        XGDMatrixFree(d);
    }
    assert_true(differ > 50);   /* the rows really give different answers */
    XGBoosterFree(b);
    ensemble_model_free(m);
}

int main(void)
{
    char tmpl[] = "/tmp/qtr_ensemble_XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    snprintf(dir, sizeof dir, "%s", tmpl);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_model_is_used),
        cmocka_unit_test(test_predictions_match_xgboost),
        cmocka_unit_test(test_no_model_configured),
        cmocka_unit_test(test_missing_model_file),
        cmocka_unit_test(test_corrupt_bytes),
        cmocka_unit_test(test_wrong_feature_count),
        cmocka_unit_test(test_wrong_version_and_sidecar),
        cmocka_unit_test(test_reload_degrades_and_recovers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
