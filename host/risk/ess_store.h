/*
 * Persistence of the Emergency Stop System's state: one small line-based
 * key=value file, written atomically (temporary file in the same directory,
 * fsync, rename, fsync of the directory) so a crash leaves either the old or
 * the new state, never half of one.
 */
#ifndef QH_ESS_STORE_H
#define QH_ESS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

#define QH_ESS_STORE_VERSION 1

typedef struct qh_ess_saved {
    qtr_ess_state state;
    char trip_reason[QTR_REASON_MAX];
    int64_t tripped_at_ms;
    int64_t cooldown_until_ms;
    uint32_t trips, resets;
    int32_t consecutive_errors;
    char last_user[QTR_NAME_MAX];
} qh_ess_saved;

/* Write *s to path atomically. 0, or -1 with "path: reason" in err. */
int qh_ess_store_save(const char *path, const qh_ess_saved *s, char *err, size_t errlen);

/* Read path into *s. 0 with *found = true; 0 with *found = false if the file
 * does not exist; -1 with "path[:line]: reason" in err if it exists but cannot
 * be read or is malformed (never a guessed state). */
int qh_ess_store_load(const char *path, qh_ess_saved *s, bool *found, char *err, size_t errlen);

#endif
