/*
 * espd interfaces: one per taken-over kernel interface, pairing its DPDK
 * port with the TAP that carries the kernel's view (same name, MAC, MTU).
 * The table is sized at start-up; workers read it without locks: fields that
 * change at run time (MTU, up) are single aligned words.
 */
#ifndef ESPD_TABLES_IFACE_H
#define ESPD_TABLES_IFACE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_ethdev.h>

#define IFACE_MAX 32
#define IFACE_NONE UINT16_MAX

struct iface {
	char name[16];                 /* kernel name, carried by the TAP */
	char phys_name[16];            /* the taken-over device's temporary name */
	uint16_t index;                /* position in the table */
	uint16_t port_id;              /* DPDK port of the device */
	uint16_t tap_port_id;          /* DPDK port of the TAP */
	int phys_ifindex;              /* kernel ifindex of the device */
	int tap_ifindex;               /* kernel ifindex of the TAP */
	struct rte_ether_addr mac;
	volatile uint16_t mtu;         /* mirrored from the TAP */
	uint16_t tap_mtu;              /* largest packet the TAP port passes to the kernel */
	volatile bool up;              /* TAP admin and oper up */
	const char *driver;            /* "af-packet", "xdp", "dpdk" */
};

struct iface_table {
	struct iface ifaces[IFACE_MAX];
	uint16_t n_ifaces;
	uint16_t by_port[RTE_MAX_ETHPORTS]; /* DPDK port -> iface index */
};

extern struct iface_table iface_table;

struct iface *iface_add(const char *name);
struct iface *iface_by_name(const char *name);
struct iface *iface_by_ifindex(int kernel_ifindex); /* TAP ifindex */
static inline struct iface *iface_by_port(uint16_t port_id)
{
	uint16_t index = iface_table.by_port[port_id];
	return index == IFACE_NONE ? NULL : &iface_table.ifaces[index];
}
/* Largest packet punted to the kernel whole; ip-fragment cuts bigger ones. */
static inline uint16_t iface_punt_mtu(const struct iface *iface)
{
	return iface->mtu < iface->tap_mtu ? iface->mtu : iface->tap_mtu;
}
void iface_table_init(void);
void iface_bind_port(struct iface *iface, uint16_t port_id, bool is_tap);

#endif
