/*
 * spd-input: the inbound policy check (the kernel's __xfrm_policy_check)
 * after ip-lookup, which tells local delivery (dir in) from forwarding
 * (dir fwd), as the kernel checks in ip_local_deliver and ip_forward.
 *
 *  - A decrypted packet must match its SA's selector and the best in/fwd
 *    policy must allow it with a template the SA satisfies
 *    (spd_inbound_check_policy); otherwise it is dropped, counted for the SA.
 *  - A plaintext packet matching an in/fwd policy that requires IPsec is
 *    dropped, as the kernel does. ip-lookup sends plaintext here only while
 *    such a policy exists (SPD_FLAG_PLAINTEXT). Packets for the router go
 *    to the kernel, which checks its own policies itself; here only
 *    espd-only (CLI) policies are applied to them.
 *
 * What passes and is forwarded gets the out verdict here, from the same
 * parsed keys, while out policies exist (what spd-output would give it);
 * the rest goes on as routed: ip-rewrite, or the kernel.
 */
#include "graph/graph.h"
#include "graph/protect.h"

#include "tables/fib.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define SPD_INPUT_BULK 64

/* Edges are the out verdict's (protect.h); a packet that passed and is to
 * be forwarded waits for its out verdict as SPD_INPUT_OUT_POLICY. */
#define SPD_INPUT_OUT_POLICY SPD_OUT_N_NEXT

static const enum espd_counter inbound_counters[SA_ERROR_MAX] = {
	[SA_ERROR_SELECTOR] = ESPD_COUNTER_SPD_IN_SELECTOR,
	[SA_ERROR_POLICY] = ESPD_COUNTER_SPD_IN_POLICY,
	[SA_ERROR_POLICY_BLOCK] = ESPD_COUNTER_SPD_IN_POLICY_BLOCK,
	[SA_ERROR_TEMPLATE] = ESPD_COUNTER_SPD_IN_TEMPLATE,
};

static inline bool is_local(struct rte_mbuf *m)
{
	return fib_nexthop_type(pkt_meta(m)->nexthop) == NEXTHOP_LOCAL;
}

static uint16_t onward(struct worker *worker, struct rte_mbuf *m, bool local,
		       bool out_active)
{
	if (out_active && !local)
		return SPD_INPUT_OUT_POLICY;
	return spd_out_routed(worker, m);
}

/* The last inbound check of a chunk: packets of one flow come in runs
 * through one SA, and its answer depends on the SA, key and policy alone
 * (no SA: no check made yet). */
struct inbound_memo {
	const struct sa *sa;
	const struct spd_policy *pol;
	const struct spd_packet_key *key;
	int rc;
	unsigned why;
};

static int inbound_check(struct inbound_memo *memo, const struct sa *sa,
			 const struct spd_packet_key *key, const struct spd_policy *pol,
			 unsigned *why)
{
	if (sa != memo->sa || pol != memo->pol || !key_equal(key, memo->key, sizeof(*key))) {
		memo->why = SA_ERROR_POLICY;
		memo->rc = spd_inbound_check_policy(sa, key, NULL, pol, &memo->why);
		memo->sa = sa;
		memo->pol = pol;
		memo->key = key;
	}
	*why = memo->why;
	return memo->rc;
}

/*
 * What an SA with flag icmp lets through besides (Linux 6.9+): an ICMP
 * error outside its selector whose quoted flow, reversed, is inside it
 * (xfrm_selector_inner_icmp_match); and, for the router, any ICMP message
 * the in check refused whose quoted flow, reversed, passes that check
 * itself (icmp_rcv and icmpv6_rcv, xfrm4/6_policy_check_reverse). Each
 * depends on the quote, so none is kept in the memo. Out of line: only
 * refused packets get here, and inlined it slowed every decrypted one.
 */
static __rte_noinline int icmp_recheck(struct rte_mbuf *m, const struct sa *sa,
					const struct spd_packet_key *key,
					const struct spd_policy *pol, bool local, unsigned *why)
{
	struct spd_packet_key quote;
	unsigned again = SA_ERROR_POLICY;

	if (!(sa->rt.flags & SA_FLAG_ICMP) || spd_icmp_quote_key_of(&quote, key, m) != 0)
		return -EACCES;
	if (*why == SA_ERROR_SELECTOR && spd_key_icmp_error(key) &&
	    spd_inbound_check_policy(sa, key, &quote, pol, why) == 0)
		return 0;
	if (!local)
		return -EACCES;
	return spd_inbound_check_policy(sa, &quote, NULL, spd_lookup(SPD_DIR_IN, &quote), &again);
}

static uint16_t decrypted(struct worker *worker, struct rte_mbuf *m, struct inbound_memo *memo,
			  const struct spd_packet_key *key, const struct spd_policy *pol,
			  bool local, bool out_active)
{
	const struct sa *sa = sad_sa_held(pkt_meta(m)->sa_index);
	unsigned why;

	if (unlikely(!sa))
		return steer(worker, m, ESPD_COUNTER_SPD_IN_SA_GONE, SPD_OUT_NEXT_DROP);
	if (inbound_check(memo, sa, key, pol, &why) != 0 &&
	    icmp_recheck(m, sa, key, pol, local, &why) != 0) {
		if (why >= SA_ERROR_MAX || !inbound_counters[why])
			why = SA_ERROR_POLICY;
		sa_count_error(worker->id, sa->rt.index, why);
		return steer(worker, m, inbound_counters[why], SPD_OUT_NEXT_DROP);
	}
	/* Decrypted once: onward it is an ordinary packet (a second SA, if
	 * the route leads into another tunnel, comes from its out verdict),
	 * but for the secpath the kernel's keeps: no redirect. */
	pkt_meta(m)->flags = PKT_NO_REDIRECT;
	return onward(worker, m, local, out_active);
}

