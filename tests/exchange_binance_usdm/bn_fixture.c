/* bn_fixture.c — see bn_fixture.h. */
#include "bn_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bn_fx *g_fx; /* the log hook has no user data: one fixture at a time */

static void capture_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    (void)ctx;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    bn_fx *fx = g_fx;
    if (getenv("BN_TEST_VERBOSE")) fprintf(stderr, "[plugin %d] %s\n", (int)level, line);
    if (!fx) return;
    if (level >= QTR_LOG_ERROR) fx->m->n_logs_error++;
    if (fx->log_len + (size_t)n + 2 > fx->log_cap) {
        size_t cap = fx->log_cap ? fx->log_cap * 2 : 65536;
        while (cap < fx->log_len + (size_t)n + 2) cap *= 2;
        fx->log = realloc(fx->log, cap);
        fx->log_cap = cap;
    }
    memcpy(fx->log + fx->log_len, line, (size_t)n);
    fx->log_len += (size_t)n;
    fx->log[fx->log_len++] = '\n';
    fx->log[fx->log_len] = '\0';
}

bn_fx *fx_new(void)
{
    bn_fx *fx = calloc(1, sizeof *fx);
    fx->mx = mx_start();
    if (!fx->mx) {
        free(fx);
        return NULL;
    }
    fx->m = mock_host_new(true);
    fx->m->api.log = capture_log;
    g_fx = fx;
    setenv("QTR_BINANCE_API_KEY", FX_API_KEY, 1);
    setenv("QTR_BINANCE_API_SECRET", FX_SECRET, 1);
    mock_host_set_option(fx->m, "base_url", fx->mx->base_url);
    mock_host_set_option(fx->m, "retry_backoff_ms", "20,40,80");
    mock_host_set_option(fx->m, "poll_interval_ms", "40");
    mock_host_set_option(fx->m, "timeout_ms", "300");
    mock_host_set_option(fx->m, "backoff_429_ms", "20");
    mock_host_set_option(fx->m, "time_sync_ms", "0");
    /* short: an order answering -2013 is sent again only after its recvWindow */
    mock_host_set_option(fx->m, "recv_window", "1000");
    if (getenv("BN_TEST_DEBUG")) mock_host_set_option(fx->m, "debug", "true");
    return fx;
}

static bool is_ready(bn_fx *fx, const void *arg)
{
    (void)arg;
    qtr_health h;
    fx->plug.desc->health(fx->plug.state, &h);
    return h.status == QTR_HEALTH_OK;
}

bool fx_health_says(bn_fx *fx, const void *text)
{
    qtr_health h;
    fx->plug.desc->health(fx->plug.state, &h);
    return strstr(h.reason, text) != NULL;
}

void fx_stream_options(bn_fx *fx, const char *url)
{
    mock_host_set_option(fx->m, "stream_url", url);
    mock_host_set_option(fx->m, "stream_stall_ms", "400");
    mock_host_set_option(fx->m, "stream_backoff_ms", "20");
    mock_host_set_option(fx->m, "stream_backoff_max_ms", "100");
}

bool fx_load(bn_fx *fx)
{
    if (mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug) != 0) return false;
    fx->loaded = true;
    return fx_wait_ready(fx, 5000);
}

bool fx_wait_ready(bn_fx *fx, int64_t ms) { return fx_run_until(fx, ms, is_ready, NULL); }

void fx_free(bn_fx *fx)
{
    if (!fx) return;
    if (fx->loaded) mock_plugin_unload(fx->m, &fx->plug);
    mock_host_free(fx->m);
    mx_stop(fx->mx);
    if (g_fx == fx) g_fx = NULL;
    free(fx->log);
    free(fx);
}

typedef struct pred_box {
    bn_fx *fx;
    bool (*pred)(bn_fx *, const void *);
    const void *arg;
} pred_box;

static bool call_pred(void *ud)
{
    pred_box *b = ud;
    return b->pred(b->fx, b->arg);
}

bool fx_run_until(bn_fx *fx, int64_t ms, bool (*pred)(bn_fx *, const void *), const void *arg)
{
    pred_box b = { fx, pred, arg };
    return mock_host_run_until(fx->m, ms, call_pred, &b);
}

void fx_run_for(bn_fx *fx, int64_t ms) { mock_host_run_for(fx->m, ms); }

