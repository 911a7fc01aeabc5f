/*
 * Security Association Database: every SA espd knows (mirrored from XFRM
 * or entered on the CLI), its crypto context, outbound sequence number,
 * inbound anti-replay window and per-worker counters.
 *
 * Each SA lives at a stable index in an array of pointers; a slot is
 * published with a release store and cleared before the SA is freed after
 * an RCU grace period (keys wiped by esp_crypto_destroy). Inbound packets
 * find their SA through a lock-free rte_hash keyed by (SPI, destination,
 * protocol) without folding: two SAs never share a key (the second is
 * refused, as xfrm_state_add refuses it), and one whose mark value is not
 * 0 is not in it (packets reach espd unmarked). Outbound packets reach
 * their SA through the index an SPD template resolved to.
 *
 * Direction is decided when the SA is added and again on
 * sad_refresh_directions(): source is one of espd's addresses -> out,
 * destination is -> in, neither -> unused (kept and shown). espd's
 * addresses are the FIB's local routes.
 *
 * Control thread owns every write, except two a worker makes: the
 * outbound sequence number (atomic, sad_seq_reserve) and the inbound
 * replay window (under the SA's replay lock).
 */
#ifndef ESPD_TABLES_SAD_H
#define ESPD_TABLES_SAD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_common.h>
#include <rte_spinlock.h>
#include "common/addr.h"
#include "common/key.h"
#include "esp/crypto.h"
#include "esp/replay.h"
#include "graph/counters.h"
#include "tables/spd.h"

#define SAD_INDEX_NONE UINT32_MAX
#define SA_ALG_NAME_MAX 64 /* CRYPTO_MAX_ALG_NAME, as XFRM carries it */

/* XFRM_MODE_* values. */
enum sa_mode {
	SA_MODE_TRANSPORT = 0,
	SA_MODE_TUNNEL = 1,
};

enum sa_dir {
	SA_DIR_UNUSED = 0, /* neither endpoint is espd's: kept, not used */
	SA_DIR_IN = 1,
	SA_DIR_OUT = 2,
};

enum sa_state {
	SA_STATE_VALID = 0,
	SA_STATE_EXPIRED_SEQ, /* outbound sequence numbers exhausted */
	SA_STATE_UNSUPPORTED, /* espd cannot process it: the kernel does */
	SA_STATE_EXPIRED_LIFETIME, /* a hard packet or byte limit was reached */
};

/* SA flags: the kernel's XFRM_STATE_* bits, named as `ip xfrm` names them. */
#define foreach_sa_flag(_)             \
	_(NOECN, 1, "noecn")           \
	_(DECAP_DSCP, 2, "decap-dscp") \
	_(NOPMTUDISC, 4, "nopmtudisc") \
	_(WILDRECV, 8, "wildrecv")     \
	_(ICMP, 16, "icmp")            \
	_(AF_UNSPEC, 32, "af-unspec")  \
	_(ALIGN4, 64, "align4")        \
	_(ESN, 128, "esn")

enum sa_flag {
#define _(id, bit, name) SA_FLAG_##id = bit,
	foreach_sa_flag(_)
#undef _
};

/* Extra flags: XFRM_SA_XFLAG_* (XFRMA_SA_EXTRA_FLAGS). */
#define SA_XFLAG_DONT_ENCAP_DSCP 1
#define SA_XFLAG_OSEQ_MAY_WRAP 2

