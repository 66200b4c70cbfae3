/* cmd_version.c — `qtr version`. */
#include "cli/cli.h"

#include <stdio.h>

#include <qtr/plugin.h>

int qh_cmd_version(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("qtr %s (plugin ABI %d.%d)\n", QTR_VERSION, QTR_ABI_MAJOR, QTR_ABI_MINOR);
    return 0;
}
