/* dec_reference — a reference decimal parser, written separately from
 * sdk/include/qtr/money.h: it keeps every digit as text, moves the decimal
 * point by string indexing, compares with QTR_DEC_MAX digit by digit and
 * rounds with a decimal carry. No 128-bit arithmetic, no digit budget: slow
 * and plainly right, so any disagreement is a bug in money.h. Shared by
 * test_core_money_reference and the fuzz target tests/fuzz/fuzz_decimal.c.
 * Disagreements fail through cmocka (with CMOCKA_TEST_ABORT=1 outside a
 * cmocka test they abort). */
#ifndef QTR_TEST_DEC_REFERENCE_H
#define QTR_TEST_DEC_REFERENCE_H

#include <stddef.h>

#include <qtr/money.h>

#define DEC_REF_STRICT (-1)   /* the mode argument for qtr_dec_parse() */
/* DEC_REF_STRICT and every qtr_rounding mode. */
extern const int dec_ref_modes[];
extern const size_t dec_ref_n_modes;

typedef struct dec_outcome { qtr_dec_status st; qtr_dec v; } dec_outcome;

/* The reference's answer for text[0..len) in a mode. */
dec_outcome dec_reference(const char *text, size_t len, int mode);
/* money.h's answer; fails if a refusal wrote the output. */
dec_outcome dec_subject(const char *text, size_t len, int mode);
/* The two agree in every mode, or the test fails naming the input. */
void dec_agree(const char *text, size_t len);

#endif