/* Why an SA's packet was dropped: _(ID, name, description). */
#define foreach_sa_error(_)                                                 \
	_(REPLAY, "replay", "duplicate sequence number")                    \
	_(WINDOW_LEFT, "window-left", "left of the anti-replay window")     \
	_(SEQ_ZERO, "seq-zero", "sequence number 0")                        \
	_(ICV, "icv", "integrity check failed")                             \
	_(PAD, "pad", "bad padding")                                        \
	_(LENGTH, "length", "bad ESP length")                               \
	_(NEXT_HEADER, "next-header", "unexpected next header")             \
	_(SELECTOR, "selector", "inner packet outside the SA selector")     \
	_(POLICY, "policy", "no inbound policy for the inner packet")       \
	_(POLICY_BLOCK, "policy-block", "inbound policy blocks it")         \
	_(TEMPLATE, "template", "inbound policy wants another SA")          \
	_(SEQ_OVERFLOW, "seq-overflow", "sequence numbers exhausted")       \
	_(ENCAP, "encap", "bad UDP encapsulation")                          \
	_(NO_ROOM, "no-room", "no head or tail room for ESP")               \
	_(MTU, "mtu", "too big after encapsulation")                        \
	_(CRYPTO, "crypto", "crypto engine error")                          \
	_(EXPIRED, "expired", "hard packet or byte limit reached")

enum sa_error {
#define _(id, name, text) SA_ERROR_##id,
	foreach_sa_error(_)
#undef _
	SA_ERROR_MAX
};

/* One algorithm of an SA as the CLI or XFRM names it. key is read during
 * sad_sa_add only; the caller wipes its copy. */
struct sa_alg_params {
	const char *name;     /* kernel name, e.g. "cbc(aes)"; NULL: none */
	const uint8_t *key;
	uint16_t key_bits;    /* salt included (XFRM alg_key_len) */
	uint16_t icv_bits;    /* auth trunc_len or aead icv_len; 0: default */
};

/* The same without the key, as kept for show. */
struct sa_alg {
	char name[SA_ALG_NAME_MAX]; /* empty: none */
	uint16_t key_bits;
	uint16_t icv_bits;          /* as the kernel keeps it (default applied) */
};

/* XFRMA_ENCAP: ESP in UDP (RFC 3948). */
struct sa_encap {
	uint16_t type;  /* 0: none; UDP_ENCAP_ESPINUDP (2) */
	uint16_t sport, dport; /* host order */
	struct ip_addr oa;     /* original address before NAT (family 0: none) */
};

/*
 * struct xfrm_lifetime_cfg, with its meanings: a byte or packet limit of
 * SA_LIMIT_NONE (XFRM_INF) is none and one of 0 is reached by the first
 * packet; a time limit of 0 is none.
 */
#define SA_LIMIT_NONE UINT64_MAX
#define SA_LIFETIME_NONE                                                  \
	{ .soft_bytes = SA_LIMIT_NONE, .hard_bytes = SA_LIMIT_NONE,       \
	  .soft_packets = SA_LIMIT_NONE, .hard_packets = SA_LIMIT_NONE }
struct sa_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint64_t soft_add_s, hard_add_s;
	uint64_t soft_use_s, hard_use_s;
};

/* What names an SA: __xfrm_state_lookup finds one by dst, SPI and protocol
 * with the mark (mark_v under mark_m); the if_id is the SA's, not compared. */
struct sa_id {
	struct ip_addr dst;
	uint32_t spi;   /* host order */
	uint8_t proto;  /* IPPROTO_ESP */
	uint32_t mark_v, mark_m;
	uint32_t if_id;
};

/* What the CLI and the XFRM mirror give to sad_sa_add. */
struct sa_params {
	struct sa_id id;
	struct ip_addr src;
	uint32_t reqid;
	uint8_t mode;        /* enum sa_mode */
	uint8_t flags;       /* SA_FLAG_* */
	uint8_t origin;      /* enum ipsec_origin */
	uint8_t engine;      /* enum esp_crypto_engine (IPSECMB default) */
	uint32_t extra_flags; /* SA_XFLAG_* */
	uint32_t replay_window;
	struct spd_selector sel;
	struct sa_encap encap;
	struct sa_alg_params enc, auth, aead;
	struct sa_lifetime lifetime;
	uint64_t oseq;       /* outbound: last sequence number the kernel used */
	uint64_t iseq;       /* inbound: highest sequence number the kernel saw */
};

/* ESP in UDP's ports, network order, in one word: `ipsec sa update`
 * changes both at once while workers read them. */
union sa_udp_ports {
	struct {
		uint16_t sport_be, dport_be;
	};
	uint32_t both;
};

