/* policy_judge.c — one judge(order, ctx) call per order.
 *
 * The two argument tables are created once per lua_State and are read-only
 * to Lua (proxies over hidden backing tables): C overwrites the fields in
 * place each call, and a judge() cannot leave anything behind for the next
 * call. Money goes in as exact decimal strings, made only when judge()
 * reads the field: the backing table's own __index formats it from the
 * order or context of the call in progress and keeps it for the rest of
 * the call (a policy reads a few of the sixteen money fields; formatting
 * and interning all of them was most of the cost of a call). pairs() makes
 * them all first, so it still sees every field. The cheap fields (sides,
 * flags, counts, symbol, strategy) are set eagerly, and only when they
 * changed.
 *
 * What keeps a call cheap (see docs/policies.md, Performance): the call is
 * one C closure holding the four tables as upvalues; __index finds a money
 * field by the address of its interned name; a money field that judge()
 * keeps reading is made as soon as its value changes (refresh_money), not
 * through __index; a money string goes into the dec parse cache as it is
 * made, so dec.* does not parse it back; nothing on the way formats with
 * printf. */
#include "policy/policy_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

_Static_assert(sizeof(((qtr_order_intent *)0)->symbol) <= QTR_NAME_MAX, "a symbol fits a text cache");
_Static_assert(sizeof(((qtr_order_intent *)0)->strategy) <= QTR_NAME_MAX, "a strategy fits a text cache");

typedef struct judge_call {
    qh_compiled_policy *cp;
    const qtr_order_intent *order;
    const qh_risk_ctx *rc;
    qtr_risk_decision *out;
} judge_call;

/* The money fields, by name: which order or context field each one reads. */
typedef struct money_field {
    const char *name;
    int slot;                 /* QH_JF_* */
    bool ctx;                 /* from the risk context, else from the order */
    size_t offset;            /* of the qtr_dec in its struct */
} money_field;

static const money_field ORDER_MONEY[] = {
    { "qty", QH_JF_QTY, false, offsetof(qtr_order_intent, qty) },
    { "price", QH_JF_PRICE, false, offsetof(qtr_order_intent, price) },
    { "stop_price", QH_JF_STOP_PRICE, false, offsetof(qtr_order_intent, stop_price) },
    { NULL, 0, false, 0 },
};

static const money_field CTX_MONEY[] = {
    { "equity", QH_JF_EQUITY, true, offsetof(qh_risk_ctx, equity) },
    { "exposure", QH_JF_EXPOSURE, true, offsetof(qh_risk_ctx, exposure) },
    { "drawdown_pct", QH_JF_DRAWDOWN, true, offsetof(qh_risk_ctx, drawdown_pct) },
    { "daily_pnl", QH_JF_DAILY_PNL, true, offsetof(qh_risk_ctx, daily_pnl) },
    { "position_qty", QH_JF_POS_QTY, true, offsetof(qh_risk_ctx, position_qty) },
    { "position_notional", QH_JF_POS_NOTIONAL, true, offsetof(qh_risk_ctx, position_notional) },
    { "price", QH_JF_CTX_PRICE, true, offsetof(qh_risk_ctx, price) },
    { "order_notional", QH_JF_ORDER_NOTIONAL, true, offsetof(qh_risk_ctx, order_notional) },
    { "funding_rate", QH_JF_FUNDING, true, offsetof(qh_risk_ctx, funding_rate) },
    { "spread_bps", QH_JF_SPREAD, true, offsetof(qh_risk_ctx, spread_bps) },
    { "depth_notional", QH_JF_DEPTH, true, offsetof(qh_risk_ctx, depth_notional) },
    { NULL, 0, false, 0 },
};

enum {
    N_ORDER_MONEY = sizeof ORDER_MONEY / sizeof ORDER_MONEY[0] - 1,
    N_CTX_MONEY = sizeof CTX_MONEY / sizeof CTX_MONEY[0] - 1,
};
_Static_assert(N_ORDER_MONEY + N_CTX_MONEY == QH_JF__COUNT && QH_JF__COUNT <= 32, "one bit per money field");

/* Make one money field (as of the call in progress): push its decimal
 * string, store it in backing under the field's name (the string at keyidx,
 * which must be that name, or 0 to push the name) and leave it on the
 * stack. The string goes into the dec parse cache as it is made, so dec.*
 * does not parse it back. */
