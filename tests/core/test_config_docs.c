/*
 * docs/config.md says what the server config's declared tables say: for
 * every key of every section (core/config_sections.c, config_caps.c,
 * bus/bus_config.c, plugins[i]) a row `| `path` | type | default | meaning |`
 * whose type names the declared type, whose default is the declared one
 * ("required" where the key is), and which states the declared range and
 * every allowed value. Sections are found from the top level's own list of
 * keys it leaves to other tables (qh_section_top.also): a new section whose
 * table this test does not walk fails here, so do its undocumented keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus_config.h"
#include "core/config_caps.h"
#include "core/config_sections.h"

/* Each declared table, with the prefix its keys have in the config file. */
typedef struct walked {
    const qh_conf_section *section;
    const char *prefix;
} walked;

static const walked TABLES[] = {
    { &qh_section_top, "" },           { &qh_section_market, "market" }, { &qh_section_account, "account" },
    { &qh_section_policy, "policy" },  { &qh_section_signals, "signals" }, { &qh_section_store, "store" },
    { &qh_section_ess, "ess" },        { &qh_section_regime, "regime" }, { &qh_section_caps, "caps" },
    { &qh_section_plugin, "plugins[i]" }, { &qh_section_bus_top, "" },
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])

static const char *config_md;
static char why[1400];                 /* what the last check found wrong */

#define WRONG(...) do { snprintf(why, sizeof why, __VA_ARGS__); return false; } while (0)

static char *read_docs(void)
{
    FILE *f = fopen("docs/config.md", "rb");   /* tests run in the source folder */
    if (!f) fail_msg("docs/config.md: cannot open (run from the source folder)");
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    text[0] = '\n';
    size_t n = fread(text + 1, 1, (1 << 20) - 2, f);
    fclose(f);
    assert_true(n > 0);
    return text;
}

/* "10^9" or "1000" at s -> its value; *end past it. */
static long long doc_number(const char *s, const char **end)
{
    char *e;
    long long v = strtoll(s, &e, 10);
    if (v == 10 && *e == '^') {
        long long k = strtoll(e + 1, &e, 10);
        for (v = 1; k > 0; k--) v *= 10;
    }
    *end = e;
    return v;
}

typedef struct row {
    char line[1024];
    char *type, *dflt, *rest;          /* columns 2, 3, and 4 onwards */
} row;

static bool find_row(const char *path, row *r)
{
    char head[160];
    snprintf(head, sizeof head, "\n| `%s` |", path);
    const char *at = strstr(config_md, head);
    if (!at) WRONG("docs/config.md has no row for %s", path);
    at++;
    const char *eol = strchr(at, '\n');
    snprintf(r->line, sizeof r->line, "%.*s", (int)(eol ? eol - at : (long)strlen(at)), at);
    char *cols[4] = { 0 };
    int n = 0;
    for (char *p = r->line + 1; n < 4 && (p = strchr(p, '|')); p++) {
        *p = '\0';
        cols[n++] = p + 1;
    }
    if (n < 3) WRONG("%s: the row has fewer than 4 columns", path);
    r->type = cols[0];
    r->dflt = cols[1];
    r->rest = cols[2];
    return true;
}

static bool row_says(const row *r, const char *text)
{
    return strstr(r->type, text) || strstr(r->rest, text);
}

static bool type_documented(const char *path, const qh_conf_field *f, const row *r)
{
    static const struct { qtr_opt_type type; const char *word; } words[] = {
        { QTR_OPT_INT, "integer" },     { QTR_OPT_DECIMAL, "decimal" }, { QTR_OPT_BOOL, "boolean" },
        { QTR_OPT_STRING_LIST, "list" }, { QTR_OPT_STRING, "string" },  { QTR_OPT_PATH, "path" },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (words[i].type != f->opt.type) continue;
        /* a string naming a file is documented as a path; one of a set by its values */
        if (strstr(r->type, words[i].word)) return true;
        if (f->opt.type == QTR_OPT_STRING && (strstr(r->type, "path") || f->opt.allowed)) return true;
        WRONG("%s: declared %s, the type column says '%s'", path, words[i].word, r->type);
    }
    WRONG("%s: type %d has no documented word in this test", path, (int)f->opt.type);
}

