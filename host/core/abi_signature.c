/* abi_signature.c — see abi_signature.h. */
#include "core/abi_signature.h"

#include <stdio.h>

static const uint32_t host_facts[QTR_SIG__COUNT] = QTR_SIGNATURE_FACT_VALUES;
static const uint32_t host_payloads[QTR_EV__COUNT] = QTR_SIGNATURE_PAYLOAD_SIZES;
static const qtr_build_signature host_signature = {
    .size = sizeof(qtr_build_signature), .magic = QTR_SIGNATURE_MAGIC,
    .n_facts = QTR_SIG__COUNT, .n_payloads = QTR_EV__COUNT,
    .facts = host_facts, .payload_sizes = host_payloads,
};

const qtr_build_signature *qh_host_signature(void) { return &host_signature; }

#define FACT_NAME(ID, name, value, rule) [QTR_SIG_##ID] = name,
static const char *const fact_names[QTR_SIG__COUNT] = { QTR_SIGNATURE_FACTS(FACT_NAME) };
#undef FACT_NAME
#define FACT_RULE(ID, name, value, rule) [QTR_SIG_##ID] = QTR_SIG_##rule,
static const unsigned char fact_rules[QTR_SIG__COUNT] = { QTR_SIGNATURE_FACTS(FACT_RULE) };
#undef FACT_RULE

/* A SAME fact must be equal; a GROWS one equal at the same minor and never
 * larger than the host's from an older minor. */
static bool fact_fits(int rule, uint32_t plugin, uint32_t host, bool same_minor)
{
    if (rule == QTR_SIG_SAME || same_minor) return plugin == host;
    return plugin <= host;
}

static bool differs(char *why, size_t whylen, const char *what, uint32_t plugin, uint32_t host)
{
    snprintf(why, whylen, "build signature differs: %s is %u in the plugin, %u in this host (rebuild the plugin "
             "against this host's SDK)", what, (unsigned)plugin, (unsigned)host);
    return false;
}

bool qh_signature_compatible(const qtr_build_signature *host, uint16_t host_minor,
                             const qtr_build_signature *sig, uint16_t plugin_minor, char *why, size_t whylen)
{
    if (!sig) {
        snprintf(why, whylen, "no build signature (a descriptor not made by QTR_PLUGIN_DEFINE of SDK %d.x)",
                 QTR_ABI_MAJOR);
        return false;
    }
    if (sig->magic != QTR_SIGNATURE_MAGIC || sig->size < offsetof(qtr_build_signature, payload_sizes) +
                                                             sizeof sig->payload_sizes ||
        !sig->facts || !sig->payload_sizes) {
        snprintf(why, whylen, "build signature malformed (magic 0x%08x, %u bytes)", (unsigned)sig->magic,
                 (unsigned)sig->size);
        return false;
    }
    bool same_minor = plugin_minor == host_minor;
    /* an SDK of the same minor has the same facts; an older one may have fewer */
    if (sig->n_facts > host->n_facts || (same_minor && sig->n_facts != host->n_facts))
        return differs(why, whylen, "the number of signature facts", sig->n_facts, host->n_facts);
    for (uint32_t i = 0; i < sig->n_facts; i++)
        if (!fact_fits(fact_rules[i], sig->facts[i], host->facts[i], same_minor))
            return differs(why, whylen, fact_names[i], sig->facts[i], host->facts[i]);
    if (sig->n_payloads > host->n_payloads || (same_minor && sig->n_payloads != host->n_payloads))
        return differs(why, whylen, "the number of event payloads", sig->n_payloads, host->n_payloads);
    for (uint32_t t = 1; t < sig->n_payloads; t++)
        if (!fact_fits(QTR_SIG_GROWS, sig->payload_sizes[t], host->payload_sizes[t], same_minor)) {
            char what[64];
            snprintf(what, sizeof what, "the %s event payload size", qtr_event_type_name((qtr_event_type)t));
            return differs(why, whylen, what, sig->payload_sizes[t], host->payload_sizes[t]);
        }
    return true;
}

size_t qh_signature_payload_size(const qtr_build_signature *sig, qtr_event_type type, size_t own)
{
    if (!sig || !sig->payload_sizes || (uint32_t)type >= sig->n_payloads || !sig->payload_sizes[type]) return own;
    return sig->payload_sizes[type];
}
