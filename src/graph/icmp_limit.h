/*
 * The rate limits of the ICMP messages espd sends itself, kept per worker
 * (no worker waits for another): token buckets in TSC cycles, and a small
 * table of the last addresses messages went to or were about, where the
 * kernel keeps an inet_peer per address.
 */
#ifndef ESPD_GRAPH_ICMP_LIMIT_H
#define ESPD_GRAPH_ICMP_LIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#include "common/addr.h"

#define ICMP_PEERS 256
#define ICMP_PEER_BURST 6 /* XRLIM_BURST_FACTOR */

/* One message costs `cost` cycles of tokens, at most `cap` saved. */
struct icmp_bucket {
	uint64_t tokens, last;
};

static inline bool icmp_bucket_take(struct icmp_bucket *b, uint64_t now, uint64_t cost,
				    uint64_t cap)
{
	uint64_t tokens = RTE_MIN(b->tokens + (now - b->last), cap);

	b->last = now;
	b->tokens = tokens >= cost ? tokens - cost : tokens;
	return tokens >= cost;
}

/* The slot of addr in a table of ICMP_PEERS; two addresses may share one,
 * the later taking it over. */
static inline unsigned icmp_peer_index(const struct ip_addr *addr)
{
	return rte_hash_crc(addr->bytes, ip_addr_size(addr->family), 0) % ICMP_PEERS;
}

struct icmp_peer {
	struct ip_addr addr;
	struct icmp_bucket bucket;
};

/* inet_peer_xrlim_allow(peer, HZ): one message a second to or about addr,
 * in bursts of ICMP_PEER_BURST; an address new to its slot starts with a
 * full burst, as a new inet_peer does (inet_getpeer sets its rate_last a minute back). */
static inline bool icmp_peer_allow(struct icmp_peer peers[ICMP_PEERS], const struct ip_addr *addr,
				   uint64_t now, uint64_t hz)
{
	struct icmp_peer *peer = &peers[icmp_peer_index(addr)];

	if (!ip_addr_equal(&peer->addr, addr)) {
		peer->addr = *addr;
		peer->bucket = (struct icmp_bucket){ .tokens = ICMP_PEER_BURST * hz, .last = now };
	}
	return icmp_bucket_take(&peer->bucket, now, hz, ICMP_PEER_BURST * hz);
}

#endif
