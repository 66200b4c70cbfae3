/* qtr — the Quantum Trader server and its tools, one binary. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: qtr COMMAND [options]\n"
            "  run [-c FILE]                              run the server (default: paper trading, synthetic market)\n"
            "  backtest [-c FILE] --data CSV[,CSV...] [--json FILE]\n"
            "  check [--url URL]                          sanity-check a running server\n"
            "  policy check FILE...                       compile and self-test policy files\n"
            "  ess status | trip --reason TEXT | reset --reason TEXT [--force]\n"
            "  backup FILE                                online backup of the trade store\n"
            "  export-trades [-c FILE] [--out CSV]        every fill of the trade store as CSV\n"
            "  plugins [-c FILE] [-v]                     list plugins and whether this host accepts them\n"
            "  version\n"
            "common options: --log-json, --log-level debug|info|warn|error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    int n = argc - 2;
    char **rest = argv + 2;
    if (strcmp(cmd, "run") == 0) return qh_cmd_run(n, rest);
    if (strcmp(cmd, "backtest") == 0) return qh_cmd_backtest(n, rest);
    if (strcmp(cmd, "check") == 0) return qh_cmd_check(n, rest);
    if (strcmp(cmd, "policy") == 0) return qh_cmd_policy(n, rest);
    if (strcmp(cmd, "ess") == 0) return qh_cmd_ess(n, rest);
    if (strcmp(cmd, "backup") == 0) return qh_cmd_backup(n, rest);
    if (strcmp(cmd, "export-trades") == 0) return qh_cmd_export(n, rest);
    if (strcmp(cmd, "plugins") == 0) return qh_cmd_plugins(n, rest);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) return qh_cmd_version(n, rest);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) { usage(stdout); return 0; }
    fprintf(stderr, "qtr: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
