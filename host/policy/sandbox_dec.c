/* sandbox_dec.c — `dec`, exact decimal arithmetic for policies.
 *
 * Money reaches judge() as decimal strings; comparing them with tonumber()
 * would go through floats. dec.* parses with qtr_dec_parse (8 decimals,
 * exact), computes in qtr_dec and answers decimal strings:
 *   dec.cmp(a, b) -> -1 | 0 | 1      dec.lt/le/gt/ge/eq(a, b) -> boolean
 *   dec.add/sub/mul/div(a, b) -> string (mul and div round toward zero)
 *   dec.min/max(a, b) -> string      dec.round_step(v, step) -> string (down)
 *   dec.div_step(a, b, step) -> string: round_step(div(a, b), step) in one call
 * Arguments are decimal strings or Lua integers; a float is refused.
 *
 * Parsing goes through a small cache (sandbox.h): the strings a policy
 * hands to dec are mostly the same few limits and the money fields of the
 * order in progress, and those fields and every dec result are entered
 * into the cache as they are made, so dec rarely parses at all. */
#include "policy/sandbox.h"

#include <string.h>

#include <lauxlib.h>

#include <qtr/money.h>

/* ---- the parse cache (see sandbox.h) ---- */

/* The set of an address: the top bits of a multiplicative hash. */
static unsigned addr_hash(const char *p, unsigned bits)
{
    return (unsigned)(((uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}
_Static_assert(QH_DEC_SEEN_SETS == 64 && QH_DEC_MADE_SETS == 32, "addr_hash bits: 6 and 5");
_Static_assert(QTR_DEC_STRLEN - 1 <= QH_DEC_CACHE_TEXT, "every formatted decimal fits an entry");

static inline bool set_lookup(qh_dec_cache_entry *set, const char *p, size_t len, int64_t *out)
{
    for (int w = 0; w < 2; w++) {
        qh_dec_cache_entry *e = &set[w];
        if (e->p != p || e->len != len || memcmp(e->text, p, len) != 0) continue;
        *out = e->value;
        if (w == 1) {   /* the newest first */
            qh_dec_cache_entry t = set[0];
            set[0] = set[1];
            set[1] = t;
        }
        return true;
    }
    return false;
}

static inline void set_insert(qh_dec_cache_entry *set, const char *p, size_t len, int64_t v)
{
    if (set[0].p != p) set[1] = set[0];
    set[0].p = p;
    set[0].value = v;
    set[0].len = (uint8_t)len;
    memcpy(set[0].text, p, len);
}

static inline bool cache_lookup(qh_dec_cache *c, const char *p, size_t len, int64_t *out)
{
    if (len <= QH_DEC_CACHE_TEXT &&
        (set_lookup(c->made[addr_hash(p, 5)], p, len, out) || set_lookup(c->seen[addr_hash(p, 6)], p, len, out))) {
        c->hits++;
        return true;
    }
    c->misses++;
    return false;
}

bool qh_dec_cache_lookup(qh_dec_cache *c, const char *p, size_t len, int64_t *out)
{
    return cache_lookup(c, p, len, out);
}

void qh_dec_cache_remember(qh_dec_cache *c, const char *p, size_t len, int64_t v)
{
    if (p && len <= QH_DEC_CACHE_TEXT) set_insert(c->made[addr_hash(p, 5)], p, len, v);
}

static inline int cache_parse(qh_dec_cache *c, const char *p, size_t len, int64_t *out)
{
    if (cache_lookup(c, p, len, out)) return QTR_DEC_OK;
    qtr_dec v = 0;
    qtr_dec_status st = qtr_dec_parse(p, len, &v);
    if (st != QTR_DEC_OK) return (int)st;
    if (len <= QH_DEC_CACHE_TEXT) set_insert(c->seen[addr_hash(p, 6)], p, len, v);
    *out = v;
    return QTR_DEC_OK;
}

int qh_dec_cache_parse(qh_dec_cache *c, const char *p, size_t len, int64_t *out)
{
    return cache_parse(c, p, len, out);
}

static const char DIGIT_PAIRS[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

static inline void put_pair(char *p, unsigned n)   /* n < 100 */
{
    memcpy(p, DIGIT_PAIRS + 2 * n, 2);
}

size_t qh_dec_format(int64_t v, char *buf)
{
    char *p = buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *p++ = '-';
    uint64_t ip = u / (uint64_t)QTR_DEC_SCALE;
    uint32_t fp = (uint32_t)(u % (uint64_t)QTR_DEC_SCALE);
    /* the whole part, at most 11 digits, written from its last digit back */
    int n = 1;
    for (uint64_t t = ip; t >= 10; t /= 10) n++;
    char *e = p + n;
    while (ip >= 100) {
        e -= 2;
        put_pair(e, (unsigned)(ip % 100));
        ip /= 100;
    }
    if (ip >= 10) put_pair(e - 2, (unsigned)ip);
    else e[-1] = (char)('0' + ip);
    p += n;
    if (fp) {                           /* eight decimals, trailing zeros dropped */
        *p++ = '.';
        uint32_t hi = fp / 10000, lo = fp % 10000;
        put_pair(p, hi / 100);
        put_pair(p + 2, hi % 100);
        put_pair(p + 4, lo / 100);
        put_pair(p + 6, lo % 100);
        p += 8;                         /* buf has room: at most 1 + 11 + 1 + 8 + 1 bytes */
        while (p[-1] == '0') p--;       /* fp != 0: some decimal is not 0 */
    }
    *p = '\0';
    return (size_t)(p - buf);
}

const char *qh_dec_push(lua_State *L, qh_dec_cache *c, int64_t v)
{
    char buf[QTR_DEC_STRLEN];
    size_t len = qh_dec_format(v, buf);
    const char *p = lua_pushlstring(L, buf, len);
    /* INT64_MIN prints as text that qtr_dec_parse refuses (out of range):
     * it must stay a miss so that dec.* still refuses it. */
    if (v >= QTR_DEC_MIN) qh_dec_cache_remember(c, p, len, v);
    return p;
}

/* ---- dec ---- */

#define CACHE(L) ((qh_dec_cache *)lua_touserdata((L), lua_upvalueindex(1)))

/* ---- dec values: exact money without text ---- */

static const char DEC_MT_KEY = 0;   /* the registry key (its address) of their metatable */

/* A dec value's block: a tag, then the value. Lua code cannot make a full
 * userdata (no newproxy, no debug, no io in the sandbox), so every one it
 * holds is the host's; the tag (the address of DEC_MT_KEY, which no other
 * userdata of the host starts with) and the size tell a dec value in a few
 * instructions, without fetching its metatable. */
typedef struct dec_value {
    const void *tag;
    int64_t v;
} dec_value;

void qh_dec_push_value(lua_State *L, int64_t v)
{
    dec_value *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->tag = &DEC_MT_KEY;
    p->v = v;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &DEC_MT_KEY);
    lua_setmetatable(L, -2);
}

bool qh_dec_to_value(lua_State *L, int idx, int64_t *out)
{
    if (lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) != sizeof(dec_value)) return false;
    const dec_value *p = lua_touserdata(L, idx);
    if (p->tag != &DEC_MT_KEY) return false;
    *out = p->v;
    return true;
}

static qtr_dec arg_dec(lua_State *L, qh_dec_cache *c, int i)
{
    int type = lua_type(L, i);
    qtr_dec value;
    if (type == LUA_TUSERDATA && qh_dec_to_value(L, i, &value)) return value;
    if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, i, &len);
        qtr_dec out = 0;
        int st = cache_parse(c, s, len, &out);
        if (st != QTR_DEC_OK)
            luaL_error(L, "dec: argument #%d \"%s\": %s", i, s, qtr_dec_status_str((qtr_dec_status)st));
        return out;
    }
    if (type == LUA_TNUMBER) {
        if (!lua_isinteger(L, i))
            luaL_error(L, "dec: argument #%d is a float; give money as a decimal string such as \"0.5\"", i);
        lua_Integer v = lua_tointeger(L, i);
        qtr_dec out = 0;
        if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)v, &out)) luaL_error(L, "dec: argument #%d out of range", i);
        return out;
    }
    luaL_error(L, "dec: argument #%d must be a decimal string, got %s", i, luaL_typename(L, i));
    return 0;
}

