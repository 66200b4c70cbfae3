/* Sandbox escapes, tried one by one: each is refused or stopped, with no
 * side effect and, for judge(), the policy still answering afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "policy/sandbox.h"
#include "policy_fixture.h"

typedef struct world {
    pfx fx;
    qh_policy *p;
    char marker[300];
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    pfx_file(&w->fx, "marker", w->marker, sizeof w->marker);
    /* a deadline far away: these tests are about the other limits, and a
     * busy machine must not turn a memory bomb into a timeout */
    qh_policy_config cfg = { .mem_limit_bytes = 4u << 20, .instr_limit = 200000, .time_limit_ms = 10000 };
    w->p = qh_policy_new(&cfg);
    assert_non_null(w->p);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    qh_policy_free(w->p);
    pfx_cleanup(&w->fx);
    free(w);
    return 0;
}

/* Loading a policy whose top level runs `prelude` fails with `expect`. */
static void load_refused(world *w, const char *prelude, const char *expect)
{
    char text[8192];
    pfx_policy_text(text, sizeof text, prelude, NULL, NULL, NULL, NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "escape.lua", text), 1000, &ev), -1);
    assert_false(ev.ok);
    assert_true(pfx_contains(ev.error, expect));
    assert_true(pfx_contains(ev.error, w->fx.path));
    assert_false(qh_policy_loaded(w->p));
    assert_int_not_equal(access(w->marker, F_OK), 0);
}

static void test_os_execute_refused(void **state)
{
    world *w = *state;
    char prelude[512];
    snprintf(prelude, sizeof prelude, "os.execute(\"touch %s\")", w->marker);
    load_refused(w, prelude, "execute");
    snprintf(prelude, sizeof prelude, "os.remove(\"%s\")", w->marker);
    load_refused(w, prelude, "remove");
    load_refused(w, "local home = os.getenv(\"HOME\")", "getenv");
}

static void test_io_open_refused(void **state)
{
    world *w = *state;
    char prelude[512];
    snprintf(prelude, sizeof prelude, "local f = io.open(\"%s\", \"w\")", w->marker);
    load_refused(w, prelude, "io");
}

/* The string metatable is locked before the policy's text runs: changed
 * while loading, a closure behind every string kept a writable table out of
 * the freeze's reach, and judge() counted its calls through ("").cnt. */
static void test_string_metatable_locked_while_loading(void **state)
{
    load_refused(*state,
                 "local mt = getmetatable(\"\")\n"
                 "local box = { n = 0 }\n"
                 "mt.__index = function(s, k) box.n = box.n + 1 return box.n end",
                 "attempt to index a string value");
    load_refused(*state, "getmetatable(\"\").__index = function() return 1 end", "attempt to index a string value");
    load_refused(*state, "setmetatable(\"\", {})", "table expected, got string");
}

static void test_require_refused(void **state)
{
    load_refused(*state, "local m = require(\"os\")", "require");
    load_refused(*state, "local m = package.loaded.os", "package");
}

static void test_dofile_loadfile_refused(void **state)
{
    load_refused(*state, "dofile(\"/etc/hostname\")", "dofile");
    load_refused(*state, "local f = loadfile(\"/etc/hostname\")", "loadfile");
}

/* A real binary chunk, made with string.dump in a separate, ordinary state. */
static size_t make_binary_chunk(char *buf, size_t cap)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    assert_int_equal(luaL_loadstring(L, "return { name = 'binary' }"), LUA_OK);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_getglobal(L, "string");   /* not opened: use lua_dump instead */
    lua_pop(L, 1);
    luaL_openlibs(L);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "dump");
    lua_pushvalue(L, 1);
    assert_int_equal(lua_pcall(L, 1, 1, 0), LUA_OK);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    assert_true(len > 4 && len < cap && s[0] == 0x1b);
    memcpy(buf, s, len);
    lua_close(L);
    return len;
}

