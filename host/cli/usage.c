/* usage.c — see usage.h. Keep docs/qtr.1 and README.md's command table in
 * step with this table. */
#include "cli/usage.h"

#include <string.h>

typedef struct usage {
    const char *name;       /* "backtest", "ess trip" */
    const char *synopsis;   /* what follows "qtr NAME" */
    const char *summary;
    const char *options;    /* one option a line, "  -x, --long VALUE  what"; "" for none */
    const char *exit_status;
    bool group;             /* only names its sub-commands: not listed by `qtr --help` */
} usage;

#define LOG_OPTIONS                                                                                  \
    "  --log-json              log lines as JSON (on stderr)\n"                                      \
    "  --log-level LEVEL       debug, info, warn or error\n"
#define HELP_OPTION "  -h, --help              this help\n"
#define URL_OPTION "  --url URL               the server's dashboard (default $QTR_URL, else http://127.0.0.1:8080)\n"
#define ESS_EXIT "0 done, 1 refused by the server (401/403 for a missing or wrong token), 2 unreachable or bad input"

static const usage table[] = {
    { "run", "[-c FILE] [--log-json] [--log-level LEVEL]",
      "run the server; without -c the built-in default: paper trading on a synthetic market,\n"
      "the example strategy, the default policy and the dashboard on 127.0.0.1:8080",
      "  -c, --config FILE       the server config (a Lua file returning a table)\n" LOG_OPTIONS HELP_OPTION,
      "0 after SIGINT or SIGTERM, 1 runtime failure, 2 bad config or a plugin refused", false },
    { "backtest",
      "[-c FILE] --data CSV[,CSV...] [--funding CSV[,CSV...]] [--mark CSV[,CSV...]] [--json FILE] [--html FILE]\n             [--trades FILE]"
      " [--store NEW.db] [--quiet] [--set PATH=VALUE]...\n             [--sweep SPEC [-j N] [--out FILE] [--sweep-timeout S]] [--log-json] [--log-level LEVEL]",
      "the configured plugins over recorded candles on a simulated clock; prints a report table",
      "  -c, --config FILE       the config (default: the built-in backtest config: paper exchange,\n"
      "                          default policy, ma_cross 10/30)\n"
      "  --data CSV[,CSV...]     candle files (at most 64), the symbol taken from each file's name;\n"
      "                          the same file twice, or one candle in two files, is refused\n"
      "  --funding CSV[,CSV...]  funding rates, funding_time_ms,funding_rate; one file per symbol, from the name\n"
      "  --mark CSV[,CSV...]     mark-price klines (candle formats; the close is the mark): funding is valued\n"
      "                          at the mark, and the paper exchange's stop_trigger = 'mark' uses it\n"
      "  --json FILE             the report as JSON ('-' for standard output)\n"
      "  --trades FILE           every fill as CSV ('-' for standard output)\n"
      "  --html FILE             the report as one self-contained HTML page with charts\n"
      "  --store NEW.db          also record the run in a new trade store (never the live one)\n"
      "  --quiet                 no report table (it goes to stderr when an output is stdout)\n"
      "  --set PATH=VALUE        a config value as if the file said it: plugins.NAME.OPTION, an option\n"
      "                          of one plugin (fast), a key (account.starting_balance); repeatable\n"
      "  --sweep SPEC            run a grid, PATH=A..B[:STEP] or PATH=V1|V2..., comma-separated (at most\n"
      "                          1000 combinations), each as a child backtest; one CSV row each, the top\n"
      "                          10 by net PnL printed; a combination a plugin refuses (slow <= fast) gets\n"
      "                          a 'refused' row; not with --json, --html, --trades, --store\n"
      "  -j, --jobs N            the sweep's parallel children (1..64, default 1)\n"
      "  --out FILE              the sweep's CSV (default standard output; --sweep-out is the same)\n"
      "  --sweep-timeout S       a child still running after S seconds is killed (default 3600)\n" LOG_OPTIONS
          HELP_OPTION,
      "0 done, 1 runtime or write failure (in a sweep: a child failed, its row says why), 2 bad input", false },
    { "check", "[--url URL]", "the operator's sanity check of a running server: 8 checks, each OK, DEGRADED or CRITICAL",
      URL_OPTION HELP_OPTION, "0 all OK, 1 any DEGRADED, 2 any CRITICAL or the server unreachable", false },
    { "policy", "check FILE...", "policy files: see qtr policy check --help", HELP_OPTION, "0 valid, 2 invalid", true },
    { "policy check", "FILE...", "compile and self-test policy files in the server's sandbox", HELP_OPTION,
      "0 all valid, 2 any invalid (file:line and the reason printed)", false },
    { "ess", "status | trip | reset", "the Emergency Stop System of a running server: see qtr ess COMMAND --help",
      HELP_OPTION, ESS_EXIT, true },
    { "ess status", "[--url URL]", "the ESS state of a running server, as JSON", URL_OPTION HELP_OPTION, ESS_EXIT,
      false },
    { "ess trip", "--reason TEXT [--user NAME] [--url URL]",
      "trip the ESS: block new entries, cancel open orders (needs $QTR_API_TOKEN)",
      "  --reason TEXT           why (required)\n"
      "  --user NAME             who (default $USER)\n" URL_OPTION HELP_OPTION,
      ESS_EXIT, false },
    { "ess reset", "--reason TEXT [--force] [--user NAME] [--url URL]",
      "re-arm the ESS after a trip (needs $QTR_API_TOKEN)",
      "  --reason TEXT           why (required)\n"
      "  --force                 even while the cooldown runs or the trip condition holds\n"
      "  --user NAME             who (default $USER)\n" URL_OPTION HELP_OPTION,
      ESS_EXIT, false },
    { "bus", "status", "the Redis bus: see qtr bus status --help", HELP_OPTION, "0 OK, 1 degraded, 2 unreachable",
      true },
    { "bus status", "[-c FILE]",
      "the Redis bus of a config: connection, streams and lengths, consumer groups, pending\n"
      "entries, disk-buffer depth (docs/bus.md)",
      "  -c, --config FILE       the server config with the bus section\n" LOG_OPTIONS HELP_OPTION,
      "0 OK, 1 degraded (events in the disk buffer, entries pending), 2 unreachable or bad input", false },
    { "reconcile", "[--ack --reason TEXT [--user NAME]] [--url URL]",
      "the start-up reconciliation of a running server with its exchange: the state and the\n"
      "position differences; --ack lets new entries through again after a difference\n"
      "(needs $QTR_API_TOKEN)",
      "  --ack                   acknowledge the differences shown\n"
      "  --reason TEXT           why (required with --ack)\n"
      "  --user NAME             who (default $USER)\n" URL_OPTION HELP_OPTION,
      "0 nothing waits (or acknowledged), 1 entries wait for an acknowledgement or --ack was refused,\n"
      "2 unreachable or bad input", false },
    { "backup", "[-c FILE] [--log-json] [--log-level LEVEL] DEST",
      "online backup of the trade store, while the server runs or not",
      "  -c, --config FILE       the server config that names the store (default: the built-in one)\n"
      "  DEST                    a new file (an existing one is refused), or '-', a device or a\n"
      "                          FIFO to stream the backup to\n" LOG_OPTIONS HELP_OPTION,
      "0 done, 1 failure, 2 bad input (no store configured, DEST exists or its folder does not)", false },
    { "export-trades", "[-c FILE] [--out FILE] [--log-json] [--log-level LEVEL]",
      "every fill of the trade store as CSV, from a running server or a stopped one",
      "  -c, --config FILE       the server config that names the store (default: the built-in one)\n"
      "  --out FILE              where the CSV goes (default standard output)\n" LOG_OPTIONS HELP_OPTION,
      "0 done, 1 failure, 2 bad input", false },
    { "indicators", "--data CSV --ind SPEC[,SPEC...] [-c FILE] [--out CSV]",
      "indicator values from the SDK's library (qtr/indicators.h) over a candle file, one column\n"
      "each and blank while it warms up, to compare with a charting tool",
      "  --data CSV              the candle file (the formats of backtest --data)\n"
      "  --ind SPEC[,SPEC...]    indicators: sma:N ema:N wma:N rsi:N atr:N stddev:N zscore:N vwap:N\n"
      "                          obv bbands:N:K macd:FAST:SLOW:SIGNAL adx:N stoch:K:SMOOTH:D\n"
      "                          donchian:N (N 1..5000; at most 64), and regime: the host's\n"
      "                          regime classifier, its name per candle (unknown in warm-up)\n"
      "  -c, --config FILE       the server config whose regime section sets regime's\n"
      "                          thresholds (default: the built-in defaults)\n"
      "  --out CSV               where the values go (default standard output)\n" HELP_OPTION,
      "0 done, 1 write failure, 2 bad input (a bad --ind spec, an unreadable or bad CSV, a bad config)", false },
    { "plugins", "[-c FILE] [-v] [--log-json] [--log-level LEVEL]",
      "the plugins on the search path and whether this host accepts them; with -c, also\n"
      "whether each plugin the config names would load",
      "  -c, --config FILE       a server config: its plugin_path and its plugins\n"
      "  -v, --verbose           each plugin's description, options and needs\n" LOG_OPTIONS HELP_OPTION,
      "0 done, 2 bad config, or a plugin the config names is refused or (when required) missing", false },
    { "symbols", "fetch", "instrument rules: see qtr symbols fetch --help", HELP_OPTION,
      "0 saved, 1 refused or write failure, 2 unreachable or bad input", true },
    { "symbols fetch", "[-c FILE] --out FILE [--log-json] [--log-level LEVEL]",
      "save the exchange's instrument rules (exchangeInfo JSON) for the paper exchange's\n"
      "symbols_file and backtests, fetched by the configured exchange plugin (binance_usdm;\n"
      "it is loaded, never started: nothing trades)",
      "  -c, --config FILE       the config that names the exchange (its base_url; the API key and\n"
      "                          secret in the environment, as for qtr run)\n"
      "  --out FILE              where the JSON goes: replaced only once checked ('-' for standard output)\n"
      LOG_OPTIONS HELP_OPTION,
      "0 saved, 1 the answer refused (the field named) or a write failure, 2 unreachable, no answer\n"
      "within 60 s, an exchange without rules to fetch, or bad input", false },
    { "version", "", "the host version and the plugin ABI", HELP_OPTION, "0", false },
    { "help", "[COMMAND [SUBCOMMAND]]", "this list, or one command's usage", HELP_OPTION, "0, 2 unknown command",
      false },
};
#define N_USAGE (sizeof table / sizeof table[0])

