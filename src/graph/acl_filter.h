/*
 * What acl-input and acl-output share: a node that passes its packets
 * through the ACLs bound, in its direction, to each packet's interface,
 * sends the permitted on and counts and drops the denied.
 */
#ifndef ESPD_GRAPH_ACL_FILTER_H
#define ESPD_GRAPH_ACL_FILTER_H

#include "graph/graph.h"
#include "tables/acl.h"

/* Packets are filtered in sub-bursts of at most this many. */
#define ACL_FILTER_BURST 256

struct acl_filter {
	enum acl_dir dir;
	uint16_t (*iface_of)(struct rte_mbuf *m);
	rte_edge_t permit;
	rte_edge_t drop;
	enum espd_counter denied;
};

/* Inlined into each node with its constant filter. */
static __rte_always_inline uint16_t
acl_filter_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs,
		   const struct acl_filter *f)
{
	struct worker *worker = node_worker(node);
	uint16_t ifaces[ACL_FILTER_BURST];

	/* No list bound in this direction: nothing to decide, not even which
	 * interface each packet belongs to. */
	if (likely(!acl_active_ifaces(f->dir))) {
		rte_node_next_stream_move(graph, node, f->permit);
		return nb_objs;
	}
	for (uint16_t off = 0, n; off < nb_objs; off += n) {
		void **burst = objs + off;
		struct rte_mbuf **pkts = (struct rte_mbuf **)burst;
		n = RTE_MIN((uint16_t)(nb_objs - off), (uint16_t)ACL_FILTER_BURST);
		for (uint16_t i = 0; i < n; i++)
			ifaces[i] = f->iface_of(pkts[i]);
		uint16_t permitted = acl_filter_burst(worker->id, f->dir, ifaces, pkts, n);
		if (likely(permitted == nb_objs)) {
			rte_node_next_stream_move(graph, node, f->permit);
			return nb_objs;
		}
		if (permitted)
			rte_node_enqueue(graph, node, f->permit, burst, permitted);
		for (uint16_t i = permitted; i < n; i++)
			count_reason(worker, pkts[i], f->denied);
		if (permitted < n)
			rte_node_enqueue(graph, node, f->drop, burst + permitted, n - permitted);
	}
	return nb_objs;
}

#endif
