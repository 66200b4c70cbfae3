/* answer_cache.c — see answer_cache.h. */
#include "answer_cache.h"

#include <stdlib.h>
#include <string.h>

const char *answer_cache_get(answer_cache *c, const void *input, size_t len, size_t *answer_len)
{
    if (c->valid && c->input_len == len && (len == 0 || memcmp(c->input, input, len) == 0)) {
        c->hits++;
        *answer_len = c->answer_len;
        return c->answer;
    }
    c->misses++;
    return NULL;
}

/* Room for n bytes at *buf (capacity *cap), the old content not kept. */
static bool room(void **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return true;
    void *p = realloc(*buf, n);
    if (!p) return false;
    *buf = p;
    *cap = n;
    return true;
}

bool answer_cache_put(answer_cache *c, const void *input, size_t len, const char *answer, size_t answer_len)
{
    c->valid = false;
    void *in = c->input, *out = c->answer;
    bool ok = room(&in, &c->input_cap, len ? len : 1);
    c->input = in;
    ok = ok && room(&out, &c->answer_cap, answer_len ? answer_len : 1);
    c->answer = out;
    if (!ok) return false;
    if (len) memcpy(c->input, input, len);
    if (answer_len) memcpy(c->answer, answer, answer_len);
    c->input_len = len;
    c->answer_len = answer_len;
    c->valid = true;
    return true;
}

void answer_cache_free(answer_cache *c)
{
    free(c->input);
    free(c->answer);
    memset(c, 0, sizeof *c);
}
