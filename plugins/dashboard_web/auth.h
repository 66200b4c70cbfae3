/* auth — the bearer token that guards mutating API calls. Only a SHA-1 of
 * the token is kept (a preimage of it is out of reach for any real token);
 * the presented token is hashed too and the two fixed-length digests are
 * compared byte for byte without an early exit, so the time taken says
 * nothing about how much of the token, or its length, was right. */
#ifndef DASH_AUTH_H
#define DASH_AUTH_H

#include "sha1.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct api_token {
    bool configured;
    uint8_t digest[DASH_SHA1_LEN];
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
