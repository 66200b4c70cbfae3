/*
 * bn_plugin — the state shared by the Binance USD-M exchange plugin's parts:
 * configuration, the REST request queue (bn_rest.c), orders (bn_orders.c),
 * market data polling (bn_market.c) and the snapshot (bn_snapshot.c).
 * Everything runs on the host's loop thread.
 */
#ifndef BN_PLUGIN_H
#define BN_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/plugin.h>

#include "kx_bucket.h"
#include "bn_fills.h"
#include "kx_http.h"
#include "bn_rules.h"
#include "kx_sign.h"

#define BN_MAX_BACKOFF 16
#define BN_MAX_SYMBOLS 32
#define BN_MAX_TRADE_SYMBOLS 64

typedef struct bn_config {
    char base_url[256];
    int64_t recv_window_ms;
    int64_t timeout_ms;
    int64_t backoff_ms[BN_MAX_BACKOFF];  /* retry delays; count = the retry budget */
    int n_backoff;
    int64_t poll_interval_ms;
    qtr_dec min_fill_ratio;
    bool rate_limit_enabled;
    int64_t weight_limit, orders_limit_10s, orders_limit_1m; /* 0: from exchangeInfo */
    int64_t burst;
    int64_t limit_margin_pct;           /* stay this far below each limit */
    int64_t backoff_429_ms, backoff_max_ms;
    int64_t max_429_retries;
    int64_t max_inflight;
    int64_t done_kept;                  /* finished orders kept for lookups */
    int64_t max_open;                   /* orders not yet finished, at most */
    const char *symbols[BN_MAX_SYMBOLS];
    size_t n_symbols;
    const char *kline_interval;
    int64_t kline_interval_ms;
    int64_t kline_poll_ms, kline_limit;
    int64_t mark_poll_ms;
    int64_t depth_poll_ms, depth_limit;
    int64_t leverage;
    int64_t time_sync_ms;
    bool debug;
    uint32_t jitter_seed;
    /* streams (bn_stream*.c); stream_url "" = REST polling only */
    char stream_url[256];
    char stream_ca_file[256];          /* "" = the system's CAs */
    bool user_stream, market_stream;
    int64_t listen_key_keepalive_ms, stream_poll_ms;
    int64_t stream_stall_ms, stream_max_message;
    int64_t stream_backoff_ms, stream_backoff_max_ms;
} bn_config;

/* What a REST call came to. */
typedef enum bn_res_kind {
    BN_RES_OK = 0,        /* 2xx with a JSON body that is not an error          */
    BN_RES_API_ERROR,     /* the exchange refused it: {code, msg}               */
    BN_RES_UNKNOWN,       /* no usable answer: timeout, dropped, 5xx, bad body  */
    BN_RES_REFUSED        /* never sent or surely not executed (429s, 418)      */
} bn_res_kind;

typedef struct bn_result {
    bn_res_kind kind;
    long http_status;
    const char *body;     /* BN_RES_OK: the body as received, one checked JSON  */
    size_t body_len;      /* document (valid during the callback): bn_jread     */
    int code;             /* exchange error code, 0 if none                    */
    int64_t sent_ts_ms;   /* the signed `timestamp` it last left with (exchange
                             clock), 0 if never sent: its recvWindow ends at
                             sent_ts_ms + recv_window                          */
    char msg[160];        /* the exchange's msg, or what went wrong            */
} bn_result;

struct bn_plugin;
typedef void (*bn_rest_cb)(struct bn_plugin *p, void *ud, const bn_result *r);

/* Lanes of the REST queue, served in this order of priority: the ESS's own
 * actions, then fills, order queries, cancels and account calls, then new
 * orders, then market data. A lane waiting for a bucket's tokens holds back
 * only the lower lanes that need that bucket: order-count tokens never hold
 * up weight-only requests. */
typedef enum bn_lane {
    BN_LANE_QUERY = 0,    /* the default: fills, queries, cancels, account  */
    BN_LANE_ESS,          /* cancel-all, the ESS's reduce-only flatten       */
    BN_LANE_ORDER,        /* new orders                                      */
    BN_LANE_MARKET,       /* market data: its errors go to health, not ESS   */
    BN_LANES
} bn_lane;

typedef struct bn_call {
    bn_lane lane;
    const char *method;
    const char *path;
    const char *params;   /* encoded key=value&...; NULL for none              */
    bool is_signed;
    int weight;           /* request weight (IP)                               */
    int orders;           /* order-count cost: 1 for a new order               */
    bool non_idempotent;  /* new orders: always a fresh connection (libcurl)   */
    int expected_code;    /* an API error that is normal here (not counted)    */
} bn_call;

