/*
 * The service manager's readiness protocol (sd_notify(3)): espd tells
 * systemd, when it runs as a Type=notify unit, that it is ready, reloading
 * or stopping, and a one-line status; and feeds its watchdog (WatchdogSec=,
 * sd_watchdog_enabled(3)). Outside systemd ($NOTIFY_SOCKET unset) every
 * call does nothing.
 */
#ifndef ESPD_ESPD_NOTIFY_H
#define ESPD_ESPD_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1", "STATUS=...", lines joined by '\n') to the
 * socket $NOTIFY_SOCKET names. 0 when sent or not asked for, else -errno. */
int service_notify(const char *state);

/* How often to send "WATCHDOG=1": half the watchdog's timeout
 * ($WATCHDOG_USEC), in ms; 0 when there is no watchdog or it watches
 * another process ($WATCHDOG_PID). */
uint64_t service_watchdog_interval_ms(void);

#endif
