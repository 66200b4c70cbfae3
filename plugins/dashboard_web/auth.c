/* auth.c — see auth.h. */
#include "auth.h"

#include <string.h>
#include <strings.h>

void api_token_init(api_token *t, const char *secret)
{
    memset(t, 0, sizeof *t);
    if (!secret || !*secret) return;
    dash_sha1(secret, strlen(secret), t->digest);
    t->configured = true;
}

/* Looks at every byte of both digests whatever they hold. */
static bool digests_equal(const uint8_t a[DASH_SHA1_LEN], const uint8_t b[DASH_SHA1_LEN])
{
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < DASH_SHA1_LEN; i++) diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

auth_result api_token_check(const api_token *t, const char *authorization)
{
    if (!t->configured) return AUTH_NOT_CONFIGURED;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return AUTH_MISSING;
    const char *presented = authorization + 7;
    while (*presented == ' ') presented++;
    if (!*presented) return AUTH_MISSING;
    uint8_t digest[DASH_SHA1_LEN];
    dash_sha1(presented, strlen(presented), digest);
    return digests_equal(digest, t->digest) ? AUTH_OK : AUTH_WRONG;
}
