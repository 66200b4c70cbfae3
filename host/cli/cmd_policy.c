/* cmd_policy.c — `qtr policy check FILE…`: the server's compile and
 * validation, offline. */
#include "cli/cli.h"
#include "cli/usage.h"

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

int qh_cmd_policy(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "qtr policy: a command is needed: check FILE... (see qtr policy --help)\n");
        return 2;
    }
    if (qh_usage_is_help(argv[0])) return qh_usage_help("policy");
    if (strcmp(argv[0], "check") != 0) return qh_usage_unknown_command("policy", argv[0]);
    for (int i = 1; i < argc; i++)
        if (qh_usage_is_help(argv[i])) return qh_usage_help("policy check");
    if (argc < 2) {
        fprintf(stderr, "qtr policy check: no FILE given (see qtr policy check --help)\n");
        return 2;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        char err[1024];
        if (qh_policy_check_file(argv[i], err, sizeof err) == 0) {
            printf("%s: valid\n", argv[i]);
        } else {
            fprintf(stderr, "%s\n", err);   /* errors on stderr, as every other command's */
            bad++;
        }
    }
    return bad ? 2 : 0;
}
