/* config.c — see config.h. */
#include "core/config.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_caps.h"
#include "core/file_read.h"
#include "core/option_check.h"
#include "policy/sandbox.h"

/* The config runs in the host's one sandbox (policy/sandbox.h), of the
 * config kind (os.getenv for paths, nothing else of os), with these budgets. */
#define CONFIG_MAX_BYTES (1 << 20)
#define CONFIG_MEM_LIMIT ((size_t)64 << 20)
#define CONFIG_INSTR_LIMIT 10000000
#define CONFIG_TIME_LIMIT_MS 2000
#define CONFIG_ALLOC_LIMIT ((size_t)512 << 20)

typedef struct walker {
    lua_State *L;
    const char *file;
    char *err;
    size_t errlen;
    bool failed;
} walker;

static void fail(walker *w, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(walker *w, const char *path, const char *fmt, ...)
{
    if (w->failed) return;          /* keep the first error */
    w->failed = true;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s: %s: %s", w->file, path, why);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();                /* config is read once at start; out of memory is fatal */
    return d;
}

static void join(char *out, size_t cap, const char *parent, const char *key)
{
    if (parent && *parent) snprintf(out, cap, "%s.%s", parent, key);
    else snprintf(out, cap, "%s", key);
}

/* ---- typed field readers: the value is at the top of the stack ---- */

static bool read_string(walker *w, const char *path, char *out, size_t cap)
{
    if (lua_type(w->L, -1) != LUA_TSTRING) {
        fail(w, path, "expected a string, got %s", luaL_typename(w->L, -1));
        return false;
    }
    size_t len;
    const char *s = lua_tolstring(w->L, -1, &len);
    if (len >= cap || strlen(s) != len) {
        fail(w, path, "string too long or contains NUL (max %zu bytes)", cap - 1);
        return false;
    }
    memcpy(out, s, len + 1);
    return true;
}

static bool read_int(walker *w, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
    if (!lua_isinteger(w->L, -1)) {
        fail(w, path, "expected an integer, got %s", lua_type(w->L, -1) == LUA_TNUMBER ? "a float" : luaL_typename(w->L, -1));
        return false;
    }
    lua_Integer v = lua_tointeger(w->L, -1);
    if (v < lo || v > hi) {
        fail(w, path, "%lld is out of range [%lld, %lld]", (long long)v, (long long)lo, (long long)hi);
        return false;
    }
    *out = v;
    return true;
}

static bool read_bool(walker *w, const char *path, bool *out)
{
    if (lua_type(w->L, -1) != LUA_TBOOLEAN) {
        fail(w, path, "expected true or false, got %s", luaL_typename(w->L, -1));
        return false;
    }
    *out = lua_toboolean(w->L, -1);
    return true;
}

/* Money: a decimal string or an integer; a Lua float is refused because it
 * has already lost exactness. */
static bool read_decimal(walker *w, const char *path, qtr_dec *out)
{
    if (lua_isinteger(w->L, -1)) {
        lua_Integer v = lua_tointeger(w->L, -1);
        if (v > INT64_MAX / QTR_DEC_SCALE || v < -(INT64_MAX / QTR_DEC_SCALE)) {
            fail(w, path, "number out of range");
            return false;
        }
        *out = QTR_DEC_INT(v);
        return true;
    }
    if (lua_type(w->L, -1) == LUA_TNUMBER) {
        fail(w, path, "give decimals as strings (e.g. \"%g\"), not Lua floats", lua_tonumber(w->L, -1));
        return false;
    }
    if (lua_type(w->L, -1) != LUA_TSTRING) {
        fail(w, path, "expected a decimal string, got %s", luaL_typename(w->L, -1));
        return false;
    }
    size_t len;
    const char *s = lua_tolstring(w->L, -1, &len);
    qtr_dec_status st = qtr_dec_parse(s, len, out);
    if (st != QTR_DEC_OK) {
        fail(w, path, "'%s': %s", s, qtr_dec_status_str(st));
        return false;
    }
    return true;
}

static bool read_string_list(walker *w, const char *path, char ***out, size_t *n)
{
    if (lua_type(w->L, -1) != LUA_TTABLE) {
        fail(w, path, "expected a list of strings, got %s", luaL_typename(w->L, -1));
        return false;
    }
    lua_Integer len = (lua_Integer)lua_rawlen(w->L, -1);
    if (len > 4096) {
        fail(w, path, "list too long");
        return false;
    }
    /* refuse non-array keys: a typo like {a = 1} would silently vanish */
    lua_pushnil(w->L);
    while (lua_next(w->L, -2)) {
        bool ok = lua_isinteger(w->L, -2) && lua_tointeger(w->L, -2) >= 1 && lua_tointeger(w->L, -2) <= len;
        lua_pop(w->L, 1);
        if (!ok) {
            lua_pop(w->L, 1);
            fail(w, path, "expected a list (array) of strings");
            return false;
        }
    }
    char **items = calloc((size_t)len + 1, sizeof *items);
    if (!items) abort();
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(w->L, -1, i);
        if (lua_type(w->L, -1) != LUA_TSTRING) {
            char p[256];
            snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
            fail(w, p, "expected a string, got %s", luaL_typename(w->L, -1));
            lua_pop(w->L, 1);
            for (lua_Integer k = 0; k < i - 1; k++) free(items[k]);
            free(items);
            return false;
        }
        items[i - 1] = xstrdup(lua_tostring(w->L, -1));
        lua_pop(w->L, 1);
    }
    *out = items;
    *n = (size_t)len;
    return true;
}

