/* sd_notify.c — READY/WATCHDOG/STOPPING for a Type=notify systemd unit. */
#include "core/sd_notify.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

struct qh_sd_notifier {
    struct event *watchdog;   /* NULL without a watchdog */
};

/* The address of $NOTIFY_SOCKET; its length, 0 if unset, -1 if unusable. */
static socklen_t notify_address(struct sockaddr_un *sa)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return 0;
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len < 2 || len > sizeof sa->sun_path - 1) {
        qh_error("host", "NOTIFY_SOCKET: not a unix socket path or @abstract name of at most %zu bytes",
                 sizeof sa->sun_path - 1);
        return (socklen_t)-1;
    }
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, len);
    if (path[0] == '@') {
        sa->sun_path[0] = '\0';   /* abstract: the name is the bytes after the NUL, no terminator */
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    }
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int qh_sd_notify(const char *state)
{
    struct sockaddr_un sa;
    socklen_t salen = notify_address(&sa);
    if (salen == 0) return 0;
    if (salen == (socklen_t)-1) return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        qh_error("host", "NOTIFY_SOCKET: socket: %s", strerror(errno));
        return -1;
    }
    size_t len = strlen(state);
    ssize_t n = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        qh_error("host", "NOTIFY_SOCKET: sending %.40s: %s", state, n < 0 ? strerror(saved) : "short write");
        return -1;
    }
    return 1;
}

/* A positive decimal without sign, spaces or overflow; false otherwise. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return v > 0;
}

uint64_t qh_sd_watchdog_interval_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec) return 0;
    const char *pid = getenv("WATCHDOG_PID");
    uint64_t p;
    if (pid && (!parse_u64(pid, &p) || p != (uint64_t)getpid())) return 0;   /* meant for another process */
    uint64_t v;
    if (!parse_u64(usec, &v)) {
        qh_error("host", "WATCHDOG_USEC='%.40s': not a positive number of microseconds; no watchdog pings", usec);
        return 0;
    }
    return v / 2 ? v / 2 : 1;
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what; (void)arg;
    qh_sd_notify("WATCHDOG=1");
}

qh_sd_notifier *qh_sd_notifier_start(struct event_base *base)
{
    qh_sd_notifier *n = calloc(1, sizeof *n);
    if (!n) {
        qh_error("host", "sd_notify: out of memory");
        return NULL;
    }
    uint64_t every = qh_sd_watchdog_interval_usec();
    if (every && getenv("NOTIFY_SOCKET")) {
        struct timeval tv = { .tv_sec = (time_t)(every / 1000000), .tv_usec = (suseconds_t)(every % 1000000) };
        n->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, n);
        if (!n->watchdog || event_add(n->watchdog, &tv) != 0) {
            qh_error("host", "sd_notify: cannot arm the watchdog timer");
            if (n->watchdog) event_free(n->watchdog);
            free(n);
            return NULL;
        }
    }
    if (qh_sd_notify("READY=1") > 0)
        qh_info("host", "systemd notified: ready%s", n->watchdog ? ", watchdog pings on" : "");
    return n;
}

void qh_sd_notifier_stop(qh_sd_notifier *n)
{
    qh_sd_notify("STOPPING=1");
    if (!n) return;
    if (n->watchdog) event_free(n->watchdog);
    free(n);
}
