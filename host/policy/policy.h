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
 * memory cap; an instruction-count hook that stops runaway code; every call
 * through lua_pcall. The policy's globals are frozen after load so one call
 * cannot change what the next sees.
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

typedef struct qh_policy_config {
    size_t mem_limit_bytes;    /* per lua_State; 0: 16 MiB                    */
    uint64_t instr_limit;      /* per call of judge() or load; 0: 1,000,000    */
    int64_t max_age_ms;        /* reload when older than this; 0: 10 minutes   */
} qh_policy_config;

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
const char *qh_policy_last_judge_error(const qh_policy *p);

#endif
