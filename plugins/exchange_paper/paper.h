/*
 * The paper exchange's internals, shared by its source files. Everything is
 * preallocated at init: an order pool, a client-id index and a symbol table,
 * so matching a candle allocates nothing and costs O(open orders of that
 * symbol).
 */
#ifndef QTR_PAPER_H
#define QTR_PAPER_H

#include <qtr/plugin.h>

#include "bn_rules.h"   /* exchangeInfo parsed as the Binance plugin parses it */
#include "kx_rules.h"   /* rounding and checks: the exchange kit's, as live */
#include "qc/bytes_eq.h"

#define QTR_PAPER_MAX_OPEN_ORDERS 4096
#define QTR_PAPER_MAX_SYMBOLS 256

__extension__ typedef __int128 qtr_paper_i128;

typedef struct qtr_paper_symbol qtr_paper_symbol;

typedef struct qtr_paper_order {
    qtr_order_update u;              /* the exchange's public view          */
    qtr_tif tif;
    qtr_paper_i128 notional_e16;     /* sum of price*qty of fills, exact    */
    int64_t armed_after;             /* fills only on candles opening later */
    int64_t candles_waited;          /* market orders: candles since submit */
    qtr_dec stop_price;              /* STOP_MARKET / TAKE_PROFIT_MARKET trigger */
    bool triggered;                  /* a conditional order now working as market */
    bool trail_active;               /* TRAILING_STOP_MARKET: activated          */
    qtr_dec trail_best;              /* ... and the best price since (trailing.c) */
    qtr_paper_symbol *sym;
    struct qtr_paper_order *prev, *next;   /* symbol's open list; free list */
    /* Publishing lets the host call back in (a fill can trip the ESS, which
     * cancels every order), so an order is never unlinked while one of our
     * loops may hold it: see qtr_paper_hold(). */
    bool dead;                       /* finished: waits in the symbol list for the sweep */
    struct qtr_paper_order *dead_next;
    bool in_fill;                    /* between its fill and that fill's update  */
    qtr_order_status pending_status; /* a finish asked for during the fill, or 0 */
    char pending_reason[QTR_REASON_MAX];
} qtr_paper_order;

typedef struct qtr_paper_position {
    qtr_dec qty;                     /* signed                               */
    qtr_dec entry_price, realized_pnl, fees;
    int64_t time_ms;
} qtr_paper_position;

struct qtr_paper_symbol {
    char name[QTR_SYMBOL_MAX];
    size_t name_len;                 /* strlen(name): the per-candle compare */
    bool has_candle;
    qtr_candle last;                 /* last candle matched                  */
    bool has_budget;
    int64_t budget_open_time;        /* the candle the budget belongs to     */
    qtr_dec budget;                  /* quantity still fillable on it        */
    qtr_paper_order *head, *tail;    /* open orders, in arrival order        */
    qtr_paper_position pos;
    const kx_symbol_rules *rules;    /* from symbols_file, or NULL           */
    qtr_dec tick, step;              /* the rules' tickSize and stepSize, or the options */
};

typedef struct qtr_paper_config {
    qtr_dec taker_fee, maker_fee, slippage_bps, max_volume_share, min_qty_step, price_tick;
    int64_t market_order_timeout_candles;
    bool market_next_open;           /* market_fill = "next_open"             */
    bool limit_on_touch;             /* limit_fill = "touch"                  */
    bool stop_on_mark;               /* stop_trigger = "mark"                 */
} qtr_paper_config;

/* One order's turn on a candle: where the path reaches it, and at what price. */
typedef struct qtr_paper_due {
    struct qtr_paper_order *o;
    int seg;                         /* qtr_paper_path_pos, kept flat          */
    qtr_dec dist;
    size_t seq;                      /* arrival order breaks ties              */
    qtr_dec price;
    bool maker, trigger;
} qtr_paper_due;

/* path.c: the assumed price path inside one candle. */
typedef struct qtr_paper_path { qtr_dec p[4]; } qtr_paper_path;      /* open, nearer extreme, other, close */
typedef struct qtr_paper_path_pos { int seg; qtr_dec dist; } qtr_paper_path_pos;
void qtr_paper_path_of(const qtr_candle *c, qtr_paper_path *out);
/* Where the path first reaches target going down (price <= target) or up;
 * strict: beyond it, not only at it. false if never. */
bool qtr_paper_path_reach(const qtr_paper_path *pt, qtr_dec target, bool down, bool strict, qtr_paper_path_pos *out);
int qtr_paper_path_cmp(const qtr_paper_path_pos *a, const qtr_paper_path_pos *b);

typedef struct qtr_paper {
    const qtr_host *h;
    qtr_ctx *ctx;
    qtr_paper_config cfg;
    qtr_sub *candle_sub;
    bn_exchange_info rules;          /* symbols_file, when has_rules          */
    bool has_rules;

    qtr_paper_order *pool;           /* QTR_PAPER_MAX_OPEN_ORDERS            */
    qtr_paper_order *free_list;      /* released places, last released first */
    size_t n_carved;                 /* pool[0 .. n_carved-1] were ever taken  */
    size_t n_open;                   /* open orders, the dead ones not counted */
    int hold;                        /* > 0: releases wait for the sweep        */
    qtr_paper_order *dead_list;      /* finished while held                     */
    struct qc_strmap *ids;           /* client id -> pool index (qc/strmap.h) */
    qtr_paper_due *due;              /* QTR_PAPER_MAX_OPEN_ORDERS: one candle's orders in path order */
    bool due_busy;

    qtr_paper_symbol *syms;          /* QTR_PAPER_MAX_SYMBOLS                */
    size_t n_syms;
    struct qc_strmap *sym_ix;        /* name -> syms index (qc/strmap.h)      */
    /* The symbol found last: one symbol's candle, mark and orders come in a
     * row, and comparing one name costs less than hashing it; the one after
     * it is tried next, as candles of several symbols come in the order they
     * were first seen in. syms never moves and a symbol is never removed, so
     * the pointer stays valid. */
    qtr_paper_symbol *last_sym;
    bool warned_symbols_full;
    bool warned_no_mark;             /* a MARK conditional order saw no mark yet */

    uint64_t order_seq, fill_seq;
    char fill_prefix[16];            /* unique per start: fill ids never repeat across restarts */
    qtr_order_update *snap_orders;   /* preallocated for fetch_snapshot      */
    qtr_position *snap_positions;
} qtr_paper;

