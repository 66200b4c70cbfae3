/* alert_rules.c — see alert_rules.h. */
#include "alert_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool alert_rules_init(alert_rules *r, const alert_config *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    if (r->cfg.max_per_minute > ALERT_MAX_PER_MINUTE_CAP) r->cfg.max_per_minute = ALERT_MAX_PER_MINUTE_CAP;
    if (r->cfg.exchange_errors_per_hour > ALERT_ERRORS_CAP) r->cfg.exchange_errors_per_hour = ALERT_ERRORS_CAP;
    if (r->cfg.exchange_errors_per_hour < 0) r->cfg.exchange_errors_per_hour = 0;
    /* only need to know whether more than the threshold happened in an hour */
    r->error_cap = (size_t)r->cfg.exchange_errors_per_hour + 1;
    r->error_times = calloc(r->error_cap, sizeof *r->error_times);
    return r->error_times != NULL;
}

void alert_rules_free(alert_rules *r)
{
    free(r->error_times);
    r->error_times = NULL;
}

/* Exactly what the host's ESS counts (qtr/plugin.h): an exchange_error alert
 * for every failed exchange call. A REJECTED order alone is not one: the
 * host's own refusals (invalid, ESS, risk) are rejections too, and an
 * exchange plugin that failed a call has already said so with the alert. */
bool alert_is_exchange_error(const qtr_event *ev)
{
    return ev->type == QTR_EV_ALERT && strncmp(ev->u.alert.kind, "exchange_error", sizeof ev->u.alert.kind) == 0;
}

static alert_key_state *key_slot(alert_rules *r, const char *key)
{
    alert_key_state *oldest = &r->keys[0];
    for (size_t i = 0; i < ALERT_KEYS; i++) {
        alert_key_state *k = &r->keys[i];
        if (k->used && strcmp(k->key, key) == 0) return k;
    }
    for (size_t i = 0; i < ALERT_KEYS; i++) {
        alert_key_state *k = &r->keys[i];
        if (!k->used) { oldest = k; break; }
        if (k->last_sent_ms < oldest->last_sent_ms) oldest = k;
    }
    memset(oldest, 0, sizeof *oldest);
    oldest->used = true;
    oldest->last_sent_ms = INT64_MIN;
    snprintf(oldest->key, sizeof oldest->key, "%s", key);
    return oldest;
}

bool alert_rate_allow(alert_rules *r, const char *key, int64_t now_ms, uint32_t *suppressed_before)
{
    alert_key_state *k = key_slot(r, key);
    /* forget sends older than a minute */
    while (r->n_sent && now_ms - r->sent_times[r->sent_head] >= 60000) {
        r->sent_head = (r->sent_head + 1) % ALERT_MAX_PER_MINUTE_CAP;
        r->n_sent--;
    }
    bool key_ok = k->last_sent_ms == INT64_MIN || now_ms - k->last_sent_ms >= r->cfg.min_interval_ms;
    bool global_ok = (int64_t)r->n_sent < r->cfg.max_per_minute;
    if (!key_ok || !global_ok) {
        k->suppressed++;
        r->suppressed_total++;
        return false;
    }
    if (suppressed_before) *suppressed_before = k->suppressed;
    k->suppressed = 0;
    k->last_sent_ms = now_ms;
    r->sent_times[(r->sent_head + r->n_sent) % ALERT_MAX_PER_MINUTE_CAP] = now_ms;
    r->n_sent++;
    r->sent_total++;
    return true;
}

/* Counts an exchange error; true when the hourly count first goes over. */
static bool note_exchange_error(alert_rules *r, int64_t now_ms, size_t *count)
{
    if (r->error_cap == 0) return false;
    while (r->n_errors && now_ms - r->error_times[r->error_head] >= 3600000) {
        r->error_head = (r->error_head + 1) % r->error_cap;
        r->n_errors--;
    }
    if (r->n_errors == r->error_cap) {           /* keep the newest only */
        r->error_head = (r->error_head + 1) % r->error_cap;
        r->n_errors--;
    }
    r->error_times[(r->error_head + r->n_errors) % r->error_cap] = now_ms;
    r->n_errors++;
    *count = r->n_errors;
    bool over = (int64_t)r->n_errors > r->cfg.exchange_errors_per_hour;
    bool fire = over && !r->errors_over;
    r->errors_over = over;
    return fire;
}

