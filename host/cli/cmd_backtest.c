/* cmd_backtest.c — `qtr backtest [-c FILE] --data CSV[,CSV…] [--json FILE]`:
 * the same plugins over recorded candles at full speed on a simulated clock. */
#include "cli/backtest_overrides.h"
#include "cli/backtest_sweep.h"
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
#include "market/candle_stream.h"
#include "market/candles.h"
#include "market/funding.h"
#include "market/inputs.h"
#include "report/report.h"

typedef struct run_obs {
    qh_report *report;
    FILE *trades;             /* --trades: every fill as CSV, or NULL */
} run_obs;

static void obs_candle(void *ud, const qtr_candle *c) { qh_report_on_candle(((run_obs *)ud)->report, c); }
static void obs_account(void *ud, const qtr_account *a) { qh_report_on_account(((run_obs *)ud)->report, a); }
static void obs_event(void *ud, const qtr_event *ev) { qh_report_on_event(ud, ev); }

/* What the report counts from the bus: signals, orders and their refusals,
 * positions (funding per symbol, time in the market, open positions), mark
 * prices (to value them), ESS states. */
static int subscribe_report(qh_engine *e, qh_report *rep)
{
    static const qtr_event_type types[] = { QTR_EV_SIGNAL, QTR_EV_ORDER_INTENT, QTR_EV_ORDER_UPDATE, QTR_EV_POSITION,
                                            QTR_EV_MARK_PRICE, QTR_EV_ESS_STATE };
    const qtr_host *h = qh_engine_host_api(e);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!h->subscribe(qh_engine_host_ctx(e), types[i], NULL, obs_event, rep)) return -1;
    return 0;
}


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

/* The files of one option, given any number of times, each a comma list. */
typedef struct path_list {
    const char *paths[QH_INPUTS_MAX_FILES];
    size_t n;
    char *bufs[QH_INPUTS_MAX_FILES];
    size_t nbufs;
} path_list;

static int path_list_add(path_list *l, const char *opt, const char *value)
{
    /* "" or "a,,b" would be no file at all, silently: refused as --data's is */
    size_t len = strlen(value) + 1;
    if (!value[0] || value[0] == ',' || value[len - 2] == ',' || strstr(value, ",,")) {
        fprintf(stderr, "qtr backtest: %s '%s': an empty file name\n", opt, value);
        return -1;
    }
    char *buf = l->nbufs < QH_INPUTS_MAX_FILES ? malloc(len) : NULL;
    if (!buf || qh_inputs_split(value, buf, len, l->paths, QH_INPUTS_MAX_FILES, &l->n) != 0) {
        free(buf);
        fprintf(stderr, "qtr backtest: %s: at most %d files\n", opt, QH_INPUTS_MAX_FILES);
        return -1;
    }
    l->bufs[l->nbufs++] = buf;
    return 0;
}

static void path_list_free(path_list *l)
{
    for (size_t i = 0; i < l->nbufs; i++) free(l->bufs[i]);
}

/* Mark prices (the closes of a mark-price kline file) known by time t:
 * published before what happens at t, so funding and the paper exchange's
 * mark triggers see the mark of that moment. */
static void publish_marks_until(qh_engine *e, const qh_candle_vec *marks, size_t *next, int64_t t, bool inclusive)
{
    const qtr_host *h = qh_engine_host_api(e);
    for (; *next < marks->len; ++*next) {
        const qtr_candle *m = &marks->items[*next];
        if (inclusive ? m->close_time_ms > t : m->close_time_ms >= t) break;
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_MARK_PRICE;
        ev.time_ms = m->close_time_ms;
        qtr_strlcpy(ev.u.mark_price.symbol, m->symbol, sizeof ev.u.mark_price.symbol);
        ev.u.mark_price.time_ms = m->close_time_ms;
        ev.u.mark_price.mark_price = m->close;
        h->publish(qh_engine_host_ctx(e), &ev);
    }
}

/* The inputs as a run reads them before its first candle: every --data file
 * opened with its header and first rows, the first candle, the --mark and
 * --funding files loaded. 0, or -1 with "file:line: reason" in err. */
