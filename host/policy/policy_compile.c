/* policy_compile.c — from file text to a compiled, validated, frozen and
 * self-tested policy in its own lua_State. Nothing here touches the active
 * policy: the caller swaps only what this returns. */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

qh_policy_config qh_policy_config_defaults(const qh_policy_config *cfg)
{
    qh_policy_config c = { 0 };
    if (cfg) c = *cfg;
    if (!c.mem_limit_bytes) c.mem_limit_bytes = QH_POLICY_DEFAULT_MEM;
    if (!c.instr_limit) c.instr_limit = QH_POLICY_DEFAULT_INSTR;
    if (c.max_age_ms <= 0) c.max_age_ms = QH_POLICY_DEFAULT_AGE;
    if (c.time_limit_ms <= 0) c.time_limit_ms = QH_SANDBOX_DEFAULT_TIME_MS;
    if (!c.alloc_limit_bytes) c.alloc_limit_bytes = QH_SANDBOX_DEFAULT_ALLOC;
    return c;
}

void qh_compiled_policy_free(qh_compiled_policy *cp)
{
    if (!cp) return;
    qh_sandbox_free(cp->sb);
    free(cp);
}

typedef struct setup_call {
    qh_compiled_policy *cp;
    const char *path;
    const char *buf;
    size_t len;
    qh_policy_rules *limits;
} setup_call;

/* Validate the returned table (argument 2) and keep a reference to judge. */
static int setup_trampoline(lua_State *L)
{
    setup_call *sc = lua_touserdata(L, 1);
    qh_policy_validate(L, 2, sc->path, sc->buf, sc->len, sc->limits);
    lua_pushliteral(L, "judge");
    lua_rawget(L, 2);
    lua_Debug ar;
    lua_pushvalue(L, -1);
    if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
        snprintf(sc->cp->judge_where, sizeof sc->cp->judge_where, "%s:%d", ar.short_src, ar.linedefined);
    else
        snprintf(sc->cp->judge_where, sizeof sc->cp->judge_where, "%s", sc->path);
    sc->cp->judge_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* The self-test: a small buy, a large sell and a reduce-only close, each of
 * which must get a well-formed answer (any verdict). */
static int self_test(qh_compiled_policy *cp, const char *path, char *err, size_t errlen)
{
    static const struct {
        const char *label, *symbol;
        qtr_side side;
        qtr_dec qty, price, equity, pos_qty;
        bool reduce_only, has_position;
        double confidence;
        int32_t open_positions;
    } samples[] = {
        { "small buy", "BTCUSDT", QTR_SIDE_BUY, QTR_DEC_INT(1) / 1000, QTR_DEC_INT(50000), QTR_DEC_INT(10000), 0,
          false, false, 0.9, 0 },
        { "large sell", "ETHUSDT", QTR_SIDE_SELL, QTR_DEC_INT(1000), QTR_DEC_INT(3000), QTR_DEC_INT(10000), 0, false,
          false, 0.7, 1 },
        { "reduce-only sell", "BTCUSDT", QTR_SIDE_SELL, QTR_DEC_INT(1) / 100, QTR_DEC_INT(50000), QTR_DEC_INT(9800),
          QTR_DEC_INT(1) / 100, true, true, 0.5, 1 },
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        qtr_order_intent o;
        memset(&o, 0, sizeof o);
        snprintf(o.symbol, sizeof o.symbol, "%s", samples[i].symbol);
        snprintf(o.strategy, sizeof o.strategy, "self_test");
        o.side = samples[i].side;
        o.type = QTR_ORDER_MARKET;
        o.qty = samples[i].qty;
        o.reduce_only = samples[i].reduce_only;
        o.confidence = samples[i].confidence;
        qh_risk_ctx rc;
        memset(&rc, 0, sizeof rc);
        rc.equity = samples[i].equity;
        rc.open_positions = samples[i].open_positions;
        rc.open_symbols = samples[i].open_positions;
        rc.symbol_has_position = samples[i].has_position;
        rc.position_qty = samples[i].pos_qty;
        rc.price = samples[i].price;
        if (!qtr_dec_mul(o.qty, rc.price, QTR_ROUND_DOWN, &rc.order_notional) ||
            !qtr_dec_mul(qtr_dec_abs(rc.position_qty), rc.price, QTR_ROUND_DOWN, &rc.position_notional)) {
            snprintf(err, errlen, "%s: self-test sample out of range", path);
            return -1;
        }
        rc.exposure = rc.position_notional;
        rc.leverage = 1;
        qtr_risk_decision d;
        char why[QTR_TEXT_MAX];
        if (qh_compiled_judge(cp, &o, &rc, &d, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s (self-test: %s)", why, samples[i].label);
            return -1;
        }
    }
    return 0;
}

/* Lua's own messages carry "file:line:"; memory errors carry nothing. */
static void name_file(char *err, size_t errlen, const char *path)
{
    if (strncmp(err, path, strlen(path)) == 0) return;
    char tmp[QTR_TEXT_MAX * 2];
    snprintf(tmp, sizeof tmp, "%s: %s", path, err);
    snprintf(err, errlen, "%s", tmp);
}

qh_compiled_policy *qh_policy_compile(const qh_policy_config *cfg_in, const char *path, const char *buf,
                                      size_t len, qh_policy_rules *limits, char *err, size_t errlen)
{
    qh_policy_config cfg = qh_policy_config_defaults(cfg_in);
    qh_compiled_policy *cp = calloc(1, sizeof *cp);
    if (!cp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    cp->judge_ref = cp->order_ref = cp->ctx_ref = LUA_NOREF;
    cp->order_data_ref = cp->ctx_data_ref = cp->call_ref = LUA_NOREF;
    cp->sb = qh_sandbox_new(cfg.mem_limit_bytes, cfg.instr_limit);
    if (!cp->sb) {
        snprintf(err, errlen, "%s: cannot create the Lua sandbox (memory limit %zu bytes too small?)", path,
                 cfg.mem_limit_bytes);
        free(cp);
        return NULL;
    }
    qh_sandbox_set_call_limits(cp->sb, cfg.time_limit_ms, cfg.alloc_limit_bytes);
    lua_State *L = cp->sb->L;
    setup_call sc = { cp, path, buf, len, limits };
    if (qh_sandbox_load_text(cp->sb, buf, len, path, err, errlen) != 0 ||
        qh_sandbox_call(cp->sb, 0, 1, err, errlen) != 0 ||
        qh_sandbox_call_c(cp->sb, setup_trampoline, &sc, -1, err, errlen) != 0 ||
        qh_sandbox_freeze(cp->sb, -1, err, errlen) != 0 ||
        qh_compiled_judge_prepare(cp, err, errlen) != 0) {
        name_file(err, errlen, path);
        qh_compiled_policy_free(cp);
        return NULL;
    }
    lua_settop(L, 0);
    cp->money_dec = limits->money_dec;
    if (qh_policy_check_caps(&cfg.caps, limits, path, buf, len, err, errlen) != 0 ||
        self_test(cp, path, err, errlen) != 0) {
        name_file(err, errlen, path);
        qh_compiled_policy_free(cp);
        return NULL;
    }
    /* Start the live policy with no garbage from loading. */
    lua_gc(L, LUA_GCCOLLECT);
    return cp;
}
