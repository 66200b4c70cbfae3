/* policy_file.c — reading a policy file and its SHA-256. */
#include "policy/policy_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

int qh_policy_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* One byte more than allowed tells a too-large file from a full one. */
    char *data = malloc(QH_POLICY_MAX_FILE + 1);
    if (!data) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory reading the file", path);
        return -1;
    }
    size_t n = fread(data, 1, QH_POLICY_MAX_FILE + 1, f);
    int read_error = ferror(f);
    int saved = errno;
    fclose(f);
    if (read_error) {
        free(data);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(saved));
        return -1;
    }
    if (n > QH_POLICY_MAX_FILE) {
        free(data);
        snprintf(err, errlen, "%s: larger than %zu bytes; a policy is a short Lua file", path, QH_POLICY_MAX_FILE);
        return -1;
    }
    *buf = data;
    *len = n;
    return 0;
}

void qh_policy_sha256_hex(const char *buf, size_t len, char hex[65]) { qh_sha256_hex(buf, len, hex); }
