/*
 * The intra-candle path: a candle only tells its open, high, low and close,
 * so the paper exchange assumes the price went open -> the extreme nearer the
 * open -> the other extreme -> close (a tie goes to the low first), in straight
 * lines. Orders on one candle fill in the order this path reaches them, so a
 * stop and a take-profit on the same candle resolve the same way every time.
 */
#include "paper.h"

void qtr_paper_path_of(const qtr_candle *c, qtr_paper_path *out)
{
    bool high_first = c->high - c->open < c->open - c->low;
    out->p[0] = c->open;
    out->p[1] = high_first ? c->high : c->low;
    out->p[2] = high_first ? c->low : c->high;
    out->p[3] = c->close;
}

static bool beyond(qtr_dec v, qtr_dec target, bool down, bool strict)
{
    if (down) return strict ? v < target : v <= target;
    return strict ? v > target : v >= target;
}

bool qtr_paper_path_reach(const qtr_paper_path *pt, qtr_dec target, bool down, bool strict, qtr_paper_path_pos *out)
{
    for (int k = 0; k < 4; k++) {
        qtr_dec a = pt->p[k];
        if (beyond(a, target, down, strict)) {
            out->seg = k;
            out->dist = 0;
            return true;
        }
        if (k == 3) break;
        if (beyond(pt->p[k + 1], target, down, strict)) {
            out->seg = k;
            out->dist = down ? a - target : target - a;   /* > 0: a was not beyond */
            return true;
        }
    }
    return false;
}

int qtr_paper_path_cmp(const qtr_paper_path_pos *a, const qtr_paper_path_pos *b)
{
    if (a->seg != b->seg) return a->seg < b->seg ? -1 : 1;
    return (a->dist > b->dist) - (a->dist < b->dist);
}
