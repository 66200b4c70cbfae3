/*
 * The one Lua sandbox of the host: risk policies and the server config run
 * in it. One lua_State with a counting allocator (memory cap), per-call
 * budgets (instructions, wall-clock time, bytes allocated), only the base,
 * string, table and math libraries (minus anything that reaches files, code
 * loading or the collector: no io, require, load, loadfile, dofile,
 * collectgarbage, rawset, warn, string.dump; text chunks only) and, by kind:
 *
 *   QH_SANDBOX_POLICY  os.time, os.clock, the `dec` library; print -> log "policy"
 *   QH_SANDBOX_CONFIG  os.getenv only;                        print -> log "config"
 *
 * Nothing else is reachable (tests/core/test_config.c and
 * tests/policy/test_policy_sandbox.c check both lists).
 *
 * The instruction budget alone does not bound time: one instruction can be
 * a C function that runs for milliseconds (string.rep of 8 MB, a rehash of
 * a big table). So every call also has a deadline, checked by the hook
 * every QH_SANDBOX_CLOCK_EVERY instructions and by the allocator on every
 * large allocation, and a cap on the bytes it may allocate in total (freed
 * or not). Past any of them the call is stopped and cannot be resumed by a
 * pcall inside the policy.
 */
#ifndef QH_POLICY_SANDBOX_H
#define QH_POLICY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* The `dec` parse cache: decimal text -> qtr_dec, so a money string that
 * dec.* sees again (a limit read on every order, a field of the order in
 * progress, the result of the previous dec call) is not parsed again. An
 * entry is found through the address of the string's bytes inside Lua (the
 * same string object gives the same address), but a hit also needs the
 * same length and the same bytes: an address freed by the collector and
 * reused for other text is a miss, so the cache can only ever answer what
 * qtr_dec_parse would.
 *
 * Two regions, two ways per set, the newest first: `seen` holds text dec
 * had to parse (mostly a policy's own constants, the limits), `made` the
 * strings the engine made itself (money fields, dec results: new on most
 * calls, their memory soon reused for the next ones). Kept apart, the
 * stream of made strings never pushes a limit out. */
#define QH_DEC_SEEN_SETS 64
#define QH_DEC_MADE_SETS 32
#define QH_DEC_CACHE_TEXT 23            /* longest text kept (canonical money is at most 21) */
typedef struct qh_dec_cache_entry {
    const char *p;                      /* NULL: empty */
    int64_t value;                      /* a qtr_dec */
    uint8_t len;
    char text[QH_DEC_CACHE_TEXT];
} qh_dec_cache_entry;

typedef struct qh_dec_cache {
    qh_dec_cache_entry seen[QH_DEC_SEEN_SETS][2];
    qh_dec_cache_entry made[QH_DEC_MADE_SETS][2];
    uint64_t hits, misses;              /* for tests and benchmarks */
} qh_dec_cache;

/* Free small blocks, kept for reuse (sandbox.c): a judge() call makes and
 * drops a few strings, and the collector frees them a little later. */
#define QH_POOL_CLASSES 8                /* blocks of 16, 32, ..., 128 bytes */
#define QH_POOL_KEEP    1024             /* free blocks kept per class, at most */
typedef struct qh_pool_block {
    struct qh_pool_block *next;
} qh_pool_block;

/* Per-call budgets by default (qh_sandbox_set_call_limits changes them). */
#define QH_SANDBOX_DEFAULT_TIME_MS  100
#define QH_SANDBOX_DEFAULT_ALLOC    ((size_t)64 << 20)
/* Instructions between two looks at the clock; 1 once a stretch of them
 * took more than a sixteenth of the time limit (each was slow: a compare
 * of long strings, say). Calls into string.* and table.* look at the clock
 * as well. */
#define QH_SANDBOX_CLOCK_EVERY      100
/* An allocation at least this large looks at the clock first. */
#define QH_SANDBOX_CLOCK_ALLOC      ((size_t)64 << 10)

/* Why the call in progress (or the last one) was stopped. */
typedef enum qh_sandbox_stop {
    QH_STOP_NONE = 0,
    QH_STOP_INSTR,           /* instruction budget used up                 */
    QH_STOP_TIME,            /* past its wall-clock deadline               */
    QH_STOP_ALLOC,           /* allocated more than its per-call budget    */
} qh_sandbox_stop;

/* What the Lua code gets besides the common base (see the top). */
typedef enum qh_sandbox_kind {
    QH_SANDBOX_POLICY = 0,
    QH_SANDBOX_CONFIG,
} qh_sandbox_kind;

typedef struct qh_sandbox {
    lua_State *L;
    qh_sandbox_kind kind;
    size_t mem_used;         /* bytes Lua holds (the cap counts these)           */
    size_t mem_limit;
    uint64_t instr_limit;    /* per call */
    int64_t time_limit_ns;   /* per call */
    size_t alloc_limit;      /* bytes one call may allocate in total */
    /* The call in progress. */
    bool in_call;
    qh_sandbox_stop stop;    /* set once; the hook then errors on every instruction */
    uint64_t instr_left;     /* of the budget, counted at each hook */
    int hook_period;         /* instructions the armed hook waits for */
    int64_t deadline_ns;     /* CLOCK_MONOTONIC */
    int64_t checked_ns;      /* when the hook last looked at the clock */
    size_t alloc_total;      /* bytes allocated so far by this call */
    char refused_where[160]; /* "file:line" of the first allocation refused in this call */
    qh_dec_cache dec_cache;
    qh_pool_block *pool[QH_POOL_CLASSES];
    uint32_t pool_count[QH_POOL_CLASSES];
} qh_sandbox;

/* A fresh sandboxed state of the given kind with the default time and
 * allocation budgets; NULL if even the libraries do not fit. */
qh_sandbox *qh_sandbox_new_kind(qh_sandbox_kind kind, size_t mem_limit, uint64_t instr_limit);
/* qh_sandbox_new_kind(QH_SANDBOX_POLICY, ...). */
qh_sandbox *qh_sandbox_new(size_t mem_limit, uint64_t instr_limit);
/* The wall-clock time and the bytes allocated one call may use (0: the
 * default). */
void qh_sandbox_set_call_limits(qh_sandbox *sb, int64_t time_limit_ms, size_t alloc_limit);
void qh_sandbox_free(qh_sandbox *sb);

/* Compile a text chunk (binary chunks are refused) named "@chunkname" and
 * leave the function on the stack. 0, or -1 with the message in err. */
int qh_sandbox_load_text(qh_sandbox *sb, const char *buf, size_t len, const char *chunkname,
                         char *err, size_t errlen);

/* lua_pcall with fresh budgets and a message handler that puts file:line in
 * front of errors raised from C. 0, or -1 with err filled (the stack is
 * then as if the call returned nothing); sb->stop then tells whether a
 * budget stopped it. A call that returned after a budget stopped it (its
 * own pcall caught the stop) fails too. */
int qh_sandbox_call(qh_sandbox *sb, int nargs, int nresults, char *err, size_t errlen);

/* Call the C function f(ud, value at argidx (nil if argidx is 0)) through
 * qh_sandbox_call, so every Lua API call inside is protected (a memory
 * error raised outside protected mode would abort the process). */
int qh_sandbox_call_c(qh_sandbox *sb, lua_CFunction f, void *ud, int argidx, char *err, size_t errlen);
/* The same for the function (a C closure, say) in the registry at ref,
 * called as f(ud, nil). */
int qh_sandbox_call_ref(qh_sandbox *sb, int ref, void *ud, char *err, size_t errlen);

/* Make the globals and every table reachable from the value at idx (and
 * from the upvalues of Lua functions reachable from it) read-only.
 * 0, or -1 with err filled. */
int qh_sandbox_freeze(qh_sandbox *sb, int idx, char *err, size_t errlen);

/* Push a new table that Lua code can read (fields, ipairs, pairs, #) but not
 * change, and push its hidden backing table; C writes fields into the
 * backing table with lua_raw* calls. Leaves [proxy, backing] on the stack. */
void qh_sandbox_new_readonly(lua_State *L);

/* Lock the string metatable: getmetatable("") gives a tag, and neither it
 * nor its __index (the string library, frozen with the globals) can be
 * changed. Done before any policy text runs: a policy changing it while it
 * loads would put a writable table behind every string, out of the
 * freeze's reach (state kept from one judge() call to the next). */
void qh_sandbox_lock_string_metatable(lua_State *L);

/* Install the pattern-cost guard on string.find/match/gmatch/gsub. */
void qh_sandbox_open_patterns(lua_State *L);
/* Install the `dec` library: exact decimal arithmetic on money strings. */
void qh_sandbox_open_dec(lua_State *L);

/* The parse cache (sandbox_dec.c). lookup: true with *out when the len
 * bytes at p are cached (p: a Lua string's bytes, as lua_tolstring gives
 * them). remember: record (in `made`) that the Lua string whose bytes are
 * at p reads as v; only for text qtr_dec_format(v) made, which parses
 * back to v. */
bool qh_dec_cache_lookup(qh_dec_cache *c, const char *p, size_t len, int64_t *out);
void qh_dec_cache_remember(qh_dec_cache *c, const char *p, size_t len, int64_t v);
/* qtr_dec_parse through the cache (what it parses goes into `seen`):
 * 0 (QTR_DEC_OK) or its error status. */
int qh_dec_cache_parse(qh_dec_cache *c, const char *p, size_t len, int64_t *out);
/* qtr_dec_format's text for v in buf (QTR_DEC_STRLEN bytes), faster;
 * returns its length. */
size_t qh_dec_format(int64_t v, char *buf);
/* Push v as decimal text (qtr_dec_format) and remember it; returns the text. */
const char *qh_dec_push(lua_State *L, qh_dec_cache *c, int64_t v);
/* Exact money with no text (a policy with money = "dec"): a `dec` value, a
 * full userdata holding the qtr_dec, which every dec.* function takes and
 * which compares with <, <=, >, >= against a dec value, a decimal string
 * or an integer, == another dec value, and prints (tostring, ..) as its
 * canonical text. No arithmetic operators: dec.add and the others. */
void qh_dec_push_value(lua_State *L, int64_t v);
/* True with *out if the value at idx is a dec value. */
bool qh_dec_to_value(lua_State *L, int idx, int64_t *out);

#endif
