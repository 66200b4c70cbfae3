/* sandbox_patterns.c — a cost guard on Lua patterns.
 *
 * The instruction hook cannot stop C code, and Lua's matcher backtracks: a
 * subject of n bytes and a pattern with k quantifiers can take about
 * n^(k+1) steps (string.rep("a", 1e5):find(".-.-.-b") would stall the
 * trading loop for hours). string.find/match/gmatch/gsub therefore refuse
 * a call whose bound (n+1)^(k+1) exceeds PATTERN_STEP_BUDGET. Plain finds
 * (find's 4th argument true) are linear and never refused. */
#include "policy/sandbox.h"

#include <lauxlib.h>
#include <lualib.h>

#define PATTERN_STEP_BUDGET 10000000.0

/* Quantifiers (* + - ?) outside sets and escapes; over-counting is safe. */
static int count_quantifiers(const char *p, size_t len)
{
    int k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '%') { i++; continue; }
        if (c == '[') {
            i++;
            if (i < len && p[i] == '^') i++;
            if (i < len && p[i] == ']') i++;            /* a leading ] is literal */
            while (i < len && p[i] != ']') { if (p[i] == '%') i++; i++; }
            continue;
        }
        if ((c == '*' || c == '+' || c == '-' || c == '?') && i > 0) k++;
    }
    return k;
}

static void check_pattern_cost(lua_State *L, const char *fname)
{
    size_t n, plen;
    luaL_checklstring(L, 1, &n);
    const char *pat = luaL_checklstring(L, 2, &plen);
    int k = count_quantifiers(pat, plen);
    /* A step bound: not money, so a double is fine here. */
    double bound = 1.0;
    for (int i = 0; i <= k && bound <= PATTERN_STEP_BUDGET; i++) bound *= (double)n + 1.0;
    if (bound > PATTERN_STEP_BUDGET)
        luaL_error(L, "string.%s: pattern too costly for a %d-byte subject (%d quantifiers); "
                      "use a shorter subject, fewer quantifiers or a plain find", fname, (int)n, k);
}

static int guarded(lua_State *L)
{
    const char *fname = lua_tostring(L, lua_upvalueindex(2));
    bool plain_find = lua_toboolean(L, lua_upvalueindex(3)) && lua_toboolean(L, 4);
    if (!plain_find) check_pattern_cost(L, fname);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void qh_sandbox_open_patterns(lua_State *L)
{
    static const char *const names[] = { "find", "match", "gmatch", "gsub", NULL };
    lua_getglobal(L, LUA_STRLIBNAME);
    for (const char *const *nm = names; *nm; nm++) {
        lua_getfield(L, -1, *nm);
        lua_pushstring(L, *nm);
        lua_pushboolean(L, (*nm)[0] == 'f');
        lua_pushcclosure(L, guarded, 3);
        lua_setfield(L, -2, *nm);
    }
    lua_pop(L, 1);
}