int fx_submit_as(bn_fx *fx, const char *cid, qtr_side side, const char *qty, bool reduce_only, const char *strategy)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
    qtr_strlcpy(o.client_id, cid, sizeof o.client_id);
    qtr_strlcpy(o.strategy, strategy ? strategy : "", sizeof o.strategy);
    o.side = side;
    o.type = QTR_ORDER_MARKET;
    o.qty = D(qty);
    o.reduce_only = reduce_only;
    return fx->plug.desc->exchange->submit_order(fx->plug.state, &o);
}

int fx_submit(bn_fx *fx, const char *cid, const char *symbol, qtr_side side, qtr_order_type type, const char *qty,
              const char *price)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    qtr_strlcpy(o.client_id, cid, sizeof o.client_id);
    o.side = side;
    o.type = type;
    o.qty = D(qty);
    if (type == QTR_ORDER_LIMIT) o.price = D(price);
    if (type == QTR_ORDER_STOP_MARKET || type == QTR_ORDER_TAKE_PROFIT_MARKET) o.stop_price = D(price);
    return fx->plug.desc->exchange->submit_order(fx->plug.state, &o);
}

long fx_ws_info(bn_fx *fx, const char *key)
{
    long status = 0;
    char *body = mx_get(fx->mx, "/mock/ws", &status);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    long v = (long)json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

void fx_load_streaming(bn_fx *fx, const char *poll_ms)
{
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%ld", fx_ws_info(fx, "port"));
    fx_stream_options(fx, url);
    mock_host_set_option(fx->m, "poll_interval_ms", poll_ms);
    assert_true(fx_load(fx));
}

bool fx_is_new(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && u->status == QTR_OS_NEW;
}

bn_fx *fx_loaded(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    return fx;
}

const qtr_order_update *fx_market_buy(bn_fx *fx, const char *cid)
{
    assert_int_equal(fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_OK);
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    return fx_last_update(fx, cid);
}

const qtr_order_update *fx_last_update(const bn_fx *fx, const char *cid)
{
    for (size_t i = fx->m->n_events; i > 0; i--) {
        const qtr_event *e = &fx->m->events[i - 1];
        if (e->type == QTR_EV_ORDER_UPDATE && !strcmp(e->u.order_update.client_id, cid)) return &e->u.order_update;
    }
    return NULL;
}

bool fx_saw_status(const bn_fx *fx, const char *cid, qtr_order_status st)
{
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type == QTR_EV_ORDER_UPDATE && !strcmp(e->u.order_update.client_id, cid) &&
            e->u.order_update.status == st)
            return true;
    }
    return false;
}

size_t fx_fills(const bn_fx *fx, const char *cid, qtr_dec *qty_sum)
{
    size_t n = 0;
    qtr_dec sum = 0;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type == QTR_EV_FILL && !strcmp(e->u.fill.client_id, cid)) {
            n++;
            sum += e->u.fill.qty;
        }
    }
    if (qty_sum) *qty_sum = sum;
    return n;
}

const qtr_fill *fx_fill(const bn_fx *fx, const char *cid, size_t index)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type == QTR_EV_FILL && !strcmp(e->u.fill.client_id, cid) && n++ == index) return &e->u.fill;
    }
    return NULL;
}

bool fx_final(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && qtr_order_status_final(u->status);
}

bool fx_all_final(bn_fx *fx, const void *cids)
{
    for (const char *const *c = cids; *c; c++)
        if (!fx_final(fx, *c)) return false;
    return true;
}

size_t fx_alerts(const bn_fx *fx, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type == QTR_EV_ALERT && !strcmp(e->u.alert.kind, kind)) n++;
    }
    return n;
}

bool fx_fills_match_updates(const bn_fx *fx, const char *cid)
{
    qtr_dec filled = 0;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type == QTR_EV_FILL && !strcmp(e->u.fill.client_id, cid)) filled += e->u.fill.qty;
        if (e->type == QTR_EV_ORDER_UPDATE && !strcmp(e->u.order_update.client_id, cid) &&
            e->u.order_update.filled_qty != filled)
            return false;
    }
    return true;
}

int fx_setup(void **state)
{
    bn_fx *fx = fx_new();
    if (!fx) return -1;
    *state = fx;
    return 0;
}

int fx_teardown(void **state)
{
    fx_free(*state);
    return 0;
}
