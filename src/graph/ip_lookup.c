/*
 * ip-lookup: one FIB lookup per packet, in bulk per family, and the
 * decision it implies: forward via ip-rewrite, or punt to the kernel for
 * local delivery, routes espd does not own, blackholes and misses.
 *
 * IPsec: ESP and ESP-in-UDP addressed to the router go to ipsec-input,
 * fragments of ESP or UDP for the router to ip-reassemble first (all of
 * them while policies are checked: local_ipsec), and ICMP
 * errors saying a packet was too big to icmp-too-big on their way to the
 * kernel (after spd-input, when it checks plaintext).
 * While outbound policies exist, packets that may leave (forward, kernel
 * route, miss) pass spd-output first; while an in/fwd policy requires
 * IPsec, and for every decrypted packet, spd-input checks first. Packets
 * esp-encrypt built come back here for their outer destination only.
 * While some interface has forwarding off or rp_filter on, the input
 * interface of each packet has its say first (decide_checked).
 * A multipath route's result becomes, first of all, the member the
 * packet's flow takes (fib_select_multipath, fib6_select_path).
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include "tables/fib.h"
#include "tables/spd.h"

enum ip_lookup_next {
	IP_LOOKUP_NEXT_REWRITE,
	IP_LOOKUP_NEXT_PUNT,
	IP_LOOKUP_NEXT_SPD_OUTPUT,
	IP_LOOKUP_NEXT_SPD_INPUT,
	IP_LOOKUP_NEXT_IPSEC_INPUT,
	IP_LOOKUP_NEXT_REASSEMBLE,
	IP_LOOKUP_NEXT_ICMP_TOO_BIG,
	IP_LOOKUP_NEXT_DROP,
	IP_LOOKUP_N_NEXT,
};

/*
 * The flow hash of a packet on a multipath route (flow_hash.h). An ESP
 * packet espd built leaves by the path esp-encrypt sized it for
 * (fib_lookup_flow), as the kernel sends it by its bundle's route, looked
 * up by the SA's addresses alone (xfrm_dst_lookup).
 */
uint32_t ip_lookup_flow_hash(const struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta((struct rte_mbuf *)m);
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	struct ip_addr src, dst;

	if (meta->flags & PKT_IPSEC_ENCRYPTED) {
		ip_source_of(l3, meta->family, &src);
		ip_dest_of(l3, meta->family, &dst);
		return flow_hash_addrs(&src, &dst);
	}
	return flow_hash_packet(l3, rte_pktmbuf_data_len(m) - m->l2_len, meta->family,
				meta->flags & PKT_OWN);
}

/* Each packet's lookup result, at[0..n) in objs, made the path it takes. */
static inline void paths_select(void **objs, const uint16_t *at, uint32_t *result, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		result[k] = pkt_route_select(objs[at[k]], result[k]);
}

/* Inlined into this node's loop; spd-input and spd-output call it through
 * ip_lookup_forwards(). */
static __rte_always_inline bool forwards(uint32_t nexthop_index, enum espd_counter *why)
{
	switch (fib_nexthop_type(nexthop_index)) {
	case NEXTHOP_FORWARD:
		return true;
	case NEXTHOP_MISS:
		*why = ESPD_COUNTER_IP_NO_ROUTE;
		return false;
	case NEXTHOP_LOCAL:
		*why = ESPD_COUNTER_IP_LOCAL;
		return false;
	case NEXTHOP_PUNT:
		*why = ESPD_COUNTER_IP_KERNEL_ROUTE;
		return false;
	default:
		*why = ESPD_COUNTER_IP_BLACKHOLE;
		return false;
	}
}

bool ip_lookup_forwards(const struct rte_mbuf *m, enum espd_counter *why)
{
	return forwards(pkt_meta((struct rte_mbuf *)m)->nexthop, why);
}

static __rte_always_inline uint16_t route(struct worker *worker, struct rte_mbuf *m,
					  uint32_t nexthop_index)
{
	enum espd_counter why;

	if (likely(forwards(nexthop_index, &why)))
		return IP_LOOKUP_NEXT_REWRITE;
	return steer(worker, m, why, IP_LOOKUP_NEXT_PUNT);
}

/* ESP or UDP in fragments: which of them carry ESP only the whole packet
 * tells (a UDP port is in the first fragment alone). */
static bool ipsec_carrier(uint8_t proto)
{
	return proto == IPPROTO_ESP || proto == IPPROTO_UDP;
}

