/* mock_state — what the mock Binance USD-M exchange holds: instruments,
 * prices, orders (by client id), how often each client id was placed,
 * positions, market data and rate-limit windows. */
#ifndef MOCK_STATE_H
#define MOCK_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

#define MS_MAX_SYMBOLS 8
#define MS_MAX_ORDERS 65536
#define MS_HASH 16384
#define MS_MAX_KLINES 4096   /* a 10-minute soak feeds 2,400 */
#define MS_MAX_LEVELS 20
#define MS_LOG_MAX 8192

typedef struct ms_symbol {
    char name[24];
    qtr_dec tick, min_price, max_price;
    qtr_dec step, min_qty, max_qty;
    qtr_dec mkt_step, mkt_min, mkt_max;
    qtr_dec min_notional;
    int price_precision, qty_precision;
    qtr_dec price;                       /* what market orders fill at     */
    qtr_dec position, entry;             /* one-way position               */
    int leverage;
    struct { int64_t open, close; qtr_dec o, h, l, c, v; } klines[MS_MAX_KLINES];
    int n_klines;
    bool has_premium;
    qtr_dec mark, index, funding;
    int64_t next_funding;
    int n_bids, n_asks;
    qtr_dec bids[MS_MAX_LEVELS][2], asks[MS_MAX_LEVELS][2];
} ms_symbol;

/* A fill plan from the "partial" fault: the order fills in steps, one at
 * placement and one per later query, then ends with end_status. */
typedef struct ms_plan {
    int steps_left;
    int ratio_pct;                       /* filled share at the end, %     */
    qtr_dec step_qty, target;
    int step_no;
    char end_status[20];
} ms_plan;

typedef struct ms_order {
    int64_t order_id;
    char cid[40];
    char symbol[24];
    char side[8], type[24], tif[8];
    char status[24];
    qtr_dec orig_qty, price, stop, executed, cum_quote;
    bool reduce_only, algo, external;
    char algo_status[16];
    int64_t algo_id, actual_order_id;
    /* conditional orders (mock_algo.c) */
    bool mark_price;                     /* workingType MARK_PRICE, else CONTRACT_PRICE */
    uint32_t callback_bps;               /* trailing: callbackRate x 100    */
    qtr_dec activation;                  /* trailing: activatePrice, 0 none */
    bool activated;                      /* trailing: following the best   */
    qtr_dec best;                        /* trailing: best price since activation */
    char ws_algo[16];                    /* algo status last told on the user stream */
    int64_t time, update_time;
    ms_plan plan;
    int hidden_queries;                  /* GET order answers -2013 this often */
    char ws_status[24];                  /* status last told on the user stream */
    qtr_dec ws_z;                        /* executed qty last told there        */
    int hnext;                           /* index chain by cid, -1 ends    */
} ms_order;

/* One execution, as GET /fapi/v1/userTrades reports it. */
typedef struct ms_trade {
    int64_t id, order_id, time;
    char symbol[24], side[8];
    qtr_dec price, qty, quote, commission, realized_pnl;
    bool maker;
} ms_trade;

typedef struct ms_placement {
    char cid[40];
    int attempts;   /* POSTs that reached order handling with this id        */
    int accepted;   /* ... that created an order (more than 1 = doubled)      */
    int hnext;
} ms_placement;

typedef struct ms_limit {
    int64_t limit, interval_ms;
    int64_t window_start, used;
} ms_limit;

typedef struct ms_state {
    char api_key[128], secret[128];
    int64_t time_offset_ms;
    ms_symbol symbols[MS_MAX_SYMBOLS];
    int n_symbols;
    ms_order *orders;
    int n_orders;
    int order_head[MS_HASH];
    ms_placement *placements;
    int n_placements;
    int placement_head[MS_HASH];
    int64_t next_order_id;
    ms_limit weight, orders_a, orders_b;
    qtr_dec balance;
    ms_trade *trades;
    int n_trades, cap_trades;
    int64_t next_trade_id;
    qtr_dec taker_rate, maker_rate;      /* commission = quote x rate       */
    char commission_asset[16];           /* "USDT"; "BNB" as with the discount */
    bool commission_negative;            /* report commission as < 0 (docs example) */
    ms_plan pending_plan;                /* armed by a "partial" fault     */
    bool plan_armed;
    /* counters for assertions */
    int64_t limit_violations, signature_failures, timestamp_failures, key_failures;
    int64_t faults_fired;
    struct { char name[64]; int64_t n; } requests[64];
    int n_request_kinds;
    /* Every API request as received, for timing assertions (GET /mock/requests):
     * the newest MS_LOG_MAX are kept. */
    struct ms_logged { int64_t t_us; char method[8]; char path[40]; char cid[40]; int status; } *log;
    int64_t n_log;
    int64_t log_t0_us;                   /* monotonic origin of t_us       */
} ms_state;

ms_state *ms_new(const char *api_key, const char *secret);
void ms_free(ms_state *s);
void ms_reset(ms_state *s);
int64_t ms_now(const ms_state *s);          /* wall clock + offset */
ms_symbol *ms_symbol_find(ms_state *s, const char *name);
ms_order *ms_order_by_cid(ms_state *s, const char *cid);
ms_order *ms_order_by_id(ms_state *s, int64_t id);
ms_order *ms_algo_by_cid(ms_state *s, const char *cid);
ms_placement *ms_placement_get(ms_state *s, const char *cid);
ms_order *ms_order_add(ms_state *s, const char *cid);
bool ms_order_open(const ms_order *o);
/* Execute qty at price on o (and its symbol's position), recording a trade
 * with its commission (maker or taker rate) and realized PnL. */
void ms_fill(ms_state *s, ms_order *o, qtr_dec qty, qtr_dec price, bool maker);
/* Match a new order against the symbol price (or its fill plan). */
void ms_match_new(ms_state *s, ms_order *o);
/* One more step of a fill plan, on a query. */
void ms_plan_advance(ms_state *s, ms_order *o);
/* The price moved: resting limit orders that cross fill at their price,
 * then conditional orders watching the last price are checked. */
void ms_price_moved(ms_state *s, ms_symbol *sym);

/* mock_algo.c: conditional orders. The price a conditional order watches. */
qtr_dec ms_algo_watch_price(const ms_symbol *y, const ms_order *a);
/* True if a new conditional order would trigger at once (Binance: -2021). */
bool ms_algo_would_trigger(const ms_symbol *y, const ms_order *a);
/* The mark or last price moved: trailing stops follow it, and every open
 * conditional order of y whose condition holds triggers. */
void ms_algo_price_moved(ms_state *s, ms_symbol *y, bool mark);
/* Trigger a: a MARKET order (reduce-only if a is) is placed and matched;
 * a ends FINISHED with its actualOrderId. Returns the placed order. */
ms_order *ms_algo_trigger(ms_state *s, ms_order *a);
/* How much a reduce-only order of this side may still reduce of y's
 * position (0: it would not reduce: Binance -2022). */
qtr_dec ms_reducible(const ms_symbol *y, const char *side);
void ms_count_request(ms_state *s, const char *method, const char *path);
int64_t ms_mono_us(void);
/* Log a request as received; its index, for ms_log_status once answered. */
int64_t ms_log_request(ms_state *s, const char *method, const char *path, const char *cid);
void ms_log_status(ms_state *s, int64_t n, int status);
/* Fixed windows, as Binance counts: true if cost fits, counts it always. */
bool ms_limit_charge(ms_limit *l, int64_t cost, int64_t now);
/* "1M", "10S" for header names. */
void ms_interval_name(int64_t ms, char *out, size_t len);

#endif
