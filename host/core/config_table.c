/* config_table.c — see config_table.h. */
#include "core/config_table.h"

#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/option_check.h"

#define LIST_MAX 4096

static int failf(qh_conf_error *e, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(qh_conf_error *e, const char *section, const char *key, const char *fmt, ...)
{
    if (section && *section) snprintf(e->where, sizeof e->where, "%s.%s", section, key);
    else snprintf(e->where, sizeof e->where, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
    return -1;
}

static const qh_conf_field *find_field(const qh_conf_section *s, const char *key)
{
    for (const qh_conf_field *f = s->fields; f->opt.name; f++)
        if (strcmp(f->opt.name, key) == 0) return f;
    return NULL;
}

static bool is_also(const qh_conf_section *s, const char *key)
{
    for (const char *const *a = s->also; a && *a; a++)
        if (strcmp(*a, key) == 0) return true;
    return false;
}

static char *dup_or_die(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();           /* the config is read once at start: out of memory is fatal */
    return d;
}

static void free_items(char **items, size_t n)
{
    if (!items) return;
    for (size_t i = 0; i < n; i++) free(items[i]);
    free(items);
}

/* The Lua value on top of the stack as an option value. Strings and list
 * items stay Lua's until stored (the value is on the stack meanwhile), but
 * a list's items are copied. -1 with e filled for what no option can be. */
static int to_optval(lua_State *L, const qh_conf_section *s, const char *key, qh_optval *v, qh_conf_error *e)
{
    const char *section = s ? s->name : NULL;
    memset(v, 0, sizeof *v);
    v->name = (char *)key;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, -1, &len);
        if (strlen(str) != len) return failf(e, section, key, "string contains NUL");
        v->type = QH_OPTV_STRING;
        v->str = (char *)str;
        return 0;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1)) {
            v->type = QH_OPTV_INT;
            v->i = lua_tointeger(L, -1);
            v->str = (char *)lua_pushfstring(L, "%I", (lua_Integer)v->i);   /* kept on the stack */
            lua_insert(L, -2);
        } else {
            v->type = QH_OPTV_NUMBER;
            v->num = lua_tonumber(L, -1);
        }
        return 0;
    case LUA_TBOOLEAN:
        v->type = QH_OPTV_BOOL;
        v->b = lua_toboolean(L, -1);
        return 0;
    case LUA_TTABLE: {
        lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
        if (len > LIST_MAX) return failf(e, section, key, "list too long (at most %d items)", LIST_MAX);
        char stray[64];
        if (qh_conf_list_stray_key(L, len, stray, sizeof stray))
            return failf(e, section, key, "expected a list (array) of strings");
        char **items = calloc((size_t)len + 1, sizeof *items);
        if (!items) abort();
        for (lua_Integer i = 1; i <= len; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) {
                char item[96];
                snprintf(item, sizeof item, "%s[%lld]", key, (long long)i);
                failf(e, section, item, "expected a string, got %s", luaL_typename(L, -1));
                lua_pop(L, 1);
                free_items(items, (size_t)i - 1);
                return -1;
            }
            items[i - 1] = dup_or_die(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        v->type = QH_OPTV_LIST;
        v->list = items;
        v->n_list = (size_t)len;
        return 0;
    }
    default: {
        const qh_conf_field *f = s ? find_field(s, key) : NULL;
        if (!f) return failf(e, NULL, key, "unsupported value of type %s", luaL_typename(L, -1));
        return failf(e, section, key, "expected %s, got %s", qh_option_type_name(f->opt.type), luaL_typename(L, -1));
    }
    }
}

static int allowed_index(const qtr_option *o, const char *text)
{
    for (int i = 0; o->allowed && o->allowed[i]; i++)
        if (strcmp(o->allowed[i], text) == 0) return i;
    return -1;
}

