/*
 * punt: hands a frame, unchanged, to the kernel through the TAP of the
 * interface it arrived on. The reason was counted by the node that decided.
 * An ESP packet espd built is the router's own: it is addressed to the TAP's
 * MAC, whatever Ethernet header its plaintext came with, so that the kernel
 * takes it in and sends it on.
 *
 * The TAP refuses frames above its MTU (and DPDK's TAP PMD above 1500, even
 * on a jumbo link): an IPv4 packet af_packet ports hand in reassembled
 * (their socket defragments), one ip-reassemble made, or a jumbo frame.
 * ip-fragment cuts such a packet to that size first, as fragments the
 * kernel takes.
 */
#include "graph/graph.h"

#include <rte_ether.h>

enum punt_next {
	PUNT_NEXT_OUTPUT,
	PUNT_NEXT_FRAGMENT,
	PUNT_N_NEXT,
};

static uint16_t punt_one(struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta(m);
	const struct iface *iface = &iface_table.ifaces[meta->rx_iface];

	if (unlikely(meta->family && !(meta->flags & PKT_PUNT_FRAGMENT) &&
		     !pkt_fits_tap(m, rte_pktmbuf_pkt_len(m) - m->l2_len))) {
		meta->flags |= PKT_PUNT_FRAGMENT;
		return PUNT_NEXT_FRAGMENT;
	}
	meta->tx_port = iface->tap_port_id;
	if (unlikely(meta->flags & PKT_IPSEC_ENCRYPTED))
		rte_ether_addr_copy(&iface->mac,
				    &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr);
	return PUNT_NEXT_OUTPUT;
}

static uint16_t punt_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb_objs)
{
	rte_edge_t nexts[nb_objs];

	for (uint16_t i = 0; i < nb_objs; i++)
		nexts[i] = punt_one(objs[i]);
	node_enqueue_burst(graph, node, nexts, objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register punt_node = {
	.name = NODE_PUNT,
	.process = punt_process,
	.nb_edges = PUNT_N_NEXT,
	.next_nodes = {
		[PUNT_NEXT_OUTPUT] = NODE_PORT_OUTPUT,
		[PUNT_NEXT_FRAGMENT] = NODE_IP_FRAGMENT,
	},
};

RTE_NODE_REGISTER(punt_node);
