/*
 * The Lua sandbox a policy runs in: one lua_State with a counting allocator
 * (memory cap), an instruction-count hook (runaway code is stopped), only the
 * base, string, table and math libraries (minus anything that reaches files,
 * code loading or the collector) and os reduced to time and clock.
 */
#ifndef QH_POLICY_SANDBOX_H
#define QH_POLICY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

typedef struct qh_sandbox {
    lua_State *L;
    size_t mem_used;
    size_t mem_limit;
    uint64_t instr_limit;
    bool instr_exceeded;   /* set by the hook; keeps erroring until the call ends */
} qh_sandbox;

/* A fresh sandboxed state; NULL if even the libraries do not fit. */
qh_sandbox *qh_sandbox_new(size_t mem_limit, uint64_t instr_limit);
void qh_sandbox_free(qh_sandbox *sb);

/* Compile a text chunk (binary chunks are refused) named "@chunkname" and
 * leave the function on the stack. 0, or -1 with the message in err. */
int qh_sandbox_load_text(qh_sandbox *sb, const char *buf, size_t len, const char *chunkname,
                         char *err, size_t errlen);

/* lua_pcall with a fresh instruction budget and a message handler that puts
 * file:line in front of errors raised from C. 0, or -1 with err filled
 * (the stack is then as if the call returned nothing). */
int qh_sandbox_call(qh_sandbox *sb, int nargs, int nresults, char *err, size_t errlen);

/* Call the C function f(ud, value at argidx (nil if argidx is 0)) through
 * qh_sandbox_call, so every Lua API call inside is protected (a memory
 * error raised outside protected mode would abort the process). */
int qh_sandbox_call_c(qh_sandbox *sb, lua_CFunction f, void *ud, int argidx, char *err, size_t errlen);

/* Make the globals and every table reachable from the value at idx (and
 * from the upvalues of Lua functions reachable from it) read-only.
 * 0, or -1 with err filled. */
int qh_sandbox_freeze(qh_sandbox *sb, int idx, char *err, size_t errlen);

/* Push a new table that Lua code can read (fields, ipairs, pairs, #) but not
 * change, and push its hidden backing table; C writes fields into the
 * backing table with lua_raw* calls. Leaves [proxy, backing] on the stack. */
void qh_sandbox_new_readonly(lua_State *L);

/* Install the pattern-cost guard on string.find/match/gmatch/gsub. */
void qh_sandbox_open_patterns(lua_State *L);
/* Install the `dec` library: exact decimal arithmetic on money strings. */
void qh_sandbox_open_dec(lua_State *L);

#endif
