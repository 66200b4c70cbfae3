/* strategy_ma_cross, loaded from its .so into the mock host: crosses give
 * signals of the right side, size and confidence; no cross gives none; flips
 * close the whole position reduce-only, then enter; bad options are refused; the symbols filter
 * holds; real XRPUSDT candles give the crosses an exact recount finds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "mock_host.h"

#define MIN_MS INT64_C(60000)
#define T0 INT64_C(1704067200000)

typedef struct fixture {
    mock_host *m;
    mock_plugin p;
    int64_t next_open[4];   /* per symbol slot in the tests */
} fixture;

/* Load the plugin with `opts` as name=value pairs (NULL-terminated). */
static int load(fixture *f, bool real_time, const char *const *opts)
{
    memset(f, 0, sizeof *f);
    f->m = mock_host_new(real_time);
    for (size_t i = 0; opts && opts[i]; i += 2) mock_host_set_option(f->m, opts[i], opts[i + 1]);
    return mock_plugin_load(f->m, mock_plugin_path("strategy_ma_cross"), &f->p);
}

static void unload(fixture *f)
{
    if (f->p.dl) mock_plugin_unload(f->m, &f->p);
    mock_host_free(f->m);
}

/* junk: the bytes after the symbol's NUL (0: zeros). */
static void feed_with(fixture *f, const char *symbol, char junk, int64_t open_ms, qtr_dec close)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    memset(c.symbol, junk, sizeof c.symbol);
    qtr_strlcpy(c.symbol, symbol, sizeof c.symbol);
    c.open_time_ms = open_ms;
    c.close_time_ms = open_ms + MIN_MS - 1;
    c.open = c.high = c.low = c.close = close;
    c.volume = QTR_DEC_INT(1);
    f->p.desc->strategy->on_candle(f->p.state, &c);
}

static void feed(fixture *f, const char *symbol, int64_t open_ms, qtr_dec close)
{
    feed_with(f, symbol, 0, open_ms, close);
}

/* Feed closes (as text) one minute apart, continuing the symbol's clock. */
static void feed_all(fixture *f, const char *symbol, const char *const *closes, size_t n)
{
    int slot = symbol[0] == 'B' ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (!f->next_open[slot]) f->next_open[slot] = T0;
        feed(f, symbol, f->next_open[slot], D(closes[i]));
        f->next_open[slot] += MIN_MS;
    }
}

static const char *const FAST2_SLOW4[] = { "fast", "2", "slow", "4", NULL };

/* 12 11 10 9: fast (10+9)/2 = 9.5 < slow 42/4 = 10.5 (first reading, below).
 * then 14: fast (9+14)/2 = 11.5 > slow (11+10+9+14)/4 = 11: a cross up. */
static const char *const CROSS_UP[] = { "12", "11", "10", "9", "14" };

static void test_cross_up_buys(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    feed_all(&f, "XRPUSDT", CROSS_UP, 4);
    assert_int_equal(f.m->n_signals, 0);   /* below, but no cross yet */
    feed_all(&f, "XRPUSDT", CROSS_UP + 4, 1);
    assert_int_equal(f.m->n_signals, 1);
    const qtr_signal *s = &f.m->signals[0];
    assert_string_equal(s->symbol, "XRPUSDT");
    assert_int_equal(s->side, QTR_SIDE_BUY);
    assert_int_equal(s->type, QTR_ORDER_MARKET);
    /* 100 / 14 = 7.142857142857... rounded down to 7.14285714 */
    assert_int_equal(s->qty, D("7.14285714"));
    assert_false(s->reduce_only);
    /* spread 0.5/11 = 4.5%: 0.5 + 0.045*50 > 1, capped at 1 */
    assert_true(s->confidence == 1.0);
    assert_string_equal(s->reason, "ma_cross fast 2 > slow 4 (11.5000 > 11.0000)");
    assert_int_equal(mock_host_metric(f.m, "ma_cross_signals_total", NULL), 1);
    unload(&f);
}

