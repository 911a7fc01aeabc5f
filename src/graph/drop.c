/*
 * drop: frees packets. The reason was counted by the node that sent them
 * here, so this node only shows the total in `show runtime`.
 */
#include "graph/graph.h"

static uint16_t drop_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb_objs)
{
	RTE_SET_USED(graph);
	RTE_SET_USED(node);
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register drop_node = {
	.name = NODE_DROP,
	.process = drop_process,
	.init = node_ctx_init_worker, /* for the trace's trampoline, as every node */
};

RTE_NODE_REGISTER(drop_node);
