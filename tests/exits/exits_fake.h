/* Fake engine services for the exit manager: orders and cancels recorded,
 * a position per symbol, one-shot timers on a hand-moved clock. */
#ifndef EXITS_FAKE_H
#define EXITS_FAKE_H

#include "exits/exit_manager.h"

#define FAKE_MAX 256

typedef struct fake_timer {
    int64_t at;
    void (*cb)(void *);
    void *arg;
    bool live;
} fake_timer;

typedef struct fake {
    int64_t now;
    qtr_order_intent sent[FAKE_MAX];
    size_t n_sent;
    char cancelled[FAKE_MAX][QTR_CLIENT_ID_MAX];
    size_t n_cancelled;
    qtr_position pos;                  /* one symbol is enough */
    fake_timer timers[16];
    size_t n_timers;
    int store_calls;
    qtr_exit_plan stored;
    bool has_stored;
    int64_t stored_opened;
    uint64_t seq;
    int submit_rc;                     /* what submit returns (QTR_OK) */
    qtr_regime regime;                 /* what the regime service answers */
    size_t regime_asked;               /* how often it was asked          */
} fake;

qh_exit_services fake_services(fake *f);

/* A manager over fake services, the clock at FAKE_T0, one position on
 * BTCUSDT (flat): cmocka setup and teardown (the state is a fake_world). */
#define FAKE_T0 INT64_C(1700000000000)
typedef struct fake_world {
    fake f;
    qh_exits *m;
} fake_world;
int fake_world_setup(void **state);
int fake_world_teardown(void **state);
/* A regime service answering f->regime (the host's classifier). */
qtr_regime fake_regime(void *ud, const char *symbol);
/* Move the clock to `to`, firing due timers. */
void fake_advance(fake *f, int64_t to);
/* Orders sent since index from, of a type (0: any). */
size_t fake_count(const fake *f, size_t from, qtr_order_type type);
const qtr_order_intent *fake_find(const fake *f, size_t from, qtr_order_type type);
bool fake_was_cancelled(const fake *f, const char *client_id);
qtr_dec fake_dec(const char *s);

#endif
