/* Fuzz target: the server config loader (host/core/config.c), the Lua text
 * of a config file. Whatever the text, loading ends (the sandbox bounds time
 * and memory) with a config or with one error line that starts with the
 * file's name, and the config frees cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qh_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[1024] = "";
    int rc = qh_config_load_string(text, "fuzz.lua", "/nonexistent-qtr-fuzz", &cfg, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0', "refused without a message");
        FUZZ_CHECK(strstr(err, "fuzz.lua") != NULL, "error does not name the file: '%s'", err);
        FUZZ_CHECK(strchr(err, '\n') == NULL, "error is more than one line: '%s'", err);
    }
    qh_config_free(&cfg);
    free(text);
    return 0;
}