static const usage *find(const char *name)
{
    for (size_t i = 0; i < N_USAGE; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

bool qh_usage_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

void qh_usage_print_all(FILE *out)
{
    fprintf(out, "usage: qtr COMMAND [ARGS...]\n"
                 "       qtr COMMAND --help     the options of one command\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_USAGE; i++) {
        if (table[i].group) continue;
        fprintf(out, "  %s%s%s\n", table[i].name, *table[i].synopsis ? " " : "", table[i].synopsis);
        /* the summary indented under it, line by line */
        for (const char *s = table[i].summary; *s;) {
            size_t len = strcspn(s, "\n");
            fprintf(out, "      %.*s\n", (int)len, s);
            s += len + (s[len] == '\n');
        }
    }
    fprintf(out, "\nThe manual: man qtr\n");
}

int qh_usage_help(const char *name)
{
    const usage *u = find(name);
    if (!u) return qh_usage_unknown_command("", name);
    printf("usage: qtr %s%s%s\n\n%s\n", u->name, *u->synopsis ? " " : "", u->synopsis, u->summary);
    if (u->group) {
        printf("\ncommands:\n");
        size_t len = strlen(u->name);
        for (size_t i = 0; i < N_USAGE; i++)
            if (strncmp(table[i].name, u->name, len) == 0 && table[i].name[len] == ' ')
                printf("  qtr %s %s\n", table[i].name, table[i].synopsis);
    }
    if (*u->options) printf("\noptions:\n%s", u->options);
    printf("\nexit status: %s\n", u->exit_status);
    return 0;
}

/* Optimal string alignment distance: an edit is an insertion, a deletion,
 * a substitution or two neighbours swapped ("stauts"). Words are short. */
static size_t distance(const char *a, const char *b)
{
    enum { MAXW = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXW || lb >= MAXW) return (size_t)-1;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *qh_usage_nearest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL, *prefixed = NULL;
    size_t best_d = (size_t)-1, n_prefixed = 0, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, candidates[i]);
        if (d < best_d) { best_d = d; best = candidates[i]; }
        if (wl >= 3 && strncmp(candidates[i], word, wl) == 0) { prefixed = candidates[i]; n_prefixed++; }
    }
    /* a third of the word may be wrong (at least one letter, at most two) */
    size_t allowed = wl / 3 < 1 ? 1 : wl / 3 > 2 ? 2 : wl / 3;
    if (best && best_d <= allowed) return best;
    return n_prefixed == 1 ? prefixed : NULL;
}

