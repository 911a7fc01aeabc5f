/*
 * acl-output: the IP ACLs bound on output to the interface a packet leaves
 * by, for forwarded packets and for frames the kernel sends through a TAP,
 * just before transmission; denied packets are counted and dropped.
 */
#include "graph/acl_filter.h"

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
	static const struct acl_filter filter = {
		.dir = ACL_DIR_OUTPUT,
		.iface_of = output_iface,
		.permit = ACL_OUTPUT_NEXT_PORT_OUTPUT,
		.drop = ACL_OUTPUT_NEXT_DROP,
		.denied = ESPD_COUNTER_ACL_OUTPUT_DENY,
	};

	return acl_filter_process(graph, node, objs, nb_objs, &filter);
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
