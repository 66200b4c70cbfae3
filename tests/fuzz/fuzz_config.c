/* Fuzz target: the server config loader (host/core/config.c), the Lua text
 * of a config file. Whatever the text, loading ends (the sandbox bounds time
 * and memory) with a config or with one error line that starts with the
 * file's name, and the config frees cleanly.
 *
 * Under the policy target's tight bounds instead of the server's (10 M
 * instructions, 2 s, 64 MiB live, 512 MiB allocated a call): mutants of the
 * seed corpus's memory bomb ran to the server's bounds, up to 2 s each, and
 * held the target at ~90 execs/s on the shared machine. The same code stops
 * them (the sandbox's limits, refused with one line), only sooner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_limits.h"
#include "fuzz.h"

static const qh_config_limits fuzz_limits = { .mem_bytes = 8u << 20, .instructions = 200000, .time_ms = 50,
                                               .alloc_bytes = 8u << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qh_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[1024] = "";
    int rc = qh_config_load_string_limited(text, "fuzz.lua", "/nonexistent-qtr-fuzz", &fuzz_limits, &cfg, err,
                                           sizeof err);
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
