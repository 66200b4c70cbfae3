/* option_check.c — see option_check.h. */
#include "core/option_check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *qh_option_type_name(qtr_opt_type t)
{
    switch (t) {
    case QTR_OPT_STRING: return "a string";
    case QTR_OPT_INT: return "an integer";
    case QTR_OPT_BOOL: return "true or false";
    case QTR_OPT_DECIMAL: return "a decimal string";
    case QTR_OPT_DOUBLE: return "a number";
    case QTR_OPT_STRING_LIST: return "a list of strings";
    case QTR_OPT_PATH: return "a path (a string)";
    }
    return "?";
}

/* ---- bounds: one comparable number per type ---- */

typedef enum bound_kind { B_INT, B_DEC, B_DOUBLE, B_NONE } bound_kind;

/* What min and max bound: the value (INT, DECIMAL, DOUBLE), the length of
 * a STRING or the item count of a STRING_LIST (both integers). */
static bound_kind bound_kind_of(qtr_opt_type t)
{
    switch (t) {
    case QTR_OPT_INT:
    case QTR_OPT_STRING:
    case QTR_OPT_PATH:
    case QTR_OPT_STRING_LIST: return B_INT;
    case QTR_OPT_DECIMAL: return B_DEC;
    case QTR_OPT_DOUBLE: return B_DOUBLE;
    case QTR_OPT_BOOL: return B_NONE;
    }
    return B_NONE;
}

typedef struct num {
    int64_t i;     /* B_INT, and B_DEC as a qtr_dec */
    double d;      /* B_DOUBLE */
} num;

