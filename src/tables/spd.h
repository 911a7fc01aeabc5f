/*
 * Security Policy Database: IPsec policies with the Linux kernel's
 * semantics (net/xfrm/xfrm_policy.c), mirrored from XFRM or entered on the
 * CLI. The control thread keeps the policies and, on spd_commit(),
 * resolves outbound templates to SAs, builds one rte_acl context per
 * direction and family, and publishes the snapshot with RCU. Workers call
 * the lookups and checks; they never write.
 *
 * Matching is the kernel's xfrm_selector_match: source and destination
 * prefixes, protocol (0 = any), source and destination port under a mask
 * (for ICMP the ports are type and code), plus the policy's mark (value
 * and mask) and if_id. Among matching policies the lowest priority value
 * wins and, on equal priority, the one inserted first
 * (xfrm_policy_lookup_bytype).
 */
#ifndef ESPD_TABLES_SPD_H
#define ESPD_TABLES_SPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include "common/addr.h"

/* Values are the kernel's XFRM_POLICY_IN/OUT/FWD. */
enum spd_dir {
	SPD_DIR_IN = 0,
	SPD_DIR_OUT = 1,
	SPD_DIR_FWD = 2,
	SPD_DIR_N = 3,
};

/* Values are the kernel's XFRM_POLICY_ALLOW/BLOCK. */
enum spd_action {
	SPD_ACTION_ALLOW = 0,
	SPD_ACTION_BLOCK = 1,
};

/* Who installed it: a kernel policy may be punted to the kernel; a CLI
 * policy exists only in espd, so its packets are never sent in clear. */
enum ipsec_origin {
	IPSEC_ORIGIN_KERNEL = 0,
	IPSEC_ORIGIN_CLI = 1,
};

/* What spd-output does with a packet matching an out policy, decided at
 * spd_commit() from the action and the template's SA. */
enum spd_verdict {
	SPD_BYPASS,  /* allow, nothing required: forward as ip-lookup decided */
	SPD_DISCARD, /* block: drop */
	SPD_PROTECT, /* one ESP template with an SA espd offloads: esp-encrypt */
	SPD_KERNEL,  /* needs IPsec espd cannot apply: punt (kernel policy) */
	SPD_NO_SA,   /* needs IPsec, no usable SA, CLI policy: drop */
};

/* Policy flags: the kernel's XFRM_POLICY_* bits, named as `ip xfrm` names
 * them. icmp lets a forwarded ICMP error into the tunnel of the flow it
 * quotes (xfrm_out_fwd_icmp looks up with XFRM_LOOKUP_ICMP). */
#define foreach_spd_policy_flag(_) \
	_(LOCALOK, 1, "localok")   \
	_(ICMP, 2, "icmp")

enum spd_policy_flag {
#define _(id, bit, name) SPD_POLICY_FLAG_##id = bit,
	foreach_spd_policy_flag(_)
#undef _
};

#define SPD_TMPL_MAX 6 /* XFRM_MAX_DEPTH */
#define SPD_INDEX_NONE UINT32_MAX

/*
 * Lookup key, filled from a packet by spd_packet_key_parse(). Every field
 * is in network byte order (rte_acl compares bytes most significant
 * first); v4 addresses use the first 4 bytes of src/dst, rest zero.
 */
struct spd_packet_key {
	uint8_t proto;
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t pad[2];
	uint16_t sport;   /* or ICMP type, as xfrm_flowi_sport */
	uint16_t dport;   /* or ICMP code, as xfrm_flowi_dport */
	uint32_t mark;    /* packet mark (0 unless a tunnel interface sets one) */
	uint32_t if_id;   /* XFRM interface id (0: none) */
	uint8_t src[16];
	uint8_t dst[16];
};
_Static_assert(sizeof(struct spd_packet_key) == 48, "spd_packet_key layout is the ACL's");

/* struct xfrm_selector: ports and masks in host order; a mask of 0 means
 * any port, 0xffff one port. Addresses are kept as given, host bits too,
 * which identity compares and matching masks off (addr4_match). */
struct spd_selector {
	struct ip_prefix src, dst;
	uint16_t sport, sport_mask;
	uint16_t dport, dport_mask;
	uint8_t proto;  /* 0: any */
	uint8_t family; /* of src/dst; AF_UNSPEC matches both (kernel "any") */
};

/* struct xfrm_user_tmpl, the fields espd uses. */
struct spd_tmpl {
	struct ip_addr src, dst; /* tunnel endpoints; family 0 in transport mode */
	uint32_t spi;            /* host order; 0: any */
	uint32_t reqid;          /* 0: any SA inbound, an SA without one outbound */
	uint8_t proto;           /* IPPROTO_ESP (AH/COMP only mirrored) */
	uint8_t mode;            /* enum sa_mode (XFRM_MODE_*) */
	uint8_t optional;        /* level use (1) or required (0) */
};

