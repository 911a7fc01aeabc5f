/*
 * What spd-output and spd-local share: whether the SA of an SPD_PROTECT
 * policy, resolved at commit, still takes packets (it may have stopped
 * since). Each node decides what a refusal means for it.
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

#endif
