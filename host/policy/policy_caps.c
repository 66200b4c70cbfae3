/* policy_caps.c — a policy's limits against the server config's hard caps
 * (core/config_caps.h). Checked when a policy is compiled, so the initial
 * load and every hot reload are refused alike, and the last good policy
 * stays. The error names the line of the field in the file
 * (qh_policy_key_line: a returned table keeps no line numbers). */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <string.h>

static int beyond(const char *path, const char *buf, size_t len, const char *section, const char *key,
                  const char *value, const char *cap, char *err, size_t errlen)
{
    char field[64];
    snprintf(field, sizeof field, "%s.%s", section, key);
    int line = qh_policy_key_line(buf, len, field);
    char where[QTR_TEXT_MAX];
    if (line > 0) snprintf(where, sizeof where, "%s:%d", path, line);
    else snprintf(where, sizeof where, "%s", path);
    snprintf(err, errlen, "%s: %s.%s = %s is beyond the server's cap caps.%s = %s", where, section, key, value,
             !strcmp(section, "ess") ? "ess_max_drawdown_pct" : key, cap);
    return -1;
}

int qh_policy_check_caps(const qh_policy_caps *caps, const qh_policy_rules *lim, const char *path, const char *buf,
                         size_t len, char *err, size_t errlen)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    if (caps->max_order_notional > 0 && lim->max_order_notional > caps->max_order_notional)
        return beyond(path, buf, len, "limits", "max_order_notional", qtr_dec_format(lim->max_order_notional, a),
                      qtr_dec_format(caps->max_order_notional, b), err, errlen);
    if (caps->max_position_notional > 0 && lim->max_position_notional > caps->max_position_notional)
        return beyond(path, buf, len, "limits", "max_position_notional",
                      qtr_dec_format(lim->max_position_notional, a), qtr_dec_format(caps->max_position_notional, b),
                      err, errlen);
    if (caps->max_leverage > 0 && lim->max_leverage > caps->max_leverage) {
        snprintf(a, sizeof a, "%d", (int)lim->max_leverage);
        snprintf(b, sizeof b, "%d", (int)caps->max_leverage);
        return beyond(path, buf, len, "limits", "max_leverage", a, b, err, errlen);
    }
    if (caps->ess_max_drawdown_pct > 0 && lim->ess_max_drawdown_pct > caps->ess_max_drawdown_pct)
        return beyond(path, buf, len, "ess", "max_drawdown_pct", qtr_dec_format(lim->ess_max_drawdown_pct, a),
                      qtr_dec_format(caps->ess_max_drawdown_pct, b), err, errlen);
    return 0;
}