/* The option names of one command, from its options text: every leading
 * "-x" or "--long" of a line. Returns how many were put in names. */
static size_t option_names(const usage *u, char names[][32], size_t cap)
{
    size_t n = 0;
    for (const char *line = u->options; *line && n < cap;) {
        const char *p = line + strspn(line, " ");
        while (*p == '-' && n < cap) {
            size_t len = strcspn(p, " ,\n");
            if (len < 32) {
                memcpy(names[n], p, len);
                names[n++][len] = '\0';
            }
            p += len;
            if (*p == ',') p += 1 + strspn(p + 1, " ");
            else break;
        }
        line = strchr(line, '\n');
        if (!line) break;
        line++;
    }
    return n;
}

int qh_usage_unknown_option(const char *name, const char *arg)
{
    const usage *u = find(name);
    char names[32][32];
    const char *cand[32];
    size_t n = u ? option_names(u, names, 32) : 0;
    for (size_t i = 0; i < n; i++) cand[i] = names[i];
    const char *near = arg[0] == '-' ? qh_usage_nearest(arg, cand, n) : NULL;
    const char *what = arg[0] == '-' ? "unknown option" : "unexpected argument";
    if (near) fprintf(stderr, "qtr %s: %s '%s'; did you mean '%s'?\n", name, what, arg, near);
    else fprintf(stderr, "qtr %s: %s '%s' (see qtr %s --help)\n", name, what, arg, name);
    return 2;
}

