/*
 * Packet trace, the worker side: which received packets are traced (a
 * budget shared by the workers, taken at port-input), and a record of each
 * node such a packet visits, made by a trampoline put in front of the
 * nodes' process functions while a trace is on. Records go to a bounded
 * buffer per worker; what does not fit is counted. The control thread
 * starts, reads and clears traces (control/trace_cli.c shows them).
 */
#ifndef ESPD_GRAPH_TRACE_H
#define ESPD_GRAPH_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include "graph/graph.h"

#define TRACE_PACKETS_MAX 1000  /* records per worker */
#define TRACE_VISITS_MAX 32     /* node visits per record */
#define TRACE_BYTES 96          /* bytes kept from the frame's start at a visit */
#define TRACE_BUDGET_MAX 100000 /* packets `trace add` may have waiting at once */
#define TRACE_NO_REASON UINT16_MAX

/* A packet as a node received it; decoded by the control thread. */
struct trace_visit {
	uint64_t tsc;
	uint32_t pkt_len;
	uint32_t sa_index;
	uint16_t node;      /* rte_node_t */
	uint16_t why;       /* enum espd_counter of its last punt or drop, or TRACE_NO_REASON */
	uint16_t rx_iface;
	uint8_t family, flags;
	uint8_t n_bytes;    /* of bytes[] that hold the frame */
	uint8_t bytes[TRACE_BYTES];
};

struct trace_packet {
	uint16_t n_visits;     /* visits[0..n_visits) are whole (release store) */
	uint16_t visits_lost;  /* visits beyond TRACE_VISITS_MAX */
	struct trace_visit visits[TRACE_VISITS_MAX];
};

struct trace_buffer {
	uint32_t n_packets;    /* packets[0..n_packets) are taken (release store) */
	uint64_t packets_lost; /* traced packets the buffer had no room for */
	struct trace_packet packets[TRACE_PACKETS_MAX];
};

/* Packets still to be traced, over all workers; 0: none. */
extern uint32_t trace_budget;

/* The one load per burst port-input pays while no trace is on. */
static inline bool trace_wanted(void)
{
	return __atomic_load_n(&trace_budget, __ATOMIC_RELAXED) != 0;
}

/* port-input (node) received pkts[0..n): tag those the budget still takes
 * and record their first visit. */
void trace_tag(struct worker *worker, rte_node_t node, struct rte_mbuf **pkts, uint16_t n);

/* Control thread. trace_add: trace n more packets (0 or -errno). */
int trace_add(uint32_t n);
/* Stop tracing and empty the buffers. */
void trace_clear(void);
/* A worker's records, or NULL when it never traced. */
const struct trace_buffer *trace_buffer_of(unsigned worker);

#endif
