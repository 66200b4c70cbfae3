/*
 * Host logging: one line per message, human-readable on a terminal
 * ("2026-11-24T04:50:00.123Z INFO  [bus] text") or JSON lines with --log-json
 * ({"ts":"…","level":"info","component":"bus","msg":"…"}). Secrets must never
 * be passed here.
 */
#ifndef QH_LOG_H
#define QH_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum qh_log_level { QH_LOG_DEBUG = 0, QH_LOG_INFO, QH_LOG_WARN, QH_LOG_ERROR } qh_log_level;

void qh_log_init(FILE *out, qh_log_level min_level, bool json);
void qh_log_set_level(qh_log_level min_level);
bool qh_log_enabled(qh_log_level level);
/* Parse "debug", "info", "warn", "error"; false if unknown. */
bool qh_log_level_parse(const char *text, qh_log_level *out);
/* The level of a text line as qh_log writes it ("<time> WARN  [comp] ..."):
 * true and *out, or false for any other line (a plain error message, JSON). */
bool qh_log_line_level(const char *line, qh_log_level *out);

/* cold: a message is never on the per-candle or per-order path, so the
 * compiler moves the code that builds one out of the hot functions and
 * keeps their instructions together in the cache (docs/backtest.md) */
void qh_log(qh_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold));
void qh_logv(qh_log_level level, const char *component, const char *fmt, va_list ap) __attribute__((cold));

#define qh_debug(comp, ...) do { if (qh_log_enabled(QH_LOG_DEBUG)) qh_log(QH_LOG_DEBUG, comp, __VA_ARGS__); } while (0)
#define qh_info(comp, ...) qh_log(QH_LOG_INFO, comp, __VA_ARGS__)
#define qh_warn(comp, ...) qh_log(QH_LOG_WARN, comp, __VA_ARGS__)
#define qh_error(comp, ...) qh_log(QH_LOG_ERROR, comp, __VA_ARGS__)

#endif
