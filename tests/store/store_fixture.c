#include "store_fixture.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *sf_tmpdir(void)
{
    /* mkdtemp wants six trailing 'X's; written out here as a run of dots. */
    char tmpl[] = "/tmp/qtr-store-test-......";
    for (char *p = strchr(tmpl, '.'); p && *p; p++) *p = 'X';
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void sf_rmtree(char *dir)
{
    if (!dir) return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *p = sf_path(dir, e->d_name);
            if (unlink(p) != 0) rmdir(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

char *sf_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

sf_scratch *sf_scratch_new(const char *file_name)
{
    sf_scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->dir = sf_tmpdir();
    s->path = s->dir ? sf_path(s->dir, file_name) : NULL;
    if (!s->path) {
        sf_scratch_free(s);
        return NULL;
    }
    return s;
}

void sf_scratch_free(sf_scratch *s)
{
    if (!s) return;
    qh_store_close(s->st);
    free(s->path);
    sf_rmtree(s->dir);
    free(s);
}

qtr_fill sf_fill(const char *fill_id, const char *symbol, qtr_side side, qtr_dec qty, qtr_dec price,
                 qtr_dec fee, int64_t time_ms)
{
    qtr_fill f;
    memset(&f, 0, sizeof f);
    qtr_strlcpy(f.fill_id, fill_id, sizeof f.fill_id);
    qtr_strlcpy(f.symbol, symbol, sizeof f.symbol);
    snprintf(f.client_id, sizeof f.client_id, "c-%s", fill_id);
    f.side = side;
    f.qty = qty;
    f.price = price;
    f.fee = fee;
    f.time_ms = time_ms;
    return f;
}

qtr_order_update sf_order(const char *client_id, const char *symbol, qtr_side side, qtr_order_status status,
                          qtr_dec qty, qtr_dec price, qtr_dec filled, int64_t time_ms)
{
    qtr_order_update o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.client_id, client_id, sizeof o.client_id);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    o.side = side;
    o.type = QTR_ORDER_LIMIT;
    o.status = status;
    o.qty = qty;
    o.price = price;
    o.filled_qty = filled;
    o.avg_price = filled ? price : 0;
    o.time_ms = time_ms;
    return o;
}

qtr_event sf_event(qtr_event_type type)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    return ev;
}

bool sf_read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return false;
    *data = buf;
    *len = n;
    return true;
}

bool sf_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

int64_t sf_sql_int(const char *db_path, const char *sql)
{
    sqlite3 *db = open_db(db_path);
    int64_t v = -999999;
    sqlite3_stmt *s = NULL;
    if (db && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

void sf_sql_text(const char *db_path, const char *sql, char *buf, size_t cap)
{
    sqlite3 *db = open_db(db_path);
    sqlite3_stmt *s = NULL;
    buf[0] = '\0';
    if (db && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        qtr_strlcpy(buf, t ? t : "", cap);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
}

bool sf_sql_exec(const char *db_path, const char *sql)
{
    sqlite3 *db = open_db(db_path);
    if (!db) return false;
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "sf_sql_exec: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

int64_t sf_position_splits(const char *db_path)
{
    int64_t apart = sf_sql_int(db_path,
                               "SELECT count(*) FROM (SELECT symbol, sum(CASE side WHEN 'BUY' THEN qty ELSE -qty END)"
                               " AS q FROM fills GROUP BY symbol) AS f LEFT JOIN positions AS p ON p.symbol = f.symbol"
                               " WHERE coalesce(p.qty, 0) <> f.q");
    int64_t orphans = sf_sql_int(db_path, "SELECT count(*) FROM positions AS p WHERE p.qty <> 0"
                                          " AND NOT EXISTS (SELECT 1 FROM fills WHERE symbol = p.symbol)");
    return apart < 0 || orphans < 0 ? -1 : apart + orphans;
}

int64_t sf_order_splits(const char *db_path)
{
    return sf_sql_int(db_path, "SELECT count(*) FROM (SELECT client_id, sum(qty) AS q FROM fills GROUP BY client_id)"
                               " AS f LEFT JOIN orders AS o ON o.client_id = f.client_id"
                               " WHERE o.filled_qty IS NULL OR o.filled_qty <> f.q");
}

void sf_look_after_commit(void *ud, uint64_t seq)
{
    sf_commits *c = ud;
    if (c->n == SF_MAX_COMMITS) return;
    c->seq[c->n] = seq;
    c->position_splits[c->n] = sf_position_splits(c->path);
    c->order_splits[c->n] = sf_order_splits(c->path);
    c->n++;
}

long sf_first_split(const sf_commits *c, size_t from)
{
    for (size_t k = from; k < c->n; k++)
        if (c->position_splits[k] != 0 || c->order_splits[k] != 0) return (long)k;
    return -1;
}
