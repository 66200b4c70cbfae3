/* bus/bus_config: the issue's example reads back field by field; without
 * `bus` nothing changes; every bad setting is one error naming its place
 * (unknown role, role without a bus, bad url, password in the url, unknown
 * event type, unknown key, out-of-range numbers). The sections are declared
 * tables (core/config_table.h): every declared key is read (none falls back
 * to its default), every declared range and allowed set is enforced at its
 * bounds, wrong types and unknown keys are refused in every section, with
 * the file and key in the server config's one error format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/events.h>

#include "bus/bus_config.h"
#include "bus/event_codec.h"
#include "core/config.h"
#include "core/option_check.h"

static int parse(const char *lua, qh_bus_config *c, qh_bus_config_error *e)
{
    lua_State *L = luaL_newstate();
    if (luaL_dostring(L, lua) != 0) fail_msg("lua: %s", lua_tostring(L, -1));
    int rc = qh_bus_config_parse(L, -1, c, e);
    assert_int_equal(lua_gettop(L), 1);   /* the stack is left as it was */
    lua_close(L);
    return rc;
}

static void the_issue_example(void **state)
{
    (void)state;
    qh_bus_config c;
    qh_bus_config_error e;
    const char *lua =
        "return { host_id = 'exec-1', role = 'execution',\n"
        " bus = { redis = { url = 'redis://127.0.0.1:6379/0', password_env = 'QTR_REDIS_PASSWORD',\n"
        "  stream_prefix = 'qtr', maxlen = 100000, batch_max = 512, flush_ms = 5 },\n"
        "  mirror = { 'candle', 'mark_price', 'order_update', 'fill', 'position', 'ess_state', 'equity', 'alert' },\n"
        "  consume = { 'signal' }, group = 'execution', claim_idle_ms = 30000,\n"
        "  buffer = { path = '<state_dir>/bus.buf', max_events = 10000, fsync_ms = 50 } } }";
    if (parse(lua, &c, &e) != 0) fail_msg("%s: %s", e.where, e.why);
    assert_true(c.enabled);
    assert_string_equal(c.host_id, "exec-1");
    assert_int_equal(c.role, QH_ROLE_EXECUTION);
    assert_string_equal(c.redis.host, "127.0.0.1");
    assert_int_equal(c.redis.port, 6379);
    assert_int_equal(c.redis.db, 0);
    assert_string_equal(c.redis.password_env, "QTR_REDIS_PASSWORD");
    assert_string_equal(c.redis.stream_prefix, "qtr");
    assert_int_equal(c.redis.maxlen, 100000);
    assert_int_equal(c.redis.batch_max, 512);
    assert_int_equal(c.redis.flush_ms, 5);
    assert_true(c.mirror & (UINT64_C(1) << QTR_EV_FILL));
    assert_true(c.mirror & (UINT64_C(1) << QTR_EV_ALERT));
    assert_false(c.mirror & (UINT64_C(1) << QTR_EV_SIGNAL));
    assert_int_equal(c.consume, UINT64_C(1) << QTR_EV_SIGNAL);
    assert_string_equal(c.group, "execution");
    assert_int_equal(c.claim_idle_ms, 30000);
    assert_string_equal(c.buffer.path, "<state_dir>/bus.buf");
    assert_int_equal(c.buffer.max_events, 10000);
    assert_int_equal(c.buffer.fsync_ms, 50);
}

static void defaults(void **state)
{
    (void)state;
    qh_bus_config c;
    qh_bus_config_error e;
    assert_int_equal(parse("return { mode = 'paper' }", &c, &e), 0);
    assert_false(c.enabled);
    assert_int_equal(c.role, QH_ROLE_ALL);
    assert_int_equal(parse("return { host_id = 'h1', bus = { redis = { url = 'redis://localhost' } } }", &c, &e), 0);
    assert_int_equal(c.redis.port, 6379);
    assert_int_equal(c.redis.db, 0);
    assert_int_equal(c.redis.maxlen, 100000);
    assert_int_equal(c.redis.batch_max, 512);
    assert_int_equal(c.redis.flush_ms, 5);
    assert_string_equal(c.group, "all");
    assert_int_equal(c.buffer.max_events, 10000);
    assert_int_equal(c.buffer.fsync_ms, 50);
    assert_int_equal(c.claim_idle_ms, 30000);
}

