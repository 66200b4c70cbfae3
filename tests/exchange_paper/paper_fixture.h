/* A mock host with the paper exchange loaded, and helpers to read its events. */
#ifndef PAPER_FIXTURE_H
#define PAPER_FIXTURE_H

#include "mock_host.h"

typedef struct fx {
    mock_host *m;
    mock_plugin p;
    int64_t next_open_ms;    /* open time of the next candle fx_candle() sends */
} fx;

#define FX_T0 INT64_C(1700000040000)
#define FX_INTERVAL INT64_C(60000)

/* Loads the plugin with options given as name, value, ..., NULL. Fails the
 * test if it does not load. */
void fx_start(fx *f, ...);
/* As fx_start, but returns the load result instead of failing. */
int fx_try_start(fx *f, const char *const *name_value_pairs);
void fx_stop(fx *f);

/* One closed candle for symbol, opening at f->next_open_ms, after which the
 * mock clock stands at its close. */
void fx_candle(fx *f, const char *symbol, const char *open, const char *high, const char *low, const char *close,
               const char *volume);

int fx_submit(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type, qtr_tif tif,
              const char *qty, const char *price, bool reduce_only);
/* A STOP_MARKET or TAKE_PROFIT_MARKET order triggering at stop. */
int fx_submit_stop(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type,
                   const char *qty, const char *stop, bool reduce_only);
/* A reduce-only TRAILING_STOP_MARKET (activation "0": active at once). */
int fx_submit_trailing(fx *f, const char *symbol, const char *client_id, qtr_side side, const char *qty,
                       const char *activation, uint32_t callback_bps, qtr_working_type working);
/* A reduce-only STOP_MARKET or TAKE_PROFIT_MARKET watching the last or the mark price. */
int fx_submit_stop_on(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type,
                      const char *qty, const char *stop, qtr_working_type working);
int fx_cancel(fx *f, const char *symbol, const char *client_id);
int fx_cancel_all(fx *f, const char *symbol);

/* Events published since index `from` (m->n_events before the action). */
size_t fx_updates(const fx *f, size_t from, const char *client_id, qtr_order_update *out, size_t cap);
size_t fx_fills(const fx *f, size_t from, const char *client_id, qtr_fill *out, size_t cap);
/* The one fill of client_id since `from` (fails the test if not exactly one). */
qtr_fill fx_only_fill(fx *f, size_t from, const char *client_id);

/* The fee as the rules state it: price * qty * rate, rounded up to 1e-8. */
qtr_dec fx_fee(qtr_dec price, qtr_dec qty, qtr_dec rate);

#endif