/* 100 100 100 99.9: fast 99.95 < slow 99.975. 100.1: fast 100 = slow 100
 * (touching is not a cross). 100.2: fast 100.15 > slow 100.05: cross up with
 * spread 0.1/100.05 -> confidence 0.5 + 50 * 0.1/100.05 = 0.54997... */
static const char *const SMALL_CROSS[] = { "100", "100", "100", "99.9", "100.1", "100.2" };

static void test_confidence_from_spread(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    feed_all(&f, "XRPUSDT", SMALL_CROSS, 5);
    assert_int_equal(f.m->n_signals, 0);
    feed_all(&f, "XRPUSDT", SMALL_CROSS + 5, 1);
    assert_int_equal(f.m->n_signals, 1);
    double want = 0.5 + 50.0 * (0.1 / 100.05);
    assert_true(fabs(f.m->signals[0].confidence - want) < 1e-9);
    assert_true(f.m->signals[0].confidence > 0.5 && f.m->signals[0].confidence < 1.0);
    unload(&f);
}

static void test_min_confidence_skips(void **st)
{
    (void)st;
    fixture f;
    const char *const opts[] = { "fast", "2", "slow", "4", "min_confidence", "0.6", NULL };
    assert_int_equal(load(&f, false, opts), 0);
    feed_all(&f, "XRPUSDT", SMALL_CROSS, 6);   /* scores 0.55 < 0.6 */
    assert_int_equal(f.m->n_signals, 0);
    unload(&f);
}

