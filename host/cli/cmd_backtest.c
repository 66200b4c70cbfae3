/* cmd_backtest.c — `qtr backtest [-c FILE] --data CSV[,CSV…] [--json FILE]`:
 * the same plugins over recorded candles at full speed on a simulated clock. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "core/log.h"
#include "market/candles.h"
#include "market/funding.h"
#include "report/report.h"

typedef struct run_obs {
    qh_report *report;
    FILE *trades;             /* --trades: every fill as CSV, or NULL */
} run_obs;

static void obs_candle(void *ud, const qtr_candle *c) { qh_report_on_candle(((run_obs *)ud)->report, c); }
static void obs_account(void *ud, const qtr_account *a) { qh_report_on_account(((run_obs *)ud)->report, a); }

/* The same columns as the trade store's export (qh_store_export_trades_csv). */
static void obs_fill(void *ud, const qtr_fill *f, const qtr_position *b, const qtr_position *a)
{
    run_obs *o = ud;
    qh_report_on_fill(o->report, f, b, a);
    if (!o->trades) return;
    char q[QTR_DEC_STRLEN], p[QTR_DEC_STRLEN], fee[QTR_DEC_STRLEN];
    fprintf(o->trades, "%lld,%s,%s,%s,%s,%s,%s,%s,%d,%d\n", (long long)f->time_ms, f->fill_id, f->client_id, f->symbol,
            qtr_side_name(f->side), qtr_dec_format(f->qty, q), qtr_dec_format(f->price, p), qtr_dec_format(f->fee, fee),
            f->maker ? 1 : 0, f->reduce_only ? 1 : 0);
}

