/* bus_key.h — the key of signed envelopes (event_codec.h): the bytes of
 * the environment variable `bus.key_env` names, at least
 * QH_BUS_KEY_MIN_BYTES, the same on every host of the bus (docs/bus.md,
 * "Signed entries"). The mirror and each consumer open their own. While
 * the key is changed, `bus.accept_key_env` names a second one that
 * consumers take entries with too, and nothing is signed with (docs/bus.md,
 * "Changing the key"). */
#ifndef QH_BUS_KEY_H
#define QH_BUS_KEY_H

#include <stddef.h>

#include "bus/bus_config.h"
#include "qc/hmac.h"

#define QH_BUS_KEY_MIN_BYTES 32
#define QH_BUS_KEY_MAX_BYTES 4096

/* 0 with *out the keyed MAC, or NULL when cfg names no key_env (entries
 * unsigned); -1 with one line in err: the variable unset, too short or too
 * long, or OpenSSL failing. */
int qh_bus_key_open(const qh_bus_config *cfg, qc_hmac **out, char *err, size_t errlen);
/* Both keys a consumer takes entries with: bus.key_env's as above, and
 * bus.accept_key_env's (*accept NULL when it names none). 0, or -1 with one
 * line in err and neither open. */
int qh_bus_keys_open(const qh_bus_config *cfg, qc_hmac **key, qc_hmac **accept, char *err, size_t errlen);

#endif