static bool emit(alert_rules *r, const char *key, int64_t now_ms, char *text, size_t cap, const char *msg)
{
    uint32_t suppressed = 0;
    if (!alert_rate_allow(r, key, now_ms, &suppressed)) return false;
    if (suppressed)
        snprintf(text, cap, "%s (%u similar alerts held back)", msg, suppressed);
    else
        snprintf(text, cap, "%s", msg);
    return true;
}

bool alert_rules_on_event(alert_rules *r, const qtr_event *ev, int64_t now_ms, char *text, size_t cap)
{
    char msg[ALERT_TEXT_MAX];
    char key[96];
    if (alert_is_exchange_error(ev)) {
        size_t count = 0;
        if (note_exchange_error(r, now_ms, &count)) {
            snprintf(msg, sizeof msg, "[qtr WARNING] %zu exchange errors in the last hour (threshold %lld)",
                     count, (long long)r->cfg.exchange_errors_per_hour);
            if (emit(r, "exchange_errors", now_ms, text, cap, msg)) return true;
        }
        /* an exchange_error alert may also be CRITICAL: fall through */
    }
    switch (ev->type) {
    case QTR_EV_ESS_STATE: {
        const qtr_ess_event *e = &ev->u.ess;
        if (e->state != QTR_ESS_TRIPPED || e->previous == QTR_ESS_TRIPPED) return false;
        snprintf(msg, sizeof msg, "[qtr CRITICAL] Emergency stop TRIPPED: %.*s%s%.*s", QTR_REASON_MAX, e->reason,
                 e->user[0] ? " (by " : "", QTR_NAME_MAX, e->user);
        if (e->user[0]) strncat(msg, ")", sizeof msg - strlen(msg) - 1);
        return emit(r, "ess_trip", now_ms, text, cap, msg);
    }
    case QTR_EV_EQUITY: {
        bool over = r->cfg.daily_drawdown_pct > 0 && ev->u.equity.daily_drawdown_pct >= r->cfg.daily_drawdown_pct;
        bool fire = over && !r->drawdown_over;
        r->drawdown_over = over;
        if (!fire) return false;
        char dd[QTR_DEC_STRLEN], lim[QTR_DEC_STRLEN], eq[QTR_DEC_STRLEN];
        snprintf(msg, sizeof msg, "[qtr WARNING] Daily drawdown %s%% is over the alert threshold %s%% (equity %s)",
                 qtr_dec_format(ev->u.equity.daily_drawdown_pct, dd), qtr_dec_format(r->cfg.daily_drawdown_pct, lim),
                 qtr_dec_format(ev->u.equity.equity, eq));
        return emit(r, "daily_drawdown", now_ms, text, cap, msg);
    }
    case QTR_EV_HEALTH: {
        const qtr_health_event *h = &ev->u.health;
        if (h->health.status != QTR_HEALTH_CRITICAL) return false;
        snprintf(key, sizeof key, "health:%.*s", QTR_NAME_MAX, h->component);
        snprintf(msg, sizeof msg, "[qtr CRITICAL] Component %.*s is CRITICAL: %.*s", QTR_NAME_MAX, h->component,
                 QTR_REASON_MAX, h->health.reason);
        return emit(r, key, now_ms, text, cap, msg);
    }
    case QTR_EV_ALERT: {
        const qtr_alert *a = &ev->u.alert;
        if (a->severity != QTR_ALERT_CRITICAL) return false;
        snprintf(key, sizeof key, "alert:%.*s", QTR_NAME_MAX, a->kind);
        snprintf(msg, sizeof msg, "[qtr CRITICAL] %.*s (%.*s): %.*s", QTR_NAME_MAX, a->kind, QTR_NAME_MAX, a->source,
                 QTR_TEXT_MAX, a->text);
        return emit(r, key, now_ms, text, cap, msg);
    }
    default:
        return false;
    }
}
