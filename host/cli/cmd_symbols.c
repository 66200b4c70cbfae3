/* cmd_symbols.c — `qtr symbols fetch [-c FILE] --out FILE`: the exchange's
 * instrument rules (exchangeInfo JSON) saved for the paper exchange's
 * symbols_file and backtests. The host has no HTTPS client of its own: the
 * configured exchange plugin fetches them (qtr_exchange_ops.fetch_rules),
 * loaded and initialised but never started, so nothing trades, no leverage
 * is set and no stream opens. The answer is checked with the paper
 * exchange's own reader before --out is replaced (temp + rename), and the
 * whole command ends within FETCH_LIMIT_S. */
#include "cli/cli.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bn_rules.h"   /* bn_exchange_info_parse: what exchange_paper reads symbols_file with */
#include "cli/output.h"
#include "cli/usage.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/exchange_rules.h"

#define NAME "symbols fetch"
#define FETCH_LIMIT_S 60

typedef struct fetch_wait {
    struct event_base *base;
    bool done;
    int status;
    char *text;               /* the document, or the reason */
    size_t len;
} fetch_wait;

static void on_rules(void *ud, int status, const char *text, size_t len)
{
    fetch_wait *w = ud;
    w->done = true;
    w->status = status;
    w->text = malloc(len + 1);
    if (w->text) {
        memcpy(w->text, text, len);
        w->text[len] = '\0';
        w->len = len;
    } else if (status == QTR_OK) {
        w->status = QTR_EREFUSED;   /* out of memory: reported as a refusal with no text */
    }
    event_base_loopbreak(w->base);
}

/* Only the exchange plugin is loaded: strategies, risk plugins and
 * dashboards stay out (a dashboard would take the running server's port).
 * The exchange's entry is moved first and the count cut; *n_all is what to
 * put back before the config is freed. */
static void exchange_only(qh_config *cfg, size_t *n_all)
{
    *n_all = cfg->n_plugins;
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        if (cfg->plugins[i].kind != QTR_KIND_EXCHANGE) continue;
        qh_plugin_conf t = cfg->plugins[0];
        cfg->plugins[0] = cfg->plugins[i];
        cfg->plugins[i] = t;
        cfg->n_plugins = 1;
        return;
    }
}

/* A state folder of its own: the server's ESS state and trade store are
 * never opened, and the command runs as any user. */
static int private_state(qh_config *cfg, char *dir, size_t dirlen)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dirlen, "%s/qtr-symbols-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "qtr %s: a temporary folder in %s: %s\n", NAME, tmp && *tmp ? tmp : "/tmp", strerror(errno));
        dir[0] = '\0';
        return -1;
    }
    qtr_strlcpy(cfg->state_dir, dir, sizeof cfg->state_dir);
    snprintf(cfg->ess_state_file, sizeof cfg->ess_state_file, "%s/ess.json", dir);
    cfg->store.path[0] = '\0';
    cfg->store.disabled = true;
    cfg->bus.enabled = false;
    cfg->policy.file[0] = '\0';   /* the built-in policy: the server's own is not this command's concern */
    return 0;
}

static void remove_state(const qh_config *cfg, const char *dir)
{
    if (!dir[0]) return;
    unlink(cfg->ess_state_file);
    if (rmdir(dir) != 0) fprintf(stderr, "qtr %s: could not remove %s: %s\n", NAME, dir, strerror(errno));
}

/* The document as the paper exchange reads symbols_file (jansson with
 * duplicate keys refused, then the Binance reader). 0, or -1 with err. */
static int check_rules(const char *text, size_t len, size_t *n_symbols, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "line %d: %s", je.line, je.text);
        return -1;
    }
    bn_exchange_info info;
    int rc = bn_exchange_info_parse(root, &info, err, errlen);
    json_decref(root);
    if (rc != 0) return -1;
    *n_symbols = info.n_symbols;
    bn_exchange_info_free(&info);
    return 0;
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Ask the plugin and run the loop until it answered or the limit passed.
 * The exit status: 0 with w->text the document, else after the message. */
