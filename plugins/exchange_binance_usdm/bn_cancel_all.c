/*
 * bn_cancel_all.c — qtr_exchange_ops.cancel_all: the ESS's cancel-all.
 *
 * Per symbol, two legs on the ESS lane, each retried on its own:
 *   1. DELETE /fapi/v1/allOpenOrders: every plain order (limits, and the
 *      market orders a triggered conditional order placed);
 *   2. GET /fapi/v1/openAlgoOrders, then DELETE /fapi/v1/algoOrder for each
 *      conditional order that could open or add to a position, ours or not
 *      (placed by hand, or left by an earlier run).
 * A reduce-only (or closePosition) conditional order stays: it can only
 * close, and it is the position's protection while the ESS keeps the
 * position open (the exits' stops, or a stop the trader placed by hand).
 * The blanket DELETE /fapi/v1/algoOpenOrders is therefore not used: it
 * would take the stops too. docs/binance.md, "cancel_all".
 *
 * A leg whose answer is unknown (timeout, 5xx) or refused (429s) is sent
 * again after the plugin's backoff, at most n_backoff times, then alerted
 * (exchange_cancel_all_failed); one leg failing never holds the other. A
 * cancel_all while a leg of the same symbol is out is remembered and that
 * leg runs once more when it ends (orders placed meanwhile are caught), so
 * repeated calls (the host calls it every ESS tick while blocked) never
 * pile up requests.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "bn_codes.h"
#include "bn_json.h"
#include "bn_plugin.h"
#include "kx_buf.h"

enum { LEG_PLAIN, LEG_ALGO, LEGS };

static const char *const leg_path[LEGS] = { "DELETE /fapi/v1/allOpenOrders", "GET /fapi/v1/openAlgoOrders" };

typedef struct bn_leg {
    bool busy;            /* a request out, or waiting to retry          */
    bool again;           /* cancel_all called meanwhile: run once more  */
    int tries;            /* failed answers in a row                     */
    int unknown_out;      /* algo leg: cancels of other orders out       */
    bool unknown_failed;  /* ... and one of them failed                  */
    struct event *retry_ev;
} bn_leg;

struct bn_sweep {
    struct bn_sweep *next;
    bn_plugin *p;
    char symbol[QTR_SYMBOL_MAX];
    bn_leg leg[LEGS];
};

typedef struct leg_ref {
    struct bn_sweep *s;
    int leg;
} leg_ref;

static void run_leg(struct bn_sweep *s, int leg);

static struct bn_sweep *sweep_for(bn_plugin *p, const char *symbol)
{
    for (struct bn_sweep *s = p->sweeps; s; s = s->next)
        if (!strcmp(s->symbol, symbol)) return s;
    struct bn_sweep *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = p;
    qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    s->next = p->sweeps;
    p->sweeps = s;
    return s;
}

static void on_leg_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    leg_ref *ref = arg;
    ref->s->leg[ref->leg].busy = false;
    run_leg(ref->s, ref->leg);
}

/* The leg ended well: run it again if asked meanwhile. */
static void leg_done(struct bn_sweep *s, int leg)
{
    bn_leg *l = &s->leg[leg];
    l->busy = false;
    l->tries = 0;
    if (l->again) run_leg(s, leg);
}

/* The leg failed: send it again after the backoff, or give up loudly. */
static void leg_failed(struct bn_sweep *s, int leg, const char *why)
{
    bn_plugin *p = s->p;
    bn_leg *l = &s->leg[leg];
    l->tries++;
    if (l->tries > p->cfg.n_backoff) {
        char text[QTR_TEXT_MAX];
        kx_fmt(text, sizeof text, "cancel-all of %s: %s failed %d times (%s); not tried again until the next cancel-all",
               s->symbol, leg_path[leg], l->tries, why);
        p->h->log(p->ctx, QTR_LOG_ERROR, "%s", text);
        bn_alert(p, QTR_ALERT_CRITICAL, "exchange_cancel_all_failed", text);
        l->busy = false;
        l->tries = 0;
        if (l->again) run_leg(s, leg);
        return;
    }
    int64_t delay = bn_backoff_at(p, l->tries - 1);
    p->h->log(p->ctx, QTR_LOG_WARN, "cancel-all of %s: %s: %s; sending it again in %lld ms", s->symbol, leg_path[leg],
              why, (long long)delay);
    if (!l->retry_ev) {
        leg_ref *ref = malloc(sizeof *ref);
        if (ref) {
            *ref = (leg_ref){ s, leg };
            l->retry_ev = evtimer_new(p->base, on_leg_retry, ref);
            if (!l->retry_ev) free(ref);
        }
    }
    if (!l->retry_ev) { /* no timer: the next cancel-all sends it */
        l->busy = false;
        return;
    }
    bn_timer_once(l->retry_ev, delay);
}

