/*
 * The TTL and hop limits the kernel gives the packets it originates, for
 * the headers espd builds in its place (ESP tunnel headers, ICMP errors):
 * net.ipv4.ip_default_ttl and net.ipv6.conf.{all,<interface>}.hop_limit,
 * copied into the interface table. Sysctls send no netlink events, so the
 * control thread reads them again once a second.
 */
#ifndef ESPD_CONTROL_HOP_LIMIT_H
#define ESPD_CONTROL_HOP_LIMIT_H

/* Control thread. A sysctl that cannot be read keeps its last value. */
void hop_limits_refresh(void);

#endif
