/*
 * bn_plugin.c — the exchange plugin "binance_usdm": options, lifecycle, the
 * start sequence (server time, exchangeInfo, leverage) and the shared helpers
 * (error counters, health, alerts). See docs/binance.md.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bn_exchange_info.h"
#include "bn_jread.h"
#include "bn_plugin.h"
#include "kx_buf.h"

static const qtr_option bn_options[] = {
    { .name = "base_url", .type = QTR_OPT_STRING, .default_value = "https://fapi.binance.com",
      .help = "REST base URL: live, testnet (https://demo-fapi.binance.com) or a mock" },
    { .name = "symbols", .type = QTR_OPT_STRING_LIST, .default_value = "", .max = "32",
      .help = "symbols for market data and leverage" },
    { .name = "recv_window", .type = QTR_OPT_INT, .default_value = "5000", .min = "1", .max = "60000",
      .help = "recvWindow of signed requests, ms" },
    { .name = "timeout_ms", .type = QTR_OPT_INT, .default_value = "10000", .min = "1", .max = "600000",
      .help = "HTTP timeout per request, ms" },
    { .name = "retry_backoff_ms", .type = QTR_OPT_STRING, .default_value = "1000,2000,4000",
      .help = "delays before each query/resend of an unknown order: a list, or BASE*COUNT (doubling)" },
    { .name = "poll_interval_ms", .type = QTR_OPT_INT, .default_value = "1000", .min = "0", .max = "3600000",
      .help = "how often open orders are queried for fills, ms" },
    { .name = "min_fill_ratio", .type = QTR_OPT_DECIMAL, .default_value = "0.9",
      .help = "an order ending below this filled fraction is followed up" },
    { .name = "rate_limit_enabled", .type = QTR_OPT_BOOL, .default_value = "true",
      .help = "obey the local token buckets (off only for benchmarks)" },
    { .name = "rate_limit_weight", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "1000000",
      .help = "REQUEST_WEIGHT per minute (0: from exchangeInfo)" },
    { .name = "rate_limit_orders_10s", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "1000000",
      .help = "orders per 10 s (0: from exchangeInfo)" },
    { .name = "rate_limit_orders_1m", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "1000000",
      .help = "orders per minute (0: from exchangeInfo)" },
    { .name = "rate_limit_burst", .type = QTR_OPT_INT, .default_value = "50", .min = "1", .max = "1000000",
      .help = "token bucket capacity (burst)" },
    { .name = "rate_limit_margin_pct", .type = QTR_OPT_INT, .default_value = "5", .min = "0", .max = "90",
      .help = "percent kept unused below each exchange limit" },
    { .name = "backoff_429_ms", .type = QTR_OPT_INT, .default_value = "1000", .min = "1", .max = "3600000",
      .help = "first pause after HTTP 429, doubled each time" },
    { .name = "backoff_max_ms", .type = QTR_OPT_INT, .default_value = "60000", .min = "1", .max = "86400000",
      .help = "longest pause after HTTP 429" },
    { .name = "max_429_retries", .type = QTR_OPT_INT, .default_value = "5", .min = "0", .max = "100",
      .help = "times a call is sent again after HTTP 429" },
    { .name = "max_inflight", .type = QTR_OPT_INT, .default_value = "8", .min = "1", .max = "1024",
      .help = "requests in flight at once" },
    { .name = "done_orders_kept", .type = QTR_OPT_INT, .default_value = "4096", .min = "1", .max = "1000000",
      .help = "finished orders kept in memory for lookups; older ones are freed" },
    { .name = "max_open_orders", .type = QTR_OPT_INT, .default_value = "65536", .min = "1", .max = "1000000",
      .help = "orders not yet finished held at once; a new one beyond is refused" },
    { .name = "kline_interval", .type = QTR_OPT_STRING, .default_value = "1m",
      .help = "candle interval for klines polling" },
    { .name = "kline_poll_ms", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "86400000",
      .help = "klines polling interval, ms (0: off)" },
    { .name = "kline_limit", .type = QTR_OPT_INT, .default_value = "3", .min = "1", .max = "1500",
      .help = "klines fetched per poll" },
    { .name = "mark_poll_ms", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "86400000",
      .help = "premiumIndex polling interval, ms (0: off)" },
    { .name = "depth_poll_ms", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "86400000",
      .help = "depth polling interval, ms (0: off)" },
    { .name = "depth_limit", .type = QTR_OPT_INT, .default_value = "5", .min = "5", .max = "20",
      .help = "depth levels: 5, 10 or 20" },
    { .name = "leverage", .type = QTR_OPT_INT, .default_value = "0", .min = "0", .max = "125",
      .help = "leverage set per symbol at start (0: leave as is)" },
    { .name = "time_sync_ms", .type = QTR_OPT_INT, .default_value = "600000", .min = "0", .max = "86400000",
      .help = "server time resync interval, ms (0: only at start and on -1021)" },
    { .name = "debug", .type = QTR_OPT_BOOL, .default_value = "false",
      .help = "log every request and answer (signature and key redacted)" },
    { .name = "stream_url", .type = QTR_OPT_STRING, .default_value = "auto",
      .help = "WebSocket base for the streams (ws:// for a mock); auto: wss://fstream.binance.com with the live base_url, " "else none; empty: REST polling only" },
    { .name = "stream_ca_file", .type = QTR_OPT_PATH, .default_value = "",
      .help = "PEM file of the CAs trusted for wss:// (empty: the system's); a relative path is from the config "
              "file's folder" },
    { .name = "user_stream", .type = QTR_OPT_BOOL, .default_value = "true",
      .help = "order and fill updates over the user data stream" },
    { .name = "market_stream", .type = QTR_OPT_BOOL, .default_value = "true",
      .help = "klines, mark prices and book tops over streams (the kinds whose *_poll_ms is set)" },
    { .name = "listen_key_keepalive_ms", .type = QTR_OPT_INT, .default_value = "1800000", .min = "1000", .max = "3300000",
      .help = "how often the listenKey is kept alive (PUT), ms" },
    { .name = "stream_poll_ms", .type = QTR_OPT_INT, .default_value = "60000", .min = "0", .max = "86400000",
      .help = "while the user stream is up, open orders are still queried this often (a lost event), ms; 0: never" },
    { .name = "stream_stall_ms", .type = QTR_OPT_INT, .default_value = "30000", .min = "100", .max = "3600000",
      .help = "a stream with nothing received for this long is reconnected, ms" },
    { .name = "stream_max_message", .type = QTR_OPT_INT, .default_value = "65536", .min = "1024", .max = "16777216",
      .help = "longest stream message, bytes; longer is a protocol error" },
    { .name = "stream_backoff_ms", .type = QTR_OPT_INT, .default_value = "500", .min = "1", .max = "600000",
      .help = "first reconnect delay, doubled per failure (with jitter), ms" },
    { .name = "stream_backoff_max_ms", .type = QTR_OPT_INT, .default_value = "30000", .min = "1", .max = "3600000",
      .help = "longest reconnect delay, ms" },
    { .name = NULL },
};

/* ------------------------------------------------------------- helpers */

