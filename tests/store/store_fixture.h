/*
 * Helpers shared by the store tests: temporary directories, sample records,
 * and a second, independent SQLite connection to look at what was written.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>
#include <qtr/plugin.h>

#include "store/store.h"

/* A fresh directory under /tmp; the test removes it with sf_rmtree(). */
char *sf_tmpdir(void);
void sf_rmtree(char *dir);
/* dir + "/" + name in a static-free malloc'ed string. */
char *sf_path(const char *dir, const char *name);

/* A test's scratch: a fresh directory, a store path in it, and the store
 * the test opens there (may stay NULL). For cmocka setup and teardown:
 * sf_scratch_free() closes the store and removes everything, after a failed
 * assertion too. */
typedef struct sf_scratch {
    char *dir, *path;
    qh_store *st;
} sf_scratch;
sf_scratch *sf_scratch_new(const char *file_name);   /* NULL on failure */
void sf_scratch_free(sf_scratch *s);

qtr_fill sf_fill(const char *fill_id, const char *symbol, qtr_side side, qtr_dec qty, qtr_dec price,
                 qtr_dec fee, int64_t time_ms);
qtr_order_update sf_order(const char *client_id, const char *symbol, qtr_side side, qtr_order_status status,
                          qtr_dec qty, qtr_dec price, qtr_dec filled, int64_t time_ms);
qtr_event sf_event(qtr_event_type type);

/* Whole file into malloc'ed memory; false if unreadable. */
bool sf_read_file(const char *path, unsigned char **data, size_t *len);
bool sf_write_file(const char *path, const void *data, size_t len);

/* One integer from sql on a connection of our own (-999999 on error). */
int64_t sf_sql_int(const char *db_path, const char *sql);
/* First column of the first row as text into buf ("" if none). */
void sf_sql_text(const char *db_path, const char *sql, char *buf, size_t cap);
/* Run statements; true on success. */
bool sf_sql_exec(const char *db_path, const char *sql);

/* What a reader of the committed store sees split apart (-1 on error):
 * symbols whose stored position is not the sum of their fills (buys minus
 * sells; a position row without fills must be flat), and orders with fills
 * whose row is missing or whose filled_qty is not the sum of their fills. */
int64_t sf_position_splits(const char *db_path);
int64_t sf_order_splits(const char *db_path);

/* What a reader saw after each commit: pass sf_look_after_commit and an
 * sf_commits with path set to qh_store_test_commit_each(). */
#define SF_MAX_COMMITS 256
typedef struct sf_commits {
    char path[512];
    size_t n;
    uint64_t seq[SF_MAX_COMMITS];
    int64_t position_splits[SF_MAX_COMMITS], order_splits[SF_MAX_COMMITS];
} sf_commits;
void sf_look_after_commit(void *ud, uint64_t seq);
/* The first commit at or after `from` whose reader saw a split; -1: none. */
long sf_first_split(const sf_commits *c, size_t from);

#endif
