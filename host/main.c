/* qtr — the Quantum Trader server and its tools, one binary. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/usage.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    { "run", qh_cmd_run },         { "backtest", qh_cmd_backtest },    { "check", qh_cmd_check },
    { "policy", qh_cmd_policy },   { "ess", qh_cmd_ess },              { "backup", qh_cmd_backup },
    { "export-trades", qh_cmd_export }, { "plugins", qh_cmd_plugins }, { "version", qh_cmd_version },
    { "indicators", qh_cmd_indicators }, { "reconcile", qh_cmd_reconcile }, { "bus", qh_cmd_bus },
    { "symbols", qh_cmd_symbols },
};

/* `qtr help [COMMAND [SUBCOMMAND]]` */
static int help(int argc, char **argv)
{
    if (argc == 0) {
        qh_usage_print_all(stdout);
        return 0;
    }
    if (qh_usage_is_help(argv[0])) return qh_usage_help("help");
    if (argc > 2) return qh_usage_unknown_option("help", argv[2]);
    char name[128];
    snprintf(name, sizeof name, "%s%s%s", argv[0], argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
    return qh_usage_help(name);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        qh_usage_print_all(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0) return help(argc - 2, argv + 2);
    if (qh_usage_is_help(cmd)) {
        qh_usage_print_all(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) return qh_cmd_version(0, argv + 2);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    return qh_usage_unknown_command("", cmd);
}

int main(int argc, char **argv)
{
    /* Before anything opens a file: a standard descriptor left closed
     * (`qtr ... >&-`) would be the next file's number, and what is meant
     * for stdout or stderr would be written into a report or a store copy. */
    if (qh_cli_std_fds_open() != 0) {
        fprintf(stderr, "qtr: standard input, output or error is closed and /dev/null cannot be opened in its place\n");
        return 1;
    }
    return qh_cli_finish_stdout(dispatch(argc, argv));
}
