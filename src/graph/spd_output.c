/*
 * spd-output: the outbound policy lookup (the kernel's xfrm_lookup) for
 * packets leaving through espd, in bulk. ip-lookup sends packets here only
 * while some out policy exists and spd-input has nothing to check (that
 * node gives the out verdict itself to what it passes). No policy or bypass: on as routed. Block:
 * drop. Protect with an SA espd runs: esp-encrypt. Protection espd cannot
 * give: the kernel's policies are punted for the kernel to apply; an
 * espd-only (CLI) policy drops, so nothing that needs IPsec leaves in clear.
 */
#include "graph/graph.h"

#include "graph/protect.h"

#define SPD_OUTPUT_BULK 64

static void classify(struct worker *worker, struct rte_mbuf **pkts, uint16_t n, rte_edge_t *nexts)
{
	struct spd_packet_key keys[SPD_OUTPUT_BULK];
	const struct spd_packet_key *refs[SPD_OUTPUT_BULK];
	const struct spd_policy *pols[SPD_OUTPUT_BULK];
	bool no_xfrm = iface_table.any_no_xfrm;

	for (uint16_t i = 0; i < n; i++) {
		spd_packet_key_of(&keys[i], pkts[i]);
		refs[i] = &keys[i];
	}
	spd_lookup_bulk(SPD_DIR_OUT, refs, pols, n);
	for (uint16_t i = 0; i < n; i++)
		nexts[i] = spd_out_verdict(worker, pkts[i], &keys[i], pols[i], no_xfrm);
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
	.nb_edges = SPD_OUT_N_NEXT,
	.next_nodes = SPD_OUT_NEXT_NODES,
};

RTE_NODE_REGISTER(spd_output_node);
