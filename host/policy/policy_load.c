/* policy_load.c — the engine's state: the active policy, loading and
 * swapping, load history, staleness, health and the per-order entry point. */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct qh_policy {
    qh_policy_config cfg;
    qh_compiled_policy *active;   /* NULL until a good load               */
    qh_policy_rules limits;     /* of the active policy                 */
    qh_compiled_policy *prev;     /* the good policy before it (other text), */
    qh_policy_rules prev_limits;/* kept to go back to after overruns      */
    char withdrawn_hash[65];      /* a file withdrawn after overruns       */
    int64_t overrun_ms[QH_POLICY_OVERRUNS_MAX]; /* monotonic, a ring      */
    size_t overrun_next, overrun_count;
    uint64_t judge_timeouts;
    uint32_t version;             /* good loads so far                    */
    char path[QTR_TEXT_MAX];      /* last file loaded or attempted        */
    bool attempted, last_ok;
    int64_t last_attempt_ms;
    char last_error[QTR_TEXT_MAX];
    qtr_policy_event history[QH_POLICY_HISTORY];
    size_t hist_next, hist_count;
    uint64_t judge_errors;
    char last_judge_error[QTR_TEXT_MAX];
};

qh_policy *qh_policy_new(const qh_policy_config *cfg)
{
    qh_policy *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cfg = qh_policy_config_defaults(cfg);
    return p;
}

void qh_policy_free(qh_policy *p)
{
    if (!p) return;
    qh_compiled_policy_free(p->active);
    qh_compiled_policy_free(p->prev);
    free(p);
}

static void record(qh_policy *p, const qtr_policy_event *ev)
{
    p->history[p->hist_next] = *ev;
    p->hist_next = (p->hist_next + 1) % QH_POLICY_HISTORY;
    if (p->hist_count < QH_POLICY_HISTORY) p->hist_count++;
    p->attempted = true;
    p->last_ok = ev->ok;
    p->last_attempt_ms = ev->time_ms;
    snprintf(p->last_error, sizeof p->last_error, "%s", ev->ok ? "" : ev->error);
}

/* An error longer than the event's field keeps its start (file:line and
 * the reason come first) and ends in "..." so a reader sees it was cut. */
static void copy_error(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap) {
        memcpy(dst, src, n + 1);
        return;
    }
    memcpy(dst, src, cap - 4);
    memcpy(dst + cap - 4, "...", 4);
}

static int refuse(qh_policy *p, qtr_policy_event *ev, const char *err)
{
    ev->ok = false;
    copy_error(ev->error, sizeof ev->error, err);
    ev->version = p->version;
    record(p, ev);
    return -1;
}

int qh_policy_load(qh_policy *p, const char *path, int64_t now_ms, qtr_policy_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->time_ms = now_ms;
    if (!path || !path[0]) return refuse(p, ev, "policy: no file given");
    if (strlen(path) >= sizeof p->path) {
        snprintf(ev->file, sizeof ev->file, "%.*s", (int)sizeof ev->file - 1, path);
        return refuse(p, ev, "policy: file path too long");
    }
    char file[QTR_TEXT_MAX];
    snprintf(file, sizeof file, "%s", path);   /* path may point into p->path */
    snprintf(p->path, sizeof p->path, "%s", file);
    snprintf(ev->file, sizeof ev->file, "%s", file);

    char err[QTR_TEXT_MAX * 2];
    char *buf;
    size_t len;
    if (strcmp(file, QH_POLICY_BUILTIN) == 0) {
        const char *text = qh_policy_builtin_text(&len);
        buf = malloc(len + 1);
        if (!buf) return refuse(p, ev, "policy: out of memory");
        memcpy(buf, text, len + 1);
    } else if (qh_policy_read_file(file, &buf, &len, err, sizeof err) != 0) {
        return refuse(p, ev, err);
    }
    qh_policy_sha256_hex(buf, len, ev->hash);
    if (p->withdrawn_hash[0] && strcmp(ev->hash, p->withdrawn_hash) == 0) {
        free(buf);
        snprintf(err, sizeof err, "%s: withdrawn after %d judge() overruns within %lld s (sha256 %.16s); "
                 "change the file to load it again", file, QH_POLICY_OVERRUNS_MAX,
                 (long long)(QH_POLICY_OVERRUN_WINDOW_MS / 1000), ev->hash);
        return refuse(p, ev, err);
    }
    qh_policy_rules limits;
    qh_compiled_policy *cp = qh_policy_compile(&p->cfg, file, buf, len, &limits, err, sizeof err);
    free(buf);
    if (!cp) return refuse(p, ev, err);

    /* Swap: from the host's single thread this is atomic. The policy it
     * replaces is kept if its text differs (a reload of the same text keeps
     * the one before), to go back to should the new one overrun. */
    if (p->active && strcmp(p->limits.hash, ev->hash) != 0) {
        qh_compiled_policy_free(p->prev);
        p->prev = p->active;
        p->prev_limits = p->limits;
    } else {
        qh_compiled_policy_free(p->active);
    }
    p->active = cp;
    p->overrun_count = 0;
    p->version++;
    limits.version = p->version;
    limits.loaded_at_ms = now_ms;
    memcpy(limits.hash, ev->hash, sizeof limits.hash);
    p->limits = limits;
    ev->ok = true;
    ev->version = p->version;
    record(p, ev);
    return 0;
}

