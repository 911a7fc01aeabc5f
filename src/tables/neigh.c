/*
 * Neighbor table on a lock-free rte_hash. The hash data word carries the MAC
 * (and the kernel state), so a worker's lookup is one bulk hash probe and an
 * update is one atomic data store; slots of deleted keys are reused only
 * after an RCU grace period (the hash library's QSBR defer queue).
 */
#include "tables/neigh.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_errno.h>
#include <rte_rcu_qsbr.h>

_Static_assert(NEIGH_LOOKUP_BULK_MAX <= RTE_HASH_LOOKUP_BULK_MAX, "one bulk lookup per call");

static struct {
	struct rte_hash *hash;
	uint32_t *generations; /* by key position, control only */
	uint32_t max_entries;
} neigh;

static uint64_t pack(const struct rte_ether_addr *mac, uint16_t state)
{
	uint64_t word = 0;
	memcpy(&word, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return word | ((uint64_t)state << 48);
}

static void unpack(uint64_t word, struct rte_ether_addr *mac)
{
	memcpy(mac->addr_bytes, &word, RTE_ETHER_ADDR_LEN);
}

static void key_of(uint16_t iface, const struct ip_addr *addr, struct neigh_key *key)
{
	neigh_key_set(key, iface, addr->family, addr->bytes);
}

int neigh_init(struct rte_rcu_qsbr *rcu, uint32_t max_entries)
{
	struct rte_hash_parameters params = {
		.name = "neighbors",
		.entries = max_entries,
		.key_len = sizeof(struct neigh_key),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu_config = { .v = rcu, .mode = RTE_HASH_QSBR_MODE_DQ };

	neigh.max_entries = max_entries;
	neigh.hash = rte_hash_create(&params);
	neigh.generations = rte_zmalloc("neigh_generations", sizeof(uint32_t) * max_entries * 2, 0);
	if (!neigh.hash || !neigh.generations)
		return -ENOMEM;
	if (rte_hash_rcu_qsbr_add(neigh.hash, &rcu_config) != 0)
		return -rte_errno;
	return 0;
}

void neigh_destroy(void)
{
	rte_hash_free(neigh.hash);
	rte_free(neigh.generations);
	memset(&neigh, 0, sizeof(neigh));
}

int neigh_add(uint16_t iface, const struct ip_addr *addr, const struct rte_ether_addr *mac,
	      uint16_t state, uint32_t generation)
{
	struct neigh_key key;

	key_of(iface, addr, &key);
	int rc = rte_hash_add_key_data(neigh.hash, &key, (void *)(uintptr_t)pack(mac, state));
	if (rc < 0)
		return rc;
	int32_t position = rte_hash_lookup(neigh.hash, &key);
	if (position >= 0 && (uint32_t)position < neigh.max_entries * 2)
		neigh.generations[position] = generation;
	return 0;
}

int neigh_del(uint16_t iface, const struct ip_addr *addr)
{
	struct neigh_key key;

	key_of(iface, addr, &key);
	int32_t rc = rte_hash_del_key(neigh.hash, &key);
	return rc < 0 ? rc : 0;
}

void neigh_walk(int (*cb)(const struct neigh_entry *entry, void *arg), void *arg)
{
	const void *key_ptr;
	void *data;
	uint32_t iter = 0;
	int32_t position;

	while ((position = rte_hash_iterate(neigh.hash, &key_ptr, &data, &iter)) >= 0) {
		const struct neigh_key *key = key_ptr;
		struct neigh_entry entry = {
			.iface = key->iface,
			.state = (uint16_t)((uintptr_t)data >> 48),
			.generation = (uint32_t)position < neigh.max_entries * 2 ?
				      neigh.generations[position] : 0,
		};
		ip_addr_from_bytes(&entry.addr, key->family, key->addr);
		unpack((uintptr_t)data, &entry.mac);
		if (cb(&entry, arg))
			return;
	}
}

size_t neigh_count(void)
{
	return (size_t)rte_hash_count(neigh.hash);
}

bool neigh_lookup(uint16_t iface, const struct ip_addr *addr, struct rte_ether_addr *mac)
{
	struct neigh_key key;
	const struct neigh_key *keys[1] = { &key };

	key_of(iface, addr, &key);
	return neigh_lookup_bulk(keys, 1, mac) != 0;
}

uint64_t neigh_lookup_bulk(const struct neigh_key *keys[], unsigned n,
			   struct rte_ether_addr macs[])
{
	void *data[NEIGH_LOOKUP_BULK_MAX];
	uint64_t found = 0;

	if (n == 0 || rte_hash_lookup_bulk_data(neigh.hash, (const void **)keys, n, &found,
						data) <= 0)
		return 0;
	for (uint64_t left = found; left; left &= left - 1) {
		unsigned i = (unsigned)__builtin_ctzll(left);
		unpack((uintptr_t)data[i], &macs[i]);
	}
	return found;
}