static inline void push_money(lua_State *L, qh_compiled_policy *cp, qtr_dec v)
{
    if (cp->money_dec) qh_dec_push_value(L, v);   /* no text at all */
    else qh_dec_push(L, &cp->sb->dec_cache, v);
}

static void make_money(lua_State *L, qh_compiled_policy *cp, int backing, int keyidx, const money_field *f)
{
    const void *base = f->ctx ? (const void *)cp->cur_rc : (const void *)cp->cur_order;
    qtr_dec v;
    memcpy(&v, (const char *)base + f->offset, sizeof v);
    push_money(L, cp, v);
    if (keyidx) lua_pushvalue(L, keyidx);
    else lua_pushstring(L, f->name);
    lua_pushvalue(L, -2);
    lua_rawset(L, backing);
    cp->money_made |= 1u << f->slot;
    cp->money_value[f->slot] = v;
}

/* judge() read a money field that was not made. It will likely read it on
 * the next calls too: make it at once when its value changes, for the next
 * period calls; a field read again when that runs out (see refresh_money)
 * gets twice the period, up to QH_MONEY_EAGER_MAX. */
static void note_read(qh_compiled_policy *cp, int slot)
{
    unsigned p = cp->money_period[slot];
    p = p == 0 ? 1 : p * 2 > QH_MONEY_EAGER_MAX ? QH_MONEY_EAGER_MAX : p * 2;
    cp->money_period[slot] = (uint8_t)p;
    cp->money_eager[slot] = (uint8_t)p;
}

/* backing.__index(backing, key): a money field read for the first time in
 * this call. Upvalues: the compiled policy, the field table. The key is
 * matched by address first: short strings are interned, and the names' own
 * strings are kept alive (see make_lazy), so the name "price" read by a
 * policy is the very string recorded in money_key. Any other key (an
 * unknown field) is then compared as C text, as it always was. */
static int lazy_money(lua_State *L)
{
    qh_compiled_policy *cp = lua_touserdata(L, lua_upvalueindex(1));
    const money_field *fields = lua_touserdata(L, lua_upvalueindex(2));
    if (lua_type(L, 2) != LUA_TSTRING || !cp->cur_order) return 0;   /* outside a call: nothing */
    const char *key = lua_tostring(L, 2);
    for (const money_field *f = fields; f->name; f++)
        if (key == cp->money_key[f->slot]) {
            make_money(L, cp, 1, 2, f);
            note_read(cp, f->slot);
            return 1;
        }
    for (const money_field *f = fields; f->name; f++)
        if (strcmp(f->name, key) == 0) {
            make_money(L, cp, 1, 0, f);
            note_read(cp, f->slot);
            return 1;
        }
    return 0;
}

/* backing.__fill(backing): make every money field (for pairs()). */
static int fill_money(lua_State *L)
{
    qh_compiled_policy *cp = lua_touserdata(L, lua_upvalueindex(1));
    const money_field *fields = lua_touserdata(L, lua_upvalueindex(2));
    if (!cp->cur_order) return 0;
    for (const money_field *f = fields; f->name; f++) {
        if (cp->money_made & (1u << f->slot)) continue;
        make_money(L, cp, 1, 0, f);
        lua_pop(L, 1);
    }
    return 0;
}

/* Bring the money strings made earlier up to the order in progress; the
 * unchanged ones stay. A changed one is made again at once while its eager
 * count lasts (judge() has been reading it: making it now saves the trip
 * through __index), else forgotten (rawset nil: the next read goes through
 * __index again, which tells whether judge() still reads it; a field that
 * was not read in its probe call goes back to being made only when read).
 * Decisions do not depend on any of this: a field always shows the value of
 * the call in progress. Only the fields made so far are looked at (a policy
 * reads few). The fields of a table have consecutive slots, in table order. */
