/* json_encode.c — see json_encode.h. Field names follow the SDK structs so
 * that the API, the WebSocket and the headers read the same. */
#include "json_encode.h"

#include <stdio.h>
#include <string.h>

json_t *json_money(qtr_dec v)
{
    char buf[QTR_DEC_STRLEN];
    return json_string(qtr_dec_format(v, buf));
}

json_t *json_field(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    json_t *j = json_stringn(s, n);
    if (j) return j;
    /* fixed fields come from other plugins and may hold broken UTF-8: show
     * the ASCII and mark the rest rather than dropping the field */
    char buf[QTR_TEXT_MAX + 1];
    if (n > QTR_TEXT_MAX) n = QTR_TEXT_MAX;
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    return json_stringn(buf, n);
}

#define SET(o, k, v) json_object_set_new((o), (k), (v))

json_t *json_candle(const qtr_candle *c)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(c->symbol));
    SET(o, "open_time_ms", json_integer(c->open_time_ms));
    SET(o, "close_time_ms", json_integer(c->close_time_ms));
    SET(o, "open", json_money(c->open));
    SET(o, "high", json_money(c->high));
    SET(o, "low", json_money(c->low));
    SET(o, "close", json_money(c->close));
    SET(o, "volume", json_money(c->volume));
    return o;
}

json_t *json_trade(const qtr_trade *t)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(t->symbol));
    SET(o, "time_ms", json_integer(t->time_ms));
    SET(o, "price", json_money(t->price));
    SET(o, "qty", json_money(t->qty));
    SET(o, "aggressor", json_string(qtr_side_name(t->aggressor)));
    return o;
}

json_t *json_book_top(const qtr_book_top *b)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(b->symbol));
    SET(o, "time_ms", json_integer(b->time_ms));
    SET(o, "bid_price", json_money(b->bid_price));
    SET(o, "bid_qty", json_money(b->bid_qty));
    SET(o, "ask_price", json_money(b->ask_price));
    SET(o, "ask_qty", json_money(b->ask_qty));
    SET(o, "bid_depth_notional", json_money(b->bid_depth_notional));
    SET(o, "ask_depth_notional", json_money(b->ask_depth_notional));
    return o;
}

json_t *json_mark_price(const qtr_mark_price *m)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(m->symbol));
    SET(o, "time_ms", json_integer(m->time_ms));
    SET(o, "mark_price", json_money(m->mark_price));
    SET(o, "index_price", json_money(m->index_price));
    SET(o, "funding_rate", json_money(m->funding_rate));
    SET(o, "next_funding_ms", json_integer(m->next_funding_ms));
    return o;
}

static const char *tif_name(qtr_tif t)
{
    switch (t) {
    case QTR_TIF_GTC: return "GTC";
    case QTR_TIF_IOC: return "IOC";
    case QTR_TIF_FOK: return "FOK";
    case QTR_TIF_GTX: return "GTX";
    }
    return "?";
}

json_t *json_signal(const qtr_signal *s)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(s->symbol));
    SET(o, "time_ms", json_integer(s->time_ms));
    SET(o, "strategy", JSON_FIELD(s->strategy));
    SET(o, "side", json_string(qtr_side_name(s->side)));
    SET(o, "order_type", json_string(qtr_order_type_name(s->type)));
    SET(o, "tif", json_string(tif_name(s->tif)));
    SET(o, "qty", json_money(s->qty));
    SET(o, "price", json_money(s->price));
    SET(o, "reduce_only", json_boolean(s->reduce_only));
    SET(o, "confidence", json_real(s->confidence));   /* a score, not money */
    SET(o, "reason", JSON_FIELD(s->reason));
    return o;
}

json_t *json_order_intent(const qtr_order_intent *x)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(x->symbol));
    SET(o, "time_ms", json_integer(x->time_ms));
    SET(o, "client_id", JSON_FIELD(x->client_id));
    SET(o, "strategy", JSON_FIELD(x->strategy));
    SET(o, "side", json_string(qtr_side_name(x->side)));
    SET(o, "order_type", json_string(qtr_order_type_name(x->type)));
    SET(o, "tif", json_string(tif_name(x->tif)));
    SET(o, "qty", json_money(x->qty));
    SET(o, "price", json_money(x->price));
    SET(o, "stop_price", json_money(x->stop_price));
    SET(o, "reduce_only", json_boolean(x->reduce_only));
    SET(o, "confidence", json_real(x->confidence));
    SET(o, "reason", JSON_FIELD(x->reason));
    return o;
}

