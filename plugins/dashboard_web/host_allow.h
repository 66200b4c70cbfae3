/* host_allow — the names the server answers to in a request's Host header:
 * the defence against DNS rebinding. A web site that points its own name at
 * 127.0.0.1 makes the operator's browser send "Host: its.name", which is not
 * on the list, so it cannot read the API or the live feed. */
#ifndef DASH_HOST_ALLOW_H
#define DASH_HOST_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#define HOST_ALLOW_MAX 24              /* the loopback names, the listen address, allowed_hosts (16) */
#define HOST_ALLOW_NAME_CAP 256

typedef struct host_allow {
    char names[HOST_ALLOW_MAX][HOST_ALLOW_NAME_CAP];   /* no port; IPv6 in brackets */
    size_t n;
} host_allow;

/* The loopback names only: localhost, 127.0.0.1, [::1]. */
void host_allow_init(host_allow *a);
/* One more name (a host without a port: "dash.lan", "192.168.1.5",
 * "[fd00::5]"). False if it is not one or the list is full. */
bool host_allow_add(host_allow *a, const char *name);
/* True if hostport[0..len) is an allowed name with or without ":port"
 * (compared case-insensitively; any port: only the name says whose page it is). */
bool host_allow_has(const host_allow *a, const char *hostport, size_t len);

#endif