/*
 * ESP (RFC 4303) or UDP to port 4500 (RFC 3948) for the router: ipsec-input's;
 * fragments of ESP or UDP go to ip-reassemble first, as the kernel
 * reassembles before xfrm_input, and so do all fragments while espd checks
 * plaintext against in-policies (checked): the kernel looks its policies up
 * for the whole datagram (ip_local_deliver reassembles before the transport
 * protocol's xfrm4_policy_check), and a fragment shows no ports. IPv6 ESP
 * behind other extension headers is left to the kernel. Anything else:
 * IP_LOOKUP_N_NEXT.
 */
static uint16_t local_ipsec(const struct rte_mbuf *m, bool checked)
{
	uint8_t proto;

	if (unlikely(pkt_reassemblable(m, &proto)))
		return checked || ipsec_carrier(proto) ? IP_LOOKUP_NEXT_REASSEMBLE
						       : IP_LOOKUP_N_NEXT;
	return ip_carries_ipsec(m, proto) ? IP_LOOKUP_NEXT_IPSEC_INPUT : IP_LOOKUP_N_NEXT;
}

/* A decrypted packet is checked against its SA and policies as a whole
 * datagram when it is for the router, for the same reason. */
static uint16_t decrypted(const struct rte_mbuf *m, uint8_t type)
{
	uint8_t proto;

	if (type == NEXTHOP_LOCAL && unlikely(pkt_reassemblable(m, &proto)))
		return IP_LOOKUP_NEXT_REASSEMBLE;
	return IP_LOOKUP_NEXT_SPD_INPUT;
}

static __rte_always_inline uint16_t decide(struct worker *worker, struct rte_mbuf *m,
					  uint32_t nexthop_index, uint8_t spd_flags)
{
	struct pkt_meta *meta = pkt_meta(m);
	uint8_t type = fib_nexthop_type(nexthop_index);

	meta->nexthop = nexthop_index;
	if (unlikely(meta->flags & PKT_IPSEC)) {
		if (meta->flags & PKT_IPSEC_ENCRYPTED)
			return route(worker, m, nexthop_index);
		return decrypted(m, type);
	}
	if (type == NEXTHOP_LOCAL) {
		uint16_t next = local_ipsec(m, spd_flags & SPD_FLAG_PLAINTEXT);
		if (next != IP_LOOKUP_N_NEXT)
			return next;
	}
	if (type == NEXTHOP_BLACKHOLE)
		return route(worker, m, nexthop_index);
	if (unlikely(spd_flags & SPD_FLAG_PLAINTEXT))
		return IP_LOOKUP_NEXT_SPD_INPUT;
	if (type != NEXTHOP_LOCAL && (spd_flags & SPD_FLAG_DIR(SPD_DIR_OUT)))
		return IP_LOOKUP_NEXT_SPD_OUTPUT;
	if (type == NEXTHOP_LOCAL && unlikely(pkt_icmp_too_big(m)))
		return IP_LOOKUP_NEXT_ICMP_TOO_BIG;
	return route(worker, m, nexthop_index);
}

/* The router's own packets were not received: nothing to check. */
static inline bool received(const struct pkt_meta *meta)
{
	return !(meta->flags & (PKT_OWN | PKT_IPSEC_ENCRYPTED));
}

/* With forwarding off on the input interface (IPv6: all's), the kernel
 * drops without an answer an IPv4 packet not for the router (ip_error) and
 * an IPv6 one with a route on (ip6_forward); IPv6's unreachable routes
 * still answer. */
static bool forwarding_refuses(const struct pkt_meta *meta, const struct iface *in, uint8_t type)
{
	if (type == NEXTHOP_LOCAL || !received(meta))
		return false;
	if (meta->family == AF_INET)
		return !in->forwarding4;
	return !iface_table.forwarding6 && (type == NEXTHOP_FORWARD || type == NEXTHOP_PUNT);
}

/* fib_validate_source runs with rp_filter for IPv4 routed on or to the
 * router, but not for a decrypted packet (it has a secpath). */
static bool rp_filter_asks(const struct pkt_meta *meta, const struct iface *in, uint8_t type)
{
	return meta->family == AF_INET && in->rp_filter != IFACE_RP_FILTER_OFF &&
	       !(meta->flags & PKT_IPSEC) && received(meta) && type != NEXTHOP_MISS &&
	       type != NEXTHOP_BLACKHOLE;
}

/* The route back to the source: strict wants it out of the input
 * interface, of a multipath route by any hop (fib_info_nh_uses_dev), loose
 * any unicast route (a local, blackhole or missing one fails both). */
static bool rp_filter_passes(const struct iface *in, uint32_t back_index)
{
	back_index = fib_route_by_iface(back_index, in->index);
	uint8_t type = fib_nexthop_type(back_index);

	if (in->rp_filter == IFACE_RP_FILTER_STRICT)
		return type == NEXTHOP_FORWARD && fib_nexthop(back_index)->iface == in->index;
	return type == NEXTHOP_FORWARD || type == NEXTHOP_PUNT;
}

