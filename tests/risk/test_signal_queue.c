/* The bounded signal queue: order of take, replacement, stale drops, the
 * per-cycle bound, counters, and a flood checked against brute force. */
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "risk/signal_queue.h"

#define T0 INT64_C(1700000000000)

static qtr_signal sig(const char *symbol, double confidence, int64_t time_ms)
{
    qtr_signal s;
    memset(&s, 0, sizeof s);
    qtr_strlcpy(s.symbol, symbol, sizeof s.symbol);
    s.time_ms = time_ms;
    qtr_strlcpy(s.strategy, "test", sizeof s.strategy);
    s.side = QTR_SIDE_BUY;
    s.type = QTR_ORDER_MARKET;
    s.qty = QTR_DEC_SCALE;
    s.confidence = confidence;
    return s;
}

static qh_sigq *queue(size_t capacity, size_t per_cycle)
{
    qh_sigq_config c = { .capacity = capacity, .per_cycle = per_cycle, .max_age_ms = 5000, .cycle_ms = 100 };
    qh_sigq *q = qh_sigq_new(&c);
    assert_non_null(q);
    return q;
}

static void takes_best_first_ties_oldest(void **state)
{
    (void)state;
    qh_sigq *q = queue(10, 10);
    const double conf[] = { 0.5, 0.9, 0.7, 0.9, 0.1, 0.7 };
    const char *names[] = { "A", "B", "C", "D", "E", "F" };
    for (int i = 0; i < 6; i++) {
        qtr_signal s = sig(names[i], conf[i], T0 + i);
        assert_int_equal(qh_sigq_push(q, &s, NULL, NULL), QTR_OK);
    }
    qtr_signal out[10];
    assert_int_equal(qh_sigq_take(q, T0 + 10, out, 10, NULL, NULL), 6);
    const char *expect[] = { "B", "D", "C", "F", "A", "E" };
    for (int i = 0; i < 6; i++) assert_string_equal(out[i].symbol, expect[i]);
    /* Equal time too: arrival order decides. */
    for (int i = 0; i < 3; i++) {
        qtr_signal s = sig(names[i], 0.4, T0 + 20);
        assert_int_equal(qh_sigq_push(q, &s, NULL, NULL), QTR_OK);
    }
    assert_int_equal(qh_sigq_take(q, T0 + 20, out, 10, NULL, NULL), 3);
    for (int i = 0; i < 3; i++) assert_string_equal(out[i].symbol, names[i]);
    qh_sigq_free(q);
}

static void full_queue_replaces_only_when_higher(void **state)
{
    (void)state;
    qh_sigq *q = queue(3, 10);
    qtr_signal a = sig("A", 0.5, T0), b = sig("B", 0.3, T0 + 1), c = sig("C", 0.3, T0 + 2);
    assert_int_equal(qh_sigq_push(q, &a, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &b, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &c, NULL, NULL), QTR_OK);
    qtr_signal evicted;
    bool did = true;
    qtr_signal same = sig("S", 0.3, T0 + 3);       /* equal to the lowest: dropped */
    assert_int_equal(qh_sigq_push(q, &same, &evicted, &did), QTR_EFULL);
    assert_false(did);
    qtr_signal low = sig("L", 0.1, T0 + 4);
    assert_int_equal(qh_sigq_push(q, &low, &evicted, &did), QTR_EFULL);
    assert_false(did);
    qtr_signal high = sig("H", 0.31, T0 + 5);      /* evicts the newest of the lowest: C */
    assert_int_equal(qh_sigq_push(q, &high, &evicted, &did), QTR_OK);
    assert_true(did);
    assert_string_equal(evicted.symbol, "C");
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    assert_int_equal(st.depth, 3);
    assert_int_equal(st.pushed, 4);
    assert_int_equal(st.dropped[QH_SIGQ_DROP_FULL], 2);
    assert_int_equal(st.dropped[QH_SIGQ_DROP_REPLACED], 1);
    qtr_signal out[3];
    assert_int_equal(qh_sigq_take(q, T0 + 5, out, 3, NULL, NULL), 3);
    assert_string_equal(out[0].symbol, "A");
    assert_string_equal(out[1].symbol, "H");
    assert_string_equal(out[2].symbol, "B");
    qh_sigq_free(q);
}

static int stale_seen;
static void count_stale(void *ud, const qtr_signal *s)
{
    (void)s;
    (*(int *)ud)++;
}

static void stale_dropped_before_taking(void **state)
{
    (void)state;
    qh_sigq *q = queue(10, 10);
    qtr_signal old = sig("OLD", 0.99, T0);                  /* best, but stale */
    qtr_signal edge = sig("EDGE", 0.5, T0 + 1000);          /* exactly max_age old: kept */
    qtr_signal fresh = sig("NEW", 0.2, T0 + 5500);
    assert_int_equal(qh_sigq_push(q, &old, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &edge, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &fresh, NULL, NULL), QTR_OK);
    stale_seen = 0;
    qtr_signal out[10];
    assert_int_equal(qh_sigq_take(q, T0 + 6000, out, 10, count_stale, &stale_seen), 2);
    assert_int_equal(stale_seen, 1);
    assert_string_equal(out[0].symbol, "EDGE");
    assert_string_equal(out[1].symbol, "NEW");
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    assert_int_equal(st.dropped[QH_SIGQ_DROP_STALE], 1);
    assert_int_equal(st.taken, 2);
    assert_int_equal(st.depth, 0);
    qh_sigq_free(q);
}

