/*
 * acl-input: the first node for frames from a device. The MAC and IP ACLs
 * bound to the interface on input decide before anything else, punt
 * included; denied frames are counted and dropped.
 */
#include "graph/acl_filter.h"

enum acl_input_next {
	ACL_INPUT_NEXT_ETHERNET,
	ACL_INPUT_NEXT_DROP,
	ACL_INPUT_N_NEXT,
};

static inline uint16_t input_iface(struct rte_mbuf *m)
{
	return pkt_meta(m)->rx_iface;
}

static uint16_t acl_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb_objs)
{
	static const struct acl_filter filter = {
		.dir = ACL_DIR_INPUT,
		.iface_of = input_iface,
		.permit = ACL_INPUT_NEXT_ETHERNET,
		.drop = ACL_INPUT_NEXT_DROP,
		.denied = ESPD_COUNTER_ACL_INPUT_DENY,
	};

	return acl_filter_process(graph, node, objs, nb_objs, &filter);
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
