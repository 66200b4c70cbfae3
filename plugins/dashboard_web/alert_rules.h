/* alert_rules — decides which bus events become operator alerts, and keeps
 * an incident from becoming a storm: at most one alert per key in
 * min_interval_ms, and at most max_per_minute alerts in any 60 s overall.
 * Pure logic: the caller passes the time and sends what comes out. */
#ifndef DASH_ALERT_RULES_H
#define DASH_ALERT_RULES_H

#include <qtr/plugin.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_KEYS 64
#define ALERT_TEXT_MAX 512
#define ALERT_MAX_PER_MINUTE_CAP 1000
#define ALERT_ERRORS_CAP 10000

typedef struct alert_config {
    qtr_dec daily_drawdown_pct;       /* alert when daily_drawdown_pct >= this */
    int64_t exchange_errors_per_hour; /* alert when more than this in 60 min   */
    int64_t min_interval_ms;          /* per key                               */
    int64_t max_per_minute;           /* overall                               */
} alert_config;

typedef struct alert_key_state {
    char key[64];
    int64_t last_sent_ms;
    uint32_t suppressed;              /* since the last one sent               */
    bool used;
} alert_key_state;

typedef struct alert_rules {
    alert_config cfg;
    bool drawdown_over;               /* edge: alert once per crossing         */
    bool errors_over;
    int64_t *error_times;             /* ring of recent exchange errors        */
    size_t error_cap, error_head, n_errors;
    int64_t sent_times[ALERT_MAX_PER_MINUTE_CAP];
    size_t sent_head, n_sent;
    alert_key_state keys[ALERT_KEYS];
    uint64_t sent_total, suppressed_total;
} alert_rules;

bool alert_rules_init(alert_rules *r, const alert_config *cfg);
void alert_rules_free(alert_rules *r);

/* True if ev is an exchange error for the error-rate rule: a QTR_EV_ALERT of
 * kind "exchange_error", or an order update REJECTED by the exchange (one
 * whose reason does not start with the host's own refusal prefixes "risk",
 * "ess", "policy" or "throttle"). */
bool alert_is_exchange_error(const qtr_event *ev);

/* Feed one bus event at now_ms. Returns true and fills text (a one-line
 * message for a chat webhook) if an alert is to be sent now. */
bool alert_rules_on_event(alert_rules *r, const qtr_event *ev, int64_t now_ms, char *text, size_t cap);

/* The rate limiter alone (used by on_event): true if an alert with this key
 * may go out at now_ms; records it. *suppressed_before receives how many of
 * this key were held back since the last one sent. */
bool alert_rate_allow(alert_rules *r, const char *key, int64_t now_ms, uint32_t *suppressed_before);

#endif
