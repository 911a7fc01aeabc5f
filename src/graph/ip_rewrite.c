/*
 * ip-rewrite: the last step of forwarding. Checks that the packet may leave
 * (TTL or hop limit, MTU, interface up, neighbor known), decrements the TTL
 * with an incremental checksum update (RFC 1624) and writes the Ethernet
 * header. What it cannot finish goes to the kernel, which sends the ICMP
 * error or resolves the neighbor; espd learns the neighbor from the kernel.
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
	IP_REWRITE_N_NEXT,
};

/* Returns the next edge; on forward, the neighbor key's address is filled. */
static uint16_t prepare(struct worker *worker, struct rte_mbuf *m, const struct iface *iface,
			struct ip_addr *neighbor)
{
	const struct nexthop *nexthop = fib_nexthop(pkt_meta(m)->nexthop);
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
	uint32_t l3_len;

	/* A tunnel header espd just built is the router's own packet: no hop
	 * is taken from it, as the kernel's output path takes none. */
	bool own = pkt_meta(m)->ipsec & PKT_IPSEC_ENCRYPTED;

	if (unlikely(!iface->up))
		return steer(worker, ESPD_COUNTER_IP_IFACE_DOWN, IP_REWRITE_NEXT_DROP);
	if (pkt_meta(m)->family == AF_INET) {
		struct rte_ipv4_hdr *ip = l3;
		if (unlikely(ip->time_to_live <= 1 && !own))
			return steer(worker, ESPD_COUNTER_IP_TTL_EXPIRED, IP_REWRITE_NEXT_PUNT);
		l3_len = rte_be_to_cpu_16(ip->total_length);
		if (nexthop->gw.family)
			*neighbor = nexthop->gw;
		else
			ip_addr_from_bytes(neighbor, AF_INET, &ip->dst_addr);
	} else {
		struct rte_ipv6_hdr *ip = l3;
		if (unlikely(ip->hop_limits <= 1 && !own))
			return steer(worker, ESPD_COUNTER_IP_TTL_EXPIRED, IP_REWRITE_NEXT_PUNT);
		l3_len = rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip);
		if (nexthop->gw.family)
			*neighbor = nexthop->gw;
		else
			ip_addr_from_bytes(neighbor, AF_INET6, ip->dst_addr);
	}
	if (unlikely(l3_len > iface->mtu))
		return steer(worker, ESPD_COUNTER_IP_MTU_EXCEEDED, IP_REWRITE_NEXT_PUNT);
	return IP_REWRITE_NEXT_OUTPUT;
}

static void rewrite(struct rte_mbuf *m, const struct iface *iface,
		    const struct rte_ether_addr *neighbor_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (!(pkt_meta(m)->ipsec & PKT_IPSEC_ENCRYPTED))
		ip_hop_decrement(l3, pkt_meta(m)->family);
	rte_ether_addr_copy(neighbor_mac, &eth->dst_addr);
	rte_ether_addr_copy(&iface->mac, &eth->src_addr);
	pkt_meta(m)->tx_port = iface->port_id;
}

static uint16_t forward_one(struct worker *worker, struct rte_mbuf *m)
{
	const struct nexthop *nexthop = fib_nexthop(pkt_meta(m)->nexthop);
	const struct iface *iface = &iface_table.ifaces[nexthop->iface];
	struct ip_addr neighbor;
	struct rte_ether_addr mac;

	uint16_t next = prepare(worker, m, iface, &neighbor);
	if (next != IP_REWRITE_NEXT_OUTPUT)
		return next;
	if (unlikely(!neigh_lookup(iface->index, &neighbor, &mac)))
		return steer(worker, ESPD_COUNTER_IP_NEIGHBOR_MISS, IP_REWRITE_NEXT_PUNT);
	rewrite(m, iface, &mac);
	return IP_REWRITE_NEXT_OUTPUT;
}

static uint16_t ip_rewrite_process(struct rte_graph *graph, struct rte_node *node, void **objs,
                                   uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, forward_one);
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
	},
};

RTE_NODE_REGISTER(ip_rewrite_node);