static void refresh_money(lua_State *L, qh_compiled_policy *cp, int backing, const money_field *fields,
                          unsigned nfields, const void *now)
{
    unsigned first = (unsigned)fields[0].slot;
    uint32_t mask = ((1u << nfields) - 1) << first;
    uint32_t probed = cp->money_probe & mask;
    if (probed) {
        cp->money_probe &= ~probed;
        for (uint32_t cold = probed & ~cp->money_made; cold; cold &= cold - 1)
            cp->money_period[__builtin_ctz(cold)] = 0;
    }
    uint32_t made = cp->money_made & mask;
    while (made) {
        unsigned slot = (unsigned)__builtin_ctz(made);
        uint32_t bit = made & -made;
        made &= made - 1;
        const money_field *f = &fields[slot - first];
        qtr_dec v;
        memcpy(&v, (const char *)now + f->offset, sizeof v);
        if (v == cp->money_value[slot]) continue;
        if (cp->money_eager[slot]) {
            cp->money_eager[slot]--;
            push_money(L, cp, v);
            lua_setfield(L, backing, f->name);   /* an existing key: no allocation */
            cp->money_value[slot] = v;           /* only once the table shows it */
            continue;
        }
        lua_pushnil(L);
        lua_setfield(L, backing, f->name);
        cp->money_made &= ~bit;
        if (cp->money_period[slot]) cp->money_probe |= bit;
    }
}

/* Give a backing table its lazy __index and __fill, and record the
 * interned address of each field name (the metatable keeps the names). */
static void make_lazy(lua_State *L, qh_compiled_policy *cp, int backing, const money_field *fields)
{
    lua_createtable(L, QH_JF__COUNT, 2);
    lua_pushlightuserdata(L, cp);
    lua_pushlightuserdata(L, (void *)fields);
    lua_pushcclosure(L, lazy_money, 2);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, cp);
    lua_pushlightuserdata(L, (void *)fields);
    lua_pushcclosure(L, fill_money, 2);
    lua_setfield(L, -2, "__fill");
    lua_Integer n = 0;
    for (const money_field *f = fields; f->name; f++) {
        if (f->slot != fields[0].slot + n) luaL_error(L, "money field slots out of order");   /* see refresh_money */
        cp->money_key[f->slot] = lua_pushstring(L, f->name);
        lua_rawseti(L, -2, ++n);
    }
    lua_setmetatable(L, backing);
}

/* kind: 'i' integer, 'b' boolean, 's' side name, 't' order type name. */
static void push_scalar(lua_State *L, qh_compiled_policy *cp, int t, int slot, const char *key, int64_t v, char kind)
{
    switch (kind) {
    case 'b': lua_pushboolean(L, v != 0); break;
    case 's': lua_pushstring(L, qtr_side_name((qtr_side)v)); break;
    case 't': lua_pushstring(L, qtr_order_type_name((qtr_order_type)v)); break;
    default: lua_pushinteger(L, (lua_Integer)v); break;
    }
    lua_setfield(L, t, key);
    cp->scalar_cache[slot] = v;
    cp->scalar_cached[slot] = true;
}

/* Most calls change none of these: the check is inline, the push is not. */
static inline void set_scalar(lua_State *L, qh_compiled_policy *cp, int t, int slot, const char *key, int64_t v,
                              char kind)
{
    if (cp->scalar_cached[slot] && cp->scalar_cache[slot] == v) return;
    push_scalar(L, cp, t, slot, key, v, kind);
}

/* A text field: at most cap - 1 bytes, up to the first NUL (the struct's
 * text may lack one); pushed only when it differs from the last one. */
static void set_text_changed(lua_State *L, int t, const char *key, const char *value, size_t cap, qh_text_cache *c)
{
    size_t len = strnlen(value, cap - 1);
    if (!c->valid || c->len != len || memcmp(c->text, value, len) != 0) {
        lua_pushlstring(L, value, len);
        lua_setfield(L, t, key);
        memcpy(c->text, value, len);
        c->len = (uint8_t)len;
    }
    memcpy(c->raw, value, cap);
    c->valid = true;
}

/* The same struct bytes as last time (cap is a constant: a few word
 * compares) give the same text. */
static inline void set_text(lua_State *L, int t, const char *key, const char *value, size_t cap, qh_text_cache *c)
{
    if (c->valid && memcmp(c->raw, value, cap) == 0) return;
    set_text_changed(L, t, key, value, cap, c);
}

