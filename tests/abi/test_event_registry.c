/*
 * The event registry (qtr/event_types.h) is the only place a type is
 * declared: walk it and check that every type has what every consumer needs
 * (a name, a JSON encoder, a publisher rule, a store decision the store
 * agrees with), and that the arrays generated from it match the enum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <qtr/plugin.h>

#include "core/publish_rule.h"
#include "event_blob.h"
#include "store/store_impl.h"

/* The rows, as data, straight from the table. */
typedef struct row {
    int value;
    qtr_event_type type;
    const char *id, *name;
    size_t payload_size;
    int publisher, symbol, store;
} row;

#define ROW(value, ID, name, payload, member, publisher, via, symbol, store, json) \
    { value, QTR_EV_##ID, #ID, name, sizeof(payload), QTR_PUB_##publisher, symbol, QTR_STORE_##store },
static const row rows[] = { QTR_EVENT_TYPES(ROW) };
#undef ROW
#define N_ROWS (sizeof rows / sizeof rows[0])

/* Values are explicit, distinct and contiguous from 1: QTR_EV__COUNT is one
 * past the last and every generated array has a slot for each. */
static void values_are_contiguous_and_match_the_enum(void **state)
{
    (void)state;
    assert_int_equal(QTR_EV__COUNT, N_ROWS + 1);
    bool seen[QTR_EV__COUNT] = { false };
    for (size_t i = 0; i < N_ROWS; i++) {
        assert_int_equal(rows[i].value, (int)rows[i].type);
        assert_true(rows[i].value >= 1 && rows[i].value < QTR_EV__COUNT);
        if (seen[rows[i].value]) fail_msg("value %d given twice (%s)", rows[i].value, rows[i].id);
        seen[rows[i].value] = true;
    }
}

/* Every type has its own name, and the name leads back to the type. */
static void every_type_has_a_unique_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        const char *n = qtr_event_type_name(rows[i].type);
        assert_string_equal(n, rows[i].name);
        assert_int_equal(qtr_event_type_by_name(n), rows[i].type);
        for (size_t j = 0; j < i; j++)
            if (strcmp(rows[j].name, n) == 0) fail_msg("name %s given to two types", n);
    }
    assert_string_equal(qtr_event_type_name(QTR_EV_NONE), "none");
    assert_string_equal(qtr_event_type_name((qtr_event_type)QTR_EV__COUNT), "unknown");
    assert_string_equal(qtr_event_type_name((qtr_event_type)-1), "unknown");
    assert_int_equal(qtr_event_type_by_name("no_such_type"), QTR_EV_NONE);
    assert_int_equal(qtr_event_type_by_name("candl"), QTR_EV_NONE);
    assert_int_equal(qtr_event_type_by_name(NULL), QTR_EV_NONE);
}

/* The generated accessors answer what the row says. */
static void accessors_match_the_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        qtr_event_type t = rows[i].type;
        assert_int_equal(qtr_event_publisher(t), rows[i].publisher);
        assert_int_equal(qtr_event_store_rule(t), rows[i].store);
        assert_int_equal(qtr_event_has_symbol(t), rows[i].symbol != 0);
        assert_true(rows[i].payload_size <= sizeof(((qtr_event *)0)->u));
        /* a type the host alone publishes, with a service: the service is named */
        const char *via = qtr_event_publish_via(t);
        if (via) assert_int_equal(rows[i].publisher, QTR_PUB_HOST);
        /* a symbol type's symbol is where qtr_event_symbol looks */
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = t;
        memcpy((char *)&ev.u, "XRPUSDT", 8);
        const char *sym = qtr_event_symbol(&ev);
        if (rows[i].symbol) assert_string_equal(sym, "XRPUSDT");
        else assert_null(sym);
    }
    assert_int_equal(qtr_event_publisher(QTR_EV_NONE), 0);
    assert_int_equal(qtr_event_store_rule((qtr_event_type)QTR_EV__COUNT), 0);
}

/* Every type has a JSON encoder in the dashboard, and it writes an object. */
static void every_type_has_a_json_encoder(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        if (!event_has_encoder(rows[i].type)) fail_msg("%s has no JSON encoder", rows[i].name);
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = rows[i].type;
        event_blob *b = event_blob_new(&ev, 1, 0);
        assert_non_null(b);
        char want[64];
        snprintf(want, sizeof want, "\"type\":\"%s\"", rows[i].name);
        assert_non_null(strstr(b->json, want));
        assert_non_null(strstr(b->json, "\"payload\":{"));
        event_blob_unref(b);
    }
    assert_false(event_has_encoder(QTR_EV_NONE));
    assert_false(event_has_encoder((qtr_event_type)QTR_EV__COUNT));
}

/* Every type has a publish rule: the host's function decides for each kind,
 * and what it allows is exactly the row's publisher. */
static void every_type_has_a_publisher_rule(void **state)
{
    (void)state;
    const qtr_kind kinds[] = { QTR_KIND_STRATEGY, QTR_KIND_RISK, QTR_KIND_EXCHANGE, QTR_KIND_DASHBOARD };
    for (size_t i = 0; i < N_ROWS; i++) {
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = rows[i].type;
        for (size_t k = 0; k < 4; k++)
            for (int active = 0; active < 2; active++) {
                bool trades = kinds[k] == QTR_KIND_EXCHANGE && active;
                bool allowed = rows[i].publisher == QTR_PUB_ANY || (rows[i].publisher == QTR_PUB_EXCHANGE && trades);
                const char *why = qh_publish_refusal(kinds[k], active, &ev);
                if (allowed != (why == NULL))
                    fail_msg("%s by %s (active %d): %s", rows[i].name, qtr_kind_name(kinds[k]), active,
                             why ? why : "allowed");
                if (why) assert_null(strstr(why, "unknown"));
            }
    }
    qtr_event bogus;
    memset(&bogus, 0, sizeof bogus);
    bogus.type = (qtr_event_type)QTR_EV__COUNT;
    assert_string_equal(qh_publish_refusal(QTR_KIND_EXCHANGE, true, &bogus), "unknown event type");
}

/* Every type has a store decision, and the store agrees: a type the table
 * stores is one the store knows how to record, and the others it refuses. */
static void every_type_has_a_store_decision_the_store_agrees_with(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = rows[i].type;
        char err[256] = "";
        qh_store_validate(&ev, err, sizeof err);
        bool store_refuses_the_type = strstr(err, "are not stored") != NULL;
        if ((rows[i].store == QTR_STORE_NO) != store_refuses_the_type)
            fail_msg("%s: the table says store %d, the store says '%s'", rows[i].name, rows[i].store, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_are_contiguous_and_match_the_enum),
        cmocka_unit_test(every_type_has_a_unique_name),
        cmocka_unit_test(accessors_match_the_rows),
        cmocka_unit_test(every_type_has_a_json_encoder),
        cmocka_unit_test(every_type_has_a_publisher_rule),
        cmocka_unit_test(every_type_has_a_store_decision_the_store_agrees_with),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
