/*
 * path-mtu: what ICMP told espd about the way to the peers its SAs send
 * to, learnt as the kernel learns it from an error quoting one of its ESP
 * packets (esp4_err, esp6_err: ipv4_update_pmtu, ip6_update_pmtu). The MTU
 * toward a peer only goes down, never below the router's min_pmtu (IPv4)
 * or 1280 (IPv6), and is forgotten mtu_expires seconds after it was last
 * set (net.ipv4.route and net.ipv6.route sysctls, read at start); an IPv4
 * report of the same MTU may set it again, an IPv6 one never does
 * (path_mtu.c says when, after the kernel).
 *
 * Workers report (path_mtu_report: a ring, no lock); the control thread
 * applies the reports to its table, keyed by peer address, and copies the
 * MTU into every SA toward that peer (sa_runtime.path_mtu), where
 * esp-encrypt reads it. As the kernel's route exceptions, an entry
 * outlives the SAs: the SA a rekey brings starts with it.
 */
#ifndef ESPD_TABLES_PATH_MTU_H
#define ESPD_TABLES_PATH_MTU_H

#include <stdbool.h>
#include <stdint.h>
#include "common/addr.h"
#include "esp/esp_packet.h"

/* The router's rules, read once by path_mtu_init. */
struct path_mtu_rules {
	uint32_t ip4_min;       /* net.ipv4.route.min_pmtu */
	uint32_t expires_s[2];  /* net.ipv4/ipv6.route.mtu_expires */
};
extern struct path_mtu_rules path_mtu_rules;

/* Room for max_peers peers (entries are made only for SAs' peers). */
int path_mtu_init(uint32_t max_peers);
void path_mtu_destroy(void);

/* The MTU an ICMP error reported, raised to the family's floor. */
static inline uint32_t path_mtu_floor(uint8_t family, uint32_t mtu)
{
	uint32_t floor = family == AF_INET ? path_mtu_rules.ip4_min : ESP_IP6_MIN_MTU;
	return mtu < floor ? floor : mtu;
}

/* Workers: an ICMP error said the path toward dst takes at most mtu bytes
 * (as it said it: the floor is the control thread's to apply). False when
 * the queue to the control thread is full (the report is lost). */
bool path_mtu_report(const struct ip_addr *dst, uint32_t mtu);

/* Control thread, about every 250 ms: apply the reports, forget what
 * expired at now_s (CLOCK_MONOTONIC seconds). Returns how many peers'
 * MTU changed. */
unsigned path_mtu_poll(uint64_t now_s);
/* Control thread: forget every peer's MTU, as `ip route flush cache`. */
void path_mtu_flush(void);
/* Control thread: each peer with its MTU and the second it is forgotten. */
void path_mtu_walk(void (*cb)(const struct ip_addr *dst, uint32_t mtu, uint64_t expires_s,
			      void *arg), void *arg);
/* Control thread: the MTU learnt toward dst, 0 if none; *expires_s (may
 * be NULL) the second it is forgotten. */
uint32_t path_mtu_get(const struct ip_addr *dst, uint64_t *expires_s);

#endif
