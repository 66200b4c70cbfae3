/* The rules of an exit plan (qtr/exits.h), checked by set_exit_plan in the
 * host and in the mock host alike. */
#ifndef QH_EXIT_PLAN_CHECK_H
#define QH_EXIT_PLAN_CHECK_H

#include <stddef.h>

#include <qtr/exits.h>

/* 0 if plan keeps every rule of qtr/exits.h; -1 with one line in err naming
 * the field ("regime[4].take_profit[1].share_bps: ...") otherwise. */
int qh_exit_plan_check(const qtr_exit_plan *plan, char *err, size_t errlen);

/* Copy a plugin's plan, which may be older (smaller) than ours, into *out:
 * what its size holds, zeros beyond. -1 with err for a size too small to be
 * a plan. */
int qh_exit_plan_copy_in(const qtr_exit_plan *plan, qtr_exit_plan *out, char *err, size_t errlen);

/* What set_exit_plan does first, in the host and the mock host alike: a
 * symbol is given, the plan copied in (copy_in) and checked. 0, or -1 with
 * err. */
int qh_exit_plan_accept(const char *symbol, const qtr_exit_plan *plan, qtr_exit_plan *out, char *err, size_t errlen);

#endif
