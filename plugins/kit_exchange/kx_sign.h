/* kx_sign — HMAC-SHA256 request signing as lowercase hex (Binance, Bybit and
 * OKX-style "sign the query string" endpoints). Needs libcrypto: a plugin
 * that uses it links OpenSSL itself (the kit does not, so the dashboard,
 * which does not sign, never maps libcrypto). */
#ifndef KX_SIGN_H
#define KX_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define KX_HMAC_HEX_LEN 64

typedef struct kx_signer kx_signer;

/* Keeps the key inside an OpenSSL MAC context only; the caller should wipe
 * its own copy. NULL on failure. */
kx_signer *kx_signer_new(const char *secret, size_t secret_len);
void kx_signer_free(kx_signer *s);

/* Lowercase hex HMAC-SHA256 of part1 directly followed by part2 (Binance's
 * totalParams = query string then body, nothing between). part2 may be NULL. */
bool kx_signer_sign(kx_signer *s, const char *part1, size_t len1, const char *part2, size_t len2,
                    char out[KX_HMAC_HEX_LEN + 1]);

#endif
