/* log.c — see log.h. Writes whole lines with one fwrite so lines never interleave. */
#include "core/log.h"

#include <string.h>
#include <time.h>

static FILE *g_out;
static qh_log_level g_min = QH_LOG_INFO;
static bool g_json;

void qh_log_init(FILE *out, qh_log_level min_level, bool json)
{
    g_out = out;
    g_min = min_level;
    g_json = json;
}

void qh_log_set_level(qh_log_level min_level) { g_min = min_level; }
bool qh_log_enabled(qh_log_level level) { return level >= g_min; }

bool qh_log_level_parse(const char *text, qh_log_level *out)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++)
        if (text && strcmp(text, names[i]) == 0) { *out = (qh_log_level)i; return true; }
    return false;
}

/* A text line's level word, padded to 5 (qh_logv and qh_log_line_level). */
static const char *const LEVEL_WORD[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };

bool qh_log_line_level(const char *line, qh_log_level *out)
{
    const char *sp = line ? strchr(line, ' ') : NULL;
    if (!sp || line[0] < '0' || line[0] > '9') return false;   /* the time first */
    for (int i = 0; i < 4; i++)
        if (strncmp(sp + 1, LEVEL_WORD[i], 5) == 0 && sp[6] == ' ') { *out = (qh_log_level)i; return true; }
    return false;
}

/* Append s to buf as JSON string content. */
static size_t json_escape(char *buf, size_t cap, size_t n, const char *s)
{
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { buf[n++] = '\\'; buf[n++] = (char)c; }
        else if (c == '\n') { buf[n++] = '\\'; buf[n++] = 'n'; }
        else if (c == '\t') { buf[n++] = '\\'; buf[n++] = 't'; }
        else if (c < 0x20) n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        else buf[n++] = (char)c;
    }
    return n;
}

/* Append s to buf with every control byte but tab written out (\n, \r,
 * \xNN): one entry stays one line, whatever text it quotes (a policy's
 * print, an operator's reason, an exchange's message), so nobody can
 * forge a line or send the terminal an escape sequence. */
static size_t text_escape(char *buf, size_t cap, size_t n, const char *s)
{
    for (; *s && n + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') { buf[n++] = '\\'; buf[n++] = 'n'; }
        else if (c == '\r') { buf[n++] = '\\'; buf[n++] = 'r'; }
        else if ((c < 0x20 && c != '\t') || c == 0x7f) n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
        else buf[n++] = (char)c;
    }
    return n;
}

void qh_logv(qh_log_level level, const char *component, const char *fmt, va_list ap)
{
    if (level < g_min) return;
    FILE *out = g_out ? g_out : stderr;
    static const char *const lv[] = { "debug", "info", "warn", "error" };
    char msg[2048], line[4608], ts[40];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03ldZ", now.tv_nsec / 1000000);
    size_t n;
    if (g_json) {
        n = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"", ts, lv[level]);
        n = json_escape(line, sizeof line, n, component ? component : "host");
        n += (size_t)snprintf(line + n, sizeof line - n, "\",\"msg\":\"");
        n = json_escape(line, sizeof line, n, msg);
        n += (size_t)snprintf(line + n, sizeof line - n, "\"}\n");
    } else {
        n = (size_t)snprintf(line, sizeof line, "%s %s [%s] ", ts, LEVEL_WORD[level], component ? component : "host");
        n = text_escape(line, sizeof line - 1, n, msg);
        line[n++] = '\n';
    }
    if (n >= sizeof line) { n = sizeof line - 1; line[n - 1] = '\n'; }
    fwrite(line, 1, n, out);
    fflush(out);
}

void qh_log(qh_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qh_logv(level, component, fmt, ap);
    va_end(ap);
}
