/* event_codec.c — see event_codec.h: the envelope (names and sizes of the
 * types in event_names.c). */
#include "bus/event_codec.h"

#include <stdio.h>
#include <string.h>

#include <qtr/plugin.h>

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

qtr_event_type qh_busev_peek_type(const void *in, size_t len)
{
    return len >= QH_BUSEV_HEADER ? (qtr_event_type)get_le((const unsigned char *)in + 2, 2) : (qtr_event_type)0;
}

size_t qh_busev_encode(const char *host_id, uint64_t seq, const qtr_event *ev, qc_hmac *key, unsigned char *out,
                       size_t cap)
{
    size_t size = qh_busev_payload_size(ev->type);
    if (!size || !qh_busev_host_id_valid(host_id)) return 0;
    size_t hl = strlen(host_id), body = QH_BUSEV_HEADER + hl + size, total = body + (key ? QC_HMAC_LEN : 0);
    if (total > cap) return 0;
    out[0] = key ? 2 : 1;
    out[1] = (unsigned char)hl;
    put_le(out + 2, (uint64_t)ev->type, 2);
    put_le(out + 4, size, 4);
    put_le(out + 8, seq, 8);
    put_le(out + 16, (uint64_t)ev->time_ms, 8);
    put_le(out + 24, ev->flags, 4);
    memcpy(out + QH_BUSEV_HEADER, host_id, hl);
    memcpy(out + QH_BUSEV_HEADER + hl, &ev->u, size);
    if (key && !qc_hmac_sha256(key, out, body, NULL, 0, out + body)) return 0;
    return total;
}

/* The mac of the len bytes at p under key equal to the mac at p + len:
 * 1 yes, 0 no, -1 OpenSSL failed (err set). */
static int mac_checks(qc_hmac *key, const unsigned char *p, size_t len, char *err, size_t errlen)
{
    unsigned char mac[QC_HMAC_LEN];
    if (!qc_hmac_sha256(key, p, len, NULL, 0, mac)) {
        snprintf(err, errlen, "the entry's mac could not be computed (OpenSSL)");
        return -1;
    }
    return qc_hmac_equal(mac, p + len) ? 1 : 0;
}

/* The version this host reads, and a signed envelope's mac checked: 0 with
 * *len the bytes before the mac (*by_accept: it checked under accept, not
 * key), or QH_BUSEV_UNTRUSTED, -1 as decode's. */
static int check_signature(const unsigned char *p, size_t *len, qc_hmac *key, qc_hmac *accept, bool *by_accept,
                           char *err, size_t errlen)
{
    *by_accept = false;
    if (p[0] != 1 && p[0] != 2) {
        snprintf(err, errlen, "event envelope version %u: this host reads version %d", p[0], key ? 2 : 1);
        return -1;
    }
    if (!key && p[0] == 2) {
        snprintf(err, errlen, "a signed entry (envelope version 2), and this host has no bus.key_env to check it");
        return QH_BUSEV_UNTRUSTED;
    }
    if (!key) return 0;
    if (p[0] == 1) {
        snprintf(err, errlen, "an unsigned entry (envelope version 1): this bus takes only entries signed with "
                              "bus.key_env's key");
        return QH_BUSEV_UNTRUSTED;
    }
    if (*len < QH_BUSEV_HEADER + QC_HMAC_LEN) {
        snprintf(err, errlen, "a signed entry of %zu bytes: too short to hold its mac", *len);
        return QH_BUSEV_UNTRUSTED;
    }
    *len -= QC_HMAC_LEN;
    int ok = mac_checks(key, p, *len, err, errlen);
    if (ok == 0 && accept) {           /* while the key changes: the other one */
        ok = mac_checks(accept, p, *len, err, errlen);
        *by_accept = ok == 1;
    }
    if (ok < 0) return -1;
    if (!ok) {
        snprintf(err, errlen, "a signed entry whose mac does not check: not written with this bus's key%s, or altered",
                 accept ? " (nor bus.accept_key_env's)" : "");
        return QH_BUSEV_UNTRUSTED;
    }
    return 0;
}

#define CUT(field) ((field)[sizeof(field) - 1] = '\0')
#define BOOL(field) do { unsigned char *b_ = (unsigned char *)&(field); *b_ = *b_ != 0; } while (0)

