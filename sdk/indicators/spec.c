/* spec.c — any indicator from a text spec such as "macd:12:26:9" (see
 * qtr/indicators.h): qtr indicators, and strategies configured by text. */
#include "window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kind { K_SMA, K_EMA, K_WMA, K_RSI, K_ATR, K_STDDEV, K_ZSCORE, K_VWAP, K_OBV, K_BBANDS, K_MACD,
                    K_ADX, K_STOCH, K_DONCHIAN } kind;

typedef struct kind_info {
    const char *name;
    kind k;
    int n_params;
    const char *usage;                        /* the spec's shape, for errors */
    const char *parts[QTR_IND_MAX_OUTPUTS];   /* column suffixes; NULL: one unnamed column */
} kind_info;

static const kind_info kinds[] = {
    { "sma", K_SMA, 1, "sma:N", { NULL } },
    { "ema", K_EMA, 1, "ema:N", { NULL } },
    { "wma", K_WMA, 1, "wma:N", { NULL } },
    { "rsi", K_RSI, 1, "rsi:N", { NULL } },
    { "atr", K_ATR, 1, "atr:N", { NULL } },
    { "stddev", K_STDDEV, 1, "stddev:N", { NULL } },
    { "zscore", K_ZSCORE, 1, "zscore:N", { NULL } },
    { "vwap", K_VWAP, 1, "vwap:N", { NULL } },
    { "obv", K_OBV, 0, "obv", { NULL } },
    { "bbands", K_BBANDS, 2, "bbands:N:K", { "upper", "middle", "lower" } },
    { "macd", K_MACD, 3, "macd:FAST:SLOW:SIGNAL", { "line", "signal", "hist" } },
    { "adx", K_ADX, 1, "adx:N", { NULL, "plus_di", "minus_di" } },
    { "stoch", K_STOCH, 3, "stoch:K:SMOOTH:D", { "k", "d" } },
    { "donchian", K_DONCHIAN, 1, "donchian:N", { "upper", "middle", "lower" } },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

struct qtr_ind {
    const kind_info *info;
    union {
        qtr_ind_sma sma;
        qtr_ind_ema ema;
        qtr_ind_wma wma;
        qtr_ind_rsi rsi;
        qtr_ind_atr atr;
        qtr_ind_stddev sd;
        qtr_ind_vwap vwap;
        qtr_ind_obv obv;
        qtr_ind_bbands bb;
        qtr_ind_macd macd;
        qtr_ind_adx adx;
        qtr_ind_stoch stoch;
        qtr_ind_donchian dc;
    } u;
    int n_out;
    char names[QTR_IND_MAX_OUTPUTS][QTR_IND_NAME_MAX];
    double val[QTR_IND_MAX_OUTPUTS];
    bool has[QTR_IND_MAX_OUTPUTS];
};

/* A whole number 1..QTR_IND_PERIOD_MAX, digits only. */
static bool parse_period(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 5) return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* A multiplier with at most 2 decimals, 0..1000, in hundredths. */
static bool parse_x100(const char *s, size_t len, int *out)
{
    qtr_dec d;
    if (len == 0 || len > 12 || s[0] == '-' || s[0] == '+' || qtr_dec_parse(s, len, &d) != QTR_DEC_OK) return false;
    if (d % 1000000 != 0 || d > QTR_DEC_INT(1000)) return false;
    *out = (int)(d / 1000000);
    return true;
}

static void list_names(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_KINDS && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", kinds[i].name);
}

static bool init_kind(qtr_ind *ind, const int *p)
{
    switch (ind->info->k) {
    case K_SMA: return qtr_ind_sma_init(&ind->u.sma, p[0]);
    case K_EMA: return qtr_ind_ema_init(&ind->u.ema, p[0]);
    case K_WMA: return qtr_ind_wma_init(&ind->u.wma, p[0]);
    case K_RSI: return qtr_ind_rsi_init(&ind->u.rsi, p[0]);
    case K_ATR: return qtr_ind_atr_init(&ind->u.atr, p[0]);
    case K_STDDEV:
    case K_ZSCORE: return qtr_ind_stddev_init(&ind->u.sd, p[0]);
    case K_VWAP: return qtr_ind_vwap_init(&ind->u.vwap, p[0]);
    case K_OBV: qtr_ind_obv_init(&ind->u.obv); return true;
    case K_BBANDS: return qtr_ind_bbands_init(&ind->u.bb, p[0], p[1]);
    case K_MACD: return qtr_ind_macd_init(&ind->u.macd, p[0], p[1], p[2]);
    case K_ADX: return qtr_ind_adx_init(&ind->u.adx, p[0]);
    case K_STOCH: return qtr_ind_stoch_init(&ind->u.stoch, p[0], p[1], p[2]);
    case K_DONCHIAN: return qtr_ind_donchian_init(&ind->u.dc, p[0]);
    }
    return false;
}

qtr_ind *qtr_ind_new(const char *spec, char *err, size_t errlen)
{
    if (strlen(spec) > QTR_IND_SPEC_MAX) {
        snprintf(err, errlen, "'%.20s...' is longer than %d characters", spec, QTR_IND_SPEC_MAX);
        return NULL;
    }
    size_t name_len = strcspn(spec, ":");
    const kind_info *info = NULL;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strlen(kinds[i].name) == name_len && strncmp(kinds[i].name, spec, name_len) == 0) info = &kinds[i];
    if (!info) {
        char known[256];
        list_names(known, sizeof known);
        snprintf(err, errlen, "unknown indicator '%.*s' (known: %s)", (int)(name_len > 32 ? 32 : name_len), spec,
                 known);
        return NULL;
    }
    /* the parameters, each a field between colons */
    const char *field[QTR_IND_MAX_OUTPUTS + 1];
    size_t flen[QTR_IND_MAX_OUTPUTS + 1];
    int n = 0;
    for (const char *s = spec + name_len; *s == ':';) {
        s++;
        size_t len = strcspn(s, ":");
        if (n <= QTR_IND_MAX_OUTPUTS) {
            field[n] = s;
            flen[n] = len;
        }
        n++;
        s += len;
    }
    if (n != info->n_params) {
        snprintf(err, errlen, "%s needs %d parameter%s (%s), got %d", info->name, info->n_params,
                 info->n_params == 1 ? "" : "s", info->usage, n);
        return NULL;
    }
    int p[QTR_IND_MAX_OUTPUTS] = { 0 };
    for (int i = 0; i < n; i++) {
        bool is_mult = info->k == K_BBANDS && i == 1;
        bool ok = is_mult ? parse_x100(field[i], flen[i], &p[i]) : parse_period(field[i], flen[i], &p[i]);
        int min = (info->k == K_MACD && i < 2) || info->k == K_ADX ? 2 : 1;
        if (is_mult && !ok) {
            snprintf(err, errlen, "%s: multiplier '%.*s' is not a number 0..1000 with at most 2 decimals",
                     info->name, (int)(flen[i] > 24 ? 24 : flen[i]), field[i]);
            return NULL;
        }
        if (!is_mult && (!ok || p[i] < min || p[i] > QTR_IND_PERIOD_MAX)) {
            snprintf(err, errlen, "%s: period '%.*s' is not a whole number in %d..%d (%s)", info->name,
                     (int)(flen[i] > 24 ? 24 : flen[i]), field[i], min, QTR_IND_PERIOD_MAX, info->usage);
            return NULL;
        }
    }
    qtr_ind *ind = calloc(1, sizeof *ind);
    if (!ind) {
        snprintf(err, errlen, "%s: out of memory", info->name);
        return NULL;
    }
    ind->info = info;
    if (!init_kind(ind, p)) {
        snprintf(err, errlen, "%s: out of memory", info->name);
        qtr_ind_free(ind);
        return NULL;
    }
    /* column names: the parsed spec, '_' between its parts, then the output's
     * part; from the values, not the text, so sma:03 is sma_3 and
     * bbands:20:2.0 is bbands_20_2: one name an indicator (duplicates show) */
    char base[QTR_IND_SPEC_MAX + 1];
    size_t at = (size_t)snprintf(base, sizeof base, "%s", info->name);
    for (int i = 0; i < n && at < sizeof base; i++) {
        bool is_mult = info->k == K_BBANDS && i == 1;
        int whole = is_mult ? p[i] / 100 : p[i], cents = is_mult ? p[i] % 100 : 0;
        if (cents == 0) at += (size_t)snprintf(base + at, sizeof base - at, "_%d", whole);
        else if (cents % 10 == 0) at += (size_t)snprintf(base + at, sizeof base - at, "_%d_%d", whole, cents / 10);
        else at += (size_t)snprintf(base + at, sizeof base - at, "_%d_%02d", whole, cents);
    }
    ind->n_out = 0;
    for (int i = 0; i < QTR_IND_MAX_OUTPUTS; i++) {
        if (i > 0 && !info->parts[i]) break;
        snprintf(ind->names[i], QTR_IND_NAME_MAX, "%.32s%s%.10s", base, info->parts[i] ? "_" : "",
                 info->parts[i] ? info->parts[i] : "");
        ind->n_out++;
    }
    return ind;
}