/*
 * Read by workers on every packet; written by the control thread (dir on
 * refresh, path_mtu, encap_ports on update) and once by a worker (state on
 * sequence exhaustion).
 */
struct sa_runtime {
	struct esp_crypto *crypto; /* NULL when not offloaded */
	uint32_t spi_be;           /* network order, as in the packet */
	uint32_t uid;              /* unique over the SAD's lifetime */
	uint32_t index;
	uint32_t reqid;
	uint8_t dir;               /* enum sa_dir */
	uint8_t state;             /* enum sa_state */
	uint8_t mode;              /* enum sa_mode */
	uint8_t proto;
	uint8_t flags;             /* SA_FLAG_* */
	uint8_t family;            /* outer: of src/dst */
	uint8_t encap;             /* ESP in UDP */
	uint8_t origin;            /* enum ipsec_origin */
	uint8_t limited;           /* packet or byte limits: count in sa_used */
	uint32_t extra_flags;
	union sa_udp_ports encap_ports;
	uint32_t path_mtu;         /* toward dst, from ICMP (path_mtu.h); 0: none */
	struct ip_addr src, dst;
	struct spd_selector sel;   /* inner packets must match (inbound) */
} __rte_cache_aligned;
_Static_assert(sizeof(struct sa_runtime) <= 3 * RTE_CACHE_LINE_SIZE,
	       "sa_runtime fits in three cache lines");

/* Outbound: the last sequence number used, shared by all workers. */
struct sa_seq {
	uint64_t last;
	uint64_t limit; /* UINT32_MAX, or UINT64_MAX with ESN or may-wrap */
} __rte_cache_aligned;
_Static_assert(sizeof(struct sa_seq) == RTE_CACHE_LINE_SIZE, "sa_seq is one cache line");

/*
 * Inbound: the replay window. One worker normally handles an SA (RSS hashes
 * the outer addresses, so an SA stays on one queue); the lock makes a
 * second one safe and costs an uncontended atomic per burst otherwise.
 * Take it around replay_check and again around replay_update.
 */
struct sa_replay {
	rte_spinlock_t lock;
	struct replay_window w;
} __rte_cache_aligned;

/*
 * The packet and byte limits of an SA espd expires itself, which workers
 * apply before every packet as xfrm_state_check_expire does (a hard limit
 * of 10 passes exactly 10, and the 11th packet finds a soft limit of 10
 * reached), and what was counted against them, by all workers at once.
 * Without limits nothing is counted here.
 */
struct sa_used {
	uint64_t packets, bytes;
	uint64_t hard_packets, hard_bytes;
	uint64_t soft_packets, soft_bytes;
	uint8_t soft_reached; /* a packet found a soft limit reached */
} __rte_cache_aligned;

/* Control thread only. */
struct sa_config {
	struct sa_id id;
	struct sa_alg enc, auth, aead;
	struct sa_encap encap;
	struct sa_lifetime lifetime;
	uint32_t replay_window;
	uint8_t engine;
	uint64_t add_time_s; /* monotonic seconds at the add (lifetimes) */
	uint64_t use_time_s; /* first seen with a packet past its lifetime check */
	bool soft_expired; /* a soft lifetime was reached (logged once) */
	bool logged;       /* the unsupported-algorithm line was written */
	bool in_hash;      /* owns the fast-path hash key */
	char reason[64];   /* why unsupported, for show */
};

struct sa {
	struct sa_runtime rt;
	struct sa_seq out;
	struct sa_replay in;
	struct sa_used used;
	struct sa_config cfg;
	struct esp_crypto crypto; /* must not move: the job template points into it */
} __rte_cache_aligned;

/* Per-worker counters of an SA (rows indexed by SA index). */
struct sa_counters {
	uint64_t packets, bytes;
	uint64_t errors[SA_ERROR_MAX];
};

struct rte_rcu_qsbr;

int sad_init(struct rte_rcu_qsbr *rcu, uint32_t max_sas, unsigned n_workers);
void sad_destroy(void);

