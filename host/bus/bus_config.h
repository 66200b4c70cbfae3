/*
 * The `host_id`, `role` and `bus` settings of the server config
 * (docs/config.md, docs/bus.md):
 *
 *   host_id = "exec-1", role = "execution",
 *   bus = { redis = { url = "redis://127.0.0.1:6379/0", password_env = "QTR_REDIS_PASSWORD",
 *                     stream_prefix = "qtr", maxlen = 100000, batch_max = 512, flush_ms = 5 },
 *           mirror = { "candle", "fill", ... }, consume = { "signal" },
 *           group = "execution", claim_idle_ms = 30000, key_env = "QTR_BUS_KEY",
 *           buffer = { path = "<state_dir>/bus.buf", max_events = 10000, fsync_ms = 50 } }
 *
 * Declared here (each key's type, default, range or allowed values) and
 * hooked into core/config.c with one call. Without `bus` nothing changes:
 * role "all", no Redis.
 */
#ifndef QH_BUS_CONFIG_H
#define QH_BUS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/config_table.h"

typedef enum qh_bus_role {
    QH_ROLE_ALL = 0,       /* one host does everything (the default) */
    QH_ROLE_STRATEGY,      /* strategies only: market data in, signals out */
    QH_ROLE_EXECUTION,     /* exchange, risk, ESS: signals in, order flow out */
    QH_ROLE_OBSERVER       /* dashboard and store of a read-only replica */
} qh_bus_role;

typedef struct qh_bus_config {
    bool enabled;                 /* a `bus` section is there */
    char host_id[33];
    qh_bus_role role;
    struct {
        char url[256];
        char host[128];           /* from the url */
        int port, db;
        char password_env[64];
        char stream_prefix[33];
        int64_t maxlen;
        int64_t batch_max, flush_ms;
    } redis;
    uint64_t mirror, consume;     /* bit (1 << qtr_event_type) */
    char group[33];
    int64_t claim_idle_ms;
    char key_env[64];             /* "": entries unsigned (bus/bus_key.h) */
    char accept_key_env[64];      /* "": none; else a second key entries are taken with (changing the key) */
    struct {
        char path[512];           /* "" or "<state_dir>/...": under state_dir */
        int64_t max_events, fsync_ms;
    } buffer;
} qh_bus_config;

/* where: "bus.redis.url", "bus.mirror[2]"; why: as every config section's. */
typedef qh_conf_error qh_bus_config_error;

/* host_id, role and bus as declared tables (core/config_table.h), read from
 * the top level of the config (whose own section refuses its other unknown
 * keys); bus.redis and bus.buffer are tables inside it. Exposed for tests. */
extern const qh_conf_section qh_section_bus_top;

/* Reads host_id, role and bus from the config table at idx of L: the
 * tables above, then the rules across keys (the url's shape, host_id's
 * characters, a type both mirrored and consumed, a role without a bus).
 * 0, or -1 with *e filled. Nothing is read from metatables; call it in
 * protected mode (a Lua error is the caller's). */
int qh_bus_config_parse(lua_State *L, int idx, qh_bus_config *out, qh_bus_config_error *e);

/* "redis://host[:port][/db]" -> host, port, db. 0, or -1 with why. */
int qh_bus_url_parse(const char *url, char *host, size_t hostcap, int *port, int *db, char *why, size_t whylen);

const char *qh_bus_role_name(qh_bus_role r);

#endif
