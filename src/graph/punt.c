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
 *
 * A decrypted packet that ip4/ip6-input leaves to the kernel (options,
 * multicast, link-local) never met spd-input's check: it must still match
 * its SA's selector (xfrm_selector_match), or one SA's keys would carry
 * any packet into the router; with flag icmp, an ICMP error may match it
 * by the flow it quotes instead.
 */
#include "graph/graph.h"
#include "graph/protect.h"

#include <rte_ether.h>

enum punt_next {
	PUNT_NEXT_OUTPUT,
	PUNT_NEXT_FRAGMENT,
	PUNT_NEXT_DROP,
	PUNT_N_NEXT,
};

/* PUNT_N_NEXT: on to the kernel; else the drop, counted. */
static uint16_t decrypted_check(struct worker *worker, struct rte_mbuf *m)
{
	const struct sa *sa = sad_sa_held(pkt_meta(m)->sa_index);
	struct spd_packet_key key;

	if (unlikely(!sa))
		return steer(worker, m, ESPD_COUNTER_PUNT_SA_GONE, PUNT_NEXT_DROP);
	if (iface_table.any_no_policy && iface_no_policy(m))
		return PUNT_N_NEXT;
	spd_packet_key_of(&key, m);
	if (likely(spd_selector_match(&sa->rt.sel, &key)) || spd_sa_takes_icmp_error(sa, &key, m))
		return PUNT_N_NEXT;
	sa_count_error(worker->id, sa->rt.index, SA_ERROR_SELECTOR);
	return steer(worker, m, ESPD_COUNTER_PUNT_SELECTOR, PUNT_NEXT_DROP);
}

static uint16_t punt_one(struct worker *worker, struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta(m);
	const struct iface *iface = &iface_table.ifaces[meta->rx_iface];

	if (unlikely(meta->flags & PKT_IPSEC_DECRYPTED)) {
		uint16_t next = decrypted_check(worker, m);
		if (next != PUNT_N_NEXT)
			return next;
		/* Checked: its fragments, if the TAP needs them, are not again. */
		meta->flags &= (uint8_t)~PKT_IPSEC_DECRYPTED;
	}
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
	return node_process_each(graph, node, objs, nb_objs, punt_one);
}

static struct rte_node_register punt_node = {
	.name = NODE_PUNT,
	.process = punt_process,
	.init = node_ctx_init_worker,
	.nb_edges = PUNT_N_NEXT,
	.next_nodes = {
		[PUNT_NEXT_OUTPUT] = NODE_PORT_OUTPUT,
		[PUNT_NEXT_FRAGMENT] = NODE_IP_FRAGMENT,
		[PUNT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(punt_node);
