/* Fuzz target: an event envelope as it comes off a Redis stream or the disk
 * buffer (qh_busev_decode), whatever a peer or a writer into Redis put
 * there, then the dashboard's JSON of it (event_blob_new), which every
 * browser on an observer host parses.
 * Checked: a decoded event has a valid host id and sequence, its strings end
 * inside their arrays and its bools are 0 or 1; it encodes again and decodes
 * to the same event; the header's type is the event's; its JSON is one valid
 * JSON object (jansson reads it), whatever numbers it holds. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/event_codec.h"
#include "event_blob.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * QH_BUSEV_MAX) return 0;
    static qh_busev ev, again;
    char err[256] = "";
    if (qh_busev_decode(data, size, &ev, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        return 0;
    }
    FUZZ_CHECK(qh_busev_host_id_valid(ev.host_id) && ev.seq > 0, "host '%s' seq %llu", ev.host_id,
               (unsigned long long)ev.seq);
    FUZZ_CHECK(qh_busev_peek_type(data, size) == ev.ev.type, "peek and decode disagree on the type");
    const char *sym = qtr_event_symbol(&ev.ev);
    if (sym) FUZZ_CHECK(memchr(sym, '\0', QTR_SYMBOL_MAX) != NULL, "symbol not terminated");

    static unsigned char out[QH_BUSEV_MAX];
    size_t n = qh_busev_encode(ev.host_id, ev.seq, &ev.ev, out, sizeof out);
    FUZZ_CHECK(n == size, "re-encoded to %zu bytes from %zu", n, size);
    FUZZ_CHECK(qh_busev_decode(out, n, &again, err, sizeof err) == 0, "its own encoding refused: %s", err);
    FUZZ_CHECK(memcmp(&ev, &again, sizeof ev) == 0, "decode(encode(decode(x))) differs from decode(x)");

    event_blob *b = event_blob_new(&ev.ev, 1, 0);
    if (!b) return 0;   /* out of memory only */
    json_error_t je;
    json_t *j = json_loadb(b->json, b->len, 0, &je);
    FUZZ_CHECK(j && json_is_object(j), "%s event: its dashboard JSON is not valid (%s): %.200s",
               qtr_event_type_name(ev.ev.type), je.text, b->json);
    json_decref(j);
    event_blob_unref(b);
    return 0;
}
