/* backtest_sweep.c — see backtest_sweep.h. */
#include "cli/backtest_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <qtr/money.h>

#include "cli/backtest_overrides.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/usage.h"
#include "core/log.h"
#include "engine/engine.h"

#define MAX_VALUES QH_SWEEP_MAX_COMBOS
#define TOP_ROWS 10
#define DEFAULT_TIMEOUT_S 3600

/* The report figures of a row, in CSV order (keys of the --json report). */
static const char *const figures[] = { "net_pnl",   "end_equity", "realized_pnl", "unrealized_pnl", "fees",
                                       "funding",   "trades",     "wins",         "losses",         "win_rate",
                                       "max_drawdown_pct", "sharpe", "sortino",   "calmar",         "fills",
                                       "orders",    "signals",    "time_in_market_ms" };
#define N_FIGURES (sizeof figures / sizeof figures[0])

typedef struct param {
    char path[QH_OVERRIDE_TEXT_MAX + 1];
    char **values;
    size_t n;
} param;

typedef struct grid {
    param p[QH_SWEEP_MAX_PARAMS];
    size_t n;
    size_t combos;
} grid;

typedef struct row {
    char set[QH_SWEEP_MAX_PARAMS][QH_OVERRIDE_TEXT_MAX * 2 + 2];   /* "PATH=VALUE" */
    pid_t pid;
    struct timespec started;
    int status;             /* waitpid's */
    bool done, timed_out, spawn_failed;
    bool refused;           /* by preflight(): never run */
    char *fig[N_FIGURES];   /* the report's figures as text, NULL if absent */
    qtr_dec net;            /* for the top rows */
    bool ok;
    char error[2048];
} row;

/* The CSV's option: --out, as the product names it, or --sweep-out. */
static bool is_out(const char *o) { return strcmp(o, "--out") == 0 || strcmp(o, "--sweep-out") == 0; }

bool qh_sweep_requested(int argc, char **argv)
{
    /* the sweep's own options too: without --sweep they are refused there */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--sweep") == 0 || strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--jobs") == 0 ||
            is_out(argv[i]) || strcmp(argv[i], "--sweep-timeout") == 0)
            return true;
    return false;
}


