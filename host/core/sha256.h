/*
 * SHA-256 (FIPS 180-4), for content hashes of policy files. Small and
 * dependency-free so the server process does not map OpenSSL just to hash
 * a file (libcrypto alone is over 3 MB of resident pages).
 */
#ifndef QH_SHA256_H
#define QH_SHA256_H

#include <stddef.h>
#include <stdint.h>

void qh_sha256(const void *data, size_t len, uint8_t out[32]);
/* Lower-case hex, 64 characters and a NUL. */
void qh_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
