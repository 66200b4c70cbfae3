#include "policy_fixture.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

const pfx_field pfx_limits[] = {
    { "symbols", "{}" },
    { "max_positions", "3" },
    { "max_symbols", "3" },
    { "min_confidence", "0.5" },
    { "max_position_notional", "\"1000\"" },
    { "max_order_notional", "\"500\"" },
    { "max_total_exposure", "\"3000\"" },
    { "max_leverage", "5" },
    { "max_abs_funding_rate", "\"0.001\"" },
    { "max_spread_bps", "\"10\"" },
    { "min_depth_notional", "\"0\"" },
    { NULL, NULL },
};

const pfx_field pfx_ess[] = {
    { "max_drawdown_pct", "\"3\"" },
    { "daily_loss_pct", "\"2\"" },
    { "max_consecutive_errors", "5" },
    { "cooldown_minutes", "15" },
    { "close_positions", "true" },
    { "alert_daily_drawdown_pct", "\"2.5\"" },
    { NULL, NULL },
};

void pfx_init(pfx *f)
{
    memset(f, 0, sizeof *f);
    /* mkdtemp's template: six trailing 'X' characters, replaced by it */
    int n = snprintf(f->dir, sizeof f->dir, "/tmp/qtr_policy_test_");
    memset(f->dir + n, 'X', 6);
    f->dir[n + 6] = '\0';
    assert_non_null(mkdtemp(f->dir));
}

void pfx_cleanup(pfx *f)
{
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
}

const char *pfx_file(const pfx *f, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", f->dir, name);
    return buf;
}

const char *pfx_write(pfx *f, const char *name, const char *text)
{
    pfx_file(f, name, f->path, sizeof f->path);
    FILE *out = fopen(f->path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
    assert_int_equal(fclose(out), 0);
    return f->path;
}

static size_t put_section(char *buf, size_t cap, size_t n, const char *name, const pfx_field *fields,
                          const char *section, const char *key, const char *value)
{
    bool mine = section && strcmp(section, name) == 0;
    bool seen = false;
    n += (size_t)snprintf(buf + n, cap - n, "    %s = {\n", name);
    for (const pfx_field *fl = fields; fl->key; fl++) {
        const char *v = fl->value;
        if (mine && strcmp(fl->key, key) == 0) { seen = true; v = value; }
        if (v) n += (size_t)snprintf(buf + n, cap - n, "        %s = %s,\n", fl->key, v);
    }
    if (mine && !seen && value) n += (size_t)snprintf(buf + n, cap - n, "        %s = %s,\n", key, value);
    n += (size_t)snprintf(buf + n, cap - n, "    },\n");
    assert_true(n < cap);
    return n;
}

void pfx_policy_text(char *buf, size_t cap, const char *prelude, const char *section, const char *key,
                     const char *value, const char *judge)
{
    size_t n = (size_t)snprintf(buf, cap, "%s\nreturn {\n    name = \"test\",\n", prelude ? prelude : "");
    n = put_section(buf, cap, n, "limits", pfx_limits, section, key, value);
    n = put_section(buf, cap, n, "ess", pfx_ess, section, key, value);
    n += (size_t)snprintf(buf + n, cap - n, "    judge = %s,\n}\n", judge ? judge : PFX_ALLOW_JUDGE);
    assert_true(n < cap);
}

void pfx_order(qtr_order_intent *o, qh_risk_ctx *rc, const char *symbol)
{
    memset(o, 0, sizeof *o);
    memset(rc, 0, sizeof *rc);
    snprintf(o->symbol, sizeof o->symbol, "%s", symbol);
    snprintf(o->strategy, sizeof o->strategy, "test");
    o->side = QTR_SIDE_BUY;
    o->type = QTR_ORDER_MARKET;
    o->qty = QTR_DEC_INT(1) / 100;
    o->confidence = 0.9;
    rc->equity = QTR_DEC_INT(10000);
    rc->price = QTR_DEC_INT(50000);
    rc->order_notional = QTR_DEC_INT(500);   /* 0.01 * 50000 */
    rc->leverage = 1;
}

bool pfx_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        print_error("expected \"%s\" in \"%s\"\n", needle, haystack);
        return false;
    }
    return true;
}
