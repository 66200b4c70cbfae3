/* policy_validate.c — the table a policy file returns, checked field by
 * field and turned into qh_policy_rules. Money and percentages are
 * decimal strings (or integers) parsed exactly; a float is refused. Unknown
 * keys are refused too: a misspelt limit must not be silently ignored. */
#include "policy/policy_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define MAX_COUNT_LIMIT 1000
#define MAX_LEVERAGE 125
#define MAX_COOLDOWN_MINUTES 10080   /* one week */

typedef struct vctx {
    lua_State *L;
    const char *path;
} vctx;

static void fail(const vctx *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void fail(const vctx *v, const char *field, const char *fmt, ...)
{
    char msg[QTR_TEXT_MAX * 2];
    int n = field ? snprintf(msg, sizeof msg, "%s: %s: ", v->path, field) : snprintf(msg, sizeof msg, "%s: ", v->path);
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

static void check_known_keys(const vctx *v, int t, const char *section, const char *const *known)
{
    lua_State *L = v->L;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        char where[64];
        snprintf(where, sizeof where, "%s", section ? section : "policy");
        if (lua_type(L, -1) != LUA_TSTRING) fail(v, where, "keys must be names, found a %s key", luaL_typename(L, -1));
        const char *key = lua_tostring(L, -1);
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, key) == 0;
        if (!ok) fail(v, where, "unknown field '%s' (misspelt?)", key);
    }
}

static void field_name(char *buf, size_t cap, const char *section, const char *key)
{
    snprintf(buf, cap, "%s.%s", section, key);
}

