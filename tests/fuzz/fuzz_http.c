/* Fuzz target: the dashboard's HTTP request-head parser
 * (plugins/dashboard_web/http_parse.c). Whatever the bytes, it answers 0 or
 * one of the statuses it documents, and an accepted head holds only what the
 * parser promises: a token method, an origin-form path without controls or
 * spaces, header names of token characters, values without CR, LF or NUL,
 * never both Content-Length and Transfer-Encoding, and a body length equal
 * to every Content-Length given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http_parse.h"

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    http_request req;
    memset(&req, 0, sizeof req);
    int rc = http_parse_head(buf, size, &req);
    FUZZ_CHECK(rc == 0 || rc == 400 || rc == 413 || rc == 501 || rc == 505, "status %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(memchr(data, '\0', size) == NULL, "a head with a NUL byte was accepted");
        FUZZ_CHECK(req.method[0] != '\0', "empty method");
        for (const char *c = req.method; *c; c++) FUZZ_CHECK(is_tchar((unsigned char)*c), "method byte %02x", *c);
        FUZZ_CHECK(req.path[0] == '/', "path '%s'", req.path);
        for (const char *c = req.path; *c; c++)
            FUZZ_CHECK((unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f, "path byte %02x", (unsigned char)*c);
        FUZZ_CHECK(req.minor_version == 0 || req.minor_version == 1, "HTTP/1.%d", req.minor_version);
        FUZZ_CHECK(req.n_headers <= HTTP_MAX_HEADERS, "%zu headers", req.n_headers);
        FUZZ_CHECK(!(req.has_content_length && req.has_transfer_encoding), "both body framings accepted");
        for (size_t i = 0; i < req.n_headers; i++) {
            const http_header *h = &req.headers[i];
            FUZZ_CHECK(h->name[0] != '\0', "empty header name");
            for (const char *c = h->name; *c; c++) FUZZ_CHECK(is_tchar((unsigned char)*c), "header name byte %02x", *c);
            FUZZ_CHECK(strpbrk(h->value, "\r\n") == NULL, "CR or LF in the value of %s", h->name);
            if (strcasecmp(h->name, "Content-Length") == 0) {
                FUZZ_CHECK(req.has_content_length, "Content-Length given but not recorded");
                char *end = NULL;
                unsigned long long v = strtoull(h->value, &end, 10);
                FUZZ_CHECK(end && *end == '\0' && v == req.content_length, "Content-Length '%s' vs %zu", h->value,
                           req.content_length);
            }
        }
    }
    free(buf);
    return 0;
}
