/*
 * A test exchange that refuses every order it is sent (submit_order returns
 * QTR_EIO), as an exchange that is down would: stress_ess.py uses it to trip
 * the ESS on `max_consecutive_errors` exchange errors in a row. Built from
 * the SDK header alone, with one cc line.
 */
#include <stdlib.h>

#include <qtr/plugin.h>

typedef struct ex {
    const qtr_host *h;
    qtr_ctx *ctx;
    unsigned long refused;
} ex;

static int submit(void *state, const qtr_order_intent *o)
{
    ex *x = state;
    x->h->log(x->ctx, QTR_LOG_WARN, "refusing order %s (%lu refused)", o->client_id, ++x->refused);
    return QTR_EIO;
}

static int cancel(void *state, const char *symbol, const char *client_id)
{
    (void)state;
    (void)symbol;
    (void)client_id;
    return QTR_OK;
}

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    ex *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->h = h;
    x->ctx = ctx;
    *out = x;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_exchange_ops ops = { .size = sizeof ops, .submit_order = submit, .cancel_order = cancel };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_EXCHANGE, .name = "refusing", .version = "1", .init = init, .destroy = destroy,
                  .exchange = &ops)
