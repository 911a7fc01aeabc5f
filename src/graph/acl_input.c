/*
 * acl-input: the first node for frames from a device. The MAC and IP ACLs
 * bound to the interface on input decide before anything else, punt
 * included; denied frames are counted and dropped.
 */
#include "graph/graph.h"

#include "tables/acl.h"

/* Frames are filtered in sub-bursts of at most this many. */
#define ACL_NODE_BURST 256

enum acl_input_next {
	ACL_INPUT_NEXT_ETHERNET,
	ACL_INPUT_NEXT_DROP,
	ACL_INPUT_N_NEXT,
};

static uint16_t acl_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	uint16_t ifaces[ACL_NODE_BURST];

	/* No list bound in this direction: nothing to decide, not even which
	 * interface each packet belongs to. */
	if (likely(!acl_active_ifaces(ACL_DIR_INPUT))) {
		rte_node_next_stream_move(graph, node, ACL_INPUT_NEXT_ETHERNET);
		return nb_objs;
	}
	for (uint16_t off = 0, n; off < nb_objs; off += n) {
		void **burst = objs + off;
		struct rte_mbuf **pkts = (struct rte_mbuf **)burst;
		n = RTE_MIN((uint16_t)(nb_objs - off), (uint16_t)ACL_NODE_BURST);
		for (uint16_t i = 0; i < n; i++)
			ifaces[i] = pkt_meta(pkts[i])->rx_iface;
		uint16_t permitted = acl_filter_burst(worker->id, ACL_DIR_INPUT, ifaces, pkts, n);
		if (likely(permitted == nb_objs)) {
			rte_node_next_stream_move(graph, node, ACL_INPUT_NEXT_ETHERNET);
			return nb_objs;
		}
		if (permitted)
			rte_node_enqueue(graph, node, ACL_INPUT_NEXT_ETHERNET, burst, permitted);
		for (uint16_t i = permitted; i < n; i++)
			count_reason(worker, pkts[i], ESPD_COUNTER_ACL_INPUT_DENY);
		if (permitted < n)
			rte_node_enqueue(graph, node, ACL_INPUT_NEXT_DROP, burst + permitted,
					 n - permitted);
	}
	return nb_objs;
}

static struct rte_node_register acl_input_node = {
	.name = NODE_ACL_INPUT,
	.process = acl_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = ACL_INPUT_N_NEXT,
	.next_nodes = {
		[ACL_INPUT_NEXT_ETHERNET] = NODE_ETHERNET_INPUT,
		[ACL_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(acl_input_node);
