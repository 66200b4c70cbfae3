/* exits_json.c — see exits_json.h. */
#include "exits_json.h"

static const char *position_side(qtr_dec qty) { return qty > 0 ? "LONG" : qty < 0 ? "SHORT" : "FLAT"; }

/* A distance is bps from the entry or an absolute price; null when off. */
static void distance(jw *w, const qtr_exit_distance *d)
{
    if (!d->bps && !d->price) {
        jw_null(w);
        return;
    }
    jw_begin_object(w);
    jw_key(w, "bps"); jw_int(w, d->bps);
    jw_key(w, "price"); jw_money(w, d->price);
    jw_end_object(w);
}

static void exit_order(jw *w, const qtr_exit_order_ref *o)
{
    jw_begin_object(w);
    jw_key(w, "client_id"); JW_FIELD(w, o->client_id);
    jw_key(w, "role"); jw_string(w, qtr_exit_role_name(o->role));
    jw_key(w, "level"); jw_int(w, o->level);
    jw_key(w, "side"); jw_string(w, qtr_side_name(o->side));
    jw_key(w, "order_type"); jw_string(w, qtr_order_type_name(o->type));
    jw_key(w, "qty"); jw_money(w, o->qty);
    jw_key(w, "stop_price"); jw_money(w, o->stop_price);
    jw_key(w, "activation_price"); jw_money(w, o->activation_price);
    jw_key(w, "callback_bps"); jw_int(w, o->callback_bps);
    jw_key(w, "activated"); jw_bool(w, o->activated);
    jw_key(w, "cancelling"); jw_bool(w, o->cancelling);
    jw_end_object(w);
}

/* Whether a live trailing stop (not being cancelled) has activated; null
 * when none rests. */
static void trailing_activated(jw *w, const qtr_exit_state *s)
{
    uint32_t n = s->n_orders < QTR_EXIT_LIVE_MAX ? s->n_orders : QTR_EXIT_LIVE_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (s->orders[i].role == QTR_EXIT_TRAILING && !s->orders[i].cancelling) {
            jw_bool(w, s->orders[i].activated);
            return;
        }
    jw_null(w);
}

void jw_exit_state(jw *w, const qtr_exit_state *s)
{
    const qtr_exit_params *p = &s->params;
    jw_begin_object(w);
    jw_key(w, "symbol"); JW_FIELD(w, s->symbol);
    jw_key(w, "owner"); JW_FIELD(w, s->owner);
    jw_key(w, "held"); jw_bool(w, s->held);
    jw_key(w, "position");
    jw_begin_object(w);
    jw_key(w, "side"); jw_string(w, position_side(s->position_qty));
    jw_key(w, "qty"); jw_money(w, s->position_qty);
    jw_key(w, "entry_price"); jw_money(w, s->entry_price);
    jw_key(w, "opened_ms"); jw_int(w, s->opened_ms);
    jw_end_object(w);
    jw_key(w, "working_type"); jw_string(w, s->working_type == QTR_WORKING_MARK ? "MARK" : "LAST");
    jw_key(w, "qty_step"); jw_money(w, s->qty_step);
    jw_key(w, "price_tick"); jw_money(w, s->price_tick);
    jw_key(w, "regime"); jw_string(w, qtr_regime_name(s->regime));
    jw_key(w, "regime_override"); jw_bool(w, s->regime_override);
    jw_key(w, "stop_loss"); distance(w, &p->stop_loss);
    jw_key(w, "take_profit");
    jw_begin_array(w);
    uint32_t n_tp = p->n_take_profit < QTR_EXIT_TP_MAX ? p->n_take_profit : QTR_EXIT_TP_MAX;
    for (uint32_t i = 0; i < n_tp; i++) {
        jw_begin_object(w);
        jw_key(w, "level"); jw_int(w, i);
        jw_key(w, "bps"); jw_int(w, p->take_profit[i].at.bps);
        jw_key(w, "price"); jw_money(w, p->take_profit[i].at.price);
        jw_key(w, "share_bps"); jw_int(w, p->take_profit[i].share_bps);
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_key(w, "trailing");
    if (p->trailing_callback_bps) {
        jw_begin_object(w);
        jw_key(w, "callback_bps"); jw_int(w, p->trailing_callback_bps);
        jw_key(w, "activation"); distance(w, &p->trailing_activation);
        jw_key(w, "activated"); trailing_activated(w, s);
        jw_end_object(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "time_stop");
    if (p->time_stop_ms) {
        jw_begin_object(w);
        jw_key(w, "after_ms"); jw_int(w, p->time_stop_ms);
        jw_key(w, "at_ms"); jw_int(w, s->time_stop_at_ms);
        jw_key(w, "sent"); jw_bool(w, s->time_stop_sent);
        jw_end_object(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "replaces"); jw_int(w, s->replaces);
    jw_key(w, "orders");
    jw_begin_array(w);
    uint32_t n = s->n_orders < QTR_EXIT_LIVE_MAX ? s->n_orders : QTR_EXIT_LIVE_MAX;
    for (uint32_t i = 0; i < n; i++) exit_order(w, &s->orders[i]);
    jw_end_array(w);
    jw_end_object(w);
}
