/*
 * The synthetic market. Each symbol follows its own seeded random walk:
 * returns are integers in units of 1e-8 (RS = 100%), volatility follows a
 * GARCH(1,1)-like recursion on those integers, and a Markov chain switches
 * the regime. No floating point touches a price, so every machine produces
 * the same candles for the same seed.
 */
#include "market/candles.h"

#include <qtr/plugin.h>

#include <stdlib.h>
#include <string.h>

#define RS INT64_C(100000000)          /* return scale: 1e8 is 100%          */
#define Z_ONE 65536                     /* one standard deviation of a shock  */
#define MAX_ABS_RETURN (RS / 5)         /* no candle moves more than 20%      */

/* GARCH in per-mille: var' = base_var*(1000-A-B)/1000 + A*r^2/1000 + B*var/1000 */
#define GARCH_A 120
#define GARCH_B 850

typedef struct regime_params {
    const char *name;
    int64_t sigma;          /* long-run volatility per candle, units of 1e-8  */
    int64_t drift;          /* trend per candle (signed by direction), 1e-8   */
    int64_t reversion;      /* per-mille of the deviation pulled back          */
    int32_t stay;           /* per 10000: probability to stay each candle      */
} regime_params;

static const regime_params REGIMES[3] = {
    [QH_REGIME_TRENDING] = { "trending", 200000, 40000, 0, 9950 },
    [QH_REGIME_RANGING] = { "ranging", 120000, 0, 30, 9950 },
    [QH_REGIME_VOLATILE] = { "volatile", 600000, 0, 0, 9900 },
};

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256**: fast, well tested, and fully specified, so portable. */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) without modulo bias worth mentioning for n <= 2^16. */
static uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)(((rng_next(r) >> 32) * n) >> 32); }

/* Approximately standard normal, scaled by Z_ONE: the sum of 12 uniform
 * 16-bit draws (Irwin-Hall) has mean 6*65536 and deviation 65536. */
static int64_t rng_normal(rng *r)
{
    int64_t sum = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t x = rng_next(r);
        sum += (int64_t)(x & 0xffff) + (int64_t)((x >> 16) & 0xffff) + (int64_t)((x >> 32) & 0xffff) +
               (int64_t)(x >> 48);
    }
    return sum - 6 * (int64_t)Z_ONE;
}

static int64_t isqrt64(int64_t v)
{
    if (v <= 0) return 0;
    uint64_t x = (uint64_t)v, res = 0, bit = UINT64_C(1) << 62;
    while (bit > x) bit >>= 2;
    while (bit) {
        if (x >= res + bit) { x -= res + bit; res = (res >> 1) + bit; }
        else res >>= 1;
        bit >>= 2;
    }
    return (int64_t)res;
}

typedef struct sym_state {
    char symbol[QTR_SYMBOL_MAX];
    rng rng;
    qtr_dec price;           /* last close                                */
    qtr_dec anchor;          /* the level a ranging market reverts to     */
    qtr_dec tick, floor, ceiling, base_volume;
    int64_t var;             /* variance of the next return, (1e-8)^2      */
    int64_t candles;         /* emitted so far                             */
    qh_regime regime;
    int trend_dir;           /* +1 / -1 while trending                     */
} sym_state;

struct qh_synth {
    int64_t start_ms, interval_ms;
    size_t n, next;
    sym_state *sym;
};

static void enter_regime(sym_state *s, qh_regime r)
{
    s->regime = r;
    s->anchor = s->price;
    s->trend_dir = (rng_next(&s->rng) >> 63) ? 1 : -1;
}

/* Ticks: the largest power of ten at most price/100000 (5 significant digits). */
static qtr_dec tick_for(qtr_dec price)
{
    qtr_dec t = 1;
    while (t <= price / 1000000) t *= 10;
    return t;
}

static int init_symbol(sym_state *s, const char *name, qtr_dec start, uint64_t seed, size_t index)
{
    if (!name || !name[0] || strlen(name) >= QTR_SYMBOL_MAX || start <= 0) return -1;
    qtr_strlcpy(s->symbol, name, sizeof s->symbol);
    uint64_t x = seed ^ (UINT64_C(0xA0761D6478BD642F) * (index + 1));
    for (int k = 0; k < 4; k++) s->rng.s[k] = splitmix64(&x);
    s->tick = tick_for(start);
    s->price = start;
    s->floor = start / 1000 > s->tick ? start / 1000 : s->tick;
    s->ceiling = start > QTR_DEC_MAX / 2000 ? QTR_DEC_MAX / 2 : start * 1000;
    if (!qtr_dec_div(QTR_DEC_INT(1000000), start, QTR_ROUND_DOWN, &s->base_volume)) s->base_volume = QTR_DEC_MAX / 4;
    enter_regime(s, (qh_regime)rng_below(&s->rng, 3));
    s->var = REGIMES[s->regime].sigma * REGIMES[s->regime].sigma;
    return 0;
}

qh_synth *qh_synth_new(const qh_synth_config *cfg)
{
    if (!cfg || cfg->n_symbols == 0 || !cfg->symbols || cfg->interval_ms <= 0) return NULL;
    qh_synth *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->sym = calloc(cfg->n_symbols, sizeof *s->sym);
    if (!s->sym) { free(s); return NULL; }
    s->n = cfg->n_symbols;
    s->start_ms = cfg->start_ms;
    s->interval_ms = cfg->interval_ms;
    for (size_t i = 0; i < s->n; i++) {
        qtr_dec start = cfg->start_prices ? cfg->start_prices[i] : QTR_DEC_INT(100);
        if (init_symbol(&s->sym[i], cfg->symbols[i], start, cfg->seed, i) != 0) {
            qh_synth_free(s);
            return NULL;
        }
    }
    return s;
}

