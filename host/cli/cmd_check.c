/* cmd_check.c — `qtr check [--url URL]`: the operator's sanity check. Eight
 * checks against a running server, from four API calls made in parallel,
 * each OK / DEGRADED / CRITICAL with a one-line reason, within 30 s.
 * Exit 0 all OK, 1 any DEGRADED, 2 any CRITICAL or unreachable. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <qtr/events.h>

#include "cli/http_client.h"
#include "cli/usage.h"

typedef struct check {
    const char *name;
    qtr_health_status status;
    char reason[200];
} check;

static void set(check *c, qtr_health_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set(check *c, qtr_health_status st, const char *fmt, ...)
{
    c->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

static qtr_health_status parse_status(const char *s)
{
    if (s && strcmp(s, "OK") == 0) return QTR_HEALTH_OK;
    if (s && strcmp(s, "DEGRADED") == 0) return QTR_HEALTH_DEGRADED;
    return QTR_HEALTH_CRITICAL;
}

/* Check one component of /health/all by name. */
static void from_component(check *c, json_t *components, const char *name, const char *kind,
                           const char *missing_reason, qtr_health_status missing_status)
{
    json_t *comp = json_object_get(components, name);
    if (!comp && kind) {   /* listed under <kind>_<name> when the name clashes with a host component */
        char alt[96];
        snprintf(alt, sizeof alt, "%s_%s", kind, name);
        comp = json_object_get(components, alt);
    }
    if (!comp) {
        set(c, missing_status, "%s", missing_reason);
        return;
    }
    const char *reason = json_string_value(json_object_get(comp, "reason"));
    set(c, parse_status(json_string_value(json_object_get(comp, "status"))), "%s: %s", name,
        reason && *reason ? reason : "no complaint");
}

/* The exchange plugin's name from /api/plugins (a list, or {"plugins": list}). */
static const char *exchange_name(json_t *plugins)
{
    json_t *list = json_is_array(plugins) ? plugins : json_object_get(plugins, "plugins");
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        const char *kind = json_string_value(json_object_get(p, "kind"));
        if (kind && strcmp(kind, "exchange") == 0) return json_string_value(json_object_get(p, "name"));
    }
    return NULL;
}