static bool default_documented(const char *path, const qh_conf_field *f, const row *r)
{
    char want[96];
    if (f->opt.default_value && (f->opt.type == QTR_OPT_INT || f->opt.type == QTR_OPT_BOOL)) {
        snprintf(want, sizeof want, " %s ", f->opt.default_value);
        if (strncmp(r->dflt, want, strlen(want)) != 0 && strcmp(r->dflt, want) != 0)
            WRONG("%s: documented default '%s', declared %s", path, r->dflt, f->opt.default_value);
    } else if (f->opt.default_value) {
        snprintf(want, sizeof want, " `\"%s\"`", f->opt.default_value);
        if (strncmp(r->dflt, want, strlen(want)) != 0)
            WRONG("%s: documented default '%s', declared \"%s\"", path, r->dflt, f->opt.default_value);
    } else if (f->opt.flags & QTR_OPT_REQUIRED) {
        if (!strstr(r->dflt, "required")) WRONG("%s: declared required, documented default '%s'", path, r->dflt);
    } else if (!strcmp(r->dflt, " required ")) {
        WRONG("%s: documented as required, declared optional", path);
    }
    return true;
}

/* An integer range "lo..hi" (hi may be written 10^k). */
static bool int_range_documented(const row *r, const char *lo, const char *hi)
{
    char head[48];
    snprintf(head, sizeof head, "%s..", lo);
    for (const char *col = r->type; col; col = col == r->type ? r->rest : NULL)
        for (const char *at = strstr(col, head); at; at = strstr(at + 1, head)) {
            if (at > col && at[-1] >= '0' && at[-1] <= '9') continue;   /* "10..": not "0.." */
            const char *end;
            if (doc_number(at + strlen(head), &end) == atoll(hi)) return true;
        }
    return false;
}

static bool range_documented(const char *path, const qh_conf_field *f, const row *r)
{
    const char *lo = f->opt.min, *hi = f->opt.max;
    bool excl = f->opt.flags & QTR_OPT_MIN_EXCLUSIVE;
    char want[96] = "";
    if (!lo && !hi) return true;
    if (f->opt.type == QTR_OPT_INT || f->opt.type == QTR_OPT_STRING || f->opt.type == QTR_OPT_PATH ||
        f->opt.type == QTR_OPT_STRING_LIST) {
        const char *unit = f->opt.type == QTR_OPT_INT ? "" : f->opt.type == QTR_OPT_STRING_LIST ? " items" : " bytes";
        if (lo && hi) {
            if (!int_range_documented(r, lo, hi))
                WRONG("%s: declared %s..%s%s, the row says: %s |%s", path, lo, hi, unit, r->type, r->rest);
            return true;
        }
        const char *n = lo ? lo : hi;
        bool one = !strcmp(n, "1") && *unit;   /* "1 byte", not "1 bytes" */
        snprintf(want, sizeof want, "at %s %s%.*s", lo ? "least" : "most", n, (int)strlen(unit) - one, unit);
    } else if (f->opt.type == QTR_OPT_DECIMAL) {
        if (lo && hi) snprintf(want, sizeof want, "%s %s x ≤ %s", lo, excl ? "<" : "≤", hi);
        else if (lo) snprintf(want, sizeof want, "%s %s", excl ? ">" : "≥", lo);
        else snprintf(want, sizeof want, "≤ %s", hi);
    } else {
        WRONG("%s: a range on type %d, which this test cannot read", path, (int)f->opt.type);
    }
    if (!row_says(r, want)) WRONG("%s: declared '%s', the row says: %s |%s", path, want, r->type, r->rest);
    return true;
}

static bool allowed_documented(const char *path, const qh_conf_field *f, const row *r)
{
    if (!f->opt.allowed) return true;
    /* a set of event names is the registry's: the row points to it instead of copying 20 names */
    if (f->opt.type == QTR_OPT_STRING_LIST && row_says(r, "qtr/event_types.h")) return true;
    for (const char *const *a = f->opt.allowed; *a; a++) {
        char want[64];
        snprintf(want, sizeof want, "`%s`", *a);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`\"%s\"`", *a);
        if (!row_says(r, want) && !row_says(r, quoted) && !strstr(r->dflt, quoted))
            WRONG("%s: allowed value %s is not documented", path, *a);
    }
    return true;
}

static size_t n_checked;

/* true if the row of `path` says what f declares; else false and `why` */
static bool documented_as_declared(const char *path, const qh_conf_field *f)
{
    row r;
    return find_row(path, &r) && type_documented(path, f, &r) && default_documented(path, f, &r) &&
           range_documented(path, f, &r) && allowed_documented(path, f, &r);
}

