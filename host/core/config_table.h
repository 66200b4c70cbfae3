/*
 * Config sections as declared tables (as Fluent Bit's config_map, and the
 * same qtr_option a plugin declares its options with): each field has a
 * type, a default, bounds, allowed values and flags (core/option_check.c
 * checks them), and where its value goes in the target struct. One reader
 * walks any section: unknown keys are refused with their path, each value
 * is checked and stored, so a section is a table, not a hand-written walk.
 *
 * To give the server config a new section: declare a qh_conf_section (see
 * core/config_sections.c) over your struct inside qh_config, and read it in
 * config.c with `read_section(w, &your_section, &c->your_struct)`. A list of
 * tables (plugins[i]) is one section read once per item under the item's
 * name (qh_conf_read_named). A section inside a section (bus.redis) is a
 * QH_CONF_TABLE field naming its own qh_conf_section.
 * A value the table cannot express (a URL's shape, a cross-field rule) is
 * a text_rule on the field or a check after the read.
 */
#ifndef QH_CONFIG_TABLE_H
#define QH_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include <qtr/plugin.h>

typedef enum qh_conf_store {
    QH_CONF_STR = 1,   /* char[size]                                              */
    QH_CONF_I64,       /* int64_t: the value times scale (s -> ms: 1000)          */
    QH_CONF_U64,       /* uint64_t                                                */
    QH_CONF_SIZE,      /* size_t: the value times scale (kb -> bytes: 1024)       */
    QH_CONF_DEC,       /* qtr_dec                                                 */
    QH_CONF_LIST,      /* char ** at offset, its size_t count at count_offset     */
    QH_CONF_CHOICE,    /* choice_base + the index of the value in opt.allowed,
                          into an int, or a bool when size is sizeof(bool)        */
    QH_CONF_I32,       /* int32_t (the table's bounds keep it in range)           */
    QH_CONF_BOOL,      /* bool                                                    */
    QH_CONF_BITS,      /* uint64_t: bit (choice_base + the index in opt.allowed)
                          for each item of a STRING_LIST (a set of names)         */
    QH_CONF_TABLE,     /* a nested table, read by `section` into the same base;
                          opt.type is not used, opt.flags may be REQUIRED         */
    QH_CONF_DOUBLE,    /* double: a score, never money (NaN refused)              */
    QH_CONF_CHECK,     /* checked against the table, not stored (a policy's
                          description)                                            */
} qh_conf_store;

struct qh_conf_section;

typedef struct qh_conf_field {
    qtr_option opt;          /* name, type, default, flags, help, min, max, allowed */
    qh_conf_store store;
    size_t offset;           /* in the target struct */
    size_t size;             /* STR: the buffer; CHOICE: the target's size */
    int64_t scale;           /* I64, SIZE: 0 or 1 for none */
    int choice_base;
    size_t count_offset;     /* LIST */
    /* A rule the table cannot say (a symbol's shape, a charset): NULL if
     * the text (a STR, or each item of a LIST) is fine, else why not. */
    const char *(*text_rule)(const char *text);
    const struct qh_conf_section *section;   /* TABLE */
} qh_conf_field;

typedef struct qh_conf_section {
    const char *name;                /* "market"; "" for the top level        */
    const qh_conf_field *fields;     /* ends with an entry whose opt.name is NULL */
    const char *const *also;         /* keys read elsewhere (sections, hooks); NULL-terminated */
    /* The table's other keys belong to another section, which refuses the
     * unknown ones (host_id and role: read by bus/bus_config.c from the top
     * level, whose own section lists them in `also`). */
    bool shares_table;
} qh_conf_section;

typedef struct qh_conf_error {
    char where[160];                 /* "signals.per_cycle", "market.symbols[2]" */
    char why[320];
} qh_conf_error;

/* Store every field's default into base (lists: none). 0, or -1 with e
 * filled (a default that fails its own field: a bug in the table). */
int qh_conf_defaults(const qh_conf_section *s, void *base, qh_conf_error *e);

/* Read the table on top of L's stack (raw: no metatable runs) into base.
 * 0, or -1 with e filled; the first error wins. Lists are allocated
 * (qh_conf_free_lists frees them); call it in protected mode. */
int qh_conf_read(lua_State *L, const qh_conf_section *s, void *base, qh_conf_error *e);

/* The same, with the section called `name` in errors ("plugins[2]"). */
int qh_conf_read_named(lua_State *L, const qh_conf_section *s, const char *name, void *base, qh_conf_error *e);

/* The Lua value on top of L's stack as a value of its own (a plugin's
 * option: read before its plugin declares it, checked against the
 * declaration at load, qh_config_check_options). Strings and list items are
 * copied; `where` names it in errors. 0, or -1 with e filled and nothing
 * left to free. Call it in protected mode. */
struct qh_optval;
int qh_conf_value(lua_State *L, const char *where, struct qh_optval *v, qh_conf_error *e);

/* Whether the table at the top of L has a key other than 1..len, the keys
 * of a list: {a = 1} or a hole would otherwise vanish unread. When it has,
 * that key as text ("'a'", "7", "(a boolean)") in key. */
bool qh_conf_list_stray_key(lua_State *L, lua_Integer len, char *key, size_t keylen);

/* Free the lists of the section's LIST fields in base. */
void qh_conf_free_lists(const qh_conf_section *s, void *base);

#endif
