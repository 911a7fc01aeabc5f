/*
 * ip-rewrite: the last step of forwarding. Checks that the packet may leave
 * (TTL or hop limit, MTU, interface up, neighbor known), decrements the TTL
 * with an incremental checksum update (RFC 1624) and writes the Ethernet
 * header. A packet too big for the link that may be fragmented goes to
 * ip-fragment and comes back in fragments: IPv4 without DF, as ip_forward
 * fragments it, and an IPv6 packet of the router's own (pkt_is_own: an ESP
 * packet espd built, an ICMP error of espd's), as the kernel's own output
 * does (xfrm6_prepare_output sets ignore_df for ESP); so does an ESP packet
 * above the path MTU toward its SA's peer (PKT_PATH_MTU).
 * What it cannot finish goes to the kernel, which sends the ICMP error or
 * resolves the neighbor; espd learns the neighbor from the kernel. A packet
 * too big for its link, or whose TTL or hop limit ran out, that is too big
 * for the TAP that would take it to the kernel too (jumbo frames) gets its
 * ICMP error from icmp-error instead. A packet going back out of the
 * interface it came in by first passes icmp-redirect, where the kernel
 * would redirect it, and comes back (redirect_first).
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include "tables/fib.h"
#include "tables/neigh.h"

enum ip_rewrite_next {
	IP_REWRITE_NEXT_OUTPUT,
	IP_REWRITE_NEXT_PUNT,
	IP_REWRITE_NEXT_DROP,
	IP_REWRITE_NEXT_FRAGMENT,
	IP_REWRITE_NEXT_ICMP_ERROR,
	IP_REWRITE_NEXT_REDIRECT,
	IP_REWRITE_N_NEXT,
};

/* A packet received in clear that leaves by the interface it came in by
 * and that icmp-redirect has not seen (it sees each packet once, before
 * its fragments are cut; PKT_NO_REDIRECT): IPv4 only with send_redirects
 * on, which __mkroute_input asks before anything else. */
static inline bool redirect_first(struct rte_mbuf *m, const struct iface *out)
{
	const struct pkt_meta *meta = pkt_meta(m);

	return unlikely(out->index == meta->rx_iface) &&
	       !(meta->flags & (PKT_OWN | PKT_IPSEC | PKT_NO_REDIRECT)) &&
	       (meta->family == AF_INET6 || out->send_redirects);
}

/* A packet larger than its link: fragmented if it may be, else punted for
 * the kernel's ICMP error, unless its TAP cannot carry it there. A redirect
 * comes first where the kernel's does: ip_forward's after its MTU check,
 * which lets through what it will fragment, ip6_forward's before. */
static uint16_t too_big(struct worker *worker, struct rte_mbuf *m, const struct iface *iface,
			uint32_t l3_len, bool may_fragment)
{
	if (may_fragment && redirect_first(m, iface))
		return IP_REWRITE_NEXT_REDIRECT;
	if (may_fragment)
		return IP_REWRITE_NEXT_FRAGMENT;
	if (pkt_fits_tap(m, l3_len))
		return steer(worker, m, ESPD_COUNTER_IP_MTU_EXCEEDED, IP_REWRITE_NEXT_PUNT);
	if (pkt_meta(m)->family == AF_INET6 && redirect_first(m, iface))
		return IP_REWRITE_NEXT_REDIRECT;
	pkt_icmp_request(m, ESP_ICMP_TOO_BIG, iface->mtu);
	return steer(worker, m, ESPD_COUNTER_IP_MTU_ICMP, IP_REWRITE_NEXT_ICMP_ERROR);
}

/* TTL or hop limit 1: the kernel answers "time exceeded", unless the TAP
 * cannot take the packet there (a jumbo frame): then espd does. */
static uint16_t ttl_expired(struct worker *worker, struct rte_mbuf *m, uint32_t l3_len)
{
	if (pkt_fits_tap(m, l3_len))
		return steer(worker, m, ESPD_COUNTER_IP_TTL_EXPIRED, IP_REWRITE_NEXT_PUNT);
	pkt_icmp_request(m, ESP_ICMP_TIME_EXCEEDED, 0);
	return steer(worker, m, ESPD_COUNTER_IP_TTL_ICMP, IP_REWRITE_NEXT_ICMP_ERROR);
}