static uint16_t plaintext(struct worker *worker, struct rte_mbuf *m,
			  const struct spd_policy *pol, bool local, bool out_active)
{
	if (unlikely(pol && pol->requires_ipsec &&
		     (!local || pol->p.origin == IPSEC_ORIGIN_CLI)))
		return steer(worker, m, ESPD_COUNTER_SPD_IN_PLAINTEXT, SPD_OUT_NEXT_DROP);
	return onward(worker, m, local, out_active);
}

/* disable_policy on the interface the packet came in by: no in or fwd
 * check at all (__xfrm_policy_check2 accepts before looking), but a
 * decrypted packet is still not redirected. */
static uint16_t unchecked(struct worker *worker, struct rte_mbuf *m, bool local, bool out_active)
{
	if (pkt_meta(m)->flags & PKT_IPSEC_DECRYPTED)
		pkt_meta(m)->flags = PKT_NO_REDIRECT;
	return onward(worker, m, local, out_active);
}

/* The out verdict for the packets that wait for it, from their keys. */
static void out_verdicts(struct worker *worker, struct rte_mbuf **pkts,
			 const struct spd_packet_key *keys, uint16_t n, rte_edge_t *nexts)
{
	const struct spd_packet_key *refs[SPD_INPUT_BULK];
	const struct spd_policy *pols[SPD_INPUT_BULK];
	uint16_t at[SPD_INPUT_BULK];
	unsigned count = 0;
	bool no_xfrm = iface_table.any_no_xfrm;

	for (uint16_t i = 0; i < n; i++) {
		if (nexts[i] != SPD_INPUT_OUT_POLICY)
			continue;
		refs[count] = &keys[i];
		at[count++] = i;
	}
	if (count == 0)
		return;
	spd_lookup_bulk(SPD_DIR_OUT, refs, pols, count);
	for (unsigned k = 0; k < count; k++)
		nexts[at[k]] = spd_out_verdict(worker, pkts[at[k]], refs[k], pols[k], no_xfrm);
}

/* xfrm_in_fwd_icmp (Linux 6.9+): a forwarded ICMP error no fwd policy
 * matches is checked against the fwd policy of the flow it quotes,
 * reversed, decrypted or not. espd's own errors (icmp-error's) are the
 * router's output, which the kernel never checks as forwarded. */
static const struct spd_policy *fwd_icmp_policy(struct rte_mbuf *m,
						const struct spd_packet_key *key)
{
	struct spd_packet_key quote;

	if (likely(!spd_key_icmp_error(key)) || pkt_is_own(m))
		return NULL;
	return spd_quoted_policy(m, key, SPD_DIR_FWD, &quote);
}

/* Decrypted and plaintext packets alike need the best policy of their
 * direction: one bulk lookup per direction serves the whole burst. */
static void check(struct worker *worker, struct rte_mbuf **pkts, uint16_t n, rte_edge_t *nexts)
{
	bool out_active = spd_active(SPD_DIR_OUT);
	struct spd_packet_key keys[SPD_INPUT_BULK];
	const struct spd_packet_key *refs[2][SPD_INPUT_BULK];
	const struct spd_policy *pols[2][SPD_INPUT_BULK];
	uint16_t at[2][SPD_INPUT_BULK];
	unsigned count[2] = { 0, 0 };
	struct inbound_memo memo = { .sa = NULL };
	bool no_policy = iface_table.any_no_policy;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		spd_packet_key_of(&keys[i], m);
		unsigned d = is_local(m) ? 0 : 1;
		refs[d][count[d]] = &keys[i];
		at[d][count[d]++] = i;
	}
	for (unsigned d = 0; d < 2; d++) {
		if (count[d] == 0)
			continue;
		spd_lookup_bulk(d ? SPD_DIR_FWD : SPD_DIR_IN, refs[d], pols[d], count[d]);
		for (unsigned k = 0; k < count[d]; k++) {
			uint16_t i = at[d][k];
			struct rte_mbuf *m = pkts[i];
			const struct spd_policy *pol = pols[d][k];
			if (unlikely(no_policy) && iface_no_policy(m)) {
				nexts[i] = unchecked(worker, m, !d, out_active);
				continue;
			}
			if (!pol && d)
				pol = fwd_icmp_policy(m, &keys[i]);
			if (pkt_meta(m)->flags & PKT_IPSEC_DECRYPTED)
				nexts[i] = decrypted(worker, m, &memo, &keys[i], pol, !d,
						     out_active);
			else
				nexts[i] = plaintext(worker, m, pol, !d, out_active);
		}
	}
	out_verdicts(worker, pkts, keys, n, nexts);
}

static uint16_t spd_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb_objs)
{
	return node_process_chunks(graph, node, objs, nb_objs, SPD_INPUT_BULK, check);
}

static struct rte_node_register spd_input_node = {
	.name = NODE_SPD_INPUT,
	.process = spd_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = SPD_OUT_N_NEXT,
	.next_nodes = SPD_OUT_NEXT_NODES,
};

RTE_NODE_REGISTER(spd_input_node);
