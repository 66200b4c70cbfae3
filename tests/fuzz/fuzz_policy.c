/* Fuzz target: the policy loader and judge (host/policy). The input is a
 * policy file's text. Whatever it holds, loading ends (the sandbox bounds
 * instructions, time and memory) either refused with "file:line: reason" or
 * swapped in; a loaded policy's judge() answers every sample order with a
 * verdict the host can act on: APPROVE, REJECT with a reason, or RESIZE to a
 * quantity in (0, order qty]. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "policy/policy.h"

static char path[96];

static void remove_policy(void) { unlink(path); }

/* The host loads a policy from a file, so the input goes to one. On tmpfs
 * (/dev/shm) when there is one: rewriting a file in place on ext4 (O_TRUNC)
 * makes the close wait for the old blocks' writeback, a third of the time
 * per input. A new file each time (unlink, then O_EXCL) never truncates. */
static void write_policy(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/qtr-fuzz-policy-%ld.lua", dir, (long)getpid());
        atexit(remove_policy);
    }
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot create %s", path);
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        FUZZ_CHECK(w > 0, "short write to %s", path);
        off += (size_t)w;
    }
    close(fd);
}

static void judge_one(qh_policy *p, qtr_side side, qtr_dec qty, bool reduce_only)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "BTCUSDT");
    strcpy(o.client_id, "qtr-fuzz-1");
    strcpy(o.strategy, "fuzz");
    o.side = side;
    o.type = QTR_ORDER_MARKET;
    o.qty = qty;
    o.reduce_only = reduce_only;
    o.confidence = 0.9;
    qh_risk_ctx rc;
    memset(&rc, 0, sizeof rc);
    rc.equity = QTR_DEC_INT(10000);
    rc.price = QTR_DEC_INT(50000);
    rc.order_notional = QTR_DEC_INT(500);
    rc.leverage = 1;
    qtr_risk_decision d;
    memset(&d, 0x5a, sizeof d);
    qh_policy_judge(p, &o, &rc, &d);
    FUZZ_CHECK(d.verdict == QTR_RISK_APPROVE || d.verdict == QTR_RISK_RESIZE || d.verdict == QTR_RISK_REJECT,
               "verdict %d", (int)d.verdict);
    FUZZ_CHECK(memchr(d.reason, '\0', sizeof d.reason) != NULL, "reason not terminated");
    if (d.verdict == QTR_RISK_RESIZE) FUZZ_CHECK(d.qty > 0 && d.qty <= qty, "resize to %lld of %lld", (long long)d.qty,
                                                 (long long)qty);
    if (d.verdict == QTR_RISK_REJECT) FUZZ_CHECK(d.reason[0] != '\0', "reject without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_policy(data, size);
    /* tight bounds keep each run short; the limits are the server's kinds */
    qh_policy_config cfg = { .mem_limit_bytes = 8u << 20, .instr_limit = 200000, .time_limit_ms = 50,
                             .alloc_limit_bytes = 8u << 20 };
    qh_policy *p = qh_policy_new(&cfg);
    FUZZ_CHECK(p != NULL, "qh_policy_new");
    qtr_policy_event ev;
    memset(&ev, 0, sizeof ev);
    int rc = qh_policy_load(p, path, 1700000000000, &ev);
    FUZZ_CHECK(rc == 0 || rc == -1, "load rc %d", rc);
    FUZZ_CHECK((rc == 0) == ev.ok, "rc %d but ev.ok %d", rc, ev.ok);
    if (rc != 0) {
        FUZZ_CHECK(ev.error[0] != '\0', "refused without a reason");
        FUZZ_CHECK(!qh_policy_loaded(p), "refused yet loaded");
    } else {
        FUZZ_CHECK(qh_policy_limits(p) != NULL, "loaded without limits");
        judge_one(p, QTR_SIDE_BUY, QTR_DEC_INT(1) / 100, false);
        judge_one(p, QTR_SIDE_SELL, QTR_DEC_INT(3), true);
    }
    qh_policy_free(p);
    return 0;
}