/* What the CLI and the XFRM mirror give. Identity (for replace and delete)
 * is dir + selector + mark + if_id, as xfrm_policy_insert compares. */
struct spd_policy_params {
	struct spd_selector sel;
	uint32_t priority; /* lower value wins */
	uint32_t index;    /* kernel's policy index; 0: espd assigns one */
	uint32_t mark_v, mark_m;
	uint32_t if_id;
	uint8_t dir;       /* enum spd_dir */
	uint8_t action;    /* enum spd_action */
	uint8_t origin;    /* enum ipsec_origin */
	uint8_t flags;     /* SPD_POLICY_FLAG_* */
	uint8_t n_tmpl;
	struct spd_tmpl tmpl[SPD_TMPL_MAX];
};

/* An SA an out policy may use; the uid, so a reused index never matches. */
struct spd_sa_ref {
	uint32_t index; /* SAD_INDEX_NONE: none */
	uint32_t uid;
};

/* An out template's SAs a policy keeps, best first: the kernel takes for
 * each packet the best whose selector the packet is inside
 * (xfrm_state_look_at), so SAs of one template with selectors of their
 * own each carry theirs. */
#define SPD_SA_CHOICES 4

/*
 * A policy as workers see it: an immutable copy in the published
 * snapshot, valid until the worker's next quiescent state.
 */
struct spd_policy {
	uint8_t verdict;        /* enum spd_verdict, out policies */
	uint8_t requires_ipsec; /* in/fwd: a plaintext match is dropped */
	uint8_t sa_selector_check; /* out: the best SA's selector leaves out some
				    * of the policy's packets, so each is matched
				    * to the SAs in turn (spd_policy_sa_for) */
	uint8_t n_sa;           /* SAs in sa[]: up to the first whose selector
				 * covers the policy's, none past it is used */
	uint32_t rank;          /* position in priority order (0 = preferred) */
	uint64_t seq;           /* insertion order, the tie-break */
	/* The template's SAs, best first (sa[0].index SAD_INDEX_NONE: none);
	 * nodes use them only with SPD_PROTECT, via spd_policy_sa(_for). */
	struct spd_sa_ref sa[SPD_SA_CHOICES];
	struct spd_policy_params p;
};

struct sa;
struct rte_rcu_qsbr;

int spd_init(struct rte_rcu_qsbr *rcu, uint32_t max_policies);
void spd_destroy(void);

/* Control thread. Changes take effect at the next spd_commit(). */
int spd_policy_add(const struct spd_policy_params *p);    /* -EEXIST if its identity exists */
int spd_policy_update(const struct spd_policy_params *p); /* add or replace */
int spd_policy_del(const struct spd_policy_params *p);    /* by identity; -ENOENT */
int spd_policy_del_index(uint32_t index);                  /* kernel index; -ENOENT */
void spd_flush(uint8_t origin);
/* Resolve templates against the SAD, rebuild and publish when anything
 * changed since the last commit (policies, or sad_generation()). */
int spd_commit(void);
/* Control-side view in priority order, with the last commit's resolution. */
void spd_walk(int (*cb)(const struct spd_policy *policy, void *arg), void *arg);
size_t spd_count(void);
const struct spd_policy *spd_policy_find(const struct spd_policy_params *p);

/* Fast path (workers). */
extern uint8_t spd_published_flags;
#define SPD_FLAG_DIR(d) (1u << (d))
#define SPD_FLAG_PLAINTEXT (1u << 7) /* some in/fwd policy requires IPsec */
#define SPD_FLAG_LOCAL_OUT (1u << 6) /* some out policy is espd's only (CLI) */

/* Whether any policy of dir is published: nodes skip the lookup if not. */
static inline bool spd_active(enum spd_dir dir)
{
	return __atomic_load_n(&spd_published_flags, __ATOMIC_RELAXED) & SPD_FLAG_DIR(dir);
}

/* Whether spd-input must run: an in/fwd policy requires IPsec. */
static inline bool spd_plaintext_active(void)
{
	return __atomic_load_n(&spd_published_flags, __ATOMIC_RELAXED) & SPD_FLAG_PLAINTEXT;
}

/* Whether spd-local must see the router's own packets: the kernel does not
 * hold every out policy. */
static inline bool spd_local_active(void)
{
	return __atomic_load_n(&spd_published_flags, __ATOMIC_RELAXED) & SPD_FLAG_LOCAL_OUT;
}

/*
 * A direction with at most SPD_SCAN_MAX policies is searched policy by
 * policy in rank order, comparing exactly what its rte_acl rules would:
 * per packet, rte_acl_classify costs about as much as passing over six
 * policies that do not match. Larger directions get the classifier.
 */
#define SPD_SCAN_MAX 5

