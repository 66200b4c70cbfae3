/* policy_validate.c — the table a policy file returns, read through its
 * declared tables (policy_tables.c) by the server config's reader
 * (core/config_table.c) and turned into qh_policy_rules. Money and
 * percentages are decimal strings (or integers) parsed exactly; a float is
 * refused. Unknown keys are refused too: a misspelt limit must not be
 * silently ignored. */
#include "policy/policy_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/policy_tables.h"

typedef struct vctx {
    lua_State *L;
    const char *path;
    const char *buf;      /* the file's text, for the line of a field */
    size_t len;
} vctx;

static void fail(const vctx *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void fail(const vctx *v, const char *field, const char *fmt, ...)
{
    char msg[QTR_TEXT_MAX * 2];
    int line = field ? qh_policy_key_line(v->buf, v->len, field) : 0;
    int n = line > 0 ? snprintf(msg, sizeof msg, "%s:%d: %s: ", v->path, line, field)
            : field  ? snprintf(msg, sizeof msg, "%s: %s: ", v->path, field)
                     : snprintf(msg, sizeof msg, "%s: ", v->path);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    lua_pushstring(v->L, msg);
    lua_error(v->L);
    __builtin_unreachable();   /* lua_error longjmps */
}

/* Push t[key] without metamethods; returns its type. */
static int raw_field(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

/* limits.symbols as read into the rules' own array, each symbol once; NULL,
 * or why not with the item's name in *where. */
static const char *take_symbols(const qh_policy_read *rd, qh_policy_rules *out, char *where, size_t wlen,
                                char *why, size_t whylen)
{
    out->n_symbols = 0;
    for (size_t i = 0; i < rd->n_symbols; i++) {
        for (int j = 0; j < out->n_symbols; j++) {
            if (strcmp(out->symbols[j], rd->symbols[i]) != 0) continue;
            snprintf(where, wlen, "limits.symbols[%zu]", i + 1);
            snprintf(why, whylen, "\"%s\" is listed twice", rd->symbols[i]);
            return why;
        }
        /* the table's max (64) and text rule (2 to 20 bytes) keep both in bounds */
        memcpy(out->symbols[out->n_symbols++], rd->symbols[i], strlen(rd->symbols[i]) + 1);
    }
    return NULL;
}

/* The table at idx through the declared tables into out (a Lua error,
 * naming the file and the field, if it does not fit them). */
static void read_tables(const vctx *v, int idx, qh_policy_rules *out)
{
    lua_State *L = v->L;
    qh_policy_read rd;
    memset(&rd, 0, sizeof rd);
    qh_conf_error e;
    lua_pushvalue(L, idx);
    int rc = qh_conf_read(L, &qh_policy_section, &rd, &e);
    lua_pop(L, 1);
    if (rc == 0 && take_symbols(&rd, &rd.rules, e.where, sizeof e.where, e.why, sizeof e.why)) rc = -1;
    qh_conf_free_lists(&qh_policy_section, &rd);   /* before a failure's longjmp */
    if (rc != 0) fail(v, e.where, "%s", e.why);
    *out = rd.rules;
}

void qh_policy_validate(lua_State *L, int idx, const char *path, const char *buf, size_t len, qh_policy_rules *out)
{
    vctx v = { L, path, buf, len };
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(&v, NULL, "the file must end with `return { name = ..., limits = ..., ess = ..., judge = ... }` "
                       "(it returned %s)", luaL_typename(L, idx));
    read_tables(&v, idx, out);
    if (out->max_position_notional > out->max_total_exposure)
        fail(&v, "limits.max_position_notional", "must not exceed limits.max_total_exposure");
    int type = raw_field(L, idx, "judge");
    if (type != LUA_TFUNCTION)
        fail(&v, "judge", type == LUA_TNIL ? "missing (function(order, ctx) ... end)" : "must be a function, got %s",
             luaL_typename(L, -1));
    lua_pop(L, 1);
}