void bn_timer_once(struct event *ev, int64_t ms)
{
    if (ms < 0) ms = 0;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    evtimer_add(ev, &tv);
}

int64_t bn_ban_left_ms(bn_plugin *p)
{
    if (!p->banned) return 0;
    if (p->banned_until_us == INT64_MAX) return -1;
    int64_t left = p->banned_until_us - bn_mono_us(p);
    return left > 0 ? left / 1000 + 1 : 0;
}

void bn_count_error(bn_plugin *p, const char *reason)
{
    qtr_metric *m = p->h->metric_counter(p->ctx, "exchange_errors_total", "Errors talking to the exchange",
                                         "reason", reason);
    if (m) p->h->metric_add(m, 1);
    /* the host counts these toward the ESS's consecutive-error trip (qtr/plugin.h) */
    char text[QTR_TEXT_MAX];
    snprintf(text, sizeof text, "Binance call failed: %s", reason);
    bn_alert(p, QTR_ALERT_WARNING, "exchange_error", text);
}

void bn_count_md_error(bn_plugin *p, const char *reason, const char *text)
{
    qtr_metric *m = p->h->metric_counter(p->ctx, "exchange_errors_total", "Errors talking to the exchange",
                                         "reason", reason);
    if (m) p->h->metric_add(m, 1);
    if (p->banned || p->health.status == QTR_HEALTH_CRITICAL) return;
    char why[QTR_REASON_MAX];
    kx_fmt(why, sizeof why, "market data: %s", text);
    p->md_degraded = true;
    bn_set_health(p, QTR_HEALTH_DEGRADED, why);
}

