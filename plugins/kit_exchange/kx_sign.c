/* kx_sign.c — the MAC is qc/hmac.h's (keyed once); this adds the hex. */
#include "kx_sign.h"

#include <stdlib.h>

#include "qc/hmac.h"

struct kx_signer {
    qc_hmac *mac;
};

kx_signer *kx_signer_new(const char *secret, size_t secret_len)
{
    kx_signer *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (!(s->mac = qc_hmac_new(secret, secret_len))) {
        free(s);
        return NULL;
    }
    return s;
}

void kx_signer_free(kx_signer *s)
{
    if (!s) return;
    qc_hmac_free(s->mac);
    free(s);
}

bool kx_signer_sign(kx_signer *s, const char *part1, size_t len1, const char *part2, size_t len2,
                    char out[KX_HMAC_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[QC_HMAC_LEN];
    if (!qc_hmac_sha256(s->mac, part1, len1, part2, len2, md)) return false;
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[KX_HMAC_HEX_LEN] = '\0';
    return true;
}
