/* bn_ws_key.c — the RFC 6455 accept key (bn_ws.h); shared by the plugin's
 * client (which checks the server's answer) and the mock's server. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>

#include "bn_ws.h"

void bn_ws_accept_key(const char *client_key, char out[32])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[SHA_DIGEST_LENGTH];
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s%s", client_key, guid);
    SHA1((const unsigned char *)buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH); /* 28 characters and a NUL */
}
