/* Fuzz target: an event envelope as it comes off a Redis stream or the disk
 * buffer (qh_busev_decode), whatever a peer or a writer into Redis put
 * there, then the dashboard's JSON of it (event_blob_new), which every
 * browser on an observer host parses.
 * Each input is read three times: by a host without bus.key_env (version 1
 * only), by one with a key (version 2 with a mac that checks only), and by
 * one changing its key (signing with another, accepting this one through
 * bus.accept_key_env), which must take exactly what the second takes.
 * Checked: a decoded event has a valid host id and sequence, its strings end
 * inside their arrays and its bools are 0 or 1; it encodes again and decodes
 * to the same event; a signed one with any bit altered is refused as
 * untrusted; the header's type is the event's; its JSON is one valid
 * JSON object (jansson reads it), whatever numbers it holds. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/event_codec.h"
#include "qc/hmac.h"
#include "event_blob.h"
#include "fuzz.h"

/* The key of the corpus's signed seeds (signed-*). */
#define FUZZ_BUS_KEY "fuzz-bus-key-0123456789abcdef0123456789"
#define FUZZ_NEXT_KEY "fuzz-bus-key-the-next-one-0123456789abcdef"

static void one(const uint8_t *data, size_t size, qc_hmac *key);

/* The host changing its key (signs with next, accepts key) takes what the
 * host with key alone takes, the same event, marked as the accepted key's. */
static void changing_key(const uint8_t *data, size_t size, qc_hmac *key, qc_hmac *next)
{
    static qh_busev alone, changing;
    char err[256] = "", err2[256] = "";
    int rc = qh_busev_decode(data, size, key, NULL, &alone, err, sizeof err);
    int rc2 = qh_busev_decode(data, size, next, key, &changing, err2, sizeof err2);
    FUZZ_CHECK(rc == rc2, "the key alone gives %d (%s), while changing the key %d (%s)", rc, err, rc2, err2);
    if (rc != 0) return;
    FUZZ_CHECK(changing.by_accept_key && !alone.by_accept_key, "taken under the accepted key, not marked so");
    changing.by_accept_key = false;
    FUZZ_CHECK(memcmp(&alone, &changing, sizeof alone) == 0, "the accepted key's reading differs from the key's");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * QH_BUSEV_MAX) return 0;
    static qc_hmac *key, *next;
    if (!key && !(key = qc_hmac_new(FUZZ_BUS_KEY, strlen(FUZZ_BUS_KEY)))) abort();
    if (!next && !(next = qc_hmac_new(FUZZ_NEXT_KEY, strlen(FUZZ_NEXT_KEY)))) abort();
    one(data, size, NULL);   /* a host without bus.key_env */
    one(data, size, key);    /* one with it */
    changing_key(data, size, key, next);
    return 0;
}

static void one(const uint8_t *data, size_t size, qc_hmac *key)
{
    static qh_busev ev, again;
    char err[256] = "";
    int rc = qh_busev_decode(data, size, key, NULL, &ev, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 || rc == QH_BUSEV_UNTRUSTED, "decode returned %d", rc);
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        /* what one kind of host takes, the other refuses as untrusted */
        return;
    }
    FUZZ_CHECK(data[0] == (key ? 2 : 1), "envelope version %u taken by a host %s a key", data[0],
               key ? "with" : "without");
    FUZZ_CHECK(qh_busev_host_id_valid(ev.host_id) && ev.seq > 0, "host '%s' seq %llu", ev.host_id,
               (unsigned long long)ev.seq);
    FUZZ_CHECK(qh_busev_peek_type(data, size) == ev.ev.type, "peek and decode disagree on the type");
    const char *sym = qtr_event_symbol(&ev.ev);
    if (sym) FUZZ_CHECK(memchr(sym, '\0', QTR_SYMBOL_MAX) != NULL, "symbol not terminated");

    static unsigned char out[QH_BUSEV_MAX];
    size_t n = qh_busev_encode(ev.host_id, ev.seq, &ev.ev, key, out, sizeof out);
    FUZZ_CHECK(n == size, "re-encoded to %zu bytes from %zu", n, size);
    FUZZ_CHECK(qh_busev_decode(out, n, key, NULL, &again, err, sizeof err) == 0, "its own encoding refused: %s", err);
    FUZZ_CHECK(memcmp(&ev, &again, sizeof ev) == 0, "decode(encode(decode(x))) differs from decode(x)");

    if (key) {
        /* signed: any one bit changed after the version is refused as
         * untrusted (a changed version is one this host does not read) */
        size_t at = 1 + (size_t)data[size - 1] * 131 % (n - 1);
        out[at] ^= (unsigned char)(1u << (data[size - 1] & 7));
        FUZZ_CHECK(qh_busev_decode(out, n, key, NULL, &again, err, sizeof err) == QH_BUSEV_UNTRUSTED,
                   "a signed entry with byte %zu altered was not refused as untrusted (%s)", at, err);
    }

    event_blob *b = event_blob_new(&ev.ev, 1, 0);
    if (!b) return;   /* out of memory only */
    json_error_t je;
    json_t *j = json_loadb(b->json, b->len, 0, &je);
    FUZZ_CHECK(j && json_is_object(j), "%s event: its dashboard JSON is not valid (%s): %.200s",
               qtr_event_type_name(ev.ev.type), je.text, b->json);
    json_decref(j);
    event_blob_unref(b);
}