static void test_binary_chunk_file_refused(void **state)
{
    world *w = *state;
    char chunk[4096];
    size_t len = make_binary_chunk(chunk, sizeof chunk);
    char path[300];
    FILE *f = fopen(pfx_file(&w->fx, "binary.lua", path, sizeof path), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(chunk, 1, len, f), len);
    fclose(f);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, path, 1000, &ev), -1);
    assert_true(pfx_contains(ev.error, "binary"));
    assert_true(pfx_contains(ev.error, path));
    char err[512];
    assert_int_equal(qh_policy_check_file(path, err, sizeof err), -1);
    assert_true(pfx_contains(err, "binary"));
}

static void test_binary_chunk_via_load_refused(void **state)
{
    world *w = *state;
    char chunk[4096];
    size_t len = make_binary_chunk(chunk, sizeof chunk);
    /* The chunk as a Lua string literal with \ddd escapes. */
    char prelude[20000];
    size_t n = (size_t)snprintf(prelude, sizeof prelude, "local bin = \"");
    for (size_t i = 0; i < len; i++) n += (size_t)snprintf(prelude + n, sizeof prelude - n, "\\%03u", (unsigned char)chunk[i]);
    snprintf(prelude + n, sizeof prelude - n, "\"\nlocal f = load(bin, \"x\", \"b\")");
    load_refused(w, prelude, "load");
    load_refused(w, "local d = string.dump(function() end)", "dump");
}

static void test_memory_bomb_hits_cap(void **state)
{
    load_refused(*state, "local s = string.rep(\"x\", 64 * 1024 * 1024)", "memory limit exceeded");
    load_refused(*state, "local t = {} for i = 1, 100 do t[i] = string.rep(\"y\", 1024 * 1024) .. i end",
                 "memory limit exceeded");
}

static void test_endless_loop_stopped(void **state)
{
    world *w = *state;
    char text[8192];
    pfx_policy_text(text, sizeof text, "local n = 0\nwhile true do n = n + 1 end", NULL, NULL, NULL, NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "loop.lua", text), 1000, &ev), -1);
    assert_true(pfx_contains(ev.error, "instruction limit exceeded"));
    char where[300];
    snprintf(where, sizeof where, "%s:2:", w->fx.path);   /* the loop is on line 2 */
    assert_true(pfx_contains(ev.error, where));
    /* pcall inside the policy cannot swallow the stop. */
    load_refused(w, "while true do pcall(function() while true do end end) end", "instruction limit exceeded");
}

static void test_pattern_bomb_refused(void **state)
{
    load_refused(*state, "local i = string.rep(\"a\", 100000):find(\".-.-.-b\")", "pattern too costly");
    load_refused(*state, "local i = (\"a\"):rep(50000):match(\"(.*)(.*)x\")", "pattern too costly");
}

static void test_debug_and_collectgarbage_absent(void **state)
{
    load_refused(*state, "local info = debug.getinfo(1)", "debug");
    load_refused(*state, "collectgarbage(\"stop\")", "collectgarbage");
    load_refused(*state, "setmetatable({}, { __gc = function() while true do end end })", "__gc");
}

/* A byte order mark and a "#!" first line are skipped as the stock
 * interpreter skips them, and line numbers stay those of the file. */
static void test_bom_and_hash_line_skipped(void **state)
{
    world *w = *state;
    char text[8192], file[8300];
    pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, NULL);
    snprintf(file, sizeof file, "\xEF\xBB\xBF#!/usr/bin/env lua\n%s", text);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "bom.lua", file), 1000, &ev), 0);
    assert_true(ev.ok);
    snprintf(file, sizeof file, "\xEF\xBB\xBF#!/usr/bin/env lua\nerror(\"on line two\")\n%s", text);
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "bom2.lua", file), 1000, &ev), -1);
    char where[300];
    snprintf(where, sizeof where, "%s:2: on line two", w->fx.path);
    if (!pfx_contains(ev.error, where)) print_error("%s\n", ev.error);
    assert_true(pfx_contains(ev.error, where));
}

