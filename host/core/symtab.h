/*
 * Transitional names for the engine's symbol table, which is now the one
 * symbol index (portfolio/symbol_index.h, built on common/'s hash map):
 * qh_symtab_* call qh_symbol_index_* on a growing index. New code uses
 * qh_symbol_index_* directly; this header goes once the engine does.
 */
#ifndef QH_SYMTAB_H
#define QH_SYMTAB_H

#include "portfolio/symbol_index.h"

typedef qh_symbol_index qh_symtab;

static inline qh_symtab *qh_symtab_new(void) { return qh_symbol_index_new(0); }
static inline void qh_symtab_free(qh_symtab *t) { qh_symbol_index_free(t); }
static inline int32_t qh_symtab_find(const qh_symtab *t, const char *symbol) { return qh_symbol_index_find(t, symbol); }
static inline int32_t qh_symtab_intern(qh_symtab *t, const char *symbol) { return qh_symbol_index_intern(t, symbol); }
static inline size_t qh_symtab_count(const qh_symtab *t) { return qh_symbol_index_count(t); }

#endif