int qh_usage_unknown_command(const char *parent, const char *word)
{
    const char *cand[N_USAGE];
    size_t n = 0, plen = strlen(parent);
    for (size_t i = 0; i < N_USAGE; i++) {
        const char *nm = table[i].name;
        if (plen == 0 && !strchr(nm, ' ')) cand[n++] = nm;
        else if (plen && strncmp(nm, parent, plen) == 0 && nm[plen] == ' ') cand[n++] = nm + plen + 1;
    }
    const char *near = qh_usage_nearest(word, cand, n);
    const char *sep = plen ? " " : "";
    if (near) fprintf(stderr, "qtr%s%s: unknown command '%s'; did you mean '%s'?\n", sep, parent, word, near);
    else fprintf(stderr, "qtr%s%s: unknown command '%s' (see qtr%s%s --help)\n", sep, parent, word, sep, parent);
    return 2;
}

const char *qh_usage_value(int argc, char **argv, int *i, const char *name)
{
    if (*i + 1 < argc) return argv[++*i];
    fprintf(stderr, "qtr %s: %s needs a value (see qtr %s --help)\n", name, argv[*i], name);
    return NULL;
}

const char *qh_usage_value_once(int argc, char **argv, int *i, const char *name, const char **slot)
{
    if (*slot) {
        fprintf(stderr, "qtr %s: %s given twice\n", name, argv[*i]);
        return NULL;
    }
    return *slot = qh_usage_value(argc, argv, i, name);
}
