/* bus_key.c — see bus_key.h. */
#include "bus/bus_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key in the variable `var` that the setting `setting` names ("" none). */
static int open_env_key(const char *setting, const char *var, qc_hmac **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!var[0]) return 0;
    const char *key = getenv(var);
    size_t n = key ? strlen(key) : 0;
    if (!key) {
        snprintf(err, errlen, "%s: %s is not set (the hosts' shared key, e.g. openssl rand -hex 32)", setting, var);
        return -1;
    }
    if (n < QH_BUS_KEY_MIN_BYTES || n > QH_BUS_KEY_MAX_BYTES) {
        snprintf(err, errlen, "%s: %s holds %zu bytes; the key needs %d to %d (e.g. openssl rand -hex 32)", setting,
                 var, n, QH_BUS_KEY_MIN_BYTES, QH_BUS_KEY_MAX_BYTES);
        return -1;
    }
    if (!(*out = qc_hmac_new(key, n))) {
        snprintf(err, errlen, "%s: OpenSSL could not make an HMAC-SHA256 context", setting);
        return -1;
    }
    return 0;
}

int qh_bus_key_open(const qh_bus_config *cfg, qc_hmac **out, char *err, size_t errlen)
{
    return open_env_key("bus.key_env", cfg->key_env, out, err, errlen);
}

int qh_bus_keys_open(const qh_bus_config *cfg, qc_hmac **key, qc_hmac **accept, char *err, size_t errlen)
{
    *accept = NULL;
    if (qh_bus_key_open(cfg, key, err, errlen) != 0) return -1;
    if (open_env_key("bus.accept_key_env", cfg->accept_key_env, accept, err, errlen) != 0) {
        qc_hmac_free(*key);
        *key = NULL;
        return -1;
    }
    return 0;
}
