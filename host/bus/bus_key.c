/* bus_key.c — see bus_key.h. */
#include "bus/bus_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qh_bus_key_open(const qh_bus_config *cfg, qc_hmac **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->key_env[0]) return 0;
    const char *key = getenv(cfg->key_env);
    size_t n = key ? strlen(key) : 0;
    if (!key) {
        snprintf(err, errlen, "bus.key_env: %s is not set (the hosts' shared key, e.g. openssl rand -hex 32)",
                 cfg->key_env);
        return -1;
    }
    if (n < QH_BUS_KEY_MIN_BYTES || n > QH_BUS_KEY_MAX_BYTES) {
        snprintf(err, errlen, "bus.key_env: %s holds %zu bytes; the key needs %d to %d (e.g. openssl rand -hex 32)",
                 cfg->key_env, n, QH_BUS_KEY_MIN_BYTES, QH_BUS_KEY_MAX_BYTES);
        return -1;
    }
    if (!(*out = qc_hmac_new(key, n))) {
        snprintf(err, errlen, "bus.key_env: OpenSSL could not make an HMAC-SHA256 context");
        return -1;
    }
    return 0;
}