static uint32_t source4(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len)->src_addr;
}

/* decide() after the checks of the input interface, for the packets of
 * one family, at[0..n) in objs, their lookup results in result. */
static void decide_checked(struct worker *worker, void **objs, const uint16_t *at,
			   const uint32_t *result, unsigned n, uint8_t spd_flags, rte_edge_t *nexts)
{
	uint32_t source[n], back[n];
	uint16_t asked[n];
	unsigned n_asked = 0;

	for (unsigned k = 0; k < n; k++) {
		struct rte_mbuf *m = objs[at[k]];
		const struct pkt_meta *meta = pkt_meta(m);
		const struct iface *in = &iface_table.ifaces[meta->rx_iface];
		uint8_t type = fib_nexthop_type(result[k]);
		if (forwarding_refuses(meta, in, type)) {
			nexts[at[k]] = steer(worker, m, ESPD_COUNTER_IP_FORWARDING_OFF,
					     IP_LOOKUP_NEXT_DROP);
		} else if (rp_filter_asks(meta, in, type)) {
			source[n_asked] = source4(m);
			asked[n_asked++] = (uint16_t)k;
		} else {
			nexts[at[k]] = decide(worker, m, result[k], spd_flags);
		}
	}
	if (n_asked)
		fib_lookup4_bulk(source, back, n_asked);
	for (unsigned j = 0; j < n_asked; j++) {
		unsigned k = asked[j];
		struct rte_mbuf *m = objs[at[k]];
		if (rp_filter_passes(&iface_table.ifaces[pkt_meta(m)->rx_iface], back[j]))
			nexts[at[k]] = decide(worker, m, result[k], spd_flags);
		else
			nexts[at[k]] = steer(worker, m, ESPD_COUNTER_IP_RP_FILTER,
					     IP_LOOKUP_NEXT_DROP);
	}
}

static uint16_t ip_lookup_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	uint32_t dst4[nb_objs], result4[nb_objs], result6[nb_objs];
	uint8_t dst6[nb_objs][16];
	uint16_t at4[nb_objs], at6[nb_objs];
	rte_edge_t nexts[nb_objs];
	unsigned n4 = 0, n6 = 0;
	/* Read once per burst: a policy change applies from the next one. */
	uint8_t spd_flags = __atomic_load_n(&spd_published_flags, __ATOMIC_ACQUIRE);
	bool ingress_checks = iface_table.ingress_checks;

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		if (pkt_meta(m)->family == AF_INET) {
			const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
				m, const struct rte_ipv4_hdr *, m->l2_len);
			dst4[n4] = ip->dst_addr;
			at4[n4++] = i;
		} else {
			const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(
				m, const struct rte_ipv6_hdr *, m->l2_len);
			memcpy(dst6[n6], ip->dst_addr, 16);
			at6[n6++] = i;
		}
	}
	if (n4) {
		fib_lookup4_bulk(dst4, result4, n4);
		paths_select(objs, at4, result4, n4);
	}
	if (n6) {
		fib_lookup6_bulk((const uint8_t (*)[16])dst6, result6, n6);
		paths_select(objs, at6, result6, n6);
	}
	if (unlikely(ingress_checks)) {
		if (n4)
			decide_checked(worker, objs, at4, result4, n4, spd_flags, nexts);
		if (n6)
			decide_checked(worker, objs, at6, result6, n6, spd_flags, nexts);
	} else {
		for (unsigned k = 0; k < n4; k++)
			nexts[at4[k]] = decide(worker, objs[at4[k]], result4[k], spd_flags);
		for (unsigned k = 0; k < n6; k++)
			nexts[at6[k]] = decide(worker, objs[at6[k]], result6[k], spd_flags);
	}
	node_enqueue_burst(graph, node, nexts, objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register ip_lookup_node = {
	.name = NODE_IP_LOOKUP,
	.process = ip_lookup_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP_LOOKUP_N_NEXT,
	.next_nodes = {
		[IP_LOOKUP_NEXT_REWRITE] = NODE_IP_REWRITE,
		[IP_LOOKUP_NEXT_PUNT] = NODE_PUNT,
		[IP_LOOKUP_NEXT_SPD_OUTPUT] = NODE_SPD_OUTPUT,
		[IP_LOOKUP_NEXT_SPD_INPUT] = NODE_SPD_INPUT,
		[IP_LOOKUP_NEXT_IPSEC_INPUT] = NODE_IPSEC_INPUT,
		[IP_LOOKUP_NEXT_REASSEMBLE] = NODE_IP_REASSEMBLE,
		[IP_LOOKUP_NEXT_ICMP_TOO_BIG] = NODE_ICMP_TOO_BIG,
		[IP_LOOKUP_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ip_lookup_node);
