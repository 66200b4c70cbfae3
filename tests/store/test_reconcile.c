/* Reconciliation: the exchange's snapshot against the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store_fixture.h"

static const qh_recon_diff *find(const qh_recon_diff *d, size_t n, qh_recon_kind kind, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (d[i].kind == kind && (strcmp(d[i].client_id, key) == 0 || strcmp(d[i].symbol, key) == 0)) return &d[i];
    return NULL;
}

static void test_differences(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "r.db");
    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);

    /* The store's view: three open orders, one filled, two positions. */
    qtr_order_update same = sf_order("same", "BTCUSDT", QTR_SIDE_BUY, QTR_OS_NEW, QTR_DEC_INT(1), QTR_DEC_INT(10), 0, 1);
    qtr_order_update gone = sf_order("gone", "BTCUSDT", QTR_SIDE_SELL, QTR_OS_NEW, QTR_DEC_INT(1), QTR_DEC_INT(12), 0, 2);
    qtr_order_update moved = sf_order("moved", "ETHUSDT", QTR_SIDE_BUY, QTR_OS_NEW, QTR_DEC_INT(4), QTR_DEC_INT(3), 0, 3);
    qtr_order_update done = sf_order("done", "ETHUSDT", QTR_SIDE_BUY, QTR_OS_FILLED, QTR_DEC_INT(1), QTR_DEC_INT(3),
                                     QTR_DEC_INT(1), 4);
    assert_int_equal(qh_store_record_order(st, &same, NULL), QTR_OK);
    assert_int_equal(qh_store_record_order(st, &gone, NULL), QTR_OK);
    assert_int_equal(qh_store_record_order(st, &moved, NULL), QTR_OK);
    assert_int_equal(qh_store_record_order(st, &done, NULL), QTR_OK);
    qtr_event pos = sf_event(QTR_EV_POSITION);
    qtr_strlcpy(pos.u.position.symbol, "BTCUSDT", sizeof pos.u.position.symbol);
    pos.u.position.qty = QTR_DEC_INT(2);
    assert_int_equal(qh_store_enqueue(st, &pos, NULL, err, sizeof err), QTR_OK);
    qtr_strlcpy(pos.u.position.symbol, "SOLUSDT", sizeof pos.u.position.symbol);
    pos.u.position.qty = QTR_DEC_INT(-5);
    assert_int_equal(qh_store_enqueue(st, &pos, NULL, err, sizeof err), QTR_OK);
    qtr_strlcpy(pos.u.position.symbol, "XRPUSDT", sizeof pos.u.position.symbol);
    pos.u.position.qty = 0;   /* flat: absent on the exchange is no difference */
    assert_int_equal(qh_store_enqueue(st, &pos, NULL, err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);

    /* The exchange's view. */
    qtr_order_update ex[4];
    ex[0] = same;
    ex[1] = moved;
    ex[1].status = QTR_OS_PARTIALLY_FILLED;
    ex[1].filled_qty = QTR_DEC_INT(1);
    ex[2] = sf_order("manual-1", "BTCUSDT", QTR_SIDE_SELL, QTR_OS_NEW, QTR_DEC_INT(3), QTR_DEC_INT(99), 0, 5);
    ex[3] = done;          /* the store has it final, the exchange open */
    ex[3].status = QTR_OS_NEW;
    ex[3].filled_qty = 0;
    qtr_position expos[2];
    memset(expos, 0, sizeof expos);
    qtr_strlcpy(expos[0].symbol, "BTCUSDT", sizeof expos[0].symbol);
    expos[0].qty = QTR_DEC_INT(2);                         /* same as stored */
    qtr_strlcpy(expos[1].symbol, "ADAUSDT", sizeof expos[1].symbol);
    expos[1].qty = QTR_DEC_INT(7);                         /* unknown to the store */

    qh_recon_diff *d = NULL;
    size_t n = 0;
    assert_int_equal(qh_store_reconcile(st, ex, 4, expos, 2, &d, &n, err, sizeof err), QTR_OK);
    assert_int_equal(n, 6);

    const qh_recon_diff *x = find(d, n, QH_RECON_UNKNOWN_ORDER, "manual-1");
    assert_non_null(x);
    assert_non_null(strstr(x->detail, "external"));
    x = find(d, n, QH_RECON_MISSING_ORDER, "gone");
    assert_non_null(x);
    x = find(d, n, QH_RECON_ORDER_MISMATCH, "moved");
    assert_non_null(x);
    assert_int_equal(x->store_qty, 0);
    assert_int_equal(x->exchange_qty, QTR_DEC_INT(1));
    assert_non_null(find(d, n, QH_RECON_ORDER_MISMATCH, "done"));
    x = find(d, n, QH_RECON_POSITION_MISMATCH, "ADAUSDT");
    assert_non_null(x);
    assert_int_equal(x->store_qty, 0);
    assert_int_equal(x->exchange_qty, QTR_DEC_INT(7));
    x = find(d, n, QH_RECON_POSITION_MISMATCH, "SOLUSDT");
    assert_non_null(x);
    assert_int_equal(x->store_qty, QTR_DEC_INT(-5));
    assert_int_equal(x->exchange_qty, 0);
    assert_non_null(strstr(x->detail, "-5"));
    assert_null(find(d, n, QH_RECON_POSITION_MISMATCH, "BTCUSDT"));
    assert_null(find(d, n, QH_RECON_POSITION_MISMATCH, "XRPUSDT"));
    assert_string_equal(qh_recon_kind_name(QH_RECON_MISSING_ORDER), "missing_order");
    free(d);

    /* The unknown order is now in the store, marked external. */
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);
    qtr_order_update got;
    assert_int_equal(qh_store_get_order(st, "manual-1", &got), QTR_OK);
    assert_true(got.external);
    assert_int_equal(got.qty, QTR_DEC_INT(3));

    /* Agreeing views: no difference at all. */
    qtr_order_update agree[3] = { same, gone, ex[2] };
    qtr_position agree_pos[2];
    memset(agree_pos, 0, sizeof agree_pos);
    qtr_strlcpy(agree_pos[0].symbol, "BTCUSDT", sizeof agree_pos[0].symbol);
    agree_pos[0].qty = QTR_DEC_INT(2);
    qtr_strlcpy(agree_pos[1].symbol, "SOLUSDT", sizeof agree_pos[1].symbol);
    agree_pos[1].qty = QTR_DEC_INT(-5);
    moved.status = QTR_OS_CANCELED;
    assert_int_equal(qh_store_record_order(st, &moved, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);
    assert_int_equal(qh_store_reconcile(st, agree, 3, agree_pos, 2, &d, &n, err, sizeof err), QTR_OK);
    if (n) fprintf(stderr, "unexpected: %s\n", d[0].detail);
    assert_int_equal(n, 0);
    assert_null(d);

    /* An exchange order without a client id is listed, not stored. */
    qtr_order_update anon = sf_order("", "BTCUSDT", QTR_SIDE_BUY, QTR_OS_NEW, 1, 1, 0, 9);
    qtr_order_update with_anon[4] = { same, gone, ex[2], anon };
    assert_int_equal(qh_store_reconcile(st, with_anon, 4, agree_pos, 2, &d, &n, err, sizeof err), QTR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].kind, QH_RECON_UNKNOWN_ORDER);
    assert_non_null(strstr(d[0].detail, "not recorded"));
    free(d);

    /* The longest symbol and client id with a refused record: the detail
     * names both whole and the start of the reason, within its size. */
    char longest_symbol[QTR_SYMBOL_MAX], longest_id[QTR_CLIENT_ID_MAX];
    memset(longest_symbol, 'S', sizeof longest_symbol - 1);
    longest_symbol[sizeof longest_symbol - 1] = '\0';
    memset(longest_id, 'c', sizeof longest_id - 1);
    longest_id[sizeof longest_id - 1] = '\0';
    qtr_order_update odd = sf_order(longest_id, longest_symbol, QTR_SIDE_BUY, QTR_OS_NEW, 1, 1, 0, 9);
    odd.status = (qtr_order_status)99;
    assert_int_equal(qh_store_reconcile(st, &odd, 1, agree_pos, 2, &d, &n, err, sizeof err), QTR_OK);
    const qh_recon_diff *unknown = NULL;
    for (size_t i = 0; i < n; i++)
        if (d[i].kind == QH_RECON_UNKNOWN_ORDER) unknown = &d[i];
    assert_non_null(unknown);
    char want[QTR_TEXT_MAX];
    snprintf(want, sizeof want, "%s %s: unknown to the store, not recorded: order_update %s: status 99 unknown",
             longest_symbol, longest_id, longest_id);
    assert_string_equal(unknown->detail, want);
    free(d);

    assert_int_equal(qh_store_close(st), QTR_OK);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differences),
    };
    return cmocka_run_group_tests_name("store_reconcile", tests, NULL, NULL);
}
