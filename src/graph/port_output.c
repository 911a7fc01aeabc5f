/*
 * port-output: transmits each packet on the port in its metadata, in runs
 * of consecutive packets for the same port, on this worker's own queue.
 * A full transmit queue drops the remainder, counted.
 */
#include "graph/graph.h"

#include <rte_ethdev.h>
#include "graph/pcap.h"

static void transmit(struct worker *worker, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_stats *stats = &worker->ports[port];
	uint16_t sent = 0;

	if (unlikely(port >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(port))) {
		for (uint16_t i = 0; i < n; i++)
			counter_inc(worker->id, ESPD_COUNTER_TX_NO_PORT);
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++)
		stats->tx_bytes += pkts[i]->pkt_len;
	/* Before the burst: sent mbufs belong to the driver. */
	if (unlikely(pcap_is_armed()))
		pcap_copy_burst(worker->id, port, (uint16_t)worker->id, pkts, n,
				RTE_PCAPNG_DIRECTION_OUT);
	sent = rte_eth_tx_burst(port, (uint16_t)worker->id, pkts, n);
	stats->tx_packets += sent;
	for (uint16_t i = sent; i < n; i++) {
		stats->tx_bytes -= pkts[i]->pkt_len;
		counter_inc(worker->id, ESPD_COUNTER_TX_QUEUE_FULL);
	}
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

static uint16_t port_output_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	uint16_t start = 0;

	RTE_SET_USED(graph);
	for (uint16_t i = 1; i <= nb_objs; i++) {
		if (i < nb_objs && pkt_meta(pkts[i])->tx_port == pkt_meta(pkts[start])->tx_port)
			continue;
		transmit(worker, pkt_meta(pkts[start])->tx_port, pkts + start, i - start);
		start = i;
	}
	return nb_objs;
}

static struct rte_node_register port_output_node = {
	.name = NODE_PORT_OUTPUT,
	.process = port_output_process,
	.init = node_ctx_init_worker,
};

RTE_NODE_REGISTER(port_output_node);