/* One line on stderr naming the sweep; -1. */
__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qtr backtest: --sweep: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static int add_value(param *p, const char *text, size_t len)
{
    if (p->n >= MAX_VALUES) return bad("%s: more than %d values", p->path, MAX_VALUES);
    if (len == 0 || len > QH_OVERRIDE_TEXT_MAX) return bad("%s: an empty or too long value", p->path);
    char *v = strndup(text, len);
    char **nv = v ? realloc(p->values, (p->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(v);
        return bad("%s: out of memory", p->path);
    }
    p->values = nv;
    p->values[p->n++] = v;
    return 0;
}

static bool parse_dec(const char *s, size_t len, qtr_dec *out) { return qtr_dec_parse(s, len, out) == QTR_DEC_OK; }

/* A..B[:STEP] (decimals, fixed point: never a float's drift) or V1|V2|... */
/* V1|V2|...: each value as given */
static int parse_list(param *p, char *text)
{
    for (char *v = text;;) {
        size_t n = strcspn(v, "|");
        if (add_value(p, v, n) != 0) return -1;
        if (!v[n]) return 0;
        v += n + 1;
    }
}

static int parse_values(param *p, const char *s, size_t len)
{
    char text[QH_OVERRIDE_TEXT_MAX * 4];
    if (len == 0) return bad("%s: no values (PATH=A..B[:STEP] or PATH=V1|V2...)", p->path);
    if (len >= sizeof text) return bad("%s: the values are too long", p->path);
    memcpy(text, s, len);
    text[len] = '\0';
    char *dots = strstr(text, "..");
    if (!dots) return parse_list(p, text);
    char *colon = strchr(dots + 2, ':');
    qtr_dec a, b, step = QTR_DEC_SCALE;
    if (!parse_dec(text, (size_t)(dots - text), &a) ||
        !parse_dec(dots + 2, colon ? (size_t)(colon - dots - 2) : strlen(dots + 2), &b) ||
        (colon && !parse_dec(colon + 1, strlen(colon + 1), &step)))
        return bad("%s=%s: a range is A..B or A..B:STEP, each a decimal number", p->path, text);
    if (step <= 0) return bad("%s=%s: the step must be greater than 0", p->path, text);
    if (b < a) return bad("%s=%s: an empty range (the end is below the start)", p->path, text);
    qtr_dec span;
    if (__builtin_sub_overflow(b, a, &span) || (uint64_t)span / (uint64_t)step >= MAX_VALUES)
        return bad("%s=%s: more than %d values", p->path, text, MAX_VALUES);
    for (qtr_dec v = a; v <= b; v += step) {
        char buf[QTR_DEC_STRLEN];
        qtr_dec_format(v, buf);
        if (add_value(p, buf, strlen(buf)) != 0) return -1;
        if (b - v < step) break;   /* never past b, never an overflow */
    }
    return 0;
}

static int parse_spec(grid *g, const char *spec)
{
    if (!*spec) return bad("an empty spec: PATH=A..B[:STEP][,PATH=...]");
    for (const char *s = spec;;) {
        size_t n = strcspn(s, ",");
        const char *eq = memchr(s, '=', n);
        if (!eq) return bad("'%.*s': expected PATH=VALUES", (int)n, s);
        if (g->n >= QH_SWEEP_MAX_PARAMS) return bad("more than %d parameters", QH_SWEEP_MAX_PARAMS);
        param *p = &g->p[g->n];
        size_t plen = (size_t)(eq - s);
        if (!qh_overrides_path_ok(s, plen)) {
            return bad("bad path '%.*s' (names of letters, digits and _, dot-separated)", (int)plen, s);
        }
        memcpy(p->path, s, plen);
        p->path[plen] = '\0';
        for (size_t i = 0; i < g->n; i++)
            if (strcmp(g->p[i].path, p->path) == 0) return bad("%s: given twice", p->path);
        g->n++;
        if (parse_values(p, eq + 1, n - plen - 1) != 0) return -1;
        if (!s[n]) break;
        s += n + 1;
    }
    size_t combos = 1;
    for (size_t i = 0; i < g->n; i++) {
        if (combos * g->p[i].n > QH_SWEEP_MAX_COMBOS)
            return bad("more than %d combinations (the cap, docs/backtest.md)", QH_SWEEP_MAX_COMBOS);
        combos *= g->p[i].n;
    }
    g->combos = combos;
    return 0;
}

static void grid_free(grid *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->p[i].n; k++) free(g->p[i].values[k]);
        free(g->p[i].values);
    }
}

/* Combination k: the first parameter varies slowest. */
static const char *value_of(const grid *g, size_t k, size_t param_index)
{
    size_t inner = 1;
    for (size_t i = param_index + 1; i < g->n; i++) inner *= g->p[i].n;
    return g->p[param_index].values[(k / inner) % g->p[param_index].n];
}

/* The command line without the sweep's own options: what every child gets. */
typedef struct sweep_args {
    const char *spec, *out, *config;
    long jobs, timeout_s;
    const char **pass;   /* argv for the children's shared part */
    int npass;
    qh_overrides fixed;  /* --set given along with --sweep: every child's */
} sweep_args;

