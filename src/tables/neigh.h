/*
 * Neighbors (ARP and ND) mirrored from the kernel's TAPs: (interface,
 * address) -> MAC, in an rte_hash with lock-free concurrent readers and
 * RCU-deferred slot reuse. Control thread writes, workers read.
 */
#ifndef ESPD_TABLES_NEIGH_H
#define ESPD_TABLES_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include "common/addr.h"

struct neigh_entry {
	uint16_t iface;
	struct ip_addr addr;
	struct rte_ether_addr mac;
	uint16_t state; /* kernel NUD_* */
	uint32_t generation; /* the mirror's mark for reconcile after a resync */
};

struct rte_rcu_qsbr;
int neigh_init(struct rte_rcu_qsbr *rcu, uint32_t max_entries);
void neigh_destroy(void);
int neigh_add(uint16_t iface, const struct ip_addr *addr, const struct rte_ether_addr *mac,
	      uint16_t state, uint32_t generation);
int neigh_del(uint16_t iface, const struct ip_addr *addr);
void neigh_walk(int (*cb)(const struct neigh_entry *entry, void *arg), void *arg);
size_t neigh_count(void);

/* Fast path: MAC of the neighbor, false when unknown. */
bool neigh_lookup(uint16_t iface, const struct ip_addr *addr, struct rte_ether_addr *mac);

#endif