typedef struct bn_req bn_req;

typedef enum bn_phase {
    BN_PH_SENDING = 1,    /* a POST is queued or in flight                    */
    BN_PH_UNKNOWN,        /* fate unknown: querying before any resend         */
    BN_PH_OPEN,           /* resting on the exchange: polled                  */
    BN_PH_DONE            /* final                                            */
} bn_phase;

/* One logical order (the host's client_id); children are follow-ups. */
typedef struct bn_order {
    struct bn_order *anext, *aprev;     /* the list of orders not yet done */
    struct bn_plugin *p;
    qtr_order_intent intent;            /* qty/price as rounded and sent   */
    bool algo;                          /* conditional: /fapi/v1/algoOrder */
    bool algo_triggered;                /* now following the actual order  */
    char child_cid[QTR_CLIENT_ID_MAX];
    char exchange_id[QTR_CLIENT_ID_MAX];
    int child_no;
    qtr_dec child_qty;
    qtr_order_status child_status;
    bn_fill_tracker ft;                 /* the child's totals as last read */
    /* Fills are the child's executions read from GET /fapi/v1/userTrades,
     * which alone carries each one's price and commission. */
    qtr_dec tr_qty, tr_quote;           /* executions published (child)    */
    int64_t *pub_ids;                   /* their trade ids (child)         */
    size_t n_pub, cap_pub;
    int64_t child_sent_ms;              /* server time of the child's send */
    bool trades_busy;                   /* a userTrades request in flight  */
    bool trades_wanted;                 /* in p->trades_wanted             */
    struct bn_order *wnext;
    int trade_queries;                  /* asks since executions were due  */
    struct event *trades_ev;            /* asks again after a lagging list */
    int64_t stream_event_ms;            /* E of the newest stream event applied */
    qtr_dec done_qty, done_quote;       /* of finished children            */
    int sends, queries, followups;
    int64_t last_send_ts;               /* signed timestamp of the child's
                                           last send (exchange clock)      */
    int not_found;                      /* -2013 answers since that send   */
    bool searching;                     /* an allOrders search in flight   */
    int64_t search_from;                /* its startTime (pages move it on) */
    char child_reason[QTR_REASON_MAX];  /* why the last child was refused  */
    bn_phase phase;
    bool busy;                          /* a place/query request in flight */
    bool landed;                        /* -4116: an earlier send is there */
    bool adopted;                       /* placed before a restart: never
                                           sent again, ended if not found  */
    bool cancel_requested, cancel_sent;
    struct event *retry_ev;
    bool published;
    qtr_order_status pub_status;
    qtr_dec pub_filled;
    int refs;                           /* requests in flight that name it */
    bool evicted;                       /* out of the table: freed at refs 0 */
    struct bn_order *dnext;             /* the FIFO of finished orders     */
} bn_order;
/* Finished orders are kept for lookups (a reused client id, a late answer)
 * up to done_orders_kept; older ones are freed, so memory stays bounded
 * however long the server runs. */



typedef struct bn_metrics {
    qtr_metric *rate_limited;
    qtr_metric *orders_sent;
    qtr_metric *fees_unconverted;
    qtr_metric *orders_in_memory;
    qtr_metric *resends;                /* sends again after -2013         */
    qtr_metric *tokens[BN_MAX_LIMITS];
} bn_metrics;