/* Store a checked value; the list (if any) is handed over. */
static int store(const qh_conf_section *s, const qh_conf_field *f, qh_optval *v, void *base, qh_conf_error *e)
{
    char *at = (char *)base + f->offset;
    int64_t scale = f->scale > 1 ? f->scale : 1;
    switch (f->store) {
    case QH_CONF_STR: {
        size_t len = strlen(v->str);
        if (len >= f->size) return failf(e, s->name, f->opt.name, "string too long (max %zu bytes)", f->size - 1);
        memcpy(at, v->str, len + 1);
        return 0;
    }
    case QH_CONF_I64: {
        int64_t x = v->i * scale;
        memcpy(at, &x, sizeof x);
        return 0;
    }
    case QH_CONF_U64: {
        uint64_t x = (uint64_t)v->i;
        memcpy(at, &x, sizeof x);
        return 0;
    }
    case QH_CONF_SIZE: {
        size_t x = (size_t)(v->i * scale);
        memcpy(at, &x, sizeof x);
        return 0;
    }
    case QH_CONF_DEC: {
        qtr_dec x;
        if (v->type == QH_OPTV_INT) x = QTR_DEC_INT(v->i);
        else if (qtr_dec_parse(v->str, strlen(v->str), &x) != QTR_DEC_OK) return failf(e, s->name, f->opt.name, "not a decimal");
        memcpy(at, &x, sizeof x);
        return 0;
    }
    case QH_CONF_LIST: {
        char **old;
        size_t n_old;
        memcpy(&old, at, sizeof old);
        memcpy(&n_old, (char *)base + f->count_offset, sizeof n_old);
        free_items(old, n_old);
        memcpy(at, &v->list, sizeof v->list);
        memcpy((char *)base + f->count_offset, &v->n_list, sizeof v->n_list);
        v->list = NULL;
        v->n_list = 0;
        return 0;
    }
    case QH_CONF_I32: {
        int64_t x = v->i * scale;
        if (x < INT32_MIN || x > INT32_MAX) return failf(e, s->name, f->opt.name, "%lld is out of range", (long long)x);
        int32_t y = (int32_t)x;
        memcpy(at, &y, sizeof y);
        return 0;
    }
    case QH_CONF_BOOL: {
        bool b = v->b;
        memcpy(at, &b, sizeof b);
        return 0;
    }
    case QH_CONF_BITS: {
        uint64_t bits = 0;
        for (size_t i = 0; i < v->n_list; i++) {
            int bit = f->choice_base + allowed_index(&f->opt, v->list[i]);
            if (bit < 0 || bit > 63) return failf(e, s->name, f->opt.name, "no bit for '%s' in the table", v->list[i]);
            bits |= UINT64_C(1) << bit;
        }
        memcpy(at, &bits, sizeof bits);
        return 0;
    }
    case QH_CONF_DOUBLE: {
        double x = v->type == QH_OPTV_INT ? (double)v->i : v->num;
        /* NaN passes every bound (no comparison with it is true) */
        if (isnan(x)) return failf(e, s->name, f->opt.name, "not a number (NaN)");
        memcpy(at, &x, sizeof x);
        return 0;
    }
    case QH_CONF_CHECK:
        return 0;
    case QH_CONF_TABLE:
        break;          /* read by qh_conf_read, never stored as a value */
    case QH_CONF_CHOICE: {
        int x = f->choice_base + allowed_index(&f->opt, v->str);
        if (f->size == sizeof(bool)) {
            bool b = x != 0;
            memcpy(at, &b, sizeof b);
        } else {
            memcpy(at, &x, sizeof x);
        }
        return 0;
    }
    }
    return failf(e, s->name, f->opt.name, "no storage declared");
}

/* The index of a list's first item that is not among the allowed values
 * (the error then names that item), or n_list. */
static size_t first_not_allowed(const qtr_option *o, const qh_optval *v)
{
    if (v->type != QH_OPTV_LIST || !o->allowed) return v->n_list;
    size_t i = 0;
    while (i < v->n_list && allowed_index(o, v->list[i]) >= 0) i++;
    return i;
}

/* Check a value against its field and store it. */
static int check_and_store(const qh_conf_section *s, const qh_conf_field *f, qh_optval *v, void *base,
                           qh_conf_error *e)
{
    char why[320];
    int rc = 0;
    if (!qh_option_value_valid(&f->opt, v, why, sizeof why)) {
        size_t bad = first_not_allowed(&f->opt, v);
        char item[96];
        if (bad < v->n_list) snprintf(item, sizeof item, "%s[%zu]", f->opt.name, bad + 1);
        rc = failf(e, s->name, bad < v->n_list ? item : f->opt.name, "%s", why);
    } else if (f->text_rule && v->type == QH_OPTV_STRING) {
        const char *bad = f->text_rule(v->str);
        if (bad) rc = failf(e, s->name, f->opt.name, "%s", bad);
    } else if (f->text_rule && v->type == QH_OPTV_LIST) {
        for (size_t i = 0; i < v->n_list && rc == 0; i++) {
            const char *bad = f->text_rule(v->list[i]);
            if (!bad) continue;
            char item[96];
            snprintf(item, sizeof item, "%s[%zu]", f->opt.name, i + 1);
            char shown[QH_OPTION_SHOWN_MAX];
            rc = failf(e, s->name, item, "'%s' %s", qh_option_shown(v->list[i], shown), bad);
        }
    }
    if (rc == 0) rc = store(s, f, v, base, e);
    free_items(v->list, v->n_list);
    return rc;
}