/* Load every file of a comma-separated list into one time-ordered series. */
static int load_data(const char *list, qh_candle_vec *all)
{
    char *copy = strdup(list);
    if (!copy) return -1;
    qh_candle_vec series[64];
    qh_candle_vec *ptrs[64];
    size_t n = 0;
    int rc = 0;
    char err[1024];
    for (char *save = NULL, *path = strtok_r(copy, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
        if (n == 64) { fprintf(stderr, "qtr backtest: --data: at most 64 files\n"); rc = -1; break; }
        char sym[QTR_SYMBOL_MAX];
        if (!qh_symbol_from_path(path, sym)) {
            fprintf(stderr, "qtr backtest: --data %s: cannot tell the symbol from the file name\n", path);
            rc = -1;
            break;
        }
        memset(&series[n], 0, sizeof series[n]);
        ptrs[n] = &series[n];
        n++;
        if (qh_csv_load(path, sym, &series[n - 1], err, sizeof err) != 0) {
            fprintf(stderr, "qtr backtest: %s\n", err);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && n == 0) { fprintf(stderr, "qtr backtest: --data: no file given\n"); rc = -1; }
    if (rc == 0 && n == 1) {
        *all = series[0];            /* one file: already in time order, no copy */
        n = 0;
    } else if (rc == 0 && qh_candles_merge(ptrs, n, all) != 0) {
        fprintf(stderr, "qtr backtest: out of memory\n");
        rc = -1;
    }
    for (size_t i = 0; i < n; i++) qh_candle_vec_free(&series[i]);
    free(copy);
    return rc;
}

/* A funding-rate file (market/funding.h), and how far the run has settled it. */
typedef struct funding_file {
    char symbol[QTR_SYMBOL_MAX];
    qh_funding_row *rows;
    size_t n, next;
} funding_file;

static int load_funding(const char *path, funding_file *ff)
{
    memset(ff, 0, sizeof *ff);
    qh_funding f;
    char err[1024];
    if (qh_funding_load(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "qtr backtest: --funding %s\n", err);
        return -1;
    }
    memcpy(ff->symbol, f.symbol, sizeof ff->symbol);
    ff->rows = f.rows;
    ff->n = f.n;
    return 0;
}

/* The output files are opened (and their paths checked) before the run and
 * put in place only after it succeeded: never a half-written file. */
static int open_output(const char *opt, const char *path, qh_out *out)
{
    char err[PATH_MAX + 200];
    if (!path || qh_out_open(out, path, err, sizeof err) == 0) return 0;
    fprintf(stderr, "qtr backtest: %s %s\n", opt, err);
    return -1;
}

static int commit_output(const char *opt, qh_out *out)
{
    char err[PATH_MAX + 200];
    if (!out->f || qh_out_commit(out, err, sizeof err) == 0) return 0;
    fprintf(stderr, "qtr backtest: %s %s\n", opt, err);
    return -1;
}

int qh_cmd_backtest(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    const char *data = NULL, *json = NULL, *store = NULL, *trades = NULL, *funding = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("backtest");
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        const char **value = NULL;
        if (strcmp(argv[i], "--data") == 0) value = &data;
        else if (strcmp(argv[i], "--json") == 0) value = &json;
        else if (strcmp(argv[i], "--store") == 0) value = &store;
        else if (strcmp(argv[i], "--trades") == 0) value = &trades;
        else if (strcmp(argv[i], "--funding") == 0) value = &funding;
        else if (strcmp(argv[i], "--quiet") == 0) quiet = true;
        else return qh_usage_unknown_option("backtest", argv[i]);
        if (value && !(*value = qh_usage_value(argc, argv, &i, "backtest"))) return 2;
    }
    if (!data) {
        fprintf(stderr, "qtr backtest: --data CSV[,CSV...] is required\n");
        return 2;
    }
    qh_common_log_init(&o, "warn");   /* per-order info lines would swamp a fast run */
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_backtest(), &cfg) != 0) return 2;
    if (!o.log_level) qh_log_set_level(QH_LOG_WARN);
    /* Never the live store: only a new file given here, or none. */
    cfg.store.disabled = store == NULL;
    cfg.store.backtest_requested = store != NULL;
    cfg.store.path[0] = '\0';
    if (store) {   /* a command-line path is from here, not from the config's folder */
        char cwd[PATH_MAX] = ".";
        if (store[0] != '/' && !getcwd(cwd, sizeof cwd)) qtr_strlcpy(cwd, ".", sizeof cwd);
        int w = store[0] == '/' ? snprintf(cfg.store.path, sizeof cfg.store.path, "%s", store)
                                : snprintf(cfg.store.path, sizeof cfg.store.path, "%s/%s", cwd, store);
        if (w < 0 || (size_t)w >= sizeof cfg.store.path) {   /* never a store under a cut name */
            fprintf(stderr, "qtr backtest: --store %s: the path is longer than %zu bytes\n", store,
                    sizeof cfg.store.path - 1);
            qh_config_free(&cfg);
            return 2;
        }
    }
    int rc = 2;
    char err[1024] = "";
    qh_candle_vec all = { 0 };
    funding_file ff = { 0 };
    run_obs ro = { 0 };
    qh_report *rep = NULL;
    qh_engine *e = NULL;
    qh_out json_out = { 0 }, trades_out = { 0 };
    /* every output path checked before minutes of work, not after */
    if (open_output("--json", json, &json_out) != 0 || open_output("--trades", trades, &trades_out) != 0 ||
        load_data(data, &all) != 0 || (funding && load_funding(funding, &ff) != 0))
        goto out;
    /* the table never mixes with a JSON or CSV on standard output */
    FILE *table = qh_out_is_stdout(&json_out) || qh_out_is_stdout(&trades_out) ? stderr : stdout;
    rep = qh_report_new(cfg.starting_balance);
    e = rep ? qh_engine_new(&cfg, NULL, all.items[0].open_time_ms, err, sizeof err) : NULL;
    if (!e) {
        fprintf(stderr, "qtr backtest: %s\n", rep ? err : "out of memory");
        goto out;
    }
    ro.report = rep;
    ro.trades = trades_out.f;
    if (ro.trades) fprintf(ro.trades, "time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only\n");
    qh_engine_observer obs = { .ud = &ro, .on_candle = obs_candle, .on_fill = obs_fill, .on_account = obs_account };
    qh_engine_set_observer(e, &obs);
    if ((rc = qh_engine_load(e, err, sizeof err)) != 0 || (rc = qh_engine_start(e, err, sizeof err)) != 0) {
        fprintf(stderr, "qtr backtest: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < all.len; i++) {
        /* a funding time within this candle is settled on the position held
         * as it opened, at the last close: before the candle is fed */
        while (ff.next < ff.n && ff.rows[ff.next].time_ms <= all.items[i].close_time_ms) {
            qh_engine_apply_funding(e, ff.symbol, ff.rows[ff.next].rate, ff.rows[ff.next].time_ms);
            ff.next++;
        }
        qh_engine_feed_candle(e, &all.items[i]);
    }
    qh_engine_stop(e);
    qh_report_summary sum;
    if (qh_report_summary_get(rep, &sum) != 0) {
        fprintf(stderr, "qtr backtest: report: %s\n", qh_report_error(rep));
        rc = 1;
        goto out;
    }
    if (!quiet) qh_report_print(rep, table);
    rc = 0;
    /* the trades first: streamed as the run went, they end before the JSON
     * when both go to one stream */
    ro.trades = NULL;
    if (commit_output("--trades", &trades_out) != 0) {
        rc = 1;
    } else if (json_out.f && (errno = 0, qh_report_write_json(rep, json_out.f)) != 0) {
        fprintf(stderr, "qtr backtest: --json %s: %s\n", json, errno ? strerror(errno) : "cannot write the report");
        rc = 1;
    } else if (commit_output("--json", &json_out) != 0) {
        rc = 1;
    }
out:
    qh_out_abort(&json_out);
    qh_out_abort(&trades_out);
    qh_engine_free(e);
    qh_report_free(rep);
    qh_candle_vec_free(&all);
    qh_config_free(&cfg);
    free(ff.rows);
    return rc;
}
