/* jread_diff — the differential check of the Binance plugin's two JSON
 * readers: the raw, allocation-free bn_jread path against jansson, on one
 * document. Used by test_binance_jread (over mutated replies) and by the
 * fuzz target tests/fuzz/fuzz_binance_json.c (over whatever libFuzzer makes).
 * A disagreement fails through cmocka (with CMOCKA_TEST_ABORT=1 outside a
 * cmocka test, it aborts, which is what a fuzzer needs).
 *
 * Mutations of real replies; for each: bn_json_check must accept exactly when
 * jansson does, and when jansson builds a tree, the plugin's readers (bn_jread)
 * and the oracle's (the plugin's field tables read from the jansson tree,
 * below) must agree (same return, same fields, same error text).
 *
 * jansson (json_loadb) differs from RFC 8259 in five ways, so the oracle is
 * jansson on a copy adjusted for each, all validity-preserving:
 *   1. it refuses "\u0000" in strings and keys: the oracle copy has each
 *      such escape changed to "\u0001" (still valid exactly when the
 *      original is: an escape is an escape);
 *   2. it refuses integers beyond long long ("too big integer"): retried with
 *      JSON_DECODE_INT_AS_REAL;
 *   3. it refuses reals too large for its C real type ("real number
 *      overflow"): that number keeps its sign and first digit in the copy,
 *      the rest of it becomes spaces (found by lexing JSON numbers, which
 *      start only at '-' or a digit, so "false9…" stays invalid), and
 *      retried; a round that changes nothing fails the check;
 *   4. it wants an object or array at the root: JSON_DECODE_ANY;
 *   5. it drops a raw NUL byte that directly follows a number or a literal
 *      (its one-byte pushback loses it: "[1\0]" loads as [1]): the copy has
 *      raw NUL bytes changed to 0x01 (a raw NUL and a raw 0x01 are both
 *      invalid anywhere in JSON, so validity is unchanged).
 * The readers are compared only when jansson accepted the unadjusted text
 * (with JSON_DECODE_ANY) and it holds no raw NUL: otherwise the jansson
 * readers never run, or run on what jansson made of a text that is not JSON. One
 * difference remains there and is checked for what it is: a wanted key seen
 * twice is refused by the raw readers, where jansson keeps the last value. */
#ifndef BN_TEST_JREAD_DIFF_H
#define BN_TEST_JREAD_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bn_order_json.h"

/* Documents longer than this are not compared. */
#define JREAD_DIFF_MAX 4096

typedef struct oracle_stats {
    int accepted, refused, nul_adjusted, raw_nul, int_as_real, real_adjusted, compared, dup_keys;
    int algo_orders;      /* whole algo orders both readers read alike */
} oracle_stats;

/* Check one document (n <= JREAD_DIFF_MAX): both readers accept or refuse it
 * alike, with the same words, and read the same fields. */
void jread_diff_one(const char *buf, size_t n, oracle_stats *st);

/* The oracle's readers: the plugin's own field tables and mapping
 * (bn_order_fields.h) read from a jansson tree, with the same words. */
int oracle_order_state(const json_t *o, bn_order_state *out, char *err, size_t errlen);
int oracle_algo_state(const json_t *o, bn_algo_state *out, char *err, size_t errlen);
int oracle_algo_order(const json_t *o, bn_algo_order *out, char *err, size_t errlen);
bool oracle_api_error(const json_t *root, int *code, char *msg, size_t msglen);

/* Printable form of a document for failure messages (a static buffer). */
const char *jread_show(const char *s, size_t n);

#endif
