/*
 * The mirror's shadow state and what each kernel object does to espd's
 * tables. Routes go through a store keyed by prefix that holds every
 * candidate for the prefix (kernel routes with different metrics, host
 * routes of local addresses) and installs the best: addresses first, as the
 * kernel's local table is looked up before main, then the lowest metric.
 * Every object carries the generation it was last seen in; after a complete
 * dump, older ones are swept.
 */
#include "control/rtnl_apply.h"

#include <arpa/inet.h>
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/netconf.h>

#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"
#include "tables/own_addr.h"

_Static_assert(RTNL_ROUTE_HOPS == FIB_PATHS_MAX, "a mirrored multipath route fits the FIB's");

/* One way to reach a prefix. */
struct route_cand {
	struct route_cand *next;
	bool is_addr;           /* host route of a local address */
	bool appended;          /* another kernel route shares the key (NLM_F_APPEND) */
	int ifindex;            /* address: its link; kernel route: the chosen hop's oif */
	struct ip_prefix owner; /* address: the address it comes from */
	uint16_t n_hops;
	struct fib_route route; /* priority and generation included */
};

struct route_slot {
	struct ip_prefix prefix;
	struct route_cand *cands; /* best first */
	bool installed;
	struct fib_route fib;     /* what the FIB holds for the prefix */
};

struct addr_rec {
	int ifindex;
	struct ip_prefix prefix;
	struct ip_addr broadcast;
	uint32_t generation;
};

static struct {
	void *routes;             /* tsearch tree of struct route_slot */
	size_t n_slots, n_installed, n_kernel_v4;
	struct addr_rec *addrs;   /* every link's addresses, in kernel order */
	size_t n_addrs, addrs_size;
	uint32_t tap_seen[IFACE_MAX]; /* generation of each TAP's last RTM_NEWLINK */
	int32_t rp_filter[IFACE_MAX]; /* each TAP's net.ipv4.conf.<name>.rp_filter */
	int32_t rp_filter_all;        /* net.ipv4.conf.all.rp_filter */
	bool addrs_changed;           /* since the last rtnl_apply_publish */
	bool netconf_changed;         /* likewise */
} shadow;

static int slot_cmp(const void *a, const void *b)
{
	const struct ip_prefix *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, ip_addr_size(x->addr.family));
}

static struct route_slot *slot_get(const struct ip_prefix *prefix, bool create)
{
	struct route_slot key = { .prefix = *prefix }, *slot, **node;

	node = tfind(&key, &shadow.routes, slot_cmp);
	if (node || !create)
		return node ? *node : NULL;
	slot = malloc(sizeof(*slot));
	if (slot)
		*slot = key;
	if (!slot || !tsearch(slot, &shadow.routes, slot_cmp)) {
		free(slot);
		rtnl_mirror_error(-ENOMEM, "route store");
		return NULL;
	}
	shadow.n_slots++;
	return slot;
}

static bool fib_paths_same(const struct fib_route *a, const struct fib_route *b)
{
	if (a->n_paths != b->n_paths)
		return false;
	for (unsigned i = 0; i < a->n_paths; i++) {
		const struct fib_path *x = &a->paths[i], *y = &b->paths[i];
		if (x->iface != y->iface || x->weight != y->weight || x->flags != y->flags ||
		    !ip_addr_equal(&x->gw, &y->gw))
			return false;
	}
	return true;
}

static bool fib_route_same(const struct fib_route *a, const struct fib_route *b)
{
	return ip_prefix_equal(&a->prefix, &b->prefix) && fib_paths_same(a, b) &&
	       a->nexthop.type == b->nexthop.type &&
	       a->nexthop.iface == b->nexthop.iface && a->nexthop.hop_limit == b->nexthop.hop_limit &&
	       ip_addr_equal(&a->nexthop.gw, &b->nexthop.gw) && a->priority == b->priority &&
	       a->protocol == b->protocol && a->local == b->local;
}

static void slot_uninstall(struct route_slot *slot)
{
	int rc = fib_route_del(&slot->prefix);
	char text[IP_PREFIX_STRLEN];

	if (rc < 0 && rc != -ENOENT)
		rtnl_mirror_error(rc, "fib_route_del %s",
				  format_ip_prefix(text, sizeof(text), &slot->prefix));
	slot->installed = false;
	shadow.n_installed--;
	rtnl_shared.fib_dirty = true;
}