static int open_inputs(const path_list *data, const path_list *funding, const path_list *mark,
                       qh_candle_stream **candles, qtr_candle *first, qh_candle_vec *marks, qh_funding_set *fs,
                       char *err, size_t errlen)
{
    if (!(*candles = qh_candle_stream_open("--data", data->paths, data->n, err, errlen)) ||
        qh_candle_stream_next(*candles, first, err, errlen) != 1 ||
        qh_funding_set_load(fs, funding->paths, funding->n, err, errlen) != 0)
        return -1;
    char why[1024];
    if (mark->n && qh_inputs_load_candles("--mark", mark->paths, mark->n, marks, why, sizeof why) != 0) {
        /* the reader's "file:line: reason" names no option: given one, as --funding's errors are */
        snprintf(err, errlen, "%s%.1000s", strncmp(why, "--mark", 6) == 0 ? "" : "--mark ", why);
        return -1;
    }
    /* each file read well first (its own fault is named before a mismatch) */
    return qh_inputs_refuse_unmatched("--funding", funding->paths, funding->n, data->paths, data->n, err, errlen) != 0 ||
                   qh_inputs_refuse_unmatched("--mark", mark->paths, mark->n, data->paths, data->n, err, errlen) != 0
               ? -1
               : 0;
}

/* No output may replace an input (the candles, the config) or another
 * output: refused before anything is written. 0, or -1 printed. */
static int refuse_same_files(const char *config, const path_list *data, const path_list *funding,
                             const path_list *mark, const qh_opt_path *outs, size_t nout)
{
    qh_opt_path ins[3 * QH_INPUTS_MAX_FILES + 1];
    size_t nin = 0;
    ins[nin++] = (qh_opt_path){ "-c", config };
    const path_list *lists[] = { data, funding, mark };
    const char *const names[] = { "--data", "--funding", "--mark" };
    for (size_t l = 0; l < 3; l++)
        for (size_t k = 0; k < lists[l]->n; k++) ins[nin++] = (qh_opt_path){ names[l], lists[l]->paths[k] };
    char err[2 * PATH_MAX + 200];
    if (qh_out_refuse_same_file(outs, nout, ins, nin, err, sizeof err) == 0) return 0;
    fprintf(stderr, "qtr backtest: %s\n", err);
    return -1;
}

int qh_backtest_check_inputs(int argc, const char *const *argv, const char *config, const qh_opt_path *out)
{
    path_list data = { 0 }, funding = { 0 }, mark = { 0 };
    int rc = -1;
    for (int i = 0; i < argc; i++) {
        path_list *list = strcmp(argv[i], "--data") == 0      ? &data
                          : strcmp(argv[i], "--funding") == 0 ? &funding
                          : strcmp(argv[i], "--mark") == 0    ? &mark
                                                              : NULL;
        bool valued = qh_backtest_option_arity(argv[i]) > 0 || strcmp(argv[i], "-c") == 0 ||
                      strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--log-level") == 0;
        if (!valued || i + 1 >= argc) continue;
        if (list && path_list_add(list, argv[i], argv[i + 1]) != 0) goto out;
        i++;
    }
    if (refuse_same_files(config, &data, &funding, &mark, out, out ? 1 : 0) != 0) goto out;
    char err[1024] = "";
    qh_candle_stream *candles = NULL;
    qtr_candle first;
    qh_candle_vec marks = { 0 };
    qh_funding_set *fs = calloc(1, sizeof *fs);
    if (!fs) fprintf(stderr, "qtr backtest: out of memory\n");
    else if (open_inputs(&data, &funding, &mark, &candles, &first, &marks, fs, err, sizeof err) != 0)
        fprintf(stderr, "qtr backtest: %s\n", err);
    else rc = 0;
    qh_candle_stream_close(candles);
    qh_candle_vec_free(&marks);
    if (fs) qh_funding_set_free(fs);
    free(fs);
out:
    path_list_free(&data);
    path_list_free(&funding);
    path_list_free(&mark);
    return rc;
}

/* The output files are opened (and their paths checked) before the run and
 * put in place only after it succeeded: never a half-written file. */
