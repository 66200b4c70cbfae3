/* The plugin's own added latency per order, measured on the functions that
 * run for every order: rules + query encoding, signing, and reading the
 * answer (JSON parse + order state + fill increment). Prints p50/p99/max. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bn_buf.h"
#include "bn_fills.h"
#include "bn_order_json.h"
#include "bn_rules.h"
#include "bn_sign.h"

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

int main(void)
{
    const char *secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    bn_signer *signer = bn_signer_new(secret, strlen(secret));
    int64_t *t_enc = malloc(N * sizeof(int64_t)), *t_sign = malloc(N * sizeof(int64_t));
    int64_t *t_parse = malloc(N * sizeof(int64_t)), *t_all = malloc(N * sizeof(int64_t));
    bn_symbol_rules r = { .symbol = "BTCUSDT", .trading = true, .tick = 10000000, .min_price = 26110000000,
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
    bn_buf q;
    bn_buf_init(&q);
    volatile size_t sink = 0;
    for (int i = 0; i < N; i++) {
        int64_t t0 = now_ns();
        bn_prepared prep;
        char reason[96];
        bn_rules_prepare(&r, &in, 0, &prep, reason, sizeof reason);
        bn_buf_reset(&q);
        bn_query_add(&q, "symbol", in.symbol);
        bn_query_add(&q, "side", "BUY");
        bn_query_add(&q, "type", "LIMIT");
        bn_query_add(&q, "timeInForce", "GTC");
        bn_query_add_dec(&q, "price", prep.price);
        bn_query_add_dec(&q, "quantity", prep.qty);
        bn_query_add(&q, "newClientOrderId", in.client_id);
        bn_query_add(&q, "newOrderRespType", "RESULT");
        bn_query_add_int(&q, "recvWindow", 5000);
        bn_query_add_int(&q, "timestamp", 1767225600000 + i);
        int64_t t1 = now_ns();
        char sig[BN_SIGNATURE_HEX_LEN + 1];
        bn_signer_sign(signer, bn_buf_str(&q), q.len, NULL, 0, sig);
        bn_query_add(&q, "signature", sig);
        int64_t t2 = now_ns();
        json_t *j = json_loads(answer, 0, NULL);
        bn_order_state st;
        bn_order_state_parse(j, &st, reason, sizeof reason);
        bn_fill_tracker ft = { 0, 0 };
        qtr_dec dq = 0, px = 0;
        bn_fill_step(&ft, st.executed_qty, st.cum_quote, &dq, &px, reason, sizeof reason);
        json_decref(j);
        int64_t t3 = now_ns();
        sink += q.len + (size_t)dq;
        t_enc[i] = t1 - t0;
        t_sign[i] = t2 - t1;
        t_parse[i] = t3 - t2;
        t_all[i] = t3 - t0;
    }
    printf("binance_usdm plugin: per-order work, %d iterations\n", N);
    report("rules + query encoding", t_enc);
    report("HMAC-SHA256 signing", t_sign);
    report("answer parse + fill increment", t_parse);
    report("total added per order", t_all);
    bn_buf_free(&q);
    bn_signer_free(signer);
    free(t_enc);
    free(t_sign);
    free(t_parse);
    free(t_all);
    return sink == 0;
}