/* Nesting deeper than Lua's parser allows fails inside Lua with "C stack
 * overflow" and no place of its own: the error still names the file and
 * the line, as a syntax error does, through qh_policy_load and through
 * qh_policy_check_file (qtr policy check). */
static void test_deep_nesting_names_file_and_line(void **state)
{
    world *w = *state;
    static const char *const nests[][2] = { { "{", "}" }, { "(", ")" }, { "(function() return ", " end)" } };
    for (size_t i = 0; i < sizeof nests / sizeof nests[0]; i++) {
        char prelude[8192] = "local a = 1\n-- the nest is on line 3\nlocal x = ";
        for (int k = 0; k < 300; k++) strcat(prelude, nests[i][0]);
        strcat(prelude, i ? "1" : "");
        for (int k = 0; k < 300; k++) strcat(prelude, nests[i][1]);
        char text[16384];
        pfx_policy_text(text, sizeof text, prelude, NULL, NULL, NULL, NULL);
        qtr_policy_event ev;
        assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "deep.lua", text), 1000, &ev), -1);
        char where[300];
        snprintf(where, sizeof where, "%s:3: ", w->fx.path);
        if (!pfx_contains(ev.error, where) || !pfx_contains(ev.error, "stack overflow"))
            fail_msg("nest %zu: '%s' lacks '%s' / 'stack overflow'", i, ev.error, where);
        char err[512];
        assert_int_equal(qh_policy_check_file(w->fx.path, err, sizeof err), -1);
        if (strncmp(err, where, strlen(where)) != 0) fail_msg("policy check, nest %zu: '%s' lacks '%s'", i, err, where);
    }
    /* a nest built while running is no parse error: the policy loads */
    char text[8192];
    pfx_policy_text(text, sizeof text, "local t = {} for i = 1, 1000 do t = { t } end", NULL, NULL, NULL, NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "built.lua", text), 1000, &ev), 0);
}

static void test_plain_code_still_works(void **state)
{
    world *w = *state;
    char text[8192];
    pfx_policy_text(text, sizeof text,
                    "local s = string.format(\"%d-%s\", 3, (\"ab\"):upper())\n"
                    "assert(s == \"3-AB\" and math.max(1, 2) == 2 and table.concat({1, 2}, \",\") == \"1,2\")\n"
                    "assert((\"BTCUSDT\"):find(\"USDT$\") == 4 and type(os.time()) == \"number\")\n"
                    "assert(os.execute == nil and os.getenv == nil and io == nil and debug == nil)\n"
                    "print(\"policy prelude ran\", s)",
                    NULL, NULL, NULL, NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "plain.lua", text), 1000, &ev), 0);
    assert_true(ev.ok);
}

/* A judge that, by symbol, tries one trick; CHECK reports what it sees. */
static const char *const tricky_judge =
    "function(o, c)\n"
    "  if o.symbol == \"SETGLOBAL\" then counter = (counter or 0) + 1 end\n"
    "  if o.symbol == \"RAWSET\" then rawset(_G, \"counter\", 5) end\n"
    "  if o.symbol == \"SETMETA\" then setmetatable(_G, nil) end\n"
    "  if o.symbol == \"LIBPATCH\" then string.upper = function() return \"hacked\" end end\n"
    "  if o.symbol == \"STRMETA\" then getmetatable(\"\").__index = { upper = function() return \"hacked\" end } end\n"
    "  if o.symbol == \"STRSETMETA\" then setmetatable(\"\", {}) end\n"
    "  if o.symbol == \"UPVALUE\" then state.calls = state.calls + 1 end\n"
    "  if o.symbol == \"ORDERMUT\" then o.extra = 1 end\n"
    "  if o.symbol == \"ORDERQTY\" then o.qty = \"999\" end\n"
    "  if o.symbol == \"BOMB\" then local s = string.rep(\"z\", 64 * 1024 * 1024) end\n"
    "  if o.symbol == \"LOOP\" then while true do end end\n"
    "  if o.symbol == \"CHECK\" then\n"
    "    if counter ~= nil then return \"reject\", \"global_changed\" end\n"
    "    if (\"a\"):upper() ~= \"A\" or string.upper(\"b\") ~= \"B\" then return \"reject\", \"string_changed\" end\n"
    "    if state.calls ~= 0 then return \"reject\", \"upvalue_changed\" end\n"
    "    if o.extra ~= nil then return \"reject\", \"order_changed\" end\n"
    "    if o.qty ~= \"0.01\" then return \"reject\", \"qty_changed\" end\n"
    "    if getmetatable(_G) == nil then return \"reject\", \"meta_changed\" end\n"
    "  end\n"
    "  return \"allow\"\n"
    "end";

