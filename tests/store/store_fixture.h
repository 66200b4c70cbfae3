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

/* A fresh directory under /tmp; the test removes it with sf_rmtree(). */
char *sf_tmpdir(void);
void sf_rmtree(char *dir);
/* dir + "/" + name in a static-free malloc'ed string. */
char *sf_path(const char *dir, const char *name);

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

#endif
