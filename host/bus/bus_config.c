/* bus_config.c — see bus_config.h. */
#include "bus/bus_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/events.h>

#include "bus/event_codec.h"

#define AT(member) offsetof(qh_bus_config, member)
#define SIZE(member) sizeof(((qh_bus_config *)0)->member)

/* ---- rules a table cannot say ---- */

static bool chars_ok(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s))) return false;
    return true;
}

static const char *stream_prefix_rule(const char *s)
{
    return chars_ok(s, "-_:.") ? NULL : "only a-z, 0-9, '-', '_', ':' and '.' (1..32)";
}

static const char *group_rule(const char *s)
{
    return chars_ok(s, "-_") ? NULL : "only a-z, 0-9, '-' and '_' (1..32)";
}

static const char *env_name_rule(const char *s)
{
    bool ok = strncmp(s, "QTR_", 4) == 0 && s[4];
    for (; ok && *s; s++) ok = (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_';
    return ok ? NULL : "an environment variable name QTR_[A-Z0-9_]+";
}

/* ---- the event types a host mirrors or consumes: the registry's names ---- */

/* event_names[i] is the type of value i + 1 (QH_CONF_BITS sets bit
 * choice_base + i): the registry's values must run 1, 2, 3, ... in order. */
enum bus_event_position {
    BUS_EVENT_NONE = 0,
#define BUS_EVENT_POSITION(value, ID, ...) BUS_EVENT_AT_##ID,
    QTR_EVENT_TYPES(BUS_EVENT_POSITION)
#undef BUS_EVENT_POSITION
};
#define BUS_EVENT_IN_ORDER(value, ID, ...) \
    _Static_assert((int)QTR_EV_##ID == (int)BUS_EVENT_AT_##ID, "bus.mirror's names: event values run 1, 2, 3, ...");
QTR_EVENT_TYPES(BUS_EVENT_IN_ORDER)
#undef BUS_EVENT_IN_ORDER

static const char *const event_names[] = {
#define BUS_EVENT_NAME(value, ID, name, ...) name,
    QTR_EVENT_TYPES(BUS_EVENT_NAME)
#undef BUS_EVENT_NAME
    NULL
};

/* ---- bus.redis, bus.buffer, bus, and host_id and role at the top level ---- */

static const qh_conf_field redis_fields[] = {
    { .opt = { .name = "url", .type = QTR_OPT_STRING, .min = "1", .max = "255", .flags = QTR_OPT_REQUIRED,
               .help = "redis://host[:port][/db]" },
      .store = QH_CONF_STR, .offset = AT(redis.url), .size = SIZE(redis.url) },
    { .opt = { .name = "password_env", .type = QTR_OPT_STRING, .max = "63",
               .help = "AUTH with this environment variable, if set" },
      .store = QH_CONF_STR, .offset = AT(redis.password_env), .size = SIZE(redis.password_env),
      .text_rule = env_name_rule },
    { .opt = { .name = "stream_prefix", .type = QTR_OPT_STRING, .default_value = "qtr", .min = "1", .max = "32",
               .help = "streams are <prefix>:<type>" },
      .store = QH_CONF_STR, .offset = AT(redis.stream_prefix), .size = SIZE(redis.stream_prefix),
      .text_rule = stream_prefix_rule },
    { .opt = { .name = "maxlen", .type = QTR_OPT_INT, .default_value = "100000", .min = "100", .max = "1000000000",
               .help = "XTRIM MAXLEN ~ after each batch" },
      .store = QH_CONF_I64, .offset = AT(redis.maxlen) },
    { .opt = { .name = "batch_max", .type = QTR_OPT_INT, .default_value = "512", .min = "1", .max = "10000",
               .help = "events in one pipelined write" },
      .store = QH_CONF_I64, .offset = AT(redis.batch_max) },
    { .opt = { .name = "flush_ms", .type = QTR_OPT_INT, .default_value = "5", .min = "0", .max = "1000",
               .help = "a partial batch waits at most this long" },
      .store = QH_CONF_I64, .offset = AT(redis.flush_ms) },
    { .opt = { .name = NULL } },
};

static const qh_conf_section redis_section = { .name = "bus.redis", .fields = redis_fields };

static const qh_conf_field buffer_fields[] = {
    { .opt = { .name = "path", .type = QTR_OPT_STRING, .min = "1", .max = "511",
               .help = "the outage buffer; \"<state_dir>/...\" is under state_dir" },
      .store = QH_CONF_STR, .offset = AT(buffer.path), .size = SIZE(buffer.path) },
    { .opt = { .name = "max_events", .type = QTR_OPT_INT, .default_value = "10000", .min = "1", .max = "10000000" },
      .store = QH_CONF_I64, .offset = AT(buffer.max_events) },
    { .opt = { .name = "fsync_ms", .type = QTR_OPT_INT, .default_value = "50", .min = "1", .max = "10000" },
      .store = QH_CONF_I64, .offset = AT(buffer.fsync_ms) },
    { .opt = { .name = NULL } },
};

static const qh_conf_section buffer_section = { .name = "bus.buffer", .fields = buffer_fields };

static const qh_conf_field bus_fields[] = {
    { .opt = { .name = "redis", .flags = QTR_OPT_REQUIRED, .help = "the Redis server to use" },
      .store = QH_CONF_TABLE, .section = &redis_section },
    { .opt = { .name = "mirror", .type = QTR_OPT_STRING_LIST, .allowed = event_names,
               .help = "event types written to Redis" },
      .store = QH_CONF_BITS, .offset = AT(mirror), .choice_base = 1 },
    { .opt = { .name = "consume", .type = QTR_OPT_STRING_LIST, .allowed = event_names,
               .help = "event types read from Redis" },
      .store = QH_CONF_BITS, .offset = AT(consume), .choice_base = 1 },
    { .opt = { .name = "group", .type = QTR_OPT_STRING, .min = "1", .max = "32",
               .help = "consumer group; unset: the role's name" },
      .store = QH_CONF_STR, .offset = AT(group), .size = SIZE(group), .text_rule = group_rule },
    { .opt = { .name = "claim_idle_ms", .type = QTR_OPT_INT, .default_value = "30000", .min = "100",
               .max = "86400000", .help = "a dead member's pending entries are claimed after this" },
      .store = QH_CONF_I64, .offset = AT(claim_idle_ms) },
    { .opt = { .name = "buffer" }, .store = QH_CONF_TABLE, .section = &buffer_section },
    { .opt = { .name = "key_env", .type = QTR_OPT_STRING, .max = "63",
               .help = "sign and check every entry with the key in this environment variable" },
      .store = QH_CONF_STR, .offset = AT(key_env), .size = SIZE(key_env), .text_rule = env_name_rule },
    { .opt = { .name = "accept_key_env", .type = QTR_OPT_STRING, .max = "63",
               .help = "also take entries signed with the key in this variable (changing the key); never signs" },
      .store = QH_CONF_STR, .offset = AT(accept_key_env), .size = SIZE(accept_key_env),
      .text_rule = env_name_rule },
    { .opt = { .name = NULL } },
};

static const qh_conf_section bus_section = { .name = "bus", .fields = bus_fields };

static const char *const role_names[] = { "all", "strategy", "execution", "observer", NULL };
_Static_assert(QH_ROLE_ALL == 0 && QH_ROLE_STRATEGY == 1 && QH_ROLE_EXECUTION == 2 && QH_ROLE_OBSERVER == 3,
               "role's names follow qh_bus_role");
_Static_assert(sizeof(qh_bus_role) == sizeof(int), "role is stored as an int");

static const qh_conf_field top_fields[] = {
    { .opt = { .name = "host_id", .type = QTR_OPT_STRING, .min = "1", .max = "32",
               .help = "[a-z0-9-]{1,32}: this host's name in every event it publishes" },
      .store = QH_CONF_STR, .offset = AT(host_id), .size = SIZE(host_id) },
    { .opt = { .name = "role", .type = QTR_OPT_STRING, .default_value = "all", .allowed = role_names },
      .store = QH_CONF_CHOICE, .offset = AT(role), .size = SIZE(role) },
    { .opt = { .name = "bus" }, .store = QH_CONF_TABLE, .section = &bus_section },
    { .opt = { .name = NULL } },
};

const qh_conf_section qh_section_bus_top = { .name = "", .fields = top_fields, .shares_table = true };

/* 1 to 5 decimal digits at p, nothing else before the next byte that is
 * not a digit, up to max: strtol would also take spaces and a sign first. */
static bool url_number(const char *p, long max, long *v, const char **end)
{
    long n = 0;
    const char *q = p;
    for (; *q >= '0' && *q <= '9' && q - p < 6; q++) n = n * 10 + (*q - '0');
    *end = q;
    *v = n;
    return q > p && q - p <= 5 && n <= max;
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
    const char *end;
    *port = 6379;
    *db = 0;
    if (*p == ':') {
        if (!url_number(p + 1, 65535, &v, &end) || v < 1 || (*end && *end != '/')) {
            snprintf(why, whylen, "'%s': port must be 1..65535", url);
            return -1;
        }
        *port = (int)v;
        p = end;
    }
    if (*p == '/') {
        if (!url_number(p + 1, 15, &v, &end) || *end) {
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

const char *qh_bus_role_name(qh_bus_role role)
{
    return (unsigned)role < 4 ? role_names[role] : "?";
}

/* The why may quote the user's text (host_id, the url): a control byte in
 * it is shown as '?', so the error stays one line. */
static int bad(qh_bus_config_error *e, const char *where, const char *why)
{
    snprintf(e->where, sizeof e->where, "%s", where);
    snprintf(e->why, sizeof e->why, "%s", why);
    for (char *p = e->why; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return -1;
}

/* The rules across keys, once the tables are read. */
static int check_bus(qh_bus_config *c, qh_bus_config_error *e)
{
    char why[sizeof e->why];
    if (c->host_id[0] && !qh_busev_host_id_valid(c->host_id)) {
        snprintf(why, sizeof why, "'%s' is not [a-z0-9-]{1,32}", c->host_id);
        return bad(e, "host_id", why);
    }
    if (c->role != QH_ROLE_ALL && !c->enabled) {
        snprintf(why, sizeof why, "role '%s' needs a bus section (docs/bus.md)", qh_bus_role_name(c->role));
        return bad(e, "role", why);
    }
    if (!c->enabled) return 0;
    if (!c->host_id[0]) return bad(e, "host_id", "missing: the bus needs this host's name");
    if (qh_bus_url_parse(c->redis.url, c->redis.host, sizeof c->redis.host, &c->redis.port, &c->redis.db, why,
                         sizeof why) != 0)
        return bad(e, "bus.redis.url", why);
    /* an event taken from Redis is published on the local bus: mirrored too,
     * it would go back to Redis under this host's name, and round again */
    uint64_t both = c->mirror & c->consume;
    for (int t = 0; t < 64; t++)
        if (both & (UINT64_C(1) << t)) {
            snprintf(why, sizeof why, "'%s' is in bus.mirror too: what this host takes from Redis would go back to it",
                     qh_busev_type_name((qtr_event_type)t));
            return bad(e, "bus.consume", why);
        }
    /* a second key is taken beside the one that signs, never alone */
    if (c->accept_key_env[0] && !c->key_env[0])
        return bad(e, "bus.accept_key_env", "needs bus.key_env: a host takes entries signed with a second key only "
                                            "while it signs with a first (docs/bus.md, \"Changing the key\")");
    if (c->accept_key_env[0] && strcmp(c->accept_key_env, c->key_env) == 0) {
        snprintf(why, sizeof why, "%s is bus.key_env too: name the other key's variable", c->accept_key_env);
        return bad(e, "bus.accept_key_env", why);
    }
    if (!c->group[0]) snprintf(c->group, sizeof c->group, "%s", qh_bus_role_name(c->role));
    return 0;
}

int qh_bus_config_parse(lua_State *L, int idx, qh_bus_config *out, qh_bus_config_error *e)
{
    memset(out, 0, sizeof *out);
    memset(e, 0, sizeof *e);
    if (qh_conf_defaults(&qh_section_bus_top, out, e) != 0) return -1;
    int top = lua_gettop(L);
    lua_pushvalue(L, idx);
    int rc = qh_conf_read(L, &qh_section_bus_top, out, e);
    if (rc == 0) {
        lua_pushstring(L, "bus");
        out->enabled = lua_rawget(L, -2) != LUA_TNIL;
        rc = check_bus(out, e);
    }
    lua_settop(L, top);
    return rc;
}
