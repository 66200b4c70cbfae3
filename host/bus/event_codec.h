/*
 * How an event travels on the Redis bus and sits in the disk buffer: one
 * binary envelope, little-endian, versioned.
 *
 *   u8 version | u8 host_id length | u16 type | u32 payload length |
 *   u64 seq | i64 time_ms | u32 flags | host_id | payload [| mac]
 *
 * Version 1 has no mac. Version 2, written by hosts with `bus.key_env`,
 * ends with the HMAC-SHA256 of every byte before it under the key the
 * hosts share: a host with a key reads version 2 only, and only with a mac
 * that checks (under that key, or while the key changes under
 * `bus.accept_key_env`'s); a host without one reads version 1 only
 * (docs/bus.md, "Signed entries").
 *
 * The payload is the event's fixed-size struct as qtr/events.h defines it
 * (plain data, no pointers); its length must be sizeof that struct in this
 * build, so hosts of a different SDK ABI refuse each other's events with a
 * clear error instead of misreading them. Types, names and payload structs
 * come from the event registry (qtr/event_types.h): a new type needs no
 * change here. On decode every string of the payload is cut at its last
 * byte and every bool made 0 or 1, so a bad peer cannot make a reader run
 * off a buffer.
 */
#ifndef QH_BUS_EVENT_CODEC_H
#define QH_BUS_EVENT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

#include "qc/hmac.h"

#define QH_HOST_ID_MAX 32   /* [a-z0-9-]{1,32} */
#define QH_BUSEV_HEADER 28u
#define QH_BUSEV_MAX (QH_BUSEV_HEADER + QH_HOST_ID_MAX + sizeof(((qtr_event *)0)->u) + QC_HMAC_LEN)

/* The most an entry of the bus holds, its fields' names and values: the
 * envelope and h and s beside it, with room to spare; a larger one is no
 * event (bus/redis_consumer.c refuses it without reading it). */
#define QH_BUS_ENTRY_MAX 4096u
_Static_assert(QH_BUSEV_MAX + 64 < QH_BUS_ENTRY_MAX, "an entry holds its envelope");

typedef struct qh_busev {
    char host_id[QH_HOST_ID_MAX + 1];
    uint64_t seq;
    qtr_event ev;
    /* where it was read: the stream and its entry id, set by the consumer
     * for its handler's call and valid during it (bus/redis_consumer.h);
     * NULL from qh_busev_decode */
    const char *stream, *entry;
    bool by_accept_key;       /* its mac checked under the accept key, not the signing one */
} qh_busev;

/* Bytes written to out (cap >= QH_BUSEV_MAX always suffices), or 0 for an
 * unknown type, a host_id that is not 1..32 characters or a mac OpenSSL
 * could not make. key: version 2, signed with it; NULL: version 1. */
size_t qh_busev_encode(const char *host_id, uint64_t seq, const qtr_event *ev, qc_hmac *key, unsigned char *out,
                       size_t cap);
/* 0; -1 with one line in err for a malformed envelope (version, type,
 * length, host_id); -2 with one line for one this host must not trust:
 * unsigned while key is given, signed while it is NULL, or a mac that
 * checks under neither key nor accept (nothing of it is read before its mac
 * checks). accept: a second key taken while the key changes (NULL: none;
 * only with key); out->by_accept_key says the mac checked under it. */
#define QH_BUSEV_UNTRUSTED (-2)
int qh_busev_decode(const void *in, size_t len, qc_hmac *key, qc_hmac *accept, qh_busev *out, char *err,
                    size_t errlen);

/* The type of an encoded event (its header's), or 0 if len is too short to
 * hold a header: what a record is, without decoding it. */
qtr_event_type qh_busev_peek_type(const void *in, size_t len);

/* The type's name on the bus ("signal": the registry's, so a name is read
 * back with qtr_event_type_by_name), NULL for an unknown type. */
const char *qh_busev_type_name(qtr_event_type t);
/* The size of the type's payload struct in this build, 0 for an unknown type. */
size_t qh_busev_payload_size(qtr_event_type t);

/* host_id as the product surface allows it: [a-z0-9-]{1,32}. */
bool qh_busev_host_id_valid(const char *s);

#endif