static int overflow(lua_State *L, const char *op)
{
    return luaL_error(L, "dec.%s: result out of range or division by zero", op);
}

/* a and b: arguments 1 and 2, in that order. */
#define ARGS_AB(L) qh_dec_cache *c = CACHE(L); qtr_dec a = arg_dec(L, c, 1), b = arg_dec(L, c, 2)

static int dec_cmp(lua_State *L)
{
    ARGS_AB(L);
    lua_pushinteger(L, (a > b) - (a < b));
    return 1;
}

#define DEC_PREDICATE(name, expr)                                   \
    static int dec_##name(lua_State *L)                             \
    {                                                               \
        ARGS_AB(L);                                                 \
        lua_pushboolean(L, expr);                                   \
        return 1;                                                   \
    }
DEC_PREDICATE(lt, a < b)
DEC_PREDICATE(le, a <= b)
DEC_PREDICATE(gt, a > b)
DEC_PREDICATE(ge, a >= b)
DEC_PREDICATE(eq, a == b)

#define DEC_ARITH(name, call)                                       \
    static int dec_##name(lua_State *L)                             \
    {                                                               \
        ARGS_AB(L);                                                 \
        qtr_dec r;                                                  \
        if (!(call)) return overflow(L, #name);                     \
        qh_dec_push(L, c, r);                                       \
        return 1;                                                   \
    }
DEC_ARITH(add, qtr_dec_add(a, b, &r))
DEC_ARITH(sub, qtr_dec_sub(a, b, &r))
DEC_ARITH(mul, qtr_dec_mul(a, b, QTR_ROUND_DOWN, &r))
DEC_ARITH(div, qtr_dec_div(a, b, QTR_ROUND_DOWN, &r))

static int dec_min(lua_State *L)
{
    ARGS_AB(L);
    qh_dec_push(L, c, qtr_dec_min(a, b));
    return 1;
}

static int dec_max(lua_State *L)
{
    ARGS_AB(L);
    qh_dec_push(L, c, qtr_dec_max(a, b));
    return 1;
}

static int dec_round_step(lua_State *L)
{
    ARGS_AB(L);
    qtr_dec r;
    if (!qtr_dec_round_step(a, b, QTR_ROUND_DOWN, &r)) return luaL_error(L, "dec.round_step: step must be > 0");
    qh_dec_push(L, c, r);
    return 1;
}

/* dec.div_step(a, b, step): a / b rounded toward zero to a multiple of
 * step, in one call: the same answer as dec.round_step(dec.div(a, b), step)
 * (step is itself a multiple of 0.00000001, so cutting at the 8th decimal
 * first changes nothing), without the intermediate string. The quantity
 * that fits a notional at a price, in lots: dec.div_step(notional, price, lot). */
static int dec_div_step(lua_State *L)
{
    ARGS_AB(L);
    qtr_dec step = arg_dec(L, c, 3), q, r;
    if (!qtr_dec_div(a, b, QTR_ROUND_DOWN, &q)) return overflow(L, "div_step");
    if (!qtr_dec_round_step(q, step, QTR_ROUND_DOWN, &r)) return luaL_error(L, "dec.div_step: step must be > 0");
    qh_dec_push(L, c, r);
    return 1;
}

static int dec_tostring(lua_State *L)
{
    qtr_dec v = 0;
    if (!qh_dec_to_value(L, 1, &v)) return luaL_error(L, "dec: not a dec value");
    char buf[QTR_DEC_STRLEN];
    size_t len = qh_dec_format(v, buf);
    lua_pushlstring(L, buf, len);
    return 1;
}

/* a .. b with a dec value on either side: its text. */
static int dec_concat(lua_State *L)
{
    for (int i = 1; i <= 2; i++) {
        qtr_dec v;
        if (qh_dec_to_value(L, i, &v)) {
            char buf[QTR_DEC_STRLEN];
            size_t len = qh_dec_format(v, buf);
            lua_pushlstring(L, buf, len);
            lua_replace(L, i);
        } else if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER) {
            return luaL_error(L, "attempt to concatenate a dec value with a %s value", luaL_typename(L, i));
        }
    }
    lua_settop(L, 2);
    lua_concat(L, 2);
    return 1;
}

