/*
 * test_rng_next: xorshift64 (Marsaglia's 13, 7, 17), the tests' one
 * pseudo-random source for generated inputs. Each test keeps its own state
 * and fixed seed (never 0), so every run draws the same values and a
 * failure reproduces.
 */
#ifndef QTR_TEST_RNG_H
#define QTR_TEST_RNG_H

#include <stdint.h>

static inline uint64_t test_rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
