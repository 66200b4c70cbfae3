/* hmac.h — HMAC-SHA256 with a key set once (OpenSSL's EVP_MAC), for the
 * host and the plugins alike: exchange request signing (kit_exchange's
 * kx_sign.h) and the Redis bus's signed envelopes (host/bus/event_codec.h).
 * A context is not thread-safe: one per thread that signs. */
#ifndef QC_HMAC_H
#define QC_HMAC_H

#include <stdbool.h>
#include <stddef.h>

#define QC_HMAC_LEN 32   /* SHA-256 */

typedef struct qc_hmac qc_hmac;

/* The key lives inside the OpenSSL context only; the caller should wipe
 * its own copy. NULL if OpenSSL cannot make the context. */
qc_hmac *qc_hmac_new(const void *key, size_t key_len);
void qc_hmac_free(qc_hmac *h);

/* The MAC of a directly followed by b (b may be NULL). false on an
 * OpenSSL failure (out is then undefined). */
bool qc_hmac_sha256(qc_hmac *h, const void *a, size_t a_len, const void *b, size_t b_len,
                    unsigned char out[QC_HMAC_LEN]);

/* a and b equal, in time that does not depend on where they differ. */
bool qc_hmac_equal(const unsigned char a[QC_HMAC_LEN], const unsigned char b[QC_HMAC_LEN]);

#endif
