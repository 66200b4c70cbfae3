/* sandbox.c — the policy lua_State: allocator with a cap, per-call budgets
 * (instructions, deadline, bytes allocated), the reduced standard library,
 * text-only loading and protected calls. */
#include "policy/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/log.h"

/* Small blocks come from a free list per size class instead of malloc:
 * every block is still one malloc'd block (so free() is right for any of
 * them), of at least its class's size; a block in list k holds at least
 * 16 * (k + 1) bytes. Lua tells the size of every block it frees or
 * resizes, so no header is needed. */
#define POOL_MAX ((size_t)QH_POOL_CLASSES * 16)

static unsigned pool_class(size_t n)   /* 1..POOL_MAX -> 0..QH_POOL_CLASSES-1 */
{
    return (unsigned)((n - 1) >> 4);
}

static void *pool_get(qh_sandbox *sb, unsigned k)
{
    qh_pool_block *b = sb->pool[k];
    if (!b) return malloc(((size_t)k + 1) * 16);
    sb->pool[k] = b->next;
    sb->pool_count[k]--;
    return b;
}

/* A block Lua knew as `size` bytes, no longer used. */
static void pool_release(qh_sandbox *sb, void *p, size_t size)
{
    if (size > POOL_MAX) {
        free(p);
        return;
    }
    unsigned k = pool_class(size);
    if (sb->pool_count[k] >= QH_POOL_KEEP) {
        free(p);
        return;
    }
    qh_pool_block *b = p;
    b->next = sb->pool[k];
    sb->pool[k] = b;
    sb->pool_count[k]++;
}