static void refusals(void **state)
{
    (void)state;
    static const struct { const char *lua, *where, *why; } cases[] = {
        { "return { role = 'trader' }", "role", "'trader' is not all, strategy, execution or observer" },
        { "return { role = 'strategy' }", "role", "role 'strategy' needs a bus section" },
        { "return { bus = { redis = { url = 'redis://h' } } }", "host_id", "missing" },
        { "return { host_id = 'Exec_1' }", "host_id", "is not [a-z0-9-]{1,32}" },
        { "return { host_id = 'h', bus = { redis = { url = 'http://h' } } }", "bus.redis.url", "is not redis://" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://:pw@h' } } }", "bus.redis.url", "no password in the url" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h:0' } } }", "bus.redis.url", "port must be 1..65535" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h:70000' } } }", "bus.redis.url", "port" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h/16' } } }", "bus.redis.url", "database must be 0..15" },
        /* strtol took a space or a sign before the digits: each was a port */
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h: 6379' } } }", "bus.redis.url", "port must be 1..65535" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h:+6379' } } }", "bus.redis.url", "port must be 1..65535" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h:6379/ 1' } } }", "bus.redis.url", "database must be 0..15" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h:0006379' } } }", "bus.redis.url", "port must be 1..65535" },
        /* an empty path was the default path, silently */
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, buffer = { path = '' } } }", "bus.buffer.path", "" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h h' } } }", "bus.redis.url", "bad character" },
        { "return { host_id = 'h', bus = { } }", "bus.redis", "missing" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', batch_max = 0 } } }", "bus.redis.batch_max", "out of range" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', flush_ms = 1.5 } } }", "bus.redis.flush_ms", "a float" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', password_env = 'PATH' } } }", "bus.redis.password_env", "QTR_" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, key_env = 'QTR_bus key' } }", "bus.key_env", "QTR_" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, key_env = 'QTR_K', accept_key_env = 'HOME' } }",
          "bus.accept_key_env", "QTR_" },
        /* a second key alone would take signed entries on a host that signs nothing */
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, accept_key_env = 'QTR_OLD' } }",
          "bus.accept_key_env", "needs bus.key_env" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, key_env = 'QTR_K', accept_key_env = 'QTR_K' } }",
          "bus.accept_key_env", "QTR_K is bus.key_env too" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', port = 1 } } }", "bus.redis.port", "unknown setting" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, mirror = { 'fill', 'fils' } } }", "bus.mirror[2]", "'fils' is not candle, trade, " },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, consume = 'signal' } }", "bus.consume", "expected a list" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, buffer = { max_events = 0 } } }", "bus.buffer.max_events", "out of range" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, group = 'A B' } }", "bus.group", "only a-z" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, mirror = { 'fill', 'candle' }, consume = { 'candle' } } }",
          "bus.consume", "'candle' is in bus.mirror too" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qh_bus_config c;
        qh_bus_config_error e;
        assert_int_equal(parse(cases[i].lua, &c, &e), -1);
        if (strcmp(e.where, cases[i].where) != 0 || !strstr(e.why, cases[i].why))
            fail_msg("case %zu: got '%s: %s', want '%s: ...%s...'", i, e.where, e.why, cases[i].where, cases[i].why);
    }
}


/* ---- the declared tables ---- */

typedef void (*field_fn)(const char *path, const qh_conf_field *f, void *arg);

/* Every value field of the bus tables, with its dotted path ("bus.redis.url"). */
static void each_field(const qh_conf_section *s, const char *prefix, field_fn fn, void *arg)
{
    for (const qh_conf_field *f = s->fields; f->opt.name; f++) {
        char path[128];
        int n = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->opt.name);
        if (n < 0 || (size_t)n >= sizeof path) fail_msg("the path %s.%s is too long for this test", prefix, f->opt.name);
        if (f->store == QH_CONF_TABLE) each_field(f->section, path, fn, arg);
        else fn(path, f, arg);
    }
}

/* The smallest bus config with `path` set to the Lua expression `value`:
 * "local t = {...}; t.bus = t.bus or {}; t.bus.redis = ...; return t". */
static void config_with(char *out, size_t cap, const char *path, const char *value)
{
    size_t n = (size_t)snprintf(out, cap, "local t = { host_id = 'h', bus = { redis = { url = 'redis://h' } } }\n");
    for (const char *dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.')) {
        int len = (int)(dot - path);
        n += (size_t)snprintf(out + n, cap - n, "t.%.*s = t.%.*s or {}\n", len, path, len, path);
    }
    n += (size_t)snprintf(out + n, cap - n, "t.%s = %s\nreturn t", path, value);
    assert_true(n < cap);
}

