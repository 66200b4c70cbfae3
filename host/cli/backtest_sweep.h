/*
 * `qtr backtest --sweep 'fast=5..20:5,slow=20..60:10' [-j N] [--out FILE]
 * [--sweep-timeout S] ...`: the grid of every combination, each run as a
 * child `qtr backtest` (this very binary) with one --set PATH=VALUE per
 * parameter and the rest of the command line as given; one CSV row a
 * combination, in grid order (the first parameter varies slowest), so the
 * CSV is the same bytes whatever -j; the top rows by net PnL printed.
 * docs/backtest.md, "Sweeps".
 */
#ifndef QH_BACKTEST_SWEEP_H
#define QH_BACKTEST_SWEEP_H

#include <stdbool.h>

#include "cli/output.h"

#define QH_SWEEP_MAX_PARAMS 8
#define QH_SWEEP_MAX_COMBOS 1000   /* each is a process and a full backtest */
#define QH_SWEEP_MAX_JOBS 64

/* Whether the backtest command line asks for a sweep (--sweep, or one of
 * its own options, refused without it). */
bool qh_sweep_requested(int argc, char **argv);

/* A backtest's own option (past qh_common_opt's): 1 it takes a value, 0 a
 * flag, -1 not one. The one list both parsers check: cmd_backtest.c's, and
 * the sweep's before it hands an option to its children (cmd_backtest.c). */
int qh_backtest_option_arity(const char *opt);

/* The children's inputs checked once, before any runs: the --data,
 * --funding and --mark files in argv (a backtest's options, as the children
 * get them) read as a backtest reads them up to its first candle, and out
 * (the CSV, or NULL) neither one of them nor config. 0, or -1 with one line
 * printed (exit 2). In cmd_backtest.c, beside the backtest's own reading. */
int qh_backtest_check_inputs(int argc, const char *const *argv, const char *config, const qh_opt_path *out);

/* The sweep: 0 every row ok, 1 a child failed (its row says how) or the
 * CSV could not be written, 2 bad input (a bad spec, path or option). */
int qh_sweep_main(int argc, char **argv);

#endif
