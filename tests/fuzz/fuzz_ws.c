/* Fuzz target: the dashboard's WebSocket client handling
 * (plugins/dashboard_web/ws_client.c over wslay). The input is what a client
 * sends after the handshake: frames, masked or not, well-formed or not. The
 * server end is adopted on a socketpair and the loop run a bounded number of
 * turns. Whatever the bytes, nothing crashes, the bytes queued for the client
 * never exceed its cap by more than one frame header and its 4 KiB receive
 * window, and closing every client leaves none behind. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dash.h"
#include "fuzz.h"
#include "ws_client.h"

static void fz_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    (void)ctx;
    (void)level;
    (void)fmt;
}
static int64_t fz_now_ms(qtr_ctx *ctx)
{
    (void)ctx;
    return 1767225600000;
}
static int64_t fz_mono_ns(qtr_ctx *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* dashboard.c's clock, which the target leaves out (it is the plugin glue) */
int64_t dash_now_ns(const dash *d) { return d->h->mono_ns(d->ctx); }

static const qtr_host host = { .size = sizeof host, .log = fz_log, .now_ms = fz_now_ms, .mono_ns = fz_mono_ns };

/* the cap one client may have queued, and what may ride above it */
#define FZ_CLIENT_CAP (64 * 1024)
#define FZ_SLACK (4096 + 14)

static dash *the_dash(void)
{
    static dash d;
    if (!d.base) {
        d.h = &host;
        d.base = event_base_new();
        d.opt.batch_max_events = 64;
        d.opt.batch_max_ms = 50;
        d.opt.max_msgs_per_sec = 20;
        d.opt.client_buffer_bytes = FZ_CLIENT_CAP;
        d.opt.client_queue_events = 256;
        d.opt.max_ws_clients = 4;
        FUZZ_CHECK(d.base != NULL, "event_base_new");
    }
    return &d;
}

static void drain(int fd)
{
    char sink[8192];
    while (read(fd, sink, sizeof sink) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dash *d = the_dash();
    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    evutil_make_socket_nonblocking(sv[0]);
    evutil_make_socket_nonblocking(sv[1]);
    struct bufferevent *bev = bufferevent_socket_new(d->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
    FUZZ_CHECK(bev != NULL, "bufferevent_socket_new");
    ws_client_adopt(d, bev, "fuzz");

    /* feed the input in pieces as the socket takes them, turning the loop */
    size_t off = 0;
    for (int turn = 0; turn < 256 && (off < size || turn < 4); turn++) {
        if (off < size) {
            ssize_t w = write(sv[1], data + off, size - off);
            if (w > 0) off += (size_t)w;
        }
        event_base_loop(d->base, EVLOOP_NONBLOCK);
        if (turn % 8 == 7) drain(sv[1]);   /* a client that reads now and then */
        size_t worst = 0;
        ws_clients_queued_bytes(d, &worst);
        FUZZ_CHECK(worst <= FZ_CLIENT_CAP + FZ_SLACK, "%zu bytes queued for one client (cap %d)", worst,
                   FZ_CLIENT_CAP);
    }
    close(sv[1]);
    for (int turn = 0; turn < 8; turn++) event_base_loop(d->base, EVLOOP_NONBLOCK);
    ws_clients_close_all(d);
    FUZZ_CHECK(d->clients == NULL && d->n_clients == 0, "%zu clients left", d->n_clients);
    return 0;
}
