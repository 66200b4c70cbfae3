/*
 * abi_signature — the host's build signature (qtr/signature.h) and the
 * comparison with a plugin's, made by the loader before it reads anything
 * else of a descriptor.
 */
#ifndef QH_ABI_SIGNATURE_H
#define QH_ABI_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

/* This host's signature (built from the same SDK headers). */
const qtr_build_signature *qh_host_signature(void);

/* True if a plugin built for ABI minor plugin_minor with signature sig may
 * run on a host built for host_minor with signature host; else false with
 * one line in why naming the first fact that differs, the plugin's value and
 * the host's. */
bool qh_signature_compatible(const qtr_build_signature *host, uint16_t host_minor,
                             const qtr_build_signature *sig, uint16_t plugin_minor, char *why, size_t whylen);

/* How many bytes the plugin's struct of this event payload has, as it was
 * built (its signature's payload size; own when the signature does not
 * say). The stride of an array of them in the plugin's memory. */
size_t qh_signature_payload_size(const qtr_build_signature *sig, qtr_event_type type, size_t own);

#endif
