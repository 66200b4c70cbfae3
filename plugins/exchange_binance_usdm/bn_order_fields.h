/* bn_order_fields — the field tables of the order and algo order readers
 * (bn_order_json.c) and the mapping that follows reading them. Internal to
 * the plugin; also used by the differential test's jansson oracle
 * (tests/exchange_binance_usdm/jread_diff.c), which reads the same tables
 * from a jansson tree, so the plugin itself has one JSON reader (bn_jread)
 * and the test compares it against another on the very same fields. */
#ifndef BN_ORDER_FIELDS_H
#define BN_ORDER_FIELDS_H

#include <stddef.h>

#include "bn_order_json.h"

typedef enum bn_fkind { FK_STR, FK_ID, FK_DEC, FK_INT, FK_BOOL } bn_fkind;

typedef struct bn_fspec {
    const char *key;
    unsigned char klen;
    unsigned char kind;       /* bn_fkind                          */
    unsigned short off, size; /* destination in the scratch struct */
} bn_fspec;

#define FS(T, k, kind, m) { k, sizeof(k) - 1, kind, offsetof(T, m), sizeof(((T *)0)->m) }
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* The texts an order carries, before they are mapped. */
typedef struct bn_order_scratch {
    bn_order_state st;
    char status[32], side[8], type[32];
} bn_order_scratch;

typedef struct bn_algo_scratch {
    bn_algo_state st;
    char status[32];
} bn_algo_scratch;

/* The fields a whole algo order adds to its state's. */
typedef struct bn_algo_detail_scratch {
    bn_algo_order o;
    char side[8], type[32], working[24];
} bn_algo_detail_scratch;

extern const bn_fspec bn_order_fields[];
extern const size_t bn_n_order_fields;
extern const bn_fspec bn_algo_fields[];
extern const size_t bn_n_algo_fields;
extern const bn_fspec bn_algo_detail_fields[];
extern const size_t bn_n_algo_detail_fields;

/* After the fields are read: map status, side and type; 0 or -1 with err. */
int bn_order_finish(bn_order_scratch *s, bool reduce_only, bn_order_state *out, char *err, size_t errlen);
/* An optional decimal of a whole algo order, as either reader found it:
 * present (the key is there), and then ok with v, or the getter's words. */
typedef struct bn_opt_dec {
    bool present, ok;
    qtr_dec v;
    char err[128];
} bn_opt_dec;
enum { BN_ALGO_OPT_TRIGGER, BN_ALGO_OPT_ACTIVATE, BN_ALGO_OPT_CALLBACK, BN_ALGO_OPT_N };

/* After a whole algo order's tables and optional keys are read: the state,
 * then side, type, working type, quantity and the conditional fields the
 * type needs; 0 and *out, or -1 with err naming the field. */
int bn_algo_order_finish(bn_algo_scratch *s, bn_algo_detail_scratch *d, const char *actual,
                         const bn_opt_dec opt[BN_ALGO_OPT_N], bn_algo_order *out, char *err, size_t errlen);
/* actual: the actualOrderId as text, "" if absent or not a usable id. */
int bn_algo_finish(bn_algo_scratch *s, const char *actual, bn_algo_state *out, char *err, size_t errlen);

#endif