static void pool_drain(qh_sandbox *sb)
{
    for (unsigned k = 0; k < QH_POOL_CLASSES; k++) {
        while (sb->pool[k]) {
            qh_pool_block *b = sb->pool[k];
            sb->pool[k] = b->next;
            free(b);
        }
        sb->pool_count[k] = 0;
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Where the running Lua code is, for an allocation about to be refused: a
 * memory error carries no position, and a message handler is not run for
 * one. Reading the call stack allocates nothing. */
static void note_refused_where(qh_sandbox *sb)
{
    if (!sb->in_call || sb->refused_where[0]) return;
    lua_Debug ar;
    for (int level = 0; lua_getstack(sb->L, level, &ar); level++) {
        if (lua_getinfo(sb->L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(sb->refused_where, sizeof sb->refused_where, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* The per-call budgets, for a growth of `grow` bytes: false (and the call
 * stopped) past the bytes one call may allocate, or, for a large block,
 * past the deadline. A stopped call still gets small blocks (its error
 * message), never large ones. Outside a call (setup, lua_close) nothing is
 * refused here. */
static bool call_may_allocate(qh_sandbox *sb, size_t grow)
{
    if (!sb->in_call) return true;
    if (sb->stop != QH_STOP_NONE) return grow < QH_SANDBOX_CLOCK_ALLOC;
    if (grow > sb->alloc_limit - sb->alloc_total) {
        sb->stop = QH_STOP_ALLOC;
        return false;
    }
    if (grow >= QH_SANDBOX_CLOCK_ALLOC && now_ns() >= sb->deadline_ns) {
        sb->stop = QH_STOP_TIME;
        return false;
    }
    sb->alloc_total += grow;
    return true;
}

/* Counts every byte Lua holds; refusing past the cap makes Lua raise a
 * memory error (after an emergency collection) instead of growing. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    qh_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;   /* with ptr NULL, osize is a type tag */
    if (nsize == 0) {
        if (ptr) pool_release(sb, ptr, old);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && (sb->mem_used - old + nsize > sb->mem_limit || !call_may_allocate(sb, nsize - old))) {
        note_refused_where(sb);
        return NULL;
    }
    void *np;
    if (nsize <= POOL_MAX) {
        if (ptr && old <= POOL_MAX && pool_class(old) == pool_class(nsize)) {
            np = ptr;                                   /* the block already fits */
        } else if ((np = pool_get(sb, pool_class(nsize))) != NULL) {
            if (ptr) {
                memcpy(np, ptr, old < nsize ? old : nsize);
                pool_release(sb, ptr, old);
            }
        } else if (ptr && nsize < old) {
            np = ptr;                                   /* shrinking: the old block will do */
        } else {
            return NULL;
        }
    } else if (ptr && old <= POOL_MAX) {                /* small to large */
        np = malloc(nsize);
        if (!np) return NULL;
        memcpy(np, ptr, old);
        pool_release(sb, ptr, old);
    } else {
        np = realloc(ptr, nsize);
        if (!np) return NULL;
    }
    sb->mem_used = sb->mem_used - old + nsize;
    return np;
}

static qh_sandbox *sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* What stopped the call, for its error message. */
static const char *stop_text(const qh_sandbox *sb, char *buf, size_t cap)
{
    switch (sb->stop) {
    case QH_STOP_INSTR:
        snprintf(buf, cap, "instruction limit exceeded (%llu instructions)", (unsigned long long)sb->instr_limit);
        break;
    case QH_STOP_TIME:
        snprintf(buf, cap, "time limit exceeded (%lld ms for one call)", (long long)(sb->time_limit_ns / 1000000));
        break;
    case QH_STOP_ALLOC:
        snprintf(buf, cap, "allocation limit exceeded (%zu bytes allocated in one call)", sb->alloc_limit);
        break;
    case QH_STOP_NONE:
        snprintf(buf, cap, "stopped");
        break;
    }
    return buf;
}

static void arm_hook(lua_State *L, qh_sandbox *sb);

static void instr_hook(lua_State *L, lua_Debug *ar);

/* Setting the hook also restarts its countdown. */
static void hook_every(lua_State *L, qh_sandbox *sb, int n)
{
    if (sb->hook_period == n) return;
    sb->hook_period = n;
    lua_sethook(L, instr_hook, LUA_MASKCOUNT, n);
}

/* Runs every hook_period instructions: spends them from the budget and
 * looks at the clock. Once the call is stopped (here or by the allocator)
 * it fires on every instruction, so a pcall inside the policy cannot
 * swallow the stop. */
static void instr_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    qh_sandbox *sb = sandbox_of(L);
    if (sb->stop == QH_STOP_NONE) {
        sb->instr_left -= (uint64_t)sb->hook_period;
        int64_t now = now_ns();
        if (sb->instr_left == 0) {
            sb->stop = QH_STOP_INSTR;
        } else if (now >= sb->deadline_ns) {
            sb->stop = QH_STOP_TIME;
        } else {
            bool slow = now - sb->checked_ns > sb->time_limit_ns / 16;
            sb->checked_ns = now;
            /* Once slow, every instruction for the rest of the call. */
            if (slow) hook_every(L, sb, 1);
            else if (sb->hook_period != 1) arm_hook(L, sb);
            return;
        }
    }
    hook_every(L, sb, 1);
    char why[96];
    stop_text(sb, why, sizeof why);
    lua_Debug here;
    if (lua_getstack(L, 0, &here) && lua_getinfo(L, "Sl", &here) && here.currentline > 0)
        lua_pushfstring(L, "%s:%d: %s", here.short_src, here.currentline, why);
    else
        lua_pushstring(L, why);
    lua_error(L);
}

/* The next look at the clock: after QH_SANDBOX_CLOCK_EVERY instructions,
 * or fewer if that is all the budget has left. */
static void arm_hook(lua_State *L, qh_sandbox *sb)
{
    uint64_t n = sb->instr_left < QH_SANDBOX_CLOCK_EVERY ? sb->instr_left : QH_SANDBOX_CLOCK_EVERY;
    sb->hook_period = 0;     /* always set: a new call needs a fresh countdown */
    hook_every(L, sb, n ? (int)n : 1);
}

/* print() goes to the host log, one line, never to stdout. */
static int sandbox_print(lua_State *L)
{
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_addvalue(&b);
        (void)s;
    }
    luaL_pushresult(&b);
    lua_Debug ar;
    const char *tag = sandbox_of(L)->kind == QH_SANDBOX_CONFIG ? "config" : "policy";
    const char *where = tag;
    char loc[96];
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        snprintf(loc, sizeof loc, "%s:%d", ar.short_src, ar.currentline);
        where = loc;
    }
    qh_log(QH_LOG_INFO, tag, "%s: %s", where, lua_tostring(L, -1));
    return 0;
}

/* setmetatable without __gc: a finalizer would run outside any judge() call
 * (even in lua_close, where no hook could stop it). */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc finalizers are not allowed in %s",
                              sandbox_of(L)->kind == QH_SANDBOX_CONFIG ? "configs" : "policies");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* string.* and table.* run in C, where the hook cannot look at the clock:
 * each call looks first (a pattern match or a sort can take milliseconds,
 * and a loop can make thousands of them between two hooks). */
static int timed_call(lua_State *L)
{
    qh_sandbox *sb = sandbox_of(L);
    if (sb->in_call && (sb->stop != QH_STOP_NONE || now_ns() >= sb->deadline_ns)) {
        if (sb->stop == QH_STOP_NONE) sb->stop = QH_STOP_TIME;
        hook_every(L, sb, 1);
        char why[96];
        return luaL_error(L, "%s", stop_text(sb, why, sizeof why));
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Wrap every C function of the library `name` in timed_call. The loaded-
 * modules registry (out of the policy's reach) keeps the originals under the
 * library's name, so an error message still names the function
 * ("bad argument #1 to 'string.rep'"), not '?'. */
static void time_library(lua_State *L, const char *name)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_newtable(L);                          /* the originals */
    lua_getglobal(L, name);
    lua_pushnil(L);
    while (lua_next(L, -2)) {                 /* loaded, originals, lib, key, fn */
        if (lua_tocfunction(L, -1)) {
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_rawset(L, -6);                /* originals[key] = fn */
            lua_pushvalue(L, -2);             /* key */
            lua_insert(L, -2);                /* key, key, fn */
            lua_pushcclosure(L, timed_call, 1);
            lua_rawset(L, -4);                /* replacing a field's value keeps lua_next going */
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);                            /* lib */
    lua_setfield(L, -2, name);                /* loaded[name] = originals */
    lua_pop(L, 1);
}

static void set_global_nil(lua_State *L, const char *name)
{
    lua_pushnil(L);
    lua_setglobal(L, name);
}

/* os reduced to what the kind allows (policy: time and clock; config:
 * getenv): never execute, remove, rename, exit, tmpname, setlocale. */
static void open_reduced_os(lua_State *L, qh_sandbox_kind kind)
{
    static const char *const policy_os[] = { "time", "clock", NULL };
    static const char *const config_os[] = { "getenv", NULL };
    const char *const *keep = kind == QH_SANDBOX_CONFIG ? config_os : policy_os;
    luaL_requiref(L, "os", luaopen_os, 0);
    lua_createtable(L, 0, 2);
    for (; *keep; keep++) {
        lua_getfield(L, -2, *keep);
        lua_setfield(L, -2, *keep);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);
}

static int open_libs(lua_State *L)
{
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_pop(L, 4);
    qh_sandbox_kind kind = sandbox_of(L)->kind;
    open_reduced_os(L, kind);
    /* Nothing that reads files, loads code, drives the collector or writes
     * to the terminal; rawset would bypass read-only tables. */
    static const char *const removed[] = { "dofile", "loadfile", "load", "require", "collectgarbage",
                                           "rawset", "warn", NULL };
    for (const char *const *r = removed; *r; r++) set_global_nil(L, *r);
    lua_pushcfunction(L, sandbox_print);
    lua_setglobal(L, "print");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, sandbox_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
    /* string.dump makes binary chunks; nothing here may handle them. */
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* The loaded-modules registry keeps the full os table: drop it. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    lua_setfield(L, -2, "os");
    lua_pop(L, 1);
    qh_sandbox_open_patterns(L);
    time_library(L, LUA_STRLIBNAME);
    time_library(L, LUA_TABLIBNAME);
    if (kind == QH_SANDBOX_POLICY) qh_sandbox_open_dec(L);
    qh_sandbox_lock_string_metatable(L);
    return 0;
}

/* Lua calls this on an error outside any protected call (a bug: every call
 * here is protected), and then aborts: say why first. */
static int sandbox_panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
    fprintf(stderr, "qtr: Lua error outside protected mode (a bug), aborting: %s\n", msg);
    fflush(stderr);
    return 0;
}

qh_sandbox *qh_sandbox_new(size_t mem_limit, uint64_t instr_limit)
{
    return qh_sandbox_new_kind(QH_SANDBOX_POLICY, mem_limit, instr_limit);
}

qh_sandbox *qh_sandbox_new_kind(qh_sandbox_kind kind, size_t mem_limit, uint64_t instr_limit)
{
    qh_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) return NULL;
    sb->kind = kind;
    sb->mem_limit = mem_limit;
    sb->instr_limit = instr_limit ? instr_limit : 1;
    qh_sandbox_set_call_limits(sb, 0, 0);
    sb->L = lua_newstate(capped_alloc, sb);
    if (!sb->L) { free(sb); return NULL; }
    lua_atpanic(sb->L, sandbox_panic);
    lua_pushcfunction(sb->L, open_libs);
    if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) { qh_sandbox_free(sb); return NULL; }
    return sb;
}

void qh_sandbox_set_call_limits(qh_sandbox *sb, int64_t time_limit_ms, size_t alloc_limit)
{
    sb->time_limit_ns = (time_limit_ms > 0 ? time_limit_ms : QH_SANDBOX_DEFAULT_TIME_MS) * 1000000;
    sb->alloc_limit = alloc_limit ? alloc_limit : QH_SANDBOX_DEFAULT_ALLOC;
}

void qh_sandbox_free(qh_sandbox *sb)
{
    if (!sb) return;
    if (sb->L) lua_close(sb->L);
    pool_drain(sb);
    free(sb);
}

/* A Lua message may quote source or a string with newlines and other
 * control bytes ("unfinished string near '"a<newline>'", error("a\nb")):
 * the error stays one line, \n as the two characters \ n, any other
 * control byte as \xNN (truncated to errlen like the rest). */
static void err_one_line(char *err, size_t errlen)
{
    if (!err || !errlen || !strpbrk(err, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                         "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"))
        return;
    char out[1024];
    size_t o = 0, cap = errlen < sizeof out ? errlen : sizeof out;
    for (const char *p = err; *p && o + 5 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') out[o++] = '\\', out[o++] = 'n';
        else if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        else out[o++] = (char)c;
    }
    out[o] = '\0';
    memcpy(err, out, o + 1);
}

/* The text handed to the parser a line at a time (with its line break, one
 * or two characters as Lua counts them), so that the line the parser is on
 * is known when it fails with a message that names none. */
typedef struct line_reader {
    const char *p;
    size_t left;
    int line;        /* the line last handed over */
    int next_line;
} line_reader;

static const char *read_line(lua_State *L, void *ud, size_t *size)
{
    (void)L;
    line_reader *r = ud;
    if (r->left == 0) {
        *size = 0;
        return NULL;
    }
    const char *start = r->p;
    size_t n = 0;
    while (n < r->left && start[n] != '\n' && start[n] != '\r') n++;
    r->line = r->next_line;
    if (n < r->left) {
        char c = start[n++];
        if (n < r->left && (start[n] == '\n' || start[n] == '\r') && start[n] != c) n++;
        r->next_line++;
    }
    r->p += n;
    r->left -= n;
    *size = n;
    return start;
}

/* Whether a Lua message opens with the chunk's name and a line, as Lua
 * places it ("file.lua:3: ..."; a long name cut to "...tail.lua:3: ..."). */
static bool names_a_line(const char *msg, const char *chunkname)
{
    size_t n = strlen(chunkname);
    const char *p = NULL;
    if (strncmp(msg, chunkname, n) == 0) {
        p = msg + n;
    } else if (strncmp(msg, "...", 3) == 0) {
        for (const char *q = strchr(msg + 3, ':'); q && !p; q = strchr(q + 1, ':')) {
            size_t k = (size_t)(q - (msg + 3));
            if (k <= n && strncmp(msg + 3, chunkname + n - k, k) == 0) p = q;
        }
    }
    if (!p || p[0] != ':' || p[1] < '0' || p[1] > '9') return false;
    for (p++; *p >= '0' && *p <= '9'; p++) {}
    return *p == ':';
}

int qh_sandbox_load_text(qh_sandbox *sb, const char *buf, size_t len, const char *chunkname,
                         char *err, size_t errlen)
{
    char name[512];
    snprintf(name, sizeof name, "@%s", chunkname);
    /* As the stock interpreter reads a file: a UTF-8 byte order mark (what
     * some editors write) and a first line starting with '#' (a "#!" line)
     * are skipped; the line's newline stays, so line numbers stay right. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) buf += 3, len -= 3;
    if (len > 0 && buf[0] == '#') {
        const char *nl = memchr(buf, '\n', len);
        size_t skip = nl ? (size_t)(nl - buf) : len;
        buf += skip, len -= skip;
    }
    line_reader r = { .p = buf, .left = len, .line = 1, .next_line = 1 };
    int rc = lua_load(sb->L, read_line, &r, name, "t");
    if (rc == LUA_OK) return 0;
    const char *msg = lua_tostring(sb->L, -1);
    if (rc == LUA_ERRMEM)
        snprintf(err, errlen, "%s: memory limit exceeded (%zu bytes) while compiling", chunkname, sb->mem_limit);
    else if (msg && strstr(msg, "attempt to load a binary chunk"))
        snprintf(err, errlen, "%s: binary (precompiled) chunks are refused; give Lua source text", chunkname);
    else if (msg && !names_a_line(msg, chunkname))
        /* raised by Lua itself, not as a syntax error, so without a place:
         * nesting deeper than the parser allows (a table constructor 300
         * levels deep, "return ((((...))))") is "C stack overflow" */
        snprintf(err, errlen, "%s:%d: %s%s", chunkname, r.line, msg,
                 strstr(msg, "stack overflow") ? " (nested too deeply)" : "");
    else
        snprintf(err, errlen, "%s", msg ? msg : "unknown compile error");
    err_one_line(err, errlen);
    lua_pop(sb->L, 1);
    return -1;
}

/* Message handler: errors raised from C carry no position; give them the
 * position of the innermost Lua frame. */
static int message_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        msg = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
        lua_replace(L, 1);
    }
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
        size_t n = strlen(ar.short_src);
        if (strncmp(msg, ar.short_src, n) == 0 && msg[n] == ':') return 1;   /* already placed */
        lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
        return 1;
    }
    lua_settop(L, 1);
    return 1;
}

