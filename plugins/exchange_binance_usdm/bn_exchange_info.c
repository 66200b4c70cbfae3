/*
 * bn_exchange_info.c — fetch_rules: GET /fapi/v1/exchangeInfo, handed back
 * as received once the plugin's own reader (bn_exchange_info_read) accepts
 * it, so a saved file is one the plugin and the paper exchange both read.
 */
#include "bn_exchange_info.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct bn_rules_wait {
    struct bn_rules_wait *next;    /* in p->rules_fetches until answered */
    qtr_rules_cb cb;
    void *ud;
} bn_rules_wait;

static void unlink_fetch(bn_plugin *p, bn_rules_wait *f)
{
    for (bn_rules_wait **q = &p->rules_fetches; *q; q = &(*q)->next)
        if (*q == f) {
            *q = f->next;
            return;
        }
}

static void answer(bn_rules_wait *f, int status, const char *text, size_t len)
{
    f->cb(f->ud, status, text, len);
    free(f);
}

static void on_info(bn_plugin *p, void *ud, const bn_result *r)
{
    bn_rules_wait *f = ud;
    unlink_fetch(p, f);
    char msg[320];
    int n;
    if (r->kind == BN_RES_OK) {
        bn_exchange_info info;
        char err[200] = "";
        if (bn_exchange_info_read(r->body, r->body_len, &info, err, sizeof err) == 0) {
            bn_exchange_info_free(&info);
            answer(f, QTR_OK, r->body, r->body_len);
            return;
        }
        n = snprintf(msg, sizeof msg, "GET /fapi/v1/exchangeInfo: the answer does not read as rules: %s", err);
        answer(f, QTR_EREFUSED, msg, n > 0 ? (size_t)n : 0);
        return;
    }
    /* an answer that came but was not JSON is the exchange's fault, not the
     * network's: refused, like an API error */
    bool answered = r->kind == BN_RES_API_ERROR || (r->http_status >= 200 && r->http_status < 300);
    if (r->kind == BN_RES_API_ERROR)
        n = snprintf(msg, sizeof msg, "GET /fapi/v1/exchangeInfo: refused: code %d %s", r->code, r->msg);
    else
        n = snprintf(msg, sizeof msg, "GET /fapi/v1/exchangeInfo: %s%s", answered ? "" : "no usable answer: ",
                     r->msg[0] ? r->msg : "failed");
    answer(f, answered ? QTR_EREFUSED : QTR_EIO, msg, n > 0 ? (size_t)n : 0);
}

int bn_rules_fetch(bn_plugin *p, qtr_rules_cb cb, void *ud)
{
    if (!cb) return QTR_EINVAL;
    bn_rules_wait *f = calloc(1, sizeof *f);
    if (!f) return QTR_EREFUSED;
    f->cb = cb;
    f->ud = ud;
    bn_call c = { .method = "GET", .path = "/fapi/v1/exchangeInfo", .weight = 1 };
    int rc = bn_rest_enqueue(p, &c, on_info, f);
    if (rc != QTR_OK) {
        free(f);
        return rc;
    }
    f->next = p->rules_fetches;
    p->rules_fetches = f;
    return QTR_OK;
}

void bn_rules_fetch_free(bn_plugin *p)
{
    while (p->rules_fetches) {
        bn_rules_wait *f = p->rules_fetches;
        p->rules_fetches = f->next;
        free(f);
    }
}