void bn_md_ok(bn_plugin *p)
{
    if (!p->md_degraded) return;
    p->md_degraded = false;
    if (p->health.status == QTR_HEALTH_DEGRADED && p->info_loaded) bn_set_health(p, QTR_HEALTH_OK, "ready");
}

void bn_set_health(bn_plugin *p, qtr_health_status st, const char *reason)
{
    if (p->health.status == QTR_HEALTH_CRITICAL && p->banned && st != QTR_HEALTH_CRITICAL) return;
    p->health.status = st;
    char base[QTR_REASON_MAX];
    qtr_strlcpy(base, reason, sizeof base);
    qtr_strlcpy(p->health_base, base, sizeof p->health_base);
    /* which way fills come in, and why */
    char md[QTR_REASON_MAX], fills[QTR_REASON_MAX];
    if (bn_user_stream_live(p)) kx_fmt(fills, sizeof fills, "stream");
    else kx_fmt(fills, sizeof fills, "polling (%s)", bn_user_stream_reason(p));
    if (bn_market_stream_mode(p, md, sizeof md))
        kx_fmt(p->health.reason, sizeof p->health.reason, "%s; fills: %s; market data: %s", base, fills, md);
    else kx_fmt(p->health.reason, sizeof p->health.reason, "%s; fills: %s", base, fills);
    reason = p->health.reason;
    if (p->h->set_health) p->h->set_health(p->ctx, st, reason);
}

void bn_fill_mode_changed(bn_plugin *p) { bn_set_health(p, p->health.status, p->health_base); }

void bn_alert(bn_plugin *p, qtr_alert_severity sev, const char *kind, const char *text)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ALERT;
    ev.time_ms = p->h->now_ms(p->ctx);
    ev.u.alert.time_ms = ev.time_ms;
    ev.u.alert.severity = sev;
    qtr_strlcpy(ev.u.alert.source, "binance_usdm", sizeof ev.u.alert.source);
    qtr_strlcpy(ev.u.alert.kind, kind, sizeof ev.u.alert.kind);
    qtr_strlcpy(ev.u.alert.text, text, sizeof ev.u.alert.text);
    p->h->publish(p->ctx, &ev);
}

/* ------------------------------------------------------------- options */

static int opt_fail(bn_plugin *p, const char *name, const char *why)
{
    p->h->log(p->ctx, QTR_LOG_ERROR, "option %s: %s", name, why);
    return -1;
}

/* The range is declared in bn_options and checked by the host before init(). */
static int opt_int(bn_plugin *p, const char *name, int64_t *out)
{
    return p->h->config_int(p->ctx, name, out) == QTR_OK ? 0 : opt_fail(p, name, "not an integer");
}

static int opt_bool(bn_plugin *p, const char *name, bool *out)
{
    return p->h->config_bool(p->ctx, name, out) == QTR_OK ? 0 : opt_fail(p, name, "not a boolean");
}

/* "1000,2000,4000" or "BASE*COUNT" (BASE, 2*BASE, 4*BASE ...). */
static int parse_backoff(bn_plugin *p, const char *text)
{
    const char *name = "retry_backoff_ms";
    char *end;
    p->cfg.n_backoff = 0;
    const char *star = strchr(text, '*');
    if (star) {
        long long base = strtoll(text, &end, 10), count;
        if (end != star || base <= 0) return opt_fail(p, name, "BASE*COUNT needs a positive BASE");
        count = strtoll(star + 1, &end, 10);
        if (*end || count < 1 || count > BN_MAX_BACKOFF) return opt_fail(p, name, "COUNT must be 1..16");
        for (long long i = 0; i < count; i++) p->cfg.backoff_ms[p->cfg.n_backoff++] = base << i;
        return 0;
    }
    const char *s = text;
    while (*s) {
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || (*end && *end != ',')) return opt_fail(p, name, "expected a list like 1000,2000,4000");
        if (p->cfg.n_backoff >= BN_MAX_BACKOFF) return opt_fail(p, name, "at most 16 delays");
        p->cfg.backoff_ms[p->cfg.n_backoff++] = v;
        s = *end ? end + 1 : end;
    }
    return p->cfg.n_backoff ? 0 : opt_fail(p, name, "empty");
}

