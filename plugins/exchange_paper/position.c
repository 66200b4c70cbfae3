/* The paper exchange's own positions, kept from its own fills (one-way mode). */
#include "paper.h"
#include "wide_div.h"

static qtr_dec sign_of(qtr_side side, qtr_dec qty) { return side == QTR_SIDE_BUY ? qty : -qty; }

void qtr_paper_position_apply(qtr_paper_position *pos, qtr_side side, qtr_dec qty, qtr_dec price, qtr_dec fee,
                              int64_t time_ms)
{
    qtr_dec delta = sign_of(side, qty);
    qtr_dec abs_pos = qtr_dec_abs(pos->qty);
    if (pos->qty == 0 || (pos->qty > 0) == (delta > 0)) {
        /* growing: the entry is the quantity-weighted average, exact to 1e-8 */
        qtr_paper_i128 cost = (qtr_paper_i128)abs_pos * pos->entry_price + (qtr_paper_i128)qty * price;
        pos->entry_price = (qtr_dec)qtr_paper_div_half_even(cost, (qtr_paper_i128)abs_pos + qty);
    } else {
        qtr_dec closed = qtr_dec_min(qty, abs_pos), pnl = 0;
        qtr_dec per_unit = pos->qty > 0 ? price - pos->entry_price : pos->entry_price - price;
        if (qtr_dec_mul(per_unit, closed, QTR_ROUND_HALF_EVEN, &pnl)) pos->realized_pnl += pnl;
        if (qty > abs_pos) pos->entry_price = price;   /* flipped: the rest opens at this price */
        else if (qty == abs_pos) pos->entry_price = 0;
    }
    pos->qty += delta;
    pos->fees += fee;
    pos->time_ms = time_ms;
}

qtr_dec qtr_paper_position_reducible(const qtr_paper_position *pos, qtr_side side)
{
    if (side == QTR_SIDE_BUY) return pos->qty < 0 ? -pos->qty : 0;
    return pos->qty > 0 ? pos->qty : 0;
}

void qtr_paper_position_report(const qtr_paper_symbol *sym, qtr_position *out)
{
    *out = (qtr_position){ 0 };
    qtr_strlcpy(out->symbol, sym->name, sizeof out->symbol);
    out->time_ms = sym->pos.time_ms;
    out->qty = sym->pos.qty;
    out->entry_price = sym->pos.entry_price;
    out->mark_price = sym->has_candle ? sym->last.close : sym->pos.entry_price;
    qtr_dec upnl = 0;
    if (qtr_dec_mul(out->mark_price - out->entry_price, out->qty, QTR_ROUND_HALF_EVEN, &upnl))
        out->unrealized_pnl = upnl;
    out->realized_pnl = sym->pos.realized_pnl;
    out->fees = sym->pos.fees;
}
