/*
 * The qtr command line: one function a subcommand, each returning the exit
 * status of product-surface.md (0 done, 1 runtime failure or refused, 2 bad
 * input or unreachable).
 */
#ifndef QH_CLI_H
#define QH_CLI_H

#include <stdbool.h>

#include "core/config.h"

int qh_cmd_run(int argc, char **argv);
int qh_cmd_backtest(int argc, char **argv);
int qh_cmd_plugins(int argc, char **argv);
int qh_cmd_policy(int argc, char **argv);
int qh_cmd_version(int argc, char **argv);
int qh_cmd_check(int argc, char **argv);
int qh_cmd_ess(int argc, char **argv);
int qh_cmd_reconcile(int argc, char **argv);
int qh_cmd_backup(int argc, char **argv);
int qh_cmd_export(int argc, char **argv);
int qh_cmd_indicators(int argc, char **argv);
int qh_cmd_bus(int argc, char **argv);
int qh_cmd_symbols(int argc, char **argv);

/* Shared option handling: -c FILE, --log-json, --log-level L. Unknown
 * options are refused by each command. */
typedef struct qh_common_opts {
    const char *config;
    bool log_json;
    const char *log_level;
} qh_common_opts;

/* Consumes argv[*i] (and its value) if it is a common option: 1 consumed,
 * 0 not common, -1 error (message printed). */
int qh_common_opt(int argc, char **argv, int *i, qh_common_opts *o);
/* Start logging per the options (stderr). */
void qh_common_log_init(const qh_common_opts *o, const char *default_level);
/* The end of every command: what it printed to standard output is flushed
 * and closed here, and a write that failed (a full disk, a closed stdout)
 * is one line on stderr and exit 1 instead of a silent 0. Returns the exit
 * status: rc, or 1 if rc was 0 and standard output failed. */
int qh_cli_finish_stdout(int rc);

/* A new empty file $TMPDIR/qtr-STEM-XXXXXX (/tmp without TMPDIR), its name
 * in path: the open descriptor, or -1 with "temporary file in DIR: reason"
 * in err. */
int qh_cli_mkstemp(const char *stem, char *path, size_t pathlen, char *err, size_t errlen);
/* Remove a SQLite file and the journals beside it (-wal, -shm, -journal);
 * a failure other than "not there" is one line on stderr after who. */
void qh_cli_remove_db(const char *path, const char *who);

/* Load -c FILE or the given built-in text; prints the error. */
int qh_common_load_config(const qh_common_opts *o, const char *builtin, qh_config *cfg);

#endif