/* Make the FIB hold the slot's best candidate; free the slot when empty. */
static void slot_sync(struct route_slot *slot)
{
	const struct route_cand *best = slot->cands;
	char text[IP_PREFIX_STRLEN];

	if (!best) {
		if (slot->installed)
			slot_uninstall(slot);
		tdelete(slot, &shadow.routes, slot_cmp);
		free(slot);
		shadow.n_slots--;
		return;
	}
	if (slot->installed && fib_route_same(&slot->fib, &best->route))
		return;
	int rc = fib_route_add(&best->route);
	rtnl_shared.fib_dirty = true;
	if (rc < 0) {
		rtnl_mirror_error(rc, "fib_route_add %s",
				  format_ip_prefix(text, sizeof(text), &slot->prefix));
		if (slot->installed)
			slot_uninstall(slot);
		return;
	}
	shadow.n_installed += !slot->installed;
	slot->installed = true;
	slot->fib = best->route;
}

static bool cand_before(const struct route_cand *a, const struct route_cand *b)
{
	if (a->is_addr != b->is_addr)
		return a->is_addr;
	return !a->is_addr && a->route.priority < b->route.priority;
}

static void cand_link(struct route_slot *slot, struct route_cand *cand)
{
	struct route_cand **pos = &slot->cands;

	while (*pos && !cand_before(cand, *pos))
		pos = &(*pos)->next;
	cand->next = *pos;
	*pos = cand;
	if (!cand->is_addr && cand->route.prefix.addr.family == AF_INET)
		shadow.n_kernel_v4++;
}

static void cand_unlink(struct route_slot *slot, struct route_cand *cand)
{
	struct route_cand **pos = &slot->cands;

	while (*pos != cand)
		pos = &(*pos)->next;
	*pos = cand->next;
	if (!cand->is_addr && cand->route.prefix.addr.family == AF_INET)
		shadow.n_kernel_v4--;
}

static struct route_cand *cand_find_kernel(struct route_slot *slot, uint32_t priority)
{
	for (struct route_cand *c = slot->cands; c; c = c->next)
		if (!c->is_addr && c->route.priority == priority)
			return c;
	return NULL;
}

static struct route_cand *cand_find_addr(struct route_slot *slot, int ifindex,
					 const struct ip_prefix *owner)
{
	for (struct route_cand *c = slot->cands; c; c = c->next)
		if (c->is_addr && c->ifindex == ifindex && ip_prefix_equal(&c->owner, owner))
			return c;
	return NULL;
}

/* Insert or replace cand's key in the slot (cand is a filled template). */
static void cand_set(struct route_slot *slot, struct route_cand *old, const struct route_cand *cand)
{
	struct route_cand *c = old ? old : malloc(sizeof(*c));

	if (!c) {
		rtnl_mirror_error(-ENOMEM, "route store");
		return;
	}
	if (old)
		cand_unlink(slot, old);
	*c = *cand;
	cand_link(slot, c);
	slot_sync(slot);
}

static void cand_del(struct route_slot *slot, struct route_cand *cand)
{
	cand_unlink(slot, cand);
	free(cand);
	slot_sync(slot);
}

/*
 * A multipath route's hops as the FIB's paths, when espd can forward it
 * all: every hop by an espd interface, at most FIB_PATHS_MAX of them, one
 * not dead (fib_table_lookup skips a route whose hops are all dead). A
 * route mixing espd's interfaces and others is left whole to the kernel:
 * punting only the flows of the others' hops would have the kernel hash
 * them again over every hop, and the split by weight would be lost.
 */
static bool multipath_to_fib(const struct rtnl_route *r, struct fib_route *fr)
{
	bool live = false;

	if (r->n_hops > FIB_PATHS_MAX)
		return false;
	for (unsigned i = 0; i < r->n_hops; i++) {
		const struct iface *iface = iface_by_ifindex(r->hops[i].oif);
		if (!iface)
			return false;
		fr->paths[i] = (struct fib_path){ .gw = r->hops[i].gw, .iface = iface->index,
						  .weight = r->hops[i].weight,
						  .flags = r->hops[i].flags };
		live |= !(r->hops[i].flags & RTNH_F_DEAD);
	}
	fr->n_paths = (uint8_t)r->n_hops;
	return live;
}

