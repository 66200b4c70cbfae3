/* lean_ws_reader.c — see lean_ws_reader.h. */
#include "lean_ws_reader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LEAN_BUF (256 * 1024)

typedef struct lean_client {
    int fd;
    unsigned char *buf;
    size_t len, cap;
    bool open, closed;
} lean_client;

struct lean_readers {
    int ep, n;
    lean_client *c;
};

static const char handshake[] = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

lean_readers *lean_connect(int port, int n)
{
    lean_readers *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->c = calloc((size_t)n, sizeof *r->c);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!r->c || r->ep < 0) { lean_free(r); return NULL; }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++, r->n++) {
        lean_client *c = &r->c[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        c->cap = LEAN_BUF;
        c->buf = malloc(c->cap);
        int one = 1;
        if (c->fd < 0 || !c->buf || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
            connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
            write(c->fd, handshake, sizeof handshake - 1) != (ssize_t)(sizeof handshake - 1) ||
            fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) {
            perror("lean_connect");
            r->n++;
            lean_free(r);
            return NULL;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) { perror("epoll_ctl"); r->n++; lean_free(r); return NULL; }
    }
    return r;
}

/* Consumes whole frames (and the 101 answer) from c->buf. */
static bool parse(lean_client *c, lean_msg_fn fn, void *ud)
{
    size_t at = 0;
    if (!c->open) {
        unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end) return true;
        if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "lean reader: handshake answered %.*s\n", 12, (const char *)c->buf);
            return false;
        }
        c->open = true;
        at = (size_t)(end - c->buf) + 4;
    }
    while (c->len - at >= 2) {
        const unsigned char *h = c->buf + at;
        unsigned op = h[0] & 0x0f, len7 = h[1] & 0x7f;
        if (!(h[0] & 0x80) || (h[1] & 0x80)) {
            fprintf(stderr, "lean reader: a fragmented or masked frame from the server\n");
            return false;
        }
        size_t hl = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        if (c->len - at < hl) break;
        uint64_t plen = len7;
        if (len7 == 126) plen = (uint64_t)h[2] << 8 | h[3];
        else if (len7 == 127)
            for (int i = 0; i < 8; i++) plen = plen << 8 | h[2 + i];
        if (plen > c->len - at - hl) {
            if (hl + plen > c->cap) {      /* a message bigger than the buffer: grow it */
                unsigned char *b = realloc(c->buf, (size_t)(hl + plen));
                if (!b) return false;
                c->buf = b;
                c->cap = (size_t)(hl + plen);
            }
            break;
        }
        if (op == 1) fn((const char *)h + hl, (size_t)plen, ud);
        else if (op == 8) c->closed = true;
        at += hl + (size_t)plen;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return true;
}

bool lean_poll(lean_readers *r, int wait_ms, lean_msg_fn fn, void *ud)
{
    struct epoll_event evs[64];
    int k = epoll_wait(r->ep, evs, 64, wait_ms);
    for (int e = 0; e < k; e++) {
        lean_client *c = &r->c[evs[e].data.u32];
        for (;;) {
            if (c->len == c->cap) break;   /* parse() grows it for a big message */
            ssize_t got = read(c->fd, c->buf + c->len, c->cap - c->len);
            if (got > 0) {
                c->len += (size_t)got;
                if (!parse(c, fn, ud)) return false;
                continue;
            }
            if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                c->closed = true;
                epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
            break;
        }
    }
    return true;
}

int lean_open(const lean_readers *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++) n += r->c[i].open;
    return n;
}

int lean_closed(const lean_readers *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++) n += r->c[i].closed;
    return n;
}

void lean_free(lean_readers *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        if (r->c[i].fd >= 0) close(r->c[i].fd);
        free(r->c[i].buf);
    }
    if (r->ep >= 0) close(r->ep);
    free(r->c);
    free(r);
}
