/* bus_config.c — see bus_config.h. */
#include "bus/bus_config.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/events.h>

#include "bus/event_codec.h"

typedef struct rd {
    lua_State *L;
    qh_bus_config_error *e;
    bool failed;
} rd;

static void bad(rd *r, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(rd *r, const char *where, const char *fmt, ...)
{
    if (r->failed) return;
    r->failed = true;
    snprintf(r->e->where, sizeof r->e->where, "%s", where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->e->why, sizeof r->e->why, fmt, ap);
    va_end(ap);
}

/* Push t[key] of the table on top; true if present. Always pushes one value. */
static bool get(rd *r, const char *key)
{
    lua_pushstring(r->L, key);
    return lua_rawget(r->L, -2) != LUA_TNIL;
}

static bool keys_only(rd *r, const char *where, const char *const *allowed)
{
    if (lua_type(r->L, -1) != LUA_TTABLE) {
        bad(r, where, "expected a table, got %s", luaL_typename(r->L, -1));
        return false;
    }
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        lua_pop(r->L, 1);
        if (lua_type(r->L, -1) != LUA_TSTRING) {
            lua_pop(r->L, 1);
            bad(r, where, "unexpected non-name key");
            return false;
        }
        const char *k = lua_tostring(r->L, -1);
        bool known = false;
        for (const char *const *a = allowed; *a; a++) known = known || strcmp(*a, k) == 0;
        if (!known) {
            char w[64];
            snprintf(w, sizeof w, "%s.%s", where, k);
            lua_pop(r->L, 1);
            bad(r, w, "unknown setting");
            return false;
        }
    }
    return true;
}

static void str(rd *r, const char *where, char *out, size_t cap)
{
    size_t len;
    if (lua_type(r->L, -1) != LUA_TSTRING) {
        bad(r, where, "expected a string, got %s", luaL_typename(r->L, -1));
        return;
    }
    const char *s = lua_tolstring(r->L, -1, &len);
    if (len >= cap || strlen(s) != len) {
        bad(r, where, "string too long or contains NUL (max %zu bytes)", cap - 1);
        return;
    }
    memcpy(out, s, len + 1);
}

static void integer(rd *r, const char *where, int64_t lo, int64_t hi, int64_t *out)
{
    if (!lua_isinteger(r->L, -1)) {
        bad(r, where, "expected an integer, got %s",
            lua_type(r->L, -1) == LUA_TNUMBER ? "a float" : luaL_typename(r->L, -1));
        return;
    }
    lua_Integer v = lua_tointeger(r->L, -1);
    if (v < lo || v > hi) {
        bad(r, where, "%lld is out of range [%lld, %lld]", (long long)v, (long long)lo, (long long)hi);
        return;
    }
    *out = v;
}

/* A list of event type names -> a bit set. */
static void types(rd *r, const char *where, uint64_t *out)
{
    if (lua_type(r->L, -1) != LUA_TTABLE) {
        bad(r, where, "expected a list of event types, got %s", luaL_typename(r->L, -1));
        return;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(r->L, -1);
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        lua_pop(r->L, 1);
        if (!lua_isinteger(r->L, -1) || lua_tointeger(r->L, -1) < 1 || lua_tointeger(r->L, -1) > n) {
            lua_pop(r->L, 1);
            bad(r, where, "expected a list (no named keys)");
            return;
        }
    }
    *out = 0;
    for (lua_Integer i = 1; i <= n && !r->failed; i++) {
        char w[64];
        snprintf(w, sizeof w, "%s[%lld]", where, (long long)i);
        lua_rawgeti(r->L, -1, i);
        char name[32] = "";
        str(r, w, name, sizeof name);
        qtr_event_type t;
        if (!r->failed && !qh_busev_type_parse(name, &t)) bad(r, w, "'%s' is not an event type", name);
        else if (!r->failed) *out |= UINT64_C(1) << t;
        lua_pop(r->L, 1);
    }
}

static bool name_ok(const char *s, const char *extra, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || strchr(extra, s[n]))) return false;
    return n >= 1 && n <= max;
}