/* An answer worth a retry: unknown fate, 429s, or an exchange error that
 * says its status is unknown. A plain refusal (bad symbol) is not. */
static bool retryable(const bn_result *r)
{
    return r->kind == BN_RES_UNKNOWN || r->kind == BN_RES_REFUSED ||
           (r->kind == BN_RES_API_ERROR && bn_code_fate_unknown(r->code));
}

static void on_plain(bn_plugin *p, void *ud, const bn_result *r)
{
    struct bn_sweep *s = ud;
    if (r->kind != BN_RES_OK) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "DELETE /fapi/v1/allOpenOrders %s: %s (code %d)", s->symbol, r->msg, r->code);
        /* what did go is learnt from the exchange below either way */
    }
    /* Learn each order's final state from the exchange. */
    for (bn_order *o = p->active; o; o = o->anext)
        if (o->phase == BN_PH_OPEN && !strcmp(o->intent.symbol, s->symbol)) bn_orders_query(o);
    if (retryable(r)) leg_failed(s, LEG_PLAIN, r->msg);
    else leg_done(s, LEG_PLAIN);
}

/* The algo leg ends when the list is read and every cancel it sent is answered. */
static void algo_leg_settle(struct bn_sweep *s)
{
    bn_leg *l = &s->leg[LEG_ALGO];
    if (l->unknown_out > 0) return;
    if (l->unknown_failed) {
        l->unknown_failed = false;
        leg_failed(s, LEG_ALGO, "a conditional order's cancel failed");
    } else {
        leg_done(s, LEG_ALGO);
    }
}

static void on_algo_cancel(bn_plugin *p, void *ud, const bn_result *r)
{
    struct bn_sweep *s = ud;
    bn_leg *l = &s->leg[LEG_ALGO];
    l->unknown_out--;
    if (r->kind == BN_RES_OK) {
        p->h->log(p->ctx, QTR_LOG_INFO, "cancel-all of %s: a conditional order not placed by this run cancelled",
                  s->symbol);
    } else if (r->kind == BN_RES_API_ERROR && r->code == BN_ERR_CANCEL_REJECTED) {
        /* already gone (triggered or cancelled meanwhile): its order, if any, is a plain one */
    } else {
        p->h->log(p->ctx, QTR_LOG_WARN, "cancel-all of %s: DELETE /fapi/v1/algoOrder: %s (code %d)", s->symbol, r->msg,
                  r->code);
        l->unknown_failed = true;
    }
    algo_leg_settle(s);
}

/* A conditional order that can only close a position: kept. A row whose
 * flags cannot be read is not proven protective: it is cancelled. */
static bool only_closes(const bn_jfield *f)
{
    bool ro = false, cp = false;
    return (bn_jget_bool(&f[1].val, "reduceOnly", &ro, NULL, 0) && ro) ||
           (f[2].val.type != BN_JNONE && bn_jget_bool(&f[2].val, "closePosition", &cp, NULL, 0) && cp);
}

