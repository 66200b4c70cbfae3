/* config.c — see config.h. */
#include "core/config.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_caps.h"
#include "core/config_limits.h"
#include "core/config_sections.h"
#include "core/config_table.h"
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

static void free_list(char **l, size_t n)
{
    if (!l) return;
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* Push t[key]; true if present (not nil). Always leaves one value pushed.
 * Raw: a metatable's __index is never run (it could error or loop). */
static bool field(walker *w, const char *key)
{
    lua_pushstring(w->L, key);
    return lua_rawget(w->L, -2) != LUA_TNIL;
}

/* One declared section (core/config_sections.c) from the table on top. */
static void read_section(walker *w, const qh_conf_section *s, void *base)
{
    if (w->failed) return;
    qh_conf_error e;
    if (qh_conf_read(w->L, s, base, &e) != 0) fail(w, e.where, "%s", e.why);
}

/* The market's rules across keys, once its table is read. */
static void check_market(walker *w, const qh_config *c)
{
    if (w->failed) return;
    if (c->market.n_files > 64) fail(w, "market.files", "at most 64 files");
    else if (c->market.source == QH_MARKET_CSV && c->market.n_files == 0)
        fail(w, "market.files", "source \"csv\" needs at least one file");
    else if (c->market.source == QH_MARKET_SYNTHETIC && c->market.n_symbols == 0)
        fail(w, "market.symbols", "the synthetic market needs at least one symbol");
}

static void parse_plugin(walker *w, const char *path, qh_plugin_conf *p)
{
    /* kind, name, file, required: the plugins[i] table (config_sections.c) */
    qh_conf_error e;
    if (qh_conf_defaults(&qh_section_plugin, p, &e) != 0 ||
        qh_conf_read_named(w->L, &qh_section_plugin, path, p, &e) != 0) {
        fail(w, e.where, "%s", e.why);
        return;
    }
    char sub[256];
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
                qh_optval *o = &p->opts[p->n_opts];
                char op[320];
                join(op, sizeof op, sub, lua_tostring(w->L, -2));
                /* its type, range and allowed values: the plugin's declared
                 * table, once the plugin is loaded (qh_config_check_options) */
                if (qh_conf_value(w->L, op, o, &e) != 0) {
                    fail(w, e.where, "%s", e.why);
                    lua_pop(w->L, 2);
                    break;
                }
                o->name = xstrdup(lua_tostring(w->L, -2));
                p->n_opts++;
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
    /* plugins.x = {...} or a hole would be skipped without a word */
    char stray[64];
    if (qh_conf_list_stray_key(w->L, n, stray, sizeof stray)) {
        fail(w, "plugins", "key %s is not a place in the list: plugins is a list of plugin tables, "
             "{ { kind = ..., name = ... }, ... }", stray);
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

/* The top level, its sections, caps and each plugins[i] are declared
 * tables (core/config_sections.c, config_caps.c); host_id/role/bus are read
 * by bus/bus_config.c, and a plugin's options by parse_plugin. */
static void parse_top(walker *w, qh_config *c)
{
    static const qh_conf_section *const sections[] = { &qh_section_account, &qh_section_policy, &qh_section_signals,
                                                       &qh_section_ess, &qh_section_regime };
    lua_State *L = w->L;
    read_section(w, &qh_section_top, c);
    if (w->failed) return;
    if (field(w, "market")) {
        read_section(w, &qh_section_market, c);
        check_market(w, c);
    }
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (field(w, sections[i]->name)) read_section(w, sections[i], c);
        lua_pop(L, 1);
    }
    if (!w->failed && c->regime.trend_adx_exit > c->regime.trend_adx)
        fail(w, "regime.trend_adx_exit", "must not be above regime.trend_adx (the trend's exit is below its entry)");
    if (field(w, "store")) {
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) c->store.disabled = true;  /* store = false */
        else read_section(w, &qh_section_store, c);
    }
    lua_pop(L, 1);
    if (field(w, "caps")) read_section(w, &qh_section_caps, &c->caps);   /* config_caps.c */
    lua_pop(L, 1);
    /* host_id, role, bus: parsed in bus/bus_config.c. */
    qh_bus_config_error be;
    if (qh_bus_config_parse(L, -1, &c->bus, &be) != 0) fail(w, be.where, "%s", be.why);
    if (field(w, "plugins")) parse_plugins(w, c);
    else fail(w, "plugins", "missing: list the plugins to load");
    lua_pop(L, 1);
}

/* The sections over qh_config itself (caps, plugins[i] and the bus have
 * their own structs): their defaults are set and their lists freed by the
 * tables, so a new list field needs no code here. */
static const qh_conf_section *const config_sections[] = { &qh_section_top, &qh_section_market, &qh_section_account,
                                                          &qh_section_policy, &qh_section_signals, &qh_section_store,
                                                          &qh_section_ess, &qh_section_regime };
#define N_CONFIG_SECTIONS (sizeof config_sections / sizeof config_sections[0])

/* Every declared default (core/config_sections.c). */
static void set_defaults(qh_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_CONFIG_SECTIONS; i++) {
        qh_conf_error e;
        if (qh_conf_defaults(config_sections[i], c, &e) != 0) {
            fprintf(stderr, "qtr: config table: %s: %s (a bug)\n", e.where, e.why);
            abort();
        }
    }
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

const qh_config_limits qh_config_limits_server = { CONFIG_MEM_LIMIT, CONFIG_INSTR_LIMIT, CONFIG_TIME_LIMIT_MS,
                                                   CONFIG_ALLOC_LIMIT };

static int load(const char *text, size_t len, const char *name, const char *dir, const qh_config_limits *lim,
                qh_config *out, char *err, size_t errlen)
{
    set_defaults(out);
    qtr_strlcpy(out->path, name, sizeof out->path);
    qtr_strlcpy(out->dir, dir && *dir ? dir : ".", sizeof out->dir);
    qh_sandbox *sb = qh_sandbox_new_kind(QH_SANDBOX_CONFIG, lim->mem_bytes, lim->instructions);
    if (!sb) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    qh_sandbox_set_call_limits(sb, lim->time_ms, lim->alloc_bytes);
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
    /* plugins' path options are read relative to this file's folder, as the host's own paths */
    for (size_t i = 0; !w.failed && i < out->n_plugins; i++)
        if (qh_option_paths_resolve(&out->plugins[i], out->dir, err, errlen) != 0) w.failed = true;
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
    return load(text, strlen(text), name, dir, &qh_config_limits_server, out, err, errlen);
}

int qh_config_load_string_limited(const char *text, const char *name, const char *dir, const qh_config_limits *lim,
                                  qh_config *out, char *err, size_t errlen)
{
    return load(text, strlen(text), name, dir, lim, out, err, errlen);
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
    int rc = load(buf, n, path, dir, &qh_config_limits_server, out, err, errlen);
    free(buf);
    return rc;
}

void qh_config_free(qh_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < N_CONFIG_SECTIONS; i++) qh_conf_free_lists(config_sections[i], c);
    for (size_t i = 0; i < c->n_plugins; i++) {
        qh_plugin_conf *p = &c->plugins[i];
        for (size_t k = 0; k < p->n_opts; k++) {
            free(p->opts[k].name);
            free(p->opts[k].str);
            free(p->opts[k].path);
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
