/*
 * kx_bucket — a token bucket that keeps any window of `interval` inside
 * `limit`: it holds at most `cap` tokens (the burst) and refills
 * (limit - cap) tokens per interval, so a window sees at most
 * cap + (limit - cap) = limit. Tokens are counted in thousandths and time in
 * microseconds, with the refill remainder carried, so nothing drifts.
 */
#ifndef KX_BUCKET_H
#define KX_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kx_bucket {
    int64_t limit, interval_us;
    int64_t cap_m;        /* capacity, thousandths of a token           */
    int64_t tokens_m;     /* may go below 0 after a server correction   */
    int64_t refill_m;     /* thousandths added per interval              */
    int64_t rem;          /* carried remainder of the refill product    */
    int64_t last_us;
    int64_t inflight;     /* tokens taken by requests not yet answered  */
} kx_bucket;

void kx_bucket_init(kx_bucket *b, int64_t limit, int64_t interval_ms, int64_t burst, int64_t now_us);
void kx_bucket_refill(kx_bucket *b, int64_t now_us);
/* Take n tokens if there are n (or the bucket is full and n exceeds its
 * capacity); false leaves the bucket unchanged. */
bool kx_bucket_take(kx_bucket *b, int64_t n, int64_t now_us);
/* Microseconds until kx_bucket_take(n) can succeed (0: now). */
int64_t kx_bucket_wait_us(kx_bucket *b, int64_t n, int64_t now_us);
/* The server says `used` of the limit is spent in its current window;
 * requests still in flight will add b->inflight: never hold more than what
 * is left. Only ever lowers the tokens. */
void kx_bucket_observe_used(kx_bucket *b, int64_t used, int64_t now_us);
/* A request that took n tokens got its answer (or failed). */
void kx_bucket_answered(kx_bucket *b, int64_t n);
/* Whole tokens available now (for the gauge). */
int64_t kx_bucket_tokens(kx_bucket *b, int64_t now_us);

#endif
