/* answer_cache — the last JSON answer made from a host list, kept with a
 * copy of the list's bytes it was made from. The answer is a pure function
 * of those bytes, so when the host hands over the same bytes again the
 * answer is reused instead of encoded again (20 positions: ~55k of the ~65k
 * instructions of a GET /api/positions), and any change in the list, however
 * small, encodes afresh. No version numbers, no expiry: nothing can go stale. */
#ifndef DASH_ANSWER_CACHE_H
#define DASH_ANSWER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct answer_cache {
    unsigned char *input;      /* the list bytes the answer was made from */
    size_t input_len, input_cap;
    char *answer;
    size_t answer_len, answer_cap;
    bool valid;
    uint64_t hits, misses;
} answer_cache;

/* The kept answer if it was made from exactly these len bytes, else NULL
 * (counted as a miss). */
const char *answer_cache_get(answer_cache *c, const void *input, size_t len, size_t *answer_len);
/* Keep answer (answer_len bytes) as made from input (len bytes). False if
 * out of memory: then nothing is kept. */
bool answer_cache_put(answer_cache *c, const void *input, size_t len, const char *answer, size_t answer_len);
void answer_cache_free(answer_cache *c);

#endif