typedef struct bn_plugin {
    const qtr_host *h;
    qtr_ctx *ctx;
    struct event_base *base;
    bn_config cfg;
    char key_header[192];               /* "X-MBX-APIKEY: ..." (never logged) */
    kx_signer *signer;
    kx_http *http;
    bn_metrics metrics;

    /* REST queue (one FIFO per lane) and limits */
    bn_req *q_head[BN_LANES], *q_tail[BN_LANES];
    bn_req *inflight_reqs;
    size_t q_len;
    struct event *pump_ev;
    int64_t inflight;
    kx_bucket buckets[BN_MAX_LIMITS];
    bn_limit_spec bucket_spec[BN_MAX_LIMITS];
    size_t n_buckets;
    int64_t pause_until_us;
    int64_t pause_set_us;               /* when the current 429 pause began:
                                           429s of requests sent before it are
                                           echoes of the same episode        */
    int backoff_429_n;
    bool md_degraded;                   /* health DEGRADED by market data   */
    bool banned;
    int64_t banned_until_us;            /* INT64_MAX: until restart         */
    uint32_t jitter_state;

    /* server time */
    int64_t time_offset_ms;
    int64_t sync_sent_ms;
    bool time_synced, syncing;
    bn_req *resync_waiters;
    struct event *sync_ev;

    /* instrument rules */
    bn_exchange_info info;
    bool info_loaded, info_loading;
    struct event *info_retry_ev;
    int info_attempts;

    /* orders */
    struct qc_strmap *by_cid;           /* client id -> bn_order * (qc/strmap.h):
                                           at most max_open + done_kept     */
    bn_order *active;
    size_t n_orders;                    /* in the table (active + kept)     */
    bn_order *done_head, *done_tail;    /* finished, oldest first           */
    bn_order *limbo;                    /* evicted, awaiting a callback     */
    size_t n_done;
    struct bn_trade *trade_buf;         /* scratch for a userTrades answer  */
    size_t n_trade_buf, cap_trade_buf;
    bn_order *trades_wanted;            /* orders whose executions are due  */
    struct event *trades_pump_ev;       /* asks for them, grouped by symbol */
    struct bn_tbatch *tbatches;         /* grouped requests awaiting answers */
    struct { char symbol[QTR_SYMBOL_MAX]; int inflight; } tsym[BN_MAX_TRADE_SYMBOLS];
    size_t n_tsym;                      /* userTrades requests out, by symbol */
    char fee_asset_alerted[16];         /* a commission asset already alerted */
    struct event *poll_ev;
    struct bn_sweep *sweeps;            /* cancel-all state per symbol      */

    /* market data */
    struct bn_market *market;
    struct bn_snap *snaps;              /* snapshots awaiting answers       */
    struct bn_rules_wait *rules_fetches; /* fetch_rules awaiting answers (bn_exchange_info.c) */

    /* streams */
    struct bn_user_stream *ustream;
    struct bn_market_streams *mstreams;
    char health_base[QTR_REASON_MAX];   /* health reason without the fill mode */

    qtr_health health;
    bool started, stopping;
} bn_plugin;

/* ---- bn_rest.c ---- */
int bn_rest_init(bn_plugin *p);
void bn_rest_free(bn_plugin *p);
/* Queue a call (sent when tokens allow). Returns QTR_OK or QTR_EREFUSED
 * (banned, stopping, out of memory): then cb is never called. Otherwise cb
 * is called exactly once, later, from the loop. */
int bn_rest_enqueue(bn_plugin *p, const bn_call *c, bn_rest_cb cb, void *ud);
/* (Re)build the buckets from exchangeInfo limits and the options. */
void bn_rest_set_limits(bn_plugin *p, const bn_limit_spec *specs, size_t n);
void bn_rest_sync_time(bn_plugin *p);
int64_t bn_server_now_ms(bn_plugin *p);
int64_t bn_mono_us(bn_plugin *p);

/* ---- bn_plugin.c: shared helpers ---- */
/* An order or account call failed: counted, and an "exchange_error" alert
 * the host's ESS counts toward its consecutive-error trip. */
void bn_count_error(bn_plugin *p, const char *reason);
/* A market-data call failed: counted, and health DEGRADED; never the ESS. */
void bn_count_md_error(bn_plugin *p, const char *reason, const char *text);
/* A market-data call succeeded: health back to OK if market data lowered it. */
void bn_md_ok(bn_plugin *p);
void bn_set_health(bn_plugin *p, qtr_health_status st, const char *reason);
void bn_alert(bn_plugin *p, qtr_alert_severity sev, const char *kind, const char *text);
void bn_timer_once(struct event *ev, int64_t ms);
/* Milliseconds until an IP ban (418) ends: 0 if none, -1 if until restart.
 * Retry budgets wait while banned: the ban, not the exchange's data, held
 * the answer back. */
int64_t bn_ban_left_ms(bn_plugin *p);

/* ---- bn_orders.c ---- */
int bn_orders_submit(bn_plugin *p, const qtr_order_intent *o);
int bn_orders_cancel(bn_plugin *p, const char *symbol, const char *client_id);
/* bn_cancel_all.c: plain orders and the conditional orders that could
 * open a position, ours or not; reduce-only conditional orders stay. */