static int open_output(const char *opt, const char *path, qh_out *out)
{
    char err[PATH_MAX + 200];
    if (!path) return 0;
    /* --trades is written as the run goes: held back from a stream until it is done */
    int rc = strcmp(opt, "--trades") == 0 ? qh_out_open_held(out, path, err, sizeof err)
                                          : qh_out_open(out, path, err, sizeof err);
    if (rc == 0) return 0;
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

int qh_backtest_option_arity(const char *opt)
{
    static const char *const valued[] = { "--data", "--funding", "--mark", "--json", "--html",
                                          "--trades", "--store", "--set" };
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
        if (strcmp(opt, valued[k]) == 0) return 1;
    return strcmp(opt, "--quiet") == 0 ? 0 : -1;
}

int qh_cmd_backtest(int argc, char **argv)
{
    qh_common_opts o = { 0 };
    const char *json = NULL, *store = NULL, *trades = NULL, *html = NULL;
    path_list data = { 0 }, funding = { 0 }, mark = { 0 };
    bool quiet = false;
    int rc = 2;
    if (qh_sweep_requested(argc, argv)) return qh_sweep_main(argc, argv);   /* backtest_sweep.c */
    qh_overrides sets = { 0 };   /* --set PATH=VALUE (backtest_overrides.c) */
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) { rc = qh_usage_help("backtest"); goto args_out; }
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) goto args_out;
        if (c) continue;
        if (qh_backtest_option_arity(argv[i]) < 0) { rc = qh_usage_unknown_option("backtest", argv[i]); goto args_out; }
        const char **value = NULL;
        path_list *list = NULL;
        const char *opt = argv[i];
        if (strcmp(argv[i], "--data") == 0) list = &data;
        else if (strcmp(argv[i], "--json") == 0) value = &json;
        else if (strcmp(argv[i], "--html") == 0) value = &html;
        else if (strcmp(argv[i], "--store") == 0) value = &store;
        else if (strcmp(argv[i], "--trades") == 0) value = &trades;
        else if (strcmp(argv[i], "--funding") == 0) list = &funding;
        else if (strcmp(argv[i], "--mark") == 0) list = &mark;
        else if (strcmp(argv[i], "--quiet") == 0) quiet = true;
        else if (strcmp(argv[i], "--set") == 0) { if (qh_overrides_arg(&sets, argc, argv, &i) != 0) goto args_out; }
        else { fprintf(stderr, "qtr backtest: %s: listed but not handled here (a bug)\n", argv[i]); goto args_out; }
        if (value && !qh_usage_value_once(argc, argv, &i, "backtest", value)) goto args_out;
        const char *v = NULL;   /* the lists (--data, --funding, --mark) add up */
        if (list && (!(v = qh_usage_value(argc, argv, &i, "backtest")) || path_list_add(list, opt, v) != 0))
            goto args_out;
    }
    if (!data.n) {
        fprintf(stderr, "qtr backtest: --data CSV[,CSV...] is required\n");
        goto args_out;
    }
    qh_common_log_init(&o, "warn");   /* per-order info lines would swamp a fast run */
    qh_config cfg;
    if (qh_overrides_load_config(&o, &sets, qh_config_default_backtest(), &cfg) != 0) goto args_out;
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
            goto args_out;
        }
    }
    char err[1024] = "";
    qh_candle_vec marks = { 0 };
    qh_candle_stream *candles = NULL;   /* --data, read as the run goes: memory flat in the candles */
    qtr_candle cur;
    int got = 0;
    bool void_run = false;
    qh_funding_set *fs = calloc(1, sizeof *fs);
    size_t next_mark = 0;
    run_obs ro = { 0 };
    qh_report *rep = NULL;
    qh_engine *e = NULL;
    qh_out json_out = { 0 }, trades_out = { 0 }, html_out = { 0 };
    /* every output path checked before minutes of work, not after */
    if (!fs) { fprintf(stderr, "qtr backtest: out of memory\n"); goto out; }
    const qh_opt_path outs[] = { { "--json", json }, { "--html", html }, { "--trades", trades }, { "--store", store } };
    if (refuse_same_files(o.config, &data, &funding, &mark, outs, sizeof outs / sizeof outs[0]) != 0) goto out;
    if (open_output("--json", json, &json_out) != 0 || open_output("--trades", trades, &trades_out) != 0 ||
        open_output("--html", html, &html_out) != 0)
        goto out;
    if (open_inputs(&data, &funding, &mark, &candles, &cur, &marks, fs, err, sizeof err) != 0) {
        fprintf(stderr, "qtr backtest: %s\n", err);
        goto out;
    }
    /* the table never mixes with a JSON or CSV on standard output */
    FILE *table = qh_out_is_stdout(&json_out) || qh_out_is_stdout(&trades_out) || qh_out_is_stdout(&html_out) ? stderr : stdout;
    rep = qh_report_new(cfg.starting_balance);
    e = rep ? qh_engine_new(&cfg, NULL, cur.open_time_ms, err, sizeof err) : NULL;
    if (!e) {
        if (rep) qh_overrides_blame(&sets, err, sizeof err);
        fprintf(stderr, "qtr backtest: %s\n", rep ? err : "out of memory");
        goto out;
    }
    ro.report = rep;
    ro.trades = trades_out.f;
    if (ro.trades) fprintf(ro.trades, "time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only\n");
    qh_engine_observer obs = { .ud = &ro, .on_candle = obs_candle, .on_fill = obs_fill, .on_account = obs_account };
    qh_engine_set_observer(e, &obs);
    if (subscribe_report(e, rep) != 0) {
        fprintf(stderr, "qtr backtest: cannot subscribe the report to the bus\n");
        goto out;
    }
    if ((rc = qh_engine_load(e, err, sizeof err)) != 0 || (rc = qh_engine_start(e, err, sizeof err)) != 0) {
        qh_overrides_blame(&sets, err, sizeof err);
        fprintf(stderr, "qtr backtest: %s\n", err);
        goto out;
    }
    do {
        /* a funding time within this candle is settled on the position held
         * as it opened, before the candle is fed: at the mark of that time
         * when a mark file is given, else at the last close */
        const char *fsym = NULL;
        for (const qh_funding_row *fr; (fr = qh_funding_set_take(fs, cur.close_time_ms, &fsym));) {
            publish_marks_until(e, &marks, &next_mark, fr->time_ms, false);
            qh_engine_apply_funding(e, fsym, fr->rate, fr->time_ms);
        }
        publish_marks_until(e, &marks, &next_mark, cur.close_time_ms, true);
        qh_engine_feed_candle(e, &cur);
    } while ((got = qh_candle_stream_next(candles, &cur, err, sizeof err)) == 1);
    qh_engine_stop(e);
    if (got < 0) {   /* a bad row, or one candle in two files, further on: the run is void */
        fprintf(stderr, "qtr backtest: %s\n", err);
        rc = 2;
        void_run = true;
        goto out;
    }
    qh_report_set_volumes_rounded(rep, (int64_t)qh_candle_stream_volumes_rounded(candles));
    qh_report_summary sum;
    if (qh_report_summary_get(rep, &sum) != 0) {
        fprintf(stderr, "qtr backtest: report: %s\n", qh_report_error(rep));
        rc = 1;
        goto out;
    }
    if (!quiet) qh_report_print(rep, table);
    rc = 0;
    /* the trades first (held back until now): they end before the JSON
     * when both go to one stream */
    ro.trades = NULL;
    if (commit_output("--trades", &trades_out) != 0) {
        rc = 1;
    } else if (json_out.f && (errno = 0, qh_report_write_json(rep, json_out.f)) != 0) {
        fprintf(stderr, "qtr backtest: --json %s: %s\n", json, errno ? strerror(errno) : "cannot write the report");
        rc = 1;
    } else if (commit_output("--json", &json_out) != 0) {
        rc = 1;
    } else if (html_out.f && qh_report_write_html(rep, html_out.f) != 0) {
        fprintf(stderr, "qtr backtest: --html %s: cannot write the report\n", html);
        rc = 1;
    } else if (commit_output("--html", &html_out) != 0) {
        rc = 1;
    }
out:
    qh_out_abort(&json_out);
    qh_out_abort(&trades_out);
    qh_out_abort(&html_out);
    qh_engine_free(e);
    /* the new store of a run that turned out void (bad data further on) goes,
     * like the run's other outputs, rather than stay half-written */
    if (void_run && store) qh_cli_remove_db(cfg.store.path, "backtest");
    qh_report_free(rep);
    qh_candle_stream_close(candles);
    qh_candle_vec_free(&marks);
    qh_config_free(&cfg);
    if (fs) qh_funding_set_free(fs);
    free(fs);
args_out:
    path_list_free(&data);
    path_list_free(&funding);
    path_list_free(&mark);
    return rc;
}