void qtr_ind_free(qtr_ind *ind)
{
    if (!ind) return;
    switch (ind->info->k) {
    case K_SMA: qtr_ind_sma_free(&ind->u.sma); break;
    case K_WMA: qtr_ind_wma_free(&ind->u.wma); break;
    case K_STDDEV:
    case K_ZSCORE: qtr_ind_stddev_free(&ind->u.sd); break;
    case K_VWAP: qtr_ind_vwap_free(&ind->u.vwap); break;
    case K_BBANDS: qtr_ind_bbands_free(&ind->u.bb); break;
    case K_MACD: qtr_ind_macd_free(&ind->u.macd); break;
    case K_STOCH: qtr_ind_stoch_free(&ind->u.stoch); break;
    case K_DONCHIAN: qtr_ind_donchian_free(&ind->u.dc); break;
    default: break;   /* no window */
    }
    free(ind);
}

int qtr_ind_outputs(const qtr_ind *ind) { return ind->n_out; }

const char *qtr_ind_output_name(const qtr_ind *ind, int i)
{
    return i >= 0 && i < ind->n_out ? ind->names[i] : NULL;
}

static void set(qtr_ind *ind, int i, bool has, double v)
{
    ind->has[i] = has;
    if (has) ind->val[i] = v;
}

qtr_ind_status qtr_ind_update(qtr_ind *ind, const qtr_candle *c)
{
    qtr_ind_status st = QTR_IND_REFUSED;
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    switch (ind->info->k) {
    case K_SMA: st = qtr_ind_sma_update(&ind->u.sma, c->close); set(ind, 0, st > 0, ind->u.sma.value); break;
    case K_EMA: st = qtr_ind_ema_update(&ind->u.ema, c->close); set(ind, 0, st > 0, ind->u.ema.value); break;
    case K_WMA: st = qtr_ind_wma_update(&ind->u.wma, c->close); set(ind, 0, st > 0, ind->u.wma.value); break;
    case K_RSI: st = qtr_ind_rsi_update(&ind->u.rsi, c->close); set(ind, 0, st > 0, ind->u.rsi.value); break;
    case K_ATR: st = qtr_ind_atr_update(&ind->u.atr, c); set(ind, 0, st > 0, ind->u.atr.value); break;
    case K_STDDEV: st = qtr_ind_stddev_update(&ind->u.sd, c->close); set(ind, 0, st > 0, ind->u.sd.value); break;
    case K_ZSCORE: st = qtr_ind_stddev_update(&ind->u.sd, c->close); set(ind, 0, st > 0, ind->u.sd.zscore); break;
    case K_VWAP: st = qtr_ind_vwap_update(&ind->u.vwap, c); set(ind, 0, st > 0, ind->u.vwap.value); break;
    case K_OBV: st = qtr_ind_obv_update(&ind->u.obv, c); set(ind, 0, st > 0, ind->u.obv.value); break;
    case K_BBANDS:
        st = qtr_ind_bbands_update(&ind->u.bb, c->close);
        set(ind, 0, st > 0, ind->u.bb.upper);
        set(ind, 1, st > 0, ind->u.bb.middle);
        set(ind, 2, st > 0, ind->u.bb.lower);
        break;
    case K_MACD:
        st = qtr_ind_macd_update(&ind->u.macd, c->close);
        set(ind, 0, ind->u.macd.line_ready, ind->u.macd.line);
        set(ind, 1, st > 0, ind->u.macd.signal);
        set(ind, 2, st > 0, ind->u.macd.histogram);
        break;
    case K_ADX:
        st = qtr_ind_adx_update(&ind->u.adx, c);
        set(ind, 0, st > 0, ind->u.adx.adx);
        set(ind, 1, ind->u.adx.di_ready, ind->u.adx.plus_di);
        set(ind, 2, ind->u.adx.di_ready, ind->u.adx.minus_di);
        break;
    case K_STOCH:
        st = qtr_ind_stoch_update(&ind->u.stoch, c);
        set(ind, 0, ind->u.stoch.k_ready, ind->u.stoch.k);
        set(ind, 1, st > 0, ind->u.stoch.d);
        break;
    case K_DONCHIAN:
        st = qtr_ind_donchian_update(&ind->u.dc, c);
        set(ind, 0, st > 0, qtr_ind__d(ind->u.dc.upper));
        set(ind, 1, st > 0, ind->u.dc.middle);
        set(ind, 2, st > 0, qtr_ind__d(ind->u.dc.lower));
        break;
    }
    return st;
}

bool qtr_ind_value(const qtr_ind *ind, int i, double *out)
{
    if (i < 0 || i >= ind->n_out || !ind->has[i]) return false;
    *out = ind->val[i];
    return true;
}
