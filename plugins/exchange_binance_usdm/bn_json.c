/* bn_json.c — see bn_json.h. */
#include "bn_json.h"

#include <stdio.h>
#include <string.h>

#include <qtr/plugin.h>

#include "bn_jread.h"

bool bn_json_dec(const json_t *obj, const char *key, qtr_dec *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_string(v)) return bn_jerr_field(err, errlen, key, "is not a decimal string");
    return bn_jtext_dec(key, json_string_value(v), json_string_length(v), out, err, errlen);
}

bool bn_json_dec_at(const json_t *arr, size_t i, qtr_dec *out, char *err, size_t errlen)
{
    json_t *v = json_is_array(arr) ? json_array_get(arr, i) : NULL;
    if (!v || !json_is_string(v)) { snprintf(err, errlen, "element %zu is not a decimal string", i); return false; }
    qtr_dec_status st = qtr_dec_parse(json_string_value(v), json_string_length(v), out);
    if (st != QTR_DEC_OK) {
        snprintf(err, errlen, "element %zu: %s", i, qtr_dec_status_str(st));
        return false;
    }
    return true;
}

bool bn_json_int(const json_t *obj, const char *key, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_integer(v)) return bn_jerr_field(err, errlen, key, "is not an integer");
    *out = (int64_t)json_integer_value(v);
    return true;
}

bool bn_json_str(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_string(v)) return bn_jerr_field(err, errlen, key, "is not a string");
    if (json_string_length(v) >= outlen) return bn_jerr_field(err, errlen, key, "too long");
    qtr_strlcpy(out, json_string_value(v), outlen);
    return true;
}

bool bn_json_id(const json_t *obj, const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
        return true;
    }
    if (json_is_string(v) && json_string_length(v) < outlen) {
        qtr_strlcpy(out, json_string_value(v), outlen);
        return true;
    }
    return bn_jerr_field(err, errlen, key, "is not an id");
}

bool bn_json_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v) return bn_jerr_field(err, errlen, key, "missing");
    if (!json_is_boolean(v)) return bn_jerr_field(err, errlen, key, "is not a boolean");
    *out = json_is_true(v);
    return true;
}

bool bn_json_api_error(const json_t *root, int *code, char *msg, size_t msglen)
{
    json_t *c = json_is_object(root) ? json_object_get(root, "code") : NULL;
    if (!c || !json_is_integer(c) || json_integer_value(c) >= 0) return false;
    *code = (int)json_integer_value(c);
    json_t *m = json_object_get(root, "msg");
    qtr_strlcpy(msg, json_is_string(m) ? json_string_value(m) : "(no msg)", msglen);
    return true;
}

bool bn_api_error_read(const char *body, size_t len, int *code, char *msg, size_t msglen)
{
    bn_jfield f[] = { BN_JFIELD("code"), BN_JFIELD("msg") };
    int64_t c;
    if (bn_jread_object(body, len, f, 2, NULL, 0) != 0) return false;
    if (!bn_jget_int(&f[0].val, "code", &c, NULL, 0) || c >= 0) return false;
    *code = (int)c;
    if (!bn_jget_text(&f[1].val, msg, msglen)) qtr_strlcpy(msg, "(no msg)", msglen);
    return true;
}

int bn_json_check(const char *body, size_t len, char *err, size_t errlen)
{
    return bn_jread_check(body, len, err, errlen);
}