static int parse_with(const char *path, const char *value, qh_bus_config *c, qh_bus_config_error *e)
{
    char lua[1024];
    config_with(lua, sizeof lua, path, value);
    return parse(lua, c, e);
}

static void expect_refused(const char *path, const char *value, const char *where, const char *why)
{
    qh_bus_config c;
    qh_bus_config_error e;
    if (parse_with(path, value, &c, &e) == 0) fail_msg("%s = %s accepted", path, value);
    if (strcmp(e.where, where) != 0 || strcmp(e.why, why) != 0)
        fail_msg("%s = %s: got '%s: %s', want '%s: %s'", path, value, e.where, e.why, where, why);
}

static void expect_accepted(const char *path, const char *value)
{
    qh_bus_config c;
    qh_bus_config_error e;
    if (parse_with(path, value, &c, &e) != 0) fail_msg("%s = %s refused: %s: %s", path, value, e.where, e.why);
}

static void check_declaration(const char *path, const qh_conf_field *f, void *arg)
{
    (void)arg;
    char why[320];
    if (!qh_option_decl_valid(&f->opt, why, sizeof why)) fail_msg("%s: %s", path, why);
    if (!f->opt.help && !f->opt.default_value && !f->opt.allowed) fail_msg("%s: neither help nor default", path);
}

static void declarations_are_consistent(void **state)
{
    (void)state;
    each_field(&qh_section_bus_top, "", check_declaration, NULL);
    qh_bus_config c;
    qh_bus_config_error e;
    assert_int_equal(qh_conf_defaults(&qh_section_bus_top, &c, &e), 0);
}

/* A value other than its default for every declared key: a key the tables
 * declare but that is not read or not stored fails here. */
static const struct { const char *path, *value; } not_default[] = {
    { "host_id", "'other-1'" },
    { "role", "'execution'" },
    { "bus.redis.url", "'redis://other:6380/2'" },
    { "bus.redis.password_env", "'QTR_X'" },
    { "bus.redis.stream_prefix", "'p:1'" },
    { "bus.redis.maxlen", "200" },
    { "bus.redis.batch_max", "7" },
    { "bus.redis.flush_ms", "0" },
    { "bus.mirror", "{ 'fill' }" },
    { "bus.consume", "{ 'signal' }" },
    { "bus.group", "'g-1'" },
    { "bus.claim_idle_ms", "100" },
    { "bus.buffer.path", "'/x/bus.buf'" },
    { "bus.buffer.max_events", "3" },
    { "bus.buffer.fsync_ms", "9" },
    { "bus.key_env", "'QTR_BUS_KEY'" },
    /* with the key_env it needs, set by the same expression */
    { "bus.accept_key_env", "(function() t.bus.key_env = 'QTR_BUS_KEY'; return 'QTR_BUS_KEY_OLD' end)()" },
};

static void has_a_case(const char *path, const qh_conf_field *f, void *arg)
{
    (void)f;
    size_t *n = arg;
    for (size_t i = 0; i < sizeof not_default / sizeof not_default[0]; i++)
        if (strcmp(not_default[i].path, path) == 0) {
            ++*n;
            return;
        }
    fail_msg("%s is declared but has no case in not_default[]: add one", path);
}

static void no_key_falls_back_to_a_silent_default(void **state)
{
    (void)state;
    size_t declared = 0;
    each_field(&qh_section_bus_top, "", has_a_case, &declared);
    assert_int_equal(declared, sizeof not_default / sizeof not_default[0]);
    qh_bus_config base, c;
    qh_bus_config_error e;
    if (parse_with("host_id", "'h'", &base, &e) != 0) fail_msg("%s: %s", e.where, e.why);
    for (size_t i = 0; i < sizeof not_default / sizeof not_default[0]; i++) {
        if (parse_with(not_default[i].path, not_default[i].value, &c, &e) != 0)
            fail_msg("%s = %s: %s: %s", not_default[i].path, not_default[i].value, e.where, e.why);
        if (memcmp(&base, &c, sizeof c) == 0)
            fail_msg("%s = %s read back as the default", not_default[i].path, not_default[i].value);
    }
    /* and each lands where it says */
    if (parse("return { host_id = 'h', role = 'observer', bus = { redis = { url = 'redis://h',"
              " password_env = 'QTR_X', stream_prefix = 'p:1', flush_ms = 0 }, group = 'g-1',"
              " buffer = { path = '/x/bus.buf', max_events = 3, fsync_ms = 9 }, key_env = 'QTR_BUS_KEY',"
              " accept_key_env = 'QTR_BUS_KEY_OLD' } }", &c, &e) != 0)
        fail_msg("%s: %s", e.where, e.why);
    assert_int_equal(c.role, QH_ROLE_OBSERVER);
    assert_string_equal(c.redis.password_env, "QTR_X");
    assert_string_equal(c.redis.stream_prefix, "p:1");
    assert_int_equal(c.redis.flush_ms, 0);
    assert_string_equal(c.group, "g-1");
    assert_string_equal(c.buffer.path, "/x/bus.buf");
    assert_int_equal(c.buffer.max_events, 3);
    assert_int_equal(c.buffer.fsync_ms, 9);
    assert_string_equal(c.key_env, "QTR_BUS_KEY");
    assert_string_equal(c.accept_key_env, "QTR_BUS_KEY_OLD");
}

