/*
 * ensemble_features — the feature rows of a candle file, for the trainer
 * (tools/train_ensemble.py): the same code the plugin computes them with,
 * so the model learns exactly what it will be shown.
 *   ensemble_features --names          the feature list, one a line
 *   ensemble_features FILE.csv         open_time_ms,close,<features> per
 *                                      candle once every feature is ready
 * Exit 0, or 2 with one line naming the file and line of bad input.
 */
#include <stdio.h>
#include <string.h>

#include "ensemble_features.h"
#include "market/candles.h"   /* the host's CSV reader */

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--names") == 0) {
        for (int i = 0; i < ENSEMBLE_N_FEATURES; i++) printf("%s\n", ensemble_feature_names[i]);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: ensemble_features --names | FILE.csv\n");
        return 2;
    }
    char symbol[QTR_SYMBOL_MAX], err[512];
    if (!qh_symbol_from_path(argv[1], symbol)) {
        fprintf(stderr, "ensemble_features: %s: no symbol in the file name\n", argv[1]);
        return 2;
    }
    qh_candle_vec v = { 0 };
    if (qh_csv_load(argv[1], symbol, &v, err, sizeof err) != 0) {
        fprintf(stderr, "ensemble_features: %s\n", err);
        return 2;
    }
    ensemble_indicators ind;
    if (!ensemble_indicators_init(&ind)) {
        fprintf(stderr, "ensemble_features: out of memory\n");
        qh_candle_vec_free(&v);
        return 1;
    }
    printf("open_time_ms,close");
    for (int i = 0; i < ENSEMBLE_N_FEATURES; i++) printf(",%s", ensemble_feature_names[i]);
    printf("\n");
    for (size_t k = 0; k < v.len; k++) {
        float f[ENSEMBLE_N_FEATURES];
        if (!ensemble_indicators_update(&ind, &v.items[k], f)) continue;
        char close[QTR_DEC_STRLEN];
        printf("%lld,%s", (long long)v.items[k].open_time_ms, qtr_dec_format(v.items[k].close, close));
        /* %.9g: a float read back as the same float */
        for (int i = 0; i < ENSEMBLE_N_FEATURES; i++) printf(",%.9g", (double)f[i]);
        printf("\n");
    }
    ensemble_indicators_free(&ind);
    qh_candle_vec_free(&v);
    return fflush(stdout) == 0 ? 0 : 1;
}
