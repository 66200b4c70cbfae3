/*
 * bn_stream_market.c — market data over combined streams
 * (<stream_url>/<route>/stream?streams=a/b/c, each message
 * {"stream":name,"data":{...}}): closed klines (<s>@kline_<interval>),
 * mark price and funding (<s>@markPrice@1s) and the top of the book
 * (<s>@bookTicker). Binance serves bookTicker on the /public route and
 * klines and mark prices on /market, so these are two connections (each
 * one combined stream for every symbol); a kind is streamed when its
 * polling interval (kline_poll_ms, mark_poll_ms, depth_poll_ms) is set,
 * and polling of that kind stops while its stream is up.
 *
 * Klines are published in order, each once (bn_market.c): a closed kline
 * that does not follow the last one published is a gap, backfilled over
 * REST; every reconnect backfills too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx_buf.h"
#include "bn_json.h"
#include "bn_plugin.h"
#include "bn_stream.h"

#define URL_MAX 4096

typedef struct bn_md_stream {
    bn_stream s;
    const char *route;        /* "market" or "public" */
    bool klines, marks, books;
} bn_md_stream;

struct bn_market_streams {
    bn_md_stream market, book;
};

/* ---------------------------------------------------------------- reading */

static int read_kline(bn_plugin *p, const bn_jval *d, qtr_candle *c, bool *closed, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    bn_jfield df[] = { BN_JFIELD("s"), BN_JFIELD("k") };
    bn_jfield kf[] = { BN_JFIELD("t"), BN_JFIELD("T"), BN_JFIELD("o"), BN_JFIELD("h"),
                       BN_JFIELD("l"), BN_JFIELD("c"), BN_JFIELD("v"), BN_JFIELD("x") };
    if (bn_jread_object(d->p, d->n, df, 2, err, errlen) != 0) return -1;
    if (df[1].val.type != BN_JOBJECT) {
        kx_fmt(err, errlen, "kline: field 'k': not an object");
        return -1;
    }
    const bn_jval *k = &df[1].val;
    if (bn_jread_object(k->p, k->n, kf, 8, err, errlen) != 0 ||
        !bn_jget_str(&df[0].val, "s", c->symbol, sizeof c->symbol, err, errlen) ||
        !bn_jget_int(&kf[0].val, "t", &c->open_time_ms, err, errlen) ||
        !bn_jget_int(&kf[1].val, "T", &c->close_time_ms, err, errlen) ||
        !bn_jget_dec(&kf[2].val, "o", &c->open, err, errlen) || !bn_jget_dec(&kf[3].val, "h", &c->high, err, errlen) ||
        !bn_jget_dec(&kf[4].val, "l", &c->low, err, errlen) || !bn_jget_dec(&kf[5].val, "c", &c->close, err, errlen) ||
        !bn_jget_dec(&kf[6].val, "v", &c->volume, err, errlen) || !bn_jget_bool(&kf[7].val, "x", closed, err, errlen))
        return -1;
    if (c->close_time_ms != c->open_time_ms + p->cfg.kline_interval_ms - 1) {
        kx_fmt(err, errlen, "kline of %s: not a %s candle", c->symbol, p->cfg.kline_interval);
        return -1;
    }
    return 0;
}

static int read_mark(const bn_jval *d, qtr_mark_price *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    bn_jfield f[] = { BN_JFIELD("s"), BN_JFIELD("p"), BN_JFIELD("i"), BN_JFIELD("r"), BN_JFIELD("T"), BN_JFIELD("E") };
    return bn_jread_object(d->p, d->n, f, 6, err, errlen) == 0 &&
                   bn_jget_str(&f[0].val, "s", m->symbol, sizeof m->symbol, err, errlen) &&
                   bn_jget_dec(&f[1].val, "p", &m->mark_price, err, errlen) &&
                   bn_jget_dec(&f[2].val, "i", &m->index_price, err, errlen) &&
                   bn_jget_dec(&f[3].val, "r", &m->funding_rate, err, errlen) &&
                   bn_jget_int(&f[4].val, "T", &m->next_funding_ms, err, errlen) &&
                   bn_jget_int(&f[5].val, "E", &m->time_ms, err, errlen)
               ? 0
               : -1;
}

