/*
 * The forwarding table: IPv4 and IPv6 routes mirrored from the kernel (or
 * added by espd for its own addresses), resolved to shared next hops.
 * IPv4 uses rte_lpm updated in place with RCU-deferred reclamation; IPv6
 * routes are applied to a fresh rte_lpm6 published with RCU when a batch
 * changed them, because rte_lpm6 has no safe in-place delete for readers.
 * Control thread only for writes; workers call the lookups.
 */
#ifndef ESPD_TABLES_FIB_H
#define ESPD_TABLES_FIB_H

#include <stdbool.h>
#include <stdint.h>
#include "common/addr.h"

enum nexthop_type {
	NEXTHOP_FORWARD,   /* out of an espd interface, to gw or the destination itself */
	NEXTHOP_LOCAL,     /* addressed to the router: punt to the kernel */
	NEXTHOP_PUNT,      /* the kernel forwards it (via an interface espd does not own) */
	NEXTHOP_BLACKHOLE, /* unreachable/prohibit/blackhole: the kernel answers or drops */
};

struct nexthop {
	uint8_t type;         /* enum nexthop_type */
	uint8_t family;       /* of the route */
	uint16_t iface;       /* espd interface index for FORWARD */
	struct ip_addr gw;    /* family 0: directly connected */
	uint8_t hop_limit;    /* the route's hop limit metric (RTAX_HOPLIMIT), 0 when none */
	uint8_t pad[3];       /* zero: next hops are hash keys */
};

#define FIB_NEXTHOP_MAX 65536
#define FIB_MISS UINT32_MAX

/* Route as the control plane keeps it, for show and reconcile. */
struct fib_route {
	struct ip_prefix prefix;
	struct nexthop nexthop;
	uint32_t priority;  /* kernel metric */
	uint8_t protocol;   /* RTPROT_* */
	bool local;         /* added by espd for its own address */
	uint32_t generation; /* the mirror's mark for reconcile after a resync */
};

struct rte_rcu_qsbr;
int fib_init(struct rte_rcu_qsbr *rcu, uint32_t max_routes);
void fib_destroy(void);

/* Add or replace. Returns 0 or -errno. */
int fib_route_add(const struct fib_route *route);
int fib_route_del(const struct ip_prefix *prefix);
/* Publish pending IPv6 changes (call once per applied batch). */
int fib_commit(void);
/* Iterate control-side routes: cb returns non-zero to stop. */
void fib_route_walk(int (*cb)(const struct fib_route *route, void *arg), void *arg);
size_t fib_route_count(void);
const struct fib_route *fib_route_find(const struct ip_prefix *prefix);

/* Fast path: next hop index per address, FIB_MISS when no route. */
void fib_lookup4_bulk(const uint32_t *dst_be, uint32_t *nh_index, unsigned n);
void fib_lookup6_bulk(const uint8_t (*dst)[16], uint32_t *nh_index, unsigned n);
/* The next hop index of one address of either family, FIB_MISS when no route. */
static inline uint32_t fib_lookup_addr(const struct ip_addr *addr)
{
	uint32_t nh_index;

	if (addr->family == AF_INET)
		fib_lookup4_bulk(&addr->v4, &nh_index, 1);
	else
		fib_lookup6_bulk((const uint8_t (*)[16])addr->bytes, &nh_index, 1);
	return nh_index;
}
extern struct nexthop *fib_nexthops;
static inline const struct nexthop *fib_nexthop(uint32_t index)
{
	return &fib_nexthops[index];
}

/* A lookup result's type, NEXTHOP_MISS standing in for "no route". */
#define NEXTHOP_MISS 0xff
static inline uint8_t fib_nexthop_type(uint32_t index)
{
	return index == FIB_MISS ? NEXTHOP_MISS : fib_nexthop(index)->type;
}

const char *format_nexthop_type(uint8_t type);

#endif
