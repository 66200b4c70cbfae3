/* The plugin's own added latency per order, measured on the functions that
 * run for every order: rules + query encoding, signing, reading the answer
 * and what every filled order costs for its commission: the signed
 * GET /fapi/v1/userTrades query and reading its one-row reply. A reply is
 * read as bn_rest.c reads raw replies: bn_json_check, bn_api_error_read,
 * then the reader (order state + fill increment, or the trades). Prints
 * p50/p99/max per stage and in total, then what the old jansson path spent
 * before it could read a field: building the tree of the same answer
 * (json_loadb; the plugin now reads everything with bn_jread). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kx_buf.h"
#include "bn_fills.h"
#include "bn_json.h"
#include "bn_order_json.h"
#include "bn_rules.h"
#include "kx_sign.h"

#define N 200000

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, int64_t *ns)
{
    qsort(ns, N, sizeof *ns, cmp);
    printf("%-34s p50 %6.2f us  p99 %6.2f us  max %8.2f us\n", what, ns[N / 2] / 1000.0, ns[N * 99 / 100] / 1000.0,
           ns[N - 1] / 1000.0);
}

static const char answer[] =
    "{\"orderId\":4100231177,\"symbol\":\"BTCUSDT\",\"status\":\"FILLED\",\"clientOrderId\":\"bot-7f3a-0001\","
    "\"price\":\"0\",\"avgPrice\":\"64012.30\",\"origQty\":\"0.010\",\"executedQty\":\"0.010\",\"cumQty\":\"0.010\","
    "\"cumQuote\":\"640.12300\",\"timeInForce\":\"GTC\",\"type\":\"MARKET\",\"reduceOnly\":false,\"closePosition\":false,"
    "\"side\":\"BUY\",\"positionSide\":\"BOTH\",\"stopPrice\":\"0\",\"workingType\":\"CONTRACT_PRICE\",\"priceProtect\":false,"
    "\"origType\":\"MARKET\",\"priceMatch\":\"NONE\",\"selfTradePreventionMode\":\"EXPIRE_MAKER\",\"goodTillDate\":0,"
    "\"updateTime\":1767225600123}";

/* GET /fapi/v1/userTrades?symbol=BTCUSDT&orderId=4100231177: the order's one fill. */
static const char trades[] =
    "[{\"buyer\":true,\"commission\":\"0.25604920\",\"commissionAsset\":\"USDT\",\"id\":698759,\"maker\":false,"
    "\"orderId\":4100231177,\"price\":\"64012.30\",\"qty\":\"0.010\",\"quoteQty\":\"640.12300\",\"realizedPnl\":"
    "\"0\",\"side\":\"BUY\",\"positionSide\":\"BOTH\",\"symbol\":\"BTCUSDT\",\"time\":1767225600123}]";

static void on_trade(void *ud, const bn_trade *t)
{
    *(qtr_dec *)ud += t->commission;
}

static void fail(const char *what, const char *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err);
    exit(1);
}

