/* sandbox_dec.c — `dec`, exact decimal arithmetic for policies.
 *
 * Money reaches judge() as decimal strings; comparing them with tonumber()
 * would go through floats. dec.* parses with qtr_dec_parse (8 decimals,
 * exact), computes in qtr_dec and answers decimal strings:
 *   dec.cmp(a, b) -> -1 | 0 | 1      dec.lt/le/gt/ge/eq(a, b) -> boolean
 *   dec.add/sub/mul/div(a, b) -> string (mul and div round toward zero)
 *   dec.min/max(a, b) -> string      dec.round_step(v, step) -> string (down)
 * Arguments are decimal strings or Lua integers; a float is refused. */
#include "policy/sandbox.h"

#include <lauxlib.h>

#include <qtr/money.h>

static qtr_dec arg_dec(lua_State *L, int i)
{
    if (lua_type(L, i) == LUA_TNUMBER) {
        if (!lua_isinteger(L, i))
            luaL_error(L, "dec: argument #%d is a float; give money as a decimal string such as \"0.5\"", i);
        lua_Integer v = lua_tointeger(L, i);
        qtr_dec out = 0;
        if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)v, &out)) luaL_error(L, "dec: argument #%d out of range", i);
        return out;
    }
    size_t len;
    const char *s = lua_tolstring(L, i, &len);
    if (lua_type(L, i) != LUA_TSTRING || !s)
        luaL_error(L, "dec: argument #%d must be a decimal string, got %s", i, luaL_typename(L, i));
    qtr_dec out = 0;
    qtr_dec_status st = qtr_dec_parse(s, len, &out);
    if (st != QTR_DEC_OK) luaL_error(L, "dec: argument #%d \"%s\": %s", i, s, qtr_dec_status_str(st));
    return out;
}

static int push_dec(lua_State *L, qtr_dec v)
{
    char buf[QTR_DEC_STRLEN];
    lua_pushstring(L, qtr_dec_format(v, buf));
    return 1;
}

static int overflow(lua_State *L, const char *op)
{
    return luaL_error(L, "dec.%s: result out of range or division by zero", op);
}

static int dec_cmp(lua_State *L)
{
    qtr_dec a = arg_dec(L, 1), b = arg_dec(L, 2);
    lua_pushinteger(L, (a > b) - (a < b));
    return 1;
}

#define DEC_PREDICATE(name, expr)                                   \
    static int dec_##name(lua_State *L)                             \
    {                                                               \
        qtr_dec a = arg_dec(L, 1), b = arg_dec(L, 2);               \
        lua_pushboolean(L, expr);                                   \
        return 1;                                                   \
    }
DEC_PREDICATE(lt, a < b)
DEC_PREDICATE(le, a <= b)
DEC_PREDICATE(gt, a > b)
DEC_PREDICATE(ge, a >= b)
DEC_PREDICATE(eq, a == b)

static int dec_add(lua_State *L)
{
    qtr_dec r;
    if (!qtr_dec_add(arg_dec(L, 1), arg_dec(L, 2), &r)) return overflow(L, "add");
    return push_dec(L, r);
}

static int dec_sub(lua_State *L)
{
    qtr_dec r;
    if (!qtr_dec_sub(arg_dec(L, 1), arg_dec(L, 2), &r)) return overflow(L, "sub");
    return push_dec(L, r);
}

static int dec_mul(lua_State *L)
{
    qtr_dec r;
    if (!qtr_dec_mul(arg_dec(L, 1), arg_dec(L, 2), QTR_ROUND_DOWN, &r)) return overflow(L, "mul");
    return push_dec(L, r);
}

static int dec_div(lua_State *L)
{
    qtr_dec r;
    if (!qtr_dec_div(arg_dec(L, 1), arg_dec(L, 2), QTR_ROUND_DOWN, &r)) return overflow(L, "div");
    return push_dec(L, r);
}

static int dec_min(lua_State *L) { return push_dec(L, qtr_dec_min(arg_dec(L, 1), arg_dec(L, 2))); }
static int dec_max(lua_State *L) { return push_dec(L, qtr_dec_max(arg_dec(L, 1), arg_dec(L, 2))); }

static int dec_round_step(lua_State *L)
{
    qtr_dec r;
    if (!qtr_dec_round_step(arg_dec(L, 1), arg_dec(L, 2), QTR_ROUND_DOWN, &r))
        return luaL_error(L, "dec.round_step: step must be > 0");
    return push_dec(L, r);
}

void qh_sandbox_open_dec(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "cmp", dec_cmp }, { "lt", dec_lt }, { "le", dec_le }, { "gt", dec_gt }, { "ge", dec_ge },
        { "eq", dec_eq }, { "add", dec_add }, { "sub", dec_sub }, { "mul", dec_mul }, { "div", dec_div },
        { "min", dec_min }, { "max", dec_max }, { "round_step", dec_round_step }, { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setglobal(L, "dec");
}