static void each_field(const qh_conf_section *s, const char *prefix)
{
    for (const qh_conf_field *f = s->fields; f->opt.name; f++) {
        char path[128];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->opt.name);
        if (f->store == QH_CONF_TABLE) {
            each_field(f->section, path);
            continue;
        }
        if (!documented_as_declared(path, f)) fail_msg("%s", why);
        n_checked++;
    }
}

/* Every key the top level leaves to another table is one this test walks:
 * a section's name, or a key of a table that shares the top level. */
static void every_section_is_walked(void **state)
{
    (void)state;
    for (const char *const *k = qh_section_top.also; *k; k++) {
        size_t len = strlen(*k);
        bool found = false;
        for (size_t i = 0; i < N_TABLES && !found; i++) {
            const walked *w = &TABLES[i];
            if (*w->prefix) {
                found = !strncmp(w->prefix, *k, len) && (w->prefix[len] == '\0' || w->prefix[len] == '[');
                continue;
            }
            for (const qh_conf_field *f = w->section->fields; f->opt.name && !found; f++)
                found = !strcmp(f->opt.name, *k);
        }
        if (!found) fail_msg("top-level key %s: its table is not walked by this test (add it to TABLES)", *k);
    }
}

static void docs_say_what_every_table_declares(void **state)
{
    (void)state;
    char *md = read_docs();
    config_md = md;
    n_checked = 0;
    for (size_t i = 0; i < N_TABLES; i++) each_field(TABLES[i].section, TABLES[i].prefix);
    assert_true(n_checked > 50);
    config_md = NULL;
    free(md);
}

/* The check itself: each row here disagrees with its declaration in one
 * way and is refused; the last one agrees. */
static void a_wrong_row_is_caught(void **state)
{
    (void)state;
    static const char *const xyz[] = { "x", "y", "z", NULL };
    static const struct { const char *md, *path, *says; qtr_option opt; } cases[] = {
        { "\n| `a.n` | integer 1..100 | 7 | x |\n", "a.n", "declared 1..1000",
          { .name = "n", .type = QTR_OPT_INT, .default_value = "7", .min = "1", .max = "1000" } },
        { "\n| `a.n` | integer 1..100 | 8 | x |\n", "a.n", "documented default ' 8 ', declared 7",
          { .name = "n", .type = QTR_OPT_INT, .default_value = "7", .min = "1", .max = "100" } },
        { "\n| `a.n` | decimal | 1 | x |\n", "a.n", "declared integer",
          { .name = "n", .type = QTR_OPT_INT, .default_value = "1" } },
        { "\n| `a.d` | decimal, 0 < x ≤ 10 | `\"1\"` | x |\n", "a.d", "declared '0 < x ≤ 100'",
          { .name = "d", .type = QTR_OPT_DECIMAL, .default_value = "1", .min = "0", .max = "100",
            .flags = QTR_OPT_MIN_EXCLUSIVE } },
        { "\n| `a.s` | `x` / `y` | `\"x\"` | x |\n", "a.s", "allowed value z is not documented",
          { .name = "s", .type = QTR_OPT_STRING, .default_value = "x", .allowed = xyz } },
        { "\n| `a.r` | string | none | x |\n", "a.r", "declared required",
          { .name = "r", .type = QTR_OPT_STRING, .flags = QTR_OPT_REQUIRED } },
        { "\n| `a.b` | integer 1..100 | 7 | x |\n", "a.n", "no row for a.n",
          { .name = "n", .type = QTR_OPT_INT, .default_value = "7", .min = "1", .max = "100" } },
        { "\n| `a.n` | integer 10..100 | 7 | x |\n", "a.n", "declared 0..100",
          { .name = "n", .type = QTR_OPT_INT, .default_value = "7", .min = "0", .max = "100" } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qh_conf_field f = { .opt = cases[i].opt };
        config_md = cases[i].md;
        if (documented_as_declared(cases[i].path, &f)) fail_msg("case %zu: a wrong row was accepted", i);
        if (!strstr(why, cases[i].says)) fail_msg("case %zu: '%s' does not say '%s'", i, why, cases[i].says);
    }
    qh_conf_field good = { .opt = { .name = "n", .type = QTR_OPT_INT, .default_value = "7", .min = "1",
                                    .max = "100" } };
    config_md = "\n| `a.n` | integer 1..10^2 | 7 | x |\n";
    if (!documented_as_declared("a.n", &good)) fail_msg("a right row refused: %s", why);
    config_md = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_section_is_walked),
        cmocka_unit_test(docs_say_what_every_table_declares),
        cmocka_unit_test(a_wrong_row_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