/*
 * Control thread. sad_sa_add returns 0 with *index set, -EEXIST, -ENOSPC,
 * -EINVAL (bad parameters) or -ENOMEM. An SA whose algorithms espd cannot
 * run is still added, state unsupported (its traffic goes to the kernel),
 * and logged once as "linux-cp/ipsec: Invalid/Unsupported crypto algo:
 * <name> keylen: <bits>" (or "integ algo") on stderr.
 */
int sad_sa_add(const struct sa_params *p, uint32_t *index);
/*
 * What `ip xfrm state update` changes in an SA that exists (the kernel's
 * xfrm_state_update on a valid state): the UDP encapsulation's ports and
 * original address, never whether there is one, the lifetime limits, the
 * lifetime used so far kept and a soft expiry forgotten, and the if_id
 * when p has one. The rest of p (keys, algorithms, mode, flags, window) is
 * ignored, as the kernel ignores it; the SA keeps its index, sequence
 * number and window.
 * 0, -ESRCH (no such SA) or -EINVAL (encapsulation added or removed).
 */
int sad_sa_update_in_place(const struct sa_params *p);
int sad_sa_del(const struct sa_id *id);   /* 0 or -ENOENT */
void sad_flush(uint8_t origin);
/* The SA __xfrm_state_lookup finds for id (sad.c says how): index or
 * SAD_INDEX_NONE. sad_sa_add refuses an SA it finds (-EEXIST), as
 * xfrm_state_add does; update and delete change the SA it finds. */
uint32_t sad_find(const struct sa_id *id);
/* Re-decide every SA's direction from the FIB's local routes; returns how
 * many changed. Call after a netlink batch changed addresses or routes. */
unsigned sad_refresh_directions(void);
/* Free SAs whose grace period has ended (also done by every change). */
void sad_reclaim(void);
/* Bumped by every change SPD resolution depends on (add, del, direction). */
uint32_t sad_generation(void);
void sad_walk(int (*cb)(const struct sa *sa, void *arg), void *arg);
size_t sad_count(void);
/* Sum of an SA's counters over all workers since it was added: what its
 * lifetime has used. */
void sad_sa_counters(uint32_t index, struct sa_counters *sum);
/* What `show` gives: the sum since the SA's counters were last cleared. */
void sad_sa_counters_shown(uint32_t index, struct sa_counters *sum);
/* `clear ipsec sa`, `clear counters`: what show gives starts again from 0;
 * lifetimes, sequence numbers and replay windows go on as they were. */
void sad_sa_counters_clear(uint32_t index);
/*
 * The kernel's lifetimes (xfrm_state_check_expire, xfrm_timer_handler) for
 * espd's own SAs, at now_s (CLOCK_MONOTONIC seconds): one that a worker
 * stopped at a hard packet or byte limit (sa_used_take), or past its hard
 * limit of seconds since its add or first use, is removed, its keys wiped;
 * a soft limit is logged once and shown. Call about once a second: a soft
 * or time limit takes effect up to a call late. Kernel SAs are the
 * kernel's to expire. Returns how many SAs were removed or reached a soft
 * limit: out templates are to be resolved again (spd_commit).
 */
unsigned sad_expire(uint64_t now_s);
uint64_t sad_now_s(void);
/* Tests: called with each SA after its keys were wiped, before its memory
 * is released. */
extern void (*sad_free_hook)(const struct sa *sa);

/* Fast path (workers). */
struct sad_key {
	union {
		struct {
			uint32_t spi;   /* network order */
			uint8_t proto;
			uint8_t family;
			uint8_t pad[2];
			uint8_t dst[16];
		};
		uint64_t words[3];
	};
};
_Static_assert(sizeof(struct sad_key) == 24, "sad_key has no hidden padding");

extern struct sa **sad_sas;
/* SAs removed from sad_sas and not yet freed, by slot: a packet already
 * decrypted with one still has its inbound policy check to pass. */
extern struct sa **sad_sas_removed;
extern uint32_t sad_max;
extern struct sa_counters *sad_counters[ESPD_WORKERS_MAX];