/* Whether some hop of a multipath route is an espd interface. */
static bool multipath_touches_espd(const struct rtnl_route *r)
{
	for (unsigned i = 0; i < r->n_hops && i < RTNL_ROUTE_HOPS; i++)
		if (iface_by_ifindex(r->hops[i].oif))
			return true;
	return false;
}

/* A multipath route the kernel forwards though some hop is espd's. */
static void multipath_punt(const struct rtnl_route *r, struct fib_route *fr)
{
	char text[IP_PREFIX_STRLEN];

	memset(fr->paths, 0, sizeof(fr->paths));
	fr->n_paths = 0;
	fr->nexthop.type = NEXTHOP_PUNT;
	fr->nexthop.iface = IFACE_NONE;
	memset(&fr->nexthop.gw, 0, sizeof(fr->nexthop.gw));
	if (!multipath_touches_espd(r))
		return;
	rtnl_shared.stats.multipath_punted++;
	if (!rtnl_shared.in_dump)
		fprintf(stderr, "espd: netlink: multipath route %s (%u hops) is forwarded by the "
			"kernel: a hop by an interface espd does not own, more than %u, or all "
			"dead\n", format_ip_prefix(text, sizeof(text), &r->prefix), r->n_hops,
			FIB_PATHS_MAX);
}

static void route_to_fib(const struct rtnl_route *r, enum rtnl_route_action action,
			 struct fib_route *fr)
{
	static const uint8_t nexthop_of[] = {
		[RTNL_ROUTE_OIF] = NEXTHOP_PUNT, [RTNL_ROUTE_LOCAL] = NEXTHOP_LOCAL,
		[RTNL_ROUTE_PUNT] = NEXTHOP_PUNT, [RTNL_ROUTE_BLACKHOLE] = NEXTHOP_BLACKHOLE,
	};
	const struct iface *iface = action == RTNL_ROUTE_OIF ? iface_by_ifindex(r->oif) : NULL;

	memset(fr, 0, sizeof(*fr));
	fr->prefix = r->prefix;
	fr->nexthop.type = iface ? NEXTHOP_FORWARD : nexthop_of[action];
	fr->nexthop.family = r->prefix.addr.family;
	fr->nexthop.iface = iface ? iface->index : IFACE_NONE;
	fr->nexthop.hop_limit = r->hop_limit;
	if (iface)
		fr->nexthop.gw = r->gw;
	fr->priority = r->priority;
	fr->protocol = r->protocol;
	fr->generation = rtnl_shared.generation;
	if (action == RTNL_ROUTE_OIF && r->n_hops > 1 && !multipath_to_fib(r, fr))
		multipath_punt(r, fr);
}

static void route_set(const struct rtnl_route *r, enum rtnl_route_action action)
{
	struct route_slot *slot = slot_get(&r->prefix, true);
	struct route_cand cand = { .ifindex = r->oif, .n_hops = r->n_hops };

	if (!slot)
		return;
	struct route_cand *old = cand_find_kernel(slot, r->priority);
	/* IPv4 keeps routes appended (or prepended) under one key in order and
	 * uses the first; a dump shows them all, without flags. IPv6 makes
	 * them hops of one multipath route, which each of its messages
	 * describes whole (rt6_fill_node's RTA_MULTIPATH). */
	bool ipv4 = r->prefix.addr.family == AF_INET;
	if (ipv4 && old && (r->append || (rtnl_shared.in_dump &&
					  old->route.generation == rtnl_shared.generation))) {
		old->appended = true;
		old->route.generation = rtnl_shared.generation;
		return;
	}
	cand.appended = ipv4 && old && !r->replace && !rtnl_shared.in_dump;
	route_to_fib(r, action, &cand.route);
	cand_set(slot, old, &cand);
}