void qh_synth_free(qh_synth *s)
{
    if (!s) return;
    free(s->sym);
    free(s);
}

static void maybe_switch(sym_state *s)
{
    uint32_t roll = rng_below(&s->rng, 10000);
    if ((int32_t)roll < REGIMES[s->regime].stay) return;
    /* to one of the two other regimes, evenly */
    qh_regime next = (qh_regime)(((int)s->regime + 1 + (int)(roll & 1)) % 3);
    enter_regime(s, next);
}

static qtr_dec clamp_price(const sym_state *s, qtr_dec p)
{
    if (p < s->floor) return s->floor;
    if (p > s->ceiling) return s->ceiling;
    return p;
}

static qtr_dec round_tick(qtr_dec v, qtr_dec tick, qtr_rounding mode)
{
    qtr_dec out;
    return qtr_dec_round_step(v, tick, mode, &out) ? out : v;
}

/* price * (1 + frac/RS), where frac is in units of 1e-8 */
static qtr_dec scale_price(qtr_dec price, int64_t frac, qtr_rounding mode)
{
    qtr_dec out;
    if (!qtr_dec_muldiv(price, RS + frac, RS, mode, &out)) return price;
    return out;
}

static void step(sym_state *s, qtr_candle *c)
{
    const regime_params *rp = &REGIMES[s->regime];
    int64_t sigma = isqrt64(s->var);
    int64_t z = rng_normal(&s->rng);
    int64_t drift = 0;
    if (s->regime == QH_REGIME_TRENDING) drift = s->trend_dir * rp->drift;
    if (s->regime == QH_REGIME_RANGING && s->anchor > 0) {
        qtr_dec dev;
        if (qtr_dec_muldiv(s->price - s->anchor, RS, s->anchor, QTR_ROUND_HALF_EVEN, &dev))
            drift = -dev * rp->reversion / 1000;
    }
    int64_t r = drift + sigma * z / Z_ONE;
    if (r > MAX_ABS_RETURN) r = MAX_ABS_RETURN;
    if (r < -MAX_ABS_RETURN) r = -MAX_ABS_RETURN;

    qtr_dec open = s->price;
    qtr_dec close = clamp_price(s, round_tick(scale_price(open, r, QTR_ROUND_HALF_EVEN), s->tick, QTR_ROUND_HALF_EVEN));
    qtr_dec top = open > close ? open : close, bottom = open < close ? open : close;
    /* wicks: up to 0.7 sigma beyond the body, each side drawn separately */
    int64_t up = sigma * 7 / 10 * (int64_t)rng_below(&s->rng, 65536) / 65536;
    int64_t down = sigma * 7 / 10 * (int64_t)rng_below(&s->rng, 65536) / 65536;
    qtr_dec high = round_tick(scale_price(top, up, QTR_ROUND_CEIL), s->tick, QTR_ROUND_CEIL);
    qtr_dec low = round_tick(scale_price(bottom, -down, QTR_ROUND_FLOOR), s->tick, QTR_ROUND_FLOOR);
    if (high < top) high = top;
    if (low > bottom) low = bottom;
    if (low < s->floor) low = bottom < s->floor ? bottom : s->floor;

    /* volume grows with volatility and with the size of this move */
    int64_t absz = z < 0 ? -z : z;
    qtr__i128 vol = (qtr__i128)s->base_volume * sigma / REGIMES[QH_REGIME_TRENDING].sigma;
    vol = vol * (32768 + (int64_t)rng_below(&s->rng, 65536)) / 65536;
    vol = vol * (2 * Z_ONE + absz) / (2 * Z_ONE);
    if (vol > QTR_DEC_MAX / 4) vol = QTR_DEC_MAX / 4;
    qtr_dec volume = round_tick((qtr_dec)vol, 100000, QTR_ROUND_DOWN);   /* lots of 0.001 */

    /* GARCH update from the realised return */
    int64_t real_r = 0;
    if (open > 0) qtr_dec_muldiv(close - open, RS, open, QTR_ROUND_HALF_EVEN, &real_r);
    int64_t base_var = rp->sigma * rp->sigma;
    s->var = (base_var * (1000 - GARCH_A - GARCH_B) + GARCH_A * real_r * real_r + GARCH_B * s->var) / 1000;
    int64_t max_var = MAX_ABS_RETURN / 4 * (MAX_ABS_RETURN / 4);
    if (s->var > max_var) s->var = max_var;

    c->open = open;
    c->high = high;
    c->low = low;
    c->close = close;
    c->volume = volume;
    s->price = close;
    maybe_switch(s);
}

void qh_synth_next(qh_synth *s, qtr_candle *out)
{
    sym_state *st = &s->sym[s->next];
    memset(out, 0, sizeof *out);
    qtr_strlcpy(out->symbol, st->symbol, sizeof out->symbol);
    out->open_time_ms = s->start_ms + st->candles * s->interval_ms;
    out->close_time_ms = out->open_time_ms + s->interval_ms - 1;
    step(st, out);
    st->candles++;
    s->next = (s->next + 1) % s->n;
}

qh_regime qh_synth_regime_code(const qh_synth *s, size_t symbol_index)
{
    if (!s || symbol_index >= s->n) return QH_REGIME_TRENDING;
    return s->sym[symbol_index].regime;
}

const char *qh_synth_regime(const qh_synth *s, size_t symbol_index)
{
    if (!s || symbol_index >= s->n) return "unknown";
    return REGIMES[s->sym[symbol_index].regime].name;
}