int qh_bus_url_parse(const char *url, char *host, size_t hostcap, int *port, int *db, char *why, size_t whylen)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(why, whylen, "'%s' is not redis://host[:port][/db]", url);
        return -1;
    }
    p += 8;
    if (strchr(p, '@')) {
        snprintf(why, whylen, "no password in the url: name an environment variable in password_env");
        return -1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= hostcap) {
        snprintf(why, whylen, "'%s': host missing or too long", url);
        return -1;
    }
    for (size_t i = 0; i < hl; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
            snprintf(why, whylen, "'%s': bad character in the host name", url);
            return -1;
        }
    }
    memcpy(host, p, hl);
    host[hl] = 0;
    p += hl;
    long v;
    char *end;
    *port = 6379;
    *db = 0;
    if (*p == ':') {
        v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > 65535 || (*end && *end != '/')) {
            snprintf(why, whylen, "'%s': port must be 1..65535", url);
            return -1;
        }
        *port = (int)v;
        p = end;
    }
    if (*p == '/') {
        v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 0 || v > 15 || *end) {
            snprintf(why, whylen, "'%s': database must be 0..15", url);
            return -1;
        }
        *db = (int)v;
        p = end;
    }
    if (*p) {
        snprintf(why, whylen, "'%s' is not redis://host[:port][/db]", url);
        return -1;
    }
    return 0;
}

