/*
 * The forwarding table. The control thread keeps every route in its own
 * hash (for show and reconcile) and pushes best routes into rte_lpm (IPv4,
 * in place, RCU-protected tbl8 reuse) and rte_lpm6 (IPv6, rebuilt and
 * published on commit). Next hops are shared, reference counted, and their
 * slots are reused only after an RCU grace period. A multipath route gets a
 * group of its own, written whole into a free group slot before the route
 * points at it; a replaced group's slot (and its members' references) goes
 * back through the same grace period.
 */
#include "tables/fib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>
#include <rte_errno.h>
#include <rte_rcu_qsbr.h>
#include <linux/rtnetlink.h>

#define LPM4_TBL8S 8192
#define LPM6_TBL8S 8192
/* rte_lpm6 is rebuilt on change, so its rule table is kept smaller. */
#define LPM6_RULES_MAX 65536

struct route_key {
	uint8_t family;
	uint8_t len;
	uint8_t pad[2];
	uint8_t addr[16];
};

struct nexthop_key {
	struct nexthop nexthop;
};

struct nexthop *fib_nexthops;
struct fib_group *fib_groups;
uint8_t *fib_nexthop_neigh_bad;

static struct {
	struct rte_rcu_qsbr *rcu;
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;          /* published; workers load it */
	struct rte_hash *routes;        /* route_key -> struct fib_route * */
	struct rte_hash *nexthop_index; /* nexthop -> slot */
	uint32_t *nexthop_refs;
	uint32_t *free_slots;
	uint32_t n_free;
	uint32_t *free_groups;
	uint32_t n_free_groups;
	struct rte_rcu_qsbr_dq *nexthop_dq;
	uint32_t max_routes;
	uint32_t n_neigh_bad;           /* slots with fib_nexthop_neigh_bad set */
	uint32_t lpm6_generation;
	bool lpm6_dirty;
} fib;

static void route_key_of(const struct ip_prefix *prefix, struct route_key *key)
{
	memset(key, 0, sizeof(*key));
	key->family = prefix->addr.family;
	key->len = prefix->len;
	memcpy(key->addr, prefix->addr.bytes, ip_addr_size(prefix->addr.family));
}

static void nexthop_slot_release(void *p, void *elements, unsigned n)
{
	(void)p;
	const uint32_t *slots = elements;
	for (unsigned i = 0; i < n; i++) {
		if (fib_is_group(slots[i]))
			fib.free_groups[fib.n_free_groups++] = slots[i];
		else
			fib.free_slots[fib.n_free++] = slots[i];
	}
}

static int nexthop_get(const struct nexthop *nexthop, uint32_t *slot_out)
{
	struct nexthop_key key;
	void *data;

	memset(&key, 0, sizeof(key));
	key.nexthop = *nexthop;
	if (rte_hash_lookup_data(fib.nexthop_index, &key, &data) >= 0) {
		*slot_out = (uint32_t)(uintptr_t)data;
		fib.nexthop_refs[*slot_out]++;
		return 0;
	}
	if (fib.n_free == 0) {
		rte_rcu_qsbr_dq_reclaim(fib.nexthop_dq, UINT32_MAX, NULL, NULL, NULL);
		if (fib.n_free == 0)
			return -ENOSPC;
	}
	uint32_t slot = fib.free_slots[--fib.n_free];
	fib_nexthops[slot] = key.nexthop;
	int rc = rte_hash_add_key_data(fib.nexthop_index, &key, (void *)(uintptr_t)slot);
	if (rc < 0) {
		fib.free_slots[fib.n_free++] = slot;
		return rc;
	}
	fib.nexthop_refs[slot] = 1;
	*slot_out = slot;
	return 0;
}

