/* auth.c — see auth.h. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

void api_token_init(api_token *t, const char *secret)
{
    memset(t, 0, sizeof *t);
    if (!secret || !*secret) return;
    SHA256((const unsigned char *)secret, strlen(secret), t->digest);
    t->configured = true;
}

auth_result api_token_check(const api_token *t, const char *authorization)
{
    if (!t->configured) return AUTH_NOT_CONFIGURED;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return AUTH_MISSING;
    const char *presented = authorization + 7;
    while (*presented == ' ') presented++;
    if (!*presented) return AUTH_MISSING;
    unsigned char digest[32];
    SHA256((const unsigned char *)presented, strlen(presented), digest);
    return CRYPTO_memcmp(digest, t->digest, sizeof digest) == 0 ? AUTH_OK : AUTH_WRONG;
}
