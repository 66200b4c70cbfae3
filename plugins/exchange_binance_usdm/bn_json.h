/* bn_json — strict readers for exchange JSON: decimals only from strings.
 * The bn_json_* getters read a jansson tree (the older path, kept while
 * callers move); bn_api_error_read and bn_json_check read the raw body with
 * bn_jread, without allocating. Both say the same thing in the same words
 * (the error texts come from bn_jread). */
#ifndef BN_JSON_H
#define BN_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/money.h>

/* Each returns true, or false with "field 'key': why" in err. */
bool bn_json_dec(const json_t *obj, const char *key, qtr_dec *out, char *err, size_t errlen);
/* A decimal string element of an array (klines, depth levels). */
bool bn_json_dec_at(const json_t *arr, size_t i, qtr_dec *out, char *err, size_t errlen);
bool bn_json_int(const json_t *obj, const char *key, int64_t *out, char *err, size_t errlen);
bool bn_json_str(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen);
/* An id that Binance sends as a number (orderId): written as text. */
bool bn_json_id(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen);
bool bn_json_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen);

/* A Binance error body {"code":-2013,"msg":"..."} with a negative code. */
bool bn_json_api_error(const json_t *root, int *code, char *msg, size_t msglen);

/* The same from the raw body: true only for a valid JSON object whose
 * "code" is a negative integer; msg is copied (cut to fit), "(no msg)" if
 * absent. {"code":200,"msg":"..."} (cancel-all's success) is not an error.
 * Unlike the jansson tree, which keeps the last, a body with "code" or
 * "msg" twice is not read as an error (nor as anything else). */
bool bn_api_error_read(const char *body, size_t len, int *code, char *msg, size_t msglen);

/* 0 if body is one valid JSON document (see bn_jread.h for how strict),
 * else -1 with "invalid JSON at byte N: why" in err. */
int bn_json_check(const char *body, size_t len, char *err, size_t errlen);

#endif