/* Written in whole words (key_word_addr4 says why): ipsec-input compares
 * each key with the one before it right after building it. */
static inline void sad_key_set(struct sad_key *key, uint8_t family, const void *dst,
			       uint32_t spi_be, uint8_t proto)
{
	union {
		struct {
			uint32_t spi;
			uint8_t proto;
			uint8_t family;
		};
		uint64_t word;
	} head = { .word = 0 };

	head.spi = spi_be;
	head.proto = proto;
	head.family = family;
	key->words[0] = head.word;
	if (family == AF_INET6) {
		memcpy(&key->words[1], dst, 16);
		return;
	}
	key->words[1] = key_word_addr4(dst);
	key->words[2] = 0;
}

/* The SA at index, or NULL. Valid until the worker's next quiescent state. */
static inline struct sa *sad_sa(uint32_t index)
{
	if (index >= sad_max)
		return NULL;
	return __atomic_load_n(&sad_sas[index], __ATOMIC_ACQUIRE);
}

/*
 * The SA a packet of this walk was decrypted with, also if removed since:
 * the kernel's secpath holds its states, so a packet decrypted before the
 * SA's delete still passes the policy check (a rekey deletes the old SA
 * while its last packets are in flight). The grace period keeps it.
 */
static inline const struct sa *sad_sa_held(uint32_t index)
{
	const struct sa *sa = sad_sa(index);

	if (likely(sa) || index >= sad_max)
		return sa;
	return __atomic_load_n(&sad_sas_removed[index], __ATOMIC_ACQUIRE);
}

/* Inbound SA lookup: index or SAD_INDEX_NONE (unknown SPI: punt). */
uint32_t sad_lookup(const struct sad_key *key);
void sad_lookup_bulk(const struct sad_key *const keys[], uint32_t *indexes, unsigned n);

/* Whether the node may process the SA's packets itself. */
static inline bool sa_ready(const struct sa *sa, enum sa_dir dir)
{
	return sa->rt.crypto && sa->rt.dir == dir &&
	       __atomic_load_n(&sa->rt.state, __ATOMIC_RELAXED) == SA_STATE_VALID;
}

/*
 * Reserve up to n outbound sequence numbers for a burst: returns how many
 * were granted (fewer than n only at the very end of the space) with the
 * first in *first, or -EOVERFLOW when none is left; the SA then stops
 * (state expired(seq)) until the IKE daemon replaces it. Without ESN the
 * space ends at 2^32 - 1 (RFC 4303 s.3.3.3), unless the SA may wrap.
 */
