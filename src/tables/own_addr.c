/*
 * The router's own IPv4 addresses (own_addr.h): the set and its filter.
 */
#include "tables/own_addr.h"

#include <errno.h>
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>

#define FILTER_WORDS (OWN_ADDR_FILTER_BITS / 64)

uint64_t own_addr_filter[FILTER_WORDS] __attribute__((aligned(64)));

static struct {
	struct rte_hash *hash; /* address -> generation of the sync that last gave it */
	uintptr_t generation;
} own;

int own_addr_init(struct rte_rcu_qsbr *rcu)
{
	struct rte_hash_parameters params = {
		.name = "own_addr",
		.entries = OWN_ADDR_MAX,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu_config = { .v = rcu, .mode = RTE_HASH_QSBR_MODE_DQ };

	own.hash = rte_hash_create(&params);
	if (!own.hash)
		return -ENOMEM;
	if (rte_hash_rcu_qsbr_add(own.hash, &rcu_config) != 0) {
		int rc = -rte_errno;
		rte_hash_free(own.hash);
		own.hash = NULL;
		return rc;
	}
	return 0;
}

bool own_addr_lookup(uint32_t addr_be)
{
	return own.hash && rte_hash_lookup(own.hash, &addr_be) >= 0;
}

/* Removes the addresses the last sync did not give. */
static void stale_remove(void)
{
	uint32_t stale[OWN_ADDR_MAX], n_stale = 0, next = 0;
	const void *key;
	void *data;

	while (rte_hash_iterate(own.hash, &key, &data, &next) >= 0)
		if ((uintptr_t)data != own.generation)
			stale[n_stale++] = *(const uint32_t *)key;
	for (uint32_t i = 0; i < n_stale; i++)
		rte_hash_del_key(own.hash, &stale[i]);
}

/*
 * An address is in the hash before its bit is set and leaves it before
 * its bit may clear: a worker that sees the bit without the address takes
 * the packet as from elsewhere, which is what it is.
 */
int own_addr_sync(const uint32_t *addrs_be, size_t n)
{
	uint64_t filter[FILTER_WORDS] = { 0 };
	int rc = 0;

	if (!own.hash)
		return -EINVAL;
	own.generation++;
	for (size_t i = 0; i < n; i++) {
		if (rte_hash_add_key_data(own.hash, &addrs_be[i], (void *)own.generation) < 0) {
			rc = -ENOSPC;
			continue;
		}
		uint32_t bit = own_addr_filter_bit(addrs_be[i]);
		filter[bit / 64] |= UINT64_C(1) << (bit % 64);
	}
	stale_remove();
	for (unsigned w = 0; w < FILTER_WORDS; w++)
		__atomic_store_n(&own_addr_filter[w], filter[w], __ATOMIC_RELEASE);
	return rc;
}