static int64_t kline_interval_ms(const char *iv)
{
    static const struct { const char *name; int64_t ms; } map[] = {
        { "1m", 60000 },     { "3m", 180000 },    { "5m", 300000 },     { "15m", 900000 },
        { "30m", 1800000 },  { "1h", 3600000 },   { "2h", 7200000 },    { "4h", 14400000 },
        { "6h", 21600000 },  { "8h", 28800000 },  { "12h", 43200000 },  { "1d", 86400000 },
        { "3d", 259200000 }, { "1w", 604800000 },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].name, iv)) return map[i].ms;
    return 0;
}

static int read_options(bn_plugin *p)
{
    bn_config *c = &p->cfg;
    const char *s;
    if (p->h->config_string(p->ctx, "base_url", &s) != QTR_OK) return opt_fail(p, "base_url", "missing");
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return opt_fail(p, "base_url", "must start with https:// or http://");
    if (strlen(s) >= sizeof c->base_url) return opt_fail(p, "base_url", "too long");
    qtr_strlcpy(c->base_url, s, sizeof c->base_url);
    size_t bl = strlen(c->base_url);
    while (bl && c->base_url[bl - 1] == '/') c->base_url[--bl] = '\0';

    const char *const *items = NULL;
    size_t n = 0;
    if (p->h->config_list(p->ctx, "symbols", &items, &n) == QTR_OK) {
        if (n > BN_MAX_SYMBOLS) return opt_fail(p, "symbols", "at most 32 symbols");
        for (size_t i = 0; i < n; i++) {
            if (!items[i][0]) continue;
            if (strlen(items[i]) >= QTR_SYMBOL_MAX) return opt_fail(p, "symbols", "a symbol is too long");
            c->symbols[c->n_symbols++] = items[i];
        }
    }
    if (opt_int(p, "recv_window", &c->recv_window_ms) || opt_int(p, "timeout_ms", &c->timeout_ms) ||
        opt_int(p, "poll_interval_ms", &c->poll_interval_ms) ||
        opt_bool(p, "rate_limit_enabled", &c->rate_limit_enabled) ||
        opt_int(p, "rate_limit_weight", &c->weight_limit) ||
        opt_int(p, "rate_limit_orders_10s", &c->orders_limit_10s) ||
        opt_int(p, "rate_limit_orders_1m", &c->orders_limit_1m) ||
        opt_int(p, "rate_limit_burst", &c->burst) ||
        opt_int(p, "rate_limit_margin_pct", &c->limit_margin_pct) ||
        opt_int(p, "backoff_429_ms", &c->backoff_429_ms) ||
        opt_int(p, "backoff_max_ms", &c->backoff_max_ms) ||
        opt_int(p, "max_429_retries", &c->max_429_retries) ||
        opt_int(p, "max_inflight", &c->max_inflight) ||
        opt_int(p, "done_orders_kept", &c->done_kept) || opt_int(p, "max_open_orders", &c->max_open) ||
        opt_int(p, "kline_poll_ms", &c->kline_poll_ms) ||
        opt_int(p, "kline_limit", &c->kline_limit) ||
        opt_int(p, "mark_poll_ms", &c->mark_poll_ms) ||
        opt_int(p, "depth_poll_ms", &c->depth_poll_ms) ||
        opt_int(p, "depth_limit", &c->depth_limit) || opt_int(p, "leverage", &c->leverage) ||
        opt_int(p, "time_sync_ms", &c->time_sync_ms) || opt_bool(p, "debug", &c->debug) ||
        opt_bool(p, "user_stream", &c->user_stream) || opt_bool(p, "market_stream", &c->market_stream) ||
        opt_int(p, "listen_key_keepalive_ms", &c->listen_key_keepalive_ms) ||
        opt_int(p, "stream_poll_ms", &c->stream_poll_ms) ||
        opt_int(p, "stream_stall_ms", &c->stream_stall_ms) ||
        opt_int(p, "stream_max_message", &c->stream_max_message) ||
        opt_int(p, "stream_backoff_ms", &c->stream_backoff_ms) ||
        opt_int(p, "stream_backoff_max_ms", &c->stream_backoff_max_ms))
        return -1;
    if (p->h->config_string(p->ctx, "stream_url", &s) != QTR_OK) return opt_fail(p, "stream_url", "missing");
    if (!strcmp(s, "auto")) s = !strcmp(c->base_url, "https://fapi.binance.com") ? "wss://fstream.binance.com" : "";
    if (s[0] && strncmp(s, "wss://", 6) != 0 && strncmp(s, "ws://", 5) != 0)
        return opt_fail(p, "stream_url", "must start with wss:// or ws:// (or be empty: polling only)");
    if (strlen(s) >= sizeof c->stream_url - 160) return opt_fail(p, "stream_url", "too long");
    qtr_strlcpy(c->stream_url, s, sizeof c->stream_url);
    bl = strlen(c->stream_url);
    while (bl && c->stream_url[bl - 1] == '/') c->stream_url[--bl] = '\0';
    if (p->h->config_string(p->ctx, "stream_ca_file", &s) != QTR_OK) return opt_fail(p, "stream_ca_file", "missing");
    if (strlen(s) >= sizeof c->stream_ca_file) return opt_fail(p, "stream_ca_file", "path too long");
    if (s[0] && access(s, R_OK) != 0) return opt_fail(p, "stream_ca_file", "not a readable file");
    qtr_strlcpy(c->stream_ca_file, s, sizeof c->stream_ca_file);
    if (c->stream_backoff_max_ms < c->stream_backoff_ms)
        return opt_fail(p, "stream_backoff_max_ms", "must be at least stream_backoff_ms");
    /* fresh_connection_for_orders was removed (with it off, libcurl resent
     * orders on dead reused connections): it is not in the option table, so
     * the host refuses it by name as an unknown option. Asking for it here
     * logged "not declared" at every start. */
    if (c->depth_limit != 5 && c->depth_limit != 10 && c->depth_limit != 20)
        return opt_fail(p, "depth_limit", "must be 5, 10 or 20");
    if (p->h->config_string(p->ctx, "retry_backoff_ms", &s) != QTR_OK) return opt_fail(p, "retry_backoff_ms", "missing");
    if (parse_backoff(p, s) != 0) return -1;   /* it names what is wrong */
    if (p->h->config_decimal(p->ctx, "min_fill_ratio", &c->min_fill_ratio) != QTR_OK)
        return opt_fail(p, "min_fill_ratio", "not a decimal");
    if (c->min_fill_ratio <= 0 || c->min_fill_ratio > QTR_DEC_SCALE)
        return opt_fail(p, "min_fill_ratio", "must be in (0, 1]");
    if (p->h->config_string(p->ctx, "kline_interval", &c->kline_interval) != QTR_OK ||
        !(c->kline_interval_ms = kline_interval_ms(c->kline_interval)))
        return opt_fail(p, "kline_interval", "not a Binance interval (1m, 5m, 1h, 1d ...)");
    c->jitter_seed = (uint32_t)p->h->mono_ns(p->ctx) | 1u;
    return 0;
}

