/*
 * Internals shared by the policy engine's files (not for other areas).
 */
#ifndef QH_POLICY_INTERNAL_H
#define QH_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "policy/policy.h"
#include "policy/sandbox.h"

#define QH_POLICY_DEFAULT_MEM   ((size_t)16 << 20)
#define QH_POLICY_DEFAULT_INSTR UINT64_C(1000000)
#define QH_POLICY_DEFAULT_AGE   INT64_C(600000)
#define QH_POLICY_MAX_FILE      ((size_t)1 << 20)
#define QH_POLICY_HISTORY       64

/* Money fields of the judge() arguments: made (formatted and pushed) only
 * when judge() reads them, once a call (see policy_judge.c). */
enum {
    QH_JF_QTY, QH_JF_PRICE, QH_JF_STOP_PRICE,                             /* order */
    QH_JF_EQUITY, QH_JF_EXPOSURE, QH_JF_DRAWDOWN, QH_JF_DAILY_PNL,         /* ctx   */
    QH_JF_POS_QTY, QH_JF_POS_NOTIONAL, QH_JF_CTX_PRICE, QH_JF_ORDER_NOTIONAL,
    QH_JF_FUNDING, QH_JF_SPREAD, QH_JF_DEPTH,
    QH_JF__COUNT
};

/* At most this many calls in a row of making a money field before judge()
 * reads it (policy_judge.c). */
#define QH_MONEY_EAGER_MAX 8

/* The other fields, cached the same way (as integers). */
enum {
    QH_JS_SIDE, QH_JS_TYPE, QH_JS_REDUCE_ONLY, QH_JS_OPEN_POSITIONS, QH_JS_OPEN_SYMBOLS,
    QH_JS_HAS_POSITION, QH_JS_HAS_BOOK, QH_JS_LEVERAGE,
    QH_JS__COUNT
};

/* The last text given to a string field (symbol, strategy), and the
 * struct bytes it came from. */
typedef struct qh_text_cache {
    bool valid;
    uint8_t len;
    char text[QTR_NAME_MAX];
    char raw[QTR_NAME_MAX];
} qh_text_cache;

/* One compiled, validated, frozen policy in its own lua_State. */
typedef struct qh_compiled_policy {
    qh_sandbox *sb;
    int judge_ref;            /* registry refs */
    int order_ref, ctx_ref;   /* the read-only argument tables (proxies)   */
    int order_data_ref, ctx_data_ref; /* their hidden backing tables       */
    int call_ref;             /* the C closure that makes one judge() call  */
    uint32_t money_made;      /* bit per QH_JF_*: a string is in the backing */
    qtr_dec money_value[QH_JF__COUNT];  /* the value each made string shows */
    uint8_t money_period[QH_JF__COUNT];  /* a field judge() reads: changed values are made at
                                          * once for this many calls (1..QH_MONEY_EAGER_MAX;
                                          * 0: only when read) ... */
    uint8_t money_eager[QH_JF__COUNT];   /* ... of which this many are left */
    uint32_t money_probe;     /* bit per QH_JF_*: left to __index for one call, to
                               * see whether judge() still reads it */
    const char *money_key[QH_JF__COUNT]; /* each field's name as Lua interned it
                                          * (kept alive by the backing's metatable):
                                          * __index compares addresses, not text */
    const qtr_order_intent *cur_order;  /* the call in progress, for lazy fields */
    const qh_risk_ctx *cur_rc;
    bool scalar_cached[QH_JS__COUNT];
    int64_t scalar_cache[QH_JS__COUNT];
    bool confidence_cached;
    double confidence_cache;
    qh_text_cache symbol_cache, strategy_cache;
    char judge_where[128];    /* "file:line" where judge is defined         */
    bool money_dec;           /* money fields as dec values (money = "dec"), else text */
} qh_compiled_policy;

/* policy_file.c: read a whole file (at most QH_POLICY_MAX_FILE) and hash it. */
int qh_policy_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);
void qh_policy_sha256_hex(const char *buf, size_t len, char hex[65]);

/* policy_validate.c: the returned table (at idx) into limits. Runs in
 * protected mode and raises a Lua error naming the file, the line of the
 * field in buf (the file's text) when it is written there, and the field. */
void qh_policy_validate(lua_State *L, int idx, const char *path, const char *buf, size_t len, qh_policy_rules *out);

/* policy_lines.c: the line of the key named by where ("limits.max_leverage",
 * "limits.symbols[2]", "name") in buf, the file's text; 0 if not written. */
int qh_policy_key_line(const char *buf, size_t len, const char *where);

/* policy_caps.c: 0 if lim is within every cap of caps (0: none); else -1
 * with "file:line: limits.<field> = X is beyond the server's cap ..." in
 * err, the line being the field's in buf (the file's text). */
int qh_policy_check_caps(const qh_policy_caps *caps, const qh_policy_rules *lim, const char *path, const char *buf,
                         size_t len, char *err, size_t errlen);

/* policy_compile.c: the whole pipeline short of swapping in. */
qh_compiled_policy *qh_policy_compile(const qh_policy_config *cfg, const char *path, const char *buf,
                                      size_t len, qh_policy_rules *limits, char *err, size_t errlen);
void qh_compiled_policy_free(qh_compiled_policy *cp);
/* Fill zero fields of cfg with the defaults. */
qh_policy_config qh_policy_config_defaults(const qh_policy_config *cfg);

/* policy_judge.c: one judge() call. 0 on a well-formed answer; -1 with the
 * reason in err (out is then REJECT "policy_error"). */
int qh_compiled_judge(qh_compiled_policy *cp, const qtr_order_intent *order, const qh_risk_ctx *rc,
                      qtr_risk_decision *out, char *err, size_t errlen);
/* Create the argument tables (once per state). */
int qh_compiled_judge_prepare(qh_compiled_policy *cp, char *err, size_t errlen);

#endif