static void judge_symbol(world *w, const char *symbol, qtr_risk_decision *d)
{
    qtr_order_intent o;
    qh_risk_ctx rc;
    pfx_order(&o, &rc, symbol);
    qh_policy_judge(w->p, &o, &rc, d);
}

static void test_judge_cannot_change_what_next_call_sees(void **state)
{
    world *w = *state;
    char text[8192];
    pfx_policy_text(text, sizeof text, "local state = { calls = 0 }", NULL, NULL, NULL, tricky_judge);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "tricky.lua", text), 1000, &ev), 0);
    static const char *const tricks[] = { "SETGLOBAL", "RAWSET", "SETMETA", "LIBPATCH", "STRMETA", "STRSETMETA",
                                          "UPVALUE", "ORDERMUT", "ORDERQTY", "BOMB", "LOOP" };
    qtr_risk_decision d;
    for (size_t i = 0; i < sizeof tricks / sizeof tricks[0]; i++) {
        uint64_t before = qh_policy_judge_errors(w->p);
        judge_symbol(w, tricks[i], &d);
        /* Every trick raises an error: refused, fail closed. */
        assert_int_equal(d.verdict, QTR_RISK_REJECT);
        assert_string_equal(d.reason, "policy_error");
        assert_int_equal(qh_policy_judge_errors(w->p), before + 1);
        judge_symbol(w, "CHECK", &d);
        if (d.verdict != QTR_RISK_APPROVE) print_error("after %s: %s\n", tricks[i], d.reason);
        assert_int_equal(d.verdict, QTR_RISK_APPROVE);
    }
    assert_true(pfx_contains(qh_policy_last_judge_error(w->p), "instruction limit exceeded"));
}

static void test_judge_errors_name_file_and_line(void **state)
{
    world *w = *state;
    char text[8192];
    pfx_policy_text(text, sizeof text, "local state = { calls = 0 }", NULL, NULL, NULL, tricky_judge);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, pfx_write(&w->fx, "tricky.lua", text), 1000, &ev), 0);
    qtr_risk_decision d;
    judge_symbol(w, "SETGLOBAL", &d);
    /* judge starts on the line after `judge = `; count it from the text. */
    const char *at = strstr(text, "  if o.symbol == \"SETGLOBAL\"");
    int line = 1;
    for (const char *c = text; c < at; c++) line += *c == '\n';
    char where[300];
    snprintf(where, sizeof where, "%s:%d:", w->fx.path, line);
    assert_true(pfx_contains(qh_policy_last_judge_error(w->p), where));
    assert_true(pfx_contains(qh_policy_last_judge_error(w->p), "read-only"));
}

/* The sandbox's allocator recycles small blocks: data survives every
 * resize between size classes and to and from large blocks, the bytes Lua
 * holds are counted exactly (back to where they were once the garbage is
 * collected), and the recycled blocks kept are bounded. */
