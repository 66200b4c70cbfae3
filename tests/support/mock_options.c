/* mock_options.c — the mock host checks a plugin's configured options with
 * the host's own code (qh_config_check_options: names, types, declared
 * ranges and allowed values), as the real host does before init(), so a
 * plugin need not check them itself and its tests still see the refusal.
 * The mock holds options as text; each is given the type its declaration
 * says, as the config file would have written it. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "mock_host.h"

/* Text as the Lua value a config would hold for an option of type t. */
static void as_value(qtr_opt_type t, const char *name, const char *text, qh_optval *v, char **list_buf, char **items,
                     size_t max_items)
{
    memset(v, 0, sizeof *v);
    v->name = (char *)name;
    v->type = QH_OPTV_STRING;
    v->str = (char *)text;
    char *end;
    switch (t) {
    case QTR_OPT_INT: {
        long long x = strtoll(text, &end, 10);
        if (*text && !*end) {
            v->type = QH_OPTV_INT;
            v->i = x;
        }
        break;
    }
    case QTR_OPT_DOUBLE: {
        double d = strtod(text, &end);
        if (*text && !*end) {
            v->type = QH_OPTV_NUMBER;
            v->num = d;
        }
        break;
    }
    case QTR_OPT_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "false")) {
            v->type = QH_OPTV_BOOL;
            v->b = !strcmp(text, "true");
        }
        break;
    case QTR_OPT_STRING_LIST:             /* "A,B": the mock's list form */
        *list_buf = strdup(text);
        if (!*list_buf) abort();
        v->type = QH_OPTV_LIST;
        v->list = items;
        for (char *save = NULL, *tok = strtok_r(*list_buf, ",", &save); tok && v->n_list < max_items;
             tok = strtok_r(NULL, ",", &save))
            items[v->n_list++] = tok;
        break;
    default:
        break;
    }
}

int mock_host_check_options(const mock_host *m, const qtr_plugin_desc *desc, char *err, size_t errlen)
{
    qh_optval vals[MOCK_MAX_OPTIONS];
    char *bufs[MOCK_MAX_OPTIONS] = { 0 };
    char *items[MOCK_MAX_OPTIONS][64];
    qh_plugin_conf pc;
    memset(&pc, 0, sizeof pc);
    qtr_strlcpy(pc.name, desc->name, sizeof pc.name);
    for (size_t i = 0; i < m->n_options; i++) {
        qtr_opt_type t = QTR_OPT_STRING;
        for (const qtr_option *o = desc->options; o && o->name; o++)
            if (!strcmp(o->name, m->options[i].name)) t = o->type;
        as_value(t, m->options[i].name, m->options[i].value, &vals[i], &bufs[i], items[i], 64);
    }
    pc.opts = vals;
    pc.n_opts = m->n_options;
    int rc = qh_config_check_options(&pc, desc->options, err, errlen);
    for (size_t i = 0; i < m->n_options; i++) free(bufs[i]);
    return rc;
}
