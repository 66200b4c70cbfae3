/* policy_check.c — `qtr policy check FILE`: the server's own compile,
 * validation and self-test, without swapping anything in. */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <stdlib.h>

int qh_policy_check_file(const char *path, char *err, size_t errlen)
{
    if (errlen) err[0] = '\0';
    if (!path || !path[0]) {
        snprintf(err, errlen, "policy check: no file given");
        return -1;
    }
    char *buf;
    size_t len;
    if (qh_policy_read_file(path, &buf, &len, err, errlen) != 0) return -1;
    qh_policy_rules limits;
    qh_compiled_policy *cp = qh_policy_compile(NULL, path, buf, len, &limits, err, errlen);
    free(buf);
    if (!cp) return -1;
    qh_compiled_policy_free(cp);
    return 0;
}
