/*
 * ip-lookup: one FIB lookup per packet, in bulk per family, and the
 * decision it implies: forward via ip-rewrite, or punt to the kernel for
 * local delivery, routes espd does not own, blackholes and misses.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ip.h>
#include "tables/fib.h"

enum ip_lookup_next {
	IP_LOOKUP_NEXT_REWRITE,
	IP_LOOKUP_NEXT_PUNT,
	IP_LOOKUP_N_NEXT,
};

static uint16_t decide(struct worker *worker, struct rte_mbuf *m, uint32_t nexthop_index)
{
	if (unlikely(nexthop_index == FIB_MISS))
		return steer(worker, ESPD_COUNTER_IP_NO_ROUTE, IP_LOOKUP_NEXT_PUNT);
	pkt_meta(m)->nexthop = nexthop_index;
	switch (fib_nexthop(nexthop_index)->type) {
	case NEXTHOP_FORWARD:
		return IP_LOOKUP_NEXT_REWRITE;
	case NEXTHOP_LOCAL:
		return steer(worker, ESPD_COUNTER_IP_LOCAL, IP_LOOKUP_NEXT_PUNT);
	case NEXTHOP_PUNT:
		return steer(worker, ESPD_COUNTER_IP_KERNEL_ROUTE, IP_LOOKUP_NEXT_PUNT);
	default:
		return steer(worker, ESPD_COUNTER_IP_BLACKHOLE, IP_LOOKUP_NEXT_PUNT);
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
	if (n4)
		fib_lookup4_bulk(dst4, result4, n4);
	if (n6)
		fib_lookup6_bulk((const uint8_t (*)[16])dst6, result6, n6);
	for (unsigned k = 0; k < n4; k++)
		nexts[at4[k]] = decide(worker, objs[at4[k]], result4[k]);
	for (unsigned k = 0; k < n6; k++)
		nexts[at6[k]] = decide(worker, objs[at6[k]], result6[k]);
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
	},
};

RTE_NODE_REGISTER(ip_lookup_node);