static inline int __attribute__((warn_unused_result))
sad_seq_reserve(struct sa *sa, uint32_t n, uint64_t *first)
{
	uint64_t cur = __atomic_load_n(&sa->out.last, __ATOMIC_RELAXED);
	uint64_t grant;

	do {
		uint64_t left = sa->out.limit - cur;
		if (left == 0) {
			__atomic_store_n(&sa->rt.state, SA_STATE_EXPIRED_SEQ, __ATOMIC_RELAXED);
			return -EOVERFLOW;
		}
		grant = RTE_MIN((uint64_t)n, left);
	} while (!__atomic_compare_exchange_n(&sa->out.last, &cur, cur + grant, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*first = cur + 1;
	return (int)grant;
}

/* Whether workers count the SA's packets against packet or byte limits. */
static inline bool sa_limited(const struct sa *sa)
{
	return __atomic_load_n(&sa->rt.limited, __ATOMIC_ACQUIRE);
}

/* Whether packets and bytes counted before a packet reach a hard limit:
 * the SA then stops (state expired(lifetime)), for the control thread to
 * remove (xfrm_state_check_expire). */
static inline bool sa_hard_limit_hit(struct sa *sa, uint64_t packets, uint64_t bytes)
{
	if (packets < __atomic_load_n(&sa->used.hard_packets, __ATOMIC_RELAXED) &&
	    bytes < __atomic_load_n(&sa->used.hard_bytes, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&sa->rt.state, SA_STATE_EXPIRED_LIFETIME, __ATOMIC_RELAXED);
	return true;
}

/*
 * Whether an inbound SA had reached a hard packet or byte limit before this
 * packet, which is then dropped without being decrypted, and the SA stops:
 * xfrm_input calls xfrm_state_check_expire before esp_input, so a forged
 * packet too is counted as expired. The packet is counted as
 * sa_used_take counts the one that finds a limit: which limit stopped the
 * SA is told by it. Only for an SA that sa_limited.
 */
static inline bool sa_used_reached(struct sa *sa)
{
	if (!sa_hard_limit_hit(sa, __atomic_load_n(&sa->used.packets, __ATOMIC_RELAXED),
			       __atomic_load_n(&sa->used.bytes, __ATOMIC_RELAXED)))
		return false;
	__atomic_fetch_add(&sa->used.packets, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * Count one packet of bytes against the SA's limits: false when a hard
 * limit was reached before it (xfrm_state_check_expire), and the packet is
 * to be dropped; the SA then stops (state expired(lifetime)) and the
 * control thread removes it. A soft limit reached is left for the control
 * thread to log. Only for an SA that sa_limited. Outbound, before the
 * packet's sequence number is reserved: xfrm_output_one checks the state
 * before xfrm_replay_overflow numbers the packet.
 */
static inline bool __attribute__((warn_unused_result))
sa_used_take(struct sa *sa, uint64_t bytes)
{
	uint64_t packets = __atomic_fetch_add(&sa->used.packets, 1, __ATOMIC_RELAXED);
	uint64_t sum = __atomic_fetch_add(&sa->used.bytes, bytes, __ATOMIC_RELAXED);

	if (sa_hard_limit_hit(sa, packets, sum))
		return false;
	if (unlikely(packets >= __atomic_load_n(&sa->used.soft_packets, __ATOMIC_RELAXED) ||
		     sum >= __atomic_load_n(&sa->used.soft_bytes, __ATOMIC_RELAXED)) &&
	    !__atomic_load_n(&sa->used.soft_reached, __ATOMIC_RELAXED))
		__atomic_store_n(&sa->used.soft_reached, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * Give back what sa_used_take counted for a packet that then found no
 * sequence number left: xfrm_output_one adds to the lifetime only once
 * xfrm_replay_overflow has numbered the packet.
 */
static inline void sa_used_give_back(struct sa *sa, uint64_t bytes)
{
	__atomic_fetch_sub(&sa->used.packets, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&sa->used.bytes, bytes, __ATOMIC_RELAXED);
}

static inline void sa_count_packets(unsigned worker, uint32_t index, uint32_t packets,
				    uint64_t bytes)
{
	sad_counters[worker][index].packets += packets;
	sad_counters[worker][index].bytes += bytes;
}

/*
 * Successes of a run of packets of one SA, added to the SA's counters once
 * per run: adding to the same counter packet after packet makes each add
 * wait for the previous one's store.
 */
struct sa_count_run {
	uint32_t index; /* SAD_INDEX_NONE before the first packet */
	uint32_t packets;
	uint64_t bytes;
};

static inline void sa_count_run_flush(unsigned worker, struct sa_count_run *run)
{
	if (run->packets)
		sa_count_packets(worker, run->index, run->packets, run->bytes);
	run->packets = 0;
	run->bytes = 0;
}

static inline void sa_count_run_add(unsigned worker, struct sa_count_run *run, uint32_t index,
				    uint64_t bytes)
{
	if (run->index != index) {
		sa_count_run_flush(worker, run);
		run->index = index;
	}
	run->packets++;
	run->bytes += bytes;
}

static inline void sa_count_error(unsigned worker, uint32_t index, enum sa_error why)
{
	sad_counters[worker][index].errors[why]++;
}

const char *format_sa_dir(uint8_t dir);
const char *format_sa_state(uint8_t state);
const char *format_sa_mode(uint8_t mode);
const char *sa_error_name(enum sa_error why);
const char *sa_error_text(enum sa_error why);

#endif
