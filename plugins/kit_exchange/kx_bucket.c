/* kx_bucket.c — see kx_bucket.h. */
#include "kx_bucket.h"

__extension__ typedef __int128 kx_i128;

void kx_bucket_init(kx_bucket *b, int64_t limit, int64_t interval_ms, int64_t burst, int64_t now_us)
{
    if (limit < 1) limit = 1;
    if (interval_ms < 1) interval_ms = 1;
    int64_t cap = limit / 2;
    if (burst > 0 && burst < cap) cap = burst;
    if (cap < 1) cap = 1;
    int64_t refill = limit - cap;
    if (refill < 1) refill = 1;
    b->limit = limit;
    b->interval_us = interval_ms * 1000;
    b->cap_m = cap * 1000;
    b->tokens_m = b->cap_m;
    b->refill_m = refill * 1000;
    b->rem = 0;
    b->last_us = now_us;
    b->inflight = 0;
}

void kx_bucket_refill(kx_bucket *b, int64_t now_us)
{
    if (now_us <= b->last_us) return;
    int64_t dt = now_us - b->last_us;
    b->last_us = now_us;
    if (b->tokens_m >= b->cap_m) {
        b->rem = 0;
        return;
    }
    /* 128-bit product: no overflow even after years of idle time. */
    kx_i128 acc = (kx_i128)dt * b->refill_m + b->rem;
    kx_i128 add = acc / b->interval_us;
    b->rem = (int64_t)(acc % b->interval_us);
    kx_i128 t = (kx_i128)b->tokens_m + add;
    if (t >= b->cap_m) {
        t = b->cap_m;
        b->rem = 0;
    }
    b->tokens_m = (int64_t)t;
}

bool kx_bucket_take(kx_bucket *b, int64_t n, int64_t now_us)
{
    kx_bucket_refill(b, now_us);
    int64_t need = n * 1000;
    if (b->tokens_m >= need || (need > b->cap_m && b->tokens_m >= b->cap_m)) {
        b->tokens_m -= need;
        b->inflight += n;
        return true;
    }
    return false;
}

int64_t kx_bucket_wait_us(kx_bucket *b, int64_t n, int64_t now_us)
{
    kx_bucket_refill(b, now_us);
    int64_t need = n * 1000;
    if (need > b->cap_m) need = b->cap_m;
    if (b->tokens_m >= need) return 0;
    kx_i128 deficit = (kx_i128)(need - b->tokens_m) * b->interval_us - b->rem;
    if (deficit <= 0) return 1;
    return (int64_t)((deficit + b->refill_m - 1) / b->refill_m);
}

void kx_bucket_observe_used(kx_bucket *b, int64_t used, int64_t now_us)
{
    kx_bucket_refill(b, now_us);
    int64_t left = b->limit - used - b->inflight;
    if (left < -b->limit) left = -b->limit;
    if (b->tokens_m > left * 1000) {
        b->tokens_m = left * 1000;
        b->rem = 0;
    }
}

int64_t kx_bucket_tokens(kx_bucket *b, int64_t now_us)
{
    kx_bucket_refill(b, now_us);
    return b->tokens_m / 1000;
}

void kx_bucket_answered(kx_bucket *b, int64_t n)
{
    b->inflight -= n;
    if (b->inflight < 0) b->inflight = 0;
}
