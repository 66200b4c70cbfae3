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
 * flags, counts) are set eagerly, and only when they changed. */
#include "policy/policy_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

typedef struct judge_call {
    qh_compiled_policy *cp;
    const qtr_order_intent *order;
    const qtr_risk_context *rc;
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
    { "equity", QH_JF_EQUITY, true, offsetof(qtr_risk_context, equity) },
    { "exposure", QH_JF_EXPOSURE, true, offsetof(qtr_risk_context, exposure) },
    { "drawdown_pct", QH_JF_DRAWDOWN, true, offsetof(qtr_risk_context, drawdown_pct) },
    { "daily_pnl", QH_JF_DAILY_PNL, true, offsetof(qtr_risk_context, daily_pnl) },
    { "position_qty", QH_JF_POS_QTY, true, offsetof(qtr_risk_context, position_qty) },
    { "position_notional", QH_JF_POS_NOTIONAL, true, offsetof(qtr_risk_context, position_notional) },
    { "price", QH_JF_CTX_PRICE, true, offsetof(qtr_risk_context, price) },
    { "order_notional", QH_JF_ORDER_NOTIONAL, true, offsetof(qtr_risk_context, order_notional) },
    { "funding_rate", QH_JF_FUNDING, true, offsetof(qtr_risk_context, funding_rate) },
    { "spread_bps", QH_JF_SPREAD, true, offsetof(qtr_risk_context, spread_bps) },
    { "depth_notional", QH_JF_DEPTH, true, offsetof(qtr_risk_context, depth_notional) },
    { NULL, 0, false, 0 },
};

/* Push one money field's value (as of the call in progress) into backing. */
static void make_money(lua_State *L, qh_compiled_policy *cp, int backing, const money_field *f)
{
    const void *base = f->ctx ? (const void *)cp->cur_rc : (const void *)cp->cur_order;
    qtr_dec v;
    memcpy(&v, (const char *)base + f->offset, sizeof v);
    char buf[QTR_DEC_STRLEN];
    lua_pushstring(L, qtr_dec_format(v, buf));
    lua_pushvalue(L, -1);
    lua_setfield(L, backing, f->name);     /* backing has no __newindex: a raw set */
    cp->money_made |= 1u << f->slot;
    cp->money_value[f->slot] = v;
}

/* backing.__index(backing, key): a money field read for the first time in
 * this call. Upvalues: the compiled policy, the field table. */
static int lazy_money(lua_State *L)
{
    qh_compiled_policy *cp = lua_touserdata(L, lua_upvalueindex(1));
    const money_field *fields = lua_touserdata(L, lua_upvalueindex(2));
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (!key || !cp->cur_order) return 0;   /* outside a call: nothing */
    for (const money_field *f = fields; f->name; f++)
        if (strcmp(f->name, key) == 0) {
            make_money(L, cp, 1, f);
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
        make_money(L, cp, 1, f);
        lua_pop(L, 1);
    }
    return 0;
}

/* Forget the money strings made earlier whose value has changed (rawset
 * nil: the next read goes through __index again); unchanged ones stay. */
static void clear_money(lua_State *L, qh_compiled_policy *cp, int backing, const money_field *fields,
                        const void *now)
{
    for (const money_field *f = fields; f->name; f++) {
        if (!(cp->money_made & (1u << f->slot))) continue;
        qtr_dec v;
        memcpy(&v, (const char *)now + f->offset, sizeof v);
        if (v == cp->money_value[f->slot]) continue;
        lua_pushnil(L);
        lua_setfield(L, backing, f->name);
        cp->money_made &= ~(1u << f->slot);
    }
}

/* Give a backing table its lazy __index and __fill. */
static void make_lazy(lua_State *L, qh_compiled_policy *cp, int backing, const money_field *fields)
{
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, cp);
    lua_pushlightuserdata(L, (void *)fields);
    lua_pushcclosure(L, lazy_money, 2);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, cp);
    lua_pushlightuserdata(L, (void *)fields);
    lua_pushcclosure(L, fill_money, 2);
    lua_setfield(L, -2, "__fill");
    lua_setmetatable(L, backing);
}