int qh_cmd_check(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("check");
        if (strcmp(argv[i], "--url") == 0) {
            if (!qh_usage_value_once(argc, argv, &i, "check", &url)) return 2;
        } else {
            return qh_usage_unknown_option("check", argv[i]);
        }
    }
    char base[QH_HTTP_BASE_MAX];
    if (qh_http_base_url(url, "check", base, sizeof base) != 0) return 2;
    static const char *const paths[] = { "/api/status", "/health/all", "/api/ess", "/api/plugins" };
    qh_http_req req[4];
    memset(req, 0, sizeof req);
    for (int i = 0; i < 4; i++) {
        snprintf(req[i].url, sizeof req[i].url, "%s%s", base, paths[i]);
        req[i].timeout_ms = 10000;   /* all in parallel: well inside the 30 s budget */
    }
    qh_http_run(req, 4);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t local_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;

    check c[8] = { { "reachable", 0, "" }, { "health", 0, "" }, { "ess", 0, "" }, { "policy", 0, "" },
                   { "exchange", 0, "" }, { "store", 0, "" }, { "loop_lag", 0, "" }, { "clock_skew", 0, "" } };
    json_t *status = NULL, *health = NULL, *ess = NULL, *plugins = NULL;
    if (req[0].status == 200) {
        set(&c[0], QTR_HEALTH_OK, "%s answered in %lld ms", base, (long long)req[0].elapsed_ms);
        status = json_loads(req[0].response ? req[0].response : "", 0, NULL);
    } else if (req[0].status) {
        set(&c[0], QTR_HEALTH_CRITICAL, "GET /api/status answered %ld", req[0].status);
    } else {
        set(&c[0], QTR_HEALTH_CRITICAL, "%s: %s", base, req[0].error);
    }
    if (req[1].status == 200) health = json_loads(req[1].response ? req[1].response : "", 0, NULL);
    if (req[2].status == 200) ess = json_loads(req[2].response ? req[2].response : "", 0, NULL);
    if (req[3].status == 200) plugins = json_loads(req[3].response ? req[3].response : "", 0, NULL);
    json_t *components = json_object_get(health, "components");

    if (!health || !components) {
        set(&c[1], QTR_HEALTH_CRITICAL, "GET /health/all failed (%ld%s%s)", req[1].status, req[1].error[0] ? " " : "",
            req[1].error);
    } else {
        const char *overall = json_string_value(json_object_get(health, "status"));
        qtr_health_status st = parse_status(overall);
        char worst[160] = "all components OK";
        const char *k;
        json_t *v;
        json_object_foreach(components, k, v) {
            if (parse_status(json_string_value(json_object_get(v, "status"))) == st && st != QTR_HEALTH_OK) {
                const char *r = json_string_value(json_object_get(v, "reason"));
                snprintf(worst, sizeof worst, "%s: %s", k, r ? r : "");
                break;
            }
        }
        set(&c[1], st, "%s (%s)", overall ? overall : "?", worst);
    }

    const char *state = json_string_value(json_object_get(ess, "state"));
    if (!state)
        set(&c[2], QTR_HEALTH_CRITICAL, "GET /api/ess failed (%ld%s%s)", req[2].status, req[2].error[0] ? " " : "",
            req[2].error);
    else if (strcmp(state, "ARMED") == 0) set(&c[2], QTR_HEALTH_OK, "ARMED");
    else {
        const char *why = json_string_value(json_object_get(ess, "trip_reason"));
        set(&c[2], QTR_HEALTH_CRITICAL, "%s: %s", state, why ? why : "");
    }

    if (components) {
        from_component(&c[3], components, "policy", NULL, "no policy component reported", QTR_HEALTH_CRITICAL);
        const char *ex = exchange_name(plugins);
        if (ex) from_component(&c[4], components, ex, "exchange", "the exchange plugin reports no health", QTR_HEALTH_CRITICAL);
        /* a strategy or observer host of the Redis bus runs without one (the
         * host refuses to start any other way): its orders go over the bus */
        else if (json_object_get(components, "bus_redis"))
            from_component(&c[4], components, "bus_redis", NULL, "the bus reports no health", QTR_HEALTH_CRITICAL);
        else set(&c[4], QTR_HEALTH_CRITICAL, "no exchange plugin listed by /api/plugins");
        from_component(&c[5], components, "store", NULL, "no trade store: nothing is persisted", QTR_HEALTH_DEGRADED);
        from_component(&c[6], components, "loop", NULL, "no loop component reported", QTR_HEALTH_DEGRADED);
    } else {
        for (int i = 3; i <= 6; i++) set(&c[i], QTR_HEALTH_CRITICAL, "health unavailable");
    }

    /* the server's trading clock against ours, allowing for half the round trip */
    json_t *tms = json_object_get(status, "time_ms");
    if (!json_is_integer(tms)) {
        set(&c[7], QTR_HEALTH_CRITICAL, "no server time in /api/status");
    } else {
        long long skew = (long long)(json_integer_value(tms) - (local_ms - req[0].elapsed_ms / 2));
        long long a = skew < 0 ? -skew : skew;
        set(&c[7], a > 30000 ? QTR_HEALTH_CRITICAL : a > 2000 ? QTR_HEALTH_DEGRADED : QTR_HEALTH_OK,
            "server clock %+lld ms from this host", skew);
    }

    int worst = 0;
    for (int i = 0; i < 8; i++) {
        printf("%-9s %-11s %s\n", qtr_health_status_name(c[i].status), c[i].name, c[i].reason);
        if ((int)c[i].status > worst) worst = (int)c[i].status;
    }
    json_decref(status);
    json_decref(health);
    json_decref(ess);
    json_decref(plugins);
    for (int i = 0; i < 4; i++) qh_http_free(&req[i]);
    return worst;
}
