/* policy_lines.c — where a key is written in a policy file's text. A
 * returned table keeps no line numbers, so errors about a key (a value the
 * declared tables refuse, a limit beyond the server's caps) find its
 * assignment in the text: `section = {`, then `key =` after it. */
#include "policy/policy_internal.h"

#include <string.h>

static bool name_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The offset of the first `key =` at or after from (not in a -- comment,
 * not part of a longer name, not `==`), or len if none. */
static size_t find_assign(const char *buf, size_t len, size_t from, const char *key, size_t klen)
{
    bool comment = false;
    /* a comment that began before from still runs to its line's end */
    for (size_t i = from; i > 0 && buf[i - 1] != '\n'; i--)
        if (buf[i - 1] == '-' && i >= 2 && buf[i - 2] == '-') comment = true;
    for (size_t i = from; i < len; i++) {
        char c = buf[i];
        if (c == '\n') { comment = false; continue; }
        if (comment) continue;
        if (c == '-' && i + 1 < len && buf[i + 1] == '-') { comment = true; continue; }
        if (i + klen > len || memcmp(buf + i, key, klen) != 0 || (i > 0 && name_char(buf[i - 1]))) continue;
        size_t j = i + klen;
        while (j < len && (buf[j] == ' ' || buf[j] == '\t')) j++;
        if (j < len && buf[j] == '=' && (j + 1 >= len || buf[j + 1] != '=')) return i;
    }
    return len;
}

/* The end of the table whose `{` follows the `=` at or after at: the
 * offset just past its matching `}` (strings and comments skipped), or
 * len. A key of that table is searched for only up to there, so a name in
 * another table or in judge() is never taken for it. */
static size_t table_end(const char *buf, size_t len, size_t at)
{
    size_t i = at;
    while (i < len && buf[i] != '{' && buf[i] != '\n') i++;
    int depth = 0;
    for (; i < len; i++) {
        char c = buf[i];
        if (c == '-' && i + 1 < len && buf[i + 1] == '-') {
            while (i < len && buf[i] != '\n') i++;
        } else if (c == '"' || c == '\'') {
            for (i++; i < len && buf[i] != c && buf[i] != '\n'; i++)
                if (buf[i] == '\\') i++;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            return i + 1;
        }
    }
    return len;
}

int qh_policy_key_line(const char *buf, size_t len, const char *where)
{
    if (!buf || !where || !*where) return 0;
    size_t at = 0, end = len;
    for (const char *part = where; *part;) {
        size_t klen = strcspn(part, ".[");
        at = find_assign(buf, end, at, part, klen);
        if (at == end) return 0;
        part += klen;
        if (*part == '[') part += strcspn(part, ".");   /* symbols[2]: the list's own line */
        if (*part == '.') {
            part++;
            end = table_end(buf, end, at);
        }
    }
    int line = 1;
    for (size_t i = 0; i < at; i++) line += buf[i] == '\n';
    return line;
}