/* kind: 'i' integer, 'b' boolean, 's' side name, 't' order type name. */
static void set_scalar(lua_State *L, qh_compiled_policy *cp, int t, int slot, const char *key, int64_t v, char kind)
{
    if (cp->scalar_cached[slot] && cp->scalar_cache[slot] == v) return;
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

static void set_text_cached(lua_State *L, int t, const char *key, const char *value, char *cache, size_t cap)
{
    if (cache[0] && strncmp(cache, value, cap) == 0) return;
    lua_pushstring(L, value);
    lua_setfield(L, t, key);
    snprintf(cache, cap, "%s", value);
}

static void fill_order(lua_State *L, qh_compiled_policy *cp, int t, const qtr_order_intent *o)
{
    char sym[QTR_SYMBOL_MAX];
    snprintf(sym, sizeof sym, "%s", o->symbol);   /* the struct's text may lack a NUL */
    set_text_cached(L, t, "symbol", sym, cp->symbol_cache, sizeof cp->symbol_cache);
    set_scalar(L, cp, t, QH_JS_SIDE, "side", o->side, 's');
    set_scalar(L, cp, t, QH_JS_TYPE, "type", o->type, 't');
    clear_money(L, cp, t, ORDER_MONEY, o);
    set_scalar(L, cp, t, QH_JS_REDUCE_ONLY, "reduce_only", o->reduce_only, 'b');
    if (!cp->confidence_cached || cp->confidence_cache != o->confidence) {
        lua_pushnumber(L, o->confidence);
        lua_setfield(L, t, "confidence");
        cp->confidence_cache = o->confidence;
        cp->confidence_cached = true;
    }
    char strat[QTR_NAME_MAX];
    snprintf(strat, sizeof strat, "%s", o->strategy);
    set_text_cached(L, t, "strategy", strat, cp->strategy_cache, sizeof cp->strategy_cache);
}

static void fill_ctx(lua_State *L, qh_compiled_policy *cp, int t, const qtr_risk_context *rc)
{
    clear_money(L, cp, t, CTX_MONEY, rc);
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
static bool valid_reason(const char *s, size_t len)
{
    if (len == 0 || len > 63) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
    return true;
}

static void read_reason(lua_State *L, const qh_compiled_policy *cp, int idx, const char *dflt, qtr_risk_decision *out)
{
    if (lua_isnil(L, idx) && dflt) {
        snprintf(out->reason, sizeof out->reason, "%s", dflt);
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
    const qh_compiled_policy *cp = jc->cp;
    qtr_risk_decision *out = jc->out;
    const char *verdict = lua_type(L, base) == LUA_TSTRING ? lua_tostring(L, base) : NULL;
    if (verdict && strcmp(verdict, "allow") == 0) {
        out->verdict = QTR_RISK_APPROVE;
        out->qty = jc->order->qty;
        snprintf(out->reason, sizeof out->reason, "allow");
    } else if (verdict && strcmp(verdict, "reject") == 0) {
        out->verdict = QTR_RISK_REJECT;
        out->qty = 0;
        read_reason(L, cp, base + 1, NULL, out);
    } else if (verdict && strcmp(verdict, "resize") == 0) {
        qtr_dec q = 0;
        int type = lua_type(L, base + 1);
        if (type == LUA_TNUMBER && lua_isinteger(L, base + 1)) {
            if (!qtr_dec_mul_int(QTR_DEC_SCALE, (int64_t)lua_tointeger(L, base + 1), &q))
                bad_answer(L, cp, "returned a resize quantity out of range");
        } else if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, base + 1, &len);
            if (qtr_dec_parse(s, len, &q) != QTR_DEC_OK)
                bad_answer(L, cp, "returned a resize quantity that is not an exact decimal string");
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

static int judge_trampoline(lua_State *L)
{
    judge_call *jc = lua_touserdata(L, 1);
    qh_compiled_policy *cp = jc->cp;
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->order_data_ref);
    fill_order(L, cp, 1, jc->order);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->ctx_data_ref);
    fill_ctx(L, cp, 2, jc->rc);
    int base = lua_gettop(L) + 1;   /* where judge's three results land */
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->judge_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->order_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cp->ctx_ref);
    cp->cur_order = jc->order;
    cp->cur_rc = jc->rc;
    lua_call(L, 2, 3);
    read_answer(L, jc, base);
    cp->cur_order = NULL;
    cp->cur_rc = NULL;
    return 0;
}

int qh_compiled_judge(qh_compiled_policy *cp, const qtr_order_intent *order, const qtr_risk_context *rc,
                      qtr_risk_decision *out, char *err, size_t errlen)
{
    judge_call jc = { cp, order, rc, out };
    memset(out, 0, sizeof *out);
    if (qh_sandbox_call_c(cp->sb, judge_trampoline, &jc, 0, err, errlen) == 0) return 0;
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
    cp->symbol_cache[0] = '\0';
    cp->strategy_cache[0] = '\0';
    return -1;
}

static int prepare_trampoline(lua_State *L)
{
    qh_compiled_policy *cp = lua_touserdata(L, 1);
    qh_sandbox_new_readonly(L);                 /* order: proxy, backing */
    make_lazy(L, cp, lua_gettop(L), ORDER_MONEY);
    cp->order_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cp->order_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    qh_sandbox_new_readonly(L);                 /* ctx */
    make_lazy(L, cp, lua_gettop(L), CTX_MONEY);
    cp->ctx_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cp->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int qh_compiled_judge_prepare(qh_compiled_policy *cp, char *err, size_t errlen)
{
    return qh_sandbox_call_c(cp->sb, prepare_trampoline, cp, 0, err, errlen);
}