int bn_orders_cancel_all(bn_plugin *p, const char *symbol);
void bn_cancel_all_free(bn_plugin *p);
/* The order table; -1 (logged) if memory is short. */
int bn_orders_init(bn_plugin *p);
void bn_orders_start(bn_plugin *p);
void bn_orders_free(bn_plugin *p);
const bn_order *bn_orders_find(const bn_plugin *p, const char *client_id);
/* Follow an order placed before a restart (see qtr_exchange_ops.adopt_order). */
int bn_orders_adopt(bn_plugin *p, const qtr_order_update *known, const qtr_fill *fills, size_t n_fills);
/* True if client_id or a follow-up id derived from it belongs to us. */
bool bn_orders_known_child(const bn_plugin *p, const char *child_cid);
bool bn_client_id_valid(const char *cid);
/* The follow-up id for child n of cid (fits in 36 characters). */
void bn_followup_id(const char *cid, int n, char out[QTR_CLIENT_ID_MAX]);
/* The fill id of an execution: "<symbol>:<trade id>:<B|S>". */
void bn_trade_fill_id(const char *symbol, int64_t trade_id, qtr_side side, char out[QTR_CLIENT_ID_MAX]);

/* Shared with bn_trades.c. A request that names an order holds a
 * reference until its callback, which first calls bn_order_release: true
 * means the order is gone (freed there) and must not be touched. */
int bn_order_enqueue(bn_order *o, const bn_call *c, bn_rest_cb cb);
bool bn_order_release(bn_order *o);
/* The child's executions are all published: tell its state (or finish it). */
void bn_order_settle(bn_order *o);
int64_t bn_backoff_at(const bn_plugin *p, int i);
void bn_count_bad(bn_plugin *p, const char *endpoint, const char *cid, const char *err);

/* Query the order over REST now (unless a request for it is in flight). */
void bn_orders_query(bn_order *o);
/* Query every order not final (the resync after a stream reconnect). */
void bn_orders_query_all(bn_plugin *p);

/* ---- bn_stream_user.c: the user data stream ---- */
int bn_user_stream_init(bn_plugin *p);
void bn_user_stream_start(bn_plugin *p);
void bn_user_stream_stop(bn_plugin *p);   /* closes the listenKey */
void bn_user_stream_free(bn_plugin *p);
/* True while order and fill updates come over the stream. */
bool bn_user_stream_live(const bn_plugin *p);
/* True once per stream_poll_ms while live: open orders are queried anyway. */
bool bn_user_stream_check_due(bn_plugin *p);
const char *bn_user_stream_reason(const bn_plugin *p);
/* ---- bn_stream_market.c: klines, mark prices, book tops over streams ---- */
typedef enum bn_md_kind { BN_MD_KLINE, BN_MD_MARK, BN_MD_BOOK } bn_md_kind;
int bn_market_streams_init(bn_plugin *p);
void bn_market_streams_start(bn_plugin *p);
void bn_market_streams_free(bn_plugin *p);
/* True while a stream brings this kind (its polling pauses). */
bool bn_market_stream_covers(const bn_plugin *p, bn_md_kind kind);
/* "stream" or "polling (why)" into buf; NULL when no market stream is set up. */
const char *bn_market_stream_mode(const bn_plugin *p, char *buf, size_t len);
/* bn_plugin.c: health tells the fill mode again (stream or polling). */
void bn_fill_mode_changed(bn_plugin *p);

/* ---- bn_trades.c: fills from GET /fapi/v1/userTrades ---- */
/* The order shows executions not yet published: ask for them (orders of
 * one symbol due in the same loop turn share one request). */
void bn_trades_want(bn_order *o);
void bn_trades_free(bn_plugin *p);
/* An execution of the order's current child from the stream: published
 * unless already published (by trade id). False only when out of memory. */
bool bn_trades_publish_stream(bn_order *o, const struct bn_trade *t);

/* ---- bn_market.c ---- */
int bn_market_init(bn_plugin *p);
void bn_market_start(bn_plugin *p);
void bn_market_free(bn_plugin *p);
/* The last mark price polled for symbol, 0 if none. */
qtr_dec bn_market_mark(const bn_plugin *p, const char *symbol);
/* From the stream: a closed candle, published if it follows the last one
 * published, else (a gap) backfilled over REST in order; a mark price. */
void bn_market_stream_candle(bn_plugin *p, const qtr_candle *c);
void bn_market_stream_mark(bn_plugin *p, const qtr_mark_price *m);
/* After a reconnect: klines from the last published, over REST. */
void bn_market_resync(bn_plugin *p);

/* ---- bn_snapshot.c ---- */
int bn_snapshot_fetch(bn_plugin *p, qtr_snapshot_cb cb, void *ud);
/* Frees the snapshots still waiting for answers (at destroy, after
 * bn_rest_free dropped their requests: their callbacks never run). */
void bn_snapshot_free(bn_plugin *p);

#endif
