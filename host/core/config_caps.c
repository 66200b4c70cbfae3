/* config_caps.c — the `caps` table of the server config (see config_caps.h).
 * Kept apart from config.c's walk so the caps' rules live in one place; the
 * config walk only hands the table over. */
#include "core/config_caps.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define CAPS_MAX_LEVERAGE 125   /* the policy's own ceiling (policy_validate.c) */

static void caps_error(qh_caps_error *e, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void caps_error(qh_caps_error *e, const char *key, const char *fmt, ...)
{
    snprintf(e->where, sizeof e->where, "caps%s%s", key ? "." : "", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
}

/* A positive decimal: a string such as "5000" or an integer; a float is
 * refused (it has already lost exactness). */
static int read_positive_dec(lua_State *L, const char *key, qtr_dec *out, qh_caps_error *e)
{
    int type = lua_type(L, -1);
    if (type == LUA_TNUMBER && lua_isinteger(L, -1)) {
        if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)lua_tointeger(L, -1), out)) {
            caps_error(e, key, "number out of range");
            return -1;
        }
    } else if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        qtr_dec_status st = qtr_dec_parse(s, len, out);
        if (st != QTR_DEC_OK) {
            caps_error(e, key, "'%s': %s", s, qtr_dec_status_str(st));
            return -1;
        }
    } else {
        caps_error(e, key, "expected a decimal string such as \"5000\", got %s",
                 type == LUA_TNUMBER ? "a float" : lua_typename(L, type));
        return -1;
    }
    if (*out <= 0) {
        caps_error(e, key, "must be > 0 (leave it out for no cap)");
        return -1;
    }
    return 0;
}

int qh_config_caps_parse(lua_State *L, int idx, qh_policy_caps *out, qh_caps_error *e)
{
    static const char *const keys[] = { "max_order_notional", "max_position_notional", "max_leverage",
                                        "ess_max_drawdown_pct", NULL };
    memset(out, 0, sizeof *out);
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) {
        caps_error(e, NULL, "expected a table, got %s", luaL_typename(L, idx));
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool known = false;
        for (const char *const *a = keys; k && *a && !known; a++) known = strcmp(*a, k) == 0;
        if (!known) {
            caps_error(e, k ? k : "(a non-name key)", "unknown setting");
            lua_pop(L, 1);
            return -1;
        }
    }
    int rc = 0;
    lua_pushliteral(L, "max_order_notional");
    if (lua_rawget(L, idx) != LUA_TNIL) rc = read_positive_dec(L, "max_order_notional", &out->max_order_notional, e);
    lua_pop(L, 1);
    lua_pushliteral(L, "max_position_notional");
    if (!rc && lua_rawget(L, idx) != LUA_TNIL)
        rc = read_positive_dec(L, "max_position_notional", &out->max_position_notional, e);
    lua_pop(L, 1);
    lua_pushliteral(L, "ess_max_drawdown_pct");
    if (!rc && lua_rawget(L, idx) != LUA_TNIL) {
        rc = read_positive_dec(L, "ess_max_drawdown_pct", &out->ess_max_drawdown_pct, e);
        if (!rc && out->ess_max_drawdown_pct > QTR_DEC_INT(100)) {
            caps_error(e, "ess_max_drawdown_pct", "must be <= 100");
            rc = -1;
        }
    }
    lua_pop(L, 1);
    lua_pushliteral(L, "max_leverage");
    if (!rc && lua_rawget(L, idx) != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > CAPS_MAX_LEVERAGE) {
            caps_error(e, "max_leverage", "expected an integer from 1 to %d", CAPS_MAX_LEVERAGE);
            rc = -1;
        } else {
            out->max_leverage = (int32_t)lua_tointeger(L, -1);
        }
    }
    lua_pop(L, 1);
    return rc;
}
