/* inputs.c — see inputs.h. */
#include "market/inputs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The same file under two names (a path, a symlink, ./x): refused rather than
 * read twice, which would count every candle twice. */
int qh_inputs_refuse_twice(const char *what, const char *const *paths, size_t n, char *err, size_t errlen)
{
    struct stat st[QH_INPUTS_MAX_FILES];
    for (size_t i = 0; i < n; i++) {
        if (stat(paths[i], &st[i]) != 0) continue;   /* the reader names the error */
        for (size_t j = 0; j < i; j++) {
            if (st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino) {
                snprintf(err, errlen, "%s %s: the same file as %s, given twice", what, paths[i], paths[j]);
                return -1;
            }
        }
    }
    return 0;
}

int qh_inputs_refuse_unmatched(const char *what, const char *const *paths, size_t n, const char *const *data,
                               size_t ndata, char *err, size_t errlen)
{
    char have[QH_INPUTS_MAX_FILES][QTR_SYMBOL_MAX];
    size_t nhave = 0;
    for (size_t k = 0; k < ndata && nhave < QH_INPUTS_MAX_FILES; k++) {
        if (!qh_symbol_from_path(data[k], have[nhave])) continue;
        bool seen = false;
        for (size_t j = 0; j < nhave && !seen; j++) seen = strcmp(have[j], have[nhave]) == 0;
        if (!seen) nhave++;
    }
    for (size_t i = 0; i < n; i++) {
        char sym[QTR_SYMBOL_MAX];
        if (!qh_symbol_from_path(paths[i], sym)) continue;
        bool matched = false;
        for (size_t j = 0; j < nhave && !matched; j++) matched = strcmp(have[j], sym) == 0;
        if (matched) continue;
        size_t at = (size_t)snprintf(err, errlen, "%s %s: symbol %s matches no --data file (the data has ", what,
                                     paths[i], sym);
        for (size_t j = 0; j < nhave && at < errlen; j++)
            at += (size_t)snprintf(err + at, errlen - at, "%s%s", j ? ", " : "", have[j]);
        if (at < errlen) snprintf(err + at, errlen - at, "%s)", nhave ? "" : "no symbol");
        return -1;
    }
    return 0;
}

/* Two files of one symbol must not share an open time. */
static int refuse_same_candle(const char *const *paths, const qh_candle_vec *a, size_t ia, const qh_candle_vec *b,
                              size_t ib, char *err, size_t errlen)
{
    size_t i = 0, j = 0;
    while (i < a->len && j < b->len) {
        int64_t ta = a->items[i].open_time_ms, tb = b->items[j].open_time_ms;
        if (ta < tb) { i++; continue; }
        if (tb < ta) { j++; continue; }
        snprintf(err, errlen, "%s candle opening at %lld is in both %s:%zu and %s:%zu", a->items[i].symbol,
                 (long long)ta, paths[ia], a->first_line + i, paths[ib], b->first_line + j);
        return -1;
    }
    return 0;
}

int qh_inputs_load_candles(const char *what, const char *const *paths, size_t n, qh_candle_vec *all, char *err,
                           size_t errlen)
{
    memset(all, 0, sizeof *all);
    if (n == 0) { snprintf(err, errlen, "%s: no file given", what); return -1; }
    if (n > QH_INPUTS_MAX_FILES) { snprintf(err, errlen, "%s: at most %d files", what, QH_INPUTS_MAX_FILES); return -1; }
    if (qh_inputs_refuse_twice(what, paths, n, err, errlen) != 0) return -1;
    qh_candle_vec *series = calloc(n, sizeof *series);
    qh_candle_vec **ptrs = calloc(n, sizeof *ptrs);
    char (*sym)[QTR_SYMBOL_MAX] = calloc(n, sizeof *sym);
    int rc = series && ptrs && sym ? 0 : -1;
    if (rc) snprintf(err, errlen, "out of memory");
    size_t loaded = 0;
    for (size_t i = 0; rc == 0 && i < n; i++, loaded++) {
        ptrs[i] = &series[i];
        if (!qh_symbol_from_path(paths[i], sym[i])) {
            snprintf(err, errlen, "%s %s: cannot tell the symbol from the file name", what, paths[i]);
            rc = -1;
        } else if (qh_csv_load(paths[i], sym[i], &series[i], err, errlen) != 0) {
            rc = -1;
        }
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (!strcmp(sym[i], sym[j])) rc = refuse_same_candle(paths, &series[j], j, &series[i], i, err, errlen);
    }
    if (rc == 0 && n == 1) {
        *all = series[0];            /* one file: already in time order, no copy */
        loaded = 0;
    } else if (rc == 0 && qh_candles_merge_consume(ptrs, n, all) != 0) {
        snprintf(err, errlen, "out of memory");
        qh_candle_vec_free(all);
        rc = -1;
    }
    for (size_t i = 0; i < loaded; i++) qh_candle_vec_free(&series[i]);
    free(series);
    free(ptrs);
    free(sym);
    return rc;
}

int qh_funding_set_load(qh_funding_set *set, const char *const *paths, size_t n, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    if (n > QH_INPUTS_MAX_FILES) { snprintf(err, errlen, "--funding: at most %d files", QH_INPUTS_MAX_FILES); return -1; }
    if (qh_inputs_refuse_twice("--funding", paths, n, err, errlen) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        char why[1024];
        if (qh_funding_load(paths[i], &set->files[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "--funding %s", why);
            qh_funding_set_free(set);
            return -1;
        }
        set->n++;
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(set->files[i].symbol, set->files[j].symbol)) {
                snprintf(err, errlen, "--funding: %s and %s are both for %s: give one file per symbol", paths[j],
                         paths[i], set->files[i].symbol);
                qh_funding_set_free(set);
                return -1;
            }
        }
    }
    return 0;
}

void qh_funding_set_free(qh_funding_set *set)
{
    for (size_t i = 0; i < set->n; i++) qh_funding_free(&set->files[i]);
    set->n = 0;
}

const qh_funding_row *qh_funding_set_take(qh_funding_set *set, int64_t up_to_ms, const char **symbol)
{
    size_t best = set->n;
    for (size_t i = 0; i < set->n; i++) {
        if (set->next[i] >= set->files[i].n) continue;
        int64_t t = set->files[i].rows[set->next[i]].time_ms;
        if (t <= up_to_ms && (best == set->n || t < set->files[best].rows[set->next[best]].time_ms)) best = i;
    }
    if (best == set->n) return NULL;
    *symbol = set->files[best].symbol;
    return &set->files[best].rows[set->next[best]++];
}

int qh_inputs_split(const char *list, char *buf, size_t buflen, const char **out, size_t cap, size_t *n)
{
    size_t len = strlen(list);
    if (len >= buflen) return -1;
    memcpy(buf, list, len + 1);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (*n >= cap) return -1;
        out[(*n)++] = p;
    }
    return 0;
}