int main(void)
{
    const char *secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    kx_signer *signer = kx_signer_new(secret, strlen(secret));
    int64_t *t_enc = malloc(N * sizeof(int64_t)), *t_sign = malloc(N * sizeof(int64_t));
    int64_t *t_parse = malloc(N * sizeof(int64_t)), *t_all = malloc(N * sizeof(int64_t));
    int64_t *t_tq = malloc(N * sizeof(int64_t)), *t_tr = malloc(N * sizeof(int64_t));
    int64_t *t_old = malloc(N * sizeof(int64_t));
    kx_symbol_rules r = { .symbol = "BTCUSDT", .trading = true, .tick = 10000000, .min_price = 26110000000,
                          .max_price = 80948400000000, .lot_min = 100000, .lot_max = 100000000000, .lot_step = 100000,
                          .mkt_min = 100000, .mkt_max = 12000000000, .mkt_step = 100000, .min_notional = 10000000000,
                          .price_precision = 2, .qty_precision = 3 };
    qtr_order_intent in;
    memset(&in, 0, sizeof in);
    strcpy(in.symbol, "BTCUSDT");
    strcpy(in.client_id, "bot-7f3a-0001");
    in.side = QTR_SIDE_BUY;
    in.type = QTR_ORDER_LIMIT;
    in.qty = 1090000;          /* 0.0109 */
    in.price = 4500017000000;  /* 45000.17 */
    kx_buf q, tq;
    kx_buf_init(&q);
    kx_buf_init(&tq);
    qtr_dec fees = 0;
    volatile size_t sink = 0;
    for (int i = 0; i < N; i++) {
        int64_t t0 = now_ns();
        kx_prepared prep;
        char reason[96];
        kx_rules_prepare(&r, &in, 0, &prep, reason, sizeof reason);
        kx_buf_reset(&q);
        kx_query_add(&q, "symbol", in.symbol);
        kx_query_add(&q, "side", "BUY");
        kx_query_add(&q, "type", "LIMIT");
        kx_query_add(&q, "timeInForce", "GTC");
        kx_query_add_dec(&q, "price", prep.price);
        kx_query_add_dec(&q, "quantity", prep.qty);
        kx_query_add(&q, "newClientOrderId", in.client_id);
        kx_query_add(&q, "newOrderRespType", "RESULT");
        kx_query_add_int(&q, "recvWindow", 5000);
        kx_query_add_int(&q, "timestamp", 1767225600000 + i);
        int64_t t1 = now_ns();
        char sig[KX_HMAC_HEX_LEN + 1];
        kx_signer_sign(signer, kx_buf_str(&q), q.len, NULL, 0, sig);
        kx_query_add(&q, "signature", sig);
        int64_t t2 = now_ns();
        bn_order_state st;
        int code;
        char msg[128];
        if (bn_json_check(answer, sizeof answer - 1, reason, sizeof reason) != 0) fail("order", reason);
        if (bn_api_error_read(answer, sizeof answer - 1, &code, msg, sizeof msg)) fail("order", msg);
        if (bn_order_state_read(answer, sizeof answer - 1, &st, reason, sizeof reason) != 0) fail("order", reason);
        bn_fill_tracker ft = { 0, 0 };
        qtr_dec dq = 0, px = 0;
        bn_fill_step(&ft, st.executed_qty, st.cum_quote, &dq, &px, reason, sizeof reason);
        int64_t t3 = now_ns();
        kx_buf_reset(&tq);
        kx_query_add(&tq, "symbol", st.symbol);
        kx_query_add(&tq, "orderId", st.order_id);
        kx_query_add_int(&tq, "recvWindow", 5000);
        kx_query_add_int(&tq, "timestamp", 1767225600000 + i);
        char tsig[KX_HMAC_HEX_LEN + 1];
        kx_signer_sign(signer, kx_buf_str(&tq), tq.len, NULL, 0, tsig);
        kx_query_add(&tq, "signature", tsig);
        int64_t t4 = now_ns();
        if (bn_json_check(trades, sizeof trades - 1, reason, sizeof reason) != 0) fail("userTrades", reason);
        if (bn_api_error_read(trades, sizeof trades - 1, &code, msg, sizeof msg)) fail("userTrades", msg);
        if (bn_trades_read(trades, sizeof trades - 1, on_trade, &fees, reason, sizeof reason) != 1)
            fail("userTrades", reason);
        int64_t t5 = now_ns();
        sink += q.len + tq.len + (size_t)dq;
        t_enc[i] = t1 - t0;
        t_sign[i] = t2 - t1;
        t_parse[i] = t3 - t2;
        t_tq[i] = t4 - t3;
        t_tr[i] = t5 - t4;
        t_all[i] = t5 - t0;
    }
    /* The old path's tree of the same answer (jansson), measured alone. */
    for (int i = 0; i < N; i++) {
        int64_t t0 = now_ns();
        json_t *j = json_loadb(answer, sizeof answer - 1, 0, NULL);
        if (!j) fail("order (jansson)", "not JSON");
        sink += json_object_size(j);
        json_decref(j);
        t_old[i] = now_ns() - t0;
    }
    printf("binance_usdm plugin: per-order work, %d iterations\n", N);
    report("rules + query encoding", t_enc);
    report("HMAC-SHA256 signing", t_sign);
    report("answer parse + fill increment", t_parse);
    report("userTrades query + signing", t_tq);
    report("userTrades reply read", t_tr);
    report("total added per order", t_all);
    printf("for comparison, not in the total:\n");
    report("answer tree alone, jansson (old path)", t_old);
    if (fees != (qtr_dec)N * 25604920) fail("userTrades", "commission sum"); /* N x 0.25604920 */
    kx_buf_free(&q);
    kx_buf_free(&tq);
    kx_signer_free(signer);
    free(t_enc);
    free(t_sign);
    free(t_parse);
    free(t_all);
    free(t_tq);
    free(t_tr);
    free(t_old);
    return sink == 0;
}
