#include "exits_fake.h"

#include <stdio.h>
#include <string.h>

static int64_t now_ms(void *ud) { return ((fake *)ud)->now; }

static int submit(void *ud, const qtr_order_intent *o)
{
    fake *f = ud;
    if (f->submit_rc != QTR_OK) return f->submit_rc;
    if (f->n_sent < FAKE_MAX) f->sent[f->n_sent++] = *o;
    return QTR_OK;
}

static int cancel(void *ud, const char *symbol, const char *cid)
{
    (void)symbol;
    fake *f = ud;
    if (f->n_cancelled < FAKE_MAX) qtr_strlcpy(f->cancelled[f->n_cancelled++], cid, QTR_CLIENT_ID_MAX);
    return QTR_OK;
}

static bool position(void *ud, const char *symbol, qtr_position *out)
{
    fake *f = ud;
    if (strcmp(symbol, f->pos.symbol) != 0) return false;
    *out = f->pos;
    return true;
}

static void *timer_at(void *ud, int64_t at, void (*cb)(void *), void *arg)
{
    fake *f = ud;
    if (f->n_timers >= 16) return NULL;
    f->timers[f->n_timers].at = at;
    f->timers[f->n_timers].cb = cb;
    f->timers[f->n_timers].arg = arg;
    f->timers[f->n_timers].live = true;
    return &f->timers[f->n_timers++];
}

static void timer_stop(void *ud, void *t)
{
    (void)ud;
    if (t) ((fake_timer *)t)->live = false;
}

static int store_plan(void *ud, const char *symbol, const char *owner, const qtr_exit_plan *plan, int64_t opened)
{
    (void)symbol;
    (void)owner;
    fake *f = ud;
    f->store_calls++;
    f->has_stored = plan != NULL;
    if (plan) f->stored = *plan;
    f->stored_opened = opened;
    return QTR_OK;
}

static void client_id(void *ud, char out[QTR_CLIENT_ID_MAX])
{
    snprintf(out, QTR_CLIENT_ID_MAX, "qtr-t-e%llu", (unsigned long long)++((fake *)ud)->seq);
}

qtr_regime fake_regime(void *ud, const char *symbol)
{
    (void)symbol;
    ((fake *)ud)->regime_asked++;
    return ((fake *)ud)->regime;
}

qh_exit_services fake_services(fake *f)
{
    return (qh_exit_services){ .ud = f, .now_ms = now_ms, .submit = submit, .cancel = cancel, .position = position,
                               .timer_at = timer_at, .timer_stop = timer_stop, .store_plan = store_plan,
                               .client_id = client_id };
}

void fake_advance(fake *f, int64_t to)
{
    f->now = to;
    for (size_t i = 0; i < f->n_timers; i++)
        if (f->timers[i].live && f->timers[i].at <= to) {
            f->timers[i].live = false;
            f->timers[i].cb(f->timers[i].arg);
        }
}

size_t fake_count(const fake *f, size_t from, qtr_order_type type)
{
    size_t n = 0;
    for (size_t i = from; i < f->n_sent; i++) n += !type || f->sent[i].type == type;
    return n;
}

const qtr_order_intent *fake_find(const fake *f, size_t from, qtr_order_type type)
{
    for (size_t i = from; i < f->n_sent; i++)
        if (f->sent[i].type == type) return &f->sent[i];
    return NULL;
}

bool fake_was_cancelled(const fake *f, const char *cid)
{
    for (size_t i = 0; i < f->n_cancelled; i++)
        if (strcmp(f->cancelled[i], cid) == 0) return true;
    return false;
}

qtr_dec fake_dec(const char *s)
{
    qtr_dec v = 0;
    qtr_dec_parse(s, strlen(s), &v);
    return v;
}

int fake_world_setup(void **state)
{
    static fake_world w;
    memset(&w, 0, sizeof w);
    w.f.now = FAKE_T0;
    qtr_strlcpy(w.f.pos.symbol, "BTCUSDT", sizeof w.f.pos.symbol);
    qh_exit_services sv = fake_services(&w.f);
    w.m = qh_exits_new(&sv);
    if (!w.m) return -1;
    *state = &w;
    return 0;
}

int fake_world_teardown(void **state)
{
    fake_world *w = *state;
    qh_exits_free(w->m);
    return 0;
}
