/*
 * port-input: the source node. Polls this worker's receive queues: frames
 * from a device go to acl-input (then ethernet-input); frames the kernel sent
 * into a TAP go out of the device the TAP stands for, through acl-output
 * (first through spd-local while espd holds out policies the kernel lacks).
 */
#include "graph/graph.h"

#include <rte_ethdev.h>
#include "graph/pcap.h"
#include "graph/trace.h"
#include "tables/spd.h"

#define RX_BURST 32
#define RX_WALK_MAX 128

enum port_input_next {
	PORT_INPUT_NEXT_ACL_INPUT,
	PORT_INPUT_NEXT_ACL_OUTPUT,
	PORT_INPUT_NEXT_SPD_LOCAL,
	PORT_INPUT_NEXT_DROP,
	PORT_INPUT_N_NEXT,
};

static void mark_received(struct worker *worker, const struct rx_queue_ref *rx,
			  const struct iface *iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_stats *stats = &worker->ports[rx->port];
	uint16_t tx_port = rx->is_tap ? iface->port_id : UINT16_MAX;
	uint8_t flags = rx->is_tap ? PKT_OWN : 0; /* the kernel's output */

	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(pkts[i]);
		meta->rx_iface = iface->index;
		meta->tx_port = tx_port;
		meta->flags = flags;
		meta->family = 0;
		meta->trace = 0;
		stats->rx_bytes += pkts[i]->pkt_len;
	}
	stats->rx_packets += n;
}

static uint16_t next_of(const struct rx_queue_ref *rx)
{
	if (!rx->is_tap)
		return PORT_INPUT_NEXT_ACL_INPUT;
	return spd_local_active() ? PORT_INPUT_NEXT_SPD_LOCAL : PORT_INPUT_NEXT_ACL_OUTPUT;
}

/*
 * Up to RX_WALK_MAX packets of one queue per walk, in bursts of RX_BURST
 * until one comes short: each node's cost per call is then shared by more
 * packets (bench/run-esp.sh, 64 B decrypt: ~25 cycles a packet less than
 * with one burst of 32).
 */
static uint16_t receive(const struct rx_queue_ref *rx, struct rte_mbuf **pkts)
{
	uint16_t n = 0, got;

	do {
		got = rte_eth_rx_burst(rx->port, rx->queue, pkts + n, RX_BURST);
		n += got;
	} while (got == RX_BURST && n < RX_WALK_MAX);
	return n;
}

static uint16_t port_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	struct rte_mbuf *pkts[RX_WALK_MAX];
	uint16_t total = 0;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (unsigned i = 0; i < worker->n_rx; i++) {
		const struct rx_queue_ref *rx = &worker->rx[i];
		uint16_t n = receive(rx, pkts);
		if (n == 0)
			continue;
		const struct iface *iface = iface_by_port(rx->port);
		if (unlikely(!iface)) {
			worker->ports[rx->port].rx_packets += n;
			for (uint16_t k = 0; k < n; k++)
				counter_inc(worker->id, ESPD_COUNTER_TAP_NO_PORT);
			rte_node_enqueue(graph, node, PORT_INPUT_NEXT_DROP, (void **)pkts, n);
			continue;
		}
		if (unlikely(pcap_is_armed()))
			pcap_copy_burst(worker->id, rx->port, rx->queue, pkts, n,
					RTE_PCAPNG_DIRECTION_IN);
		mark_received(worker, rx, iface, pkts, n);
		if (unlikely(trace_wanted()))
			trace_tag(worker, node->id, pkts, n);
		rte_node_enqueue(graph, node, next_of(rx), (void **)pkts, n);
		total += n;
	}
	worker->rx_last_walk = total;
	return total;
}

static struct rte_node_register port_input_node = {
	.name = NODE_PORT_INPUT,
	.flags = RTE_NODE_SOURCE_F,
	.process = port_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = PORT_INPUT_N_NEXT,
	.next_nodes = {
		[PORT_INPUT_NEXT_ACL_INPUT] = NODE_ACL_INPUT,
		[PORT_INPUT_NEXT_ACL_OUTPUT] = NODE_ACL_OUTPUT,
		[PORT_INPUT_NEXT_SPD_LOCAL] = NODE_SPD_LOCAL,
		[PORT_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(port_input_node);
