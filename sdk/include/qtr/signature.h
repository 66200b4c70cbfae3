/*
 * qtr/signature.h — the build signature, as nginx has NGX_MODULE_SIGNATURE.
 *
 * The ABI version says which services and fields exist; it cannot see a
 * plugin compiled with other layout facts than the host at the same version
 * (another compiler option such as -fshort-enums, an edited copy of a
 * header, a field inserted without a version bump). So QTR_PLUGIN_DEFINE
 * records the layout facts of the build in the descriptor, and the host
 * compares them with its own before it reads anything else of the
 * descriptor or calls anything in the plugin. A difference is refused with
 * one line naming the fact, the plugin's value and the host's.
 *
 * Two rules, by the fact's column:
 *   SAME   must be equal whatever the versions: the machine (byte order,
 *          pointer and integer sizes), the fixed buffers (QTR_*_MAX), the
 *          money type, sizeof(qtr_event) (it never grows: payloads are
 *          appended inside its reserved room), arrays the plugin hands the
 *          host (qtr_option).
 *   GROWS  a table that grows by appending (qtr_host, the descriptor, the
 *          callback tables, each event payload): equal when the plugin was
 *          built for the host's minor version, never larger when it was
 *          built for an older minor (a newer minor is refused anyway).
 *
 * Both lists are append-only; a plugin's signature may hold fewer facts than
 * the host's (it was built by an older SDK), never more.
 */
#ifndef QTR_SIGNATURE_H
#define QTR_SIGNATURE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define QTR__BYTE_ORDER 4321u
#else
#define QTR__BYTE_ORDER 1234u
#endif

/* X(ID, what it is called in a refusal, value, rule) */
/* clang-format off */
#define QTR_SIGNATURE_FACTS(X)                                                          \
    X(BYTE_ORDER,        "byte order",                QTR__BYTE_ORDER,            SAME)  \
    X(POINTER_SIZE,      "pointer size",              sizeof(void *),             SAME)  \
    X(LONG_SIZE,         "long size",                 sizeof(long),               SAME)  \
    X(ENUM_SIZE,         "enum size",                 sizeof(qtr_kind),           SAME)  \
    X(BOOL_SIZE,         "bool size",                 sizeof(bool),               SAME)  \
    X(INT64_ALIGN,       "int64_t alignment",         _Alignof(int64_t),          SAME)  \
    X(DOUBLE_SIZE,       "double size",               sizeof(double),             SAME)  \
    X(DEC_SIZE,          "qtr_dec size",              sizeof(qtr_dec),            SAME)  \
    X(DEC_SCALE,         "QTR_DEC_SCALE",             QTR_DEC_SCALE,              SAME)  \
    X(SYMBOL_MAX,        "QTR_SYMBOL_MAX",            QTR_SYMBOL_MAX,             SAME)  \
    X(CLIENT_ID_MAX,     "QTR_CLIENT_ID_MAX",         QTR_CLIENT_ID_MAX,          SAME)  \
    X(NAME_MAX,          "QTR_NAME_MAX",              QTR_NAME_MAX,               SAME)  \
    X(REASON_MAX,        "QTR_REASON_MAX",            QTR_REASON_MAX,             SAME)  \
    X(TEXT_MAX,          "QTR_TEXT_MAX",              QTR_TEXT_MAX,               SAME)  \
    X(EVENT_SIZE,        "qtr_event size",            sizeof(qtr_event),          SAME)  \
    X(EVENT_ALIGN,       "qtr_event alignment",       _Alignof(qtr_event),        SAME)  \
    X(OPTION_SIZE,       "qtr_option size",           sizeof(qtr_option),         SAME)  \
    X(EVENT_TYPES,       "number of event types",     QTR_EV__COUNT,              GROWS) \
    X(HOST_SIZE,         "qtr_host size",             sizeof(qtr_host),           GROWS) \
    X(DESC_SIZE,         "qtr_plugin_desc size",      sizeof(qtr_plugin_desc),    GROWS) \
    X(STRATEGY_OPS_SIZE, "qtr_strategy_ops size",     sizeof(qtr_strategy_ops),   GROWS) \
    X(RISK_OPS_SIZE,     "qtr_risk_ops size",         sizeof(qtr_risk_ops),       GROWS) \
    X(EXCHANGE_OPS_SIZE, "qtr_exchange_ops size",     sizeof(qtr_exchange_ops),   GROWS) \
    X(DASHBOARD_OPS_SIZE,"qtr_dashboard_ops size",    sizeof(qtr_dashboard_ops),  GROWS)
/* clang-format on */

#define QTR__SIG_ENUM(ID, ...) QTR_SIG_##ID,
typedef enum qtr_signature_fact { QTR_SIGNATURE_FACTS(QTR__SIG_ENUM) QTR_SIG__COUNT } qtr_signature_fact;
#undef QTR__SIG_ENUM

typedef enum qtr_signature_rule { QTR_SIG_SAME = 1, QTR_SIG_GROWS = 2 } qtr_signature_rule;

#define QTR_SIGNATURE_MAGIC 0x51545253u   /* "QTRS" */

/* Where the facts are. Its first members never move. */
typedef struct qtr_build_signature {
    uint32_t size;                    /* sizeof(qtr_build_signature) as built   */
    uint32_t magic;                   /* QTR_SIGNATURE_MAGIC                    */
    uint32_t n_facts;                 /* QTR_SIG__COUNT as built                */
    uint32_t n_payloads;              /* QTR_EV__COUNT as built                 */
    const uint32_t *facts;            /* [n_facts], in QTR_SIGNATURE_FACTS order */
    const uint32_t *payload_sizes;    /* [n_payloads]: sizeof each event payload,
                                         by type (0 for QTR_EV_NONE)            */
} qtr_build_signature;

/* The facts of this build, as an initialiser list (QTR_PLUGIN_DEFINE and the
 * host both use it). */
#define QTR__SIG_VALUE(ID, name, value, rule) [QTR_SIG_##ID] = (uint32_t)(value),
#define QTR_SIGNATURE_FACT_VALUES { QTR_SIGNATURE_FACTS(QTR__SIG_VALUE) }
#define QTR__SIG_PAYLOAD(value, ID, name, payload, ...) [QTR_EV_##ID] = (uint32_t)sizeof(payload),
#define QTR_SIGNATURE_PAYLOAD_SIZES { [QTR_EV_NONE] = 0, QTR_EVENT_TYPES(QTR__SIG_PAYLOAD) }

#ifdef __cplusplus
}
#endif
#endif /* QTR_SIGNATURE_H */