static void nexthop_put(uint32_t slot)
{
	if (--fib.nexthop_refs[slot] > 0)
		return;
	if (fib_nexthop_neigh_bad[slot]) {
		fib_nexthop_neigh_bad[slot] = 0;
		fib.n_neigh_bad--;
	}
	struct nexthop_key key;
	memset(&key, 0, sizeof(key));
	key.nexthop = fib_nexthops[slot];
	rte_hash_del_key(fib.nexthop_index, &key);
	/* A worker may still hold this slot from a lookup: reuse it only
	 * after every worker has passed a quiescent state. */
	if (rte_rcu_qsbr_dq_enqueue(fib.nexthop_dq, &slot) != 0)
		fprintf(stderr, "espd: fib: next hop slot %u leaked (defer queue full)\n", slot);
}

/* fib_rebalance: each live hop's upper bound is its share of the 31-bit
 * hash space by weight, cumulated; a dead hop's is -1. The kernel also
 * takes out a RTNH_F_LINKDOWN hop where ignore_routes_with_linkdown is on,
 * which the mirror does not follow: at its default (off) such a hop is used. */
static void group_rebalance(struct fib_group *group, const struct fib_route *route)
{
	uint64_t total = 0, w = 0;

	for (unsigned i = 0; i < route->n_paths; i++)
		if (!(route->paths[i].flags & RTNH_F_DEAD))
			total += route->paths[i].weight;
	for (unsigned i = 0; i < route->n_paths; i++) {
		if (route->paths[i].flags & RTNH_F_DEAD) {
			group->paths[i].upper_bound = -1;
			continue;
		}
		w += route->paths[i].weight;
		group->paths[i].upper_bound = (int32_t)(((w << 31) + total / 2) / total) - 1;
	}
}

static void group_members_put(const struct fib_group *group, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		nexthop_put(group->paths[i].nexthop);
}

/* A fresh group slot for route's hops, each a shared next hop. */
static int group_get(const struct fib_route *route, uint32_t *slot_out)
{
	struct nexthop member = route->nexthop;
	struct fib_group *group;

	if (route->n_paths > FIB_PATHS_MAX)
		return -E2BIG;
	if (fib.n_free_groups == 0) {
		rte_rcu_qsbr_dq_reclaim(fib.nexthop_dq, UINT32_MAX, NULL, NULL, NULL);
		if (fib.n_free_groups == 0)
			return -ENOSPC;
	}
	uint32_t slot = fib.free_groups[--fib.n_free_groups];
	group = &fib_groups[slot - FIB_NEXTHOP_MAX];
	for (unsigned i = 0; i < route->n_paths; i++) {
		member.iface = route->paths[i].iface;
		member.gw = route->paths[i].gw;
		int rc = nexthop_get(&member, &group->paths[i].nexthop);
		if (rc < 0) {
			group_members_put(group, i);
			fib.free_groups[fib.n_free_groups++] = slot;
			return rc;
		}
	}
	group->n_paths = route->n_paths;
	group_rebalance(group, route);
	fib_nexthops[slot] = (struct nexthop){ .type = NEXTHOP_GROUP,
					       .family = route->nexthop.family };
	*slot_out = slot;
	return 0;
}

static int slot_get(const struct fib_route *route, uint32_t *slot_out)
{
	if (route->n_paths > 1)
		return group_get(route, slot_out);
	return nexthop_get(&route->nexthop, slot_out);
}

/* A group's slot goes back after a grace period with its members'. */
static void slot_put(uint32_t slot)
{
	if (!fib_is_group(slot)) {
		nexthop_put(slot);
		return;
	}
	group_members_put(&fib_groups[slot - FIB_NEXTHOP_MAX],
			  fib_groups[slot - FIB_NEXTHOP_MAX].n_paths);
	if (rte_rcu_qsbr_dq_enqueue(fib.nexthop_dq, &slot) != 0)
		fprintf(stderr, "espd: fib: group slot %u leaked (defer queue full)\n", slot);
}