/* Every event type of the registry by its name, into its own bit. */
static void every_event_type_by_name(void **state)
{
    (void)state;
    for (int t = 1; t < 64; t++) {
        const char *name = qh_busev_type_name((qtr_event_type)t);
        if (!name) continue;
        char value[64];
        snprintf(value, sizeof value, "{ '%s' }", name);
        qh_bus_config c;
        qh_bus_config_error e;
        if (parse_with("bus.mirror", value, &c, &e) != 0) fail_msg("%s: %s: %s", name, e.where, e.why);
        assert_int_equal(c.mirror, UINT64_C(1) << t);
        if (parse_with("bus.consume", value, &c, &e) != 0) fail_msg("%s: %s: %s", name, e.where, e.why);
        assert_int_equal(c.consume, UINT64_C(1) << t);
    }
}

/* Each declared bound: the bound itself is taken, one past it is refused
 * with the range; each string's length; each allowed set. */
static void bound_cases(const char *path, const qh_conf_field *f, void *arg)
{
    (void)arg;
    char value[700], why[400];
    if (f->opt.type == QTR_OPT_INT) {
        long long lo = atoll(f->opt.min), hi = atoll(f->opt.max);
        snprintf(value, sizeof value, "%lld", lo);
        expect_accepted(path, value);
        snprintf(value, sizeof value, "%lld", hi);
        expect_accepted(path, value);
        snprintf(value, sizeof value, "%lld", lo - 1);
        snprintf(why, sizeof why, "%lld is out of range [%s, %s]", lo - 1, f->opt.min, f->opt.max);
        expect_refused(path, value, path, why);
        snprintf(value, sizeof value, "%lld", hi + 1);
        snprintf(why, sizeof why, "%lld is out of range [%s, %s]", hi + 1, f->opt.min, f->opt.max);
        expect_refused(path, value, path, why);
        expect_refused(path, "'5'", path, "expected an integer, got a string ('5')");
        expect_refused(path, "1.5", path, "expected an integer, got a float");
    } else if (f->opt.type == QTR_OPT_STRING && !f->opt.max) {
        assert_non_null(f->opt.allowed);        /* a string is bounded by its length or its allowed values */
        expect_refused(path, "1", path, "expected a string, got an integer");
    } else if (f->opt.type == QTR_OPT_STRING) {
        long long hi = atoll(f->opt.max);
        char *text = malloc((size_t)hi + 2);
        assert_non_null(text);
        memset(text, 'a', (size_t)hi + 1);
        text[hi + 1] = '\0';
        snprintf(value, sizeof value, "'%s'", text);
        char range[64];
        if (f->opt.min) snprintf(range, sizeof range, "[%s, %s]", f->opt.min, f->opt.max);
        else snprintf(range, sizeof range, ": must be <= %s", f->opt.max);
        snprintf(why, sizeof why, "'%.64s%s' is %lld bytes long, out of range%s%s", text, hi + 1 > 64 ? "..." : "",
                 hi + 1, f->opt.min ? " " : "", range);
        expect_refused(path, value, path, why);
        free(text);
        if (f->opt.min) {
            snprintf(why, sizeof why, "'' is 0 bytes long, out of range [%s, %s]", f->opt.min, f->opt.max);
            expect_refused(path, "''", path, why);
        }
        expect_refused(path, "1", path, "expected a string, got an integer");
        expect_refused(path, "true", path, "expected a string, got a boolean");
    } else if (f->opt.type == QTR_OPT_STRING_LIST) {
        expect_refused(path, "'fill'", path, "expected a list of strings, got a string ('fill')");
        expect_refused(path, "{ kind = 'fill' }", path, "expected a list (array) of strings");
        char item[160];
        snprintf(item, sizeof item, "%s[2]", path);
        expect_refused(path, "{ 'fill', 2 }", item, "expected a string, got number");
    } else {
        fail_msg("%s: a type this test has no cases for", path);
    }
    if (f->opt.allowed) {
        char list[300] = "";
        for (const char *const *a = f->opt.allowed; *a; a++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == f->opt.allowed ? "" : a[1] ? ", " : " or ", *a);
        char where[160];
        snprintf(where, sizeof where, "%s%s", path, f->opt.type == QTR_OPT_STRING_LIST ? "[1]" : "");
        snprintf(why, sizeof why, "'bogus' is not %s", list);
        expect_refused(path, f->opt.type == QTR_OPT_STRING_LIST ? "{ 'bogus' }" : "'bogus'", where, why);
    }
}

