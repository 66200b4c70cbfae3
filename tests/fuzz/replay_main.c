/* Runs a fuzz target over files and folders given on the command line (each
 * file once, folders one level deep), as the regression test of its corpus.
 * Exit 0 when every input ran; 2 when an argument cannot be read or no input
 * was found (an empty corpus would make the test prove nothing). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Inputs larger than this are refused: the corpus holds small files. */
#define REPLAY_MAX_INPUT (4u << 20)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: cannot open\n", path);
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX_INPUT + 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
    fclose(f);
    if (n > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: larger than %u bytes\n", path, REPLAY_MAX_INPUT);
        free(buf);
        return -1;
    }
    /* an exact-size copy, so ASan sees any read past the input's end */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    size_t ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: not found\n", argv[i]);
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) != 0) return 2;
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: %s: cannot open folder\n", argv[i]);
            return 2;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            if (run_file(path) != 0) {
                closedir(d);
                return 2;
            }
            ran++;
        }
        closedir(d);
    }
    if (ran == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 2;
    }
    printf("replay: %zu inputs ran\n", ran);
    return 0;
}
