/* ws_handshake.c — see ws_handshake.h. */
#include "ws_handshake.h"

#include "sha1.h"

#include <string.h>
#include <strings.h>

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN])
{
    size_t klen = strlen(client_key);
    if (klen > 64) return false;
    char buf[64 + sizeof WS_GUID];
    memcpy(buf, client_key, klen);
    memcpy(buf + klen, WS_GUID, sizeof WS_GUID - 1);
    uint8_t digest[DASH_SHA1_LEN];
    dash_sha1(buf, klen + sizeof WS_GUID - 1, digest);
    return dash_base64_encode(digest, sizeof digest, out) == WS_ACCEPT_LEN - 1;
}

/* The key must be base64 of 16 bytes: 22 characters and "==". */
static bool key_valid(const char *key)
{
    if (strlen(key) != 24 || strcmp(key + 22, "==") != 0) return false;
    for (int i = 0; i < 22; i++)
        if (!dash_base64_char(key[i])) return false;
    return true;
}

int ws_check_upgrade(const http_request *req, const host_allow *allowed, const char **why)
{
    const char *upgrade = http_header_get(req, "Upgrade");
    const char *connection = http_header_get(req, "Connection");
    const char *key = http_header_get(req, "Sec-WebSocket-Key");
    const char *version = http_header_get(req, "Sec-WebSocket-Version");
    if (strcmp(req->method, "GET") != 0 || req->minor_version < 1) { *why = "WebSocket needs GET over HTTP/1.1"; return 400; }
    if (!upgrade || !http_header_has_token(upgrade, "websocket")) { *why = "missing Upgrade: websocket"; return 400; }
    if (!connection || !http_header_has_token(connection, "upgrade")) { *why = "missing Connection: Upgrade"; return 400; }
    if (!version || strcmp(version, "13") != 0) { *why = "unsupported Sec-WebSocket-Version (13 only)"; return 426; }
    if (!key || !key_valid(key)) { *why = "bad Sec-WebSocket-Key"; return 400; }
    if (!ws_origin_allowed(http_header_get(req, "Origin"), http_header_get(req, "Host"), allowed)) {
        *why = "cross-origin WebSocket refused";
        return 403;
    }
    return 0;
}

bool ws_origin_allowed(const char *origin, const char *host, const host_allow *allowed)
{
    if (!origin) return true;
    if (!host) return false;
    const char *sep = strstr(origin, "://");
    if (!sep) return false;
    const char *authority = sep + 3;
    size_t alen = strcspn(authority, "/");
    return alen == strlen(host) && strncasecmp(authority, host, alen) == 0 &&
           host_allow_has(allowed, authority, alen);
}
