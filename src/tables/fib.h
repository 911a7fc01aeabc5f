/*
 * The forwarding table: IPv4 and IPv6 routes mirrored from the kernel (or
 * added by espd for its own addresses), resolved to shared next hops.
 * IPv4 uses rte_lpm updated in place with RCU-deferred reclamation; IPv6
 * routes are applied to a fresh rte_lpm6 published with RCU when a batch
 * changed them, because rte_lpm6 has no safe in-place delete for readers.
 * A multipath route's lookup result designates a next-hop group whose
 * members are ordinary shared next hops; fib_group_select picks the one a
 * flow takes. Control thread only for writes; workers call the lookups.
 */
#ifndef ESPD_TABLES_FIB_H
#define ESPD_TABLES_FIB_H

#include <stdbool.h>
#include <stdint.h>
#include "common/addr.h"
#include "tables/flow_hash.h"

enum nexthop_type {
	NEXTHOP_FORWARD,   /* out of an espd interface, to gw or the destination itself */
	NEXTHOP_LOCAL,     /* addressed to the router: punt to the kernel */
	NEXTHOP_PUNT,      /* the kernel forwards it (via an interface espd does not own) */
	NEXTHOP_BLACKHOLE, /* unreachable/prohibit/blackhole: the kernel answers or drops */
	NEXTHOP_GROUP,     /* a multipath route's group: select a member (fib_group_select) */
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
#define FIB_GROUP_MAX 4096
#define FIB_PATHS_MAX 8 /* hops of a multipath route espd forwards itself */
#define FIB_MISS UINT32_MAX

/* One hop of a multipath route (RTA_MULTIPATH's rtnexthop). */
struct fib_path {
	struct ip_addr gw;  /* family 0: directly connected */
	uint16_t iface;
	uint16_t weight;    /* rtnh_hops + 1: 1 to 256 */
	uint8_t flags;      /* RTNH_F_*: RTNH_F_DEAD takes the hop out */
	uint8_t pad[3];
};

/* Route as the control plane keeps it, for show and reconcile. */
struct fib_route {
	struct ip_prefix prefix;
	struct nexthop nexthop;  /* multipath: the type, hop limit and first live hop */
	uint8_t n_paths;         /* 0: nexthop alone; 2 or more: paths[] */
	struct fib_path paths[FIB_PATHS_MAX];
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

/*
 * Multipath. Group g's lookup result is FIB_NEXTHOP_MAX + g (its slot in
 * fib_nexthops says NEXTHOP_GROUP). Each member owns the hash range up to
 * its upper bound, fib_rebalance's hash-threshold split by weight; a dead
 * member's bound is -1.
 */
struct fib_group {
	uint32_t n_paths;
	struct {
		int32_t upper_bound;
		uint32_t nexthop;
	} paths[FIB_PATHS_MAX];
};
extern struct fib_group *fib_groups;

/* One unsigned compare: FIB_MISS and single next hops are not groups. */
static inline bool fib_is_group(uint32_t index)
{
	return index - FIB_NEXTHOP_MAX < FIB_GROUP_MAX;
}

/* Per next hop slot: the kernel's neighbor entry for its gateway is
 * INCOMPLETE or FAILED (not NUD_VALID). */
extern uint8_t *fib_nexthop_neigh_bad;
/* Control thread: the kernel's neighbor addr on iface is (bad) or is no
 * longer (!bad) an entry that is not NUD_VALID. */
void fib_neigh_bad_set(uint16_t iface, const struct ip_addr *addr, bool bad);

/* fib_select_multipath under fib_multipath_use_neigh (IPv4): members whose
 * gateway's neighbor is bad are passed over; with none left whose bound
 * reaches hash, the first good one, else the first member. */
uint32_t fib_group_select_good(const struct fib_group *group, uint32_t hash);

/* The member a flow of hash takes (fib_select_multipath, fib6_select_path):
 * the first whose upper bound reaches it; with none, the first member. */
static inline uint32_t fib_group_select(uint32_t index, uint32_t hash)
{
	const struct fib_group *group = &fib_groups[index - FIB_NEXTHOP_MAX];

	if (__builtin_expect(flow_hash_confs[0].use_neigh, 0) &&
	    fib_nexthops[index].family == AF_INET)
		return fib_group_select_good(group, hash);
	for (uint32_t i = 0; i < group->n_paths; i++)
		if ((int32_t)hash <= group->paths[i].upper_bound)
			return group->paths[i].nexthop;
	return group->paths[0].nexthop;
}

/* The member of index's group that leaves by iface (fib_info_nh_uses_dev,
 * a lookup bound to the input device), else the group's first member;
 * index itself when it is not a group. */
uint32_t fib_group_member_by_iface(uint32_t index, uint16_t iface);
static inline uint32_t fib_route_by_iface(uint32_t index, uint16_t iface)
{
	if (__builtin_expect(!fib_is_group(index), 1))
		return index;
	return fib_group_member_by_iface(index, iface);
}

/* The route to dst of the router's own packets from src, a flow of the
 * addresses alone (xfrm_dst_lookup's): of a multipath route, the member
 * their hash selects. */
static inline uint32_t fib_lookup_flow(const struct ip_addr *src, const struct ip_addr *dst)
{
	uint32_t index = fib_lookup_addr(dst);

	if (__builtin_expect(!fib_is_group(index), 1))
		return index;
	return fib_group_select(index, flow_hash_addrs(src, dst));
}

const char *format_nexthop_type(uint8_t type);

#endif