static void route_del(const struct rtnl_route *r)
{
	struct route_slot *slot = slot_get(&r->prefix, false);
	struct route_cand *cand = slot ? cand_find_kernel(slot, r->priority) : NULL;

	if (!cand)
		return;
	/* Removing one of appended routes or one hop of an IPv6 multipath route
	 * leaves the rest in the kernel, which the message does not describe. */
	if (r->del && (cand->appended || r->n_hops < cand->n_hops))
		rtnl_mirror_resync_request("partial route deletion");
	cand_del(slot, cand);
}

static void apply_route(const struct rtnl_route *r)
{
	enum rtnl_route_action action = rtnl_route_action(r, rtnl_shared.ignore_kernel_routes);

	if (action == RTNL_ROUTE_IGNORE)
		rtnl_shared.stats.ignored++;
	else if (r->del || action == RTNL_ROUTE_FILTER)
		route_del(r);
	else
		route_set(r, action);
}

static struct ip_prefix host_prefix(const struct ip_addr *addr)
{
	struct ip_prefix host = { .addr = *addr, .len = (uint8_t)(ip_addr_size(addr->family) * 8) };
	return host;
}

/* Traffic to the router's own addresses (and IPv4 subnet broadcasts) goes
 * to the kernel, whatever interface carries the address. */
static void local_set(const struct ip_addr *addr, const struct addr_rec *rec)
{
	struct route_cand cand = { .is_addr = true, .ifindex = rec->ifindex,
				   .owner = rec->prefix, .n_hops = 1 };
	const struct iface *iface = iface_by_ifindex(rec->ifindex);
	struct ip_prefix host = host_prefix(addr);
	struct route_slot *slot = slot_get(&host, true);

	if (!slot)
		return;
	cand.route.prefix = host;
	cand.route.nexthop.type = NEXTHOP_LOCAL;
	cand.route.nexthop.family = addr->family;
	cand.route.nexthop.iface = iface ? iface->index : IFACE_NONE;
	cand.route.protocol = RTPROT_KERNEL;
	cand.route.local = true;
	cand.route.generation = rtnl_shared.generation;
	cand_set(slot, cand_find_addr(slot, rec->ifindex, &rec->prefix), &cand);
}

static void local_del(const struct ip_addr *addr, const struct addr_rec *rec)
{
	struct ip_prefix host = host_prefix(addr);
	struct route_slot *slot = slot_get(&host, false);
	struct route_cand *cand = slot ? cand_find_addr(slot, rec->ifindex, &rec->prefix) : NULL;

	if (cand)
		cand_del(slot, cand);
}

static struct addr_rec *addr_find(int ifindex, const struct ip_prefix *prefix)
{
	for (size_t i = 0; i < shadow.n_addrs; i++)
		if (shadow.addrs[i].ifindex == ifindex &&
		    ip_prefix_equal(&shadow.addrs[i].prefix, prefix))
			return &shadow.addrs[i];
	return NULL;
}

static struct addr_rec *addr_insert(int ifindex, const struct ip_prefix *prefix)
{
	if (shadow.n_addrs == shadow.addrs_size) {
		size_t size = shadow.addrs_size ? shadow.addrs_size * 2 : 16;
		struct addr_rec *addrs = realloc(shadow.addrs, size * sizeof(*addrs));
		if (!addrs) {
			rtnl_mirror_error(-ENOMEM, "address list");
			return NULL;
		}
		shadow.addrs = addrs;
		shadow.addrs_size = size;
	}
	struct addr_rec *rec = &shadow.addrs[shadow.n_addrs++];
	memset(rec, 0, sizeof(*rec));
	rec->ifindex = ifindex;
	rec->prefix = *prefix;
	return rec;
}

/* The host routes an address makes: itself, its IFA_BROADCAST, and the
 * subnet's all-ones address, which the kernel's local table holds as
 * broadcast with or without IFA_BROADCAST (IPv4 prefixes shorter than /31). */
static void addr_locals(const struct addr_rec *rec,
			void (*fn)(const struct ip_addr *addr, const struct addr_rec *rec))
{
	struct ip_addr subnet = rec->prefix.addr;

	fn(&rec->prefix.addr, rec);
	if (rec->broadcast.family)
		fn(&rec->broadcast, rec);
	if (subnet.family == AF_INET && rec->prefix.len < 31) {
		subnet.v4 |= htonl(UINT32_MAX >> rec->prefix.len);
		fn(&subnet, rec);
	}
}

