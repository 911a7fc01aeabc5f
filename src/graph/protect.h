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

/* flow: the key pol was found for. An SA whose selector misses it is not
 * one the kernel would use (xfrm_state_look_at): the next best may be. */
static inline enum protect_result protect_sa(struct worker *worker, struct rte_mbuf *m,
					     const struct spd_policy *pol,
					     const struct spd_packet_key *flow)
{
	const struct sa *sa = unlikely(pol->sa_selector_check) ? spd_policy_sa_for(pol, flow)
							       : spd_policy_sa(pol);

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

/* The reversed flow the ICMP packet at m->l2_len quotes, with key its own
 * key (spd_icmp_quote_key_parse): 0 or -EINVAL. */
static inline int spd_icmp_quote_key_of(struct spd_packet_key *quote,
					const struct spd_packet_key *key, struct rte_mbuf *m)
{
	return spd_icmp_quote_key_parse(quote, key, rte_pktmbuf_mtod_offset(m, void *, m->l2_len),
					rte_pktmbuf_data_len(m) - m->l2_len);
}

/* xfrm_selector_inner_icmp_match for an SA with flag icmp (Linux 6.9+): an
 * ICMP error outside the SA's selector whose quoted flow, reversed, is in. */
static inline bool spd_sa_takes_icmp_error(const struct sa *sa, const struct spd_packet_key *key,
					   struct rte_mbuf *m)
{
	struct spd_packet_key quote;

	return (sa->rt.flags & SA_FLAG_ICMP) && spd_key_icmp_error(key) &&
	       spd_icmp_quote_key_of(&quote, key, m) == 0 &&
	       spd_selector_match(&sa->rt.sel, &quote);
}

/* The best dir policy of the flow the ICMP error m of key quotes, reversed,
 * that flow's key in *quote (spd_icmp_quote_lookup). */
static inline const struct spd_policy *spd_quoted_policy(struct rte_mbuf *m,
							 const struct spd_packet_key *key,
							 enum spd_dir dir,
							 struct spd_packet_key *quote)
{
	return spd_icmp_quote_lookup(dir, key, rte_pktmbuf_mtod_offset(m, void *, m->l2_len),
				     rte_pktmbuf_data_len(m) - m->l2_len, quote);
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
static __rte_always_inline uint16_t spd_out_protect(struct worker *worker, struct rte_mbuf *m,
						    const struct spd_policy *pol,
						    const struct spd_packet_key *flow)
{
	switch (protect_sa(worker, m, pol, flow)) {
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

/* disable_xfrm on the interface the route leaves by (iface_no_xfrm). */
static inline bool spd_out_skipped(struct rte_mbuf *m)
{
	uint32_t nexthop = pkt_meta(m)->nexthop;

	return fib_nexthop_type(nexthop) == NEXTHOP_FORWARD &&
	       iface_no_xfrm(fib_nexthop(nexthop)->iface, pkt_meta(m)->family);
}

/*
 * xfrm_out_fwd_icmp (Linux 6.9+), which __xfrm_route_forward calls when its
 * own lookup gave the packet no transformation: an ICMP error then takes
 * the out policy of the flow it quotes, reversed, if that policy has flag
 * icmp (XFRM_LOOKUP_ICMP) and transforms it; anything else (no policy,
 * bypass, block, no SA) leaves the route as it was (NULL here). *quote:
 * the flow the policy was found for.
 */
static inline const struct spd_policy *spd_out_icmp_policy(struct rte_mbuf *m,
							   const struct spd_packet_key *key,
							   struct spd_packet_key *quote)
{
	const struct spd_policy *pol;

	if (likely(!spd_key_icmp_error(key)))
		return NULL;
	pol = spd_quoted_policy(m, key, SPD_DIR_OUT, quote);
	if (!pol || !(pol->p.flags & SPD_POLICY_FLAG_ICMP) ||
	    (pol->verdict != SPD_PROTECT && pol->verdict != SPD_KERNEL))
		return NULL;
	return pol;
}

/* The kernel's xfrm_lookup for a routed packet of key whose best out policy
 * is pol (NULL: none); no_xfrm: iface_table.any_no_xfrm, read once a burst.
 * Always inline: called per packet, and as a call it took 2 % of the
 * GCM-128 64 B encrypt path (perf, bench/run-esp.sh). */
static __rte_always_inline uint16_t
spd_out_verdict(struct worker *worker, struct rte_mbuf *m, const struct spd_packet_key *key,
		const struct spd_policy *pol, bool no_xfrm)
{
	struct spd_packet_key quote;
	bool skipped = unlikely(no_xfrm) && spd_out_skipped(m);

	if (skipped || likely(!pol) || pol->verdict == SPD_BYPASS) {
		pol = skipped ? NULL : spd_out_icmp_policy(m, key, &quote);
		if (likely(!pol))
			return spd_out_routed(worker, m);
		key = &quote;
	}
	switch (pol->verdict) {
	case SPD_DISCARD:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_DISCARD, SPD_OUT_NEXT_DROP);
	case SPD_PROTECT:
		return spd_out_protect(worker, m, pol, key);
	case SPD_KERNEL:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_KERNEL, SPD_OUT_NEXT_PUNT);
	default:
		return steer(worker, m, ESPD_COUNTER_SPD_OUT_NO_SA, SPD_OUT_NEXT_DROP);
	}
}

#endif