static void free_list(char **l, size_t n)
{
    if (!l) return;
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* Iterate a table's string keys, refusing keys not in `allowed`. */
static bool check_keys(walker *w, const char *path, const char *const *allowed)
{
    if (lua_type(w->L, -1) != LUA_TTABLE) {
        fail(w, path[0] ? path : "(top level)", "expected a table, got %s", luaL_typename(w->L, -1));
        return false;
    }
    lua_pushnil(w->L);
    while (lua_next(w->L, -2)) {
        lua_pop(w->L, 1);
        if (lua_type(w->L, -1) != LUA_TSTRING) {
            lua_pop(w->L, 1);
            fail(w, path[0] ? path : "(top level)", "unexpected non-name key");
            return false;
        }
        const char *k = lua_tostring(w->L, -1);
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) known = true;
        if (!known) {
            char p[256];
            join(p, sizeof p, path, k);
            lua_pop(w->L, 1);
            fail(w, p, "unknown setting");
            return false;
        }
    }
    return true;
}

/* Push t[key]; true if present (not nil). Always leaves one value pushed.
 * Raw: a metatable's __index is never run (it could error or loop). */
static bool field(walker *w, const char *key)
{
    lua_pushstring(w->L, key);
    return lua_rawget(w->L, -2) != LUA_TNIL;
}

static bool valid_symbol(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n >= QTR_SYMBOL_MAX) return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return false;
    return true;
}