/* Returns the next edge; on forward, *neighbor is the key of the MAC to use. */
static uint16_t prepare(struct worker *worker, struct rte_mbuf *m, const struct nexthop *nexthop,
			const struct iface *iface, struct neigh_key *neighbor)
{
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
	const void *dst;
	uint8_t family;
	uint32_t l3_len;
	bool may_fragment = false, own = pkt_is_own(m);

	if (unlikely(!iface->up))
		return steer(worker, m, ESPD_COUNTER_IP_IFACE_DOWN, IP_REWRITE_NEXT_DROP);
	if (pkt_meta(m)->family == AF_INET) {
		struct rte_ipv4_hdr *ip = l3;
		l3_len = rte_be_to_cpu_16(ip->total_length);
		if (unlikely(ip->time_to_live <= 1 && !own))
			return ttl_expired(worker, m, l3_len);
		dst = &ip->dst_addr;
		family = AF_INET;
		may_fragment = !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
	} else {
		struct rte_ipv6_hdr *ip = l3;
		l3_len = rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip);
		if (unlikely(ip->hop_limits <= 1 && !own))
			return ttl_expired(worker, m, l3_len);
		dst = ip->dst_addr;
		family = AF_INET6;
		may_fragment = own;
	}
	if (unlikely(l3_len > iface->mtu || (pkt_meta(m)->flags & PKT_PATH_MTU)))
		return too_big(worker, m, iface, l3_len, may_fragment);
	if (nexthop->gw.family)
		neigh_key_set(neighbor, iface->index, nexthop->gw.family, nexthop->gw.bytes);
	else
		neigh_key_set(neighbor, iface->index, family, dst);
	return IP_REWRITE_NEXT_OUTPUT;
}

static void rewrite(struct rte_mbuf *m, const struct iface *iface,
		    const struct rte_ether_addr *neighbor_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (!pkt_is_own(m))
		ip_hop_decrement(l3, pkt_meta(m)->family);
	rte_ether_addr_copy(neighbor_mac, &eth->dst_addr);
	rte_ether_addr_copy(&iface->mac, &eth->src_addr);
	pkt_meta(m)->tx_port = iface->port_id;
}

/*
 * Up to NEIGH_LOOKUP_BULK_MAX packets: checks first, then one bulk probe of
 * the neighbor table, then the rewrite. A burst mostly goes to one next
 * hop, so a key equal to the one before it is not probed again.
 */
static void forward_chunk(struct worker *worker, struct rte_mbuf **pkts, rte_edge_t *nexts,
			  uint16_t n)
{
	struct neigh_key keys[NEIGH_LOOKUP_BULK_MAX];
	const struct neigh_key *distinct[NEIGH_LOOKUP_BULK_MAX];
	struct rte_ether_addr macs[NEIGH_LOOKUP_BULK_MAX];
	const struct iface *iface_of[NEIGH_LOOKUP_BULK_MAX];
	uint8_t at[NEIGH_LOOKUP_BULK_MAX], key_of[NEIGH_LOOKUP_BULK_MAX];
	unsigned n_keys = 0, n_out = 0;

	for (uint16_t i = 0; i < n; i++) {
		const struct nexthop *nexthop = fib_nexthop(pkt_meta(pkts[i])->nexthop);
		const struct iface *iface = &iface_table.ifaces[nexthop->iface];
		nexts[i] = prepare(worker, pkts[i], nexthop, iface, &keys[n_keys]);
		if (nexts[i] != IP_REWRITE_NEXT_OUTPUT)
			continue;
		if (n_keys == 0 || !neigh_key_equal(&keys[n_keys], &keys[n_keys - 1])) {
			distinct[n_keys] = &keys[n_keys];
			n_keys++;
		}
		key_of[n_out] = (uint8_t)(n_keys - 1);
		iface_of[n_out] = iface;
		at[n_out++] = (uint8_t)i;
	}
	uint64_t found = neigh_lookup_bulk(distinct, n_keys, macs);
	for (unsigned k = 0; k < n_out; k++) {
		bool known = found & (1ull << key_of[k]);
		if (likely(known) && !redirect_first(pkts[at[k]], iface_of[k]))
			rewrite(pkts[at[k]], iface_of[k], &macs[key_of[k]]);
		else if (known)
			nexts[at[k]] = IP_REWRITE_NEXT_REDIRECT;
		else
			nexts[at[k]] = steer(worker, pkts[at[k]], ESPD_COUNTER_IP_NEIGHBOR_MISS,
					     IP_REWRITE_NEXT_PUNT);
	}
}

static uint16_t ip_rewrite_process(struct rte_graph *graph, struct rte_node *node, void **objs,
                                   uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	rte_edge_t nexts[nb_objs];

	for (uint16_t off = 0; off < nb_objs; off += NEIGH_LOOKUP_BULK_MAX)
		forward_chunk(worker, (struct rte_mbuf **)objs + off, nexts + off,
			      RTE_MIN((uint16_t)(nb_objs - off), (uint16_t)NEIGH_LOOKUP_BULK_MAX));
	node_enqueue_burst(graph, node, nexts, objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register ip_rewrite_node = {
	.name = NODE_IP_REWRITE,
	.process = ip_rewrite_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP_REWRITE_N_NEXT,
	.next_nodes = {
		[IP_REWRITE_NEXT_OUTPUT] = NODE_ACL_OUTPUT,
		[IP_REWRITE_NEXT_PUNT] = NODE_PUNT,
		[IP_REWRITE_NEXT_DROP] = NODE_DROP,
		[IP_REWRITE_NEXT_FRAGMENT] = NODE_IP_FRAGMENT,
		[IP_REWRITE_NEXT_ICMP_ERROR] = NODE_ICMP_ERROR,
		[IP_REWRITE_NEXT_REDIRECT] = NODE_ICMP_REDIRECT,
	},
};

RTE_NODE_REGISTER(ip_rewrite_node);
