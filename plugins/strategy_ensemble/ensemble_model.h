/*
 * ensemble_model — the XGBoost model of strategy_ensemble and its sidecar.
 *
 * A model is two files written by tools/train_ensemble.py: the model itself
 * (XGBoost JSON or UBJ, binary:logistic: P(next close > close)) and beside
 * it the sidecar <model>.meta, lines of `key = value` (# comments):
 *   format_version = 1           ENSEMBLE_FORMAT_VERSION (the feature formulas)
 *   n_features = 12              ENSEMBLE_N_FEATURES
 *   features = ret_1,rsi_14,...  exactly ensemble_feature_names, in order
 *   model_sha256 = <hex>         SHA-256 of the model file's bytes
 *   objective = binary:logistic
 * and, for people, trained_on, rows, trees, max_depth, oos_accuracy.
 *
 * Loading checks all of that, then the booster's own feature count, then one
 * probe prediction: a missing, corrupt or mismatched model is refused with
 * a one-line reason and never reaches a prediction. Nothing here invents a
 * score: ensemble_model_predict either returns XGBoost's probability or
 * fails.
 */
#ifndef QTR_ENSEMBLE_MODEL_H
#define QTR_ENSEMBLE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "ensemble_features.h"

#define ENSEMBLE_MODEL_MAX_BYTES (64u << 20)  /* a bigger model file is refused */
#define ENSEMBLE_SIDECAR_MAX_BYTES 65536u

typedef struct ensemble_model ensemble_model;

/* Load `path` and `path`.meta. NULL with the reason in err (short: it
 * becomes the plugin's health reason; the path is the caller's to log). */
ensemble_model *ensemble_model_load(const char *path, char *err, size_t errlen);
void ensemble_model_free(ensemble_model *m);

/* P(up) in [0, 1] for one row of features. No allocation of ours per call:
 * the row sits at a fixed address the array interface (built at load) points
 * to. false, with the reason in err, if XGBoost failed or answered something
 * other than one probability. */
bool ensemble_model_predict(ensemble_model *m, const float features[ENSEMBLE_N_FEATURES], double *p_up, char *err,
                            size_t errlen);

#endif
