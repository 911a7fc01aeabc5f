/*
 * spd-output: the outbound policy lookup (the kernel's xfrm_lookup) for
 * packets leaving through espd, in bulk. ip-lookup sends packets here only
 * while some out policy exists. No policy or bypass: on as routed. Block:
 * drop. Protect with an SA espd runs: esp-encrypt. Protection espd cannot
 * give: the kernel's policies are punted for the kernel to apply; an
 * espd-only (CLI) policy drops, so nothing that needs IPsec leaves in clear.
 */
#include "graph/graph.h"

#include "graph/protect.h"

#define SPD_OUTPUT_BULK 64

enum spd_output_next {
	SPD_OUTPUT_NEXT_ENCRYPT,
	SPD_OUTPUT_NEXT_REWRITE,
	SPD_OUTPUT_NEXT_PUNT,
	SPD_OUTPUT_NEXT_DROP,
	SPD_OUTPUT_N_NEXT,
};

static uint16_t routed(struct worker *worker, const struct rte_mbuf *m)
{
	enum espd_counter why;

	if (ip_lookup_forwards(m, &why))
		return SPD_OUTPUT_NEXT_REWRITE;
	return steer(worker, why, SPD_OUTPUT_NEXT_PUNT);
}

/* Without a usable SA, the kernel applies its own policies; an espd-only
 * one drops. */
static uint16_t protect(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol)
{
	switch (protect_sa(worker, m, pol)) {
	case PROTECT_ENCRYPT:
		return SPD_OUTPUT_NEXT_ENCRYPT;
	case PROTECT_SEQ_OVERFLOW:
		return steer(worker, ESPD_COUNTER_SPD_OUT_SEQ_OVERFLOW, SPD_OUTPUT_NEXT_DROP);
	default:
		break;
	}
	if (pol->p.origin == IPSEC_ORIGIN_CLI)
		return steer(worker, ESPD_COUNTER_SPD_OUT_NO_SA, SPD_OUTPUT_NEXT_DROP);
	return steer(worker, ESPD_COUNTER_SPD_OUT_KERNEL, SPD_OUTPUT_NEXT_PUNT);
}

static uint16_t verdict(struct worker *worker, struct rte_mbuf *m, const struct spd_policy *pol)
{
	if (likely(!pol))
		return routed(worker, m);
	switch (pol->verdict) {
	case SPD_BYPASS:
		return routed(worker, m);
	case SPD_DISCARD:
		return steer(worker, ESPD_COUNTER_SPD_OUT_DISCARD, SPD_OUTPUT_NEXT_DROP);
	case SPD_PROTECT:
		return protect(worker, m, pol);
	case SPD_KERNEL:
		return steer(worker, ESPD_COUNTER_SPD_OUT_KERNEL, SPD_OUTPUT_NEXT_PUNT);
	default:
		return steer(worker, ESPD_COUNTER_SPD_OUT_NO_SA, SPD_OUTPUT_NEXT_DROP);
	}
}

static void classify(struct worker *worker, struct rte_mbuf **pkts, uint16_t n, rte_edge_t *nexts)
{
	struct spd_packet_key keys[SPD_OUTPUT_BULK];
	const struct spd_packet_key *refs[SPD_OUTPUT_BULK];
	const struct spd_policy *pols[SPD_OUTPUT_BULK];

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		/* ip4/ip6-input checked the header, so parsing cannot fail;
		 * a zero key would match only a policy for any traffic. */
		if (spd_packet_key_parse(&keys[i], rte_pktmbuf_mtod_offset(m, void *, m->l2_len),
					 rte_pktmbuf_data_len(m) - m->l2_len) != 0)
			keys[i].family = pkt_meta(m)->family;
		refs[i] = &keys[i];
	}
	spd_lookup_bulk(SPD_DIR_OUT, refs, pols, n);
	for (uint16_t i = 0; i < n; i++)
		nexts[i] = verdict(worker, pkts[i], pols[i]);
}

static uint16_t spd_output_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	rte_edge_t nexts[nb_objs];

	for (unsigned off = 0, n; off < nb_objs; off += n) {
		n = RTE_MIN(nb_objs - off, (unsigned)SPD_OUTPUT_BULK);
		classify(worker, (struct rte_mbuf **)objs + off, (uint16_t)n, nexts + off);
	}
	node_enqueue_burst(graph, node, nexts, objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register spd_output_node = {
	.name = NODE_SPD_OUTPUT,
	.process = spd_output_process,
	.init = node_ctx_init_worker,
	.nb_edges = SPD_OUTPUT_N_NEXT,
	.next_nodes = {
		[SPD_OUTPUT_NEXT_ENCRYPT] = NODE_ESP_ENCRYPT,
		[SPD_OUTPUT_NEXT_REWRITE] = NODE_IP_REWRITE,
		[SPD_OUTPUT_NEXT_PUNT] = NODE_PUNT,
		[SPD_OUTPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(spd_output_node);
