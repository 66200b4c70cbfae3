/* cmd_policy.c — `qtr policy check FILE…`: the server's compile and
 * validation, offline. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

int qh_cmd_policy(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "check") != 0) {
        fprintf(stderr, "usage: qtr policy check FILE...\n");
        return 2;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        char err[1024];
        if (qh_policy_check_file(argv[i], err, sizeof err) == 0) {
            printf("%s: valid\n", argv[i]);
        } else {
            printf("%s\n", err);
            bad++;
        }
    }
    return bad ? 2 : 0;
}
