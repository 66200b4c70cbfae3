/* cmd_indicators.c — `qtr indicators --data CSV --ind SPEC[,SPEC...] [-c
 * CONFIG] [--out CSV]`: the SDK's indicator values over a candle file, one
 * column each, so a user can set them beside a charting tool's. Computed by
 * the very library plugins link (qtr/indicators.h), fed one candle at a
 * time. `regime` is the host's regime classifier (qtr/regime_classifier.h)
 * with the config's regime section (its defaults without -c): the column
 * holds the regime's name, what REGIME events and get_regime would say. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/usage.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/indicators.h>
#include <qtr/regime_classifier.h>

#include "core/config.h"
#include "market/candles.h"

#define MAX_INDICATORS 64

/* The columns in --ind order; a NULL item is the regime's column. */
typedef struct ind_list {
    qtr_ind *items[MAX_INDICATORS];
    size_t n;
    bool has_regime;
    qtr_regime_classifier regime;
} ind_list;

static void free_list(ind_list *l)
{
    for (size_t i = 0; i < l->n; i++) qtr_ind_free(l->items[i]);
    l->n = 0;
    if (l->has_regime) qtr_regime_classifier_free(&l->regime);
    l->has_regime = false;
}

/* The regime thresholds of the server config at path (NULL: the defaults
 * every server starts with), or -1 after one clear error. */
static int regime_params(const char *path, qtr_regime_params *out)
{
    qh_config cfg;
    char err[1024];
    int rc = path ? qh_config_load_file(path, &cfg, err, sizeof err)
                  : qh_config_load_string(qh_config_default_backtest(), "(built-in default)", ".", &cfg, err,
                                          sizeof err);
    if (rc != 0) {
        fprintf(stderr, "qtr indicators: %s\n", err);
        return -1;
    }
    *out = (qtr_regime_params){
        .adx_period = (int)cfg.regime.adx_period,
        .atr_period = (int)cfg.regime.atr_period,
        .vol_period = (int)cfg.regime.vol_period,
        .trend_adx = qtr_dec_to_display_double(cfg.regime.trend_adx),
        .trend_adx_exit = qtr_dec_to_display_double(cfg.regime.trend_adx_exit),
        .volatile_atr_pct = qtr_dec_to_display_double(cfg.regime.volatile_atr_pct),
        .volatile_vol_pct = qtr_dec_to_display_double(cfg.regime.volatile_vol_pct),
        .confirm = (int)cfg.regime.confirm,
    };
    qh_config_free(&cfg);
    return 0;
}

