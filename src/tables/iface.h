/*
 * espd interfaces: one per taken-over kernel interface, pairing its DPDK
 * port with the TAP that carries the kernel's view (same name, MAC, MTU).
 * The table is sized at start-up; workers read it without locks: fields that
 * change at run time (MTU, up, hop limits, forwarding, rp_filter, redirects)
 * are single aligned words, the addresses are read under a seqlock.
 */
#ifndef ESPD_TABLES_IFACE_H
#define ESPD_TABLES_IFACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_seqlock.h>
#include "common/addr.h"

#define IFACE_MAX 32
#define IFACE_NONE UINT16_MAX
#define IFACE_ADDR_MAX 16
#define IFACE_HOP_LIMIT_DEFAULT 64 /* the kernel's, until its sysctls are read */

/* The router's addresses on an interface, in the kernel's order, for the
 * source of the ICMP errors espd sends itself. Written by the control
 * thread, read by workers under the seqlock (no worker ever waits). */
struct iface_addrs {
	rte_seqlock_t lock;
	uint16_t n;
	struct ip_prefix addr[IFACE_ADDR_MAX];
};

struct iface {
	char name[16];                 /* kernel name, carried by the TAP */
	char phys_name[16];            /* the taken-over device's temporary name */
	uint16_t index;                /* position in the table */
	uint16_t port_id;              /* DPDK port of the device */
	uint16_t tap_port_id;          /* DPDK port of the TAP */
	int phys_ifindex;              /* kernel ifindex of the device */
	int tap_ifindex;               /* kernel ifindex of the TAP */
	struct rte_ether_addr mac;
	volatile uint16_t mtu;         /* mirrored from the TAP */
	uint16_t tap_mtu;              /* largest packet the TAP port passes to the kernel */
	volatile bool up;              /* TAP admin and oper up */
	volatile uint8_t hop_limit;    /* the TAP's net.ipv6.conf.<name>.hop_limit */
	volatile bool forwarding4;     /* net.ipv4.conf.<name>.forwarding */
	volatile uint8_t rp_filter;    /* enum iface_rp_filter, as the kernel applies it */
	/* net.ipv4.conf.{all,<name>}.send_redirects and shared_media, each
	 * on when either is (IN_DEV_TX_REDIRECTS, IN_DEV_SHARED_MEDIA) */
	volatile bool send_redirects;
	volatile bool shared_media;
	/* disable_policy of IPv4 and IPv6, disable_xfrm (control/iface_conf.h) */
	volatile bool no_policy[2];
	volatile bool no_xfrm;
	const char *driver;            /* "af-packet", "xdp", "dpdk" */
	struct iface_addrs addrs;
};

/* How the kernel validates the source of an IPv4 packet arriving on an
 * interface before routing it (fib_validate_source): the larger of
 * net.ipv4.conf.all.rp_filter and the interface's; loose on an interface
 * without an IPv4 address is strict. */
enum iface_rp_filter {
	IFACE_RP_FILTER_OFF,
	IFACE_RP_FILTER_STRICT, /* the route back to the source leaves by this interface */
	IFACE_RP_FILTER_LOOSE,  /* some unicast route leads back to the source */
};

struct iface_table {
	struct iface ifaces[IFACE_MAX];
	uint16_t n_ifaces;
	uint16_t by_port[RTE_MAX_ETHPORTS]; /* DPDK port -> iface index */
	volatile uint8_t ttl4;       /* net.ipv4.ip_default_ttl */
	volatile uint8_t hop_limit6; /* net.ipv6.conf.all.hop_limit */
	volatile bool forwarding6;   /* net.ipv6.conf.all.forwarding */
	/* Some interface has forwarding off or rp_filter on: ip-lookup looks
	 * at the input interface of each packet only while this is set. */
	volatile bool ingress_checks;
	/* Some interface has disable_policy, or disable_xfrm, on: the policy
	 * nodes look at the interface of each packet only while it is set. */
	volatile bool any_no_policy;
	volatile bool any_no_xfrm;
};

extern struct iface_table iface_table;


struct iface *iface_add(const char *name);
struct iface *iface_by_name(const char *name);
struct iface *iface_by_ifindex(int kernel_ifindex); /* TAP ifindex */
static inline struct iface *iface_by_port(uint16_t port_id)
{
	uint16_t index = iface_table.by_port[port_id];
	return index == IFACE_NONE ? NULL : &iface_table.ifaces[index];
}
/* Largest packet punted to the kernel whole; ip-fragment cuts bigger ones. */
static inline uint16_t iface_punt_mtu(const struct iface *iface)
{
	return iface->mtu < iface->tap_mtu ? iface->mtu : iface->tap_mtu;
}
void iface_table_init(void);
const char *format_iface_rp_filter(uint8_t rp_filter);
/* The TTL or hop limit the kernel gives the packets it sends out of out
 * (ip4_dst_hoplimit, ip6_dst_hoplimit, routes without a hop limit metric):
 * IPv4's ip_default_ttl, the interface's IPv6 hop_limit; IPv6 without an
 * interface of espd's, conf/all's. */
static inline uint8_t iface_hop_limit(const struct iface *out, uint8_t family)
{
	if (family == AF_INET)
		return iface_table.ttl4;
	return out ? out->hop_limit : iface_table.hop_limit6;
}
/* Control thread: the interface's addresses are now addrs[0..n) (beyond
 * IFACE_ADDR_MAX are not kept). */
void iface_addrs_set(struct iface *iface, const struct ip_prefix *addrs, size_t n);
/*
 * Worker: the source of an ICMP error leaving iface toward the address
 * toward (the next hop or the destination), picked as the kernel's
 * inet_select_addr does: an address whose subnet holds toward, else the
 * first of the family, an IPv6 link-local one only toward a link-local
 * address. False when the interface has none.
 */
bool iface_source_select(const struct iface *iface, const struct ip_addr *toward,
			 struct ip_addr *source);
/* Worker: whether an address of the interface has a subnet that holds a,
 * and b too unless b's family is 0 (the kernel's inet_addr_onlink). */
bool iface_addr_onlink(const struct iface *iface, const struct ip_addr *a,
		       const struct ip_addr *b);
void iface_bind_port(struct iface *iface, uint16_t port_id, bool is_tap);

#endif
