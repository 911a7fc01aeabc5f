/*
 * ethernet-input: accepts frames addressed to the interface's MAC and sends
 * IPv4/IPv6 on; broadcast, multicast, ARP, VLAN and other ethertypes are the
 * kernel's business and are punted to the TAP.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>

enum ethernet_input_next {
	ETHERNET_INPUT_NEXT_IP4,
	ETHERNET_INPUT_NEXT_IP6,
	ETHERNET_INPUT_NEXT_PUNT,
	ETHERNET_INPUT_NEXT_DROP,
	ETHERNET_INPUT_N_NEXT,
};

static uint16_t classify(struct worker *worker, struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)))
		return steer(worker, m, ESPD_COUNTER_ETH_RUNT, ETHERNET_INPUT_NEXT_DROP);

	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct iface *iface = &iface_table.ifaces[pkt_meta(m)->rx_iface];
	uint16_t type = eth->ether_type;

	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &iface->mac))) {
		if (rte_is_multicast_ether_addr(&eth->dst_addr))
			return steer(worker, m, ESPD_COUNTER_ETH_BROADCAST,
				     ETHERNET_INPUT_NEXT_PUNT);
		return steer(worker, m, ESPD_COUNTER_ETH_NOT_FOR_US, ETHERNET_INPUT_NEXT_DROP);
	}
	m->l2_len = sizeof(*eth);
	if (likely(type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		pkt_meta(m)->family = AF_INET;
		return ETHERNET_INPUT_NEXT_IP4;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		pkt_meta(m)->family = AF_INET6;
		return ETHERNET_INPUT_NEXT_IP6;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return steer(worker, m, ESPD_COUNTER_ETH_ARP, ETHERNET_INPUT_NEXT_PUNT);
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ))
		return steer(worker, m, ESPD_COUNTER_ETH_VLAN, ETHERNET_INPUT_NEXT_PUNT);
	return steer(worker, m, ESPD_COUNTER_ETH_OTHER, ETHERNET_INPUT_NEXT_PUNT);
}

static uint16_t ethernet_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
                                       uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, classify);
}

static struct rte_node_register ethernet_input_node = {
	.name = NODE_ETHERNET_INPUT,
	.process = ethernet_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = ETHERNET_INPUT_N_NEXT,
	.next_nodes = {
		[ETHERNET_INPUT_NEXT_IP4] = NODE_IP4_INPUT,
		[ETHERNET_INPUT_NEXT_IP6] = NODE_IP6_INPUT,
		[ETHERNET_INPUT_NEXT_PUNT] = NODE_PUNT,
		[ETHERNET_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ethernet_input_node);
