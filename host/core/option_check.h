/*
 * Declared options (qtr_option, qtr/plugin.h): a configured value against
 * its declaration's type, bounds (min, max) and allowed values. One place
 * for plugins' options (core/config.c, qh_config_check_options) and the
 * host's own config sections (core/config_table.c), so every refusal reads
 * the same: "<where>: <option>: 0 is out of range [1, 1000]".
 */
#ifndef QH_OPTION_CHECK_H
#define QH_OPTION_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

#include "core/config.h"

/* The declaration itself: a known type, min/max that parse as the type
 * (an integer for the length of a STRING or the items of a STRING_LIST),
 * min <= max, allowed only on STRING/STRING_LIST, and a default value that
 * passes its own checks. true, or false with why filled ("min 'x' is not
 * a decimal"). */
bool qh_option_decl_valid(const qtr_option *d, char *why, size_t whylen);

/* The value against the declaration (the type first). true, or false with
 * why filled: what is wrong, naming the value and the range or the allowed
 * values, without the option's name (the caller puts where and which in
 * front). */
bool qh_option_value_valid(const qtr_option *d, const qh_optval *v, char *why, size_t whylen);

/* A QTR_OPT_PATH value as the plugin gets it: relative to dir (the config
 * file's folder; NULL, "" or "." for none: the working directory), an
 * absolute one and "" unchanged. 0, or -1 if it does not fit in outlen. */
int qh_option_path_resolve(const char *dir, const char *value, char *out, size_t outlen);

/* Each string option of pc gets its path (qh_optval.path): the value
 * resolved against dir, what config_string() hands a plugin that declares
 * it a QTR_OPT_PATH. 0, or -1 (out of memory) with err. */
int qh_option_paths_resolve(qh_plugin_conf *pc, const char *dir, char *err, size_t errlen);

/* A user's text as it may appear in a one-line error: its first 64 bytes,
 * control bytes shown as \xNN (a newline in a config string must not split
 * the message a log or a wrapper reads as one line). Returns out. */
#define QH_OPTION_SHOWN_MAX (4 * 64 + 4)
const char *qh_option_shown(const char *text, char out[QH_OPTION_SHOWN_MAX]);

/* "a string", "an integer", ... for messages. */
const char *qh_option_type_name(qtr_opt_type t);

#endif