/* Best policy of dir for the packet, or NULL. */
const struct spd_policy *spd_lookup(enum spd_dir dir, const struct spd_packet_key *key);
/* The same over a burst (any mix of families, n <= 256); equal keys in a
 * row, as a flow's packets come, share one lookup. */
void spd_lookup_bulk(enum spd_dir dir, const struct spd_packet_key *const keys[],
		     const struct spd_policy *out[], unsigned n);

/*
 * After esp-decrypt, the kernel's __xfrm_policy_check for a packet whose
 * sec_path is this one SA: the inner packet must match the SA's selector,
 * and pol, the best policy of its direction (dir fwd when forwarded, in
 * when addressed to the router; found beforehand with spd_lookup_bulk, so
 * a burst needs one lookup; NULL: none), must allow it with a template the
 * SA satisfies (xfrm_state_ok). With no policy, only a transport-mode SA
 * passes. quote (NULL: none) is the reversed flow an ICMP error quotes
 * (spd_icmp_quote_key_parse): an SA with flag icmp also takes the packet
 * when quote matches its selector (xfrm_selector_inner_icmp_match, Linux
 * 6.9+). Returns 0, or -EACCES with *why set to the enum sa_error to count
 * (SA_ERROR_SELECTOR, SA_ERROR_POLICY, SA_ERROR_POLICY_BLOCK,
 * SA_ERROR_TEMPLATE).
 */
int spd_inbound_check_policy(const struct sa *sa, const struct spd_packet_key *key,
			     const struct spd_packet_key *quote, const struct spd_policy *pol,
			     unsigned *why);

/* The best SA of an SPD_PROTECT policy, or NULL when it went away; and
 * its i-th SA (i < n_sa), for show. */
const struct sa *spd_policy_sa(const struct spd_policy *policy);
const struct sa *spd_policy_sa_choice(const struct spd_policy *policy, unsigned i);
/* The SA it uses for a packet of flow when sa_selector_check: the first
 * whose selector flow is inside, or NULL. */
const struct sa *spd_policy_sa_for(const struct spd_policy *policy,
				   const struct spd_packet_key *flow);

/*
 * Fill key from an IP packet (l3 points at the IPv4/IPv6 header, len bytes
 * available), the way the kernel decodes a flow (xfrm_decode_session):
 * TCP/UDP/UDP-Lite/SCTP/DCCP ports, ICMP/ICMPv6 type and code, zero ports
 * for later fragments and other protocols; IPv6 extension headers skipped.
 * mark and if_id are set to 0. Returns 0 or -EINVAL (truncated header).
 */
int spd_packet_key_parse(struct spd_packet_key *key, const void *l3, uint32_t len);

/*
 * ICMP errors of a tunnelled flow, as Linux 6.9 and later treat them
 * (net/xfrm/xfrm_policy.c, "xfrm: introduce forwarding of ICMP Error
 * messages"): whether key is of an ICMP error that quotes a packet of a
 * flow (icmp_err_packet: destination unreachable, packet too big, time
 * exceeded), and the key of that quoted packet, reversed as the flow it
 * belongs to runs towards the error's sender (xfrm_icmp_flow_decode and
 * xfrm_decode_session_reverse), from the ICMP packet l3 of len bytes whose
 * key is key. Returns 0, or -EINVAL when l3 is not ICMP of key's family or
 * its quote is cut short of an IP header.
 */
static inline bool spd_key_icmp_error(const struct spd_packet_key *key)
{
	uint16_t type;

	/* Asked of every packet without a policy: most are not ICMP. */
	if (likely(key->proto != IPPROTO_ICMP && key->proto != IPPROTO_ICMPV6))
		return false;
	type = rte_be_to_cpu_16(key->sport);
	/* icmp_err_packet: a redirect or a parameter problem is left out. */
	if (key->proto == IPPROTO_ICMP)
		return key->family == AF_INET &&
		       (type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED);
	return key->family == AF_INET6 && (type == ICMP6_DST_UNREACH ||
					   type == ICMP6_PACKET_TOO_BIG ||
					   type == ICMP6_TIME_EXCEEDED);
}

int spd_icmp_quote_key_parse(struct spd_packet_key *quote, const struct spd_packet_key *key,
			     const void *l3, uint32_t len);

/* The best dir policy of the flow the ICMP error l3 (of len bytes, whose
 * key is key) quotes, reversed, with that flow's key in *quote; NULL when
 * there is none or the quote names no flow. */
const struct spd_policy *spd_icmp_quote_lookup(enum spd_dir dir,
					       const struct spd_packet_key *key,
					       const void *l3, uint32_t len,
					       struct spd_packet_key *quote);

/* xfrm_selector_match. */
bool spd_selector_match(const struct spd_selector *sel, const struct spd_packet_key *key);

const char *format_spd_dir(uint8_t dir);
const char *format_spd_action(uint8_t action);
const char *format_spd_verdict(uint8_t verdict);

#endif
