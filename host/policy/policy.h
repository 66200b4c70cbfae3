/*
 * The risk policy engine: sandboxed Lua 5.4 policy files (docs/policies.md).
 *
 * A policy file returns a table with `limits` (the fields of
 * qtr_policy_limits), `ess` (ESS thresholds) and a function `judge(order, ctx)`
 * returning "allow" | "resize", qty | "reject", reason_code.
 *
 * Sandbox: no luaL_openlibs; only base (without dofile, loadfile, load of
 * binary chunks, collectgarbage, print to stdout), string, table, math, and os
 * reduced to time and clock; text chunks only; a custom allocator with a
 * memory cap; per call an instruction budget, a wall-clock deadline and a
 * cap on the bytes allocated, so no policy can stall the host's loop; every
 * call through lua_pcall. The policy's globals are frozen after load so one
 * call cannot change what the next sees.
 *
 * Loading builds a fresh lua_State, validates it (required fields, ranges,
 * judge() run against sample orders) and only then swaps it in. A failure
 * keeps the last good policy and reports file:line and the reason.
 */
#ifndef QH_POLICY_H
#define QH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

typedef struct qh_policy qh_policy;

/* What a judge() overrun (past its deadline or its allocation budget) led to. */
typedef enum qh_policy_overrun_action {
    QH_OVERRUN_COUNTED = 0,    /* that order refused; the policy stays       */
    QH_OVERRUN_REVERTED,       /* too many: the last good policy is back     */
    QH_OVERRUN_NO_FALLBACK,    /* too many and none to go back to: unloaded  */
} qh_policy_overrun_action;

typedef struct qh_policy_overrun {
    qh_policy_overrun_action action;
    char error[QTR_TEXT_MAX];  /* "file:line: time limit exceeded ..."       */
    char withdrawn[QTR_NAME_MAX];  /* name of the policy withdrawn (not COUNTED) */
    char restored[QTR_NAME_MAX];   /* name of the policy back in force (REVERTED) */
} qh_policy_overrun;

/* Overruns that withdraw a policy, and the window they must fall in. */
#define QH_POLICY_OVERRUNS_MAX 3
#define QH_POLICY_OVERRUN_WINDOW_MS INT64_C(60000)

typedef struct qh_policy_config {
    size_t mem_limit_bytes;    /* per lua_State; 0: 16 MiB                    */
    uint64_t instr_limit;      /* per call of judge() or load; 0: 1,000,000    */
    int64_t max_age_ms;        /* reload when older than this; 0: 10 minutes   */
    int64_t time_limit_ms;     /* per call: wall-clock deadline; 0: 100 ms     */
    size_t alloc_limit_bytes;  /* per call: bytes allocated in all; 0: 64 MiB  */
    /* Told of every judge() overrun, after the order was refused (may be NULL). */
    void (*on_overrun)(void *ud, const qh_policy_overrun *o);
    void *overrun_ud;
} qh_policy_config;

/* The path that names the built-in default policy: policies/default.lua,
 * embedded at build time. qh_policy_load(p, QH_POLICY_BUILTIN, ...) loads it. */
#define QH_POLICY_BUILTIN "builtin:policies/default.lua"
/* Its text (NUL-terminated) and length. */
const char *qh_policy_builtin_text(size_t *len);

qh_policy *qh_policy_new(const qh_policy_config *cfg);
void qh_policy_free(qh_policy *p);

/* Compile, validate and (on success) swap in the file at `path`. Always fills
 * *ev (ok, hash, error "file:line: reason", version, time). 0 if swapped in,
 * -1 if refused (the last good policy, if any, stays active). */
int qh_policy_load(qh_policy *p, const char *path, int64_t now_ms, qtr_policy_event *ev);

/* Reload the file last loaded (or attempted). */
int qh_policy_reload(qh_policy *p, int64_t now_ms, qtr_policy_event *ev);
const char *qh_policy_path(const qh_policy *p);

bool qh_policy_loaded(const qh_policy *p);
/* True when a reload is due: max_age_ms has passed since the last load
 * attempt. For a healthy policy that is its age; after a failed attempt the
 * file is retried once per max_age_ms, not on every check. */
bool qh_policy_stale(const qh_policy *p, int64_t now_ms);
/* OK; DEGRADED when the last attempt failed, or the good policy has gone
 * unreloaded for 2 * max_age_ms (a scheduled reload was missed); CRITICAL
 * when none loaded. */
void qh_policy_health(const qh_policy *p, int64_t now_ms, qtr_health *out);

/* NULL until a policy is loaded. */
const qtr_policy_limits *qh_policy_limits(const qh_policy *p);

/* Run the active policy's judge(). A Lua error, a wrong return type or the
 * instruction limit gives REJECT with reason "policy_error" (fail closed).
 * A call past its deadline or its allocation budget gives REJECT
 * "policy_timeout" and QTR_EREFUSED, and is reported to on_overrun;
 * QH_POLICY_OVERRUNS_MAX of them within QH_POLICY_OVERRUN_WINDOW_MS
 * withdraw the policy: the previous good one comes back, or, if there is
 * none, no policy stays loaded. A withdrawn file (by its SHA-256) is
 * refused until it changes.
 * *out is always filled. QTR_OK: judge() answered (allow, resize or
 * reject); QTR_ENOTFOUND: no policy loaded (REJECT "no_policy");
 * QTR_EINVAL: policy error or NULL argument (REJECT "policy_error"). */
int qh_policy_judge(qh_policy *p, const qtr_order_intent *order, const qtr_risk_context *rc,
                    qtr_risk_decision *out);

/* Load history, newest first. */
size_t qh_policy_history(const qh_policy *p, qtr_policy_event *out, size_t cap);

/* `qtr policy check`: the same compile and validation, offline. 0 valid;
 * -1 with "file:line: reason" in err. */
int qh_policy_check_file(const char *path, char *err, size_t errlen);

/* judge() calls that failed (each became REJECT "policy_error"), and the
 * last such error ("file:line: reason"; "" if none). */
uint64_t qh_policy_judge_errors(const qh_policy *p);
/* judge() calls stopped by their deadline or allocation budget (each
 * became REJECT "policy_timeout"; also counted in judge_errors). */
uint64_t qh_policy_judge_timeouts(const qh_policy *p);
const char *qh_policy_last_judge_error(const qh_policy *p);

#endif
