/*
 * acl-output: the IP ACLs bound on output to the interface a packet leaves
 * by, for forwarded packets and for frames the kernel sends through a TAP,
 * just before transmission; denied packets are counted and dropped.
 */
#include "graph/graph.h"

#include "tables/acl.h"

/* Packets are filtered in sub-bursts of at most this many. */
#define ACL_NODE_BURST 256

enum acl_output_next {
	ACL_OUTPUT_NEXT_PORT_OUTPUT,
	ACL_OUTPUT_NEXT_DROP,
	ACL_OUTPUT_N_NEXT,
};

/* The interface of the port the packet is about to be sent on. */
static inline uint16_t output_iface(struct rte_mbuf *m)
{
	uint16_t port = pkt_meta(m)->tx_port;
	return port < RTE_MAX_ETHPORTS ? iface_table.by_port[port] : IFACE_NONE;
}

static uint16_t acl_output_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	uint16_t ifaces[ACL_NODE_BURST];

	/* No list bound in this direction: nothing to decide, not even which
	 * interface each packet belongs to. */
	if (likely(!acl_active_ifaces(ACL_DIR_OUTPUT))) {
		rte_node_next_stream_move(graph, node, ACL_OUTPUT_NEXT_PORT_OUTPUT);
		return nb_objs;
	}
	for (uint16_t off = 0, n; off < nb_objs; off += n) {
		void **burst = objs + off;
		struct rte_mbuf **pkts = (struct rte_mbuf **)burst;
		n = RTE_MIN((uint16_t)(nb_objs - off), (uint16_t)ACL_NODE_BURST);
		for (uint16_t i = 0; i < n; i++)
			ifaces[i] = output_iface(pkts[i]);
		uint16_t permitted = acl_filter_burst(worker->id, ACL_DIR_OUTPUT, ifaces, pkts, n);
		if (likely(permitted == nb_objs)) {
			rte_node_next_stream_move(graph, node, ACL_OUTPUT_NEXT_PORT_OUTPUT);
			return nb_objs;
		}
		if (permitted)
			rte_node_enqueue(graph, node, ACL_OUTPUT_NEXT_PORT_OUTPUT, burst,
					 permitted);
		for (uint16_t i = permitted; i < n; i++)
			count_reason(worker, pkts[i], ESPD_COUNTER_ACL_OUTPUT_DENY);
		if (permitted < n)
			rte_node_enqueue(graph, node, ACL_OUTPUT_NEXT_DROP, burst + permitted,
					 n - permitted);
	}
	return nb_objs;
}

static struct rte_node_register acl_output_node = {
	.name = NODE_ACL_OUTPUT,
	.process = acl_output_process,
	.init = node_ctx_init_worker,
	.nb_edges = ACL_OUTPUT_N_NEXT,
	.next_nodes = {
		[ACL_OUTPUT_NEXT_PORT_OUTPUT] = NODE_PORT_OUTPUT,
		[ACL_OUTPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(acl_output_node);