/* The symbol's name is the string in field `name`: their first name_len + 1
 * bytes, the NUL included, are equal (both fields hold QTR_SYMBOL_MAX). */
static inline bool qtr_paper_symbol_is(const qtr_paper_symbol *s, const char name[QTR_SYMBOL_MAX])
{
    return qc_bytes_eq(s->name, name, s->name_len + 1);
}

/* The symbol found last if name is its, else the one after it (candles of
 * several symbols come in the order they were first seen in), which then
 * becomes the last; NULL when neither is (the map decides: symbol_find).
 * Inline: the symbol of nearly every candle, with no call. */
static inline qtr_paper_symbol *qtr_paper_symbol_guess(qtr_paper *p, const char name[QTR_SYMBOL_MAX])
{
    if (!p->last_sym || !name) return NULL;
    if (qtr_paper_symbol_is(p->last_sym, name)) return p->last_sym;
    size_t next = (size_t)(p->last_sym - p->syms) + 1;
    qtr_paper_symbol *s = &p->syms[next < p->n_syms ? next : 0];
    if (s != p->last_sym && qtr_paper_symbol_is(s, name)) return p->last_sym = s;
    return NULL;
}

/* orders.c: pool, client-id index and symbol table. */
int qtr_paper_tables_init(qtr_paper *p);
void qtr_paper_tables_free(qtr_paper *p);
/* name: a char field of QTR_SYMBOL_MAX bytes (a candle's, an order's, a
 * position's symbol), read whole by the compare with the last symbols found. */
qtr_paper_symbol *qtr_paper_symbol_find(qtr_paper *p, const char name[QTR_SYMBOL_MAX]);
/* Finds or adds; NULL when the table is full. */
qtr_paper_symbol *qtr_paper_symbol_get(qtr_paper *p, const char name[QTR_SYMBOL_MAX]);
qtr_paper_order *qtr_paper_order_find(qtr_paper *p, const char *client_id);
/* Takes an order from the pool, indexes it by client id and appends it to its
 * symbol's open list. NULL when the pool is full. The caller has checked
 * that the client id is valid and not open already. */
qtr_paper_order *qtr_paper_order_open(qtr_paper *p, qtr_paper_symbol *sym, const qtr_order_update *u);
/* Unlinks, unindexes and returns an order to the pool. */
void qtr_paper_order_release(qtr_paper *p, qtr_paper_order *o);
/* Around anything that walks orders and publishes: while held, a released
 * order is only marked dead (and leaves the client-id index at once); the
 * last unhold unlinks the dead and returns them to the pool. */
void qtr_paper_hold(qtr_paper *p);
void qtr_paper_unhold(qtr_paper *p);

/* rules.c: instrument rules from an exchangeInfo JSON file. */
int qtr_paper_rules_load(qtr_paper *p, const char *path);
void qtr_paper_rules_free(qtr_paper *p);
/* Sets sym's rules, tick and step (called when the symbol is added). */
void qtr_paper_symbol_apply_rules(const qtr_paper *p, qtr_paper_symbol *sym);

/* position.c */
void qtr_paper_position_apply(qtr_paper_position *pos, qtr_side side, qtr_dec qty, qtr_dec price, qtr_dec fee,
                              int64_t time_ms);
/* How much of an order on `side` may fill without growing the position or
 * flipping it (for reduce-only orders). */
qtr_dec qtr_paper_position_reducible(const qtr_paper_position *pos, qtr_side side);
void qtr_paper_position_report(const qtr_paper_symbol *sym, qtr_position *out);

/* trailing.c: a TRAILING_STOP_MARKET order along a path (a candle's, or the
 * mark as one point): activates it and moves its best price; true when it
 * triggers, with where, at what price (before slippage) and whether it was
 * a gap at the path's first point. */
bool qtr_paper_trailing_walk(qtr_paper_order *o, const qtr_paper_path *pt, qtr_paper_path_pos *at, qtr_dec *price,
                             bool *gap);
/* The price at which it triggers from its best price now. */
qtr_dec qtr_paper_trailing_trigger(const qtr_paper_order *o);

/* matching.c */
/* price * qty * rate, exact, rounded toward +infinity to 1e-8. */
bool qtr_paper_fee(qtr_dec price, qtr_dec qty, qtr_dec rate, qtr_dec *out);
/* price moved by slippage_bps against the taker, to the nearest tick (a tie
 * against the taker). */
qtr_dec qtr_paper_slipped(const qtr_paper_config *cfg, qtr_dec tick, qtr_dec price, qtr_side side);
int qtr_paper_submit(qtr_paper *p, const qtr_order_intent *o);
void qtr_paper_on_candle(qtr_paper *p, const qtr_candle *c, int64_t time_ms);
/* Publishes the final status and frees the order. */
void qtr_paper_finish(qtr_paper *p, qtr_paper_order *o, qtr_order_status status, const char *reason, int64_t time_ms);

#endif
