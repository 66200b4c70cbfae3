/* The one entry point every fuzz target defines, as libFuzzer calls it.
 * Built with -fsanitize=fuzzer it is driven by libFuzzer (tools/fuzz.sh);
 * otherwise replay_main.c runs it over the target's corpus, so every input
 * in tests/fuzz/corpus/ (seeds and past crashes) is a regression test. */
#ifndef QTR_FUZZ_H
#define QTR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed property check: print what and abort, so libFuzzer keeps the
 * input and the replay test fails. */
#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz check failed: %s (%s:%d): ", #cond, __FILE__, \
                    __LINE__);                                                 \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
