/* ensemble_model: see ensemble_model.h. */
#include "ensemble_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xgboost/c_api.h>

#include "core/sha256.h"   /* the host's dependency-free SHA-256, compiled in */

struct ensemble_model {
    BoosterHandle booster;
    DMatrixHandle proxy;              /* reused by every prediction             */
    float row[ENSEMBLE_N_FEATURES];   /* the one input row: its address never moves */
    char row_interface[160];          /* __array_interface__ of row, built once     */
};

/* Inplace prediction, plain probabilities, all trees. XGBoost parses this
 * and the row's array interface on every call (most of a prediction's
 * cost): only the keys it requires, no spaces. */
static const char PREDICT_CONFIG[] =
    "{\"type\":0,\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* XGBoost's last error, short: its first line without the "[hh:mm:ss] "
 * stamp (the rest is a stack trace). */
static const char *xgb_error(char *buf, size_t n)
{
    const char *e = XGBGetLastError();
    if (!e) e = "unknown error";
    if (e[0] == '[' && strchr(e, ']')) e = strchr(e, ']') + 1;
    while (*e == ' ') e++;
    snprintf(buf, n, "%.*s", (int)strcspn(e, "\n"), e);
    return buf;
}

/* The whole of a regular file of at most max bytes (NUL-terminated), or NULL
 * with err. */
static char *read_file(const char *path, const char *what, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "%s %s", what, errno == ENOENT ? "missing" : strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        fail(err, errlen, "%s is not a regular file of at most %zu bytes", what, max);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)sb.st_size) {
        free(buf);
        fail(err, errlen, "%s could not be read", what);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* What the sidecar says. */
typedef struct sidecar {
    long format_version, n_features;
    bool features_ok, has_version, has_count, has_features, has_objective;
    char sha256[65];
} sidecar;

static bool parse_int(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end) return false;
    *out = x;
    return true;
}

/* The features line must name exactly ensemble_feature_names, in order. */
static bool features_match(const char *v, char *err, size_t errlen, int line)
{
    int i = 0;
    for (const char *p = v; *p; i++) {
        size_t n = strcspn(p, ",");
        if (i >= ENSEMBLE_N_FEATURES)
            return fail(err, errlen, "sidecar:%d: more than the plugin's %d features", line, ENSEMBLE_N_FEATURES);
        const char *want = ensemble_feature_names[i];
        if (strlen(want) != n || strncmp(p, want, n) != 0)
            return fail(err, errlen, "sidecar:%d: feature %d is '%.*s', the plugin's is '%s'", line, i + 1,
                        (int)(n > 24 ? 24 : n), p, want);
        p += n;
        if (*p == ',') p++;
    }
    if (i != ENSEMBLE_N_FEATURES)
        return fail(err, errlen, "sidecar:%d: %d features listed, the plugin has %d", line, i, ENSEMBLE_N_FEATURES);
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

static bool parse_sidecar(char *text, sidecar *sc, char *err, size_t errlen)
{
    static const char *const informative[] = { "trained_on", "rows", "trees", "max_depth", "oos_accuracy",
                                                "walk_forward_accuracy", "baseline_accuracy", NULL };
    memset(sc, 0, sizeof *sc);
    int line = 0;
    for (char *l = text, *next; l && *l; l = next) {
        line++;
        next = strchr(l, '\n');
        if (next) *next++ = '\0';
        char *s = trim(l);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) return fail(err, errlen, "sidecar:%d: not 'key = value'", line);
        *eq = '\0';
        char *key = trim(s), *v = trim(eq + 1);
        if (strcmp(key, "format_version") == 0) {
            if (!parse_int(v, &sc->format_version)) return fail(err, errlen, "sidecar:%d: format_version not an integer", line);
            sc->has_version = true;
        } else if (strcmp(key, "n_features") == 0) {
            if (!parse_int(v, &sc->n_features)) return fail(err, errlen, "sidecar:%d: n_features not an integer", line);
            sc->has_count = true;
        } else if (strcmp(key, "features") == 0) {
            sc->has_features = true;
            sc->features_ok = features_match(v, err, errlen, line);
            if (!sc->features_ok) return false;
        } else if (strcmp(key, "model_sha256") == 0) {
            if (strlen(v) != 64 || strspn(v, "0123456789abcdef") != 64)
                return fail(err, errlen, "sidecar:%d: model_sha256 is not 64 lower-case hex digits", line);
            memcpy(sc->sha256, v, 65);
        } else if (strcmp(key, "objective") == 0) {
            if (strcmp(v, "binary:logistic") != 0)
                return fail(err, errlen, "sidecar:%d: objective '%.32s', the plugin needs binary:logistic", line, v);
            sc->has_objective = true;
        } else {
            bool known = false;
            for (int i = 0; informative[i]; i++) known = known || strcmp(key, informative[i]) == 0;
            if (!known) return fail(err, errlen, "sidecar:%d: unknown key '%.32s'", line, key);
        }
    }
    if (!sc->has_version) return fail(err, errlen, "sidecar: format_version missing");
    if (sc->format_version != ENSEMBLE_FORMAT_VERSION)
        return fail(err, errlen, "sidecar: format_version %ld, the plugin reads %d", sc->format_version,
                    ENSEMBLE_FORMAT_VERSION);
    if (!sc->has_count) return fail(err, errlen, "sidecar: n_features missing");
    if (sc->n_features != ENSEMBLE_N_FEATURES)
        return fail(err, errlen, "sidecar: n_features %ld, the plugin has %d", sc->n_features, ENSEMBLE_N_FEATURES);
    if (!sc->has_features) return fail(err, errlen, "sidecar: features missing");
    if (!sc->sha256[0]) return fail(err, errlen, "sidecar: model_sha256 missing");
    if (!sc->has_objective) return fail(err, errlen, "sidecar: objective missing");
    return true;
}