json_t *json_order_update(const qtr_order_update *x)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(x->symbol));
    SET(o, "time_ms", json_integer(x->time_ms));
    SET(o, "client_id", JSON_FIELD(x->client_id));
    SET(o, "exchange_id", JSON_FIELD(x->exchange_id));
    SET(o, "side", json_string(qtr_side_name(x->side)));
    SET(o, "order_type", json_string(qtr_order_type_name(x->type)));
    SET(o, "status", json_string(qtr_order_status_name(x->status)));
    SET(o, "qty", json_money(x->qty));
    SET(o, "price", json_money(x->price));
    SET(o, "filled_qty", json_money(x->filled_qty));
    SET(o, "avg_price", json_money(x->avg_price));
    SET(o, "reduce_only", json_boolean(x->reduce_only));
    SET(o, "external", json_boolean(x->external));
    SET(o, "reason", JSON_FIELD(x->reason));
    return o;
}

json_t *json_fill(const qtr_fill *f)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(f->symbol));
    SET(o, "time_ms", json_integer(f->time_ms));
    SET(o, "client_id", JSON_FIELD(f->client_id));
    SET(o, "fill_id", JSON_FIELD(f->fill_id));
    SET(o, "side", json_string(qtr_side_name(f->side)));
    SET(o, "qty", json_money(f->qty));
    SET(o, "price", json_money(f->price));
    SET(o, "fee", json_money(f->fee));
    SET(o, "maker", json_boolean(f->maker));
    SET(o, "reduce_only", json_boolean(f->reduce_only));
    return o;
}

json_t *json_position(const qtr_position *p)
{
    json_t *o = json_object();
    SET(o, "symbol", JSON_FIELD(p->symbol));
    SET(o, "time_ms", json_integer(p->time_ms));
    SET(o, "qty", json_money(p->qty));
    SET(o, "entry_price", json_money(p->entry_price));
    SET(o, "mark_price", json_money(p->mark_price));
    SET(o, "unrealized_pnl", json_money(p->unrealized_pnl));
    SET(o, "realized_pnl", json_money(p->realized_pnl));
    SET(o, "fees", json_money(p->fees));
    SET(o, "funding", json_money(p->funding));
    return o;
}

json_t *json_account(const qtr_account *a)
{
    json_t *o = json_object();
    SET(o, "time_ms", json_integer(a->time_ms));
    SET(o, "wallet_balance", json_money(a->wallet_balance));
    SET(o, "unrealized_pnl", json_money(a->unrealized_pnl));
    SET(o, "equity", json_money(a->equity));
    SET(o, "equity_peak", json_money(a->equity_peak));
    SET(o, "drawdown_pct", json_money(a->drawdown_pct));
    SET(o, "day_start_equity", json_money(a->day_start_equity));
    SET(o, "daily_pnl", json_money(a->daily_pnl));
    SET(o, "daily_drawdown_pct", json_money(a->daily_drawdown_pct));
    SET(o, "realized_pnl", json_money(a->realized_pnl));
    SET(o, "fees", json_money(a->fees));
    SET(o, "funding", json_money(a->funding));
    SET(o, "exposure", json_money(a->exposure));
    SET(o, "open_positions", json_integer(a->open_positions));
    return o;
}

json_t *json_ess_event(const qtr_ess_event *e)
{
    json_t *o = json_object();
    SET(o, "time_ms", json_integer(e->time_ms));
    SET(o, "state", json_string(qtr_ess_state_name(e->state)));
    SET(o, "previous", json_string(qtr_ess_state_name(e->previous)));
    SET(o, "reason", JSON_FIELD(e->reason));
    SET(o, "user", JSON_FIELD(e->user));
    SET(o, "cooldown_until_ms", json_integer(e->cooldown_until_ms));
    SET(o, "trips", json_integer(e->trips));
    SET(o, "resets", json_integer(e->resets));
    return o;
}

json_t *json_ess_status(const qtr_ess_status *s)
{
    json_t *o = json_object();
    SET(o, "state", json_string(qtr_ess_state_name(s->state)));
    SET(o, "trip_reason", JSON_FIELD(s->trip_reason));
    SET(o, "tripped_at_ms", json_integer(s->tripped_at_ms));
    SET(o, "cooldown_until_ms", json_integer(s->cooldown_until_ms));
    SET(o, "trips", json_integer(s->trips));
    SET(o, "resets", json_integer(s->resets));
    SET(o, "consecutive_exchange_errors", json_integer(s->consecutive_exchange_errors));
    return o;
}

