/* cmd_ess.c — `qtr ess status | trip --reason TEXT | reset --reason TEXT
 * [--force]`: the Emergency Stop System of a running server, through its
 * REST API. Mutations send the bearer token from $QTR_API_TOKEN. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_client.h"
#include "cli/usage.h"

/* The server's error text, if its answer is {"error": "..."}. */
static const char *error_text(const char *body, char *buf, size_t cap)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    snprintf(buf, cap, "%s", e ? e : (body ? body : ""));
    json_decref(j);
    return buf;
}

int qh_cmd_ess(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "qtr ess: a command is needed: status, trip or reset (see qtr ess --help)\n");
        return 2;
    }
    const char *action = argv[0], *reason = NULL, *url = NULL, *user = NULL;
    if (qh_usage_is_help(action)) return qh_usage_help("ess");
    bool status = strcmp(action, "status") == 0, trip = strcmp(action, "trip") == 0, reset = strcmp(action, "reset") == 0;
    if (!status && !trip && !reset) return qh_usage_unknown_command("ess", action);
    const char *name = status ? "ess status" : trip ? "ess trip" : "ess reset";
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char **value = NULL;
        if (qh_usage_is_help(argv[i])) return qh_usage_help(name);
        if (strcmp(argv[i], "--url") == 0) value = &url;
        else if (!status && strcmp(argv[i], "--reason") == 0) value = &reason;
        else if (!status && strcmp(argv[i], "--user") == 0) value = &user;
        else if (reset && strcmp(argv[i], "--force") == 0) force = true;
        else return qh_usage_unknown_option(name, argv[i]);
        if (value && !qh_usage_value_once(argc, argv, &i, name, value)) return 2;
    }
    if ((trip || reset) && (!reason || !*reason)) {
        fprintf(stderr, "qtr ess %s: --reason TEXT is required\n", action);
        return 2;
    }
    if (!user) user = getenv("USER") ? getenv("USER") : "operator";
    char base[QH_HTTP_BASE_MAX];
    if (qh_http_base_url(url, name, base, sizeof base) != 0) return 2;
    qh_http_req r = { 0 };
    snprintf(r.url, sizeof r.url, "%s/api/ess%s", base, status ? "" : trip ? "/trip" : "/reset");
    r.timeout_ms = 10000;
    char *body = NULL;
    if (!status) {
        json_t *j = json_pack("{s:s, s:s, s:b}", "reason", reason, "user", user, "force", force);
        body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        r.method = "POST";
        r.body = body;
        r.bearer = getenv("QTR_API_TOKEN");
    }
    qh_http_run(&r, 1);
    free(body);
    char err[512];
    int rc;
    if (r.status == 0) {
        fprintf(stderr, "qtr ess: %s: %s\n", r.url, r.error);
        rc = 2;
    } else if (r.status >= 200 && r.status < 300) {
        printf("%s\n", r.response ? r.response : "");
        rc = 0;
    } else if (r.status >= 500) {
        fprintf(stderr, "qtr ess: server error %ld: %s\n", r.status, error_text(r.response, err, sizeof err));
        rc = 2;
    } else {
        fprintf(stderr, "qtr ess %s refused (%ld): %s\n", action, r.status, error_text(r.response, err, sizeof err));
        if (r.status == 401 && !getenv("QTR_API_TOKEN")) fprintf(stderr, "qtr ess: set QTR_API_TOKEN\n");
        rc = 1;
    }
    qh_http_free(&r);
    return rc;
}
