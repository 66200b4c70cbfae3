/*
 * `qtr backtest --set PATH=VALUE`: one config value changed on the command
 * line, as if the config file said it (docs/backtest.md, "Sweeps"). The
 * sweep runs each combination of its grid as a child `qtr backtest` with
 * one --set per parameter.
 *
 * PATH is the config's own table path, dot-separated:
 *   plugins.NAME.OPTION   the option of the plugin named NAME (options = {})
 *   OPTION                an option set in exactly one plugin's options, else
 *                         a top-level key (log_level, ...)
 *   SECTION.KEY[.KEY...]  a key in a section (account.starting_balance)
 * VALUE: true/false, an integer (unless the key held a string), a number
 * (when the key held a Lua float), else a string ("0.0004": money stays a
 * decimal string). The override runs on the table the config returned,
 * before it is checked, so a bad path or value is refused exactly as the
 * same mistake in the file would be (its path named, exit 2).
 */
#ifndef QH_BACKTEST_OVERRIDES_H
#define QH_BACKTEST_OVERRIDES_H

#include <stddef.h>

#include "cli/cli.h"

#define QH_OVERRIDES_MAX 32
#define QH_OVERRIDE_TEXT_MAX 200   /* bytes of a PATH or a VALUE */

typedef struct qh_overrides {
    const char *path[QH_OVERRIDES_MAX];   /* into argv or the caller's buffers */
    size_t path_len[QH_OVERRIDES_MAX];
    const char *value[QH_OVERRIDES_MAX];
    size_t n;
} qh_overrides;

/* Add "PATH=VALUE" (kept by reference). 0, or -1 with the reason in err. */
int qh_overrides_add(qh_overrides *ov, const char *spec, char *err, size_t errlen);

/* `--set PATH=VALUE` at argv[*i]: takes the value, adds it. 0, or -1 with
 * the error printed (exit 2). */
int qh_overrides_arg(qh_overrides *ov, int argc, char **argv, int *i);

/* Whether text is a well-formed PATH (segments of [A-Za-z0-9_], dots between). */
int qh_overrides_path_ok(const char *path, size_t len);

/* err, a refusal of the config or a plugin's options: when its subject is a
 * value one of the overrides set (": PATH:", or "plugin NAME: option OPT:"
 * and "option OPT:" for plugin options), " (set by --set PATH)" is
 * appended, since the file or built-in default the error names did not say
 * it. The value is not repeated: the error shows it, made printable. */
void qh_overrides_blame(const qh_overrides *ov, char *err, size_t errlen);
/* Load -c FILE (or builtin) with the overrides applied, the error printed
 * as qh_common_load_config prints it. 0 or -1. */
int qh_overrides_load_config(const qh_common_opts *o, const qh_overrides *ov, const char *builtin, qh_config *cfg);

/* The same, without printing: 0, or -1 with one line in err. */
int qh_overrides_load(const char *config_path, const qh_overrides *ov, const char *builtin, qh_config *cfg, char *err,
                      size_t errlen);

#endif