/* One library spec ("rsi:14") appended, or -1 after one clear error. */
static int add_spec(const char *spec, ind_list *out)
{
    char err[512];
    qtr_ind *ind = qtr_ind_new(spec, err, sizeof err);
    if (!ind) {
        fprintf(stderr, "qtr indicators: --ind '%s': %s\n", spec, err);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        if (out->items[i] && strcmp(qtr_ind_output_name(out->items[i], 0), qtr_ind_output_name(ind, 0)) == 0) {
            fprintf(stderr, "qtr indicators: --ind '%s': given twice\n", spec);
            qtr_ind_free(ind);
            return -1;
        }
    out->items[out->n++] = ind;
    return 0;
}

/* The regime's column appended, or -1 after one clear error. */
static int add_regime(const qtr_regime_params *p, ind_list *out)
{
    if (out->has_regime) {
        fprintf(stderr, "qtr indicators: --ind 'regime': given twice\n");
        return -1;
    }
    if (!qtr_regime_classifier_init(&out->regime, p)) {   /* the config checked the ranges already */
        fprintf(stderr, "qtr indicators: regime: out of memory\n");
        qtr_regime_classifier_free(&out->regime);
        return -1;
    }
    out->has_regime = true;
    out->items[out->n++] = NULL;
    return 0;
}

/* Every spec of the comma-separated list, or -1 after one clear error. */
static int parse_specs(const char *list, const qtr_regime_params *regime, ind_list *out)
{
    const char *s = list;
    for (;;) {
        size_t len = strcspn(s, ",");
        char spec[64];
        if (len == 0) {
            fprintf(stderr, "qtr indicators: --ind '%s': an empty indicator (see qtr indicators --help)\n", list);
            return -1;
        }
        if (len >= sizeof spec) {
            fprintf(stderr, "qtr indicators: --ind '%.40s...': longer than %zu characters\n", s, sizeof spec - 1);
            return -1;
        }
        if (out->n == MAX_INDICATORS) {
            fprintf(stderr, "qtr indicators: --ind: at most %d indicators\n", MAX_INDICATORS);
            return -1;
        }
        memcpy(spec, s, len);
        spec[len] = '\0';
        if ((strcmp(spec, "regime") == 0 ? add_regime(regime, out) : add_spec(spec, out)) != 0) return -1;
        if (s[len] == '\0') return 0;
        s += len + 1;
    }
}

/* The header and one row a candle; a blank cell while an output warms up. */
static int write_csv(FILE *f, const qh_candle_vec *candles, ind_list *l, const char *data)
{
    fputs("open_time_ms", f);
    for (size_t i = 0; i < l->n; i++) {
        if (!l->items[i]) fputs(",regime", f);
        for (int k = 0; l->items[i] && k < qtr_ind_outputs(l->items[i]); k++)
            fprintf(f, ",%s", qtr_ind_output_name(l->items[i], k));
    }
    fputc('\n', f);
    for (size_t r = 0; r < candles->len; r++) {
        const qtr_candle *c = &candles->items[r];
        fprintf(f, "%lld", (long long)c->open_time_ms);
        for (size_t i = 0; i < l->n; i++) {
            qtr_ind_status st = l->items[i] ? qtr_ind_update(l->items[i], c) : qtr_regime_classifier_update(&l->regime, c);
            if (st == QTR_IND_REFUSED) {
                fprintf(stderr,
                        "qtr indicators: %s: candle %zu (open_time_ms %lld): a price beyond +-%lld, a negative "
                        "volume%s, outside what the indicators accept\n",
                        data, r + 1, (long long)c->open_time_ms, (long long)(QTR_IND_PRICE_MAX / QTR_DEC_SCALE),
                        l->items[i] ? "" : " or a close <= 0 (regime)");
                return 2;
            }
            if (!l->items[i]) {   /* the regime's name: "unknown" while it warms up */
                fprintf(f, ",%s", qtr_regime_name(l->regime.regime));
                continue;
            }
            for (int k = 0; k < qtr_ind_outputs(l->items[i]); k++) {
                double v;
                if (qtr_ind_value(l->items[i], k, &v)) fprintf(f, ",%.15g", v);
                else fputc(',', f);
            }
        }
        fputc('\n', f);
    }
    return 0;
}

int qh_cmd_indicators(int argc, char **argv)
{
    const char *data = NULL, *specs = NULL, *out_path = NULL, *config = NULL;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("indicators");
        const char **slot = strcmp(argv[i], "--data") == 0  ? &data
                            : strcmp(argv[i], "--ind") == 0 ? &specs
                            : strcmp(argv[i], "--out") == 0 ? &out_path
                            : strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ? &config
                                                            : NULL;
        if (!slot) return qh_usage_unknown_option("indicators", argv[i]);
        if (!qh_usage_value_once(argc, argv, &i, "indicators", slot)) return 2;
    }
    if (!out_path) out_path = "-";
    if (!data || !specs) {
        fprintf(stderr, "qtr indicators: %s is required (see qtr indicators --help)\n", !data ? "--data" : "--ind");
        return 2;
    }
    const qh_opt_path outs[] = { { "--out", out_path } }, ins[] = { { "--data", data }, { "-c", config } };
    char same[2 * PATH_MAX + 200];
    if (qh_out_refuse_same_file(outs, 1, ins, 2, same, sizeof same) != 0) {   /* before anything is written */
        fprintf(stderr, "qtr indicators: %s\n", same);
        return 2;
    }
    /* -c is read whenever given, not only for regime: a bad file is bad
     * input whatever is asked for */
    qtr_regime_params regime;
    if (regime_params(config, &regime) != 0) return 2;
    ind_list inds = { .n = 0 };
    if (parse_specs(specs, &regime, &inds) != 0) {
        free_list(&inds);
        return 2;
    }
    char sym[QTR_SYMBOL_MAX], err[PATH_MAX + 256];
    if (!qh_symbol_from_path(data, sym)) snprintf(sym, sizeof sym, "DATA");   /* only a label: unused here */
    qh_candle_vec candles = { 0 };
    if (qh_csv_load(data, sym, &candles, err, sizeof err) != 0) {
        fprintf(stderr, "qtr indicators: --data %s\n", err);
        free_list(&inds);
        return 2;
    }
    qh_out out = { 0 };
    int rc = 2;
    if (qh_out_open(&out, out_path, err, sizeof err) != 0) {
        fprintf(stderr, "qtr indicators: --out %s\n", err);
        goto done;
    }
    rc = write_csv(out.f, &candles, &inds, data);
    if (rc != 0) goto done;
    rc = 1;
    if (qh_out_commit(&out, err, sizeof err) != 0) {   /* never a half-written file */
        fprintf(stderr, "qtr indicators: --out %s\n", err);
        goto done;
    }
    rc = 0;
done:
    qh_out_abort(&out);
    qh_candle_vec_free(&candles);
    free_list(&inds);
    return rc;
}
