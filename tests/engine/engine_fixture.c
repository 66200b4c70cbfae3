/* engine_fixture.c — see engine_fixture.h. */
#include "engine_fixture.h"

#include <event2/event.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

static void load_engine(efx *f, void (*before_load)(qh_engine *e, void *ud), void *ud)
{
    char err[1024] = "";
    f->base = event_base_new();
    assert_non_null(f->base);
    f->e = qh_engine_new(&f->cfg, f->base, 0, err, sizeof err);
    if (!f->e) fail_msg("engine: %s", err);
    if (before_load) before_load(f->e, ud);
    if (qh_engine_load(f->e, err, sizeof err) != 0) fail_msg("engine load: %s", err);
}

efx *efx_new(void) { return efx_new_with(""); }

efx *efx_new_with(const char *extra)
{
    efx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    /* mkdtemp's template: the prefix, then six 'X' it replaces */
    int n = snprintf(f->dir, sizeof f->dir, "/tmp/qtr-engine-");
    memset(f->dir + n, 'X', 6);
    f->dir[n + 6] = '\0';
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->log_path, sizeof f->log_path, "%s/host.log", f->dir);
    f->log = fopen(f->log_path, "w");
    assert_non_null(f->log);
    setvbuf(f->log, NULL, _IOLBF, 0);
    qh_log_init(f->log, QH_LOG_INFO, false);

    const char *src = getenv("QTR_SOURCE_DIR");
    char text[8192];
    int len = snprintf(text, sizeof text,
             "return {\n"
             "%s\n"
             "  mode = 'paper',\n"
             "  state_dir = '%s/var',\n"
             "  plugin_path = { '%s' },\n"
             "  market = { source = 'synthetic', symbols = { 'BTCUSDT' } },\n"
             "  account = { starting_balance = '1000000' },\n"
             "  policy = { file = '%s/policies/default.lua' },\n"
             "  plugins = {\n"
             "    { kind = 'exchange', name = 'rec' },\n"
             "    { kind = 'risk', name = 'approve' },\n"
             "    { kind = 'strategy', name = 'quiet', options = { symbols = { 'BTCUSDT', 'ETHUSDT', 'BTCUSDT' } } },\n"
             "    { kind = 'dashboard', name = 'panel' },\n"
             "  },\n"
             "}\n",
             extra, f->dir, ENGINE_FIXTURE_DIR, src ? src : ".");
    assert_true(len > 0 && (size_t)len < sizeof text);
    char err[512] = "";
    if (qh_config_load_string(text, "engine-test.lua", f->dir, &f->cfg, err, sizeof err) != 0)
        fail_msg("config: %s", err);
    load_engine(f, NULL, NULL);
    return f;
}

void efx_stop_engine(efx *f)
{
    if (f->e) qh_engine_free(f->e);
    f->e = NULL;
    if (f->base) event_base_free(f->base);
    f->base = NULL;
}

void efx_restart(efx *f, void (*before_load)(qh_engine *e, void *ud), void *ud)
{
    efx_stop_engine(f);
    load_engine(f, before_load, ud);
}

void efx_free(efx *f)
{
    efx_stop_engine(f);
    qh_config_free(&f->cfg);
    qh_log_init(stderr, QH_LOG_INFO, false);
    fclose(f->log);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
}

qh_plugin_rt *efx_plugin(efx *f, const char *name)
{
    for (size_t i = 0; i < f->e->n_plugins; i++)
        if (strcmp(f->e->plugins[i].ld.desc.name, name) == 0) return &f->e->plugins[i];
    fail_msg("no plugin %s", name);
    return NULL;
}

fx_exchange *efx_exchange(efx *f)
{
    assert_non_null(f->e->exchange);
    return f->e->exchange->state;
}

int efx_publish(efx *f, qh_plugin_rt *p, const qtr_event *ev) { return f->e->api.publish(&p->ctx, ev); }

static void on_seen(void *ud, const qtr_event *ev)
{
    efx_seen *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
        assert_non_null(s->items);
    }
    s->items[s->n++] = *ev;
}

void efx_watch(qh_engine *e, qtr_event_type type, efx_seen *out)
{
    memset(out, 0, sizeof *out);
    assert_non_null(qh_bus_subscribe(e->bus, type, NULL, on_seen, out, out));
}

void efx_seen_free(efx_seen *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

size_t efx_log_count(const efx *f, const char *needle) { return efx_file_count(f->log_path, needle); }

size_t efx_file_count(const char *path, const char *needle)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, in))
        if (strstr(line, needle)) n++;
    fclose(in);
    return n;
}

qtr_event efx_fill(const char *symbol, const char *fill_id, qtr_dec qty, qtr_dec price)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_fill *x = &ev.u.fill;
    qtr_strlcpy(x->symbol, symbol, sizeof x->symbol);
    qtr_strlcpy(x->fill_id, fill_id, sizeof x->fill_id);
    qtr_strlcpy(x->client_id, "test-order", sizeof x->client_id);
    x->side = qty > 0 ? QTR_SIDE_BUY : QTR_SIDE_SELL;
    x->qty = qty > 0 ? qty : -qty;
    x->price = price;
    x->time_ms = qh_wall_ms();
    return ev;
}

qtr_order_intent efx_market_buy(const char *symbol)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_MARKET;
    o.qty = QTR_DEC_INT(1);
    o.confidence = 1.0;
    return o;
}

void efx_price(efx *f, const char *symbol, qtr_dec price)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_candle *c = &ev.u.candle;
    qtr_strlcpy(c->symbol, symbol, sizeof c->symbol);
    c->open = c->high = c->low = c->close = price;
    c->volume = QTR_DEC_INT(1);
    c->close_time_ms = qh_clock_now_ms(f->e->clock);
    assert_int_equal(efx_publish(f, f->e->exchange, &ev), QTR_OK);
}

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

static void text_write(void *ud, const char *text, size_t len)
{
    text_buf *b = ud;
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

long long efx_metric(efx *f, const char *series)
{
    text_buf b = { 0 };
    qh_engine_metrics_write(f->e, text_write, &b);
    long long v = -1;
    size_t n = strlen(series);
    for (const char *p = b.data; p && (p = strstr(p, series)) != NULL; p += n) {
        if ((p == b.data || p[-1] == '\n') && p[n] == ' ') {
            v = strtoll(p + n + 1, NULL, 10);
            break;
        }
    }
    free(b.data);
    return v;
}

void efx_open_policy_and_price(efx *f)
{
    static const char text[] =
        "return { name = 'open',\n"
        "  limits = { max_positions = 10, max_symbols = 10, min_confidence = 0,\n"
        "             max_position_notional = '100000', max_order_notional = '100000',\n"
        "             max_total_exposure = '100000', max_leverage = 5 },\n"
        "  ess = { max_drawdown_pct = '10', daily_loss_pct = '5', max_consecutive_errors = 5,\n"
        "          cooldown_minutes = 15, close_positions = true, alert_daily_drawdown_pct = '4' },\n"
        "  judge = function(order, ctx) return 'allow' end }\n";
    char path[128];
    snprintf(path, sizeof path, "%s/open.lua", f->dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_true(fputs(text, out) >= 0);
    assert_int_equal(fclose(out), 0);
    qtr_policy_event pev;
    assert_int_equal(qh_policy_load(f->e->policy, path, qh_clock_now_ms(f->e->clock), &pev), 0);
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
}
