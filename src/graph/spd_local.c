/*
 * spd-local: the outbound policy lookup for the router's own packets,
 * which the kernel sends into a TAP. The kernel applies the policies it
 * holds itself, but not the espd-only (CLI) ones: without this node a
 * packet of the router's own matching such a policy would leave in clear.
 * port-input sends TAP frames here only while an espd-only out policy
 * exists. Protect with an SA espd runs: esp-encrypt, which builds the
 * tunnel or transport header and routes the result. Block, or protection
 * without a usable SA: drop. Anything else goes out as the kernel built it.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>
#include "graph/protect.h"

#define SPD_LOCAL_BULK 64

enum spd_local_next {
	SPD_LOCAL_NEXT_ACL_OUTPUT,
	SPD_LOCAL_NEXT_ENCRYPT,
	SPD_LOCAL_NEXT_DROP,
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

static uint16_t protect(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol)
{
	switch (protect_sa(worker, m, pol)) {
	case PROTECT_ENCRYPT:
		return SPD_LOCAL_NEXT_ENCRYPT;
	case PROTECT_SEQ_OVERFLOW:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_SEQ_OVERFLOW, SPD_LOCAL_NEXT_DROP);
	default:
		return steer(worker, m, ESPD_COUNTER_SPD_LOCAL_NO_SA, SPD_LOCAL_NEXT_DROP);
	}
}

/* Policies the kernel holds were applied by the kernel before the TAP. */
static uint16_t verdict(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol)
{
	if (likely(!pol) || pol->p.origin != IPSEC_ORIGIN_CLI)
		return SPD_LOCAL_NEXT_ACL_OUTPUT;
	switch (pol->verdict) {
	case SPD_BYPASS:
		return SPD_LOCAL_NEXT_ACL_OUTPUT;
	case SPD_PROTECT:
		return protect(worker, m, pol);
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
		spd_packet_key_of(&keys[count], m);
		refs[count] = &keys[count];
		at[count++] = i;
	}
	if (count == 0)
		return;
	spd_lookup_bulk(SPD_DIR_OUT, refs, pols, count);
	for (unsigned k = 0; k < count; k++)
		nexts[at[k]] = verdict(worker, pkts[at[k]], pols[k]);
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
	},
};

RTE_NODE_REGISTER(spd_local_node);
