/*
 * What the graph benchmarks (and the graph fuzz test, tests/fuzz) share:
 * DPDK ring ports (a port whose receive and transmit queues are rings the
 * program fills and drains) and the espd interfaces bound to them, each
 * with a ring port for its TAP, their routes and neighbors; and the
 * machine line of the benchmarks' tables.
 */
#ifndef ESPD_BENCH_PORTS_H
#define ESPD_BENCH_PORTS_H

#include <stddef.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#define BENCH_RING_SIZE 4096

struct ring_port {
	struct rte_ring *rx, *tx; /* the port receives from rx, transmits to tx */
	uint16_t port_id;
};

/* Creates and starts the port, or exits: a benchmark cannot go on without. */
void ring_port_create(const char *name, struct ring_port *port, struct rte_mempool *pool);

/* An up espd interface, MTU 1500, on port with tap for its TAP; its index. */
uint16_t bench_iface_setup(const char *name, const struct rte_ether_addr *mac,
			   const struct ring_port *port, const struct ring_port *tap);

/* A route of either family (prefix and gw in text, gw NULL: connected),
 * or exit. */
void bench_route_add(const char *prefix, uint8_t type, uint16_t iface, const char *gw);
/* A reachable neighbor (addr in text) on iface, or exit. */
void bench_neighbor_add(uint16_t iface, const char *addr, const struct rte_ether_addr *mac);

/* The CPU's model name from /proc/cpuinfo ("unknown" without). */
void bench_cpu_model(char *model, size_t size);

/* The pages the EAL's memory is on, for the machine line: the numbers of
 * 4 KB pages include a TLB miss or more per packet (bench/eal.sh). */
const char *bench_memory_name(void);

#endif
