/*
 * spd-local: the outbound policy lookup for the router's own packets,
 * which the kernel sends into a TAP. The kernel applies the policies it
 * holds itself, but not the espd-only (CLI) ones: without this node a
 * packet of the router's own matching such a policy would leave in clear.
 * port-input sends TAP frames here only while an espd-only out policy
 * exists. Protect with an SA espd runs: esp-encrypt, which builds the
 * tunnel or transport header and routes the result. Block, or protection
 * without a usable SA: drop. Anything else goes out as the kernel built it.
 *
 * The kernel looks its policies up for a whole datagram, ports included,
 * and fragments only what leaves its IPsec output (the ESP packet). A
 * datagram of its own that it cut for the TAP's link is put together again
 * first (ip-reassemble, PKT_REASSEMBLED): protected, it goes to esp-encrypt
 * whole (which has one of IPv6 for a tunnel SA cut to the SA's MTU first,
 * as the kernel's __xfrm6_output); otherwise ip-fragment cuts it again for
 * its link.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include "graph/protect.h"

#define SPD_LOCAL_BULK 64

enum spd_local_next {
	SPD_LOCAL_NEXT_ACL_OUTPUT,
	SPD_LOCAL_NEXT_ENCRYPT,
	SPD_LOCAL_NEXT_DROP,
	SPD_LOCAL_NEXT_REASSEMBLE,
	SPD_LOCAL_NEXT_FRAGMENT,
	SPD_LOCAL_N_NEXT,
};

/* The address family of an untagged IP frame, else 0 (ARP, ND's link
 * layer needs, anything else: not IPsec's). */
static uint8_t frame_family(struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)))
		return 0;
	uint16_t type = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return AF_INET;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6))
		return AF_INET6;
	return 0;
}

/* Sent by the router itself, by its source address: fragments the kernel
 * forwards (packets punted to it that it routed) are looked up one by one,
 * as its forwarding path does, never held for reassembly. */
static bool from_router(const uint8_t *l3, uint8_t family)
{
	struct ip_addr src;

	ip_source_of(l3, family, &src);
	return fib_nexthop_type(fib_lookup_addr(&src)) == NEXTHOP_LOCAL;
}

/* Whether the IP frame m is a fragment of the router's own datagram whose
 * header ip-reassemble can take (IPv6: the fragment header right after the
 * fixed one, as the kernel's own output puts it); its l3_len set for that. */
static bool own_fragment(struct rte_mbuf *m, uint8_t family)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t len = rte_pktmbuf_data_len(m) - m->l2_len;

	if (pkt_meta(m)->flags & PKT_REASSEMBLED)
		return false;
	if (family == AF_INET) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		if (len < sizeof(*ip) || rte_ipv4_hdr_len(ip) < sizeof(*ip) ||
		    rte_ipv4_hdr_len(ip) > len || !rte_ipv4_frag_pkt_is_fragmented(ip) ||
		    !from_router(l3, family))
			return false;
		m->l3_len = rte_ipv4_hdr_len(ip);
		return true;
	}
	return len >= sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext) &&
	       ((const struct rte_ipv6_hdr *)l3)->proto == IPPROTO_FRAGMENT &&
	       from_router(l3, family);
}

static uint16_t protect(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol,
			const struct spd_packet_key *key)
{
	switch (protect_sa(worker, m, pol, key)) {
	case PROTECT_ENCRYPT:
		return SPD_LOCAL_NEXT_ENCRYPT;
	case PROTECT_SEQ_OVERFLOW:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_SEQ_OVERFLOW, SPD_LOCAL_NEXT_DROP);
	default:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_NO_SA, SPD_LOCAL_NEXT_DROP);
	}
}

/* The kernel skips its out policies for a route out of an interface with
 * disable_xfrm (iface_no_xfrm); the TAP the packet came by is that
 * interface's. */
static bool out_skipped(struct rte_mbuf *m)
{
	return iface_table.any_no_xfrm && iface_no_xfrm(pkt_meta(m)->rx_iface, pkt_meta(m)->family);
}

/* Policies the kernel holds were applied by the kernel before the TAP. */
static uint16_t verdict(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol,
			const struct spd_packet_key *key)
{
	if (likely(!pol) || pol->p.origin != IPSEC_ORIGIN_CLI || out_skipped(m))
		return SPD_LOCAL_NEXT_ACL_OUTPUT;
	switch (pol->verdict) {
	case SPD_BYPASS:
		return SPD_LOCAL_NEXT_ACL_OUTPUT;
	case SPD_PROTECT:
		return protect(worker, m, pol, key);
	case SPD_DISCARD:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_DISCARD, SPD_LOCAL_NEXT_DROP);
	default:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_NO_SA, SPD_LOCAL_NEXT_DROP);
	}
}

static void classify(struct worker *worker, struct rte_mbuf **pkts, uint16_t n, rte_edge_t *nexts)
{
	struct spd_packet_key keys[SPD_LOCAL_BULK];
	const struct spd_packet_key *refs[SPD_LOCAL_BULK];
	const struct spd_policy *pols[SPD_LOCAL_BULK];
	uint16_t at[SPD_LOCAL_BULK];
	unsigned count = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t family = frame_family(m);
		nexts[i] = SPD_LOCAL_NEXT_ACL_OUTPUT;
		if (!family)
			continue;
		m->l2_len = sizeof(struct rte_ether_hdr);
		pkt_meta(m)->family = family;
		if (unlikely(own_fragment(m, family))) {
			nexts[i] = SPD_LOCAL_NEXT_REASSEMBLE;
			continue;
		}
		spd_packet_key_of(&keys[count], m);
		refs[count] = &keys[count];
		at[count++] = i;
	}
	if (count == 0)
		return;
	spd_lookup_bulk(SPD_DIR_OUT, refs, pols, count);
	for (unsigned k = 0; k < count; k++) {
		struct rte_mbuf *m = pkts[at[k]];
		nexts[at[k]] = verdict(worker, m, pols[k], refs[k]);
		if (unlikely(pkt_meta(m)->flags & PKT_REASSEMBLED) &&
		    nexts[at[k]] == SPD_LOCAL_NEXT_ACL_OUTPUT)
			nexts[at[k]] = SPD_LOCAL_NEXT_FRAGMENT;
	}
}

static uint16_t spd_local_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb_objs)
{
	return node_process_chunks(graph, node, objs, nb_objs, SPD_LOCAL_BULK, classify);
}

static struct rte_node_register spd_local_node = {
	.name = NODE_SPD_LOCAL,
	.process = spd_local_process,
	.init = node_ctx_init_worker,
	.nb_edges = SPD_LOCAL_N_NEXT,
	.next_nodes = {
		[SPD_LOCAL_NEXT_ACL_OUTPUT] = NODE_ACL_OUTPUT,
		[SPD_LOCAL_NEXT_ENCRYPT] = NODE_ESP_ENCRYPT,
		[SPD_LOCAL_NEXT_DROP] = NODE_DROP,
		[SPD_LOCAL_NEXT_REASSEMBLE] = NODE_IP_REASSEMBLE,
		[SPD_LOCAL_NEXT_FRAGMENT] = NODE_IP_FRAGMENT,
	},
};

RTE_NODE_REGISTER(spd_local_node);
