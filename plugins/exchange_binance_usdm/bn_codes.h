/* bn_codes — the Binance USD-M API error codes the plugin acts on, by name.
 * Source: the exchange's error-code.md (docs/binance.md; the reference in
 * /work/shared/reference lists them). A body {"code":-2013,"msg":"..."}
 * carries one; the plugin also uses BN_ERR_TOO_MANY_REQUESTS for a 429/418
 * or a transport failure that never reached the exchange. */
#ifndef BN_CODES_H
#define BN_CODES_H

enum bn_api_code {
    BN_ERR_UNKNOWN = -1000,             /* unknown error: the order's fate is unknown              */
    BN_ERR_DISCONNECTED = -1001,        /* internal error; the fate is unknown, may be resent      */
    BN_ERR_TOO_MANY_REQUESTS = -1003,   /* request weight exceeded (429) or the IP is banned (418) */
    BN_ERR_UNEXPECTED_RESP = -1006,     /* unexpected answer from the engine: fate unknown         */
    BN_ERR_TIMEOUT = -1007,             /* the engine did not answer in time: fate unknown         */
    BN_ERR_THROTTLED = -1008,           /* throttled by system protection: treated as fate unknown */
    BN_ERR_TOO_MANY_ORDERS = -1015,     /* too many new orders (order-count limit)                 */
    BN_ERR_TIMESTAMP = -1021,           /* timestamp outside recvWindow or 1000 ms ahead           */
    BN_ERR_BAD_PRECISION = -1111,       /* more decimals than the asset allows                     */
    BN_ERR_BAD_LISTEN_KEY = -1125,      /* the listenKey does not exist (expired or closed)        */
    BN_ERR_CANCEL_REJECTED = -2011,     /* cancel refused: unknown order                           */
    BN_ERR_NO_SUCH_ORDER = -2013,       /* order does not exist (yet: the engine may lag the API)  */
    BN_ERR_REDUCE_ONLY_REJECTED = -2022,/* a reduce-only order would not reduce                    */
    BN_ERR_PRICE_NOT_TICK = -4014,      /* price not a multiple of the tick size                   */
    BN_ERR_DUPLICATE_CLIENT_ID = -4116, /* an open order has this clientOrderId: an earlier send landed */
    BN_ERR_MIN_NOTIONAL = -4164,        /* notional below the symbol's minimum                     */
};

/* The codes that leave an order's fate unknown: query it, never guess. */
static inline int bn_code_fate_unknown(int code)
{
    return code == BN_ERR_UNKNOWN || code == BN_ERR_DISCONNECTED || code == BN_ERR_UNEXPECTED_RESP ||
           code == BN_ERR_TIMEOUT || code == BN_ERR_THROTTLED;
}

#endif
