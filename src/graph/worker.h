/*
 * Workers: one rte_graph per worker lcore, the run loop with RCU quiescent
 * reports, and adaptive polling that sleeps when idle so espd can share a
 * core (and runs at all on one-CPU machines).
 */
#ifndef ESPD_GRAPH_WORKER_H
#define ESPD_GRAPH_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include "graph/graph.h"

struct rte_rcu_qsbr;

struct node_runtime {
	char name[64];
	uint64_t calls, packets, cycles;
};

/* Create n graphs named espd-worker-<i>; rx queues must be set beforehand. */
int workers_create(unsigned n, struct rte_rcu_qsbr *rcu);
/* Launch workers on their lcores; adaptive selects sleeping when idle. */
int workers_start(bool adaptive);
void workers_stop(void);
/* Wait until every worker has finished the graph walk it may be in. */
void workers_synchronize(void);
/* Whether every worker finished a graph walk since the last call (the
 * first: since they started); if not, *stuck is one that did not. */
bool workers_progressed(unsigned *stuck);
/* Per-node totals over all workers for `show runtime`. */
size_t workers_runtime(struct node_runtime *out, size_t max);
void workers_runtime_clear(void);

#endif
