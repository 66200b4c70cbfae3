/* policy_describe.c — what plugins may know of the active policy: a brief
 * (qtr_policy_info) and its limits and ESS thresholds as one JSON object
 * (the dashboard's /api/policy). The host's own structs never cross the
 * ABI, so they can change without breaking a plugin. Every text written is
 * already restricted by validation (names, symbols, hex), so nothing here
 * needs escaping; money is written as exact decimal strings. */
#include "policy/policy.h"

#include "core/sized_copy.h"

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int qh_policy_rules_info(const qh_policy_rules *l, const char *file, qtr_policy_info *out)
{
    if (!out || out->size < offsetof(qtr_policy_info, loaded_at_ms) + sizeof out->loaded_at_ms) return QTR_EINVAL;
    qtr_policy_info info;
    memset(&info, 0, sizeof info);
    info.size = (uint32_t)sizeof info;
    if (l) {
        info.loaded = true;
        qtr_strlcpy(info.name, l->name, sizeof info.name);
        memcpy(info.hash, l->hash, sizeof info.hash);
        info.hash[sizeof info.hash - 1] = '\0';
        qtr_strlcpy(info.file, file ? file : "", sizeof info.file);
        info.version = l->version;
        info.loaded_at_ms = l->loaded_at_ms;
    }
    /* Only what the caller's struct holds; a newer caller's fields past the
     * host's own size read 0 (unknown), not what was in its memory. */
    int rc = qh_sized_out(out, &info, sizeof info);
    if (rc != QTR_OK) return rc;
    return l ? QTR_OK : QTR_ENOTFOUND;
}

int qh_policy_info(const qh_policy *p, qtr_policy_info *out)
{
    return qh_policy_rules_info(p ? qh_policy_limits(p) : NULL, p ? qh_policy_path(p) : NULL, out);
}

typedef struct jout {
    qtr_write_cb write;
    void *ud;
    char buf[4096];
    size_t n;
    bool first;
} jout;

static void put(jout *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(jout *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->n, sizeof j->buf - j->n, fmt, ap);
    va_end(ap);
    if (n > 0) j->n = j->n + (size_t)n < sizeof j->buf ? j->n + (size_t)n : sizeof j->buf - 1;
}

static void key(jout *j, const char *k)
{
    put(j, "%s\"%s\":", j->first ? "" : ",", k);
    j->first = false;
}

static void money(jout *j, const char *k, qtr_dec v)
{
    char d[QTR_DEC_STRLEN];
    key(j, k);
    put(j, "\"%s\"", qtr_dec_format(v, d));
}

static void integer(jout *j, const char *k, long long v)
{
    key(j, k);
    put(j, "%lld", v);
}

/* A score (never money), as the dashboard writes numbers: %.17g, with a
 * point so a reader takes it as a number with decimals. */
static void real(jout *j, const char *k, double v)
{
    char d[40];
    int n = snprintf(d, sizeof d, "%.17g", v);
    if (n > 0 && !strpbrk(d, ".eE")) snprintf(d + n, sizeof d - (size_t)n, ".0");
    key(j, k);
    put(j, "%s", d);
}

int qh_policy_describe(const qh_policy *p, qtr_write_cb write, void *ud)
{
    return qh_policy_rules_describe(p ? qh_policy_limits(p) : NULL, write, ud);
}

int qh_policy_rules_describe(const qh_policy_rules *l, qtr_write_cb write, void *ud)
{
    if (!write) return QTR_EINVAL;
    if (!l) return QTR_ENOTFOUND;
    jout j = { .write = write, .ud = ud, .first = true };
    put(&j, "{");
    key(&j, "loaded");
    put(&j, "true");
    key(&j, "name");
    put(&j, "\"%s\"", l->name);
    key(&j, "hash");
    put(&j, "\"%s\"", l->hash);
    integer(&j, "loaded_at_ms", l->loaded_at_ms);
    integer(&j, "version", l->version);
    real(&j, "min_confidence", l->min_confidence);
    integer(&j, "max_positions", l->max_positions);
    integer(&j, "max_symbols", l->max_symbols);
    money(&j, "max_position_notional", l->max_position_notional);
    money(&j, "max_order_notional", l->max_order_notional);
    money(&j, "max_total_exposure", l->max_total_exposure);
    integer(&j, "max_leverage", l->max_leverage);
    money(&j, "max_abs_funding_rate", l->max_abs_funding_rate);
    money(&j, "max_spread_bps", l->max_spread_bps);
    money(&j, "min_depth_notional", l->min_depth_notional);
    money(&j, "ess_max_drawdown_pct", l->ess_max_drawdown_pct);
    money(&j, "ess_daily_loss_pct", l->ess_daily_loss_pct);
    integer(&j, "ess_max_consecutive_errors", l->ess_max_consecutive_errors);
    integer(&j, "ess_cooldown_ms", l->ess_cooldown_ms);
    key(&j, "ess_close_positions");
    put(&j, "%s", l->ess_close_positions ? "true" : "false");
    money(&j, "alert_daily_drawdown_pct", l->alert_daily_drawdown_pct);
    key(&j, "symbols");
    put(&j, "[");
    for (int32_t i = 0; i < l->n_symbols && i < QH_POLICY_MAX_SYMBOLS; i++) put(&j, "%s\"%s\"", i ? "," : "", l->symbols[i]);
    put(&j, "]}");
    write(ud, j.buf, j.n);
    return QTR_OK;
}