static void fill_order(lua_State *L, qh_compiled_policy *cp, int t, const qtr_order_intent *o)
{
    set_text(L, t, "symbol", o->symbol, sizeof o->symbol, &cp->symbol_cache);
    set_scalar(L, cp, t, QH_JS_SIDE, "side", o->side, 's');
    set_scalar(L, cp, t, QH_JS_TYPE, "type", o->type, 't');
    refresh_money(L, cp, t, ORDER_MONEY, N_ORDER_MONEY, o);
    set_scalar(L, cp, t, QH_JS_REDUCE_ONLY, "reduce_only", o->reduce_only, 'b');
    if (!cp->confidence_cached || cp->confidence_cache != o->confidence) {
        lua_pushnumber(L, o->confidence);
        lua_setfield(L, t, "confidence");
        cp->confidence_cache = o->confidence;
        cp->confidence_cached = true;
    }
    set_text(L, t, "strategy", o->strategy, sizeof o->strategy, &cp->strategy_cache);
}

static void fill_ctx(lua_State *L, qh_compiled_policy *cp, int t, const qh_risk_ctx *rc)
{
    refresh_money(L, cp, t, CTX_MONEY, N_CTX_MONEY, rc);
    set_scalar(L, cp, t, QH_JS_OPEN_POSITIONS, "open_positions", rc->open_positions, 'i');
    set_scalar(L, cp, t, QH_JS_OPEN_SYMBOLS, "open_symbols", rc->open_symbols, 'i');
    set_scalar(L, cp, t, QH_JS_HAS_POSITION, "symbol_has_position", rc->symbol_has_position, 'b');
    set_scalar(L, cp, t, QH_JS_HAS_BOOK, "has_book", rc->has_book, 'b');
    set_scalar(L, cp, t, QH_JS_LEVERAGE, "leverage", rc->leverage, 'i');
}

static void bad_answer(lua_State *L, const qh_compiled_policy *cp, const char *what) __attribute__((noreturn));

static void bad_answer(lua_State *L, const qh_compiled_policy *cp, const char *what)
{
    lua_pushfstring(L, "%s: judge() %s", cp->judge_where, what);
    lua_error(L);
    __builtin_unreachable();   /* lua_error longjmps */
}

/* Reason codes are short snake_case: [a-z0-9_], 1 to 63 characters. */
static const unsigned char REASON_CHAR[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1,
};

static bool valid_reason(const char *s, size_t len)
{
    if (len == 0 || len > 63) return false;
    unsigned char ok = 1;
    for (size_t i = 0; i < len; i++) ok &= REASON_CHAR[(unsigned char)s[i]];
    return ok;
}

static void read_reason(lua_State *L, const qh_compiled_policy *cp, int idx, const char *dflt, qtr_risk_decision *out)
{
    if (lua_isnil(L, idx) && dflt) {
        qtr_strlcpy(out->reason, dflt, sizeof out->reason);
        return;
    }
    size_t len = 0;
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    if (!s || !valid_reason(s, len))
        bad_answer(L, cp, "gave a reason that is not a snake_case code such as \"max_order_notional\"");
    memcpy(out->reason, s, len + 1);
}

static void read_answer(lua_State *L, const judge_call *jc, int base)
{
    qh_compiled_policy *cp = jc->cp;
    qtr_risk_decision *out = jc->out;
    const char *verdict = lua_type(L, base) == LUA_TSTRING ? lua_tostring(L, base) : NULL;
    if (verdict && verdict[0] == 'a' && strcmp(verdict, "allow") == 0) {
        out->verdict = QTR_RISK_APPROVE;
        out->qty = jc->order->qty;
        memcpy(out->reason, "allow", sizeof "allow");
    } else if (verdict && verdict[0] == 'r' && strcmp(verdict, "reject") == 0) {
        out->verdict = QTR_RISK_REJECT;
        out->qty = 0;
        read_reason(L, cp, base + 1, NULL, out);
    } else if (verdict && verdict[0] == 'r' && strcmp(verdict, "resize") == 0) {
        qtr_dec q = 0;
        int type = lua_type(L, base + 1);
        if (type == LUA_TNUMBER && lua_isinteger(L, base + 1)) {
            if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)lua_tointeger(L, base + 1), &q))
                bad_answer(L, cp, "returned a resize quantity out of range");
        } else if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, base + 1, &len);
            if (qh_dec_cache_parse(&cp->sb->dec_cache, s, len, &q) != QTR_DEC_OK)
                bad_answer(L, cp, "returned a resize quantity that is not an exact decimal string");
        } else if (type == LUA_TUSERDATA && qh_dec_to_value(L, base + 1, &q)) {
            /* a dec value: exact already */
        } else {
            bad_answer(L, cp, "must return \"resize\", qty with qty a decimal string such as \"0.5\"");
        }
        if (q <= 0 || q > jc->order->qty)
            bad_answer(L, cp, "returned a resize quantity that is not > 0 and <= the order quantity");
        out->verdict = QTR_RISK_RESIZE;
        out->qty = q;
        read_reason(L, cp, base + 2, "policy_resize", out);
    } else {
        bad_answer(L, cp, "must return \"allow\", \"resize\", qty or \"reject\", reason_code");
    }
}