static void parse_redis(rd *r, qh_bus_config *c)
{
    static const char *const k[] = { "url", "password_env", "stream_prefix", "maxlen", "batch_max", "flush_ms", NULL };
    if (!keys_only(r, "bus.redis", k)) return;
    if (get(r, "url")) str(r, "bus.redis.url", c->redis.url, sizeof c->redis.url);
    else bad(r, "bus.redis.url", "missing");
    lua_pop(r->L, 1);
    char why[200];
    if (!r->failed && qh_bus_url_parse(c->redis.url, c->redis.host, sizeof c->redis.host, &c->redis.port, &c->redis.db,
                                       why, sizeof why) != 0)
        bad(r, "bus.redis.url", "%s", why);
    if (get(r, "password_env")) {
        str(r, "bus.redis.password_env", c->redis.password_env, sizeof c->redis.password_env);
        const char *s = c->redis.password_env;
        bool ok = strncmp(s, "QTR_", 4) == 0 && s[4];
        for (; ok && *s; s++) ok = (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_';
        if (!r->failed && !ok) bad(r, "bus.redis.password_env", "an environment variable name QTR_[A-Z0-9_]+");
    }
    lua_pop(r->L, 1);
    if (get(r, "stream_prefix")) {
        str(r, "bus.redis.stream_prefix", c->redis.stream_prefix, sizeof c->redis.stream_prefix);
        if (!r->failed && !name_ok(c->redis.stream_prefix, "-_:.", 32))
            bad(r, "bus.redis.stream_prefix", "only a-z, 0-9, '-', '_', ':' and '.' (1..32)");
    }
    lua_pop(r->L, 1);
    if (get(r, "maxlen")) integer(r, "bus.redis.maxlen", 100, INT64_C(1000000000), &c->redis.maxlen);
    lua_pop(r->L, 1);
    if (get(r, "batch_max")) integer(r, "bus.redis.batch_max", 1, 10000, &c->redis.batch_max);
    lua_pop(r->L, 1);
    if (get(r, "flush_ms")) integer(r, "bus.redis.flush_ms", 0, 1000, &c->redis.flush_ms);
    lua_pop(r->L, 1);
}

static void parse_bus(rd *r, qh_bus_config *c)
{
    static const char *const k[] = { "redis", "mirror", "consume", "group", "claim_idle_ms", "buffer", NULL };
    if (!keys_only(r, "bus", k)) return;
    if (get(r, "redis")) parse_redis(r, c);
    else bad(r, "bus.redis", "missing: the Redis server to use");
    lua_pop(r->L, 1);
    if (get(r, "mirror")) types(r, "bus.mirror", &c->mirror);
    lua_pop(r->L, 1);
    if (get(r, "consume")) types(r, "bus.consume", &c->consume);
    lua_pop(r->L, 1);
    /* an event taken from Redis is published on the local bus: mirrored too,
     * it would go back to Redis under this host's name, and round again */
    uint64_t both = c->mirror & c->consume;
    for (int t = 0; both && t < 64 && !r->failed; t++)
        if (both & (UINT64_C(1) << t))
            bad(r, "bus.consume", "'%s' is in bus.mirror too: what this host takes from Redis would go back to it",
                qh_busev_type_name((qtr_event_type)t));
    if (get(r, "group")) {
        str(r, "bus.group", c->group, sizeof c->group);
        if (!r->failed && !name_ok(c->group, "-_", 32)) bad(r, "bus.group", "only a-z, 0-9, '-' and '_' (1..32)");
    }
    lua_pop(r->L, 1);
    if (get(r, "claim_idle_ms")) integer(r, "bus.claim_idle_ms", 100, INT64_C(86400000), &c->claim_idle_ms);
    lua_pop(r->L, 1);
    if (get(r, "buffer")) {
        static const char *const kb[] = { "path", "max_events", "fsync_ms", NULL };
        if (keys_only(r, "bus.buffer", kb)) {
            if (get(r, "path")) str(r, "bus.buffer.path", c->buffer.path, sizeof c->buffer.path);
            lua_pop(r->L, 1);
            if (get(r, "max_events")) integer(r, "bus.buffer.max_events", 1, 10000000, &c->buffer.max_events);
            lua_pop(r->L, 1);
            if (get(r, "fsync_ms")) integer(r, "bus.buffer.fsync_ms", 1, 10000, &c->buffer.fsync_ms);
            lua_pop(r->L, 1);
        }
    }
    lua_pop(r->L, 1);
}

static const char *const role_names[] = { "all", "strategy", "execution", "observer" };

const char *qh_bus_role_name(qh_bus_role role)
{
    return (unsigned)role < 4 ? role_names[role] : "?";
}

int qh_bus_config_parse(lua_State *L, int idx, qh_bus_config *out, qh_bus_config_error *e)
{
    memset(out, 0, sizeof *out);
    memset(e, 0, sizeof *e);
    out->role = QH_ROLE_ALL;
    snprintf(out->redis.stream_prefix, sizeof out->redis.stream_prefix, "qtr");
    out->redis.maxlen = 100000;
    out->redis.batch_max = 512;
    out->redis.flush_ms = 5;
    out->claim_idle_ms = 30000;
    out->buffer.max_events = 10000;
    out->buffer.fsync_ms = 50;
    rd r = { L, e, false };
    int top = lua_gettop(L);
    lua_pushvalue(L, idx);
    if (get(&r, "host_id")) {
        str(&r, "host_id", out->host_id, sizeof out->host_id);
        if (!r.failed && !qh_busev_host_id_valid(out->host_id)) bad(&r, "host_id", "'%s' is not [a-z0-9-]{1,32}", out->host_id);
    }
    lua_pop(L, 1);
    if (get(&r, "role")) {
        char role[32] = "";
        str(&r, "role", role, sizeof role);
        bool known = false;
        for (int i = 0; i < 4 && !r.failed; i++)
            if (strcmp(role, role_names[i]) == 0) { out->role = (qh_bus_role)i; known = true; }
        if (!r.failed && !known) bad(&r, "role", "'%s' is not all, strategy, execution or observer", role);
    }
    lua_pop(L, 1);
    if (get(&r, "bus")) {
        out->enabled = true;
        parse_bus(&r, out);
    }
    lua_pop(L, 1);
    if (!r.failed && out->role != QH_ROLE_ALL && !out->enabled)
        bad(&r, "role", "role '%s' needs a bus section (docs/bus.md)", qh_bus_role_name(out->role));
    if (!r.failed && out->enabled && !out->host_id[0]) bad(&r, "host_id", "missing: the bus needs this host's name");
    if (!r.failed && out->enabled && !out->group[0])
        snprintf(out->group, sizeof out->group, "%s", qh_bus_role_name(out->role));
    lua_settop(L, top);
    return r.failed ? -1 : 0;
}
