/*
 * The qtr command line: one function a subcommand, each returning the exit
 * status of product-surface.md (0 done, 1 runtime failure or refused, 2 bad
 * input or unreachable).
 */
#ifndef QH_CLI_H
#define QH_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

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

/* A private folder $TMPDIR/qtr-STEM-XXXXXX (/tmp without TMPDIR; mode
 * 0700, made by mkdtemp) and in path the name of a database in it that
 * does not exist yet: a copy of the trade store goes there. Nothing in the
 * shared temporary folder is ever unlinked and made again by name, so no
 * other user can put a link where the copy (or its .partial) will be
 * written. The folder and every file qh_store_backup_file and SQLite make
 * beside the database are registered with qh_cli_tmp_add (id in *tmp_id,
 * 0 if not) with no moment where a signal could leave them unregistered.
 * 0, or -1 with "temporary folder in DIR: reason" in err. Undo with
 * qh_cli_private_copy_remove. */
int qh_cli_private_copy(const char *stem, int *tmp_id, char *path, size_t pathlen, char *err, size_t errlen);
/* Remove the database, its journals and .partial, and the folder; who
 * names the command in a line on stderr if one cannot be. */
void qh_cli_private_copy_remove(const char *path, int tmp_id, const char *who);
/* The folder qh_cli_private_copy makes its folders in, for messages. */
const char *qh_cli_tmpdir(void);

/* Standard input, output and error that the caller left closed (`qtr ...
 * >&-`) are opened on /dev/null, read-only: the next file qtr opens can
 * never become one of them (a report, a trade store copy written with what
 * was meant for stdout or stderr), and a write meant for them still fails
 * (EBADF), so a lost standard output is still exit 1. Called first thing
 * in main(); -1 if one could not be filled (qtr must not run then). */
int qh_cli_std_fds_open(void);
/* Whether descriptor fd (0, 1 or 2) was closed when qtr started: "-" and
 * /dev/stdout name no open descriptor then. */
bool qh_cli_std_was_closed(int fd);

/* Temporary files removed when SIGINT, SIGTERM or SIGHUP ends the command
 * (tmp_files.c): the handler unlinks the names registered here, prepared
 * in advance, and dies of the same signal. What a name covers: */
#define QH_TMP_FILE   1u   /* the file itself */
#define QH_TMP_DB     2u   /* a SQLite database: the file, -journal, -wal and -shm */
#define QH_TMP_BACKUP 4u   /* what qh_store_backup_file writes before its rename: PATH.partial and its journal */
#define QH_TMP_FOLDER 8u   /* the folder holding PATH, removed (rmdir) after the files */
/* Install the handler (once); a signal ignored by whoever started qtr
 * stays ignored. */
void qh_cli_tmp_on_signals(void);
/* Register path: an id for qh_cli_tmp_forget, or 0 if it could not be
 * (too many, or a name too long to hold). */
int qh_cli_tmp_add(const char *path, unsigned what);
/* The files are gone or kept for good (renamed into place): no longer
 * removed on a signal. 0 is ignored. */
void qh_cli_tmp_forget(int id);
/* Block (and restore) those signals on this thread around creating a file
 * and registering it. */
void qh_cli_tmp_hold(sigset_t *saved);
void qh_cli_tmp_release(const sigset_t *saved);
/* Remove a SQLite file and the journals beside it (-wal, -shm, -journal);
 * a failure other than "not there" is one line on stderr after who. */
void qh_cli_remove_db(const char *path, const char *who);

/* Every occurrence of the text `from` in err replaced by `to` (cut to
 * errlen): the messages of a step that worked on a temporary copy name
 * what the user gave instead of the copy. */
void qh_cli_err_rename(char *err, size_t errlen, const char *from, const char *to);

/* Load -c FILE or the given built-in text; prints the error. */
int qh_common_load_config(const qh_common_opts *o, const char *builtin, qh_config *cfg);

#endif
