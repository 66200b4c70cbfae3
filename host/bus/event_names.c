/* event_names.c — the bus's event type names and payload sizes (from the
 * SDK's registry) and host ids (event_codec.h): what the config reader needs
 * of the bus, apart from the envelope's code (event_codec.c), so a program
 * that reads a config links neither the envelope nor its HMAC. */
#include "bus/event_codec.h"

#include <qtr/plugin.h>

/* One row a type, from the SDK's registry (qtr/event_types.h). */
typedef struct type_row {
    qtr_event_type type;
    const char *name;
    size_t size;
} type_row;

static const type_row rows[] = {
#define QH_BUSEV_ROW(value, ID, name, payload, member, ...) { QTR_EV_##ID, name, sizeof(payload) },
    QTR_EVENT_TYPES(QH_BUSEV_ROW)
#undef QH_BUSEV_ROW
};

static const type_row *row_of(qtr_event_type t)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].type == t) return &rows[i];
    return NULL;
}

size_t qh_busev_payload_size(qtr_event_type t)
{
    const type_row *r = row_of(t);
    return r ? r->size : 0;
}

const char *qh_busev_type_name(qtr_event_type t)
{
    const type_row *r = row_of(t);
    return r ? r->name : NULL;
}

bool qh_busev_host_id_valid(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return n >= 1 && n <= QH_HOST_ID_MAX;
}
