/* backtest_overrides.c — see backtest_overrides.h. The overrides are Lua
 * statements appended to the config's own text: the config's chunk runs
 * unchanged (on its first line, so its line numbers stay), then a helper
 * sets each PATH in the table it returned, and the walk checks the result. */
#include "cli/backtest_overrides.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/usage.h"
#include "core/file_read.h"

#define CONFIG_TEXT_MAX (1u << 20)   /* as core/config.c reads a config file */

int qh_overrides_path_ok(const char *path, size_t len)
{
    if (len == 0 || len > QH_OVERRIDE_TEXT_MAX || path[0] == '.' || path[len - 1] == '.') return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '.' ? path[i + 1] == '.' : !(isalnum(c) || c == '_')) return 0;
    }
    return 1;
}

int qh_overrides_add(qh_overrides *ov, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (!eq) {
        snprintf(err, errlen, "--set %s: expected PATH=VALUE", spec);
        return -1;
    }
    size_t plen = (size_t)(eq - spec);
    if (!qh_overrides_path_ok(spec, plen)) {
        snprintf(err, errlen, "--set %s: bad path '%.*s' (names of letters, digits and _, dot-separated)", spec,
                 (int)plen, spec);
        return -1;
    }
    if (strlen(eq + 1) > QH_OVERRIDE_TEXT_MAX) {
        snprintf(err, errlen, "--set %.*s: the value is longer than %d bytes", (int)plen, spec, QH_OVERRIDE_TEXT_MAX);
        return -1;
    }
    for (size_t i = 0; i < ov->n; i++)
        if (ov->path_len[i] == plen && memcmp(ov->path[i], spec, plen) == 0) {
            snprintf(err, errlen, "--set %.*s: given twice", (int)plen, spec);
            return -1;
        }
    if (ov->n >= QH_OVERRIDES_MAX) {
        snprintf(err, errlen, "--set: at most %d", QH_OVERRIDES_MAX);
        return -1;
    }
    ov->path[ov->n] = spec;
    ov->path_len[ov->n] = plen;
    ov->value[ov->n] = eq + 1;
    ov->n++;
    return 0;
}

int qh_overrides_arg(qh_overrides *ov, int argc, char **argv, int *i)
{
    const char *v = qh_usage_value(argc, argv, i, "backtest");
    char err[512];
    if (!v) return -1;
    if (qh_overrides_add(ov, v, err, sizeof err) == 0) return 0;
    fprintf(stderr, "qtr backtest: %s\n", err);
    return -1;
}

/* Whether err names the value path[0, n) sets (qh_overrides_blame). */
static bool names_path(const char *err, const char *path, size_t n)
{
    char subject[QH_OVERRIDE_TEXT_MAX + 32];
    const char *opt = memchr(path, '.', n) ? NULL : path;   /* one name: a plugin option, or a top-level key */
    if (n > 8 && memcmp(path, "plugins.", 8) == 0) {
        const char *dot = memchr(path + 8, '.', n - 8);
        if (!dot) return false;
        snprintf(subject, sizeof subject, "plugin %.*s: option %.*s:", (int)(dot - path - 8), path + 8,
                 (int)(path + n - dot - 1), dot + 1);
        return strstr(err, subject) != NULL;
    }
    if (opt) {
        snprintf(subject, sizeof subject, "option %.*s:", (int)n, path);
        if (strstr(err, subject)) return true;
    }
    snprintf(subject, sizeof subject, ": %.*s:", (int)n, path);
    return strstr(err, subject) != NULL;
}

void qh_overrides_blame(const qh_overrides *ov, char *err, size_t errlen)
{
    if (!ov || !err) return;
    for (size_t i = 0; i < ov->n; i++) {
        if (!names_path(err, ov->path[i], ov->path_len[i])) continue;
        size_t len = strlen(err);
        if (len < errlen) snprintf(err + len, errlen - len, " (set by --set %.*s)", (int)ov->path_len[i], ov->path[i]);
        return;
    }
}

/* Runs after the config's chunk, on the table it returned (level-0 errors:
 * the loader names the config file before them). */
