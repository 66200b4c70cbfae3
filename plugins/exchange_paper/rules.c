/*
 * Instrument rules: the paper exchange reads the same exchangeInfo JSON the
 * Binance plugin reads at start, and prepares each order with the same code
 * (kx_rules_prepare), so an order is rounded, refused and worded exactly as
 * the live plugin would. Without a file every symbol has price_tick and
 * min_qty_step, and no minimum quantity or notional.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "paper.h"

int qtr_paper_rules_load(qtr_paper *p, const char *path)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "option 'symbols_file': %s:%d: %s", path, je.line, je.text);
        return -1;
    }
    char err[256];
    int rc = bn_exchange_info_parse(root, &p->rules, err, sizeof err);
    json_decref(root);
    if (rc != 0) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "option 'symbols_file': %s: %s", path, err);
        return -1;
    }
    p->has_rules = true;
    p->h->log(p->ctx, QTR_LOG_INFO, "instrument rules of %zu symbols from %s", p->rules.n_symbols, path);
    return 0;
}

void qtr_paper_rules_free(qtr_paper *p)
{
    if (p->has_rules) bn_exchange_info_free(&p->rules);
    p->has_rules = false;
}

void qtr_paper_symbol_apply_rules(const qtr_paper *p, qtr_paper_symbol *sym)
{
    sym->tick = p->cfg.price_tick;
    sym->step = p->cfg.min_qty_step;
    sym->rules = p->has_rules ? bn_rules_find(&p->rules, sym->name) : NULL;
    if (sym->rules && sym->rules->tick > 0) sym->tick = sym->rules->tick;
    if (sym->rules) sym->step = sym->rules->lot_step;   /* never 0: the parser refuses it */
}
