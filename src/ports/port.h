/*
 * DPDK ports of espd interfaces: the device port (af-packet, xdp or a
 * real PCI/vdev port) and the TAP that carries the kernel's view. Each port
 * gets one receive and one transmit queue per worker.
 */
#ifndef ESPD_PORTS_PORT_H
#define ESPD_PORTS_PORT_H

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include "config/config.h"

struct port_params {
	const struct config_interface *config;
	const char *device;      /* kernel name of the device now (after rename) */
	uint16_t mtu;
	uint16_t n_queues;       /* = workers */
	struct rte_mempool *pool;
};

/* Open and start the device port. */
int port_open_device(const struct port_params *params, uint16_t *port_id);
/* Create and start a TAP named name with mac; *ifindex gets its kernel index. */
int port_open_tap(const char *name, const struct rte_ether_addr *mac,
		  const struct port_params *params, uint16_t *port_id, int *ifindex);
/* The largest IP packet the port's PMD transmits: DPDK 22.11's TAP PMD drops
 * frames above its own MTU, which stays 1500 whatever the kernel TAP's is. */
uint16_t port_mtu(uint16_t port_id);
/* While running: the MTU of the device behind port_id, whose TAP is
 * tap_port_id (device and ifindex: its kernel name and index). -ERANGE
 * when the buffers sized when the ports opened cannot carry its frames
 * (*max: the largest MTU they carry). */
int port_device_mtu_set(uint16_t port_id, uint16_t tap_port_id, const char *device, int ifindex,
			uint32_t mtu, uint32_t *max);
void port_close(uint16_t port_id);

/* Bytes of DPDK memory a pool of n_mbufs mbufs of data_room bytes takes on
 * pages of page_size bytes (0: hugepages, where the rounding is negligible). */
size_t port_pktmbuf_pool_bytes(unsigned n_mbufs, unsigned data_room, size_t page_size);
/* Bytes of the receive pools the ports of one interface (device and TAP)
 * create for n_queues queues at mtu; the rest comes from the shared pool. */
size_t port_pools_bytes(const struct config_interface *config, uint16_t mtu, unsigned n_queues,
			size_t page_size);

#endif