/* The key goes into one header line; the secret only into the MAC context. */
static int read_secrets(bn_plugin *p)
{
    const char *key = getenv("QTR_BINANCE_API_KEY");
    const char *secret = getenv("QTR_BINANCE_API_SECRET");
    if (!key || !key[0]) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "environment variable QTR_BINANCE_API_KEY is not set");
        return -1;
    }
    if (!secret || !secret[0]) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "environment variable QTR_BINANCE_API_SECRET is not set");
        return -1;
    }
    for (const char *c = key; *c; c++)
        if (*c < 33 || *c > 126) {
            p->h->log(p->ctx, QTR_LOG_ERROR, "QTR_BINANCE_API_KEY holds a character not allowed in a header");
            return -1;
        }
    if (strlen(key) + 15 >= sizeof p->key_header) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "QTR_BINANCE_API_KEY is too long");
        return -1;
    }
    snprintf(p->key_header, sizeof p->key_header, "X-MBX-APIKEY: %s", key);
    p->signer = kx_signer_new(secret, strlen(secret));
    if (!p->signer) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "could not set up HMAC-SHA256 signing (OpenSSL)");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- start sequence */

static void load_info(bn_plugin *p);

static void on_leverage(bn_plugin *p, void *ud, const bn_result *r)
{
    (void)ud;
    if (r->kind == BN_RES_OK) {
        bn_jfield f[] = { BN_JFIELD("symbol"), BN_JFIELD("leverage") };
        char sym[QTR_SYMBOL_MAX] = "?";
        int64_t lev = -1;
        if (bn_jread_object(r->body, r->body_len, f, 2, NULL, 0) == 0) {
            if (!bn_jget_str(&f[0].val, "symbol", sym, sizeof sym, NULL, 0)) qtr_strlcpy(sym, "?", sizeof sym);
            if (!bn_jget_int(&f[1].val, "leverage", &lev, NULL, 0)) lev = -1;
        }
        p->h->log(p->ctx, QTR_LOG_INFO, "leverage %s: %lld", sym, (long long)lev);
        return;
    }
    p->h->log(p->ctx, QTR_LOG_ERROR, "POST /fapi/v1/leverage failed: %s (code %d)", r->msg, r->code);
    bn_set_health(p, QTR_HEALTH_DEGRADED, "setting leverage failed");
}

