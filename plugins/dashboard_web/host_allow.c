/* host_allow.c — see host_allow.h. */
#include "host_allow.h"

#include <string.h>
#include <strings.h>

/* The length of the host in "host[:port]" or "[ipv6][:port]"; 0 if the
 * text is not that (a port is 1 to 5 digits). */
static size_t host_part(const char *hostport, size_t len)
{
    size_t host_len = len;
    if (len && hostport[0] == '[') {
        const char *close = memchr(hostport, ']', len);
        if (!close) return 0;
        host_len = (size_t)(close - hostport) + 1;
    } else {
        const char *colon = memchr(hostport, ':', len);
        if (colon) host_len = (size_t)(colon - hostport);
    }
    if (host_len < len) {
        size_t port_len = len - host_len - 1;
        if (hostport[host_len] != ':' || port_len < 1 || port_len > 5) return 0;
        for (size_t i = host_len + 1; i < len; i++)
            if (hostport[i] < '0' || hostport[i] > '9') return 0;
    }
    return host_len;
}

void host_allow_init(host_allow *a)
{
    a->n = 0;
    host_allow_add(a, "localhost");
    host_allow_add(a, "127.0.0.1");
    host_allow_add(a, "[::1]");
}

bool host_allow_add(host_allow *a, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= HOST_ALLOW_NAME_CAP || a->n >= HOST_ALLOW_MAX || host_part(name, n) != n) return false;
    memcpy(a->names[a->n++], name, n + 1);
    return true;
}

bool host_allow_has(const host_allow *a, const char *hostport, size_t len)
{
    size_t host_len = host_part(hostport, len);
    if (host_len == 0) return false;
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->names[i]) == host_len && strncasecmp(a->names[i], hostport, host_len) == 0) return true;
    return false;
}