/* lua_pcall of the function below its nargs arguments, with the message
 * handler at msgh, fresh budgets, and err filled on failure. The handler
 * and the results stay on the stack. */
static int protected_call(qh_sandbox *sb, int nargs, int nresults, int msgh, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    sb->stop = QH_STOP_NONE;
    sb->instr_left = sb->instr_limit;
    sb->alloc_total = 0;
    sb->refused_where[0] = '\0';
    sb->checked_ns = now_ns();
    sb->deadline_ns = sb->checked_ns + sb->time_limit_ns;
    sb->in_call = true;
    arm_hook(L, sb);
    int rc = lua_pcall(L, nargs, nresults, msgh);
    lua_sethook(L, NULL, 0, 0);
    sb->in_call = false;
    /* A call that answers after being stopped (its own pcall caught the
     * stop) fails all the same. One that answered late without meeting a
     * clock check is not stopped after the fact: it did less than one
     * check's worth of work (a host stalled by the machine, not a slow
     * policy, is the likely cause), and refusing it would only punish the
     * policy for the machine. */
    if (rc == LUA_OK && sb->stop == QH_STOP_NONE) return 0;
    /* (On failure the callers drop whatever the call left on the stack.) */
    char why[96];
    const char *msg = rc == LUA_OK ? NULL : lua_tostring(L, -1);
    const char *where = sb->refused_where[0] ? sb->refused_where : NULL;
    if (sb->stop != QH_STOP_NONE && (rc != LUA_ERRRUN || !msg || !strstr(msg, stop_text(sb, why, sizeof why)))) {
        /* Stopped, but the message (if any) says something else: a memory
         * error from the allocator, or the policy's own error handling. */
        snprintf(err, errlen, "%s%s%s", where ? where : "", where ? ": " : "", stop_text(sb, why, sizeof why));
    } else if (rc == LUA_ERRMEM) {
        snprintf(err, errlen, "%s%smemory limit exceeded (%zu bytes)", where ? where : "", where ? ": " : "",
                 sb->mem_limit);
    } else {
        snprintf(err, errlen, "%s", msg ? msg : "unknown error");
    }
    err_one_line(err, errlen);
    return -1;
}

