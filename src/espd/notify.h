/*
 * The service manager's readiness protocol (sd_notify(3)): espd tells
 * systemd, when it runs as a Type=notify unit, that it is ready, reloading
 * or stopping, and a one-line status. Outside systemd ($NOTIFY_SOCKET
 * unset) every call does nothing.
 */
#ifndef ESPD_ESPD_NOTIFY_H
#define ESPD_ESPD_NOTIFY_H

/* Sends state ("READY=1", "STATUS=...", lines joined by '\n') to the
 * socket $NOTIFY_SOCKET names. 0 when sent or not asked for, else -errno. */
int service_notify(const char *state);

#endif
