/*
 * punt: hands a frame, unchanged, to the kernel through the TAP of the
 * interface it arrived on. The reason was counted by the node that decided.
 * An ESP packet espd built is the router's own: it is addressed to the TAP's
 * MAC, whatever Ethernet header its plaintext came with, so that the kernel
 * takes it in and sends it on.
 */
#include "graph/graph.h"

#include <rte_ether.h>

enum punt_next {
	PUNT_NEXT_OUTPUT,
	PUNT_N_NEXT,
};

static uint16_t punt_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb_objs)
{
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct pkt_meta *meta = pkt_meta(objs[i]);
		const struct iface *iface = &iface_table.ifaces[meta->rx_iface];
		meta->tx_port = iface->tap_port_id;
		if (unlikely(meta->ipsec & PKT_IPSEC_ENCRYPTED))
			rte_ether_addr_copy(&iface->mac, &rte_pktmbuf_mtod(
				(struct rte_mbuf *)objs[i], struct rte_ether_hdr *)->dst_addr);
	}
	rte_node_next_stream_move(graph, node, PUNT_NEXT_OUTPUT);
	return nb_objs;
}

static struct rte_node_register punt_node = {
	.name = NODE_PUNT,
	.process = punt_process,
	.nb_edges = PUNT_N_NEXT,
	.next_nodes = {
		[PUNT_NEXT_OUTPUT] = NODE_PORT_OUTPUT,
	},
};

RTE_NODE_REGISTER(punt_node);