static void parse_market(walker *w, qh_config *c)
{
    static const char *const keys[] = { "source", "symbols", "interval_ms", "seed", "files", "start_price",
                                        "replay_interval_ms", NULL };
    if (!check_keys(w, "market", keys)) return;
    char src[32] = "synthetic";
    if (field(w, "source")) read_string(w, "market.source", src, sizeof src);
    lua_pop(w->L, 1);
    if (strcmp(src, "synthetic") == 0) c->market.source = QH_MARKET_SYNTHETIC;
    else if (strcmp(src, "csv") == 0) c->market.source = QH_MARKET_CSV;
    else if (strcmp(src, "exchange") == 0) c->market.source = QH_MARKET_EXCHANGE;
    else fail(w, "market.source", "'%s' is not one of synthetic, csv, exchange", src);
    if (field(w, "symbols")) {
        free_list(c->market.symbols, c->market.n_symbols);
        c->market.symbols = NULL;
        c->market.n_symbols = 0;
        if (read_string_list(w, "market.symbols", &c->market.symbols, &c->market.n_symbols))
            for (size_t i = 0; i < c->market.n_symbols; i++)
                if (!valid_symbol(c->market.symbols[i])) {
                    char p[64];
                    snprintf(p, sizeof p, "market.symbols[%zu]", i + 1);
                    fail(w, p, "'%s' is not a symbol like BTCUSDT", c->market.symbols[i]);
                }
    }
    lua_pop(w->L, 1);
    if (field(w, "interval_ms")) read_int(w, "market.interval_ms", 1, INT64_C(86400000) * 7, &c->market.interval_ms);
    lua_pop(w->L, 1);
    if (field(w, "seed")) {
        int64_t s = 0;
        if (read_int(w, "market.seed", 0, INT64_MAX, &s)) c->market.seed = (uint64_t)s;
    }
    lua_pop(w->L, 1);
    if (field(w, "files") && read_string_list(w, "market.files", &c->market.files, &c->market.n_files) &&
        c->market.n_files > 64)
        fail(w, "market.files", "at most 64 files");
    lua_pop(w->L, 1);
    if (field(w, "start_price")) {
        if (read_decimal(w, "market.start_price", &c->market.start_price) && c->market.start_price <= 0)
            fail(w, "market.start_price", "must be > 0");
    }
    lua_pop(w->L, 1);
    if (field(w, "replay_interval_ms")) read_int(w, "market.replay_interval_ms", 0, 3600000, &c->market.replay_interval_ms);
    lua_pop(w->L, 1);
    if (!w->failed && c->market.source == QH_MARKET_CSV && c->market.n_files == 0)
        fail(w, "market.files", "source \"csv\" needs at least one file");
    if (!w->failed && c->market.source == QH_MARKET_SYNTHETIC && c->market.n_symbols == 0)
        fail(w, "market.symbols", "the synthetic market needs at least one symbol");
}

static void parse_option_value(walker *w, const char *path, qh_optval *o)
{
    lua_State *L = w->L;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        o->type = QH_OPTV_STRING;
        o->str = xstrdup(lua_tostring(L, -1));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1)) {
            o->type = QH_OPTV_INT;
            o->i = lua_tointeger(L, -1);
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)o->i);
            o->str = xstrdup(buf);
        } else {
            o->type = QH_OPTV_NUMBER;
            o->num = lua_tonumber(L, -1);
        }
        break;
    case LUA_TBOOLEAN:
        o->type = QH_OPTV_BOOL;
        o->b = lua_toboolean(L, -1);
        break;
    case LUA_TTABLE:
        o->type = QH_OPTV_LIST;
        read_string_list(w, path, &o->list, &o->n_list);
        break;
    default:
        fail(w, path, "unsupported value of type %s", luaL_typename(L, -1));
    }
}

static void parse_plugin(walker *w, const char *path, qh_plugin_conf *p)
{
    static const char *const keys[] = { "kind", "name", "file", "required", "options", NULL };
    if (!check_keys(w, path, keys)) return;
    char sub[256], kind[32] = "";
    p->required = true;
    join(sub, sizeof sub, path, "kind");
    if (field(w, "kind")) read_string(w, sub, kind, sizeof kind);
    else fail(w, sub, "missing (strategy, risk, exchange or dashboard)");
    lua_pop(w->L, 1);
    if (!w->failed) {
        p->kind = 0;
        for (int k = QTR_KIND_STRATEGY; k <= QTR_KIND_DASHBOARD; k++)
            if (strcmp(kind, qtr_kind_name((qtr_kind)k)) == 0) p->kind = (qtr_kind)k;
        if (!p->kind) fail(w, sub, "unknown kind '%s' (strategy, risk, exchange or dashboard)", kind);
    }
    join(sub, sizeof sub, path, "name");
    if (field(w, "name")) read_string(w, sub, p->name, sizeof p->name);
    else fail(w, sub, "missing");
    lua_pop(w->L, 1);
    join(sub, sizeof sub, path, "file");
    if (field(w, "file")) read_string(w, sub, p->file, sizeof p->file);
    lua_pop(w->L, 1);
    join(sub, sizeof sub, path, "required");
    if (field(w, "required")) read_bool(w, sub, &p->required);
    lua_pop(w->L, 1);
    join(sub, sizeof sub, path, "options");
    if (field(w, "options")) {
        if (lua_type(w->L, -1) != LUA_TTABLE) {
            fail(w, sub, "expected a table");
        } else {
            size_t n = 0;
            lua_pushnil(w->L);
            while (lua_next(w->L, -2)) { n++; lua_pop(w->L, 1); }
            p->opts = calloc(n ? n : 1, sizeof *p->opts);
            if (!p->opts) abort();
            lua_pushnil(w->L);
            while (!w->failed && lua_next(w->L, -2)) {
                if (lua_type(w->L, -2) != LUA_TSTRING) {
                    fail(w, sub, "option names must be strings");
                    lua_pop(w->L, 1);
                    break;
                }
                qh_optval *o = &p->opts[p->n_opts++];
                o->name = xstrdup(lua_tostring(w->L, -2));
                char op[320];
                join(op, sizeof op, sub, o->name);
                parse_option_value(w, op, o);
                lua_pop(w->L, 1);
            }
        }
    }
    lua_pop(w->L, 1);
}