void fib_neigh_bad_set(uint16_t iface, const struct ip_addr *addr, bool bad)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!bad && fib.n_neigh_bad == 0)
		return;
	while (rte_hash_iterate(fib.nexthop_index, &key, &data, &iter) >= 0) {
		uint32_t slot = (uint32_t)(uintptr_t)data;
		const struct nexthop *nexthop = &fib_nexthops[slot];

		if (nexthop->iface != iface || !ip_addr_equal(&nexthop->gw, addr) ||
		    fib_nexthop_neigh_bad[slot] == bad)
			continue;
		fib_nexthop_neigh_bad[slot] = bad;
		fib.n_neigh_bad += bad ? 1 : (uint32_t)-1;
	}
}

uint32_t fib_group_select_good(const struct fib_group *group, uint32_t hash)
{
	uint32_t first_good = group->paths[0].nexthop;
	bool found = false;

	for (uint32_t i = 0; i < group->n_paths; i++) {
		uint32_t member = group->paths[i].nexthop;
		if (fib_nexthop_neigh_bad[member])
			continue;
		if (!found) {
			first_good = member;
			found = true;
		}
		if ((int32_t)hash <= group->paths[i].upper_bound)
			return member;
	}
	return first_good;
}

uint32_t fib_group_member_by_iface(uint32_t index, uint16_t iface)
{
	const struct fib_group *group = &fib_groups[index - FIB_NEXTHOP_MAX];

	for (uint32_t i = 0; i < group->n_paths; i++)
		if (fib_nexthops[group->paths[i].nexthop].iface == iface)
			return group->paths[i].nexthop;
	return group->paths[0].nexthop;
}

static struct rte_hash *hash_create(const char *name, uint32_t entries, uint32_t key_len)
{
	struct rte_hash_parameters params = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
	};
	return rte_hash_create(&params);
}

static struct rte_lpm6 *lpm6_create(void)
{
	char name[RTE_LPM6_NAMESIZE];
	struct rte_lpm6_config config = {
		.max_rules = RTE_MIN(fib.max_routes, (uint32_t)LPM6_RULES_MAX),
		.number_tbl8s = LPM6_TBL8S,
	};
	snprintf(name, sizeof(name), "fib6_%u", fib.lpm6_generation++);
	return rte_lpm6_create(name, SOCKET_ID_ANY, &config);
}

int fib_init(struct rte_rcu_qsbr *rcu, uint32_t max_routes)
{
	struct rte_lpm_config lpm_config = {
		.max_rules = max_routes,
		.number_tbl8s = LPM4_TBL8S,
	};
	struct rte_lpm_rcu_config lpm_rcu = { .v = rcu, .mode = RTE_LPM_QSBR_MODE_DQ };
	struct rte_rcu_qsbr_dq_parameters dq_params = {
		.name = "fib_nexthops",
		.size = FIB_NEXTHOP_MAX,
		.esize = sizeof(uint32_t),
		.free_fn = nexthop_slot_release,
		.v = rcu,
		.trigger_reclaim_limit = 64,
		.max_reclaim_size = 256,
	};

	fib.rcu = rcu;
	fib.max_routes = max_routes;
	fib_nexthops = rte_zmalloc("fib_nexthops",
				   sizeof(*fib_nexthops) * (FIB_NEXTHOP_MAX + FIB_GROUP_MAX), 64);
	fib_groups = rte_zmalloc("fib_groups", sizeof(*fib_groups) * FIB_GROUP_MAX, 64);
	fib_nexthop_neigh_bad = rte_zmalloc("fib_nexthop_neigh_bad", FIB_NEXTHOP_MAX, 64);
	fib.free_groups = rte_zmalloc("fib_free_groups", sizeof(uint32_t) * FIB_GROUP_MAX, 64);
	fib.nexthop_refs = rte_zmalloc("fib_nexthop_refs", sizeof(uint32_t) * FIB_NEXTHOP_MAX, 64);
	fib.free_slots = rte_zmalloc("fib_free_slots", sizeof(uint32_t) * FIB_NEXTHOP_MAX, 64);
	fib.lpm4 = rte_lpm_create("fib4", SOCKET_ID_ANY, &lpm_config);
	fib.lpm6 = lpm6_create();
	fib.routes = hash_create("fib_routes", max_routes * 2, sizeof(struct route_key));
	fib.nexthop_index = hash_create("fib_nexthop_index", FIB_NEXTHOP_MAX,
					sizeof(struct nexthop_key));
	fib.nexthop_dq = rte_rcu_qsbr_dq_create(&dq_params);
	if (!fib_nexthops || !fib_groups || !fib_nexthop_neigh_bad || !fib.free_groups ||
	    !fib.nexthop_refs || !fib.free_slots || !fib.lpm4 || !fib.lpm6 || !fib.routes ||
	    !fib.nexthop_index || !fib.nexthop_dq)
		return -ENOMEM;
	if (rte_lpm_rcu_qsbr_add(fib.lpm4, &lpm_rcu) != 0)
		return -rte_errno;
	for (uint32_t slot = FIB_NEXTHOP_MAX; slot-- > 0;)
		fib.free_slots[fib.n_free++] = slot;
	for (uint32_t slot = FIB_NEXTHOP_MAX + FIB_GROUP_MAX; slot-- > FIB_NEXTHOP_MAX;)
		fib.free_groups[fib.n_free_groups++] = slot;
	flow_hash_init();
	return 0;
}

