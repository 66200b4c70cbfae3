/*
 * qtr/regime.h — the market regime of one symbol, as the host's regime
 * classifier (qtr/regime_classifier.h) and the REGIME event report it.
 *
 * APPEND-ONLY like the rest of the SDK: a new regime is a new value before
 * QTR_REGIME__COUNT; the numbers never change (they travel in events, the
 * bus envelope and plugin configuration).
 *
 * Everything here is static inline and dependency-free: any plugin can use
 * it without linking the host or the indicator library.
 *
 * A plugin that reads the host's regimes (get_regime, QTR_EV_REGIME, an
 * exit plan's regime_mask) declares .needs = QTR_NEEDS_REGIME in its
 * QTR_PLUGIN_DEFINE (SDK 2.4, qtr/plugin.h); they are refused otherwise.
 */
#ifndef QTR_REGIME_H
#define QTR_REGIME_H

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qtr_regime {
    QTR_REGIME_UNKNOWN = 0,    /* warm-up: not enough candles to say         */
    QTR_REGIME_TREND_UP = 1,   /* ADX strong, +DI above -DI                  */
    QTR_REGIME_TREND_DOWN = 2, /* ADX strong, -DI above +DI                  */
    QTR_REGIME_RANGE = 3,      /* neither trending nor volatile              */
    QTR_REGIME_VOLATILE = 4    /* ATR% or realized volatility above threshold */
} qtr_regime;

#define QTR_REGIME__COUNT 5

/* "unknown", "trend_up", "trend_down", "range", "volatile"; "?" if out of range. */
static inline const char *qtr_regime_name(qtr_regime r)
{
    static const char *const names[QTR_REGIME__COUNT] = {
        [QTR_REGIME_UNKNOWN] = "unknown",       [QTR_REGIME_TREND_UP] = "trend_up",
        [QTR_REGIME_TREND_DOWN] = "trend_down", [QTR_REGIME_RANGE] = "range",
        [QTR_REGIME_VOLATILE] = "volatile",
    };
    return ((unsigned)r < QTR_REGIME__COUNT) ? names[r] : "?";
}

/* The regime named `name` (as qtr_regime_name writes it); -1 if none. */
static inline int qtr_regime_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int r = 0; r < QTR_REGIME__COUNT; r++)
        if (strcmp(name, qtr_regime_name((qtr_regime)r)) == 0)
            return r;
    return -1;
}

#ifdef __cplusplus
}
#endif

#endif /* QTR_REGIME_H */
