/*
 * The multipath flow hash: the fields of a packet that choose its hop of a
 * multipath route, as the kernel's fib_multipath_hash (IPv4) and
 * rt6_multipath_hash (IPv6) take them under net.ipv4|ipv6.
 * fib_multipath_hash_policy, each family its own:
 *   0  L3 (the default): addresses, for IPv6 also the flow label and next
 *      header; an ICMP error by the header it quotes, so that it follows
 *      its flow (ip_multipath_l3_keys, ip6_multipath_l3_keys);
 *   1  L4: addresses, protocol and ports (of ESP and AH the SPI), past
 *      IPv6 extension headers; a fragment has no ports
 *      (FLOW_DISSECTOR_F_STOP_AT_ENCAP);
 *   2  L3 of the innermost header of IP-in-IP and GRE, else of the packet;
 *   3  the fields fib_multipath_hash_fields names, of the packet and, for
 *      IP-in-IP and GRE, of the innermost header.
 * The router's own flows of addresses alone (the route of an SA's ESP
 * packets, xfrm_dst_lookup) hash them under every policy, as the kernel
 * hashes a flowi without ports. A hash is 31 bits, as the kernel compares
 * it with its hops' upper bounds, on a seed drawn at start.
 */
#ifndef ESPD_TABLES_FLOW_HASH_H
#define ESPD_TABLES_FLOW_HASH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"

/* fib_multipath_hash_fields, as the kernel numbers them: the packet's
 * fields, then the same of the innermost header. */
#define FLOW_HASH_SRC_IP (1u << 0)
#define FLOW_HASH_DST_IP (1u << 1)
#define FLOW_HASH_IP_PROTO (1u << 2)
#define FLOW_HASH_FLOW_LABEL (1u << 3)
#define FLOW_HASH_SRC_PORT (1u << 4)
#define FLOW_HASH_DST_PORT (1u << 5)
#define FLOW_HASH_OUTER_MASK 0x3fu
#define FLOW_HASH_INNER_SHIFT 6
#define FLOW_HASH_FIELDS_DEFAULT (FLOW_HASH_SRC_IP | FLOW_HASH_DST_IP | FLOW_HASH_IP_PROTO)
#define FLOW_HASH_POLICY_MAX 3

/* One family's settings; [0] IPv4, [1] IPv6. Written by the control
 * thread, read by workers: each a single aligned word. */
struct flow_hash_conf {
	uint32_t policy;
	uint32_t fields;
	uint32_t use_neigh; /* IPv4's fib_multipath_use_neigh (fib_group_select) */
};
extern struct flow_hash_conf flow_hash_confs[2];

/* Draws the seed and sets the kernel's defaults. */
void flow_hash_init(void);
/* Control thread: reads the sysctls again; a value that cannot be read or
 * is out of range keeps the last one. */
void flow_hash_refresh(void);

/* The hash of the packet at l3 (room bytes there, its IP header checked).
 * own: the router's own packet, whose ICMP error takes the hash of the
 * packet it answers, found in its quote (icmp_send and icmp6_send hash the
 * packet they answer). */
uint32_t flow_hash_packet(const uint8_t *l3, uint32_t room, uint8_t family, bool own);
/* The hash of a flow of the router's own from src to dst with no ports. */
uint32_t flow_hash_addrs(const struct ip_addr *src, const struct ip_addr *dst);

#endif