/* A decimal (string or integer). Returns false if absent and !required. */
static bool read_dec(const vctx *v, int t, const char *section, const char *key, bool required, qtr_dec *out)
{
    lua_State *L = v->L;
    char f[64];
    field_name(f, sizeof f, section, key);
    int type = raw_field(L, t, key);
    bool present = type != LUA_TNIL;
    if (!present) {
        if (required) fail(v, f, "missing (a decimal string such as \"100\")");
    } else if (type == LUA_TNUMBER && lua_isinteger(L, -1)) {
        if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)lua_tointeger(L, -1), out)) fail(v, f, "number out of range");
    } else if (type == LUA_TNUMBER) {
        fail(v, f, "must be a decimal string such as \"0.5\" (a float is not exact)");
    } else if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        qtr_dec_status st = qtr_dec_parse(s, len, out);
        if (st != QTR_DEC_OK) fail(v, f, "\"%s\": %s", s, qtr_dec_status_str(st));
    } else {
        fail(v, f, "must be a decimal string, got %s", luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return present;
}

static void read_dec_range(const vctx *v, int t, const char *section, const char *key, bool required,
                           bool zero_ok, qtr_dec max, qtr_dec *out)
{
    *out = 0;
    if (!read_dec(v, t, section, key, required, out)) return;
    char f[64], maxs[QTR_DEC_STRLEN];
    field_name(f, sizeof f, section, key);
    if (*out < 0 || (*out == 0 && !zero_ok) || (max > 0 && *out > max)) {
        if (max > 0) fail(v, f, "must be > 0 and <= %s", qtr_dec_format(max, maxs));
        fail(v, f, zero_ok ? "must be >= 0 (0 turns the check off)" : "must be > 0");
    }
}

static int64_t read_int(const vctx *v, int t, const char *section, const char *key, int64_t lo, int64_t hi)
{
    lua_State *L = v->L;
    char f[64];
    field_name(f, sizeof f, section, key);
    int type = raw_field(L, t, key);
    if (type == LUA_TNIL) fail(v, f, "missing (an integer from %lld to %lld)", (long long)lo, (long long)hi);
    if (type != LUA_TNUMBER || !lua_isinteger(L, -1))
        fail(v, f, "must be an integer from %lld to %lld, got %s", (long long)lo, (long long)hi,
             type == LUA_TNUMBER ? "a float" : luaL_typename(L, -1));
    int64_t x = (int64_t)lua_tointeger(L, -1);
    if (x < lo || x > hi) fail(v, f, "must be an integer from %lld to %lld, got %lld", (long long)lo, (long long)hi,
                               (long long)x);
    lua_pop(L, 1);
    return x;
}

static bool read_bool(const vctx *v, int t, const char *section, const char *key)
{
    char f[64];
    field_name(f, sizeof f, section, key);
    int type = raw_field(v->L, t, key);
    if (type != LUA_TBOOLEAN) fail(v, f, type == LUA_TNIL ? "missing (true or false)" : "must be true or false");
    bool b = lua_toboolean(v->L, -1);
    lua_pop(v->L, 1);
    return b;
}

static bool valid_symbol(const char *s, size_t len)
{
    if (len < 2 || len > 20) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

static void read_symbols(const vctx *v, int t, qh_policy_rules *out)
{
    lua_State *L = v->L;
    out->n_symbols = 0;
    int type = raw_field(L, t, "symbols");
    if (type == LUA_TNIL) { lua_pop(L, 1); return; }
    if (type != LUA_TTABLE) fail(v, "limits.symbols", "must be a list of symbols such as {\"BTCUSDT\"}");
    int list = lua_gettop(L);
    lua_Unsigned n = lua_rawlen(L, list);
    lua_Unsigned keys = 0;
    lua_pushnil(L);
    while (lua_next(L, list)) { keys++; lua_pop(L, 1); }
    if (keys != n) fail(v, "limits.symbols", "must be a plain list such as {\"BTCUSDT\", \"ETHUSDT\"}");
    if (n > QH_POLICY_MAX_SYMBOLS) fail(v, "limits.symbols", "at most %d symbols, got %llu", QH_POLICY_MAX_SYMBOLS,
                                         (unsigned long long)n);
    for (lua_Unsigned i = 1; i <= n; i++) {
        char f[48];
        snprintf(f, sizeof f, "limits.symbols[%llu]", (unsigned long long)i);
        if (lua_rawgeti(L, list, (lua_Integer)i) != LUA_TSTRING) fail(v, f, "must be a string");
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (!valid_symbol(s, len)) fail(v, f, "\"%s\": a symbol is 2 to 20 of A-Z and 0-9, such as \"BTCUSDT\"", s);
        for (int j = 0; j < out->n_symbols; j++)
            if (strcmp(out->symbols[j], s) == 0) fail(v, f, "\"%s\" is listed twice", s);
        memcpy(out->symbols[out->n_symbols], s, len + 1);
        out->n_symbols++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void read_name(const vctx *v, int t, qh_policy_rules *out)
{
    lua_State *L = v->L;
    if (raw_field(L, t, "name") != LUA_TSTRING) fail(v, "name", "missing or not a string (e.g. name = \"phase1\")");
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len == 0 || len >= QTR_NAME_MAX) fail(v, "name", "must be 1 to %d characters", QTR_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            fail(v, "name", "\"%s\": use letters, digits, '_', '-' and '.'", s);
    }
    memcpy(out->name, s, len + 1);
    lua_pop(L, 1);
}

static int section_table(const vctx *v, int t, const char *key)
{
    int type = raw_field(v->L, t, key);
    if (type != LUA_TTABLE) fail(v, key, type == LUA_TNIL ? "missing (a table)" : "must be a table, got %s",
                                 luaL_typename(v->L, -1));
    return lua_gettop(v->L);
}

static void read_limits(const vctx *v, int lim, qh_policy_rules *out)
{
    lua_State *L = v->L;
    static const char *const known[] = { "symbols", "max_positions", "max_symbols", "min_confidence",
                                         "max_position_notional", "max_order_notional", "max_total_exposure",
                                         "max_leverage", "max_abs_funding_rate", "max_spread_bps",
                                         "min_depth_notional", NULL };
    check_known_keys(v, lim, "limits", known);
    read_symbols(v, lim, out);
    out->max_positions = (int32_t)read_int(v, lim, "limits", "max_positions", 1, MAX_COUNT_LIMIT);
    out->max_symbols = (int32_t)read_int(v, lim, "limits", "max_symbols", 1, MAX_COUNT_LIMIT);
    int type = raw_field(L, lim, "min_confidence");
    if (type != LUA_TNUMBER) fail(v, "limits.min_confidence", type == LUA_TNIL ? "missing (a number from 0 to 1)"
                                                                                : "must be a number from 0 to 1");
    double mc = lua_tonumber(L, -1);   /* a score, not money */
    if (isnan(mc) || mc < 0 || mc > 1) fail(v, "limits.min_confidence", "must be a number from 0 to 1");
    out->min_confidence = mc;
    lua_pop(L, 1);
    read_dec_range(v, lim, "limits", "max_position_notional", true, false, 0, &out->max_position_notional);
    read_dec_range(v, lim, "limits", "max_order_notional", true, false, 0, &out->max_order_notional);
    read_dec_range(v, lim, "limits", "max_total_exposure", true, false, 0, &out->max_total_exposure);
    out->max_leverage = (int32_t)read_int(v, lim, "limits", "max_leverage", 1, MAX_LEVERAGE);
    read_dec_range(v, lim, "limits", "max_abs_funding_rate", false, true, 0, &out->max_abs_funding_rate);
    read_dec_range(v, lim, "limits", "max_spread_bps", false, true, 0, &out->max_spread_bps);
    read_dec_range(v, lim, "limits", "min_depth_notional", false, true, 0, &out->min_depth_notional);
    if (out->max_position_notional > out->max_total_exposure)
        fail(v, "limits.max_position_notional", "must not exceed limits.max_total_exposure");
}

static void read_ess(const vctx *v, int ess, qh_policy_rules *out)
{
    static const char *const known[] = { "max_drawdown_pct", "daily_loss_pct", "max_consecutive_errors",
                                         "cooldown_minutes", "close_positions", "alert_daily_drawdown_pct", NULL };
    check_known_keys(v, ess, "ess", known);
    const qtr_dec hundred = QTR_DEC_INT(100);
    read_dec_range(v, ess, "ess", "max_drawdown_pct", true, false, hundred, &out->ess_max_drawdown_pct);
    read_dec_range(v, ess, "ess", "daily_loss_pct", true, false, hundred, &out->ess_daily_loss_pct);
    out->ess_max_consecutive_errors = (int32_t)read_int(v, ess, "ess", "max_consecutive_errors", 1, MAX_COUNT_LIMIT);
    out->ess_cooldown_ms = read_int(v, ess, "ess", "cooldown_minutes", 1, MAX_COOLDOWN_MINUTES) * 60000;
    out->ess_close_positions = read_bool(v, ess, "ess", "close_positions");
    read_dec_range(v, ess, "ess", "alert_daily_drawdown_pct", true, false, hundred, &out->alert_daily_drawdown_pct);
}

void qh_policy_validate(lua_State *L, int idx, const char *path, qh_policy_rules *out)
{
    vctx v = { L, path };
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(&v, NULL, "the file must end with `return { name = ..., limits = ..., ess = ..., judge = ... }` "
                       "(it returned %s)", luaL_typename(L, idx));
    static const char *const known[] = { "name", "description", "limits", "ess", "judge", "money", NULL };
    check_known_keys(&v, idx, NULL, known);
    memset(out, 0, sizeof *out);
    read_name(&v, idx, out);
    int type = raw_field(L, idx, "description");
    if (type != LUA_TNIL && type != LUA_TSTRING) fail(&v, "description", "must be a string");
    lua_pop(L, 1);
    read_limits(&v, section_table(&v, idx, "limits"), out);
    lua_pop(L, 1);
    read_ess(&v, section_table(&v, idx, "ess"), out);
    lua_pop(L, 1);
    /* how judge() gets money: "text" (decimal strings, the default) or "dec" */
    type = raw_field(L, idx, "money");
    if (type != LUA_TNIL) {
        const char *m = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!m || (strcmp(m, "text") != 0 && strcmp(m, "dec") != 0))
            fail(&v, "money", "must be \"text\" (decimal strings, the default) or \"dec\" (dec values)");
        out->money_dec = strcmp(m, "dec") == 0;
    }
    lua_pop(L, 1);
    type = raw_field(L, idx, "judge");
    if (type != LUA_TFUNCTION)
        fail(&v, "judge", type == LUA_TNIL ? "missing (function(order, ctx) ... end)" : "must be a function, got %s",
             luaL_typename(L, -1));
    lua_pop(L, 1);
}
