/* bus/bus_config: the issue's example reads back field by field; without
 * `bus` nothing changes; every bad setting is one error naming its place
 * (unknown role, role without a bus, bad url, password in the url, unknown
 * event type, unknown key, out-of-range numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include <qtr/events.h>

#include "bus/bus_config.h"

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
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h h' } } }", "bus.redis.url", "bad character" },
        { "return { host_id = 'h', bus = { } }", "bus.redis", "missing" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', batch_max = 0 } } }", "bus.redis.batch_max", "out of range" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', flush_ms = 1.5 } } }", "bus.redis.flush_ms", "a float" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', password_env = 'PATH' } } }", "bus.redis.password_env", "QTR_" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h', port = 1 } } }", "bus.redis.port", "unknown setting" },
        { "return { host_id = 'h', bus = { redis = { url = 'redis://h' }, mirror = { 'fill', 'fils' } } }", "bus.mirror[2]", "'fils' is not an event type" },
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_issue_example),
        cmocka_unit_test(defaults),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