static const char helper[] =
    "\nend)()\n"
    "local function __qtr_value(old, text)\n"
    "  if text == 'true' then return true elseif text == 'false' then return false end\n"
    "  local n = tonumber(text)\n"
    "  if math.type(old) == 'float' and n then return n + 0.0 end\n"
    "  if type(old) ~= 'string' and math.type(n) == 'integer' and text:match('^%-?%d+$') then return n end\n"
    "  return text\n"
    "end\n"
    "local __qtr_seen = {}   -- table -> key -> the path that set it\n"
    "local function __qtr_set(cfg, path, text)\n"
    "  if type(cfg) ~= 'table' then return end\n"
    "  local parts = {}\n"
    "  for p in string.gmatch(path, '[^.]+') do parts[#parts + 1] = p end\n"
    "  local plugins = rawget(cfg, 'plugins')\n"
    "  local t, key = cfg, parts[#parts]\n"
    "  if parts[1] == 'plugins' and #parts ~= 3 then\n"
    "    error('--set ' .. path .. ': a plugin option is plugins.NAME.OPTION (plugins.ma_cross.fast)', 0)\n"
    "  end\n"
    "  if parts[1] == 'plugins' then\n"
    "    local found\n"
    "    for _, p in ipairs(type(plugins) == 'table' and plugins or {}) do\n"
    "      if type(p) == 'table' and p.name == parts[2] then\n"
    "        if found then error('--set ' .. path .. ': two plugins are named ' .. parts[2], 0) end\n"
    "        found = p\n"
    "      end\n"
    "    end\n"
    "    if not found then error('--set ' .. path .. ': no plugin named ' .. parts[2] .. ' in the config', 0) end\n"
    "    if found.options == nil then found.options = {} end\n"
    "    if type(found.options) ~= 'table' then error('--set ' .. path .. ': its options are not a table', 0) end\n"
    "    t = found.options\n"
    "  elseif #parts == 1 then\n"
    "    local found\n"
    "    for _, p in ipairs(type(plugins) == 'table' and plugins or {}) do\n"
    "      if type(p) == 'table' and type(p.options) == 'table' and p.options[key] ~= nil then\n"
    "        if found then\n"
    "          error('--set ' .. path .. ': an option of both ' .. tostring(found.name) .. ' and ' .. tostring(p.name)\n"
    "                .. ': say plugins.NAME.' .. key, 0)\n"
    "        end\n"
    "        found = p\n"
    "      end\n"
    "    end\n"
    "    if found then t = found.options end\n"
    "  else\n"
    "    for i = 1, #parts - 1 do\n"
    "      local n = t[parts[i]]\n"
    "      if n == nil then n = {}; t[parts[i]] = n\n"
    "      elseif type(n) ~= 'table' then\n"
    "        error('--set ' .. path .. ': ' .. table.concat(parts, '.', 1, i) .. ' is not a table', 0)\n"
    "      end\n"
    "      t = n\n"
    "    end\n"
    "  end\n"
    /* fast and plugins.ma_cross.fast are one setting: the later would win
     * unsaid, and a sweep row would name a value that did not run */
    "  local seen = __qtr_seen[t] or {}\n"
    "  __qtr_seen[t] = seen\n"
    "  if seen[key] then error('--set ' .. path .. ': the same setting as --set ' .. seen[key], 0) end\n"
    "  seen[key] = path\n"
    "  t[key] = __qtr_value(t[key], text)\n"
    "end\n";

/* text as a Lua string literal: only letters, digits and a few marks as
 * they are, every other byte as \ddd. */
static void put_literal(FILE *m, const char *s, size_t len)
{
    fputc('"', m);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || strchr(" ._-:+/", c)) fputc(c, m);
        else fprintf(m, "\\%03u", c);
    }
    fputc('"', m);
}

static char *wrap(const char *text, const qh_overrides *ov)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return NULL;
    fputs("local __qtr_cfg = (function() ", m);
    fputs(text, m);
    fputs(helper, m);
    for (size_t i = 0; i < ov->n; i++) {
        fputs("__qtr_set(__qtr_cfg, ", m);
        put_literal(m, ov->path[i], ov->path_len[i]);
        fputs(", ", m);
        put_literal(m, ov->value[i], strlen(ov->value[i]));
        fputs(")\n", m);
    }
    fputs("return __qtr_cfg\n", m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int qh_overrides_load(const char *config_path, const qh_overrides *ov, const char *builtin, qh_config *cfg, char *err,
                      size_t errlen)
{
    if (!ov || ov->n == 0)
        return config_path ? qh_config_load_file(config_path, cfg, err, errlen)
                           : qh_config_load_string(builtin, "(built-in default)", ".", cfg, err, errlen);
    memset(cfg, 0, sizeof *cfg);
    size_t n = 0;
    char *text = config_path ? qh_file_read_whole(config_path, "config", CONFIG_TEXT_MAX, &n, err, errlen) : NULL;
    if (config_path && !text) return -1;
    char *wrapped = wrap(text ? text : builtin, ov);
    free(text);
    if (!wrapped) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* relative paths from the config's folder, as qh_config_load_file */
    char dir[512] = ".";
    if (config_path) {
        qtr_strlcpy(dir, config_path, sizeof dir);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else qtr_strlcpy(dir, ".", sizeof dir);
    }
    const char *name = config_path ? config_path : "(built-in default)";
    int rc = qh_config_load_string(wrapped, name, dir, cfg, err, errlen);
    free(wrapped);
    /* an override's own error: the line of the added text means nothing to the reader */
    const char *own = rc != 0 ? strstr(err, ": --set ") : NULL;
    if (own) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s%s", name, own);
        qtr_strlcpy(err, tmp, errlen);
    } else if (rc != 0) {
        qh_overrides_blame(ov, err, errlen);
    }
    return rc;
}

int qh_overrides_load_config(const qh_common_opts *o, const qh_overrides *ov, const char *builtin, qh_config *cfg)
{
    char err[1024];
    if (qh_overrides_load(o->config, ov, builtin, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "qtr: config: %s\n", err);
        return -1;
    }
    return 0;   /* the config's log_level does not apply to a backtest (qtr.1) */
}
