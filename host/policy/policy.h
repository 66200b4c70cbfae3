/*
 * The risk policy engine: sandboxed Lua 5.4 policy files (docs/policies.md).
 *
 * A policy file returns a table with `limits` (the fields of
 * qh_policy_rules), `ess` (ESS thresholds) and a function `judge(order, ctx)`
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

#include "core/config_caps.h"

typedef struct qh_policy qh_policy;

#define QH_POLICY_MAX_SYMBOLS 64

/* The active policy's limits and ESS thresholds as loaded from Lua
 * (docs/policies.md): the host's own, enforced by the host
 * (policy_enforce.c, and the ESS) and never handed to plugins as a struct
 * (they get qh_policy_describe's JSON), so it may change freely. */
typedef struct qh_policy_rules {
    char name[QTR_NAME_MAX];
    char hash[65];
    int64_t loaded_at_ms;
    uint32_t version;
    double min_confidence;
    int32_t max_positions;
    int32_t max_symbols;
    qtr_dec max_position_notional;
    qtr_dec max_order_notional;
    qtr_dec max_total_exposure;
    int32_t max_leverage;
    qtr_dec max_abs_funding_rate;     /* 0: no funding filter                */
    qtr_dec max_spread_bps;           /* 0: no spread check                  */
    qtr_dec min_depth_notional;       /* 0: no depth check                   */
    qtr_dec ess_max_drawdown_pct;
    qtr_dec ess_daily_loss_pct;
    int32_t ess_max_consecutive_errors;
    int64_t ess_cooldown_ms;
    bool ess_close_positions;
    qtr_dec alert_daily_drawdown_pct;
    int32_t n_symbols;                /* 0: any symbol                       */
    char symbols[QH_POLICY_MAX_SYMBOLS][QTR_SYMBOL_MAX];
    bool money_dec;                   /* money = "dec": judge() gets dec values, not text */
} qh_policy_rules;

/* What judge(order, ctx) sees as ctx: the account and market as the order
 * is judged (policy_inputs.c). */
typedef struct qh_risk_ctx {
    qtr_dec equity;
    qtr_dec exposure;                /* sum of |position notional|           */
    qtr_dec drawdown_pct;            /* from the equity peak, percent         */
    qtr_dec daily_pnl;
    int32_t open_positions;
    int32_t open_symbols;            /* symbols with a position or an order   */
    bool symbol_has_position;
    qtr_dec position_qty;            /* signed, in the order's symbol         */
    qtr_dec position_notional;       /* |qty| * mark                          */
    qtr_dec price;                   /* mark or last price of the symbol      */
    qtr_dec order_notional;          /* qty * price of the order              */
    qtr_dec funding_rate;            /* 0 if unknown                          */
    bool has_book;                   /* the fields below are meaningful       */
    qtr_dec spread_bps;              /* (ask - bid) / mid * 10000             */
    qtr_dec depth_notional;          /* on the side the order takes           */
    int32_t leverage;
} qh_risk_ctx;

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
    /* The server config's hard caps: a policy whose limits go beyond one is
     * refused at load with file:line (all zero: no caps). */
    qh_policy_caps caps;
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
const qh_policy_rules *qh_policy_limits(const qh_policy *p);

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
int qh_policy_judge(qh_policy *p, const qtr_order_intent *order, const qh_risk_ctx *rc,
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

/* ---- What plugins may know (policy_describe.c) ----
 * The brief: QTR_OK, QTR_ENOTFOUND (none loaded: out->loaded false) or
 * QTR_EINVAL (out->size too small). Fills only the caller's out->size. */
int qh_policy_info(const qh_policy *p, qtr_policy_info *out);
/* The limits and ESS thresholds as one JSON object, {"loaded":true,...}
 * (the dashboard's /api/policy), in one write. QTR_ENOTFOUND: none loaded. */
int qh_policy_describe(const qh_policy *p, qtr_write_cb write, void *ud);
/* The same for given rules (l NULL: none loaded); file may be NULL. */
int qh_policy_rules_info(const qh_policy_rules *l, const char *file, qtr_policy_info *out);
int qh_policy_rules_describe(const qh_policy_rules *l, qtr_write_cb write, void *ud);

/* ---- Enforcement: the policy on one order (policy_inputs.c, policy_enforce.c) ----
 *
 * The host runs this on every order, whatever risk plugins are loaded:
 * reduce-only closes pass; otherwise the limits in a fixed order, then the
 * policy's judge() on the order as it would be sent. Risk plugins run after
 * it and can only refuse or shrink what it approved. */

typedef struct qh_policy_inputs {
    qh_risk_ctx rc;
    qtr_dec exec_price;        /* price the order is valued at: the higher of market and its own prices */
    qtr_dec exposure_other;    /* exposure of every other symbol                */
    bool symbol_has_order;     /* an open order rests in the order's symbol     */
} qh_policy_inputs;

typedef struct qh_policy_verdict {
    qtr_risk_verdict verdict;
    qtr_dec qty;                       /* the quantity to send (APPROVE/RESIZE)     */
    char reason[QTR_REASON_MAX];       /* a reason code                              */
    char detail[QTR_TEXT_MAX];         /* the figures behind it, for the log         */
} qh_policy_verdict;

/* What the account and market are as the order is judged, all read in
 * place (nothing copied per position). mark, candle and book may be NULL
 * when unknown; open orders are the host's table. */
typedef struct qh_policy_view {
    const qtr_account *account;
    const qtr_position *position;      /* the order's symbol; NULL: flat        */
    const qtr_mark_price *mark;
    const qtr_candle *candle;
    const qtr_book_top *book;
    const qtr_order_update *open_orders;
    size_t n_open;
    /* true if `symbol` holds a position (for symbols of open orders) */
    bool (*has_position)(void *ud, const char *symbol);
    void *ud;
} qh_policy_view;

/* Fill *in for order o. NULL on success, else a reason code ("no_price")
 * with an explanation in detail. */
const char *qh_policy_build_inputs(const qh_policy_view *view, const qtr_order_intent *o, qh_policy_inputs *in,
                                   char *detail, size_t detail_len);

/* True if o is reduce-only and shrinks the position it faces: such orders
 * skip every entry limit (they must always be able to close). */
bool qh_policy_is_closing(const qtr_order_intent *o, qtr_dec position_qty);

/* The limits, in order: symbol_not_allowed, min_confidence, max_positions,
 * max_symbols, max_order_notional, max_position_notional,
 * max_total_exposure, max_leverage, funding_rate, spread, depth. A reject
 * stops at once; resizes carry the smaller quantity on. */
void qh_policy_check_limits(const qh_policy_rules *lim, const qtr_order_intent *o, const qh_policy_inputs *in,
                            qh_policy_verdict *v);

/* Merge judge()'s answer into v: the stricter wins (reject beats resize,
 * the smaller resize wins). judge_rc is what qh_policy_judge returned. */
void qh_policy_combine_judge(qh_policy_verdict *v, int judge_rc, const qtr_risk_decision *judged);

/* The whole policy on one non-closing order: no policy -> REJECT
 * "no_policy"; the limits; then judge() on the order resized as the limits
 * left it. in->rc.order_notional is brought up to the sized order. */
void qh_policy_enforce(qh_policy *p, const qtr_order_intent *o, qh_policy_inputs *in, qh_policy_verdict *v);

/* Notional of qty at price, rounded up (a risk figure errs high); saturates. */
qtr_dec qh_risk_notional(qtr_dec qty, qtr_dec price);

#endif