void fib_destroy(void)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	while (fib.routes && rte_hash_iterate(fib.routes, &key, &data, &iter) >= 0)
		free(data);
	rte_hash_free(fib.routes);
	rte_hash_free(fib.nexthop_index);
	rte_lpm_free(fib.lpm4);
	rte_lpm6_free(fib.lpm6);
	if (fib.nexthop_dq)
		rte_rcu_qsbr_dq_delete(fib.nexthop_dq);
	rte_free(fib_nexthops);
	rte_free(fib_groups);
	rte_free(fib_nexthop_neigh_bad);
	rte_free(fib.free_groups);
	rte_free(fib.nexthop_refs);
	rte_free(fib.free_slots);
	memset(&fib, 0, sizeof(fib));
	fib_nexthops = NULL;
	fib_groups = NULL;
	fib_nexthop_neigh_bad = NULL;
}

static int lpm4_set(const struct ip_prefix *prefix, uint32_t slot)
{
	return rte_lpm_add(fib.lpm4, rte_be_to_cpu_32(prefix->addr.v4), prefix->len, slot);
}

static int lpm4_unset(const struct ip_prefix *prefix)
{
	return rte_lpm_delete(fib.lpm4, rte_be_to_cpu_32(prefix->addr.v4), prefix->len);
}

struct installed_route {
	struct fib_route route;
	uint32_t slot;
};