/* The call: a C closure made once per state (judge_prepare) whose upvalues
 * are the two backing tables and the two proxies, so nothing but judge
 * itself is fetched from the registry. */
static int judge_trampoline(lua_State *L)
{
    judge_call *jc = lua_touserdata(L, 1);
    qh_compiled_policy *cp = jc->cp;
    lua_settop(L, 0);
    fill_order(L, cp, lua_upvalueindex(1), jc->order);
    fill_ctx(L, cp, lua_upvalueindex(2), jc->rc);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->judge_ref);
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_pushvalue(L, lua_upvalueindex(4));
    cp->cur_order = jc->order;
    cp->cur_rc = jc->rc;
    lua_call(L, 2, 3);
    read_answer(L, jc, 1);   /* judge's three results */
    cp->cur_order = NULL;
    cp->cur_rc = NULL;
    return 0;
}

int qh_compiled_judge(qh_compiled_policy *cp, const qtr_order_intent *order, const qh_risk_ctx *rc,
                      qtr_risk_decision *out, char *err, size_t errlen)
{
    judge_call jc = { cp, order, rc, out };
    memset(out, 0, sizeof *out);
    if (qh_sandbox_call_ref(cp->sb, cp->call_ref, &jc, err, errlen) == 0) return 0;
    /* A stop inside C code (the allocator) has no line: name judge's. */
    const char *colon = strrchr(cp->judge_where, ':');
    size_t file_len = colon ? (size_t)(colon - cp->judge_where) : strlen(cp->judge_where);
    if (strncmp(err, cp->judge_where, file_len) != 0) {
        char tmp[QTR_TEXT_MAX * 2];
        snprintf(tmp, sizeof tmp, "%s: %s", cp->judge_where, err);
        qtr_strlcpy(err, tmp, errlen);
    }
    /* Fail closed. */
    memset(out, 0, sizeof *out);
    out->verdict = QTR_RISK_REJECT;
    snprintf(out->reason, sizeof out->reason, "policy_error");
    /* A failed call may have left the caches ahead of the tables; the money
     * fields it made stay marked in money_made and are cleared next call. */
    cp->cur_order = NULL;
    cp->cur_rc = NULL;
    memset(cp->scalar_cached, 0, sizeof cp->scalar_cached);
    cp->confidence_cached = false;
    cp->symbol_cache.valid = false;
    cp->strategy_cache.valid = false;
    return -1;
}

static int prepare_trampoline(lua_State *L)
{
    qh_compiled_policy *cp = lua_touserdata(L, 1);
    lua_settop(L, 0);
    qh_sandbox_new_readonly(L);                 /* order: proxy 1, backing 2 */
    make_lazy(L, cp, 2, ORDER_MONEY);
    qh_sandbox_new_readonly(L);                 /* ctx: proxy 3, backing 4 */
    make_lazy(L, cp, 4, CTX_MONEY);
    lua_pushvalue(L, 2);
    cp->order_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 1);
    cp->order_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 4);
    cp->ctx_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 3);
    cp->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 2);                        /* the call: upvalues backing, backing, proxy, proxy */
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, judge_trampoline, 4);
    cp->call_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int qh_compiled_judge_prepare(qh_compiled_policy *cp, char *err, size_t errlen)
{
    return qh_sandbox_call_c(cp->sb, prepare_trampoline, cp, 0, err, errlen);
}