/* See option_check.h. */
const char *qh_option_shown(const char *s, char out[QH_OPTION_SHOWN_MAX])
{
    size_t o = 0;
    for (size_t i = 0; i < 64 && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        else out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

static bool parse_int(const char *s, int64_t *out)
{
    if (!s || !*s) return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_bound(bound_kind k, const char *s, num *out)
{
    switch (k) {
    case B_INT: return parse_int(s, &out->i);
    case B_DEC: return s && qtr_dec_parse(s, strlen(s), &out->i) == QTR_DEC_OK;
    case B_DOUBLE: {
        if (!s || !*s) return false;
        errno = 0;
        char *end;
        out->d = strtod(s, &end);
        return !errno && !*end && isfinite(out->d);
    }
    case B_NONE: return false;
    }
    return false;
}

static int compare(bound_kind k, num a, num b)
{
    if (k == B_DOUBLE) return a.d < b.d ? -1 : a.d > b.d;
    return a.i < b.i ? -1 : a.i > b.i;
}

/* ---- values ---- */

/* The value as its bounded number; false with why for a wrong type. */
static bool value_number(const qtr_option *d, const qh_optval *v, num *out, char *why, size_t whylen)
{
    switch (d->type) {
    case QTR_OPT_STRING:
    case QTR_OPT_PATH:
        out->i = (int64_t)strlen(v->str);
        return true;
    case QTR_OPT_STRING_LIST:
        out->i = (int64_t)v->n_list;
        return true;
    case QTR_OPT_INT:
        out->i = v->i;
        return true;
    case QTR_OPT_DOUBLE:
        out->d = v->type == QH_OPTV_INT ? (double)v->i : v->num;
        return true;
    case QTR_OPT_DECIMAL:
        if (v->type == QH_OPTV_INT) {
            if (v->i > INT64_MAX / QTR_DEC_SCALE || v->i < -(INT64_MAX / QTR_DEC_SCALE)) {
                snprintf(why, whylen, "%lld is out of range", (long long)v->i);
                return false;
            }
            out->i = QTR_DEC_INT(v->i);
            return true;
        }
        qtr_dec_status st = qtr_dec_parse(v->str, strlen(v->str), &out->i);
        if (st != QTR_DEC_OK) {
            char sv[QH_OPTION_SHOWN_MAX];
            snprintf(why, whylen, "'%s': %s", qh_option_shown(v->str, sv), qtr_dec_status_str(st));
            return false;
        }
        return true;
    case QTR_OPT_BOOL:
        return true;
    }
    return true;
}

static bool type_matches(qtr_opt_type t, const qh_optval *v)
{
    switch (t) {
    case QTR_OPT_STRING:
    case QTR_OPT_PATH: return v->type == QH_OPTV_STRING;
    case QTR_OPT_INT: return v->type == QH_OPTV_INT;
    case QTR_OPT_BOOL: return v->type == QH_OPTV_BOOL;
    case QTR_OPT_DOUBLE: return v->type == QH_OPTV_INT || v->type == QH_OPTV_NUMBER;
    case QTR_OPT_STRING_LIST: return v->type == QH_OPTV_LIST;
    case QTR_OPT_DECIMAL: return v->type == QH_OPTV_INT || v->type == QH_OPTV_STRING;
    }
    return false;
}

static bool is_allowed(const char *const *allowed, const char *s)
{
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, s) == 0) return true;
    return false;
}

/* "a, b or c" into buf. */
static void list_allowed(const char *const *allowed, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const char *const *a = allowed; *a && used < cap; a++) {
        const char *sep = a == allowed ? "" : a[1] ? ", " : " or ";
        int n = snprintf(buf + used, cap - used, "%s%s", sep, *a);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* "out of range [1, 1000]" ("(0, 1]" with an exclusive min), or for one
 * bound "out of range: must be >= 1" (> 0, <= 5): the range as declared. */
static void range_text(const qtr_option *d, char *buf, size_t cap)
{
    bool open_min = d->flags & QTR_OPT_MIN_EXCLUSIVE;
    if (d->min && d->max)
        snprintf(buf, cap, "out of range %s%s, %s]", open_min ? "(" : "[", d->min, d->max);
    else if (d->min)
        snprintf(buf, cap, "out of range: must be %s %s", open_min ? ">" : ">=", d->min);
    else
        snprintf(buf, cap, "out of range: must be <= %s", d->max ? d->max : "?");
}

static const char *value_type_name(qh_optv_type t)
{
    switch (t) {
    case QH_OPTV_STRING: return "a string";
    case QH_OPTV_INT: return "an integer";
    case QH_OPTV_NUMBER: return "a float";
    case QH_OPTV_BOOL: return "a boolean";
    case QH_OPTV_LIST: return "a list";
    }
    return "?";
}

/* A value quoted in an error: at most 40 bytes of it, a byte outside
 * printable ASCII as '?' (it is the user's text, shown on a terminal). */
static const char *shown_text(const char *s, char *buf, size_t cap)
{
    size_t n = 0, max = cap > 44 ? 40 : cap - 4;
    for (; n < max && s[n]; n++) buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    if (s[n]) buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n] = '\0';
    return buf;
}

bool qh_option_value_valid(const qtr_option *d, const qh_optval *v, char *why, size_t whylen)
{
    char shown[48];
    if (!type_matches(d->type, v)) {
        if (d->type == QTR_OPT_DECIMAL && v->type == QH_OPTV_NUMBER)
            snprintf(why, whylen, "give decimals as strings (e.g. \"%g\"), not Lua floats", v->num);
        else if (v->type == QH_OPTV_STRING && v->str)
            snprintf(why, whylen, "expected %s, got a string ('%s')", qh_option_type_name(d->type),
                     shown_text(v->str, shown, sizeof shown));
        else
            snprintf(why, whylen, "expected %s, got %s", qh_option_type_name(d->type), value_type_name(v->type));
        return false;
    }
    num n = { 0, 0 };
    if (!value_number(d, v, &n, why, whylen)) return false;
    bound_kind k = bound_kind_of(d->type);
    if (k != B_NONE && (d->min || d->max)) {
        num lo, hi;
        bool open_min = d->flags & QTR_OPT_MIN_EXCLUSIVE;
        bool below = d->min && parse_bound(k, d->min, &lo) && compare(k, n, lo) < (open_min ? 1 : 0);
        bool above = d->max && parse_bound(k, d->max, &hi) && compare(k, n, hi) > 0;
        if (below || above) {
            char range[128];
            range_text(d, range, sizeof range);
            switch (d->type) {
            case QTR_OPT_STRING:
            case QTR_OPT_PATH: {
                char sv[QH_OPTION_SHOWN_MAX];
                snprintf(why, whylen, "'%s%s' is %lld bytes long, %s", qh_option_shown(v->str, sv),
                         strlen(v->str) > 64 ? "..." : "", (long long)n.i, range);
                break;
            }
            case QTR_OPT_STRING_LIST:
                snprintf(why, whylen, "%lld items, %s", (long long)n.i, range);
                break;
            case QTR_OPT_INT:
                snprintf(why, whylen, "%lld is %s", (long long)n.i, range);
                break;
            case QTR_OPT_DECIMAL:
                snprintf(why, whylen, "%s is %s", v->str, range);
                break;
            case QTR_OPT_DOUBLE:
                snprintf(why, whylen, "%g is %s", n.d, range);
                break;
            case QTR_OPT_BOOL:
                break;
            }
            return false;
        }
    }
    if (d->allowed) {
        const char *bad = NULL;
        if ((d->type == QTR_OPT_STRING || d->type == QTR_OPT_PATH) && !is_allowed(d->allowed, v->str)) bad = v->str;
        for (size_t i = 0; d->type == QTR_OPT_STRING_LIST && !bad && i < v->n_list; i++)
            if (!is_allowed(d->allowed, v->list[i])) bad = v->list[i];
        if (bad) {
            char list[256];
            list_allowed(d->allowed, list, sizeof list);
            char sv[QH_OPTION_SHOWN_MAX];
            snprintf(why, whylen, "'%s' is not %s", qh_option_shown(bad, sv), list);
            return false;
        }
    }
    return true;
}

/* The default text as a value of the option's type (a list default is
 * comma-separated, "" for none). */
static bool default_value(const qtr_option *d, qh_optval *v, char **items, size_t max_items, char *buf, size_t cap)
{
    memset(v, 0, sizeof *v);
    snprintf(buf, cap, "%s", d->default_value);
    switch (d->type) {
    case QTR_OPT_STRING:
    case QTR_OPT_PATH:
    case QTR_OPT_DECIMAL:
        v->type = QH_OPTV_STRING;
        v->str = buf;
        return true;
    case QTR_OPT_INT:
        v->type = QH_OPTV_INT;
        v->str = buf;
        return parse_int(buf, &v->i);
    case QTR_OPT_DOUBLE: {
        num n;
        v->type = QH_OPTV_NUMBER;
        v->str = buf;
        if (!parse_bound(B_DOUBLE, buf, &n)) return false;
        v->num = n.d;
        return true;
    }
    case QTR_OPT_BOOL:
        v->type = QH_OPTV_BOOL;
        return strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0;
    case QTR_OPT_STRING_LIST:
        v->type = QH_OPTV_LIST;
        v->list = items;
        for (char *s = buf, *save = NULL, *t; (t = strtok_r(s, ",", &save)) && v->n_list < max_items; s = NULL)
            items[v->n_list++] = t;
        return true;
    }
    return false;
}

bool qh_option_decl_valid(const qtr_option *d, char *why, size_t whylen)
{
    if (d->type < QTR_OPT_STRING || d->type > QTR_OPT_PATH) {
        snprintf(why, whylen, "unknown type %d", (int)d->type);
        return false;
    }
    bound_kind k = bound_kind_of(d->type);
    num lo = { 0, 0 }, hi = { 0, 0 };
    const char *expect = k == B_INT ? "an integer" : k == B_DEC ? "a decimal" : "a number";
    if ((d->min || d->max) && k == B_NONE) {
        snprintf(why, whylen, "min/max on a %s option", "true-or-false");
        return false;
    }
    if (d->min && !parse_bound(k, d->min, &lo)) {
        snprintf(why, whylen, "min '%s' is not %s", d->min, expect);
        return false;
    }
    if (d->max && !parse_bound(k, d->max, &hi)) {
        snprintf(why, whylen, "max '%s' is not %s", d->max, expect);
        return false;
    }
    if ((d->flags & QTR_OPT_MIN_EXCLUSIVE) && !d->min) {
        snprintf(why, whylen, "an exclusive min without a min");
        return false;
    }
    if (d->min && d->max && compare(k, lo, hi) > 0) {
        snprintf(why, whylen, "min %s is above max %s", d->min, d->max);
        return false;
    }
    if (d->allowed && d->type != QTR_OPT_STRING && d->type != QTR_OPT_PATH && d->type != QTR_OPT_STRING_LIST) {
        snprintf(why, whylen, "allowed values on a non-string option");
        return false;
    }
    if (d->allowed && !d->allowed[0]) {
        snprintf(why, whylen, "an empty list of allowed values");
        return false;
    }
    if (d->default_value) {
        char buf[512], *items[64], vwhy[256];
        qh_optval v;
        if (!default_value(d, &v, items, 64, buf, sizeof buf)) {
            snprintf(why, whylen, "default '%s' is not %s", d->default_value, qh_option_type_name(d->type));
            return false;
        }
        /* "" for a string or a list means "none": no bounds or allowed values to meet */
        bool empty = (d->type == QTR_OPT_STRING || d->type == QTR_OPT_PATH || d->type == QTR_OPT_STRING_LIST) &&
                     !d->default_value[0];
        if (!empty && !qh_option_value_valid(d, &v, vwhy, sizeof vwhy)) {
            snprintf(why, whylen, "default %s", vwhy);
            return false;
        }
        /* a relative default would name a file in whatever folder the
         * process runs from: the one thing QTR_OPT_PATH is there to end */
        if (d->type == QTR_OPT_PATH && !empty && d->default_value[0] != '/') {
            snprintf(why, whylen, "default '%s' of a path must be \"\" or absolute", d->default_value);
            return false;
        }
    }
    return true;
}

int qh_option_path_resolve(const char *dir, const char *value, char *out, size_t outlen)
{
    int n;
    if (!value[0] || value[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0) n = snprintf(out, outlen, "%s", value);
    else n = snprintf(out, outlen, "%s/%s", dir, value);
    return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

int qh_option_paths_resolve(qh_plugin_conf *pc, const char *dir, char *err, size_t errlen)
{
    for (size_t i = 0; i < pc->n_opts; i++) {
        qh_optval *v = &pc->opts[i];
        if (v->type != QH_OPTV_STRING || !v->str || v->path) continue;
        size_t cap = strlen(v->str) + (dir ? strlen(dir) : 0) + 2;
        v->path = malloc(cap);
        if (!v->path || qh_option_path_resolve(dir, v->str, v->path, cap) != 0) {
            free(v->path);
            v->path = NULL;
            snprintf(err, errlen, "plugin %s: option %s: out of memory", pc->name, v->name);
            return -1;
        }
    }
    return 0;
}
