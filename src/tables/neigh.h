/*
 * Neighbors (ARP and ND) mirrored from the kernel's TAPs: (interface,
 * address) -> MAC, in an rte_hash with lock-free concurrent readers and
 * RCU-deferred slot reuse. Control thread writes, workers read.
 */
#ifndef ESPD_TABLES_NEIGH_H
#define ESPD_TABLES_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_ether.h>
#include "common/addr.h"
#include "common/key.h"

/* The hash key, public so that a burst builds its keys in place. 32 bytes,
 * a size the hash library compares with vector instructions instead of
 * memcmp; the padding stays zero. */
struct neigh_key {
	union {
		struct {
			uint16_t iface;
			uint8_t family;
			uint8_t pad[13];
			uint8_t addr[16];
		};
		uint64_t words[4];
	};
};
_Static_assert(sizeof(struct neigh_key) == 32, "neigh_key is a vector-compared size");

/* The most keys one neigh_lookup_bulk call takes. */
#define NEIGH_LOOKUP_BULK_MAX 64

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

/* Written in whole words (key_word_addr4 says why). */
static inline void neigh_key_set(struct neigh_key *key, uint16_t iface, uint8_t family,
				 const void *addr)
{
	union {
		struct {
			uint16_t iface;
			uint8_t family;
		};
		uint64_t word;
	} head = { .word = 0 };

	head.iface = iface;
	head.family = family;
	key->words[0] = head.word;
	key->words[1] = 0;
	if (family == AF_INET6) {
		memcpy(&key->words[2], addr, 16);
		return;
	}
	key->words[2] = family == AF_INET ? key_word_addr4(addr) : 0;
	key->words[3] = 0;
}

static inline bool neigh_key_equal(const struct neigh_key *a, const struct neigh_key *b)
{
	return key_equal(a, b, sizeof(*a));
}

/* Fast path: MAC of the neighbor, false when unknown. */
bool neigh_lookup(uint16_t iface, const struct ip_addr *addr, struct rte_ether_addr *mac);
/* Fast path for a burst of n <= NEIGH_LOOKUP_BULK_MAX keys: fills macs[i] of
 * every key found and returns the mask of those, bit i for keys[i]. */
uint64_t neigh_lookup_bulk(const struct neigh_key *keys[], unsigned n,
			   struct rte_ether_addr macs[]);

#endif