json_t *json_policy_event(const qtr_policy_event *p)
{
    json_t *o = json_object();
    SET(o, "time_ms", json_integer(p->time_ms));
    SET(o, "ok", json_boolean(p->ok));
    SET(o, "file", JSON_FIELD(p->file));
    SET(o, "hash", JSON_FIELD(p->hash));
    SET(o, "error", JSON_FIELD(p->error));
    SET(o, "version", json_integer(p->version));
    return o;
}

json_t *json_policy_limits(const qtr_policy_limits *l)
{
    json_t *o = json_object();
    SET(o, "name", JSON_FIELD(l->name));
    SET(o, "hash", JSON_FIELD(l->hash));
    SET(o, "loaded_at_ms", json_integer(l->loaded_at_ms));
    SET(o, "version", json_integer(l->version));
    SET(o, "min_confidence", json_real(l->min_confidence));
    SET(o, "max_positions", json_integer(l->max_positions));
    SET(o, "max_symbols", json_integer(l->max_symbols));
    SET(o, "max_position_notional", json_money(l->max_position_notional));
    SET(o, "max_order_notional", json_money(l->max_order_notional));
    SET(o, "max_total_exposure", json_money(l->max_total_exposure));
    SET(o, "max_leverage", json_integer(l->max_leverage));
    SET(o, "max_abs_funding_rate", json_money(l->max_abs_funding_rate));
    SET(o, "max_spread_bps", json_money(l->max_spread_bps));
    SET(o, "min_depth_notional", json_money(l->min_depth_notional));
    SET(o, "ess_max_drawdown_pct", json_money(l->ess_max_drawdown_pct));
    SET(o, "ess_daily_loss_pct", json_money(l->ess_daily_loss_pct));
    SET(o, "ess_max_consecutive_errors", json_integer(l->ess_max_consecutive_errors));
    SET(o, "ess_cooldown_ms", json_integer(l->ess_cooldown_ms));
    SET(o, "ess_close_positions", json_boolean(l->ess_close_positions));
    SET(o, "alert_daily_drawdown_pct", json_money(l->alert_daily_drawdown_pct));
    json_t *syms = json_array();
    int n = l->n_symbols < 0 ? 0 : l->n_symbols > QTR_POLICY_MAX_SYMBOLS ? QTR_POLICY_MAX_SYMBOLS : l->n_symbols;
    for (int i = 0; i < n; i++) json_array_append_new(syms, JSON_FIELD(l->symbols[i]));
    SET(o, "symbols", syms);
    return o;
}

json_t *json_health_event(const qtr_health_event *h)
{
    json_t *o = json_object();
    SET(o, "time_ms", json_integer(h->time_ms));
    SET(o, "component", JSON_FIELD(h->component));
    SET(o, "status", json_string(qtr_health_status_name(h->health.status)));
    SET(o, "reason", JSON_FIELD(h->health.reason));
    return o;
}

static const char *severity_name(qtr_alert_severity s)
{
    return s == QTR_ALERT_INFO ? "INFO" : s == QTR_ALERT_WARNING ? "WARNING" : "CRITICAL";
}

json_t *json_alert(const qtr_alert *a)
{
    json_t *o = json_object();
    SET(o, "time_ms", json_integer(a->time_ms));
    SET(o, "severity", json_string(severity_name(a->severity)));
    SET(o, "source", JSON_FIELD(a->source));
    SET(o, "kind", JSON_FIELD(a->kind));
    SET(o, "text", JSON_FIELD(a->text));
    return o;
}

json_t *json_signal_record(const qtr_signal_record *r)
{
    json_t *o = json_signal(&r->signal);
    SET(o, "outcome", JSON_FIELD(r->outcome));
    SET(o, "outcome_reason", JSON_FIELD(r->reason));
    return o;
}

json_t *json_plugin_info(const qtr_plugin_info *p)
{
    json_t *o = json_object();
    char abi[16];
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major, (unsigned)p->abi_minor);
    SET(o, "name", JSON_FIELD(p->name));
    SET(o, "version", JSON_FIELD(p->version));
    SET(o, "kind", json_string(qtr_kind_name(p->kind)));
    SET(o, "abi", json_string(abi));
    SET(o, "path", JSON_FIELD(p->path));
    return o;
}