/* The metatable of dec values, in the registry; getmetatable() gives Lua
 * only its __metatable text, so a policy cannot change it. */
static void open_dec_values(lua_State *L, qh_dec_cache *cache)
{
    static const luaL_Reg cmp[] = { { "__lt", dec_lt }, { "__le", dec_le }, { "__eq", dec_eq }, { NULL, NULL } };
    lua_createtable(L, 0, 8);
    lua_pushlightuserdata(L, cache);
    luaL_setfuncs(L, cmp, 1);            /* upvalue 1: the parse cache, as the dec.* functions */
    lua_pushcfunction(L, dec_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, dec_concat);
    lua_setfield(L, -2, "__concat");
    lua_pushliteral(L, "dec");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "dec");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &DEC_MT_KEY);
}

void qh_sandbox_open_dec(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "cmp", dec_cmp }, { "lt", dec_lt }, { "le", dec_le }, { "gt", dec_gt }, { "ge", dec_ge },
        { "eq", dec_eq }, { "add", dec_add }, { "sub", dec_sub }, { "mul", dec_mul }, { "div", dec_div },
        { "min", dec_min }, { "max", dec_max }, { "round_step", dec_round_step },
        { "div_step", dec_div_step }, { NULL, NULL },
    };
    void *ud = NULL;
    lua_getallocf(L, &ud);              /* the sandbox (sandbox.c) */
    qh_sandbox *sb = ud;
    luaL_newlibtable(L, funcs);
    lua_pushlightuserdata(L, &sb->dec_cache);
    luaL_setfuncs(L, funcs, 1);         /* upvalue 1 of each: the parse cache */
    lua_setglobal(L, "dec");
    open_dec_values(L, &sb->dec_cache);
}
