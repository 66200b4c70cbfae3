/* cmd_version.c — `qtr version`. */
#include "cli/cli.h"
#include "cli/usage.h"

#include <stdio.h>

#include <qtr/plugin.h>

int qh_cmd_version(int argc, char **argv)
{
    if (argc > 0) return qh_usage_is_help(argv[0]) ? qh_usage_help("version") : qh_usage_unknown_option("version", argv[0]);
    printf("qtr %s (plugin ABI %d.%d)\n", QTR_VERSION, QTR_ABI_MAJOR, QTR_ABI_MINOR);
    return 0;
}
