/* kx_sign.c — HMAC-SHA256 with an EVP_MAC context keyed once, so signing an
 * order costs one MAC init (key reused) rather than a provider fetch. */
#include "kx_sign.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

struct kx_signer {
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
};

kx_signer *kx_signer_new(const char *secret, size_t secret_len)
{
    kx_signer *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->ctx = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!s->ctx || !EVP_MAC_init(s->ctx, (const unsigned char *)secret, secret_len, params)) {
        kx_signer_free(s);
        return NULL;
    }
    return s;
}

void kx_signer_free(kx_signer *s)
{
    if (!s) return;
    EVP_MAC_CTX_free(s->ctx);
    EVP_MAC_free(s->mac);
    free(s);
}

bool kx_signer_sign(kx_signer *s, const char *part1, size_t len1, const char *part2, size_t len2,
                    char out[KX_HMAC_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t mdlen = 0;
    /* A NULL key re-initialises with the key given at creation. */
    if (!EVP_MAC_init(s->ctx, NULL, 0, NULL)) return false;
    if (len1 && !EVP_MAC_update(s->ctx, (const unsigned char *)part1, len1)) return false;
    if (part2 && len2 && !EVP_MAC_update(s->ctx, (const unsigned char *)part2, len2)) return false;
    if (!EVP_MAC_final(s->ctx, md, &mdlen, sizeof md) || mdlen != sizeof md) return false;
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[KX_HMAC_HEX_LEN] = '\0';
    return true;
}