static int algo_row(void *ud, size_t i, const bn_jval *row)
{
    (void)i;
    struct bn_sweep *s = ud;
    bn_plugin *p = s->p;
    char cid[QTR_CLIENT_ID_MAX], err[160] = "";
    bn_jfield f[] = { BN_JFIELD("clientAlgoId"), BN_JFIELD("reduceOnly"), BN_JFIELD("closePosition") };
    if (bn_jread_object(row->p, row->n, f, 3, err, sizeof err) != 0 ||
        !bn_jget_str(&f[0].val, "clientAlgoId", cid, sizeof cid, err, sizeof err)) {
        bn_count_bad(p, leg_path[LEG_ALGO], s->symbol, err);
        s->leg[LEG_ALGO].unknown_failed = true; /* listed again on the retry */
        return 0;
    }
    if (only_closes(f)) return 0;
    const bn_order *ours = bn_orders_find(p, cid);
    if (ours && ours->phase != BN_PH_DONE) {
        bn_orders_cancel(p, s->symbol, cid); /* ours: followed to its end */
        return 0;
    }
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", s->symbol);
    kx_query_add(&q, "clientAlgoId", cid);
    bn_call c = { .lane = BN_LANE_ESS, .method = "DELETE", .path = "/fapi/v1/algoOrder", .params = kx_buf_str(&q),
                  .is_signed = true, .weight = 1, .expected_code = BN_ERR_CANCEL_REJECTED };
    if (!q.oom && bn_rest_enqueue(p, &c, on_algo_cancel, s) == QTR_OK) s->leg[LEG_ALGO].unknown_out++;
    else s->leg[LEG_ALGO].unknown_failed = true;
    kx_buf_free(&q);
    return 0;
}

static void on_algo_list(bn_plugin *p, void *ud, const bn_result *r)
{
    struct bn_sweep *s = ud;
    char err[160] = "";
    if (r->kind != BN_RES_OK) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "GET /fapi/v1/openAlgoOrders %s: %s (code %d)", s->symbol, r->msg, r->code);
        if (retryable(r)) leg_failed(s, LEG_ALGO, r->msg);
        else leg_done(s, LEG_ALGO);
        return;
    }
    s->leg[LEG_ALGO].unknown_failed = false;
    if (bn_jread_each(r->body, r->body_len, algo_row, s, err, sizeof err) < 0) {
        bn_count_bad(p, leg_path[LEG_ALGO], s->symbol, err);
        s->leg[LEG_ALGO].unknown_failed = true;
    }
    algo_leg_settle(s);
}

static void run_leg(struct bn_sweep *s, int leg)
{
    bn_plugin *p = s->p;
    bn_leg *l = &s->leg[leg];
    if (l->busy) {
        l->again = true;
        return;
    }
    l->again = false;
    kx_buf q;
    kx_buf_init(&q);
    kx_query_add(&q, "symbol", s->symbol);
    bn_call c = { .lane = BN_LANE_ESS, .params = kx_buf_str(&q), .is_signed = true, .weight = 1 };
    if (leg == LEG_PLAIN) {
        c.method = "DELETE";
        c.path = "/fapi/v1/allOpenOrders";
    } else {
        c.method = "GET";
        c.path = "/fapi/v1/openAlgoOrders"; /* 1 with a symbol */
    }
    int rc = q.oom ? QTR_EREFUSED : bn_rest_enqueue(p, &c, leg == LEG_PLAIN ? on_plain : on_algo_list, s);
    kx_buf_free(&q);
    if (rc == QTR_OK) l->busy = true;
    else p->h->log(p->ctx, QTR_LOG_ERROR, "cancel-all of %s: %s not sent (%d)", s->symbol, leg_path[leg], rc);
}

int bn_orders_cancel_all(bn_plugin *p, const char *symbol)
{
    /* Ours first: an order not on the exchange yet is cancelled when it
     * lands. A reduce-only conditional order is kept (see the top). */
    for (bn_order *o = p->active; o; o = o->anext)
        if ((!symbol || !strcmp(symbol, o->intent.symbol)) && !(o->algo && !o->algo_triggered && o->intent.reduce_only))
            o->cancel_requested = true;
    int result = QTR_OK;
    for (size_t i = 0; i < p->cfg.n_symbols || (symbol && i == 0); i++) {
        const char *sym = symbol ? symbol : p->cfg.symbols[i];
        struct bn_sweep *s = sweep_for(p, sym);
        if (!s) {
            result = QTR_EREFUSED;
        } else {
            for (int leg = 0; leg < LEGS; leg++) run_leg(s, leg);
        }
        if (symbol) break;
    }
    return result;
}

void bn_cancel_all_free(bn_plugin *p)
{
    while (p->sweeps) {
        struct bn_sweep *s = p->sweeps;
        p->sweeps = s->next;
        for (int leg = 0; leg < LEGS; leg++)
            if (s->leg[leg].retry_ev) {
                free(event_get_callback_arg(s->leg[leg].retry_ev));
                event_free(s->leg[leg].retry_ev);
            }
        free(s);
    }
}
