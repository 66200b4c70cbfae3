/* cmd_reconcile.c — `qtr reconcile [--ack --reason TEXT]`: the start-up
 * reconciliation of a running server with its exchange, through its REST
 * API. Without --ack it shows the state and the position differences;
 * --ack lets new entries through again after a difference that could not be
 * explained (sends the bearer token from $QTR_API_TOKEN, like `qtr ess`). */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_client.h"
#include "cli/usage.h"

/* The reconcile object as lines an operator reads; true if entries wait. */
static bool print_reconcile(const json_t *r)
{
    if (!json_is_object(r)) {
        printf("state: unknown (this server does not report reconciliation)\n");
        return false;
    }
    const char *state = json_string_value(json_object_get(r, "state"));
    const char *detail = json_string_value(json_object_get(r, "detail"));
    const char *user = json_string_value(json_object_get(r, "ack_user"));
    const char *why = json_string_value(json_object_get(r, "ack_reason"));
    bool blocked = json_is_true(json_object_get(r, "entries_blocked"));
    printf("state: %s\n", state ? state : "?");
    printf("new entries: %s\n", blocked ? "refused until acknowledged" : "allowed");
    printf("differences: %lld\n", (long long)json_integer_value(json_object_get(r, "differences")));
    if (detail && *detail) {
        for (const char *s = detail; *s;) {
            size_t n = strcspn(s, "\n");
            printf("  %.*s\n", (int)n, s);
            s += n + (s[n] == '\n');
        }
    }
    if (user && *user) printf("acknowledged by %s: %s\n", user, why ? why : "");
    return blocked;
}

int qh_cmd_reconcile(int argc, char **argv)
{
    const char *reason = NULL, *url = NULL, *user = NULL;
    bool ack = false;
    for (int i = 0; i < argc; i++) {
        const char **value = NULL;
        if (qh_usage_is_help(argv[i])) return qh_usage_help("reconcile");
        if (strcmp(argv[i], "--url") == 0) value = &url;
        else if (strcmp(argv[i], "--ack") == 0) ack = true;
        else if (strcmp(argv[i], "--reason") == 0) value = &reason;
        else if (strcmp(argv[i], "--user") == 0) value = &user;
        else return qh_usage_unknown_option("reconcile", argv[i]);
        if (value && !qh_usage_value_once(argc, argv, &i, "reconcile", value)) return 2;
    }
    if (!ack && (reason || user)) {
        fprintf(stderr, "qtr reconcile: --reason and --user go with --ack\n");
        return 2;
    }
    if (ack && (!reason || !*reason)) {
        fprintf(stderr, "qtr reconcile --ack: --reason TEXT is required\n");
        return 2;
    }
    if (!user) user = getenv("USER") ? getenv("USER") : "operator";
    char base[QH_HTTP_BASE_MAX];
    if (qh_http_base_url(url, "reconcile", base, sizeof base) != 0) return 2;
    qh_http_req r = { 0 };
    snprintf(r.url, sizeof r.url, "%s%s", base, ack ? "/api/reconcile/ack" : "/api/status");
    r.timeout_ms = 10000;
    char *body = NULL;
    if (ack) {
        json_t *j = json_pack("{s:s, s:s}", "reason", reason, "user", user);
        body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        r.method = "POST";
        r.body = body;
        r.bearer = getenv("QTR_API_TOKEN");
    }
    qh_http_run(&r, 1);
    free(body);
    json_t *j = r.response ? json_loads(r.response, 0, NULL) : NULL;
    const char *error = j ? json_string_value(json_object_get(j, "error")) : NULL;
    int rc;
    if (r.status == 0) {
        fprintf(stderr, "qtr reconcile: %s: %s\n", r.url, r.error);
        rc = 2;
    } else if (r.status >= 200 && r.status < 300 && j) {
        bool blocked = print_reconcile(json_object_get(j, "reconcile"));
        rc = ack ? 0 : blocked ? 1 : 0;
    } else if (r.status >= 500 || !j) {
        fprintf(stderr, "qtr reconcile: server error %ld: %s\n", r.status,
                error ? error : r.response ? r.response : "unreadable answer");
        rc = 2;
    } else {
        fprintf(stderr, "qtr reconcile --ack refused (%ld): %s\n", r.status, error ? error : "");
        if (r.status == 401 && !getenv("QTR_API_TOKEN")) fprintf(stderr, "qtr reconcile: set QTR_API_TOKEN\n");
        rc = 1;
    }
    json_decref(j);
    qh_http_free(&r);
    return rc;
}