int qh_sandbox_call(qh_sandbox *sb, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    int fn = lua_gettop(L) - nargs;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, fn);
    if (protected_call(sb, nargs, nresults, fn, err, errlen) == 0) {
        lua_remove(L, fn);
        return 0;
    }
    lua_settop(L, fn - 1);
    return -1;
}

/* f (already pushed above the handler at msgh) called as f(ud, value at argidx or nil). */
static int call_pushed(qh_sandbox *sb, int msgh, void *ud, int argidx, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    lua_pushlightuserdata(L, ud);
    if (argidx) lua_pushvalue(L, argidx);
    else lua_pushnil(L);
    int rc = protected_call(sb, 2, 0, msgh, err, errlen);
    lua_settop(L, msgh - 1);
    return rc;
}

int qh_sandbox_call_c(qh_sandbox *sb, lua_CFunction f, void *ud, int argidx, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    if (argidx) argidx = lua_absindex(L, argidx);
    if (!lua_checkstack(L, 5)) {
        snprintf(err, errlen, "out of Lua stack");
        return -1;
    }
    /* The handler goes in first: nothing to move around the call. */
    int msgh = lua_gettop(L) + 1;
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, f);
    return call_pushed(sb, msgh, ud, argidx, err, errlen);
}

int qh_sandbox_call_ref(qh_sandbox *sb, int ref, void *ud, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    if (!lua_checkstack(L, 5)) {
        snprintf(err, errlen, "out of Lua stack");
        return -1;
    }
    int msgh = lua_gettop(L) + 1;
    lua_pushcfunction(L, message_handler);
    if (lua_rawgeti(L, LUA_REGISTRYINDEX, ref) != LUA_TFUNCTION) {
        lua_settop(L, msgh - 1);
        snprintf(err, errlen, "no function to call");
        return -1;
    }
    return call_pushed(sb, msgh, ud, 0, err, errlen);
}