/* Strings end inside their arrays, bools are 0 or 1: whatever the peer sent. */
static void sanitise(qtr_event *ev)
{
    const char *sym = qtr_event_symbol(ev);
    if (sym) ((char *)sym)[QTR_SYMBOL_MAX - 1] = '\0';
    switch (ev->type) {
    case QTR_EV_SIGNAL:
        CUT(ev->u.signal.strategy); CUT(ev->u.signal.reason); BOOL(ev->u.signal.reduce_only);
        break;
    case QTR_EV_ORDER_INTENT:
        CUT(ev->u.order_intent.client_id); CUT(ev->u.order_intent.strategy); CUT(ev->u.order_intent.reason);
        BOOL(ev->u.order_intent.reduce_only);
        break;
    case QTR_EV_ORDER_UPDATE:
        CUT(ev->u.order_update.client_id); CUT(ev->u.order_update.exchange_id); CUT(ev->u.order_update.reason);
        BOOL(ev->u.order_update.reduce_only); BOOL(ev->u.order_update.external);
        break;
    case QTR_EV_FILL:
        CUT(ev->u.fill.client_id); CUT(ev->u.fill.fill_id); BOOL(ev->u.fill.maker); BOOL(ev->u.fill.reduce_only);
        break;
    case QTR_EV_ESS_STATE: CUT(ev->u.ess.reason); CUT(ev->u.ess.user); break;
    case QTR_EV_POLICY:
        CUT(ev->u.policy.file); CUT(ev->u.policy.hash); CUT(ev->u.policy.error); BOOL(ev->u.policy.ok);
        break;
    case QTR_EV_HEALTH: CUT(ev->u.health.component); CUT(ev->u.health.health.reason); break;
    case QTR_EV_ALERT: CUT(ev->u.alert.source); CUT(ev->u.alert.kind); CUT(ev->u.alert.text); break;
    default: break;   /* the rest hold a symbol at most, or numbers */
    }
}

int qh_busev_decode(const void *in, size_t len, qc_hmac *key, qc_hmac *accept, qh_busev *out, char *err,
                    size_t errlen)
{
    const unsigned char *p = in;
    if (len < QH_BUSEV_HEADER) {
        snprintf(err, errlen, "event of %zu bytes: shorter than its header", len);
        return -1;
    }
    bool by_accept;
    int rc = check_signature(p, &len, key, accept, &by_accept, err, errlen);
    if (rc != 0) return rc;
    size_t hl = p[1];
    qtr_event_type type = (qtr_event_type)get_le(p + 2, 2);
    size_t plen = (size_t)get_le(p + 4, 4);
    size_t size = qh_busev_payload_size(type);
    const char *name = qh_busev_type_name(type);
    if (!size || !name) {
        snprintf(err, errlen, "event type %u unknown to this host", (unsigned)type);
        return -1;
    }
    if (plen != size) {
        snprintf(err, errlen, "%s event of %zu bytes, this host's is %zu: hosts of different SDK ABIs", name, plen, size);
        return -1;
    }
    if (hl < 1 || hl > QH_HOST_ID_MAX || len != QH_BUSEV_HEADER + hl + plen) {
        snprintf(err, errlen, "%s event: length %zu does not match its header", name, len);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->by_accept_key = by_accept;
    memcpy(out->host_id, p + QH_BUSEV_HEADER, hl);
    /* a NUL inside would make "host-a\0xy" read as host-a: one spelling only */
    if (strlen(out->host_id) != hl || !qh_busev_host_id_valid(out->host_id)) {
        snprintf(err, errlen, "%s event: host_id is not [a-z0-9-]{1,32}", name);
        return -1;
    }
    out->seq = get_le(p + 8, 8);
    if (out->seq == 0) {
        snprintf(err, errlen, "%s event from %s: sequence 0", name, out->host_id);
        return -1;
    }
    out->ev.type = type;
    out->ev.time_ms = (int64_t)get_le(p + 16, 8);
    out->ev.flags = (uint32_t)get_le(p + 24, 4);
    memcpy(&out->ev.u, p + QH_BUSEV_HEADER + hl, plen);
    sanitise(&out->ev);
    return 0;
}
