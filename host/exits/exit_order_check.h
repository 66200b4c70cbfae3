/* The fields of conditional orders the pipeline checks before any order
 * goes further (pipeline.c calls it next to its other field checks). */
#ifndef QH_EXIT_ORDER_CHECK_H
#define QH_EXIT_ORDER_CHECK_H

#include <qtr/events.h>

/* Binance's callbackRate range, 0.1% .. 10%, in basis points. */
#define QH_TRAILING_CALLBACK_MIN_BPS 10u
#define QH_TRAILING_CALLBACK_MAX_BPS 1000u

/* NULL when the conditional fields of o are sound, else the reason
 * ("invalid: ..."): a working type that is not LAST or MARK, a trailing stop
 * whose callback is outside 10..1000 bps or whose activation price is
 * negative. Orders that are not trailing must leave activation_price and
 * callback_bps at 0 (a stray value is a caller's mistake, not ignored). */
const char *qh_exit_order_invalid(const qtr_order_intent *o);

#endif
