/* The bounds the config loader's Lua sandbox runs a config file under, and a
 * load with other bounds. The server always loads with qh_config_limits_server
 * (config.c); tighter bounds are for the fuzz target (tests/fuzz/fuzz_config.c),
 * which would otherwise spend up to 2 s on every mutant of a hostile seed and
 * checks the same thing either way: loading ends with a config or one error. */
#ifndef QH_CORE_CONFIG_LIMITS_H
#define QH_CORE_CONFIG_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef struct qh_config_limits {
    size_t mem_bytes;        /* live Lua memory */
    uint64_t instructions;   /* per call */
    int64_t time_ms;         /* per call, wall clock */
    size_t alloc_bytes;      /* allocated in one call, freed or not */
} qh_config_limits;

extern const qh_config_limits qh_config_limits_server;

/* qh_config_load_string under the given bounds. */
int qh_config_load_string_limited(const char *text, const char *name, const char *dir, const qh_config_limits *lim,
                                  qh_config *out, char *err, size_t errlen);

#endif
