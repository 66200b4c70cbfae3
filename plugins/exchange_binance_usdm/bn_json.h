/* bn_json — strict readers for exchange JSON: decimals only from strings. */
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

/* A Binance error body {"code":-2013,"msg":"..."} with a negative code. */
bool bn_json_api_error(const json_t *root, int *code, char *msg, size_t msglen);

#endif