static int read_book(const bn_jval *d, qtr_book_top *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    bn_jfield f[] = { BN_JFIELD("s"), BN_JFIELD("b"), BN_JFIELD("B"), BN_JFIELD("a"),
                      BN_JFIELD("A"), BN_JFIELD("T"), BN_JFIELD("E") };
    if (bn_jread_object(d->p, d->n, f, 7, err, errlen) != 0 ||
        !bn_jget_str(&f[0].val, "s", b->symbol, sizeof b->symbol, err, errlen) ||
        !bn_jget_dec(&f[1].val, "b", &b->bid_price, err, errlen) || !bn_jget_dec(&f[2].val, "B", &b->bid_qty, err, errlen) ||
        !bn_jget_dec(&f[3].val, "a", &b->ask_price, err, errlen) || !bn_jget_dec(&f[4].val, "A", &b->ask_qty, err, errlen))
        return -1;
    if (!bn_jget_int(&f[5].val, "T", &b->time_ms, err, errlen) && !bn_jget_int(&f[6].val, "E", &b->time_ms, err, errlen))
        return -1;
    return 0;
}

static bool our_symbol(const bn_plugin *p, const char *symbol)
{
    for (size_t i = 0; i < p->cfg.n_symbols; i++)
        if (!strcmp(p->cfg.symbols[i], symbol)) return true;
    return false;
}

/* Read whole, then apply: a bad message changes nothing. */
static void op_message(bn_stream *s, const char *text, size_t len)
{
    bn_plugin *p = s->p;
    char err[200] = "", why[260], e[32] = "";
    /* {"stream": ..., "data": {"e": ..., ...}}; a control answer has result and id */
    bn_jfield root[] = { BN_JFIELD("data"), BN_JFIELD("result"), BN_JFIELD("id") };
    bn_jfield ef[] = { BN_JFIELD("e") };
    const bn_jval *d = &root[0].val;
    int rc = bn_jread_object(text, len, root, 3, err, sizeof err);
    if (rc == 0 && d->type == BN_JNONE && root[1].val.type != BN_JNONE && root[2].val.type != BN_JNONE) return;
    if (rc != 0 || d->type != BN_JOBJECT || bn_jread_object(d->p, d->n, ef, 1, NULL, 0) != 0 ||
        !bn_jget_str(&ef[0].val, "e", e, sizeof e, NULL, 0)) {
        kx_fmt(why, sizeof why, "message not readable (%s)", rc == 0 ? "no data.e" : err);
        bn_stream_malformed(s, why);
        return;
    }
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = p->h->now_ms(p->ctx);
    if (!strcmp(e, "kline")) {
        bool closed = false;
        rc = read_kline(p, d, &ev.u.candle, &closed, err, sizeof err);
        if (rc == 0 && closed && our_symbol(p, ev.u.candle.symbol)) bn_market_stream_candle(p, &ev.u.candle);
    } else if (!strcmp(e, "markPriceUpdate")) {
        rc = read_mark(d, &ev.u.mark_price, err, sizeof err);
        if (rc == 0 && our_symbol(p, ev.u.mark_price.symbol)) bn_market_stream_mark(p, &ev.u.mark_price);
    } else if (!strcmp(e, "bookTicker")) {
        rc = read_book(d, &ev.u.book_top, err, sizeof err);
        if (rc == 0 && our_symbol(p, ev.u.book_top.symbol)) {
            ev.type = QTR_EV_BOOK_TOP;
            p->h->publish(p->ctx, &ev);
        }
    }
    if (rc != 0) {
        kx_fmt(why, sizeof why, "%s: %s", e, err);
        bn_stream_malformed(s, why);
    } else {
        bn_md_ok(p);
    }
}

/* ---------------------------------------------------------------- connect */

static void add_name(kx_buf *b, const char *symbol, const char *suffix)
{
    if (b->len && kx_buf_str(b)[b->len - 1] != '=') kx_buf_puts(b, "/");
    for (const char *c = symbol; *c; c++) {
        char l = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        kx_buf_append(b, &l, 1);
    }
    kx_buf_puts(b, suffix);
}

