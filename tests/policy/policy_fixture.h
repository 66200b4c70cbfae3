/* Helpers for the policy tests: policy files written into a private temp
 * directory, built from a valid base with one piece changed. */
#ifndef POLICY_FIXTURE_H
#define POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

typedef struct pfx {
    char dir[128];
    char path[256];      /* the policy file most recently written */
} pfx;

void pfx_init(pfx *f);
void pfx_cleanup(pfx *f);
/* Write text to dir/name and make it f->path. */
const char *pfx_write(pfx *f, const char *name, const char *text);
/* A file path in the directory (not created). */
const char *pfx_file(const pfx *f, const char *name, char *buf, size_t cap);

/* The base policy's fields as "key = value" pairs. */
typedef struct pfx_field { const char *key, *value; } pfx_field;
extern const pfx_field pfx_limits[];
extern const pfx_field pfx_ess[];

/* A policy text: `prelude` before the return, then the base fields with
 * section.key replaced by value (value NULL: left out; key not in the base:
 * added), and `judge` as the judge expression. NULL section: no change. */
void pfx_policy_text(char *buf, size_t cap, const char *prelude, const char *section, const char *key,
                     const char *value, const char *judge);

/* A judge that allows everything. */
#define PFX_ALLOW_JUDGE "function(order, ctx) return \"allow\" end"

/* A plain order and context: BTCUSDT BUY 0.01 at 50000, confidence 0.9. */
void pfx_order(qtr_order_intent *o, qh_risk_ctx *rc, const char *symbol);

bool pfx_contains(const char *haystack, const char *needle);

#endif
