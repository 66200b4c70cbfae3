/* Shared fixture for the ESS tests: hooks that record what the ESS asked
 * for, accounts built from plain figures, and a scratch directory. */
#ifndef TEST_RISK_ESS_FIXTURE_H
#define TEST_RISK_ESS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "risk/ess.h"

#define FIX_MAX_EVENTS 16
#define T0 INT64_C(1700000000000)
#define COOLDOWN_MS INT64_C(900000)

typedef struct fixture {
    qh_ess *ess;
    qh_ess_hooks hooks;
    qtr_ess_event events[FIX_MAX_EVENTS];
    size_t n_events;
    int cancels, closes;
    bool entry_allowed_during_cancel;    /* what qh_ess_allows said inside the hook */
    char dir[64];
    char path[128];
} fixture;

/* A fixture with limits 3% drawdown, 2% daily loss, 5 errors, 15 min
 * cooldown, close_positions; state in a fresh directory if persisted. */
fixture *fixture_new(bool persisted);
void fixture_free(fixture *f);
void fixture_default_limits(qh_ess_limits *l);
void fixture_hooks(fixture *f, qh_ess_hooks *out);
void fixture_write_file(const fixture *f, const char *text);

/* An account at `equity` with the given peak and day-start equity; the
 * derived fields (drawdown_pct, daily_pnl, daily_drawdown_pct) left at 0 so
 * the ESS must compute them itself unless a test sets them. */
qtr_account account_at(const char *equity, const char *peak, const char *day_start);

#endif
