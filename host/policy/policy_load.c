/* policy_load.c — the engine's state: the active policy, loading and
 * swapping, load history, staleness, health and the per-order entry point. */
#include "policy/policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct qh_policy {
    qh_policy_config cfg;
    qh_compiled_policy *active;   /* NULL until a good load               */
    qtr_policy_limits limits;     /* of the active policy                 */
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

static int refuse(qh_policy *p, qtr_policy_event *ev, const char *err)
{
    ev->ok = false;
    snprintf(ev->error, sizeof ev->error, "%s", err);
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
    if (qh_policy_read_file(file, &buf, &len, err, sizeof err) != 0) return refuse(p, ev, err);
    qh_policy_sha256_hex(buf, len, ev->hash);
    qtr_policy_limits limits;
    qh_compiled_policy *cp = qh_policy_compile(&p->cfg, file, buf, len, &limits, err, sizeof err);
    free(buf);
    if (!cp) return refuse(p, ev, err);

    /* Swap: from the host's single thread this is atomic. */
    qh_compiled_policy_free(p->active);
    p->active = cp;
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
const qtr_policy_limits *qh_policy_limits(const qh_policy *p) { return p->active ? &p->limits : NULL; }

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

int qh_policy_judge(qh_policy *p, const qtr_order_intent *order, const qtr_risk_context *rc, qtr_risk_decision *out)
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
    snprintf(p->last_judge_error, sizeof p->last_judge_error, "%s", err);
    /* Every error is counted; the log gets the first ten and then one in a thousand. */
    if (p->judge_errors <= 10 || p->judge_errors % 1000 == 0)
        qh_log(QH_LOG_ERROR, "policy", "judge failed (%llu so far), order rejected: %s",
               (unsigned long long)p->judge_errors, err);
    return QTR_EINVAL;
}

uint64_t qh_policy_judge_errors(const qh_policy *p) { return p->judge_errors; }
const char *qh_policy_last_judge_error(const qh_policy *p) { return p->last_judge_error; }