static void op_connect(bn_stream *s)
{
    bn_md_stream *m = s->ud;
    bn_plugin *p = s->p;
    kx_buf url;
    kx_buf_init(&url);
    kx_buf_puts(&url, p->cfg.stream_url);
    kx_buf_puts(&url, "/");
    kx_buf_puts(&url, m->route);
    kx_buf_puts(&url, "/stream?streams=");
    char kline[32];
    kx_fmt(kline, sizeof kline, "@kline_%s", p->cfg.kline_interval);
    for (size_t i = 0; i < p->cfg.n_symbols; i++) {
        if (m->klines) add_name(&url, p->cfg.symbols[i], kline);
        if (m->marks) add_name(&url, p->cfg.symbols[i], "@markPrice@1s");
        if (m->books) add_name(&url, p->cfg.symbols[i], "@bookTicker");
    }
    if (url.oom || url.len >= URL_MAX) bn_stream_down(s, "stream URL too long (too many symbols)");
    else bn_stream_connect(s, kx_buf_str(&url));
    kx_buf_free(&url);
}

static void op_live(bn_stream *s)
{
    bn_md_stream *m = s->ud;
    bn_fill_mode_changed(s->p);
    /* whatever closed while it was down, from the last candle published */
    if (m->klines) bn_market_resync(s->p);
}

static void op_down(bn_stream *s, const char *why)
{
    (void)why;
    bn_fill_mode_changed(s->p);
}

static const bn_stream_ops md_ops = {
    .connect = op_connect, .on_live = op_live, .on_down = op_down, .on_message = op_message,
};

/* ---------------------------------------------------------------- plugin */

int bn_market_streams_init(bn_plugin *p)
{
    const bn_config *c = &p->cfg;
    if (!c->stream_url[0] || !c->market_stream || c->n_symbols == 0) return 0;
    bool klines = c->kline_poll_ms > 0, marks = c->mark_poll_ms > 0, books = c->depth_poll_ms > 0;
    if (!klines && !marks && !books) return 0;
    struct bn_market_streams *ms = calloc(1, sizeof *ms);
    if (!ms) return -1;
    p->mstreams = ms;
    ms->market = (bn_md_stream){ .route = "market", .klines = klines, .marks = marks };
    ms->book = (bn_md_stream){ .route = "public", .books = books };
    if ((klines || marks) && bn_stream_init(&ms->market.s, p, "market", &md_ops, &ms->market) != 0) return -1;
    if (books && bn_stream_init(&ms->book.s, p, "book", &md_ops, &ms->book) != 0) return -1;
    return 0;
}

void bn_market_streams_start(bn_plugin *p)
{
    struct bn_market_streams *ms = p->mstreams;
    if (!ms) return;
    if (ms->market.s.p) bn_stream_start(&ms->market.s);
    if (ms->book.s.p) bn_stream_start(&ms->book.s);
}

void bn_market_streams_free(bn_plugin *p)
{
    struct bn_market_streams *ms = p->mstreams;
    if (!ms) return;
    if (ms->market.s.p) bn_stream_free(&ms->market.s);
    if (ms->book.s.p) bn_stream_free(&ms->book.s);
    free(ms);
    p->mstreams = NULL;
}

bool bn_market_stream_covers(const bn_plugin *p, bn_md_kind kind)
{
    const struct bn_market_streams *ms = p->mstreams;
    if (!ms) return false;
    switch (kind) {
    case BN_MD_KLINE: return ms->market.klines && ms->market.s.live;
    case BN_MD_MARK: return ms->market.marks && ms->market.s.live;
    case BN_MD_BOOK: return ms->book.books && ms->book.s.live;
    }
    return false;
}

const char *bn_market_stream_mode(const bn_plugin *p, char *buf, size_t len)
{
    const struct bn_market_streams *ms = p->mstreams;
    if (!ms) return NULL;
    const bn_stream *a = ms->market.s.p ? &ms->market.s : NULL, *b = ms->book.s.p ? &ms->book.s : NULL;
    const bn_stream *down = a && !a->live ? a : b && !b->live ? b : NULL;
    if (!down) kx_fmt(buf, len, "stream");
    else kx_fmt(buf, len, "polling (%s: %s)", down->name, down->reason);
    return buf;
}
