/* sandbox_freeze.c — read-only tables, so one judge() call cannot change
 * what the next one sees.
 *
 * A table is frozen in place: its contents move to a hidden backing table
 * and it gets a locked metatable whose __index reads the backing table and
 * whose __newindex refuses. Every key is then absent from the table itself,
 * so every write reaches __newindex; rawset is not in the sandbox, and the
 * __metatable field stops setmetatable and hides the backing table. */
#include "policy/sandbox.h"

#include <stdio.h>

#include <lauxlib.h>

#define FREEZE_MAX_DEPTH 64
#define FROZEN_TAG "read-only policy table"

static int refuse_write(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "attempt to change '%s' in a read-only policy table (policies keep no state)",
                          lua_tostring(L, 2));
    return luaL_error(L, "attempt to change a read-only policy table (policies keep no state)");
}

/* __len and __pairs see the backing table (upvalue 1). */
static int frozen_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

static int frozen_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int frozen_pairs(lua_State *L)
{
    /* a backing table whose fields are made on demand makes them all first */
    if (lua_getmetatable(L, lua_upvalueindex(1))) {
        if (lua_getfield(L, -1, "__fill") == LUA_TFUNCTION) {
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_call(L, 1, 0);
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushcfunction(L, frozen_next);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushnil(L);
    return 3;
}

/* Give the table at idx a locked metatable reading `backing` (on top; popped). */
static void lock_with_backing(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    int backing = lua_gettop(L);
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, backing);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, refuse_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, backing);
    lua_pushcclosure(L, frozen_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, backing);
    lua_pushcclosure(L, frozen_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, FROZEN_TAG);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
    lua_pop(L, 1);
}

void qh_sandbox_new_readonly(lua_State *L)
{
    lua_newtable(L);              /* proxy   */
    lua_newtable(L);              /* backing */
    lua_pushvalue(L, -1);
    lock_with_backing(L, -3);
}

static int freeze_value(lua_State *L, int idx, int visited, int depth, char *err, size_t errlen);

/* Move the table's contents to a backing table, then lock it. */
static int freeze_table(lua_State *L, int t, int visited, int depth, char *err, size_t errlen)
{
    lua_pushvalue(L, t);
    if (lua_rawget(L, visited) != LUA_TNIL) { lua_pop(L, 1); return 0; }
    lua_pop(L, 1);
    lua_pushvalue(L, t);
    lua_pushboolean(L, 1);
    lua_rawset(L, visited);
    if (lua_getmetatable(L, t)) {
        lua_pop(L, 1);
        snprintf(err, errlen, "a policy table has its own metatable; tables with metatables cannot be made "
                              "read-only, so they are not allowed in policies");
        return -1;
    }
    lua_newtable(L);
    int backing = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {          /* copy, then clear: setting existing fields to nil is allowed during next */
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, backing);
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
    }
    lua_pushnil(L);
    while (lua_next(L, backing)) {
        if (freeze_value(L, -2, visited, depth + 1, err, errlen) != 0 ||
            freeze_value(L, -1, visited, depth + 1, err, errlen) != 0) {
            lua_settop(L, backing - 1);
            return -1;
        }
        lua_pop(L, 1);
    }
    lock_with_backing(L, t);
    return 0;
}

/* A Lua function's upvalues are the policy's private data: freeze them too. */
static int freeze_upvalues(lua_State *L, int f, int visited, int depth, char *err, size_t errlen)
{
    lua_pushvalue(L, f);
    if (lua_rawget(L, visited) != LUA_TNIL) { lua_pop(L, 1); return 0; }
    lua_pop(L, 1);
    lua_pushvalue(L, f);
    lua_pushboolean(L, 1);
    lua_rawset(L, visited);
    if (lua_iscfunction(L, f)) return 0;
    for (int i = 1; lua_getupvalue(L, f, i) != NULL; i++) {
        int rc = freeze_value(L, -1, visited, depth + 1, err, errlen);
        lua_pop(L, 1);
        if (rc != 0) return -1;
    }
    return 0;
}

static int freeze_value(lua_State *L, int idx, int visited, int depth, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    int type = lua_type(L, idx);
    if (type != LUA_TTABLE && type != LUA_TFUNCTION) return 0;
    if (depth > FREEZE_MAX_DEPTH) {
        snprintf(err, errlen, "policy tables nested deeper than %d levels", FREEZE_MAX_DEPTH);
        return -1;
    }
    if (!lua_checkstack(L, 8)) {
        snprintf(err, errlen, "out of Lua stack while freezing the policy");
        return -1;
    }
    return type == LUA_TTABLE ? freeze_table(L, idx, visited, depth, err, errlen)
                              : freeze_upvalues(L, idx, visited, depth, err, errlen);
}

void qh_sandbox_lock_string_metatable(lua_State *L)
{
    lua_pushliteral(L, "");
    if (!lua_getmetatable(L, -1)) { lua_pop(L, 1); return; }
    lua_pushliteral(L, FROZEN_TAG);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
}

static int do_freeze(lua_State *L)
{
    /* [value, err lightuserdata, errlen] */
    char *err = lua_touserdata(L, 2);
    size_t errlen = (size_t)lua_tointeger(L, 3);
    lua_newtable(L);
    int visited = lua_gettop(L);
    lua_pushglobaltable(L);
    if (freeze_value(L, -1, visited, 0, err, errlen) != 0) { lua_pushboolean(L, 0); return 1; }
    lua_pop(L, 1);
    if (freeze_value(L, 1, visited, 0, err, errlen) != 0) { lua_pushboolean(L, 0); return 1; }
    lua_pushboolean(L, 1);
    return 1;
}

int qh_sandbox_freeze(qh_sandbox *sb, int idx, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    idx = lua_absindex(L, idx);
    err[0] = '\0';
    /* Run protected: the walk allocates and must not longjmp past us. */
    lua_pushcfunction(L, do_freeze);
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, err);
    lua_pushinteger(L, (lua_Integer)errlen);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "cannot make the policy read-only: %s",
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "memory limit exceeded");
        lua_pop(L, 1);
        return -1;
    }
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok ? 0 : -1;
}