/* ip4-input's martian-source test takes every link's IPv4 addresses. */
static void own_addrs_publish(void)
{
	uint32_t addrs[OWN_ADDR_MAX];
	size_t n = 0;

	for (size_t i = 0; i < shadow.n_addrs && n < OWN_ADDR_MAX; i++)
		if (shadow.addrs[i].prefix.addr.family == AF_INET)
			addrs[n++] = shadow.addrs[i].prefix.addr.v4;
	if (own_addr_sync(addrs, n) < 0)
		rtnl_mirror_error(-ENOSPC, "own address set");
}

static bool has_ipv4_address(const struct iface *iface)
{
	for (size_t i = 0; i < shadow.n_addrs; i++)
		if (shadow.addrs[i].ifindex == iface->tap_ifindex &&
		    shadow.addrs[i].prefix.addr.family == AF_INET)
			return true;
	return false;
}

/* IN_DEV_RPFILTER is the larger of all's and the device's; fib_validate_source
 * takes 1 as strict, any other non-zero as loose, and a loose check on a
 * device without an IPv4 address fails wherever a strict one would. */
static uint8_t rp_filter_of(const struct iface *iface)
{
	int32_t value = RTE_MAX(shadow.rp_filter_all, shadow.rp_filter[iface->index]);

	if (value == 0)
		return IFACE_RP_FILTER_OFF;
	if (value == 1 || !has_ipv4_address(iface))
		return IFACE_RP_FILTER_STRICT;
	return IFACE_RP_FILTER_LOOSE;
}

static void ingress_publish(void)
{
	bool checks = !iface_table.forwarding6;

	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		struct iface *iface = &iface_table.ifaces[i];
		iface->rp_filter = rp_filter_of(iface);
		checks |= iface->rp_filter != IFACE_RP_FILTER_OFF || !iface->forwarding4;
	}
	iface_table.ingress_checks = checks;
}

/* Once per batch that changed any address or setting. */
void rtnl_apply_publish(void)
{
	if (shadow.addrs_changed)
		own_addrs_publish();
	if (shadow.addrs_changed || shadow.netconf_changed)
		ingress_publish();
	shadow.addrs_changed = shadow.netconf_changed = false;
}

/* Workers pick the source of espd's own ICMP errors from the interface's
 * copy of its addresses (iface_source_select). */
static void addrs_publish(int ifindex)
{
	struct iface *iface = iface_by_ifindex(ifindex);
	struct ip_prefix addrs[IFACE_ADDR_MAX];

	if (iface)
		iface_addrs_set(iface, addrs, rtnl_iface_addresses(iface->index, addrs, IFACE_ADDR_MAX));
}

static void addr_remove(struct addr_rec *rec)
{
	int ifindex = rec->ifindex;

	addr_locals(rec, local_del);
	size_t index = (size_t)(rec - shadow.addrs);
	memmove(rec, rec + 1, (shadow.n_addrs - index - 1) * sizeof(*rec));
	shadow.n_addrs--;
	addrs_publish(ifindex);
	shadow.addrs_changed = true;
}

static void apply_addr(const struct rtnl_addr *a)
{
	struct addr_rec *rec = addr_find(a->ifindex, &a->prefix);

	if (a->del) {
		if (rec)
			addr_remove(rec);
		/* The kernel flushes routes whose source was this address, and all
		 * routes of a link losing its last address, without telling. */
		if (a->prefix.addr.family == AF_INET && shadow.n_kernel_v4)
			rtnl_mirror_resync_request("IPv4 address removed");
		return;
	}
	if (!rec && !(rec = addr_insert(a->ifindex, &a->prefix)))
		return;
	if (rec->broadcast.family && !ip_addr_equal(&rec->broadcast, &a->broadcast))
		local_del(&rec->broadcast, rec);
	rec->broadcast = ip_addr_is_zero(&a->broadcast) ? (struct ip_addr){ 0 } : a->broadcast;
	rec->generation = rtnl_shared.generation;
	addr_locals(rec, local_set);
	addrs_publish(a->ifindex);
	shadow.addrs_changed = true;
}

