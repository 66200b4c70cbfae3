/* bn_sign — HMAC-SHA256 request signing (Binance SIGNED endpoints). */
#ifndef BN_SIGN_H
#define BN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define BN_SIGNATURE_HEX_LEN 64

typedef struct bn_signer bn_signer;

/* Keeps the key inside an OpenSSL MAC context only; the caller should wipe
 * its own copy. NULL on failure. */
bn_signer *bn_signer_new(const char *secret, size_t secret_len);
void bn_signer_free(bn_signer *s);

/* Lowercase hex HMAC-SHA256 of part1 directly followed by part2 (Binance's
 * totalParams = query string then body, nothing between). part2 may be NULL. */
bool bn_signer_sign(bn_signer *s, const char *part1, size_t len1, const char *part2, size_t len2,
                    char out[BN_SIGNATURE_HEX_LEN + 1]);

#endif