int qh_policy_reload(qh_policy *p, int64_t now_ms, qtr_policy_event *ev)
{
    char file[QTR_TEXT_MAX];
    snprintf(file, sizeof file, "%s", p->path);
    if (!file[0]) {
        memset(ev, 0, sizeof *ev);
        ev->time_ms = now_ms;
        return refuse(p, ev, "policy: nothing to reload (no policy file loaded yet)");
    }
    return qh_policy_load(p, file, now_ms, ev);
}

const char *qh_policy_path(const qh_policy *p) { return p->path; }
bool qh_policy_loaded(const qh_policy *p) { return p->active != NULL; }
const qh_policy_rules *qh_policy_limits(const qh_policy *p) { return p->active ? &p->limits : NULL; }

bool qh_policy_stale(const qh_policy *p, int64_t now_ms)
{
    return p->attempted && now_ms - p->last_attempt_ms >= p->cfg.max_age_ms;
}

void qh_policy_health(const qh_policy *p, int64_t now_ms, qtr_health *out)
{
    memset(out, 0, sizeof *out);
    char why[512];
    if (!p->active) {
        out->status = QTR_HEALTH_CRITICAL;
        snprintf(why, sizeof why, "no policy loaded%s%s", p->last_error[0] ? ": " : "", p->last_error);
    } else if (!p->last_ok) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(why, sizeof why, "keeping %s v%u; last load failed: %s", p->limits.name, p->version, p->last_error);
    } else if (now_ms - p->limits.loaded_at_ms >= 2 * p->cfg.max_age_ms) {
        out->status = QTR_HEALTH_DEGRADED;
        snprintf(why, sizeof why, "%s v%u not reloaded for %lld s", p->limits.name, p->version,
                 (long long)((now_ms - p->limits.loaded_at_ms) / 1000));
    } else {
        out->status = QTR_HEALTH_OK;
        snprintf(why, sizeof why, "%s v%u sha256 %.16s", p->limits.name, p->version, p->limits.hash);
    }
    qtr_strlcpy(out->reason, why, sizeof out->reason);
}

size_t qh_policy_history(const qh_policy *p, qtr_policy_event *out, size_t cap)
{
    size_t n = p->hist_count < cap ? p->hist_count : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = p->history[(p->hist_next + QH_POLICY_HISTORY - 1 - i) % QH_POLICY_HISTORY];
    return n;
}

