/* bn_json.c — see bn_json.h. */
#include "bn_json.h"

#include <stdio.h>
#include <string.h>

#include <qtr/plugin.h>

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

int bn_jread_each(const char *s, size_t n, bn_jelem_fn each, void *ud, char *err, size_t errlen)
{
    bn_jiter it;
    bn_jval el;
    int rc = bn_jread_array_begin(&it, s, n, err, errlen);
    if (rc == BN_JREAD_NOT_ARRAY) {
        if (err && errlen) snprintf(err, errlen, "not an array");
        return -1;
    }
    if (rc != 0) return -1;
    for (size_t i = 0; (rc = bn_jread_array_next(&it, &el, err, errlen)) == 1; i++) {
        int stop = each(ud, i, &el);
        if (stop) return stop;
    }
    return rc;
}

typedef struct elems {
    bn_jval *out;
    size_t max;
    long count;
} elems;

static int keep_elem(void *ud, size_t i, const bn_jval *el)
{
    elems *e = ud;
    if (i < e->max) e->out[i] = *el;
    e->count++;
    return 0;
}

long bn_jread_elems(const char *s, size_t n, bn_jval *out, size_t max, char *err, size_t errlen)
{
    elems e = { out, max, 0 };
    return bn_jread_each(s, n, keep_elem, &e, err, errlen) == 0 ? e.count : -1;
}