/* qh_sigq_depth: what is queued now, as the stats count it (the engine
 * skips a take when it is 0). */
static void depth_follows_push_take_and_stale(void **state)
{
    (void)state;
    qh_sigq *q = queue(10, 1);
    assert_int_equal(qh_sigq_depth(q), 0);
    assert_int_equal(qh_sigq_depth(NULL), 0);
    qtr_signal a = sig("A", 0.9, T0), b = sig("B", 0.5, T0 + 3000), c = sig("C", 0.1, T0 + 4000);
    assert_int_equal(qh_sigq_push(q, &a, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &b, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &c, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_depth(q), 3);
    qtr_signal out[4];
    assert_int_equal(qh_sigq_take(q, T0, out, 4, NULL, NULL), 1);   /* per_cycle 1 */
    assert_int_equal(qh_sigq_depth(q), 2);
    assert_int_equal(qh_sigq_take(q, T0 + 8500, out, 4, NULL, NULL), 1);   /* B stale, C taken */
    assert_string_equal(out[0].symbol, "C");
    assert_int_equal(qh_sigq_depth(q), 0);
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    assert_int_equal(st.depth, qh_sigq_depth(q));
    qh_sigq_free(q);
}

static void take_bounded_per_cycle_and_cap(void **state)
{
    (void)state;
    qh_sigq *q = queue(100, 10);
    for (int i = 0; i < 25; i++) {
        qtr_signal s = sig("X", (double)i / 100.0, T0);
        assert_int_equal(qh_sigq_push(q, &s, NULL, NULL), QTR_OK);
    }
    qtr_signal out[100];
    assert_int_equal(qh_sigq_take(q, T0, out, 100, NULL, NULL), 10);   /* per_cycle */
    assert_true(fabs(out[0].confidence - 0.24) < 1e-12);
    assert_int_equal(qh_sigq_take(q, T0, out, 4, NULL, NULL), 4);      /* cap */
    assert_true(fabs(out[0].confidence - 0.14) < 1e-12);
    assert_int_equal(qh_sigq_take(q, T0, out, 100, NULL, NULL), 10);
    assert_int_equal(qh_sigq_take(q, T0, out, 100, NULL, NULL), 1);
    assert_int_equal(qh_sigq_take(q, T0, out, 100, NULL, NULL), 0);
    qh_sigq_free(q);
}

static void invalid_signals_refused_and_counted(void **state)
{
    (void)state;
    qh_sigq *q = queue(10, 10);
    qtr_signal s[9];
    for (int i = 0; i < 9; i++) s[i] = sig("X", 0.5, T0);
    s[0].confidence = NAN;
    s[1].confidence = -0.01;
    s[2].confidence = 1.01;
    s[3].qty = 0;
    s[4].qty = -QTR_DEC_SCALE;
    s[5].side = (qtr_side)0;
    s[6].type = QTR_ORDER_STOP_MARKET;
    s[7].symbol[0] = '\0';
    s[8].type = QTR_ORDER_LIMIT;                            /* a limit without a price */
    const char *field[] = { "confidence", "confidence", "confidence", "qty", "qty", "side", "type",
                            "symbol", "price" };
    for (int i = 0; i < 9; i++) {
        assert_string_equal(qh_sigq_invalid_field(&s[i]), field[i]);
        assert_int_equal(qh_sigq_push(q, &s[i], NULL, NULL), QTR_EINVAL);
    }
    assert_int_equal(qh_sigq_push(q, NULL, NULL, NULL), QTR_EINVAL);
    qtr_signal edge0 = sig("X", 0.0, T0), edge1 = sig("X", 1.0, T0);
    assert_int_equal(qh_sigq_push(q, &edge0, NULL, NULL), QTR_OK);
    assert_int_equal(qh_sigq_push(q, &edge1, NULL, NULL), QTR_OK);
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    assert_int_equal(st.dropped[QH_SIGQ_DROP_INVALID], 10);
    assert_int_equal(st.pushed, 2);
    assert_int_equal(st.depth, 2);
    qh_sigq_free(q);
}

static void config_checked(void **state)
{
    (void)state;
    char err[128];
    qh_sigq_config c = qh_sigq_default_config();
    assert_int_equal(c.capacity, 100);
    assert_int_equal(c.per_cycle, 10);
    assert_int_equal(qh_sigq_config_check(&c, err, sizeof err), 0);
    c.capacity = 0;
    assert_int_equal(qh_sigq_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "capacity"));
    assert_null(qh_sigq_new(&c));
    c = qh_sigq_default_config();
    c.per_cycle = 0;
    assert_null(qh_sigq_new(&c));
    c = qh_sigq_default_config();
    c.max_age_ms = -1;
    assert_int_equal(qh_sigq_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_age_ms"));
    qh_sigq *q = qh_sigq_new(NULL);
    assert_non_null(q);
    assert_int_equal(qh_sigq_config_get(q)->capacity, 100);
    qh_sigq_free(q);
    assert_string_equal(qh_sigq_drop_name(QH_SIGQ_DROP_FULL), "full");
    assert_string_equal(qh_sigq_drop_name(QH_SIGQ_DROP_REPLACED), "replaced");
    assert_string_equal(qh_sigq_drop_name(QH_SIGQ_DROP_STALE), "stale");
    assert_string_equal(qh_sigq_drop_name(QH_SIGQ_DROP_INVALID), "invalid");
}

/* The flood: 5,000 signals in one simulated second, a take every 100 ms.
 * A model kept by the test (a plain array, every signal present) says what
 * the queue must hold and which signals each take must return. */
#define FLOOD_N 5000
#define FLOOD_CAP 100
#define FLOOD_PER 10

typedef struct model {
    qtr_signal sig[FLOOD_CAP];
    uint64_t seq[FLOOD_CAP];
    size_t n;
} model;

static bool model_before(const model *m, size_t a, size_t b)
{
    if (m->sig[a].confidence != m->sig[b].confidence) return m->sig[a].confidence > m->sig[b].confidence;
    if (m->sig[a].time_ms != m->sig[b].time_ms) return m->sig[a].time_ms < m->sig[b].time_ms;
    return m->seq[a] < m->seq[b];
}

static void model_remove(model *m, size_t i)
{
    for (size_t k = i + 1; k < m->n; k++) { m->sig[k - 1] = m->sig[k]; m->seq[k - 1] = m->seq[k]; }
    m->n--;
}

static void flood_matches_brute_force(void **state)
{
    (void)state;
    qh_sigq *q = queue(FLOOD_CAP, FLOOD_PER);
    static model m;
    memset(&m, 0, sizeof m);
    srand(12345);
    uint64_t seq = 0;
    size_t takes = 0, taken_total = 0;
    for (int i = 0; i < FLOOD_N; i++) {
        int64_t now = T0 + (int64_t)i * 1000 / FLOOD_N;     /* 5,000 over 1,000 ms */
        qtr_signal s = sig("X", (double)(rand() % 1000) / 1000.0, now);
        snprintf(s.reason, sizeof s.reason, "n%d", i);
        bool did = false;
        qtr_signal ev;
        int rc = qh_sigq_push(q, &s, &ev, &did);
        if (m.n < FLOOD_CAP) {
            assert_int_equal(rc, QTR_OK);
            m.sig[m.n] = s; m.seq[m.n] = seq++; m.n++;
        } else {
            size_t worst = 0;                                  /* the one taken last */
            for (size_t k = 1; k < m.n; k++) if (model_before(&m, worst, k)) worst = k;
            if (s.confidence > m.sig[worst].confidence) {
                assert_int_equal(rc, QTR_OK);
                assert_true(did);
                assert_string_equal(ev.reason, m.sig[worst].reason);
                model_remove(&m, worst);
                m.sig[m.n] = s; m.seq[m.n] = seq++; m.n++;
            } else {
                assert_int_equal(rc, QTR_EFULL);
                assert_false(did);
            }
        }
        qh_sigq_stats st;
        qh_sigq_stats_get(q, &st);
        assert_true(st.depth <= FLOOD_CAP);
        assert_int_equal(st.depth, m.n);
        if (i % (FLOOD_N / 10) == FLOOD_N / 10 - 1) {          /* every 100 ms */
            qtr_signal out[FLOOD_PER];
            size_t n = qh_sigq_take(q, now, out, FLOOD_PER, NULL, NULL);
            size_t want = m.n < FLOOD_PER ? m.n : FLOOD_PER;
            assert_int_equal(n, want);
            for (size_t k = 0; k < n; k++) {
                size_t best = 0;
                for (size_t j = 1; j < m.n; j++) if (model_before(&m, j, best)) best = j;
                assert_string_equal(out[k].reason, m.sig[best].reason);
                model_remove(&m, best);
            }
            takes++;
            taken_total += n;
        }
    }
    assert_int_equal(takes, 10);
    qh_sigq_stats st;
    qh_sigq_stats_get(q, &st);
    assert_int_equal(st.taken, taken_total);
    assert_int_equal(st.pushed, st.taken + st.depth + st.dropped[QH_SIGQ_DROP_REPLACED] +
                                    st.dropped[QH_SIGQ_DROP_STALE]);
    assert_int_equal(st.pushed + st.dropped[QH_SIGQ_DROP_FULL], FLOOD_N);
    qh_sigq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(takes_best_first_ties_oldest),
        cmocka_unit_test(full_queue_replaces_only_when_higher),
        cmocka_unit_test(stale_dropped_before_taking),
        cmocka_unit_test(depth_follows_push_take_and_stale),
        cmocka_unit_test(take_bounded_per_cycle_and_cap),
        cmocka_unit_test(invalid_signals_refused_and_counted),
        cmocka_unit_test(config_checked),
        cmocka_unit_test(flood_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
