#include "paper_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

int fx_try_start(fx *f, const char *const *pairs)
{
    memset(f, 0, sizeof *f);
    f->m = mock_host_new(false);
    f->m->now_ms = FX_T0;
    f->next_open_ms = FX_T0;
    for (size_t i = 0; pairs && pairs[i]; i += 2) mock_host_set_option(f->m, pairs[i], pairs[i + 1]);
    return mock_plugin_load(f->m, mock_plugin_path("exchange_paper"), &f->p);
}

void fx_start(fx *f, ...)
{
    const char *pairs[33];
    size_t n = 0;
    va_list ap;
    va_start(ap, f);
    for (const char *s; n < 32 && (s = va_arg(ap, const char *));) pairs[n++] = s;
    va_end(ap);
    pairs[n] = NULL;
    if (fx_try_start(f, pairs) != 0) fail_msg("exchange_paper did not load: %s", f->m->last_log);
    assert_string_equal(f->p.desc->name, "paper");
    assert_int_equal(f->p.desc->kind, QTR_KIND_EXCHANGE);
}

void fx_stop(fx *f)
{
    if (f->p.dl) mock_plugin_unload(f->m, &f->p);
    mock_host_free(f->m);
    f->m = NULL;
}

void fx_candle(fx *f, const char *symbol, const char *open, const char *high, const char *low, const char *close,
               const char *volume)
{
    int64_t t = f->next_open_ms;
    mock_host_advance(f->m, t + FX_INTERVAL - 1 - f->m->now_ms);
    mock_host_publish_candle(f->m, symbol, t, open, high, low, close, volume);
    f->next_open_ms = t + FX_INTERVAL;
}

/* An order of the test's, at the mock clock's time. */
static qtr_order_intent intent(const fx *f, const char *symbol, const char *client_id, qtr_side side,
                               qtr_order_type type, const char *qty)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    qtr_strlcpy(o.client_id, client_id, sizeof o.client_id);
    qtr_strlcpy(o.strategy, "test", sizeof o.strategy);
    o.time_ms = f->m->now_ms;
    o.side = side;
    o.type = type;
    o.qty = D(qty);
    return o;
}

static int submit(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type, qtr_tif tif,
                  const char *qty, const char *price, const char *stop, bool reduce_only)
{
    qtr_order_intent o = intent(f, symbol, client_id, side, type, qty);
    o.tif = tif;
    o.price = D(price);
    o.stop_price = D(stop);
    o.reduce_only = reduce_only;
    return f->p.desc->exchange->submit_order(f->p.state, &o);
}

int fx_submit(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type, qtr_tif tif,
              const char *qty, const char *price, bool reduce_only)
{
    return submit(f, symbol, client_id, side, type, tif, qty, price, "0", reduce_only);
}

int fx_submit_stop(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type,
                   const char *qty, const char *stop, bool reduce_only)
{
    return submit(f, symbol, client_id, side, type, QTR_TIF_GTC, qty, "0", stop, reduce_only);
}

int fx_submit_trailing(fx *f, const char *symbol, const char *client_id, qtr_side side, const char *qty,
                       const char *activation, uint32_t callback_bps, qtr_working_type working)
{
    qtr_order_intent o = intent(f, symbol, client_id, side, QTR_ORDER_TRAILING_STOP_MARKET, qty);
    o.activation_price = D(activation);
    o.callback_bps = callback_bps;
    o.working_type = working;
    o.reduce_only = true;
    return f->p.desc->exchange->submit_order(f->p.state, &o);
}

int fx_submit_stop_on(fx *f, const char *symbol, const char *client_id, qtr_side side, qtr_order_type type,
                      const char *qty, const char *stop, qtr_working_type working)
{
    qtr_order_intent o = intent(f, symbol, client_id, side, type, qty);
    o.stop_price = D(stop);
    o.working_type = working;
    o.reduce_only = true;
    return f->p.desc->exchange->submit_order(f->p.state, &o);
}

int fx_cancel(fx *f, const char *symbol, const char *client_id)
{
    return f->p.desc->exchange->cancel_order(f->p.state, symbol, client_id);
}

int fx_cancel_all(fx *f, const char *symbol) { return f->p.desc->exchange->cancel_all(f->p.state, symbol); }

size_t fx_updates(const fx *f, size_t from, const char *client_id, qtr_order_update *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = from; i < f->m->n_events; i++) {
        const qtr_event *ev = &f->m->events[i];
        if (ev->type != QTR_EV_ORDER_UPDATE || strcmp(ev->u.order_update.client_id, client_id) != 0) continue;
        if (n < cap) out[n] = ev->u.order_update;
        n++;
    }
    return n;
}

qtr_fill fx_only_fill(fx *f, size_t from, const char *client_id)
{
    qtr_fill fl[4];
    assert_int_equal(fx_fills(f, from, client_id, fl, 4), 1);
    return fl[0];
}

size_t fx_fills(const fx *f, size_t from, const char *client_id, qtr_fill *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = from; i < f->m->n_events; i++) {
        const qtr_event *ev = &f->m->events[i];
        if (ev->type != QTR_EV_FILL || strcmp(ev->u.fill.client_id, client_id) != 0) continue;
        if (n < cap) out[n] = ev->u.fill;
        n++;
    }
    return n;
}

qtr_dec fx_fee(qtr_dec price, qtr_dec qty, qtr_dec rate)
{
    __extension__ __int128 num = (__int128)price * qty * rate;   /* scale 1e24; test values stay small */
    __extension__ __int128 den = (__int128)QTR_DEC_SCALE * QTR_DEC_SCALE;
    return (qtr_dec)(num > 0 ? (num + den - 1) / den : num / den);
}