static void apply_neigh(const struct rtnl_neigh *n)
{
	const struct iface *iface = iface_by_ifindex(n->ifindex);
	char text[IP_ADDR_STRLEN];
	int rc;

	if (!iface) {
		rtnl_shared.stats.ignored++;
		return;
	}
	fib_neigh_bad_set(iface->index, &n->addr, rtnl_neigh_is_bad(n));
	if (rtnl_neigh_is_usable(n)) {
		struct rte_ether_addr mac;
		memcpy(mac.addr_bytes, n->lladdr, sizeof(mac.addr_bytes));
		rc = neigh_add(iface->index, &n->addr, &mac, n->state, rtnl_shared.generation);
	} else {
		rc = neigh_del(iface->index, &n->addr);
		rc = rc == -ENOENT ? 0 : rc;
	}
	if (rc < 0)
		rtnl_mirror_error(rc, "neighbor %s on %s",
				  format_ip_addr(text, sizeof(text), &n->addr), iface->name);
}

struct oif_search {
	int ifindex;
	const struct iface *iface; /* the link's, when espd owns it */
	bool found;
};

static bool cand_uses(const struct route_cand *c, const struct oif_search *search)
{
	if (c->is_addr)
		return false;
	for (unsigned i = 0; search->iface && i < c->route.n_paths; i++)
		if (c->route.paths[i].iface == search->iface->index)
			return true;
	return c->ifindex == search->ifindex;
}

static void find_oif(const void *node, VISIT which, void *arg)
{
	const struct route_slot *slot = *(const struct route_slot *const *)node;
	struct oif_search *search = arg;

	if (which == preorder || which == endorder)
		return;
	for (const struct route_cand *c = slot->cands; c; c = c->next)
		search->found |= cand_uses(c, search);
}

static void apply_mtu(struct iface *iface, uint32_t mtu)
{
	if (mtu > UINT16_MAX)
		mtu = UINT16_MAX;
	if (mtu == iface->mtu)
		return;
	if (rtnl_shared.mtu_changed)
		rtnl_shared.mtu_changed(iface, mtu);
	else
		iface->mtu = (uint16_t)mtu;
}

static void apply_link(const struct rtnl_link *l)
{
	struct iface *iface = iface_by_ifindex(l->ifindex);
	struct oif_search search = { .ifindex = l->ifindex, .iface = iface };

	if (iface) {
		if (!l->del && l->mtu)
			apply_mtu(iface, l->mtu);
		iface->up = rtnl_link_is_up(l);
		shadow.tap_seen[iface->index] = rtnl_shared.generation;
	}
	if (rtnl_shared.in_dump || (!l->del && (l->flags & IFF_UP)))
		return;
	/* Routes of a link set down or deleted go without RTM_DELROUTE (IPv4
	 * always, IPv6 on unregister); a deleted TAP also loses its neighbors. */
	twalk_r(shadow.routes, find_oif, &search);
	if (search.found || (iface && l->del))
		rtnl_mirror_resync_request(l->del ? "link deleted" : "link down");
}

/* The TAPs' forwarding and rp_filter, all's rp_filter and IPv6 forwarding:
 * what the kernel consults for a packet arriving on a TAP (IPv4 forwarding
 * is the device's own; writing all's sets every device's, each notified). */
static void apply_netconf(const struct rtnl_netconf *c)
{
	struct iface *iface = c->ifindex > 0 ? iface_by_ifindex(c->ifindex) : NULL;

	if (c->family == AF_INET6 && c->ifindex == NETCONFA_IFINDEX_ALL) {
		if (c->forwarding != RTNL_NETCONF_ABSENT)
			iface_table.forwarding6 = c->forwarding != 0;
	} else if (c->family == AF_INET && c->ifindex == NETCONFA_IFINDEX_ALL) {
		if (c->rp_filter != RTNL_NETCONF_ABSENT)
			shadow.rp_filter_all = c->rp_filter;
	} else if (c->family == AF_INET && iface) {
		if (c->forwarding != RTNL_NETCONF_ABSENT)
			iface->forwarding4 = c->forwarding != 0;
		if (c->rp_filter != RTNL_NETCONF_ABSENT)
			shadow.rp_filter[iface->index] = c->rp_filter;
	} else {
		rtnl_shared.stats.ignored++;
		return;
	}
	shadow.netconf_changed = true;
}

