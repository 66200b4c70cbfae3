/* json_encode — the SDK's structs as jansson objects. Money is always a
 * decimal string (qtr_dec_format); counts and times are numbers. */
#ifndef DASH_JSON_ENCODE_H
#define DASH_JSON_ENCODE_H

#include <jansson.h>
#include <qtr/plugin.h>

json_t *json_money(qtr_dec v);
json_t *json_candle(const qtr_candle *c);
json_t *json_trade(const qtr_trade *t);
json_t *json_book_top(const qtr_book_top *b);
json_t *json_mark_price(const qtr_mark_price *m);
json_t *json_signal(const qtr_signal *s);
json_t *json_order_intent(const qtr_order_intent *o);
json_t *json_order_update(const qtr_order_update *o);
json_t *json_fill(const qtr_fill *f);
json_t *json_position(const qtr_position *p);
json_t *json_account(const qtr_account *a);
json_t *json_ess_event(const qtr_ess_event *e);
json_t *json_ess_status(const qtr_ess_status *s);
json_t *json_policy_event(const qtr_policy_event *p);
json_t *json_policy_limits(const qtr_policy_limits *l);
json_t *json_health_event(const qtr_health_event *h);
json_t *json_alert(const qtr_alert *a);
json_t *json_signal_record(const qtr_signal_record *r);
json_t *json_plugin_info(const qtr_plugin_info *p);

/* Bounded copy of a fixed-size char field (never reads past cap). */
json_t *json_field(const char *s, size_t cap);
#define JSON_FIELD(arr) json_field((arr), sizeof(arr))

#endif
