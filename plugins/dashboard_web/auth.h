/* auth — the bearer token that guards mutating API calls. Only a SHA-256 of
 * the token is kept; comparing digests with CRYPTO_memcmp takes the same time
 * whatever the presented token, its length included. */
#ifndef DASH_AUTH_H
#define DASH_AUTH_H

#include <stdbool.h>

typedef struct api_token {
    bool configured;
    unsigned char digest[32];
} api_token;

typedef enum auth_result {
    AUTH_OK = 0,
    AUTH_NOT_CONFIGURED,   /* no QTR_API_TOKEN: mutating calls are refused  */
    AUTH_MISSING,          /* no or malformed Authorization header          */
    AUTH_WRONG
} auth_result;

/* secret NULL or "" means not configured. */
void api_token_init(api_token *t, const char *secret);
auth_result api_token_check(const api_token *t, const char *authorization);

#endif