static void every_declared_bound_and_type(void **state)
{
    (void)state;
    each_field(&qh_section_bus_top, "", bound_cases, NULL);
}

static void unknown_keys_and_wrong_tables(void **state)
{
    (void)state;
    expect_refused("bus.bogus", "1", "bus.bogus", "unknown setting");
    expect_refused("bus.redis.bogus", "1", "bus.redis.bogus", "unknown setting");
    expect_refused("bus.buffer.bogus", "1", "bus.buffer.bogus", "unknown setting");
    expect_refused("bus.buffer", "'x'", "bus.buffer", "expected a table, got string");
    expect_refused("bus.redis", "'redis://h'", "bus.redis", "expected a table, got string");
    expect_refused("bus.redis", "nil", "bus.redis", "missing (the Redis server to use)");
    expect_refused("bus.redis.url", "nil", "bus.redis.url", "missing (redis://host[:port][/db])");
    expect_refused("bus", "{ [1] = 'x' }", "bus", "unexpected non-name key");
    /* a control byte in a quoted value does not split the error's line */
    expect_refused("host_id", "'a\\nb'", "host_id", "'a?b' is not [a-z0-9-]{1,32}");
    expect_refused("bus.redis.url", "'http://h\\n'", "bus.redis.url", "'http://h?' is not redis://host[:port][/db]");
}

/* Through the server config: the file's name, the key, the range. */
static void in_the_server_config(void **state)
{
    (void)state;
    static const struct { const char *lua, *err; } cases[] = {
        { "return { plugins = {}, host_id = 'h', bus = { redis = { url = 'redis://h', maxlen = 0 } } }",
          "qtr.lua: bus.redis.maxlen: 0 is out of range [100, 1000000000]" },
        { "return { plugins = {}, host_id = 'h', bus = { redis = { url = 'redis://h' }, buffer = { fsync = 5 } } }",
          "qtr.lua: bus.buffer.fsync: unknown setting" },
        { "return { plugins = {}, hostid = 'h' }", "qtr.lua: hostid: unknown setting" },
        { "return { plugins = {}, role = 'exec' }", "qtr.lua: role: 'exec' is not all, strategy, execution or observer" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qh_config c;
        char err[512] = "";
        if (qh_config_load_string(cases[i].lua, "qtr.lua", "/etc/qtr", &c, err, sizeof err) == 0) {
            qh_config_free(&c);
            fail_msg("case %zu accepted", i);
        }
        if (strcmp(err, cases[i].err) != 0) fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].err);
    }
    qh_config c;
    char err[512] = "";
    if (qh_config_load_string("return { plugins = {}, host_id = 'exec-1', role = 'execution', bus = { redis = {"
                              " url = 'redis://127.0.0.1:6390/3', batch_max = 64 }, consume = { 'signal' } } }",
                              "qtr.lua", "/etc/qtr", &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(c.bus.enabled);
    assert_int_equal(c.bus.role, QH_ROLE_EXECUTION);
    assert_int_equal(c.bus.redis.port, 6390);
    assert_int_equal(c.bus.redis.db, 3);
    assert_int_equal(c.bus.redis.batch_max, 64);
    assert_string_equal(c.bus.group, "execution");
    qh_config_free(&c);
}

/* docs/config.md says what these tables declare: tests/core/test_config_docs.c (every section). */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_issue_example),
        cmocka_unit_test(defaults),
        cmocka_unit_test(refusals),
        cmocka_unit_test(declarations_are_consistent),
        cmocka_unit_test(no_key_falls_back_to_a_silent_default),
        cmocka_unit_test(every_event_type_by_name),
        cmocka_unit_test(every_declared_bound_and_type),
        cmocka_unit_test(unknown_keys_and_wrong_tables),
        cmocka_unit_test(in_the_server_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
