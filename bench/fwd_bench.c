/*
 * Forwarding benchmark: espd's own worker graph (port-input ... port-output)
 * on one core, between two DPDK ring ports, with pre-built IPv4/UDP packets
 * that hit a FIB route and a known neighbor. Prints Mpps, Gbps and cycles
 * per packet for each frame size; the reference in the same run is the
 * ring port round trip alone (rx burst + tx burst, no graph).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <rte_version.h>

#include "graph/worker.h"
#include "bench_ports.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"

#define RING_SIZE BENCH_RING_SIZE
#define IN_FLIGHT 1024
#define BURST 32
#define ROUNDS 5

static const struct rte_ether_addr mac_a = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr mac_b = { { 0x02, 0, 0, 0, 0, 0x0b } };
static const struct rte_ether_addr mac_host = { { 0x02, 0, 0, 0, 0, 0x22 } };

static void routes_setup(void)
{
	bench_route_add("10.2.0.0/24", NEXTHOP_FORWARD, 1, NULL);
	bench_neighbor_add(1, "10.2.0.2", &mac_host);
}

/* Ethernet + IPv4 + UDP headers of a frame of frame_len bytes, to 10.2.0.2. */
static void packet_template(uint8_t *frame, uint16_t frame_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = (uint16_t)(frame_len - sizeof(*eth));

	memset(frame, 0, frame_len);
	eth->dst_addr = mac_a;
	eth->src_addr = mac_host;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x0a010002);
	ip->dst_addr = rte_cpu_to_be_32(0x0a020002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(1024);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
}

/* Put packets back at the input with fresh headers (TTL, MAC, checksum). */
static unsigned recycle(struct ring_port *from, struct ring_port *to, const uint8_t *header)
{
	struct rte_mbuf *pkts[BURST];
	unsigned n = rte_ring_dequeue_burst(from->tx, (void **)pkts, BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		memcpy(rte_pktmbuf_mtod(pkts[i], void *), header, 42);
	rte_ring_enqueue_burst(to->rx, (void **)pkts, n, NULL);
	return n;
}

struct result {
	double mpps, gbps, cycles_per_packet;
};

static struct result measure(struct worker *worker, struct ring_port *in, struct ring_port *out,
			     const uint8_t *header, uint16_t frame_len, bool graph)
{
	uint64_t packets = 0, cycles = 0, target = 20000000ull / (frame_len > 512 ? 4 : 1);
	struct rte_mbuf *pkts[BURST];

	while (packets < target) {
		uint64_t start = rte_rdtsc_precise();
		uint64_t done;
		if (graph) {
			rte_graph_walk(worker->graph);
			done = worker->rx_last_walk;
		} else {
			uint16_t n = rte_eth_rx_burst(in->port_id, 0, pkts, BURST);
			done = rte_eth_tx_burst(out->port_id, 0, pkts, n);
		}
		cycles += rte_rdtsc_precise() - start;
		packets += done;
		while (recycle(out, in, header))
			;
	}
	double seconds = (double)cycles / (double)rte_get_tsc_hz();
	return (struct result){
		.mpps = (double)packets / seconds / 1e6,
		.gbps = (double)packets * frame_len * 8 / seconds / 1e9,
		.cycles_per_packet = (double)cycles / (double)packets,
	};
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct result median(struct result *runs)
{
	double mpps[ROUNDS], gbps[ROUNDS], cycles[ROUNDS];
	for (int i = 0; i < ROUNDS; i++) {
		mpps[i] = runs[i].mpps;
		gbps[i] = runs[i].gbps;
		cycles[i] = runs[i].cycles_per_packet;
	}
	qsort(mpps, ROUNDS, sizeof(double), compare_double);
	qsort(gbps, ROUNDS, sizeof(double), compare_double);
	qsort(cycles, ROUNDS, sizeof(double), compare_double);
	return (struct result){ mpps[ROUNDS / 2], gbps[ROUNDS / 2], cycles[ROUNDS / 2] };
}

static void fill(struct rte_mempool *pool, struct ring_port *in, const uint8_t *frame,
		 uint16_t frame_len)
{
	for (unsigned i = 0; i < IN_FLIGHT; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		memcpy(rte_pktmbuf_append(m, frame_len), frame, frame_len);
		rte_ring_enqueue(in->rx, m);
	}
}

static void drain(struct ring_port *port)
{
	struct rte_mbuf *m;
	while (rte_ring_dequeue(port->rx, (void **)&m) == 0 || rte_ring_dequeue(port->tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void print_machine(void)
{
	char model[128];

	bench_cpu_model(model, sizeof(model));
	printf("machine: %s, TSC %.2f GHz, %s, one worker core, memory on %s\n", model,
	       (double)rte_get_tsc_hz() / 1e9, rte_version(), bench_memory_name());
}

int main(int argc, char **argv)
{
	static const uint16_t sizes[] = { 64, 512, 1400 };
	int consumed = rte_eal_init(argc, argv);
	if (consumed < 0)
		return 1;
	struct rte_mempool *pool = rte_pktmbuf_pool_create("bench", 8192, 256, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct rte_rcu_qsbr *rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), 64);
	struct ring_port port_a, port_b, tap_a, tap_b;

	rte_rcu_qsbr_init(rcu, 1);
	iface_table_init();
	if (!pool || fib_init(rcu, 1024) < 0 || neigh_init(rcu, 1024) < 0 || pkt_meta_register() < 0)
		return 1;
	ring_port_create("ring_a", &port_a, pool);
	ring_port_create("ring_b", &port_b, pool);
	ring_port_create("ring_tap_a", &tap_a, pool);
	ring_port_create("ring_tap_b", &tap_b, pool);
	bench_iface_setup("bench-a", &mac_a, &port_a, &tap_a);
	bench_iface_setup("bench-b", &mac_b, &port_b, &tap_b);
	routes_setup();
	if (workers_create(1, rcu) < 0)
		return 1;
	struct worker *worker = &workers[0];
	worker->rx[worker->n_rx++] = (struct rx_queue_ref){ port_a.port_id, 0, false };

	print_machine();
	printf("\n%-6s | %-28s | %-28s | %s\n", "frame", "espd graph (Mpps  Gbps  cyc/pkt)",
	       "ring rx+tx only (reference)", "graph/reference");
	for (size_t s = 0; s < RTE_DIM(sizes); s++) {
		uint8_t frame[2048];
		struct result graph_runs[ROUNDS], ring_runs[ROUNDS];
		packet_template(frame, sizes[s]);
		fill(pool, &port_a, frame, sizes[s]);
		for (int r = 0; r < ROUNDS; r++) {
			graph_runs[r] = measure(worker, &port_a, &port_b, frame, sizes[s], true);
			ring_runs[r] = measure(worker, &port_a, &port_b, frame, sizes[s], false);
		}
		struct result graph = median(graph_runs), ring = median(ring_runs);
		printf("%-6u | %7.2f %7.2f %9.1f   | %7.2f %7.2f %9.1f   | %.2f\n", sizes[s],
		       graph.mpps, graph.gbps, graph.cycles_per_packet, ring.mpps, ring.gbps,
		       ring.cycles_per_packet, graph.mpps / ring.mpps);
		drain(&port_a);
		drain(&port_b);
	}
	uint64_t errors = 0;
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		errors += counter_total(c);
	printf("\npackets dropped or punted during the run: %lu (expected 0)\n", errors);
	return errors != 0;
}
