/* Ring ports, interfaces and the machine line for the graph benchmarks
 * (bench_ports.h). */
#include "bench_ports.h"

#include <stdio.h>
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"

void ring_port_create(const char *name, struct ring_port *port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	char ring_name[32];

	snprintf(ring_name, sizeof(ring_name), "%s_rx", name);
	port->rx = rte_ring_create(ring_name, BENCH_RING_SIZE, SOCKET_ID_ANY,
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(ring_name, sizeof(ring_name), "%s_tx", name);
	port->tx = rte_ring_create(ring_name, BENCH_RING_SIZE, SOCKET_ID_ANY,
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	int id = port->rx && port->tx ? rte_eth_from_rings(name, &port->rx, 1, &port->tx, 1,
							   SOCKET_ID_ANY) : -1;
	if (id < 0 || rte_eth_dev_configure((uint16_t)id, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup((uint16_t)id, 0, BENCH_RING_SIZE, SOCKET_ID_ANY, NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup((uint16_t)id, 0, BENCH_RING_SIZE, SOCKET_ID_ANY, NULL) < 0 ||
	    rte_eth_dev_start((uint16_t)id) < 0) {
		fprintf(stderr, "bench: cannot create ring port %s\n", name);
		exit(1);
	}
	port->port_id = (uint16_t)id;
}

uint16_t bench_iface_setup(const char *name, const struct rte_ether_addr *mac,
			   const struct ring_port *port, const struct ring_port *tap)
{
	struct iface *iface = iface_add(name);

	iface->mac = *mac;
	iface->mtu = 1500;
	iface->up = true;
	iface->driver = "ring";
	iface_bind_port(iface, port->port_id, false);
	iface_bind_port(iface, tap->port_id, true);
	return iface->index;
}

void bench_route_add(const char *prefix, uint8_t type, uint16_t iface, const char *gw)
{
	struct fib_route route = {
		.nexthop = { .type = type, .iface = iface },
		.local = type == NEXTHOP_LOCAL,
	};

	ip_prefix_parse(prefix, &route.prefix);
	route.nexthop.family = route.prefix.addr.family;
	if (gw)
		ip_addr_parse(gw, &route.nexthop.gw);
	if (fib_route_add(&route) < 0 || fib_commit() < 0) {
		fprintf(stderr, "bench: route %s not added\n", prefix);
		exit(1);
	}
}

void bench_neighbor_add(uint16_t iface, const char *addr, const struct rte_ether_addr *mac)
{
	struct ip_addr ip;

	ip_addr_parse(addr, &ip);
	if (neigh_add(iface, &ip, mac, 0x02 /* NUD_REACHABLE */, 0) < 0) {
		fprintf(stderr, "bench: neighbor %s not added\n", addr);
		exit(1);
	}
}

void bench_cpu_model(char *model, size_t size)
{
	char line[256], format[32];
	FILE *cpuinfo = fopen("/proc/cpuinfo", "r");

	snprintf(model, size, "unknown");
	snprintf(format, sizeof(format), "model name : %%%zu[^\n]", size - 1);
	while (cpuinfo && fgets(line, sizeof(line), cpuinfo))
		if (sscanf(line, format, model) == 1)
			break;
	if (cpuinfo)
		fclose(cpuinfo);
}

const char *bench_memory_name(void)
{
	return rte_eal_has_hugepages() ? "hugepages" : "4 KB pages (no hugepages: slower)";
}
