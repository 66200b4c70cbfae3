/* QTR_OPT_PATH (ABI 2.2): a plugin's path option is resolved against the
 * config file's folder when the config is read (qh_optval.path, what
 * config_string() hands a PATH option's plugin), absolute paths and ""
 * unchanged, the built-in config's (dir ".") from the working directory; a
 * PATH is checked as a string; its default must be "" or absolute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/option_check.h"

static const qh_optval *opt(const qh_config *c, const char *plugin, const char *name)
{
    for (size_t i = 0; i < c->n_plugins; i++)
        for (size_t k = 0; !strcmp(c->plugins[i].name, plugin) && k < c->plugins[i].n_opts; k++)
            if (!strcmp(c->plugins[i].opts[k].name, name)) return &c->plugins[i].opts[k];
    return NULL;
}

static const char *CONFIG =
    "return { plugins = {\n"
    "  { kind = 'exchange', name = 'paper', options = { symbols_file = 'rules/x.json', taker_fee = '0.0004' } },\n"
    "  { kind = 'strategy', name = 'ensemble', options = { model = '/opt/m.json', other = '', n = 3 } },\n"
    "} }\n";

static void relative_to_the_config_folder(void **s)
{
    (void)s;
    qh_config c;
    char err[512] = "";
    assert_int_equal(qh_config_load_string(CONFIG, "/etc/qtr/qtr.lua", "/etc/qtr", &c, err, sizeof err), 0);
    const qh_optval *v = opt(&c, "paper", "symbols_file");
    assert_non_null(v);
    assert_string_equal(v->str, "rules/x.json");            /* as written, for a STRING */
    assert_string_equal(v->path, "/etc/qtr/rules/x.json");  /* for a PATH */
    assert_string_equal(opt(&c, "ensemble", "model")->path, "/opt/m.json");
    assert_string_equal(opt(&c, "ensemble", "other")->path, "");
    assert_null(opt(&c, "ensemble", "n")->path);            /* not a string */
    qh_config_free(&c);
}

static void the_built_in_config_is_from_the_working_directory(void **s)
{
    (void)s;
    qh_config c;
    char err[512] = "";
    assert_int_equal(qh_config_load_string(CONFIG, "(built-in default)", ".", &c, err, sizeof err), 0);
    assert_string_equal(opt(&c, "paper", "symbols_file")->path, "rules/x.json");
    qh_config_free(&c);
}

static void resolve_rules(void **s)
{
    (void)s;
    char out[64];
    assert_int_equal(qh_option_path_resolve("/srv/conf", "m.json", out, sizeof out), 0);
    assert_string_equal(out, "/srv/conf/m.json");
    assert_int_equal(qh_option_path_resolve("conf", "../m.json", out, sizeof out), 0);
    assert_string_equal(out, "conf/../m.json");
    assert_int_equal(qh_option_path_resolve("/srv/conf", "/abs/m.json", out, sizeof out), 0);
    assert_string_equal(out, "/abs/m.json");
    assert_int_equal(qh_option_path_resolve("/srv/conf", "", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(qh_option_path_resolve(NULL, "m.json", out, sizeof out), 0);
    assert_string_equal(out, "m.json");
    assert_int_equal(qh_option_path_resolve("/a/very/long/folder/name/indeed", "and/a/long/file/name.json", out, 16),
                     -1);
}

static void checked_as_a_string(void **s)
{
    (void)s;
    static const char *const only[] = { "a.json", NULL };
    const qtr_option d = { .name = "model", .type = QTR_OPT_PATH, .default_value = "", .max = "8" };
    char why[256];
    assert_true(qh_option_decl_valid(&d, why, sizeof why));
    qh_optval v = { .name = "model", .type = QH_OPTV_STRING, .str = "m.json" };
    assert_true(qh_option_value_valid(&d, &v, why, sizeof why));
    v.str = "models/m.json";
    assert_false(qh_option_value_valid(&d, &v, why, sizeof why));
    assert_non_null(strstr(why, "13 bytes long"));
    qh_optval n = { .name = "model", .type = QH_OPTV_INT, .i = 3 };
    assert_false(qh_option_value_valid(&d, &n, why, sizeof why));
    assert_non_null(strstr(why, "expected a path"));
    const qtr_option a = { .name = "model", .type = QTR_OPT_PATH, .allowed = only };
    v.str = "b.json";
    assert_false(qh_option_value_valid(&a, &v, why, sizeof why));
}

static void a_relative_default_is_refused(void **s)
{
    (void)s;
    char why[256];
    const qtr_option rel = { .name = "model", .type = QTR_OPT_PATH, .default_value = "models/m.json" };
    assert_false(qh_option_decl_valid(&rel, why, sizeof why));
    assert_non_null(strstr(why, "default 'models/m.json' of a path must be \"\" or absolute"));
    const qtr_option abs = { .name = "model", .type = QTR_OPT_PATH, .default_value = "/usr/lib/m.json" };
    assert_true(qh_option_decl_valid(&abs, why, sizeof why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_to_the_config_folder),
        cmocka_unit_test(the_built_in_config_is_from_the_working_directory),
        cmocka_unit_test(resolve_rules),
        cmocka_unit_test(checked_as_a_string),
        cmocka_unit_test(a_relative_default_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
