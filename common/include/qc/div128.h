/*
 * qc_div_128_by_64: a 128-bit number divided by a 64-bit one when the
 * quotient fits 64 bits, in one instruction (divq on x86-64) instead of the
 * generic __udivti3/__divmodti4 call. The host (portfolio/dec_mul.h: marks,
 * exposure, risk notionals) and the paper exchange (wide_div.h: fees,
 * slippage, average and entry prices) share it.
 *
 * Static inline, so a plugin gets it without linking anything.
 */
#ifndef QC_DIV128_H
#define QC_DIV128_H

#include <stdbool.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 qc_u128;

/* num / d and its remainder in *rem, for (num >> 64) < d (so d > 0 and the
 * quotient fits 64 bits: under that bound divq cannot trap). */
static inline uint64_t qc_div_128_by_64(qc_u128 num, uint64_t d, uint64_t *rem)
{
    uint64_t q, r;
#if defined(__x86_64__)
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"((uint64_t)num), "d"((uint64_t)(num >> 64)), "rm"(d));
#else
    q = (uint64_t)(num / d);
    r = (uint64_t)(num % d);
#endif
    *rem = r;
    return q;
}

/* Whether quotient q with remainder r of a division by d (r < d) rounds
 * away from zero, half-even: past the half, or at it with q odd. */
static inline bool qc_half_even_away(uint64_t q, uint64_t r, uint64_t d)
{
    return r > d - r || (r == d - r && (q & 1) != 0);
}

#endif