static int parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "qtr backtest: %s %s: expected an integer from %ld to %ld\n", opt, v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_args(int argc, char **argv, sweep_args *a)
{
    a->jobs = 1;
    a->timeout_s = DEFAULT_TIMEOUT_S;
    a->pass = calloc((size_t)argc + 1, sizeof *a->pass);
    if (!a->pass) return -1;
    qh_common_opts common = { 0 };   /* one for all: -c or --log-level twice is refused */
    const char *timeout = NULL, *jobs = NULL;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (qh_usage_is_help(o)) return qh_usage_help("backtest") == 0 ? 1 : -1;
        bool takes = strcmp(o, "--sweep") == 0 || strcmp(o, "-j") == 0 || strcmp(o, "--jobs") == 0 || is_out(o) ||
                     strcmp(o, "--sweep-timeout") == 0 || strcmp(o, "--set") == 0;
        if (strcmp(o, "--json") == 0 || strcmp(o, "--html") == 0 || strcmp(o, "--trades") == 0 ||
            strcmp(o, "--store") == 0) {
            fprintf(stderr, "qtr backtest: %s: not with --sweep (every combination would write it; see --out)\n", o);
            return -1;
        }
        if (!takes) {
            /* the rest go to every child as given (-c's value kept for
             * the paths), once checked to be a backtest's */
            int at = i, c = qh_common_opt(argc, argv, &i, &common);
            if (c < 0) return -1;
            if (c == 0) {
                /* refused here, once, rather than by every child */
                int arity = qh_backtest_option_arity(o);
                if (arity < 0) {
                    qh_usage_unknown_option("backtest", o);
                    return -1;
                }
                if (arity > 0 && !qh_usage_value(argc, argv, &i, "backtest")) return -1;
            }
            if (common.config) a->config = common.config;
            for (; at <= i; at++) a->pass[a->npass++] = argv[at];
            continue;
        }
        /* single-valued: given twice is refused, never the last one winning */
        const char **once = strcmp(o, "--sweep-timeout") == 0 ? &timeout
                            : strcmp(o, "-j") == 0 || strcmp(o, "--jobs") == 0 ? &jobs
                                                                                : NULL;
        const char *v = once ? qh_usage_value_once(argc, argv, &i, "backtest", once)
                             : qh_usage_value(argc, argv, &i, "backtest");
        if (!v) return -1;
        char err[512];
        if (strcmp(o, "--sweep") == 0) {
            if (a->spec) { fprintf(stderr, "qtr backtest: --sweep: given twice\n"); return -1; }
            a->spec = v;
        } else if (is_out(o)) {
            if (a->out) { fprintf(stderr, "qtr backtest: %s: the CSV is named twice\n", o); return -1; }
            a->out = v;
        } else if (strcmp(o, "--sweep-timeout") == 0) {
            if (parse_long(o, v, 1, 7 * 24 * 3600, &a->timeout_s) != 0) return -1;
        } else if (strcmp(o, "--set") == 0) {
            if (qh_overrides_add(&a->fixed, v, err, sizeof err) != 0) {
                fprintf(stderr, "qtr backtest: %s\n", err);
                return -1;
            }
        } else if (parse_long(o, v, 1, QH_SWEEP_MAX_JOBS, &a->jobs) != 0) {
            return -1;
        }
    }
    return 0;
}

/* SIGINT, SIGTERM or SIGHUP to the sweep: its children are stopped and
 * reaped, its temporary folder removed, no CSV written. */
static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

