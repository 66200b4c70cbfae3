/* policy_file.c — reading a policy file and its SHA-256. */
#include "policy/policy_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_read.h"
#include "core/sha256.h"

int qh_policy_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    size_t n = 0;
    char *data = qh_file_read_whole(path, "policy", QH_POLICY_MAX_FILE, &n, err, errlen);
    if (!data) return -1;
    *buf = data;
    *len = n;
    return 0;
}

void qh_policy_sha256_hex(const char *buf, size_t len, char hex[65]) { qh_sha256_hex(buf, len, hex); }
