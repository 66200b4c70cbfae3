/* ess_fixture.c — see ess_fixture.h. */
#include "ess_fixture.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void on_transition(void *ud, const qtr_ess_event *ev)
{
    fixture *f = ud;
    assert_true(f->n_events < FIX_MAX_EVENTS);
    f->events[f->n_events++] = *ev;
}

static void cancel_all(void *ud)
{
    fixture *f = ud;
    f->cancels++;
    f->entry_allowed_during_cancel = qh_ess_allows(f->ess, false);
}

static void close_all(void *ud)
{
    fixture *f = ud;
    f->closes++;
}

void fixture_default_limits(qh_ess_limits *l)
{
    memset(l, 0, sizeof *l);
    l->max_drawdown_pct = QTR_DEC_INT(3);
    l->daily_loss_pct = QTR_DEC_INT(2);
    l->max_consecutive_errors = 5;
    l->cooldown_ms = COOLDOWN_MS;
    l->close_positions = true;
}

void fixture_hooks(fixture *f, qh_ess_hooks *out)
{
    memset(out, 0, sizeof *out);
    out->ud = f;
    out->on_transition = on_transition;
    out->cancel_all_orders = cancel_all;
    out->close_all_positions = close_all;
}

fixture *fixture_new(bool persisted)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fixture_hooks(f, &f->hooks);
    if (persisted) {
        /* mkdtemp's template: the prefix, then six 'X' it replaces. */
        int n = snprintf(f->dir, sizeof f->dir, "/tmp/qtr-risk-");
        memset(f->dir + n, 'X', 6);
        f->dir[n + 6] = '\0';
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/ess.state", f->dir);
    }
    char err[256] = "";
    f->ess = qh_ess_new(&f->hooks, persisted ? f->path : NULL, err, sizeof err);
    assert_non_null(f->ess);
    qh_ess_limits l;
    fixture_default_limits(&l);
    qh_ess_set_limits(f->ess, &l);
    return f;
}

void fixture_write_file(const fixture *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

void fixture_free(fixture *f)
{
    if (!f) return;
    qh_ess_free(f->ess);
    if (f->dir[0]) {
        char tmp[160];
        snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
        unlink(tmp);
        unlink(f->path);
        rmdir(f->dir);
    }
    free(f);
}

qtr_account account_at(const char *equity, const char *peak, const char *day_start)
{
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.time_ms = T0;
    assert_int_equal(qtr_dec_parse(equity, (size_t)-1, &a.equity), QTR_DEC_OK);
    assert_int_equal(qtr_dec_parse(peak, (size_t)-1, &a.equity_peak), QTR_DEC_OK);
    assert_int_equal(qtr_dec_parse(day_start, (size_t)-1, &a.day_start_equity), QTR_DEC_OK);
    a.wallet_balance = a.equity;
    return a;
}