static void reject(qtr_risk_decision *out, const char *reason)
{
    memset(out, 0, sizeof *out);
    out->verdict = QTR_RISK_REJECT;
    snprintf(out->reason, sizeof out->reason, "%s", reason);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take the overrunning policy out: the previous good one comes back, or
 * none stays. Recorded as a failed event so health shows it. */
static void withdraw(qh_policy *p, qh_policy_overrun *o)
{
    qtr_policy_event ev;
    memset(&ev, 0, sizeof ev);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    qtr_strlcpy(ev.file, p->path, sizeof ev.file);
    memcpy(ev.hash, p->limits.hash, sizeof ev.hash);
    memcpy(p->withdrawn_hash, p->limits.hash, sizeof p->withdrawn_hash);
    qtr_strlcpy(o->withdrawn, p->limits.name, sizeof o->withdrawn);
    qh_compiled_policy_free(p->active);
    p->active = p->prev;
    p->prev = NULL;
    p->overrun_count = 0;
    char why[QTR_TEXT_MAX * 2];
    if (p->active) {
        p->limits = p->prev_limits;
        o->action = QH_OVERRUN_REVERTED;
        qtr_strlcpy(o->restored, p->limits.name, sizeof o->restored);
        snprintf(why, sizeof why, "withdrawn after %d judge() overruns within %lld s, back to %s v%u: %s",
                 QH_POLICY_OVERRUNS_MAX, (long long)(QH_POLICY_OVERRUN_WINDOW_MS / 1000), p->limits.name,
                 p->limits.version, o->error);
    } else {
        memset(&p->limits, 0, sizeof p->limits);
        o->action = QH_OVERRUN_NO_FALLBACK;
        snprintf(why, sizeof why, "withdrawn after %d judge() overruns within %lld s, no good policy to go back to: %s",
                 QH_POLICY_OVERRUNS_MAX, (long long)(QH_POLICY_OVERRUN_WINDOW_MS / 1000), o->error);
    }
    ev.ok = false;
    ev.version = p->version;
    copy_error(ev.error, sizeof ev.error, why);
    p->history[p->hist_next] = ev;
    p->hist_next = (p->hist_next + 1) % QH_POLICY_HISTORY;
    if (p->hist_count < QH_POLICY_HISTORY) p->hist_count++;
    p->last_ok = false;
    copy_error(p->last_error, sizeof p->last_error, why);
}

/* A judge() call stopped by its deadline or allocation budget. */
static void overrun(qh_policy *p, const char *err)
{
    p->judge_timeouts++;
    qh_policy_overrun o;
    memset(&o, 0, sizeof o);
    copy_error(o.error, sizeof o.error, err);
    int64_t now = monotonic_ms();
    p->overrun_ms[p->overrun_next] = now;
    p->overrun_next = (p->overrun_next + 1) % QH_POLICY_OVERRUNS_MAX;
    if (p->overrun_count < QH_POLICY_OVERRUNS_MAX) p->overrun_count++;
    /* The oldest of the last MAX overruns is where the ring goes next. */
    if (p->overrun_count == QH_POLICY_OVERRUNS_MAX &&
        now - p->overrun_ms[p->overrun_next] <= QH_POLICY_OVERRUN_WINDOW_MS)
        withdraw(p, &o);
    qh_log(QH_LOG_ERROR, "policy", "judge() overran (%llu so far), order refused with policy_timeout: %s%s",
           (unsigned long long)p->judge_timeouts, err,
           o.action == QH_OVERRUN_REVERTED ? "; policy withdrawn, the previous one is back"
           : o.action == QH_OVERRUN_NO_FALLBACK ? "; policy withdrawn, none loaded" : "");
    if (p->cfg.on_overrun) p->cfg.on_overrun(p->cfg.overrun_ud, &o);
}

int qh_policy_judge(qh_policy *p, const qtr_order_intent *order, const qh_risk_ctx *rc, qtr_risk_decision *out)
{
    if (!out) return QTR_EINVAL;
    if (!p || !order || !rc) {
        reject(out, "policy_error");
        return QTR_EINVAL;
    }
    if (!p->active) {
        reject(out, "no_policy");
        return QTR_ENOTFOUND;
    }
    char err[QTR_TEXT_MAX];
    if (qh_compiled_judge(p->active, order, rc, out, err, sizeof err) == 0) return QTR_OK;
    p->judge_errors++;
    copy_error(p->last_judge_error, sizeof p->last_judge_error, err);
    qh_sandbox_stop stop = p->active->sb->stop;
    if (stop == QH_STOP_TIME || stop == QH_STOP_ALLOC) {
        reject(out, "policy_timeout");
        overrun(p, err);
        return QTR_EREFUSED;
    }
    /* Every error is counted; the log gets the first ten and then one in a thousand. */
    if (p->judge_errors <= 10 || p->judge_errors % 1000 == 0)
        qh_log(QH_LOG_ERROR, "policy", "judge failed (%llu so far), order rejected: %s",
               (unsigned long long)p->judge_errors, err);
    return QTR_EINVAL;
}

uint64_t qh_policy_judge_errors(const qh_policy *p) { return p->judge_errors; }
uint64_t qh_policy_judge_timeouts(const qh_policy *p) { return p->judge_timeouts; }
const char *qh_policy_last_judge_error(const qh_policy *p) { return p->last_judge_error; }