static void set_leverage(bn_plugin *p)
{
    if (p->cfg.leverage <= 0) return;
    for (size_t i = 0; i < p->cfg.n_symbols; i++) {
        kx_buf q;
        kx_buf_init(&q);
        kx_query_add(&q, "symbol", p->cfg.symbols[i]);
        kx_query_add_int(&q, "leverage", p->cfg.leverage);
        bn_call c = { .method = "POST", .path = "/fapi/v1/leverage", .params = kx_buf_str(&q), .is_signed = true,
                      .weight = 1 };
        bn_rest_enqueue(p, &c, on_leverage, NULL);
        kx_buf_free(&q);
    }
}

static void on_info(bn_plugin *p, void *ud, const bn_result *r)
{
    (void)ud;
    p->info_loading = false;
    char err[160] = "";
    bn_exchange_info info;
    if (r->kind == BN_RES_OK && bn_exchange_info_read(r->body, r->body_len, &info, err, sizeof err) == 0) {
        for (size_t i = 0; i < p->cfg.n_symbols; i++)
            if (!bn_rules_find(&info, p->cfg.symbols[i]))
                p->h->log(p->ctx, QTR_LOG_WARN, "symbol %s is not in exchangeInfo", p->cfg.symbols[i]);
        bn_exchange_info_free(&p->info);
        p->info = info;
        p->info_loaded = true;
        bn_rest_set_limits(p, info.limits, info.n_limits);
        p->h->log(p->ctx, QTR_LOG_INFO, "exchangeInfo: %zu symbols, %zu rate limits", info.n_symbols,
                  info.n_limits);
        bn_set_health(p, QTR_HEALTH_OK, "ready");
        set_leverage(p);
        return;
    }
    if (r->kind == BN_RES_OK) {
        bn_count_error(p, "malformed");
        p->h->log(p->ctx, QTR_LOG_ERROR, "GET /fapi/v1/exchangeInfo: %s", err);
    }
    p->info_attempts++;
    bn_set_health(p, QTR_HEALTH_DEGRADED, "exchangeInfo not loaded; orders are refused");
    int i = p->info_attempts - 1;
    bn_timer_once(p->info_retry_ev, p->cfg.backoff_ms[i < p->cfg.n_backoff ? i : p->cfg.n_backoff - 1]);
}

static void load_info(bn_plugin *p)
{
    if (p->info_loading || p->stopping) return;
    bn_call c = { .method = "GET", .path = "/fapi/v1/exchangeInfo", .weight = 1 };
    if (bn_rest_enqueue(p, &c, on_info, NULL) == QTR_OK) p->info_loading = true;
}

static void on_info_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    load_info(arg);
}


static void on_time_resync(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    bn_rest_sync_time(arg);
}

/* ------------------------------------------------------------- lifecycle */

typedef struct bn_instance {
    bn_plugin p;
    struct event *resync_ev;
} bn_instance;

static void destroy(void *state);

