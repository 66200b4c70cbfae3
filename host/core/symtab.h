/*
 * Symbol -> small index, for per-symbol state on the hot path: open
 * addressing on a power-of-two table, FNV-1a hashing, no deletion (symbols
 * are few and live as long as the process).
 */
#ifndef QH_SYMTAB_H
#define QH_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qh_symtab qh_symtab;

qh_symtab *qh_symtab_new(void);
void qh_symtab_free(qh_symtab *t);
/* Index of symbol, or -1. */
int32_t qh_symtab_find(const qh_symtab *t, const char *symbol);
/* Index of symbol, adding it (with the next index) if new; -1 on failure. */
int32_t qh_symtab_intern(qh_symtab *t, const char *symbol);
size_t qh_symtab_count(const qh_symtab *t);

#endif
