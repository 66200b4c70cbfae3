/* The sd_notify protocol of host/core/sd_notify.c, against a unix datagram
 * socket bound here (a path, then an abstract name), as systemd binds one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sd_notify.h"

typedef struct listener {
    int fd;
    char path[108];      /* "" for an abstract socket */
    char env[110];       /* the NOTIFY_SOCKET value that names it */
} listener;

static void listener_open(listener *l, int abstract)
{
    static int seq;
    memset(l, 0, sizeof *l);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    socklen_t len;
    char name[64];
    snprintf(name, sizeof name, "qtr-sd-test-%ld-%d", (long)getpid(), seq++);
    if (abstract) {
        memcpy(sa.sun_path + 1, name, strlen(name));   /* sun_path[0] == '\0' */
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
        snprintf(l->env, sizeof l->env, "@%s", name);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(l->path, sizeof l->path, "%s/%s", tmp && strlen(tmp) < 40 ? tmp : "/tmp", name);
        unlink(l->path);
        memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
        len = (socklen_t)sizeof sa;
        snprintf(l->env, sizeof l->env, "%s", l->path);
    }
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, len), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", l->env, 1), 0);
}

static void listener_close(listener *l)
{
    close(l->fd);
    if (l->path[0]) unlink(l->path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

/* The next datagram within timeout_ms, as a string; "" if none came. */
static const char *next_message(listener *l, int timeout_ms)
{
    static char buf[256];
    struct pollfd p = { .fd = l->fd, .events = POLLIN };
    if (poll(&p, 1, timeout_ms) != 1) return "";
    ssize_t n = recv(l->fd, buf, sizeof buf - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static void no_socket_is_a_quiet_no_op(void **s)
{
    (void)s;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(qh_sd_notify("READY=1"), 0);
    qh_sd_notifier_stop(qh_sd_notifier_start(NULL));   /* no socket, no watchdog: never touches the loop */
}

static void sends_to_a_path_socket(void **s)
{
    (void)s;
    listener l;
    listener_open(&l, 0);
    assert_int_equal(qh_sd_notify("READY=1"), 1);
    assert_string_equal(next_message(&l, 2000), "READY=1");
    assert_int_equal(qh_sd_notify("STATUS=trading\nMAINPID=1"), 1);
    assert_string_equal(next_message(&l, 2000), "STATUS=trading\nMAINPID=1");
    listener_close(&l);
}

static void sends_to_an_abstract_socket(void **s)
{
    (void)s;
    listener l;
    listener_open(&l, 1);
    assert_int_equal(l.env[0], '@');
    assert_int_equal(qh_sd_notify("READY=1"), 1);
    assert_string_equal(next_message(&l, 2000), "READY=1");
    listener_close(&l);
}

static void refuses_a_bad_socket_name(void **s)
{
    (void)s;
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(qh_sd_notify("READY=1"), -1);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    assert_int_equal(qh_sd_notify("READY=1"), -1);
    setenv("NOTIFY_SOCKET", "/nonexistent-dir-qtr/notify", 1);   /* nobody listening */
    assert_int_equal(qh_sd_notify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
}

static void watchdog_interval_is_half_of_watchdog_usec(void **s)
{
    (void)s;
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(qh_sd_watchdog_interval_usec(), 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    assert_int_equal(qh_sd_watchdog_interval_usec(), 15000000);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(qh_sd_watchdog_interval_usec(), 15000000);
    snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);                      /* meant for another process */
    assert_int_equal(qh_sd_watchdog_interval_usec(), 0);
    unsetenv("WATCHDOG_PID");
    const char *bad[] = { "", "-5", "0", "12abc", " 5", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        assert_int_equal(qh_sd_watchdog_interval_usec(), 0);
    }
    unsetenv("WATCHDOG_USEC");
}

typedef struct loop_watch {
    struct event_base *base;
    listener *l;
    int watchdogs;
    char other[256];     /* anything unexpected */
} loop_watch;

static void on_datagram(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    loop_watch *w = arg;
    const char *m = next_message(w->l, 0);
    if (strcmp(m, "WATCHDOG=1") == 0) {
        if (++w->watchdogs == 3) event_base_loopbreak(w->base);
    } else if (!w->other[0]) {
        snprintf(w->other, sizeof w->other, "%s", m);
    }
}

static void ready_then_watchdog_pings_from_the_loop_then_stopping(void **s)
{
    (void)s;
    listener l;
    listener_open(&l, 1);
    setenv("WATCHDOG_USEC", "40000", 1);                 /* a ping every 20 ms */
    struct event_base *base = event_base_new();
    assert_non_null(base);
    qh_sd_notifier *n = qh_sd_notifier_start(base);
    assert_non_null(n);
    assert_string_equal(next_message(&l, 2000), "READY=1");
    assert_string_equal(next_message(&l, 100), "");    /* no ping while the loop does not turn */

    loop_watch w = { .base = base, .l = &l };
    struct event *rd = event_new(base, l.fd, EV_READ | EV_PERSIST, on_datagram, &w);
    struct timeval limit = { 10, 0 };                    /* bound: 3 pings take ~60 ms */
    event_base_loopexit(base, &limit);
    event_add(rd, NULL);
    event_base_dispatch(base);
    assert_int_equal(w.watchdogs, 3);
    assert_string_equal(w.other, "");

    qh_sd_notifier_stop(n);
    assert_string_equal(next_message(&l, 2000), "STOPPING=1");
    /* the timer is gone: the loop has nothing of ours left to run */
    event_free(rd);
    struct timeval short_run = { 0, 100000 };
    event_base_loopexit(base, &short_run);
    event_base_dispatch(base);
    assert_string_equal(next_message(&l, 0), "");
    event_base_free(base);
    listener_close(&l);
}

static void no_pings_without_a_watchdog(void **s)
{
    (void)s;
    listener l;
    listener_open(&l, 0);
    struct event_base *base = event_base_new();
    qh_sd_notifier *n = qh_sd_notifier_start(base);
    assert_string_equal(next_message(&l, 2000), "READY=1");
    struct timeval run = { 0, 100000 };
    event_base_loopexit(base, &run);
    event_base_dispatch(base);
    assert_string_equal(next_message(&l, 0), "");
    qh_sd_notifier_stop(n);
    assert_string_equal(next_message(&l, 2000), "STOPPING=1");
    event_base_free(base);
    listener_close(&l);
}

int main(void)
{
    qh_log_init(stderr, QH_LOG_INFO, false);
    /* a test run under systemd (a CI service) must not talk to the real manager */
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_socket_is_a_quiet_no_op),
        cmocka_unit_test(sends_to_a_path_socket),
        cmocka_unit_test(sends_to_an_abstract_socket),
        cmocka_unit_test(refuses_a_bad_socket_name),
        cmocka_unit_test(watchdog_interval_is_half_of_watchdog_usec),
        cmocka_unit_test(ready_then_watchdog_pings_from_the_loop_then_stopping),
        cmocka_unit_test(no_pings_without_a_watchdog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