static int init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    if (!QTR_HOST_HAS(host, event_base)) {
        host->log(ctx, QTR_LOG_ERROR, "this host has no event loop service; the plugin needs one");
        return -1;
    }
    bn_instance *in = calloc(1, sizeof *in);
    if (!in) return -1;
    bn_plugin *p = &in->p;
    p->h = host;
    p->ctx = ctx;
    p->base = host->event_base(ctx);
    p->health.status = QTR_HEALTH_DEGRADED;
    qtr_strlcpy(p->health.reason, "starting", sizeof p->health.reason);
    if (!p->base || read_options(p) != 0 || read_secrets(p) != 0 || bn_rest_init(p) != 0 ||
        bn_orders_init(p) != 0 || bn_market_init(p) != 0 || bn_user_stream_init(p) != 0 || bn_market_streams_init(p) != 0) {
        destroy(in);
        return -1;
    }
    p->info_retry_ev = evtimer_new(p->base, on_info_retry, p);
    if (!p->info_retry_ev) {
        destroy(in);
        return -1;
    }
    *out = in;
    return 0;
}

static int start(void *state)
{
    bn_instance *in = state;
    bn_plugin *p = &in->p;
    p->started = true;
    bn_set_health(p, QTR_HEALTH_DEGRADED, "starting: loading server time and exchangeInfo");
    bn_rest_sync_time(p);
    load_info(p);
    bn_orders_start(p);
    bn_market_start(p);
    bn_user_stream_start(p);
    bn_market_streams_start(p);
    if (p->cfg.time_sync_ms > 0) {
        in->resync_ev = event_new(p->base, -1, EV_PERSIST, on_time_resync, p);
        struct timeval tv = { (time_t)(p->cfg.time_sync_ms / 1000), (suseconds_t)((p->cfg.time_sync_ms % 1000) * 1000) };
        if (in->resync_ev) event_add(in->resync_ev, &tv);
    }
    return 0;
}

static void stop(void *state)
{
    bn_instance *in = state;
    bn_user_stream_stop(&in->p);
    in->p.stopping = true;
    if (in->resync_ev) event_del(in->resync_ev);
    if (in->p.info_retry_ev) event_del(in->p.info_retry_ev);
}

static void destroy(void *state)
{
    bn_instance *in = state;
    if (!in) return;
    bn_plugin *p = &in->p;
    p->stopping = true;
    if (in->resync_ev) event_free(in->resync_ev);
    bn_rest_free(p);      /* drops pending requests: no callback runs after this */
    bn_user_stream_free(p);
    bn_market_streams_free(p);
    bn_orders_free(p);
    bn_snapshot_free(p);
    bn_rules_fetch_free(p);
    bn_market_free(p);
    if (p->info_retry_ev) event_free(p->info_retry_ev);
    bn_exchange_info_free(&p->info);
    kx_signer_free(p->signer);
    OPENSSL_cleanse(p->key_header, sizeof p->key_header);
    free(in);
}

static void health(void *state, qtr_health *out)
{
    *out = ((bn_instance *)state)->p.health;
}

static int op_submit(void *state, const qtr_order_intent *o) { return bn_orders_submit(&((bn_instance *)state)->p, o); }
static int op_cancel(void *state, const char *symbol, const char *cid)
{
    return bn_orders_cancel(&((bn_instance *)state)->p, symbol, cid);
}
static int op_cancel_all(void *state, const char *symbol) { return bn_orders_cancel_all(&((bn_instance *)state)->p, symbol); }
static int op_snapshot(void *state, qtr_snapshot_cb cb, void *ud)
{
    return bn_snapshot_fetch(&((bn_instance *)state)->p, cb, ud);
}

static int op_fetch_rules(void *state, qtr_rules_cb cb, void *ud)
{
    return bn_rules_fetch(&((bn_instance *)state)->p, cb, ud);
}

static int op_adopt(void *state, const qtr_order_update *known, const qtr_fill *fills, size_t n_fills)
{
    return bn_orders_adopt(&((bn_instance *)state)->p, known, fills, n_fills);
}

static const qtr_exchange_ops bn_exchange_ops = {
    .size = sizeof bn_exchange_ops,
    .submit_order = op_submit,
    .cancel_order = op_cancel,
    .cancel_all = op_cancel_all,
    .fetch_snapshot = op_snapshot,
    .adopt_order = op_adopt,
    .fetch_rules = op_fetch_rules,
};

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_EXCHANGE, .name = "binance_usdm", .version = "1.0.0",
                  .description = "Binance USD-M futures over REST (libcurl multi on the host loop)",
                  .options = bn_options, .init = init, .start = start, .stop = stop, .destroy = destroy,
                  .health = health, .exchange = &bn_exchange_ops);
