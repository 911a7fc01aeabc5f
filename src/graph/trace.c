/*
 * Packet trace, the worker side (trace.h): the budget, the tags in
 * pkt_meta.trace, the trampoline that records node visits, and the
 * per-worker buffers. Nothing here decodes a packet: a visit keeps the
 * frame's first bytes and the metadata, for the control thread to decode.
 */
#include "graph/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include "graph/worker.h"

#define TRACE_NODES_MAX 64

uint32_t trace_budget;

static struct {
	struct trace_buffer *buffers[ESPD_WORKERS_MAX];
	rte_node_process_t original[TRACE_NODES_MAX]; /* by node id, while installed */
	bool installed;
} trace;

static bool budget_take(void)
{
	uint32_t left = __atomic_load_n(&trace_budget, __ATOMIC_RELAXED);

	while (left && !__atomic_compare_exchange_n(&trace_budget, &left, left - 1, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return left != 0;
}

static void visit_fill(struct trace_visit *v, rte_node_t node, struct rte_mbuf *m, uint64_t tsc)
{
	const struct pkt_meta *meta = pkt_meta(m);

	v->tsc = tsc;
	v->node = (uint16_t)node;
	v->pkt_len = rte_pktmbuf_pkt_len(m);
	v->sa_index = meta->sa_index;
	v->why = meta->why;
	v->rx_iface = meta->rx_iface;
	v->family = meta->family;
	v->flags = meta->flags;
	/* The first segment holds at least the headers a trace shows. */
	v->n_bytes = (uint8_t)RTE_MIN(rte_pktmbuf_data_len(m), (uint32_t)TRACE_BYTES);
	memcpy(v->bytes, rte_pktmbuf_mtod(m, const uint8_t *), v->n_bytes);
}

static void visit_record(struct trace_buffer *buf, rte_node_t node, struct rte_mbuf *m,
			 uint64_t tsc)
{
	uint32_t slot = pkt_meta(m)->trace - 1u;
	struct trace_packet *p;

	/* A tag from a trace cleared since (a fragment held for reassembly). */
	if (slot >= buf->n_packets)
		return;
	p = &buf->packets[slot];
	if (p->n_visits >= TRACE_VISITS_MAX) {
		p->visits_lost++;
		return;
	}
	visit_fill(&p->visits[p->n_visits], node, m, tsc);
	__atomic_store_n(&p->n_visits, p->n_visits + 1, __ATOMIC_RELEASE);
}

void trace_tag(struct worker *worker, rte_node_t node, struct rte_mbuf **pkts, uint16_t n)
{
	struct trace_buffer *buf = trace.buffers[worker->id];
	uint64_t tsc = rte_rdtsc();

	for (uint16_t i = 0; i < n && buf && budget_take(); i++) {
		if (buf->n_packets >= TRACE_PACKETS_MAX) {
			__atomic_store_n(&buf->packets_lost, buf->packets_lost + 1,
					 __ATOMIC_RELAXED);
			continue;
		}
		struct pkt_meta *meta = pkt_meta(pkts[i]);
		uint32_t slot = buf->n_packets;
		buf->packets[slot].n_visits = 0;
		buf->packets[slot].visits_lost = 0;
		meta->trace = (uint16_t)(slot + 1);
		/* Only a traced packet's reason is read: set it for those alone. */
		meta->why = TRACE_NO_REASON;
		__atomic_store_n(&buf->n_packets, slot + 1, __ATOMIC_RELEASE);
		visit_record(buf, node, pkts[i], tsc);
	}
}

/* In front of every node but the source while a trace is on: record the
 * traced packets of the burst as the node receives them, then run it. */
static uint16_t trace_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	struct trace_buffer *buf = trace.buffers[node_worker(node)->id];
	uint64_t tsc = rte_rdtsc();

	for (uint16_t i = 0; i < nb_objs && buf; i++)
		if (pkt_meta(objs[i])->trace)
			visit_record(buf, node->id, objs[i], tsc);
	return trace.original[node->id](graph, node, objs, nb_objs);
}

/* Swap every traced node's process function in every worker's graph:
 * installing, to trace_process; else back to its own. */
static void trampolines_set(bool install)
{
	rte_node_t source = rte_node_from_name(NODE_PORT_INPUT);

	for (unsigned w = 0; w < n_workers; w++) {
		struct rte_graph *graph = workers[w].graph;
		struct rte_node *node;
		rte_graph_off_t off;
		rte_node_t count;

		rte_graph_foreach_node(count, off, graph, node) {
			if (node->id == source || node->id >= TRACE_NODES_MAX)
				continue;
			if (install && w == 0)
				trace.original[node->id] = node->process;
			__atomic_store_n(&node->process, install ? trace_process
							 : trace.original[node->id],
					 __ATOMIC_RELEASE);
		}
	}
	trace.installed = install;
}

static int buffers_alloc(void)
{
	for (unsigned w = 0; w < n_workers; w++) {
		if (trace.buffers[w])
			continue;
		trace.buffers[w] = calloc(1, sizeof(*trace.buffers[w]));
		if (!trace.buffers[w])
			return -ENOMEM;
	}
	return 0;
}

int trace_add(uint32_t n)
{
	uint32_t left = __atomic_load_n(&trace_budget, __ATOMIC_RELAXED);
	int rc;

	if (n == 0 || left + n > TRACE_BUDGET_MAX)
		return -ERANGE;
	rc = buffers_alloc();
	if (rc < 0)
		return rc;
	/* The trampolines first: a packet tagged is recorded at every node. */
	if (!trace.installed)
		trampolines_set(true);
	__atomic_fetch_add(&trace_budget, n, __ATOMIC_RELEASE);
	return 0;
}

void trace_clear(void)
{
	__atomic_store_n(&trace_budget, 0, __ATOMIC_RELAXED);
	if (trace.installed)
		trampolines_set(false);
	/* No worker is still in a walk that tags or records once each has
	 * passed a quiescent state; then the buffers may be emptied. */
	workers_synchronize();
	for (unsigned w = 0; w < n_workers; w++) {
		if (!trace.buffers[w])
			continue;
		trace.buffers[w]->n_packets = 0;
		trace.buffers[w]->packets_lost = 0;
	}
}

const struct trace_buffer *trace_buffer_of(unsigned worker)
{
	return worker < n_workers ? trace.buffers[worker] : NULL;
}
