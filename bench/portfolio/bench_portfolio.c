/* bench_portfolio: qh_portfolio_mark and qh_portfolio_apply_fill calls per
 * second, over 200 symbols with open positions (the hash lookup included). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portfolio/portfolio.h"

#define N_SYMBOLS 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    char names[N_SYMBOLS][QTR_SYMBOL_MAX];
    qh_portfolio *pf = qh_portfolio_new(QTR_DEC_INT(1000000));
    if (!pf) return 1;
    for (int i = 0; i < N_SYMBOLS; i++) snprintf(names[i], sizeof names[i], "SYM%dUSDT", i);

    /* open a position in each symbol */
    qtr_fill f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < N_SYMBOLS; i++) {
        qtr_strlcpy(f.symbol, names[i], sizeof f.symbol);
        f.side = QTR_SIDE_BUY;
        f.qty = QTR_DEC_INT(10);
        f.price = QTR_DEC_INT(100);
        if (qh_portfolio_apply_fill(pf, &f, NULL) != 0) return 1;
    }

    const long marks = 20000000;
    int64_t t = INT64_C(1704067200000);
    double t0 = now_s();
    for (long k = 0; k < marks; k++) {
        /* price wanders 99.00..100.99 so every call changes the figures */
        qtr_dec price = QTR_DEC_INT(99) + (qtr_dec)(k % 200) * 1000000;
        if (qh_portfolio_mark(pf, names[k % N_SYMBOLS], price, t + k) != 0) return 1;
    }
    double dt_mark = now_s() - t0;

    const long fills = 5000000;
    t0 = now_s();
    for (long k = 0; k < fills; k++) {
        qtr_strlcpy(f.symbol, names[k % N_SYMBOLS], sizeof f.symbol);
        f.side = (k / N_SYMBOLS) % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY;   /* add, then reduce */
        f.qty = QTR_DEC_INT(1);
        f.price = QTR_DEC_INT(100) + (qtr_dec)(k % 97) * 1000000;
        f.fee = 4000000;
        f.time_ms = t + k;
        if (qh_portfolio_apply_fill(pf, &f, NULL) != 0) return 1;
    }
    double dt_fill = now_s() - t0;

    qtr_account a;
    qh_portfolio_account(pf, t + marks, &a);
    char eq[QTR_DEC_STRLEN];
    printf("symbols                 %d\n", N_SYMBOLS);
    printf("qh_portfolio_mark       %.2f million calls/s (%ld calls, %.3f s)\n", marks / dt_mark / 1e6, marks, dt_mark);
    printf("qh_portfolio_apply_fill %.2f million calls/s (%ld calls, %.3f s)\n", fills / dt_fill / 1e6, fills, dt_fill);
    printf("final equity            %s\n", qtr_dec_format(a.equity, eq));
    qh_portfolio_free(pf);
    return 0;
}
