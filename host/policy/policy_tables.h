/*
 * The keys of a policy file as declared tables (core/config_table.h, the
 * server config's reader): the top level, `limits` and `ess`, each key with
 * its type, range, allowed values and whether it is required. One reader
 * checks them all (policy_validate.c); what a table cannot say (a symbol
 * listed twice, max_position_notional above max_total_exposure, judge being
 * a function) is checked after the read.
 */
#ifndef QH_POLICY_TABLES_H
#define QH_POLICY_TABLES_H

#include <stddef.h>

#include "core/config_table.h"
#include "policy/policy.h"

/* What the tables read into: the rules, and limits.symbols as a list
 * (the reader's own), copied into rules.symbols after the read. */
typedef struct qh_policy_read {
    qh_policy_rules rules;
    char **symbols;
    size_t n_symbols;
} qh_policy_read;

/* The whole file's table (top level; limits and ess nested). */
extern const qh_conf_section qh_policy_section;

#endif
