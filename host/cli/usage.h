/*
 * The usage of every command, in one table: `qtr --help`, `qtr COMMAND
 * --help`, and the known options a typo is matched against all come from
 * it, so the help cannot drift from what the parsers accept (tests/e2e/
 * test_cli_help.py checks each listed option against its parser and
 * docs/qtr.1).
 */
#ifndef QH_CLI_USAGE_H
#define QH_CLI_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* -h or --help. */
bool qh_usage_is_help(const char *arg);

/* `qtr --help`: every command with its synopsis and summary. */
void qh_usage_print_all(FILE *out);

/* One command's (or sub-command's, "ess trip") usage on stdout; returns 0. */
int qh_usage_help(const char *name);

/* "qtr NAME: unknown option 'ARG'; did you mean '--json'?" on stderr, with
 * the nearest of NAME's options when one is close; returns 2. */
int qh_usage_unknown_option(const char *name, const char *arg);

/* "qtr PARENT: unknown command 'WORD'; did you mean 'backtest'?" on stderr,
 * matched against PARENT's sub-commands ("" for the top level); returns 2. */
int qh_usage_unknown_command(const char *parent, const char *word);

/* argv[*i]'s value (argv[*i + 1], consumed), or NULL after printing
 * "qtr NAME: OPTION needs a value" on stderr. */
const char *qh_usage_value(int argc, char **argv, int *i, const char *name);

/* A single-valued option's value into *slot, like qh_usage_value; NULL
 * after "qtr NAME: OPTION given twice" when *slot is set already: the last
 * one silently winning hides a mistake in the command. */
const char *qh_usage_value_once(int argc, char **argv, int *i, const char *name, const char **slot);

/* The candidate nearest to word (edit distance with transpositions, or a
 * unique prefix), or NULL when none is near enough to be a likely typo. */
const char *qh_usage_nearest(const char *word, const char *const *candidates, size_t n);

#endif
