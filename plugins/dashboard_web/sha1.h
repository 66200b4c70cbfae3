/* sha1 — SHA-1 (FIPS 180-4) and base64 (RFC 4648), the little the plugin
 * needs for the WebSocket accept key and the API token digest. Here so the
 * plugin does not map OpenSSL (over 3 MB of resident pages) for 150 lines. */
#ifndef DASH_SHA1_H
#define DASH_SHA1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DASH_SHA1_LEN 20

typedef struct dash_sha1_ctx {
    uint32_t h[5];
    uint64_t total;           /* bytes hashed so far */
    uint8_t block[64];
    size_t used;              /* bytes waiting in block */
} dash_sha1_ctx;

void dash_sha1_init(dash_sha1_ctx *c);
void dash_sha1_update(dash_sha1_ctx *c, const void *data, size_t len);
void dash_sha1_final(dash_sha1_ctx *c, uint8_t out[DASH_SHA1_LEN]);
void dash_sha1(const void *data, size_t len, uint8_t out[DASH_SHA1_LEN]);

/* Standard base64 with padding; out needs 4 * ((len + 2) / 3) + 1 bytes.
 * Returns the length written (without the NUL). */
size_t dash_base64_encode(const void *data, size_t len, char *out);
/* True if c is one of the 64 characters of the standard alphabet. */
bool dash_base64_char(char c);

#endif