static void test_allocator_recycles_and_counts(void **state)
{
    (void)state;
    qh_sandbox *sb = qh_sandbox_new((size_t)8 << 20, 100000000);
    assert_non_null(sb);
    qh_sandbox_set_call_limits(sb, 60000, 0);   /* a long run: not about time */
    lua_gc(sb->L, LUA_GCCOLLECT);
    size_t base = sb->mem_used;
    static const char *const src =
        "local failed = 0\n"
        "local keep = {}\n"
        "for round = 1, 40 do\n"
        "  local t = {}\n"                                 /* grows through every size class and past */
        "  for i = 1, 300 do t[i] = string.rep(string.char(65 + (i + round) % 26), (i * 7 + round) % 260 + 1) end\n"
        "  local h = {}\n"                                 /* a hash part that grows, then shrinks on rehash */
        "  for i = 1, 200 do h['k' .. i .. '_' .. round] = i end\n"
        "  for i = 1, 190 do h['k' .. i .. '_' .. round] = nil end\n"
        "  for i = 1, 30 do h[i * 1000 + round] = i end\n"
        "  for i = 1, 300 do\n"
        "    local s = t[i]\n"
        "    if #s ~= (i * 7 + round) % 260 + 1 or s:byte(1) ~= 65 + (i + round) % 26 or s:byte(#s) ~= s:byte(1) then\n"
        "      failed = failed + 1\n"
        "    end\n"
        "  end\n"
        "  local n = 0\n"
        "  for k, v in pairs(h) do n = n + 1 end\n"
        "  if n ~= 40 or h['k200_' .. round] ~= 200 or h[30000 + round] ~= 30 then failed = failed + 1 end\n"
        "  keep[round % 5 + 1] = table.concat(t, ',')\n"   /* a buffer that grows from small to large */
        "end\n"
        "for i = 1, 5 do if #keep[i] < 30000 then failed = failed + 1 end end\n"
        "return failed\n";
    char err[512];
    if (qh_sandbox_load_text(sb, src, strlen(src), "alloc", err, sizeof err) != 0 ||
        qh_sandbox_call(sb, 0, 1, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(lua_tointeger(sb->L, -1), 0);
    lua_pop(sb->L, 1);
    size_t kept = 0;
    for (int k = 0; k < QH_POOL_CLASSES; k++) {
        assert_true(sb->pool_count[k] <= QH_POOL_KEEP);
        kept += sb->pool_count[k];
    }
    assert_true(kept > 0);   /* small blocks were freed into the pool */
    lua_gc(sb->L, LUA_GCCOLLECT);
    lua_gc(sb->L, LUA_GCCOLLECT);
    /* what remains is what Lua holds: the chunk's own function and strings */
    assert_true(sb->mem_used >= base && sb->mem_used < base + 16384);
    qh_sandbox_free(sb);
}

/* string.* and table.* go through a clock check, and their errors still
 * name the function. */
static void test_library_errors_name_the_function(void **state)
{
    load_refused(*state, "local x = string.rep({}, 2)", "bad argument #1 to 'string.rep'");
    load_refused(*state, "table.insert(1, 2)", "bad argument #1 to 'table.insert'");
}

/* A Lua error outside protected mode (a bug) aborts, but says why first:
 * before, the process died with SIGABRT and printed nothing. */
static void test_panic_prints_before_abort(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        qh_sandbox *sb = qh_sandbox_new((size_t)4 << 20, 1000);
        lua_pushstring(sb->L, "an unprotected error for the test");
        lua_error(sb->L);
        _exit(0);   /* not reached */
    }
    close(fds[1]);
    char out[1024] = "";
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_true(pfx_contains(out, "an unprotected error for the test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_os_execute_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_open_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_metatable_locked_while_loading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dofile_loadfile_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_chunk_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_chunk_via_load_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb_hits_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_loop_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern_bomb_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_and_collectgarbage_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_code_still_works, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom_and_hash_line_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_names_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge_cannot_change_what_next_call_sees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge_errors_name_file_and_line, setup, teardown),
        cmocka_unit_test(test_allocator_recycles_and_counts),
        cmocka_unit_test(test_panic_prints_before_abort),
        cmocka_unit_test_setup_teardown(test_library_errors_name_the_function, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