void rtnl_apply_event(const struct rtnl_event *ev)
{
	switch (ev->type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		apply_link(&ev->link);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		apply_addr(&ev->addr);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		apply_neigh(&ev->neigh);
		break;
	case RTM_NEWNETCONF:
		apply_netconf(&ev->netconf);
		break;
	default:
		apply_route(&ev->route);
		break;
	}
}

static void collect_slot(const void *node, VISIT which, void *arg)
{
	struct route_slot ***next = arg;

	if (which == postorder || which == leaf)
		*(*next)++ = *(struct route_slot *const *)node;
}

static void sweep_routes(void)
{
	struct route_slot **slots = malloc((shadow.n_slots + 1) * sizeof(*slots)), **next = slots;

	if (!slots) {
		rtnl_mirror_error(-ENOMEM, "route sweep");
		return;
	}
	twalk_r(shadow.routes, collect_slot, &next);
	for (struct route_slot **s = slots; s < next; s++) {
		struct route_cand **pos = &(*s)->cands, *stale = NULL;
		while (*pos) {
			struct route_cand *c = *pos;
			if (c->route.generation == rtnl_shared.generation) {
				pos = &c->next;
				continue;
			}
			cand_unlink(*s, c);
			c->next = stale;
			stale = c;
		}
		for (struct route_cand *c = stale, *n; c; c = n) {
			n = c->next;
			free(c);
		}
		if (stale)
			slot_sync(*s);
	}
	free(slots);
}

struct stale_neighs {
	struct neigh_entry *entries;
	size_t n, size;
	int err;
};

static int collect_neigh(const struct neigh_entry *entry, void *arg)
{
	struct stale_neighs *stale = arg;

	if (entry->generation == rtnl_shared.generation)
		return 0;
	if (stale->n == stale->size) {
		size_t size = stale->size ? stale->size * 2 : 64;
		struct neigh_entry *entries = realloc(stale->entries, size * sizeof(*entries));
		if (!entries) {
			stale->err = -ENOMEM;
			return 1;
		}
		stale->entries = entries;
		stale->size = size;
	}
	stale->entries[stale->n++] = *entry;
	return 0;
}

static void sweep_neighs(void)
{
	struct stale_neighs stale = { 0 };

	neigh_walk(collect_neigh, &stale);
	if (stale.err)
		rtnl_mirror_error(stale.err, "neighbor sweep");
	for (size_t i = 0; i < stale.n; i++)
		neigh_del(stale.entries[i].iface, &stale.entries[i].addr);
	free(stale.entries);
}

void rtnl_apply_sweep(void)
{
	/* A TAP missing from the dump is gone. */
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++)
		if (shadow.tap_seen[i] != rtnl_shared.generation)
			iface_table.ifaces[i].up = false;
	for (size_t i = shadow.n_addrs; i-- > 0;)
		if (shadow.addrs[i].generation != rtnl_shared.generation)
			addr_remove(&shadow.addrs[i]);
	sweep_routes();
	sweep_neighs();
}

static void free_slot(void *node)
{
	struct route_slot *slot = node;

	for (struct route_cand *c = slot->cands, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(slot);
}

void rtnl_apply_free(void)
{
	tdestroy(shadow.routes, free_slot);
	free(shadow.addrs);
	memset(&shadow, 0, sizeof(shadow));
}

size_t rtnl_apply_route_count(void)
{
	return shadow.n_installed;
}

size_t rtnl_apply_addr_count(void)
{
	return shadow.n_addrs;
}

size_t rtnl_iface_addresses(uint16_t iface, struct ip_prefix *out, size_t max)
{
	size_t n = 0;

	if (iface >= iface_table.n_ifaces)
		return 0;
	for (size_t i = 0; i < shadow.n_addrs; i++) {
		if (shadow.addrs[i].ifindex != iface_table.ifaces[iface].tap_ifindex)
			continue;
		if (n < max)
			out[n] = shadow.addrs[i].prefix;
		n++;
	}
	return n;
}