int qh_conf_read(lua_State *L, const qh_conf_section *s, void *base, qh_conf_error *e)
{
    const char *here = s->name && *s->name ? s->name : "(top level)";
    if (lua_type(L, -1) != LUA_TTABLE) {
        snprintf(e->where, sizeof e->where, "%s", here);
        snprintf(e->why, sizeof e->why, "expected a table, got %s", luaL_typename(L, -1));
        return -1;
    }
    /* every key first: an unknown one is refused before anything is stored
     * (a shared table's owner does this for its keys and ours) */
    if (!s->shares_table) lua_pushnil(L);
    while (!s->shares_table && lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            snprintf(e->where, sizeof e->where, "%s", here);
            snprintf(e->why, sizeof e->why, "unexpected non-name key");
            return -1;
        }
        const char *k = lua_tostring(L, -1);
        if (!find_field(s, k) && !is_also(s, k)) {
            failf(e, s->name, k, "unknown setting");
            lua_pop(L, 1);
            return -1;
        }
    }
    for (const qh_conf_field *f = s->fields; f->opt.name; f++) {
        int top = lua_gettop(L);
        lua_pushstring(L, f->opt.name);
        if (lua_rawget(L, -2) == LUA_TNIL) {
            lua_settop(L, top);
            if (f->opt.flags & QTR_OPT_REQUIRED)
                return failf(e, s->name, f->opt.name, "missing (%s)", f->opt.help ? f->opt.help : "required");
            continue;
        }
        int rc;
        if (f->store == QH_CONF_TABLE) {
            char name[sizeof e->where];
            if (*s->name) snprintf(name, sizeof name, "%s.%s", s->name, f->opt.name);
            else snprintf(name, sizeof name, "%s", f->opt.name);
            rc = qh_conf_read_named(L, f->section, name, base, e);
        } else {
            qh_optval v;
            rc = to_optval(L, s, f->opt.name, &v, e);
            if (rc == 0) rc = check_and_store(s, f, &v, base, e);
        }
        lua_settop(L, top);
        if (rc != 0) return -1;
    }
    return 0;
}

bool qh_conf_list_stray_key(lua_State *L, lua_Integer len, char *key, size_t keylen)
{
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= len) continue;
        if (lua_type(L, -1) == LUA_TSTRING) snprintf(key, keylen, "'%s'", lua_tostring(L, -1));
        else if (lua_type(L, -1) == LUA_TNUMBER) snprintf(key, keylen, "%s", lua_tostring(L, -1));
        else snprintf(key, keylen, "(a %s)", luaL_typename(L, -1));
        lua_pop(L, 1);
        return true;
    }
    return false;
}

int qh_conf_value(lua_State *L, const char *where, qh_optval *v, qh_conf_error *e)
{
    int top = lua_gettop(L);
    int rc = to_optval(L, NULL, where, v, e);
    /* the text stays Lua's until copied here; a list is copied already */
    if (rc == 0 && v->str) v->str = dup_or_die(v->str);
    lua_settop(L, top);
    return rc;
}

int qh_conf_read_named(lua_State *L, const qh_conf_section *s, const char *name, void *base, qh_conf_error *e)
{
    qh_conf_section named = *s;
    named.name = name;
    return qh_conf_read(L, &named, base, e);
}

/* A default's text as a value of its field's type. */
static int default_optval(const qh_conf_field *f, qh_optval *v, char *buf, size_t cap)
{
    memset(v, 0, sizeof *v);
    snprintf(buf, cap, "%s", f->opt.default_value);
    v->str = buf;
    switch (f->opt.type) {
    case QTR_OPT_INT: {
        char *end;
        v->type = QH_OPTV_INT;
        v->i = strtoll(buf, &end, 10);
        return *end || !*buf ? -1 : 0;
    }
    case QTR_OPT_BOOL:
        v->type = QH_OPTV_BOOL;
        v->b = strcmp(buf, "true") == 0;
        return 0;
    case QTR_OPT_STRING_LIST:
        return -1;                  /* lists have no default here */
    case QTR_OPT_DOUBLE: {
        char *end;
        v->type = QH_OPTV_NUMBER;
        v->num = strtod(buf, &end);
        return *end || !*buf ? -1 : 0;
    }
    default:
        v->type = QH_OPTV_STRING;
        return 0;
    }
}

int qh_conf_defaults(const qh_conf_section *s, void *base, qh_conf_error *e)
{
    for (const qh_conf_field *f = s->fields; f->opt.name; f++) {
        if (f->store == QH_CONF_TABLE && qh_conf_defaults(f->section, base, e) != 0) return -1;
        if (!f->opt.default_value) continue;
        char buf[512];
        qh_optval v;
        if (default_optval(f, &v, buf, sizeof buf) != 0)
            return failf(e, s->name, f->opt.name, "bad default '%s' in the table", f->opt.default_value);
        if (check_and_store(s, f, &v, base, e) != 0) return -1;
    }
    return 0;
}

void qh_conf_free_lists(const qh_conf_section *s, void *base)
{
    for (const qh_conf_field *f = s->fields; f->opt.name; f++) {
        if (f->store == QH_CONF_TABLE) qh_conf_free_lists(f->section, base);
        if (f->store != QH_CONF_LIST) continue;
        char **items;
        size_t n;
        memcpy(&items, (char *)base + f->offset, sizeof items);
        memcpy(&n, (char *)base + f->count_offset, sizeof n);
        free_items(items, n);
        items = NULL;
        n = 0;
        memcpy((char *)base + f->offset, &items, sizeof items);
        memcpy((char *)base + f->count_offset, &n, sizeof n);
    }
}
