/* http_parse.c — see http_parse.h. RFC 9112 request syntax, minus the parts
 * a dashboard never needs (obsolete line folding, absolute-form targets). */
#include "http_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    if (c >= 'a' && c <= 'z') return true;
    if (c >= 'A' && c <= 'Z') return true;
    if (c >= '0' && c <= '9') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Next line of buf starting at *pos; NUL-terminates it. NULL at the end. */
static char *next_line(char *buf, size_t len, size_t *pos)
{
    if (*pos >= len) return NULL;
    char *start = buf + *pos;
    char *nl = memchr(start, '\n', len - *pos);
    if (!nl) return NULL;
    *pos = (size_t)(nl - buf) + 1;
    if (nl > start && nl[-1] == '\r') nl[-1] = '\0';
    *nl = '\0';
    return start;
}

static bool parse_size(const char *s, size_t *out)
{
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > SIZE_MAX) return false;
    *out = (size_t)v;
    return true;
}

/* Syntax first (400), then what is well formed but not served: a method
 * too long to be one of ours (501), a path too long (413), another version
 * (505). So a line that is garbage is 400 however long its method is, as
 * http_request_line_viable decides before the line is whole. */
static int parse_request_line(char *line, http_request *req)
{
    char *sp1 = strchr(line, ' ');
    if (!sp1) return 400;
    char *sp2 = strchr(sp1 + 1, ' ');
    if (!sp2 || strchr(sp2 + 1, ' ')) return 400;
    *sp1 = *sp2 = '\0';
    size_t mlen = (size_t)(sp1 - line);
    if (mlen == 0) return 400;
    for (char *c = line; *c; c++)
        if (!is_tchar((unsigned char)*c)) return 400;

    const char *target = sp1 + 1;
    if (target[0] != '/') return 400;
    for (const unsigned char *c = (const unsigned char *)target; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f) return 400;

    const char *ver = sp2 + 1;
    if (strncmp(ver, "HTTP/", 5) != 0) return 400;
    if (!(ver[5] >= '0' && ver[5] <= '9' && ver[6] == '.' && ver[7] >= '0' && ver[7] <= '9' && !ver[8])) return 400;

    if (mlen >= sizeof req->method) return 501;
    memcpy(req->method, line, mlen + 1);
    size_t plen = strcspn(target, "?#");
    if (plen >= sizeof req->path) return 413;
    memcpy(req->path, target, plen);
    req->path[plen] = '\0';
    req->target = target;
    if (strcmp(ver + 5, "1.1") == 0) req->minor_version = 1;
    else if (strcmp(ver + 5, "1.0") == 0) req->minor_version = 0;
    else return 505;
    return 0;
}

bool http_request_line_viable(const char *buf, size_t len)
{
    static const char version[] = "HTTP/0.0";   /* '0': any digit */
    enum { METHOD, TARGET_START, TARGET, VERSION, CR } state = METHOD;
    size_t at = 0;                              /* bytes into the method, or the version */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        switch (state) {
        case METHOD:
            if (c == ' ' && at) state = TARGET_START;
            else if (is_tchar(c)) at++;
            else return false;
            break;
        case TARGET_START:
            if (c != '/') return false;
            state = TARGET;
            break;
        case TARGET:
            if (c == ' ') { state = VERSION; at = 0; }
            else if (c <= 0x20 || c >= 0x7f) return false;
            break;
        case VERSION:
            if (at == sizeof version - 1) {
                if (c == '\n') return true;
                if (c != '\r') return false;
                state = CR;
            } else if (version[at] == '0' ? !(c >= '0' && c <= '9') : c != (unsigned char)version[at]) {
                return false;
            } else {
                at++;
            }
            break;
        case CR:
            return c == '\n';
        }
    }
    return true;                                /* so far so good: wait for more */
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

size_t http_head_length(const char *buf, size_t len)
{
    const char *end = buf + len;
    for (const char *nl = memchr(buf, '\n', len); nl; nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1))) {
        /* the line after this LF is empty if it is LF or CRLF */
        if (nl + 1 < end && nl[1] == '\n') return (size_t)(nl + 2 - buf);
        if (nl + 2 < end && nl[1] == '\r' && nl[2] == '\n') return (size_t)(nl + 3 - buf);
    }
    return 0;
}

int http_parse_head(char *buf, size_t len, http_request *req)
{
    memset(req, 0, sizeof *req);
    /* a NUL would cut a line short where the checks below stop looking */
    if (memchr(buf, '\0', len)) return 400;
    size_t pos = 0;
    char *line = next_line(buf, len, &pos);
    if (!line) return 400;
    int rc = parse_request_line(line, req);
    if (rc) return rc;

    bool saw_end = false;
    while ((line = next_line(buf, len, &pos)) != NULL) {
        if (!*line) { saw_end = true; break; }
        if (*line == ' ' || *line == '\t') return 400;        /* obsolete folding */
        char *colon = strchr(line, ':');
        if (!colon || colon == line) return 400;
        *colon = '\0';
        for (char *c = line; *c; c++)
            if (!is_tchar((unsigned char)*c)) return 400;      /* also no space before ':' */
        char *value = trim(colon + 1);
        for (const unsigned char *c = (const unsigned char *)value; *c; c++)
            if ((*c < 0x20 && *c != '\t') || *c == 0x7f) return 400;
        if (req->n_headers == HTTP_MAX_HEADERS) return 413;
        req->headers[req->n_headers].name = line;
        req->headers[req->n_headers].value = value;
        req->n_headers++;

        if (strcasecmp(line, "Content-Length") == 0) {
            size_t v;
            if (!parse_size(value, &v)) return 400;
            if (req->has_content_length && v != req->content_length) return 400;
            req->has_content_length = true;
            req->content_length = v;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            req->has_transfer_encoding = true;
        }
    }
    if (!saw_end) return 400;
    /* Both framings at once is the classic smuggling vector: refuse it. */
    if (req->has_transfer_encoding && req->has_content_length) return 400;
    if (req->has_transfer_encoding) return 501;

    const char *conn = http_header_get(req, "Connection");
    req->keep_alive = req->minor_version >= 1 ? !(conn && http_header_has_token(conn, "close"))
                                              : (conn && http_header_has_token(conn, "keep-alive"));
    return 0;
}

const char *http_header_get(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

bool http_header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *start = p;
        while (*p && *p != ',') p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0) return true;
    }
    return false;
}