static void parse_plugins(walker *w, qh_config *c)
{
    if (lua_type(w->L, -1) != LUA_TTABLE) {
        fail(w, "plugins", "expected a list of plugin tables");
        return;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(w->L, -1);
    if (n > 64) {
        fail(w, "plugins", "at most 64 plugins");
        return;
    }
    c->plugins = calloc((size_t)n + 1, sizeof *c->plugins);
    if (!c->plugins) abort();
    for (lua_Integer i = 1; i <= n && !w->failed; i++) {
        char path[64];
        snprintf(path, sizeof path, "plugins[%lld]", (long long)i);
        lua_rawgeti(w->L, -1, i);
        int top = lua_gettop(w->L);
        c->n_plugins++;
        parse_plugin(w, path, &c->plugins[i - 1]);
        lua_settop(w->L, top);
        lua_pop(w->L, 1);
    }
}

static void parse_top(walker *w, qh_config *c)
{
    static const char *const keys[] = { "mode", "log_level", "state_dir", "plugin_path", "market", "account",
                                        "policy", "signals", "store", "ess", "client_id_prefix", "plugins",
                                        "caps", "host_id", "role", "bus", NULL };
    lua_State *L = w->L;
    if (!check_keys(w, "", keys)) return;
    char mode[16] = "paper";
    if (field(w, "mode")) read_string(w, "mode", mode, sizeof mode);
    lua_pop(L, 1);
    if (strcmp(mode, "paper") == 0) c->live = false;
    else if (strcmp(mode, "live") == 0) c->live = true;
    else fail(w, "mode", "'%s' is not paper or live", mode);
    if (field(w, "log_level")) {
        if (read_string(w, "log_level", c->log_level, sizeof c->log_level) &&
            strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") && strcmp(c->log_level, "warn") &&
            strcmp(c->log_level, "error"))
            fail(w, "log_level", "'%s' is not debug, info, warn or error", c->log_level);
    }
    lua_pop(L, 1);
    if (field(w, "state_dir")) read_string(w, "state_dir", c->state_dir, sizeof c->state_dir);
    lua_pop(L, 1);
    if (field(w, "plugin_path")) read_string_list(w, "plugin_path", &c->plugin_path, &c->n_plugin_path);
    lua_pop(L, 1);
    if (field(w, "client_id_prefix")) {
        if (read_string(w, "client_id_prefix", c->client_id_prefix, sizeof c->client_id_prefix))
            for (const char *s = c->client_id_prefix; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) {
                    fail(w, "client_id_prefix", "only a-z, 0-9 and - (at most 15)");
                    break;
                }
    }
    lua_pop(L, 1);
    if (field(w, "market")) parse_market(w, c);
    lua_pop(L, 1);
    if (field(w, "account")) {
        static const char *const k[] = { "starting_balance", NULL };
        if (check_keys(w, "account", k)) {
            if (field(w, "starting_balance") && read_decimal(w, "account.starting_balance", &c->starting_balance) &&
                c->starting_balance <= 0)
                fail(w, "account.starting_balance", "must be > 0");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (field(w, "policy")) {
        static const char *const k[] = { "file", "reload_interval_s", "mem_limit_kb", "instr_limit", "time_limit_ms",
                                         "alloc_limit_kb", NULL };
        if (check_keys(w, "policy", k)) {
            int64_t v;
            if (field(w, "file")) read_string(w, "policy.file", c->policy.file, sizeof c->policy.file);
            lua_pop(L, 1);
            if (field(w, "reload_interval_s") && read_int(w, "policy.reload_interval_s", 1, 86400 * 7, &v))
                c->policy.reload_interval_ms = v * 1000;
            lua_pop(L, 1);
            if (field(w, "mem_limit_kb") && read_int(w, "policy.mem_limit_kb", 256, 1024 * 1024, &v))
                c->policy.mem_limit_bytes = (size_t)v * 1024;
            lua_pop(L, 1);
            if (field(w, "instr_limit") && read_int(w, "policy.instr_limit", 1000, INT64_C(1000000000), &v))
                c->policy.instr_limit = (uint64_t)v;
            lua_pop(L, 1);
            if (field(w, "time_limit_ms") && read_int(w, "policy.time_limit_ms", 1, 10000, &v))
                c->policy.time_limit_ms = v;
            lua_pop(L, 1);
            if (field(w, "alloc_limit_kb") && read_int(w, "policy.alloc_limit_kb", 256, 4 * 1024 * 1024, &v))
                c->policy.alloc_limit_bytes = (size_t)v * 1024;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (field(w, "signals")) {
        static const char *const k[] = { "capacity", "per_cycle", "max_age_ms", "cycle_ms", NULL };
        if (check_keys(w, "signals", k)) {
            int64_t v;
            if (field(w, "capacity") && read_int(w, "signals.capacity", 1, 100000, &v)) c->signals.capacity = (size_t)v;
            lua_pop(L, 1);
            if (field(w, "per_cycle") && read_int(w, "signals.per_cycle", 1, 256, &v)) c->signals.per_cycle = (size_t)v;
            lua_pop(L, 1);
            if (field(w, "max_age_ms")) read_int(w, "signals.max_age_ms", 1, INT64_C(86400000), &c->signals.max_age_ms);
            lua_pop(L, 1);
            if (field(w, "cycle_ms")) read_int(w, "signals.cycle_ms", 1, 60000, &c->signals.cycle_ms);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (field(w, "store")) {
        static const char *const k[] = { "path", NULL };
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
            c->store.disabled = true;  /* store = false: no store */
        } else if (check_keys(w, "store", k)) {
            if (field(w, "path")) read_string(w, "store.path", c->store.path, sizeof c->store.path);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (field(w, "ess")) {
        static const char *const k[] = { "state_file", NULL };
        if (check_keys(w, "ess", k)) {
            if (field(w, "state_file")) read_string(w, "ess.state_file", c->ess_state_file, sizeof c->ess_state_file);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    /* caps: parsed in config_caps.c (engineer "policy"); keep this hook when
     * the walk becomes option tables ("oneofeach"). */
    if (field(w, "caps")) {
        qh_caps_error ce;
        if (qh_config_caps_parse(L, -1, &c->caps, &ce) != 0) fail(w, ce.where, "%s", ce.why);
    }
    lua_pop(L, 1);
    /* host_id, role, bus: parsed in bus/bus_config.c (engineer "redis"). */
    qh_bus_config_error be;
    if (qh_bus_config_parse(L, -1, &c->bus, &be) != 0) fail(w, be.where, "%s", be.why);
    if (field(w, "plugins")) parse_plugins(w, c);
    else fail(w, "plugins", "missing: list the plugins to load");
    lua_pop(L, 1);
}

static void set_defaults(qh_config *c)
{
    memset(c, 0, sizeof *c);
    qtr_strlcpy(c->log_level, "info", sizeof c->log_level);
    qtr_strlcpy(c->state_dir, "./var", sizeof c->state_dir);
    c->market.source = QH_MARKET_SYNTHETIC;
    c->market.interval_ms = 1000;
    c->market.seed = 42;
    c->starting_balance = QTR_DEC_INT(10000);
    c->policy.reload_interval_ms = 600000;
    c->signals.capacity = 100;
    c->signals.per_cycle = 10;
    c->signals.max_age_ms = 5000;
    c->signals.cycle_ms = 100;
    qtr_strlcpy(c->client_id_prefix, "qtr", sizeof c->client_id_prefix);
}

typedef struct walk_call {
    walker *w;
    qh_config *out;
} walk_call;

/* The walk of the returned table (argument 2), in protected mode and under
 * the sandbox's budgets: a Lua error here (out of memory, say) is reported,
 * never a panic. */
static int walk_trampoline(lua_State *L)
{
    walk_call *wc = lua_touserdata(L, 1);
    wc->w->L = L;
    if (lua_type(L, 2) != LUA_TTABLE) {
        fail(wc->w, "(top level)", "the file must return a table, it returned %s", luaL_typename(L, 2));
        return 0;
    }
    lua_settop(L, 2);
    parse_top(wc->w, wc->out);
    return 0;
}

/* A sandbox error names file:line already, unless it came from outside
 * any Lua line (the walk): then name the file. */
static void name_file(char *err, size_t errlen, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(err, name, n) == 0 && err[n] == ':') return;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s: %s", name, err);
    qtr_strlcpy(err, tmp, errlen);
}

static int load(const char *text, size_t len, const char *name, const char *dir, qh_config *out, char *err,
                size_t errlen)
{
    set_defaults(out);
    qtr_strlcpy(out->path, name, sizeof out->path);
    qtr_strlcpy(out->dir, dir && *dir ? dir : ".", sizeof out->dir);
    qh_sandbox *sb = qh_sandbox_new_kind(QH_SANDBOX_CONFIG, CONFIG_MEM_LIMIT, CONFIG_INSTR_LIMIT);
    if (!sb) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    qh_sandbox_set_call_limits(sb, CONFIG_TIME_LIMIT_MS, CONFIG_ALLOC_LIMIT);
    walker w = { .L = sb->L, .file = name, .err = err, .errlen = errlen };
    walk_call wc = { &w, out };
    char lerr[512];
    /* text only — a precompiled chunk is never loaded */
    if (qh_sandbox_load_text(sb, text, len, name, lerr, sizeof lerr) != 0 ||
        qh_sandbox_call(sb, 0, 1, lerr, sizeof lerr) != 0 ||
        qh_sandbox_call_c(sb, walk_trampoline, &wc, -1, lerr, sizeof lerr) != 0) {
        if (!w.failed) {
            name_file(lerr, sizeof lerr, name);
            qtr_strlcpy(err, lerr, errlen);
            w.failed = true;
        }
    }
    qh_sandbox_free(sb);
    if (w.failed) {
        qh_config_free(out);
        return -1;
    }
    if (!out->ess_state_file[0]) snprintf(out->ess_state_file, sizeof out->ess_state_file, "%.400s/ess.state", out->state_dir);
    if (out->store.disabled) out->store.path[0] = '\0';
    else if (!out->store.path[0]) snprintf(out->store.path, sizeof out->store.path, "%.400s/qtr.db", out->state_dir);
    return 0;
}

int qh_config_load_string(const char *text, const char *name, const char *dir, qh_config *out, char *err,
                          size_t errlen)
{
    return load(text, strlen(text), name, dir, out, err, errlen);
}

int qh_config_load_file(const char *path, qh_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    char *buf = qh_file_read_whole(path, "config", CONFIG_MAX_BYTES, &n, err, errlen);
    if (!buf) return -1;
    char dir[512];
    qtr_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else qtr_strlcpy(dir, ".", sizeof dir);
    int rc = load(buf, n, path, dir, out, err, errlen);
    free(buf);
    return rc;
}

void qh_config_free(qh_config *c)
{
    if (!c) return;
    free_list(c->plugin_path, c->n_plugin_path);
    free_list(c->market.symbols, c->market.n_symbols);
    free_list(c->market.files, c->market.n_files);
    for (size_t i = 0; i < c->n_plugins; i++) {
        qh_plugin_conf *p = &c->plugins[i];
        for (size_t k = 0; k < p->n_opts; k++) {
            free(p->opts[k].name);
            free(p->opts[k].str);
            free_list(p->opts[k].list, p->opts[k].n_list);
        }
        free(p->opts);
    }
    free(c->plugins);
    memset(c, 0, sizeof *c);
}

void qh_config_resolve(const qh_config *cfg, const char *path, char *out, size_t outlen)
{
    if (!path || path[0] == '/' || !cfg->dir[0] || strcmp(cfg->dir, ".") == 0) qtr_strlcpy(out, path ? path : "", outlen);
    else snprintf(out, outlen, "%s/%s", cfg->dir, path);
}

int qh_config_check_options(const qh_plugin_conf *pc, const qtr_option *decl, char *err, size_t errlen)
{
    char why[320];
    for (const qtr_option *o = decl; o && o->name; o++)
        if (!qh_option_decl_valid(o, why, sizeof why)) {
            snprintf(err, errlen, "plugin %s: option %s: bad declaration in the plugin: %s", pc->name, o->name, why);
            return -1;
        }
    for (size_t i = 0; i < pc->n_opts; i++) {
        const qh_optval *v = &pc->opts[i];
        const qtr_option *d = NULL;
        for (const qtr_option *o = decl; o && o->name; o++)
            if (strcmp(o->name, v->name) == 0) d = o;
        if (!d) {
            snprintf(err, errlen, "plugin %s: option %s: unknown option", pc->name, v->name);
            return -1;
        }
        if (!qh_option_value_valid(d, v, why, sizeof why)) {
            snprintf(err, errlen, "plugin %s: option %s: %s", pc->name, v->name, why);
            return -1;
        }
    }
    for (const qtr_option *o = decl; o && o->name; o++) {
        if (!(o->flags & QTR_OPT_REQUIRED)) continue;
        bool present = false;
        for (size_t i = 0; i < pc->n_opts; i++)
            if (strcmp(pc->opts[i].name, o->name) == 0) present = true;
        if (!present) {
            snprintf(err, errlen, "plugin %s: option %s: required, not set (%s)", pc->name, o->name,
                     o->help ? o->help : qh_option_type_name(o->type));
            return -1;
        }
    }
    return 0;
}

/* The embedded defaults: no file, account or network needed. */
const char *qh_config_default_run(void)
{
    return "return {\n"
           "  mode = 'paper',\n"
           "  market = { source = 'synthetic', symbols = { 'BTCUSDT', 'ETHUSDT' }, interval_ms = 1000, seed = 42 },\n"
           "  account = { starting_balance = '10000' },\n"
           "  policy = { reload_interval_s = 600 },   -- the built-in default policy (policies/default.lua)\n"
           "  plugins = {\n"
           "    { kind = 'exchange', name = 'paper' },\n"
           "    { kind = 'risk', name = 'policy' },\n"
           /* QTR_DASHBOARD_LISTEN moves the dashboard (tests give a free port); when set, the
            * dashboard is required, so a bad address is refused instead of left out. */
           "    { kind = 'dashboard', name = 'dashboard', file = 'dashboard_web.so',\n"
           "      required = os.getenv('QTR_DASHBOARD_LISTEN') ~= nil,\n"
           "      options = { listen = os.getenv('QTR_DASHBOARD_LISTEN') or '127.0.0.1:8080' } },\n"
           "    { kind = 'strategy', name = 'ma_cross', options = { fast = 5, slow = 20, order_notional = '500' } },\n"
           "  },\n"
           "}\n";
}

const char *qh_config_default_backtest(void)
{
    return "return {\n"
           "  mode = 'paper',\n"
           "  account = { starting_balance = '10000' },\n"

           "  store = false,\n"
           "  plugins = {\n"
           "    { kind = 'exchange', name = 'paper' },\n"
           "    { kind = 'risk', name = 'policy' },\n"
           "    { kind = 'strategy', name = 'ma_cross', options = { fast = 10, slow = 30, order_notional = '1000' } },\n"
           "  },\n"
           "}\n";
}
