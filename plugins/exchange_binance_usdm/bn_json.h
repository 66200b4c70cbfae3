/* bn_json — the plugin's reading of whole exchange answers, all with bn_jread
 * (the one JSON reader of the plugin: no tree, no allocation): the validity
 * check every answer passes first, the {code,msg} error body, and arrays
 * read element by element. Decimals come only from JSON strings. */
#ifndef BN_JSON_H
#define BN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

#include "bn_jread.h"

/* A Binance error body {"code":-2013,"msg":"..."}: true only for a valid
 * JSON object whose "code" is a negative integer; msg is copied (cut to
 * fit), "(no msg)" if absent. {"code":200,"msg":"..."} (cancel-all's
 * success) is not an error. A body with "code" or "msg" twice is not read
 * as an error (nor as anything else). */
bool bn_api_error_read(const char *body, size_t len, int *code, char *msg, size_t msglen);

/* 0 if body is one valid JSON document (see bn_jread.h for how strict),
 * else -1 with "invalid JSON at byte N: why" in err. */
int bn_json_check(const char *body, size_t len, char *err, size_t errlen);

/* The elements of the array that is the whole of s[0..n) (a body or a value
 * span): the first `max` into out[], all of them checked. Returns how many
 * there are (may exceed max), or -1 with err ("not an array" or a syntax
 * error). */
long bn_jread_elems(const char *s, size_t n, bn_jval *out, size_t max, char *err, size_t errlen);

/* Calls each(ud, index, element) for every element of the array s[0..n),
 * in order, stopping at the first non-zero return (which it returns). -1
 * with err if s is not an array. */
typedef int (*bn_jelem_fn)(void *ud, size_t index, const bn_jval *elem);
int bn_jread_each(const char *s, size_t n, bn_jelem_fn each, void *ud, char *err, size_t errlen);

#endif