static void test_no_cross_no_signal(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    /* a steady rise: fast stays above slow from the first reading on */
    const char *const rise[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12" };
    feed_all(&f, "XRPUSDT", rise, 12);
    /* flat prices: fast equals slow, never a cross */
    const char *const flat[] = { "5", "5", "5", "5", "5", "5" };
    feed_all(&f, "BTCUSDT", flat, 6);
    assert_int_equal(f.m->n_signals, 0);
    unload(&f);
}

/* 9 10 11 12: fast 11.5 > slow 10.5. Then 6: fast 9 < slow 9.75, cross
 * down; target short 100/6 = 16.66666666 (rounded down). */
static const char *const CROSS_DOWN[] = { "9", "10", "11", "12", "6" };

static void set_position(mock_host *m, const char *symbol, const char *qty)
{
    memset(&m->positions[0], 0, sizeof m->positions[0]);
    qtr_strlcpy(m->positions[0].symbol, symbol, sizeof m->positions[0].symbol);
    m->positions[0].qty = D(qty);
    m->n_positions = 1;
}

/* Fill the signals as the host would after its risk step: a reduce-only
 * order in full but never past zero, an entry resized to `entry_pct`% of
 * its quantity (risk resizing). Returns the position afterwards. */
static qtr_dec fill_signals(mock_host *m, int entry_pct)
{
    qtr_dec pos = m->positions[0].qty;
    for (size_t i = 0; i < m->n_signals; i++) {
        const qtr_signal *s = &m->signals[i];
        qtr_dec q = s->reduce_only ? (s->qty < qtr_dec_abs(pos) ? s->qty : qtr_dec_abs(pos))
                                   : s->qty / 100 * entry_pct;
        pos += s->side == QTR_SIDE_BUY ? q : -q;
    }
    m->positions[0].qty = pos;
    return pos;
}

/* A flip is a reduce-only close of exactly the position, then a separate
 * entry: afterwards the position is the entry and nothing of the old side,
 * however risk resized the entry. (One order of 21.67 resized to 60% left
 * -8 where the entry was meant to be -10, and a close resized below 5 left
 * long dust.) */
static void test_flip_closes_exactly_then_enters(void **st)
{
    (void)st;
    static const int pcts[] = { 100, 60 };
    for (size_t k = 0; k < 2; k++) {
        fixture f;
        assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
        set_position(f.m, "XRPUSDT", "5.00000001");   /* long, an odd quantity */
        feed_all(&f, "XRPUSDT", CROSS_DOWN, 5);
        assert_int_equal(f.m->n_signals, 2);
        const qtr_signal *close = &f.m->signals[0], *entry = &f.m->signals[1];
        assert_int_equal(close->side, QTR_SIDE_SELL);
        assert_int_equal(close->qty, D("5.00000001"));   /* the whole position, exactly */
        assert_true(close->reduce_only);
        assert_int_equal(entry->side, QTR_SIDE_SELL);
        assert_int_equal(entry->qty, D("16.66666666"));  /* 100 / 6, from flat */
        assert_false(entry->reduce_only);
        assert_string_equal(entry->reason, "ma_cross fast 2 < slow 4 (9.0000 < 9.7500)");
        qtr_dec entry_filled = entry->qty / 100 * pcts[k];
        assert_int_equal(fill_signals(f.m, pcts[k]), -entry_filled);
        unload(&f);
    }
}

/* A close already in flight is not sent again: long 5 with a sell of 5
 * pending gives only the entry. */
static void test_flip_with_close_in_flight(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    set_position(f.m, "XRPUSDT", "5");
    qtr_exposure *x = &f.m->pending[0];
    memset(x, 0, sizeof *x);
    qtr_strlcpy(x->symbol, "XRPUSDT", sizeof x->symbol);
    x->pending_sell = D("5");
    x->pending_orders = 1;
    f.m->n_pending = 1;
    feed_all(&f, "XRPUSDT", CROSS_DOWN, 5);
    assert_int_equal(f.m->n_signals, 1);
    assert_int_equal(f.m->signals[0].side, QTR_SIDE_SELL);
    assert_int_equal(f.m->signals[0].qty, D("16.66666666"));
    assert_false(f.m->signals[0].reduce_only);
    unload(&f);
}

static void test_target_reached_or_reduced(void **st)
{
    (void)st;
    fixture f;
    /* already short the target: nothing to do */
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    set_position(f.m, "XRPUSDT", "-16.66666666");
    feed_all(&f, "XRPUSDT", CROSS_DOWN, 5);
    assert_int_equal(f.m->n_signals, 0);
    unload(&f);
    /* short more than the target: buy back 30 - 16.66666666 = 13.33333334,
     * which only shrinks the position: reduce-only */
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    set_position(f.m, "XRPUSDT", "-30");
    feed_all(&f, "XRPUSDT", CROSS_DOWN, 5);
    assert_int_equal(f.m->n_signals, 1);
    assert_int_equal(f.m->signals[0].side, QTR_SIDE_BUY);
    assert_int_equal(f.m->signals[0].qty, D("13.33333334"));
    assert_true(f.m->signals[0].reduce_only);
    unload(&f);
}

/* Fills delayed: no signal ever fills, each stays pending (as an order in
 * flight the host reports through get_exposure). After every cross the
 * position plus what is pending must be the target, on its side and never
 * beyond it. Sizing from the position alone (0 throughout) buys only 5 at
 * the cross up while 16.67 is still being sold: -11.67 against a target
 * of +5. 9 10 11 12 | 6: cross down (target -100/6), 20: cross up (+100/20),
 * 3, 2: cross down (-100/2). */
static void test_pending_orders_never_overshoot(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    static const char *const closes[] = { "9", "10", "11", "12", "6", "20", "3", "2" };
    static const char *const targets[] = { "-16.66666666", "5", "-50" };
    qtr_exposure *x = &f.m->pending[0];
    memset(x, 0, sizeof *x);
    qtr_strlcpy(x->symbol, "XRPUSDT", sizeof x->symbol);
    f.m->n_pending = 1;
    size_t seen = 0;
    for (size_t i = 0; i < sizeof closes / sizeof closes[0]; i++) {
        feed_all(&f, "XRPUSDT", closes + i, 1);
        for (; seen < f.m->n_signals; seen++) {   /* sent, never filled */
            const qtr_signal *s = &f.m->signals[seen];
            if (s->side == QTR_SIDE_BUY) x->pending_buy += s->qty;
            else x->pending_sell += s->qty;
            x->pending_orders++;
            qtr_dec projected = x->pending_buy - x->pending_sell, target = D(targets[seen < 3 ? seen : 2]);
            print_message("signal %zu: projected %lld, target %lld\n", seen, (long long)projected, (long long)target);
            assert_int_equal(projected, target);
        }
    }
    assert_int_equal(f.m->n_signals, 3);   /* one per cross */
    unload(&f);
}

static void test_repeated_candle_ignored(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    feed_all(&f, "XRPUSDT", CROSS_UP, 4);
    /* the last candle (close 9) again, then an old one with close 100: if
     * either counted, the window would change and 14 would not cross */
    feed(&f, "XRPUSDT", T0 + 3 * MIN_MS, D("9"));
    feed(&f, "XRPUSDT", T0, D("100"));
    assert_int_equal(f.m->n_signals, 0);
    feed_all(&f, "XRPUSDT", CROSS_UP + 4, 1);
    assert_int_equal(f.m->n_signals, 1);
    assert_int_equal(f.m->signals[0].qty, D("7.14285714"));
    unload(&f);
}

static void test_symbols_filter(void **st)
{
    (void)st;
    fixture f;
    const char *const opts[] = { "fast", "2", "slow", "4", "symbols", "XRPUSDT,ETHUSDT", NULL };
    assert_int_equal(load(&f, false, opts), 0);
    feed_all(&f, "BTCUSDT", CROSS_UP, 5);
    assert_int_equal(f.m->n_signals, 0);
    feed_all(&f, "XRPUSDT", CROSS_UP, 5);
    assert_int_equal(f.m->n_signals, 1);
    assert_string_equal(f.m->signals[0].symbol, "XRPUSDT");
    /* once a wanted symbol has its state, others are still told apart from
     * it (the list is checked on a symbol's first candle only) */
    feed_all(&f, "BTCUSDT", CROSS_UP, 5);
    assert_int_equal(f.m->n_signals, 1);
    feed_all(&f, "ETHUSDT", CROSS_UP, 5);
    assert_int_equal(f.m->n_signals, 2);
    assert_string_equal(f.m->signals[1].symbol, "ETHUSDT");
    unload(&f);
}

static void expect_refused(const char *const *opts, const char *needle)
{
    fixture f;
    assert_int_equal(load(&f, false, opts), -1);
    assert_int_equal(f.m->n_logs_error, 1);
    assert_non_null(strstr(f.m->last_log, needle));
    unload(&f);
}

static void test_bad_options_refused(void **st)
{
    (void)st;
    const char *const fast_ge_slow[] = { "fast", "30", "slow", "10", NULL };
    expect_refused(fast_ge_slow, "option slow: must be greater than fast");
    const char *const equal[] = { "fast", "10", "slow", "10", NULL };
    expect_refused(equal, "option slow");
    const char *const zero_fast[] = { "fast", "0", NULL };
    expect_refused(zero_fast, "option fast");
    const char *const huge_slow[] = { "slow", "100000", NULL };
    expect_refused(huge_slow, "option slow");
    const char *const no_money[] = { "order_notional", "0", NULL };
    expect_refused(no_money, "option order_notional");
    const char *const conf[] = { "min_confidence", "1.5", NULL };
    expect_refused(conf, "option min_confidence");
    /* the defaults load */
    fixture f;
    assert_int_equal(load(&f, false, NULL), 0);
    assert_int_equal(f.m->n_logs_error, 0);
    assert_string_equal(f.p.desc->name, "ma_cross");
    assert_int_equal(f.p.desc->kind, QTR_KIND_STRATEGY);
    assert_non_null(f.p.desc->strategy->on_fill);
    unload(&f);
}

/* ---- real candles ---- */

#define MAX_ROWS 4096
static qtr_dec g_close[MAX_ROWS];
static int64_t g_open[MAX_ROWS];
static size_t g_rows;

static void load_csv(void)
{
    if (g_rows) return;
    char path[1024];
    const char *src = getenv("QTR_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/../shared/data/XRPUSDT-perp-5m.csv", src ? src : ".");
    FILE *fp = fopen(path, "r");
    if (!fp) fail_msg("cannot open %s", path);
    char line[512];
    assert_non_null(fgets(line, sizeof line, fp));   /* header */
    while (fgets(line, sizeof line, fp) && g_rows < MAX_ROWS) {
        char *save = NULL, *tok = strtok_r(line, ",\r\n", &save);
        g_open[g_rows] = strtoll(tok, NULL, 10);
        for (int col = 1; col <= 4; col++) tok = strtok_r(NULL, ",\r\n", &save);
        g_close[g_rows] = D(tok);
        g_rows++;
    }
    fclose(fp);
    assert_int_equal(g_rows, 1999);
}

/* The crosses of fast 10 / slow 30, found by exact integer comparison
 * (fast_sum * 30 against slow_sum * 10), with "touching is not crossing".
 * sides[i] is +1 / -1 at the candle index of each cross. */
static size_t recount_crosses(size_t *index, int *sides, size_t cap)
{
    size_t n = 0;
    int last = 0;
    for (size_t i = 29; i < g_rows; i++) {
        __int128 fs = 0, ss = 0;
        for (size_t k = i - 29; k <= i; k++) ss += g_close[k];
        for (size_t k = i - 9; k <= i; k++) fs += g_close[k];
        __int128 lhs = fs * 30, rhs = ss * 10;
        int side = lhs > rhs ? 1 : lhs < rhs ? -1 : 0;
        if (side == 0) continue;
        if (last != 0 && side != last && n < cap) {
            index[n] = i;
            sides[n] = side;
            n++;
        }
        last = side;
    }
    return n;
}

static void run_real(fixture *f, bool real_time)
{
    assert_int_equal(load(f, real_time, NULL), 0);   /* defaults: 10 / 30, 100 */
    for (size_t i = 0; i < g_rows; i++) feed(f, "XRPUSDT", g_open[i], g_close[i]);
}

static void test_real_candles_match_recount(void **st)
{
    (void)st;
    load_csv();
    size_t index[512];
    int sides[512];
    size_t n = recount_crosses(index, sides, 512);
    assert_true(n > 10);   /* the data does cross, many times */

    fixture sim, live;
    run_real(&sim, false);
    run_real(&live, true);
    /* no position is ever filled in the mock, so every cross is a signal
     * from flat: side of the cross, size 100 / close rounded down */
    assert_int_equal(sim.m->n_signals, n);
    for (size_t k = 0; k < n; k++) {
        const qtr_signal *s = &sim.m->signals[k];
        assert_int_equal(s->side, sides[k] > 0 ? QTR_SIDE_BUY : QTR_SIDE_SELL);
        __int128 qty = ((__int128)100 * QTR_DEC_SCALE * QTR_DEC_SCALE) / g_close[index[k]];
        assert_int_equal(s->qty, (qtr_dec)qty);
        assert_true(s->confidence >= 0.5 && s->confidence <= 1.0);
    }
    /* the same decisions with a simulated clock and a live one */
    assert_int_equal(live.m->n_signals, sim.m->n_signals);
    for (size_t k = 0; k < n; k++) {
        qtr_signal a = sim.m->signals[k], b = live.m->signals[k];
        a.time_ms = b.time_ms = 0;   /* the host stamps its own clock */
        assert_memory_equal(&a, &b, sizeof a);
    }
    unload(&sim);
    unload(&live);
}

/* At most 512 symbols get a state (strategy_common's table): the next is
 * ignored, logged once, and the ones it has keep trading. */
static void test_symbol_capacity(void **st)
{
    (void)st;
    fixture f;
    assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
    char name[QTR_SYMBOL_MAX];
    for (int i = 0; i < 514; i++) {
        snprintf(name, sizeof name, "S%03dUSDT", i);
        feed(&f, name, T0, D("10"));
    }
    assert_int_equal(f.m->n_logs_warn, 1);
    assert_non_null(strstr(f.m->last_log, "more than 512 symbols: ignoring S512USDT"));
    for (int k = 0; k < 2; k++) {       /* the first and one past the capacity */
        snprintf(name, sizeof name, "S%03dUSDT", k == 0 ? 0 : 512);
        for (size_t i = 0; i < sizeof CROSS_UP / sizeof CROSS_UP[0]; i++)
            feed(&f, name, T0 + (int64_t)(i + 1) * MIN_MS, D(CROSS_UP[i]));
    }
    assert_int_equal(f.m->n_signals, 1);
    assert_string_equal(f.m->signals[0].symbol, "S000USDT");
    assert_int_equal(f.m->n_logs_warn, 1);
    unload(&f);
}

/* Three symbols' candles interleaved: in turn (the order the strategy tries
 * first after the last symbol, across the wrap from the last to the first),
 * then with the turn broken. Each symbol's averages see only its own closes:
 * names[0] crosses up, names[1] down, names[2] never, as each does alone.
 * junk: the bytes after each candle's symbol NUL (0: none). */
static void interleaved(const char *const names[3], char junk)
{
    static const char *const FLAT[] = { "10", "10", "10", "10", "10" };
    const char *const *series[3] = { CROSS_UP, CROSS_DOWN, FLAT };
    for (int broken = 0; broken < 2; broken++) {
        fixture f;
        assert_int_equal(load(&f, false, FAST2_SLOW4), 0);
        for (int row = 0; row < 5; row++) {
            for (int k = 0; k < 3; k++) {
                int i = broken ? (k + row) % 3 : k;     /* rotate the turn each row */
                if (broken && row == 4) i = 2 - k;      /* and reverse it on the last */
                feed_with(&f, names[i], junk, T0 + row * MIN_MS, D(series[i][row]));
            }
            assert_int_equal(f.m->n_signals, row < 4 ? 0 : 2);
        }
        qtr_side want_up = QTR_SIDE_BUY, want_down = QTR_SIDE_SELL;
        bool up = false, down = false;
        for (size_t n = 0; n < f.m->n_signals; n++) {
            const qtr_signal *sg = &f.m->signals[n];
            if (strcmp(sg->symbol, names[0]) == 0) { up = true; assert_int_equal(sg->side, want_up); }
            else if (strcmp(sg->symbol, names[1]) == 0) { down = true; assert_int_equal(sg->side, want_down); }
            else fail_msg("signal for %s, which never crossed", sg->symbol);
        }
        assert_true(up && down);
        unload(&f);
    }
}

/* The names share their first letter: a partial compare would mix them up. */
static void test_interleaved_symbols_keep_their_own_closes(void **st)
{
    (void)st;
    const char *const names[3] = { "XRPUSDT", "XLMUSDT", "XTZUSDT" };
    interleaved(names, 0);
}

/* The per-candle compare reads the candle's whole symbol field: names that
 * are prefixes of each other, with junk after the NUL that continues the
 * shorter name into the longer one ("XRP\0USDT..." is not "XRPUSDT"). */
static void test_prefix_names_and_junk_after_the_nul(void **st)
{
    (void)st;
    const char *const names[3] = { "XRP", "XRPUSDT", "XRPUSDTU" };
    interleaved(names, 'U');
    const char *const longest[3] = { "XRPUSDTU", "XRPUSDT", "XRP" };
    interleaved(longest, 'U');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_up_buys),
        cmocka_unit_test(test_confidence_from_spread),
        cmocka_unit_test(test_min_confidence_skips),
        cmocka_unit_test(test_no_cross_no_signal),
        cmocka_unit_test(test_flip_closes_exactly_then_enters),
        cmocka_unit_test(test_flip_with_close_in_flight),
        cmocka_unit_test(test_target_reached_or_reduced),
        cmocka_unit_test(test_repeated_candle_ignored),
        cmocka_unit_test(test_pending_orders_never_overshoot),
        cmocka_unit_test(test_symbols_filter),
        cmocka_unit_test(test_interleaved_symbols_keep_their_own_closes),
        cmocka_unit_test(test_prefix_names_and_junk_after_the_nul),
        cmocka_unit_test(test_bad_options_refused),
        cmocka_unit_test(test_real_candles_match_recount),
        cmocka_unit_test(test_symbol_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