void ensemble_model_free(ensemble_model *m)
{
    if (!m) return;
    if (m->booster) XGBoosterFree(m->booster);
    if (m->proxy) XGDMatrixFree(m->proxy);
    free(m);
}

ensemble_model *ensemble_model_load(const char *path, char *err, size_t errlen)
{
    char meta_path[1024];
    if ((size_t)snprintf(meta_path, sizeof meta_path, "%s.meta", path) >= sizeof meta_path) {
        fail(err, errlen, "model path too long");
        return NULL;
    }
    size_t meta_len, model_len;
    char *meta = read_file(meta_path, "sidecar", ENSEMBLE_SIDECAR_MAX_BYTES, &meta_len, err, errlen);
    if (!meta) return NULL;
    sidecar sc;
    bool ok = parse_sidecar(meta, &sc, err, errlen);
    free(meta);
    if (!ok) return NULL;
    char *bytes = read_file(path, "model file", ENSEMBLE_MODEL_MAX_BYTES, &model_len, err, errlen);
    if (!bytes) return NULL;
    char hex[65];
    qh_sha256_hex(bytes, model_len, hex);
    if (strcmp(hex, sc.sha256) != 0) {
        free(bytes);
        fail(err, errlen, "model file's SHA-256 %.12s... is not the sidecar's %.12s...", hex, sc.sha256);
        return NULL;
    }
    ensemble_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(bytes);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    bst_ulong n_features = 0;
    /* XGBoost reports its own failures through return codes (the C API
     * catches its exceptions): each is checked. */
    if (XGBoosterCreate(NULL, 0, &m->booster) != 0 ||
        XGBoosterLoadModelFromBuffer(m->booster, bytes, (bst_ulong)model_len) != 0) {
        char why[80];
        fail(err, errlen, "XGBoost refused the model: %s", xgb_error(why, sizeof why));
        free(bytes);
        ensemble_model_free(m);
        return NULL;
    }
    free(bytes);
    if (XGBoosterSetParam(m->booster, "nthread", "1") != 0 ||   /* one row: threads only cost */
        XGProxyDMatrixCreate(&m->proxy) != 0 ||
        XGBoosterGetNumFeature(m->booster, &n_features) != 0) {
        char why[80];
        fail(err, errlen, "XGBoost: %s", xgb_error(why, sizeof why));
        ensemble_model_free(m);
        return NULL;
    }
    if (n_features != ENSEMBLE_N_FEATURES) {
        fail(err, errlen, "the model takes %llu features, the plugin has %d", (unsigned long long)n_features,
             ENSEMBLE_N_FEATURES);
        ensemble_model_free(m);
        return NULL;
    }
    snprintf(m->row_interface, sizeof m->row_interface,
             "{\"data\":[%llu,true],\"shape\":[1,%d],\"typestr\":\"<f4\",\"version\":3}",
             (unsigned long long)(uintptr_t)m->row, ENSEMBLE_N_FEATURES);
    /* a probe: the model must answer one probability for a row */
    float zeros[ENSEMBLE_N_FEATURES] = { 0 };
    double p;
    char why[96];
    if (!ensemble_model_predict(m, zeros, &p, why, sizeof why)) {
        fail(err, errlen, "probe prediction failed: %s", why);
        ensemble_model_free(m);
        return NULL;
    }
    return m;
}

bool ensemble_model_predict(ensemble_model *m, const float features[ENSEMBLE_N_FEATURES], double *p_up, char *err,
                            size_t errlen)
{
    memcpy(m->row, features, sizeof m->row);
    bst_ulong const *shape = NULL;
    bst_ulong dim = 0;
    float const *result = NULL;
    if (XGBoosterPredictFromDense(m->booster, m->row_interface, PREDICT_CONFIG, m->proxy, &shape, &dim, &result) != 0)
    {
        char why[80];
        return fail(err, errlen, "XGBoost: %s", xgb_error(why, sizeof why));
    }
    bst_ulong n = 1;
    for (bst_ulong i = 0; i < dim; i++) n *= shape[i];
    if (n != 1 || !result || !isfinite(result[0]) || result[0] < 0.0f || result[0] > 1.0f)
        return fail(err, errlen, "the model answered %llu values, not one probability", (unsigned long long)n);
    *p_up = result[0];
    return true;
}
