/*
 * Trades as CSV for operators and accountants: one row per stored fill,
 * money as exact decimal text.
 */
#include <string.h>

#include "store/store_impl.h"

/* RFC 4180: quote a field only when it holds a comma, quote or line break. */
static int put_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ",\"\r\n")) return fputs(text, out) < 0 ? -1 : 0;
    if (fputc('"', out) == EOF) return -1;
    for (const char *p = text; *p; p++) {
        if (*p == '"' && fputc('"', out) == EOF) return -1;
        if (fputc(*p, out) == EOF) return -1;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}

int qh_store_export_trades_csv(qh_store *st, FILE *out, char *err, size_t errlen)
{
    if (!st || !out) {
        qh_store_errf(err, errlen, "export: no store or no output");
        return QTR_EINVAL;
    }
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_OK;
    int rc = sqlite3_prepare_v2(st->rdb,
                                "SELECT time_ms, fill_id, client_id, symbol, side, qty, price, fee, maker,"
                                " reduce_only FROM fills ORDER BY time_ms, id",
                                -1, &s, NULL);
    if (rc != SQLITE_OK || fputs("time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only\n", out) < 0) {
        qh_store_errf(err, errlen, "export from %s: %s", st->path,
                      rc != SQLITE_OK ? sqlite3_errmsg(st->rdb) : "write failed");
        status = QTR_EIO;
    }
    while (status == QTR_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        char q[QTR_DEC_STRLEN], p[QTR_DEC_STRLEN], f[QTR_DEC_STRLEN];
        int w = fprintf(out, "%lld,", (long long)sqlite3_column_int64(s, 0));
        for (int col = 1; w >= 0 && col <= 4; col++) {
            const char *t = (const char *)sqlite3_column_text(s, col);
            if (put_field(out, t ? t : "") != 0 || fputc(',', out) == EOF) w = -1;
        }
        if (w >= 0)
            w = fprintf(out, "%s,%s,%s,%d,%d\n", qtr_dec_format(sqlite3_column_int64(s, 5), q),
                        qtr_dec_format(sqlite3_column_int64(s, 6), p), qtr_dec_format(sqlite3_column_int64(s, 7), f),
                        sqlite3_column_int(s, 8), sqlite3_column_int(s, 9));
        if (w < 0) {
            qh_store_errf(err, errlen, "export from %s: write failed", st->path);
            status = QTR_EIO;
        }
    }
    if (status == QTR_OK && rc != SQLITE_DONE) {
        qh_store_errf(err, errlen, "export from %s: %s", st->path, sqlite3_errmsg(st->rdb));
        status = QTR_EIO;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    if (status == QTR_OK && fflush(out) != 0) {
        qh_store_errf(err, errlen, "export from %s: write failed", st->path);
        status = QTR_EIO;
    }
    return status;
}
