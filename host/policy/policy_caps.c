/* policy_caps.c — a policy's limits against the server config's hard caps
 * (core/config_caps.h). Checked when a policy is compiled, so the initial
 * load and every hot reload are refused alike, and the last good policy
 * stays. The error names the line of the field in the file: a returned
 * table keeps no line numbers, so the field's assignment is looked up in
 * the text (its first `name =` outside a comment). */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <string.h>

/* The line of the first `key =` in the text (not in a -- comment, not part
 * of a longer name); 0 if none. */
static int field_line(const char *buf, size_t len, const char *key)
{
    size_t klen = strlen(key);
    int line = 1;
    bool comment = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n') { line++; comment = false; continue; }
        if (comment) continue;
        if (c == '-' && i + 1 < len && buf[i + 1] == '-') { comment = true; continue; }
        if (i + klen > len || memcmp(buf + i, key, klen) != 0) continue;
        bool starts = i == 0 || !(buf[i - 1] == '_' || (buf[i - 1] >= 'a' && buf[i - 1] <= 'z') ||
                                  (buf[i - 1] >= 'A' && buf[i - 1] <= 'Z') || (buf[i - 1] >= '0' && buf[i - 1] <= '9'));
        size_t j = i + klen;
        while (j < len && (buf[j] == ' ' || buf[j] == '\t')) j++;
        if (starts && j < len && buf[j] == '=' && (j + 1 >= len || buf[j + 1] != '=')) return line;
    }
    return 0;
}

static int beyond(const char *path, const char *buf, size_t len, const char *section, const char *key,
                  const char *value, const char *cap, char *err, size_t errlen)
{
    int line = field_line(buf, len, key);
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
