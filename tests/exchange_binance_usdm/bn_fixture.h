/* bn_fixture — the binance_usdm plugin loaded in a real-time mock host and
 * pointed at a fresh binance_mock, with every log line captured. */
#ifndef BN_FIXTURE_H
#define BN_FIXTURE_H

#include "mock_exchange.h"
#include "mock_host.h"

typedef struct bn_fx {
    mock_exchange *mx;
    mock_host *m;
    mock_plugin plug;
    bool loaded;
    char *log;            /* every line the plugin logged, '\n'-separated */
    size_t log_len, log_cap;
} bn_fx;

/* Official signing example key and secret (the mock's defaults too). */
#define FX_API_KEY "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
#define FX_SECRET "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"

/* Starts the mock, a host and sets fast test options (not yet loaded). */
bn_fx *fx_new(void);
/* Load the plugin and wait (bounded) until it is ready; false on failure. */
bool fx_load(bn_fx *fx);
/* The cmocka state's fixture with the plugin loaded (asserted). */
bn_fx *fx_loaded(void **state);
/* A MARKET BUY of 0.010 BTCUSDT submitted and run to its end (bounded): its last update. */
const qtr_order_update *fx_market_buy(bn_fx *fx, const char *cid);
/* Run until the loaded plugin reports health OK (bounded). */
bool fx_wait_ready(bn_fx *fx, int64_t ms);
void fx_free(bn_fx *fx);
/* fx_run_until predicate: the plugin's health reason contains text (a char *). */
bool fx_health_says(bn_fx *fx, const void *text);
/* Streams at url with the tests' quick stall and reconnect timings (not yet loaded). */
void fx_stream_options(bn_fx *fx, const char *url);
/* A number from the mock's GET /mock/ws ("port", "user_connections", ...), asserted readable. */
long fx_ws_info(bn_fx *fx, const char *key);
/* Load the plugin with both streams on the mock's WebSocket server (ws://)
 * and the REST poller every poll_ms: both paths at once (asserted). */
void fx_load_streaming(bn_fx *fx, const char *poll_ms);
/* cmocka setup/teardown: a fresh fixture per test in *state. */
int fx_setup(void **state);
int fx_teardown(void **state);

bool fx_run_until(bn_fx *fx, int64_t ms, bool (*pred)(bn_fx *fx, const void *arg), const void *arg);
void fx_run_for(bn_fx *fx, int64_t ms);

int fx_submit(bn_fx *fx, const char *cid, const char *symbol, qtr_side side, qtr_order_type type, const char *qty,
              const char *price);
/* A BTCUSDT market order with reduce_only and a strategy name ("ess": the
 * host's ESS flatten). */
int fx_submit_as(bn_fx *fx, const char *cid, qtr_side side, const char *qty, bool reduce_only, const char *strategy);
const qtr_order_update *fx_last_update(const bn_fx *fx, const char *cid);
bool fx_saw_status(const bn_fx *fx, const char *cid, qtr_order_status st);
size_t fx_fills(const bn_fx *fx, const char *cid, qtr_dec *qty_sum);
const qtr_fill *fx_fill(const bn_fx *fx, const char *cid, size_t index);
/* ALERT events of this kind published so far. */
size_t fx_alerts(const bn_fx *fx, const char *kind);
/* True if every order update of cid reports exactly the quantity of the
 * fills published before it: the host never sees a fill it was not given. */
bool fx_fills_match_updates(const bn_fx *fx, const char *cid);
/* Predicate: the last update of cid (arg) is NEW. */
bool fx_is_new(bn_fx *fx, const void *cid);
/* Predicate: the last update of cid (arg) is final. */
bool fx_final(bn_fx *fx, const void *cid);
/* Predicate: every cid in the NULL-terminated array arg is final. */
bool fx_all_final(bn_fx *fx, const void *cids);

#endif
