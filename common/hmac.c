/* hmac.c — see qc/hmac.h. The context is keyed once, so a MAC costs one
 * init with the kept key rather than a provider fetch. */
#include "qc/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>

struct qc_hmac {
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
};

qc_hmac *qc_hmac_new(const void *key, size_t key_len)
{
    qc_hmac *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!h->ctx || !EVP_MAC_init(h->ctx, key, key_len, params)) {
        qc_hmac_free(h);
        return NULL;
    }
    return h;
}

void qc_hmac_free(qc_hmac *h)
{
    if (!h) return;
    EVP_MAC_CTX_free(h->ctx);
    EVP_MAC_free(h->mac);
    free(h);
}

bool qc_hmac_sha256(qc_hmac *h, const void *a, size_t a_len, const void *b, size_t b_len,
                    unsigned char out[QC_HMAC_LEN])
{
    size_t n = 0;
    /* a NULL key re-initialises with the key given at creation */
    if (!EVP_MAC_init(h->ctx, NULL, 0, NULL)) return false;
    if (a_len && !EVP_MAC_update(h->ctx, a, a_len)) return false;
    if (b && b_len && !EVP_MAC_update(h->ctx, b, b_len)) return false;
    return EVP_MAC_final(h->ctx, out, &n, QC_HMAC_LEN) && n == QC_HMAC_LEN;
}

bool qc_hmac_equal(const unsigned char a[QC_HMAC_LEN], const unsigned char b[QC_HMAC_LEN])
{
    return CRYPTO_memcmp(a, b, QC_HMAC_LEN) == 0;
}