static void catch_stop(bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_stop : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* The first ERROR line of a log captured in buf, after its level. */
static const char *first_error(const char *buf)
{
    const char *e = buf ? strstr(buf, " ERROR ") : NULL;
    return e ? e + 7 : "";
}

/* Would a child load this combination? Its config (the path exists, the
 * value has the right type and range), then the engine's load: the policy
 * and the plugins, their options checked against what each declares and
 * their init run (ma_cross refuses slow <= fast), no candle fed. 0, or -1
 * with why in r->error; the plugins' own log lines are kept for it. */
static int preflight(const sweep_args *a, const grid *g, size_t k, row *r)
{
    qh_overrides ov = a->fixed;
    char err[1024] = "";
    for (size_t i = 0; i < g->n; i++) {
        snprintf(r->set[i], sizeof r->set[i], "%s=%s", g->p[i].path, value_of(g, k, i));
        if (qh_overrides_add(&ov, r->set[i], err, sizeof err) != 0) {
            snprintf(r->error, sizeof r->error, "%s", err);
            return -1;
        }
    }
    qh_config cfg;
    if (qh_overrides_load(a->config, &ov, qh_config_default_backtest(), &cfg, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "config: %s", err);
        return -1;
    }
    cfg.store.disabled = true;   /* as the backtest itself: never the live store */
    cfg.store.path[0] = '\0';
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    if (log) qh_log_init(log, QH_LOG_WARN, false);
    qh_engine *e = qh_engine_new(&cfg, NULL, 0, err, sizeof err);
    int rc = e && qh_engine_load(e, err, sizeof err) == 0 ? 0 : -1;
    qh_engine_free(e);
    qh_config_free(&cfg);
    qh_log_init(stderr, QH_LOG_WARN, false);
    if (log) fclose(log);
    if (rc != 0) {
        char why[512];
        snprintf(why, sizeof why, "%.*s", (int)strcspn(first_error(logbuf), "\n"), first_error(logbuf));
        /* a failed init quotes its plugin's last error already (engine.c):
         * the line's text after "[component] " is then not said twice */
        const char *text = why[0] == '[' && strstr(why, "] ") ? strstr(why, "] ") + 2 : why;
        bool said = *text && strstr(err, text);
        snprintf(r->error, sizeof r->error, "%s%s%s", err, *why && !said ? ": " : "", said ? "" : why);
    }
    free(logbuf);
    return rc;
}

/* Every combination through preflight() before any child runs: a bad path
 * or value refuses the sweep (exit 2); a combination the plugins refuse
 * when others load (slow <= fast in a square grid) gets a row saying so. */
static int check_grid(const sweep_args *a, const grid *g, row *rows, size_t *refused)
{
    *refused = 0;
    for (size_t k = 0; k < g->combos; k++) {
        if (stop_signal) {
            fprintf(stderr, "qtr backtest: --sweep: stopped by signal %d before the run\n", (int)stop_signal);
            return -1;
        }
        if (preflight(a, g, k, &rows[k]) == 0) continue;
        rows[k].refused = rows[k].done = true;
        if (strncmp(rows[k].error, "config: ", 8) == 0 || strncmp(rows[k].error, "--set", 5) == 0) {
            fprintf(stderr, "qtr backtest: --sweep: %s\n", rows[k].error);
            return -1;
        }
        ++*refused;
    }
    if (*refused == g->combos) {
        fprintf(stderr, "qtr backtest: --sweep: no combination loads: %s\n", rows[0].error);
        return -1;
    }
    return 0;
}

static void child_paths(const char *dir, size_t k, char *json, char *errf, size_t cap)
{
    snprintf(json, cap, "%s/%zu.json", dir, k);
    snprintf(errf, cap, "%s/%zu.err", dir, k);
}

static pid_t spawn(const char *self, const sweep_args *a, const grid *g, row *r, const char *dir, size_t k)
{
    char json[PATH_MAX], errf[PATH_MAX];
    child_paths(dir, k, json, errf, sizeof json);
    size_t n = 0, cap = (size_t)a->npass + 2 * (a->fixed.n + g->n) + 8;
    const char **av = calloc(cap, sizeof *av);
    if (!av) return -1;
    av[n++] = self;
    av[n++] = "backtest";
    for (int i = 0; i < a->npass; i++) av[n++] = a->pass[i];
    /* a fixed override's path points at its whole "PATH=VALUE" */
    for (size_t i = 0; i < a->fixed.n; i++) { av[n++] = "--set"; av[n++] = a->fixed.path[i]; }
    for (size_t i = 0; i < g->n; i++) { av[n++] = "--set"; av[n++] = r->set[i]; }
    av[n++] = "--quiet";
    av[n++] = "--json";
    av[n++] = json;
    av[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open("/dev/null", O_WRONLY);
        int err = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
        execv(self, (char *const *)av);
        dprintf(2, "qtr backtest: cannot run %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    free(av);
    return pid;
}

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void stop_children(row *rows, size_t next)
{
    for (size_t k = 0; k < next; k++)
        if (!rows[k].done) kill(rows[k].pid, SIGKILL);
    for (size_t k = 0; k < next; k++)
        if (!rows[k].done) {
            while (waitpid(rows[k].pid, &rows[k].status, 0) < 0 && errno == EINTR) {}
            rows[k].done = true;
        }
}

/* At most jobs children at once; each bounded by the timeout (killed after
 * it). 0, or -1 when a signal stopped the sweep. */
static int run_all(const char *self, const sweep_args *a, const grid *g, row *rows, const char *dir)
{
    size_t next = 0, running = 0, finished = 0;
    while (finished < g->combos) {
        if (stop_signal) {
            stop_children(rows, next);
            return -1;
        }
        while (running < (size_t)a->jobs && next < g->combos) {
            row *r = &rows[next];
            if (r->refused) {
                next++;
                finished++;
                continue;
            }
            clock_gettime(CLOCK_MONOTONIC, &r->started);
            r->pid = spawn(self, a, g, r, dir, next);
            if (r->pid < 0) {
                r->spawn_failed = r->done = true;
                snprintf(r->error, sizeof r->error, "cannot start a child: %s", strerror(errno));
                finished++;
            } else {
                running++;
            }
            next++;
        }
        bool reaped = false;
        for (size_t k = 0; k < next; k++) {
            row *r = &rows[k];
            if (r->done) continue;
            pid_t w = waitpid(r->pid, &r->status, WNOHANG);
            if (w == r->pid || (w < 0 && errno == ECHILD)) {
                r->done = reaped = true;
                running--;
                finished++;
            } else if (!r->timed_out && since(&r->started) > (double)a->timeout_s) {
                r->timed_out = true;
                kill(r->pid, SIGKILL);   /* reaped on a later pass */
            }
        }
        if (!reaped && finished < g->combos) {
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

/* A log line below ERROR ("<time> WARN  [paper] ..."): a child's warnings
 * come before the line that says why it failed. */
static bool below_error(const char *line)
{
    qh_log_level lv;
    return qh_log_line_level(line, &lv) && lv < QH_LOG_ERROR;
}

/* Why a child failed: the first line of its stderr that is not a warning or
 * less (the first line when every line is). */
static void reason_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (!f) return;
    char *line = NULL;
    size_t len = 0;
    for (int n = 0; n < 100000 && getline(&line, &len, f) != -1; n++) {   /* bounded: a debug-level child */
        line[strcspn(line, "\r\n")] = '\0';
        if (n == 0 || !below_error(line)) snprintf(out, cap, "%s", line);
        if (!below_error(line)) break;
    }
    free(line);
    fclose(f);
}

static void read_row(row *r, const char *dir, size_t k)
{
    char json[PATH_MAX], errf[PATH_MAX];
    child_paths(dir, k, json, errf, sizeof json);
    if (r->spawn_failed || r->refused) return;
    if (r->timed_out) {
        snprintf(r->error, sizeof r->error, "timeout: killed after %s", "--sweep-timeout");
        return;
    }
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
        char line[240];
        reason_line(errf, line, sizeof line);
        if (WIFEXITED(r->status)) snprintf(r->error, sizeof r->error, "exit %d: %s", WEXITSTATUS(r->status), line);
        else snprintf(r->error, sizeof r->error, "killed by signal %d", WTERMSIG(r->status));
        return;
    }
    json_error_t je;
    json_t *root = json_load_file(json, 0, &je);
    if (!json_is_object(root)) {
        snprintf(r->error, sizeof r->error, "the report: %s", root ? "not an object" : je.text);
        json_decref(root);
        return;
    }
    for (size_t i = 0; i < N_FIGURES; i++) {
        json_t *v = json_object_get(root, figures[i]);
        char buf[64] = "";
        if (json_is_string(v)) snprintf(buf, sizeof buf, "%s", json_string_value(v));
        else if (json_is_integer(v)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v)) snprintf(buf, sizeof buf, "%.6f", json_real_value(v));   /* as the report writes them */
        else continue;
        r->fig[i] = strdup(buf);
    }
    json_decref(root);
    if (!r->fig[0] || !parse_dec(r->fig[0], strlen(r->fig[0]), &r->net)) {
        snprintf(r->error, sizeof r->error, "the report has no net_pnl");
        return;
    }
    r->ok = true;
}

static void csv_field(FILE *f, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void write_csv(FILE *f, const grid *g, const row *rows)
{
    for (size_t i = 0; i < g->n; i++) csv_field(f, g->p[i].path, false);
    csv_field(f, "status", false);
    for (size_t i = 0; i < N_FIGURES; i++) csv_field(f, figures[i], false);
    csv_field(f, "error", true);
    for (size_t k = 0; k < g->combos; k++) {
        for (size_t i = 0; i < g->n; i++) csv_field(f, value_of(g, k, i), false);
        csv_field(f, rows[k].ok ? "ok" : rows[k].refused ? "refused" : "failed", false);
        for (size_t i = 0; i < N_FIGURES; i++) csv_field(f, rows[k].ok && rows[k].fig[i] ? rows[k].fig[i] : "", false);
        csv_field(f, rows[k].ok ? "" : rows[k].error, true);
    }
}

static const row *sort_base;
/* net PnL, highest first; equal ones in grid order (deterministic) */
static int by_net(const void *x, const void *y)
{
    const row *a = &sort_base[*(const size_t *)x], *b = &sort_base[*(const size_t *)y];
    if (a->net != b->net) return a->net > b->net ? -1 : 1;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* A parameter as the top rows name it: the last part of its path
 * (plugins.paper.slippage_bps: slippage_bps), or the whole path when another
 * parameter ends the same. */
static const char *short_name(const grid *g, size_t i)
{
    const char *dot = strrchr(g->p[i].path, '.');
    const char *name = dot ? dot + 1 : g->p[i].path;
    for (size_t j = 0; j < g->n; j++) {
        const char *o = strrchr(g->p[j].path, '.');
        if (j != i && strcmp(o ? o + 1 : g->p[j].path, name) == 0) return g->p[i].path;
    }
    return name;
}

static void print_top(FILE *out, const grid *g, const row *rows, size_t failed)
{
    size_t *idx = calloc(g->combos, sizeof *idx), n = 0;
    if (!idx) return;
    for (size_t k = 0; k < g->combos; k++)
        if (rows[k].ok) idx[n++] = k;
    sort_base = rows;
    qsort(idx, n, sizeof *idx, by_net);
    fprintf(out, "sweep: %zu combination%s, %zu ok, %zu failed or refused; top %zu by net PnL:\n", g->combos,
            g->combos == 1 ? "" : "s", n, failed, n < TOP_ROWS ? n : (size_t)TOP_ROWS);
    fprintf(out, "%4s  %-32s %16s %7s %9s %12s %10s\n", "rank", "parameters", "net_pnl", "trades", "win_rate",
            "max_dd_pct", "sharpe");
    for (size_t r = 0; r < n && r < TOP_ROWS; r++) {
        const row *w = &rows[idx[r]];
        char params[256] = "";
        for (size_t i = 0; i < g->n; i++) {
            size_t used = strlen(params);
            snprintf(params + used, sizeof params - used, "%s%s=%s", i ? " " : "", short_name(g, i),
                     value_of(g, idx[r], i));
        }
        fprintf(out, "%4zu  %-32s %16s %7s %9s %12s %10s\n", r + 1, params, w->fig[0], w->fig[6] ? w->fig[6] : "",
                w->fig[9] ? w->fig[9] : "", w->fig[10] ? w->fig[10] : "", w->fig[11] ? w->fig[11] : "");
    }
    for (size_t k = 0; k < g->combos; k++)
        if (!rows[k].ok)
            fprintf(stderr, "qtr backtest: sweep row %zu %s: %s\n", k + 1, rows[k].refused ? "refused" : "failed",
                    rows[k].error);
    free(idx);
}

/* The sweep's own folder, flat: the children's reports, their stderr and
 * whatever temporary a killed child left beside its report. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path) unlink(path);
        }
        closedir(d);
    }
    if (rmdir(dir) != 0) fprintf(stderr, "qtr backtest: --sweep: cannot remove %s: %s\n", dir, strerror(errno));
}

int qh_sweep_main(int argc, char **argv)
{
    sweep_args a = { 0 };
    grid g = { 0 };
    row *rows = NULL;
    qh_out out = { 0 };
    char dir[PATH_MAX] = "";
    int rc = 2, pr = parse_args(argc, argv, &a);
    if (pr != 0) {
        rc = pr > 0 ? 0 : 2;
        goto done;
    }
    if (!a.spec) {
        fprintf(stderr, "qtr backtest: -j, --out and --sweep-timeout go only with --sweep SPEC\n");
        goto done;
    }
    if (parse_spec(&g, a.spec) != 0) goto done;
    bool has_data = false;
    for (int i = 0; i < a.npass; i++) has_data |= strcmp(a.pass[i], "--data") == 0;
    if (!has_data) {
        fprintf(stderr, "qtr backtest: --data CSV[,CSV...] is required\n");
        goto done;
    }
    /* a bad input file fails every child the same way: refused once here */
    const qh_opt_path csv = { "--out", a.out };
    if (qh_backtest_check_inputs(a.npass, a.pass, a.config, &csv) != 0) goto done;
    rows = calloc(g.combos, sizeof *rows);
    if (!rows) { fprintf(stderr, "qtr backtest: out of memory\n"); goto done; }
    size_t refused;
    catch_stop(true);
    if (check_grid(&a, &g, rows, &refused) != 0) goto done;
    char err[PATH_MAX + 200];
    if (qh_out_open(&out, a.out ? a.out : "-", err, sizeof err) != 0) {
        fprintf(stderr, "qtr backtest: --out %s\n", err);
        goto done;
    }
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/qtr-sweep-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (sl <= 0 || (size_t)sl >= sizeof self - 1 || !mkdtemp(dir)) {
        fprintf(stderr, "qtr backtest: --sweep: %s: %s\n", sl <= 0 ? "/proc/self/exe" : dir, strerror(errno));
        dir[0] = '\0';
        rc = 1;
        goto done;
    }
    self[sl] = '\0';
    if (run_all(self, &a, &g, rows, dir) != 0) {
        fprintf(stderr, "qtr backtest: --sweep: stopped by signal %d: the children killed, no CSV written\n",
                (int)stop_signal);
        rc = 1;
        goto done;
    }
    size_t failed = 0;
    for (size_t k = 0; k < g.combos; k++) {
        read_row(&rows[k], dir, k);
        failed += !rows[k].ok;
    }
    write_csv(out.f, &g, rows);
    rc = failed ? 1 : 0;
    FILE *table = qh_out_is_stdout(&out) ? stderr : stdout;   /* never mixed with the CSV */
    if (qh_out_commit(&out, err, sizeof err) != 0) {
        fprintf(stderr, "qtr backtest: --out %s\n", err);
        rc = 1;
    }
    print_top(table, &g, rows, failed);
done:
    qh_out_abort(&out);
    if (dir[0]) remove_dir(dir);
    catch_stop(false);
    if (rows)
        for (size_t k = 0; k < g.combos; k++)
            for (size_t i = 0; i < N_FIGURES; i++) free(rows[k].fig[i]);
    free(rows);
    grid_free(&g);
    free(a.pass);
    return rc;
}
