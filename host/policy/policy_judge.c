/* policy_judge.c — one judge(order, ctx) call per order.
 *
 * The two argument tables are created once per lua_State and are read-only
 * to Lua (proxies over hidden backing tables): C overwrites the fields in
 * place each call, and a judge() cannot leave anything behind for the next
 * call. Money goes in as exact decimal strings; a field whose value did not
 * change since the previous call is not formatted and pushed again (the
 * backing table still holds the same string), and likewise for the other
 * fields, which keeps the call cheap. */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

typedef struct judge_call {
    qh_compiled_policy *cp;
    const qtr_order_intent *order;
    const qtr_risk_context *rc;
    qtr_risk_decision *out;
} judge_call;

static void set_money(lua_State *L, qh_compiled_policy *cp, int t, int slot, const char *key, qtr_dec v)
{
    if (cp->money_cached[slot] && cp->money_cache[slot] == v) return;
    char buf[QTR_DEC_STRLEN];
    lua_pushstring(L, qtr_dec_format(v, buf));
    lua_setfield(L, t, key);
    cp->money_cache[slot] = v;
    cp->money_cached[slot] = true;
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
    set_money(L, cp, t, QH_JF_QTY, "qty", o->qty);
    set_money(L, cp, t, QH_JF_PRICE, "price", o->price);
    set_money(L, cp, t, QH_JF_STOP_PRICE, "stop_price", o->stop_price);
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
    set_money(L, cp, t, QH_JF_EQUITY, "equity", rc->equity);
    set_money(L, cp, t, QH_JF_EXPOSURE, "exposure", rc->exposure);
    set_money(L, cp, t, QH_JF_DRAWDOWN, "drawdown_pct", rc->drawdown_pct);
    set_money(L, cp, t, QH_JF_DAILY_PNL, "daily_pnl", rc->daily_pnl);
    set_scalar(L, cp, t, QH_JS_OPEN_POSITIONS, "open_positions", rc->open_positions, 'i');
    set_scalar(L, cp, t, QH_JS_OPEN_SYMBOLS, "open_symbols", rc->open_symbols, 'i');
    set_scalar(L, cp, t, QH_JS_HAS_POSITION, "symbol_has_position", rc->symbol_has_position, 'b');
    set_money(L, cp, t, QH_JF_POS_QTY, "position_qty", rc->position_qty);
    set_money(L, cp, t, QH_JF_POS_NOTIONAL, "position_notional", rc->position_notional);
    set_money(L, cp, t, QH_JF_CTX_PRICE, "price", rc->price);
    set_money(L, cp, t, QH_JF_ORDER_NOTIONAL, "order_notional", rc->order_notional);
    set_money(L, cp, t, QH_JF_FUNDING, "funding_rate", rc->funding_rate);
    set_scalar(L, cp, t, QH_JS_HAS_BOOK, "has_book", rc->has_book, 'b');
    set_money(L, cp, t, QH_JF_SPREAD, "spread_bps", rc->spread_bps);
    set_money(L, cp, t, QH_JF_DEPTH, "depth_notional", rc->depth_notional);
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
    lua_call(L, 2, 3);
    read_answer(L, jc, base);
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
    /* A failed call may have left the caches ahead of the tables. */
    memset(cp->money_cached, 0, sizeof cp->money_cached);
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
    cp->order_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cp->order_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    qh_sandbox_new_readonly(L);                 /* ctx */
    cp->ctx_data_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cp->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int qh_compiled_judge_prepare(qh_compiled_policy *cp, char *err, size_t errlen)
{
    return qh_sandbox_call_c(cp->sb, prepare_trampoline, cp, 0, err, errlen);
}
