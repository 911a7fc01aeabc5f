/*
 * What the outbound policy nodes share: whether the SA of an SPD_PROTECT
 * policy, resolved at commit, still takes packets (it may have stopped
 * since), and the out verdict for a routed packet, which spd-output gives
 * and spd-input gives itself for what it has checked (one parse, one node
 * less). spd-local decides what a refusal means for the router's own.
 */
#ifndef ESPD_GRAPH_PROTECT_H
#define ESPD_GRAPH_PROTECT_H

#include "graph/graph.h"
#include "tables/sad.h"
#include "tables/spd.h"

enum protect_result {
	PROTECT_ENCRYPT,      /* the packet's sa_index is set: on to esp-encrypt */
	PROTECT_SEQ_OVERFLOW, /* the SA ran out of sequence numbers (counted on it) */
	PROTECT_NO_SA,        /* no SA espd can use */
};

static inline enum protect_result protect_sa(struct worker *worker, struct rte_mbuf *m,
					     const struct spd_policy *pol)
{
	const struct sa *sa = spd_policy_sa(pol);

	if (likely(sa && sa_ready(sa, SA_DIR_OUT))) {
		pkt_meta(m)->sa_index = sa->rt.index;
		return PROTECT_ENCRYPT;
	}
	/* An exhausted SA is exhausted for the kernel too: never reuse a number. */
	if (sa && __atomic_load_n(&sa->rt.state, __ATOMIC_RELAXED) == SA_STATE_EXPIRED_SEQ) {
		sa_count_error(worker->id, sa->rt.index, SA_ERROR_SEQ_OVERFLOW);
		return PROTECT_SEQ_OVERFLOW;
	}
	return PROTECT_NO_SA;
}

/* The ways out of an out-policy verdict; spd-output's and spd-input's
 * edges are these, registered with SPD_OUT_NEXT_NODES. */
enum spd_out_next {
	SPD_OUT_NEXT_ENCRYPT,
	SPD_OUT_NEXT_REWRITE,
	SPD_OUT_NEXT_PUNT,
	SPD_OUT_NEXT_DROP,
	SPD_OUT_NEXT_ICMP_TOO_BIG, /* a plaintext error for the router, checked */
	SPD_OUT_N_NEXT,
};

#define SPD_OUT_NEXT_NODES                               \
	{                                                \
		[SPD_OUT_NEXT_ENCRYPT] = NODE_ESP_ENCRYPT, \
		[SPD_OUT_NEXT_REWRITE] = NODE_IP_REWRITE,  \
		[SPD_OUT_NEXT_PUNT] = NODE_PUNT,           \
		[SPD_OUT_NEXT_DROP] = NODE_DROP,           \
		[SPD_OUT_NEXT_ICMP_TOO_BIG] = NODE_ICMP_TOO_BIG, \
	}

/* The policy key of the IP packet at m->l2_len. A header the parser
 * refuses (one ip4/ip6-input never saw, from the router's own TAP) gets
 * the key of its family alone, which matches only a policy for any
 * traffic of that family. */
static inline void spd_packet_key_of(struct spd_packet_key *key, struct rte_mbuf *m)
{
	if (spd_packet_key_parse(key, rte_pktmbuf_mtod_offset(m, void *, m->l2_len),
				 rte_pktmbuf_data_len(m) - m->l2_len) != 0)
		key->family = pkt_meta(m)->family;
}

static inline uint16_t spd_out_routed(struct worker *worker, struct rte_mbuf *m)
{
	enum espd_counter why;

	if (ip_lookup_forwards(m, &why))
		return SPD_OUT_NEXT_REWRITE;
	if (why == ESPD_COUNTER_IP_LOCAL && unlikely(pkt_icmp_too_big(m)))
		return SPD_OUT_NEXT_ICMP_TOO_BIG;
	return steer(worker, m, why, SPD_OUT_NEXT_PUNT);
}

/* Without a usable SA, the kernel applies its own policies; an espd-only
 * one drops, so nothing that needs IPsec leaves in clear. */
static inline uint16_t spd_out_protect(struct worker *worker, struct rte_mbuf *m,
				       const struct spd_policy *pol)
{
	switch (protect_sa(worker, m, pol)) {
	case PROTECT_ENCRYPT:
		return SPD_OUT_NEXT_ENCRYPT;
	case PROTECT_SEQ_OVERFLOW:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_SEQ_OVERFLOW, SPD_OUT_NEXT_DROP);
	default:
		break;
	}
	if (pol->p.origin == IPSEC_ORIGIN_CLI)
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_NO_SA, SPD_OUT_NEXT_DROP);
	return steer(worker, m, ESPD_COUNTER_SPD_OUT_KERNEL, SPD_OUT_NEXT_PUNT);
}

/* The kernel's xfrm_lookup for a routed packet whose best out policy is pol
 * (NULL: none). */
static inline uint16_t spd_out_verdict(struct worker *worker, struct rte_mbuf *m,
				       const struct spd_policy *pol)
{
	if (likely(!pol))
		return spd_out_routed(worker, m);
	switch (pol->verdict) {
	case SPD_BYPASS:
		return spd_out_routed(worker, m);
	case SPD_DISCARD:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_DISCARD, SPD_OUT_NEXT_DROP);
	case SPD_PROTECT:
		return spd_out_protect(worker, m, pol);
	case SPD_KERNEL:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_KERNEL, SPD_OUT_NEXT_PUNT);
	default:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_NO_SA, SPD_OUT_NEXT_DROP);
	}
}

#endif
