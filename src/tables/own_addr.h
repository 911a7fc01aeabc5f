/*
 * The router's own IPv4 addresses, every link's (what the kernel's
 * inet_lookup_ifaddr finds), for ip4-input: a received packet from one of
 * them is a martian, as fib_validate_source has it without accept_local
 * (which espd sets on its TAPs, for the ESP packets it hands the kernel).
 * An rte_hash with lock-free readers holds them; a 4096-bit filter of
 * their hashes clears the usual packet with one load. Control thread
 * writes (own_addr_sync); workers read.
 */
#ifndef ESPD_TABLES_OWN_ADDR_H
#define ESPD_TABLES_OWN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OWN_ADDR_MAX 4096
#define OWN_ADDR_FILTER_BITS 4096

struct rte_rcu_qsbr;
int own_addr_init(struct rte_rcu_qsbr *rcu);
/* Make the set exactly addrs_be[0..n). -ENOSPC when more than
 * OWN_ADDR_MAX: the rest are left out. */
int own_addr_sync(const uint32_t *addrs_be, size_t n);

extern uint64_t own_addr_filter[OWN_ADDR_FILTER_BITS / 64];
bool own_addr_lookup(uint32_t addr_be);

static inline uint32_t own_addr_filter_bit(uint32_t addr_be)
{
	return (addr_be * 0x9e3779b1u) >> 20; /* Fibonacci hashing, 12 bits */
}

/* Fast path: whether addr_be is one of the router's addresses. */
static inline bool own_addr_is(uint32_t addr_be)
{
	uint32_t bit = own_addr_filter_bit(addr_be);
	uint64_t word = __atomic_load_n(&own_addr_filter[bit / 64], __ATOMIC_ACQUIRE);

	if (__builtin_expect(!((word >> (bit % 64)) & 1), 1))
		return false;
	return own_addr_lookup(addr_be);
}

#endif
