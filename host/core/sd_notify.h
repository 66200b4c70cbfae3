/*
 * sd_notify.h — the systemd notify protocol (sd_notify(3)) without libsystemd:
 * one datagram "KEY=value\n..." to the unix socket named by $NOTIFY_SOCKET
 * ("/path", or "@name" for the abstract namespace). Outside systemd (no
 * $NOTIFY_SOCKET) every call is a no-op, so `qtr run` behaves the same in a
 * terminal.
 */
#ifndef QH_SD_NOTIFY_H
#define QH_SD_NOTIFY_H

#include <stdint.h>

struct event_base;

/* Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET. 1 sent, 0 no socket set
 * (not under systemd), -1 error (the reason is logged). */
int qh_sd_notify(const char *state);

/* Half of $WATCHDOG_USEC in microseconds, the interval systemd recommends for
 * WATCHDOG=1; 0 when no watchdog is asked of this process (unset, or
 * $WATCHDOG_PID names another process). A value that is not a positive
 * decimal is logged and gives 0. */
uint64_t qh_sd_watchdog_interval_usec(void);

typedef struct qh_sd_notifier qh_sd_notifier;

/* The service is up: sends READY=1 and, when a watchdog is asked for, sends
 * WATCHDOG=1 from a timer of `base` every qh_sd_watchdog_interval_usec(), so
 * a loop that stops turning stops the pings and systemd restarts the service.
 * Returns NULL only when the timer cannot be made (logged). */
qh_sd_notifier *qh_sd_notifier_start(struct event_base *base);

/* The service is stopping: sends STOPPING=1, ends the pings, frees n (NULL is fine). */
void qh_sd_notifier_stop(qh_sd_notifier *n);

#endif