int fib_route_add(const struct fib_route *route)
{
	struct route_key key;
	struct installed_route *installed;
	void *data;
	uint32_t slot;
	int rc;

	if (route->prefix.addr.family != AF_INET && route->prefix.addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	rc = slot_get(route, &slot);
	if (rc < 0)
		return rc;
	route_key_of(&route->prefix, &key);
	if (rte_hash_lookup_data(fib.routes, &key, &data) >= 0) {
		installed = data;
		slot_put(installed->slot);
	} else {
		installed = calloc(1, sizeof(*installed));
		if (!installed || rte_hash_add_key_data(fib.routes, &key, installed) < 0) {
			free(installed);
			slot_put(slot);
			return -ENOSPC;
		}
	}
	installed->route = *route;
	installed->route.prefix.addr.family = route->prefix.addr.family;
	installed->slot = slot;
	if (route->prefix.addr.family == AF_INET)
		return lpm4_set(&route->prefix, slot);
	fib.lpm6_dirty = true;
	return 0;
}

int fib_route_del(const struct ip_prefix *prefix)
{
	struct route_key key;
	void *data;

	route_key_of(prefix, &key);
	if (rte_hash_lookup_data(fib.routes, &key, &data) < 0)
		return -ENOENT;
	struct installed_route *installed = data;
	rte_hash_del_key(fib.routes, &key);
	if (prefix->addr.family == AF_INET)
		lpm4_unset(prefix);
	else
		fib.lpm6_dirty = true;
	slot_put(installed->slot);
	free(installed);
	return 0;
}

static int lpm6_fill(struct rte_lpm6 *lpm6)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	while (rte_hash_iterate(fib.routes, &key, &data, &iter) >= 0) {
		const struct installed_route *installed = data;
		const struct ip_prefix *prefix = &installed->route.prefix;
		if (prefix->addr.family != AF_INET6)
			continue;
		int rc = rte_lpm6_add(lpm6, prefix->addr.bytes, prefix->len, installed->slot);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int fib_commit(void)
{
	if (!fib.lpm6_dirty)
		return 0;
	struct rte_lpm6 *fresh = lpm6_create();
	if (!fresh)
		return -ENOMEM;
	int rc = lpm6_fill(fresh);
	if (rc < 0) {
		rte_lpm6_free(fresh);
		return rc;
	}
	struct rte_lpm6 *old = fib.lpm6;
	__atomic_store_n(&fib.lpm6, fresh, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(fib.rcu, RTE_QSBR_THRID_INVALID);
	rte_lpm6_free(old);
	fib.lpm6_dirty = false;
	return 0;
}

void fib_route_walk(int (*cb)(const struct fib_route *route, void *arg), void *arg)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	while (rte_hash_iterate(fib.routes, &key, &data, &iter) >= 0)
		if (cb(&((struct installed_route *)data)->route, arg))
			return;
}

size_t fib_route_count(void)
{
	return (size_t)rte_hash_count(fib.routes);
}

const struct fib_route *fib_route_find(const struct ip_prefix *prefix)
{
	struct route_key key;
	void *data;

	route_key_of(prefix, &key);
	if (rte_hash_lookup_data(fib.routes, &key, &data) < 0)
		return NULL;
	return &((struct installed_route *)data)->route;
}

/* Lookups go in chunks so the stack scratch stays small whatever the node's
 * stream size is. */
#define LOOKUP_CHUNK 64

void fib_lookup4_bulk(const uint32_t *dst_be, uint32_t *nh_index, unsigned n)
{
	uint32_t host[LOOKUP_CHUNK];

	for (unsigned base = 0; base < n; base += LOOKUP_CHUNK) {
		unsigned count = RTE_MIN(n - base, (unsigned)LOOKUP_CHUNK);
		for (unsigned i = 0; i < count; i++)
			host[i] = rte_be_to_cpu_32(dst_be[base + i]);
		rte_lpm_lookup_bulk(fib.lpm4, host, nh_index + base, count);
	}
	for (unsigned i = 0; i < n; i++)
		nh_index[i] = (nh_index[i] & RTE_LPM_LOOKUP_SUCCESS) ?
			      (nh_index[i] & 0x00ffffff) : FIB_MISS;
}

void fib_lookup6_bulk(const uint8_t (*dst)[16], uint32_t *nh_index, unsigned n)
{
	struct rte_lpm6 *lpm6 = __atomic_load_n(&fib.lpm6, __ATOMIC_ACQUIRE);
	int32_t result[LOOKUP_CHUNK];

	for (unsigned base = 0; base < n; base += LOOKUP_CHUNK) {
		unsigned count = RTE_MIN(n - base, (unsigned)LOOKUP_CHUNK);
		rte_lpm6_lookup_bulk_func(lpm6, (uint8_t (*)[16])(uintptr_t)(dst + base),
					  result, count);
		for (unsigned i = 0; i < count; i++)
			nh_index[base + i] = result[i] < 0 ? FIB_MISS : (uint32_t)result[i];
	}
}

const char *format_nexthop_type(uint8_t type)
{
	static const char *const names[] = {
		[NEXTHOP_FORWARD] = "forward",
		[NEXTHOP_LOCAL] = "local",
		[NEXTHOP_PUNT] = "punt",
		[NEXTHOP_BLACKHOLE] = "blackhole",
		[NEXTHOP_GROUP] = "group",
	};
	return type < RTE_DIM(names) ? names[type] : "unknown";
}