static int fetch(qh_engine *e, fetch_wait *w)
{
    const char *xname = qh_engine_exchange_name(e) ? qh_engine_exchange_name(e) : "?";
    int rc = qh_engine_fetch_rules(e, on_rules, w);
    if (rc == QTR_ENOTSUP) {
        fprintf(stderr, "qtr %s: the exchange plugin %s cannot fetch instrument rules (it has no fetch_rules);"
                        " use a config with the binance_usdm exchange\n", NAME, xname);
        return 2;
    }
    if (rc != QTR_OK) {
        fprintf(stderr, "qtr %s: the exchange plugin %s did not send the request (%d)\n", NAME, xname, rc);
        return 1;
    }
    struct event *limit = evtimer_new(w->base, on_limit, w->base);
    struct timeval tv = { FETCH_LIMIT_S, 0 };
    if (!limit || evtimer_add(limit, &tv) != 0) {
        if (limit) event_free(limit);
        fprintf(stderr, "qtr %s: out of memory\n", NAME);
        return 1;   /* the request stays queued: destroy() drops it */
    }
    while (!w->done && evtimer_pending(limit, NULL))
        if (event_base_loop(w->base, EVLOOP_ONCE) < 0) break;
    event_free(limit);
    if (!w->done) {
        fprintf(stderr, "qtr %s: %s: no answer within %d s\n", NAME, xname, FETCH_LIMIT_S);
        return 2;
    }
    if (w->status == QTR_OK) return 0;
    fprintf(stderr, "qtr %s: %s: %s\n", NAME, xname, w->text ? w->text : "failed");
    return w->status == QTR_EIO ? 2 : 1;
}

int qh_cmd_symbols(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "qtr symbols: a command is needed: fetch (see qtr symbols --help)\n");
        return 2;
    }
    if (qh_usage_is_help(argv[0])) return qh_usage_help("symbols");
    if (strcmp(argv[0], "fetch") != 0) return qh_usage_unknown_command("symbols", argv[0]);
    qh_common_opts o = { 0 };
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help(NAME);
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c) continue;
        if (strcmp(argv[i], "--out") != 0) return qh_usage_unknown_option(NAME, argv[i]);
        if (!qh_usage_value_once(argc, argv, &i, NAME, &out_path)) return 2;
    }
    if (!out_path) {
        fprintf(stderr, "qtr %s: --out FILE is required ('-' for standard output)\n", NAME);
        return 2;
    }
    qh_common_log_init(&o, "warn");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    if (!o.log_level) qh_log_set_level(QH_LOG_WARN);   /* the server's info lines are not this command's */
    char err[PATH_MAX + 200], dir[600] = "";
    qh_out out = { 0 };
    size_t n_all = cfg.n_plugins;
    qh_engine *e = NULL;
    fetch_wait w = { 0 };
    int rc = 2;
    if (qh_out_open(&out, out_path, err, sizeof err) != 0) {   /* the path checked before any request */
        fprintf(stderr, "qtr %s: --out %s\n", NAME, err);
        goto done;
    }
    rc = 1;
    if (private_state(&cfg, dir, sizeof dir) != 0) goto done;
    exchange_only(&cfg, &n_all);
    w.base = event_base_new();
    e = w.base ? qh_engine_new(&cfg, w.base, 0, err, sizeof err) : NULL;
    if (!e) {
        fprintf(stderr, "qtr %s: %s\n", NAME, w.base ? err : "out of memory");
        goto done;
    }
    if (qh_engine_load(e, err, sizeof err) != 0) {
        fprintf(stderr, "qtr %s: %s\n", NAME, err);
        rc = 2;
        goto done;
    }
    if ((rc = fetch(e, &w)) != 0) goto done;
    size_t n_symbols = 0;
    rc = 1;
    if (check_rules(w.text, w.len, &n_symbols, err, sizeof err) != 0) {
        fprintf(stderr, "qtr %s: the answer is not rules the paper exchange reads: %s\n", NAME, err);
        goto done;
    }
    errno = 0;
    if (fwrite(w.text, 1, w.len, out.f) != w.len || fputc('\n', out.f) == EOF) {
        fprintf(stderr, "qtr %s: --out %s: %s\n", NAME, out_path, errno ? strerror(errno) : "write failed");
        goto done;
    }
    if (qh_out_commit(&out, err, sizeof err) != 0) {
        fprintf(stderr, "qtr %s: --out %s\n", NAME, err);
        goto done;
    }
    fprintf(stderr, "qtr %s: the rules of %zu symbols written to %s\n", NAME, n_symbols, out_path);
    rc = 0;
done:
    qh_out_abort(&out);
    qh_engine_free(e);   /* destroys the plugin: a request still out is dropped */
    if (w.base) event_base_free(w.base);
    free(w.text);
    remove_state(&cfg, dir);
    cfg.n_plugins = n_all;
    qh_config_free(&cfg);
    return rc;
}
