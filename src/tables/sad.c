/*
 * The SAD: SA lifecycle (crypto context, direction, sequence number and
 * replay state), the control-side identity hash, the lock-free fast-path
 * hash for inbound lookups, and RCU-deferred freeing with key wiping.
 */
#include "tables/sad.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include "tables/fib.h"
#include "tables/path_mtu.h"

struct sa **sad_sas;
struct sa **sad_sas_removed;
uint32_t sad_max;
struct sa_counters *sad_counters[ESPD_WORKERS_MAX];
void (*sad_free_hook)(const struct sa *sa);

/* What waits in the defer queue for its grace period. */
struct retired {
	struct sa *sa;
};

static struct {
	struct rte_rcu_qsbr *rcu;
	struct rte_hash *fast; /* sad_key -> index, workers read */
	struct rte_rcu_qsbr_dq *dq;
	uint32_t *free_slots;
	struct sa_counters *cleared; /* by slot: the sums at the last clear */
	uint32_t n_free;
	uint32_t count;
	uint32_t next_uid;
	uint32_t generation;
	unsigned n_workers;
} sad;

static void fast_key_of(const struct sa *sa, struct sad_key *key)
{
	sad_key_set(key, sa->rt.dst.family, sa->rt.dst.bytes, sa->rt.spi_be, sa->rt.proto);
}

static void sa_release(struct sa *sa)
{
	uint32_t index = sa->rt.index;

	esp_crypto_destroy(&sa->crypto);
	if (sad_free_hook)
		sad_free_hook(sa);
	explicit_bzero(sa, sizeof(*sa));
	rte_free(sa);
	__atomic_store_n(&sad_sas_removed[index], NULL, __ATOMIC_RELAXED);
	memset(&sad.cleared[index], 0, sizeof(sad.cleared[index]));
	for (unsigned w = 0; w < sad.n_workers; w++)
		memset(&sad_counters[w][index], 0, sizeof(sad_counters[w][index]));
	sad.free_slots[sad.n_free++] = index;
}

static void retired_free(void *p, void *elements, unsigned n)
{
	const struct retired *r = elements;

	(void)p;
	for (unsigned i = 0; i < n; i++)
		sa_release(r[i].sa);
}

static struct rte_hash *hash_create(const char *name, uint32_t entries, uint32_t key_len,
				    bool lock_free)
{
	struct rte_hash_parameters params = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = lock_free ? RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF : 0,
	};
	return rte_hash_create(&params);
}

int sad_init(struct rte_rcu_qsbr *rcu, uint32_t max_sas, unsigned n_workers)
{
	struct rte_rcu_qsbr_dq_parameters dq_params = {
		.name = "sad_retired",
		.size = max_sas,
		.esize = sizeof(struct retired),
		.free_fn = retired_free,
		.v = rcu,
		.trigger_reclaim_limit = 1,
		.max_reclaim_size = 64,
	};
	struct rte_hash_rcu_config rcu_config = { .v = rcu, .mode = RTE_HASH_QSBR_MODE_DQ };

	if (!rcu || max_sas == 0 || n_workers > ESPD_WORKERS_MAX)
		return -EINVAL;
	sad.rcu = rcu;
	sad.n_workers = n_workers;
	sad_max = max_sas;
	sad_sas = rte_zmalloc("sad_sas", sizeof(*sad_sas) * max_sas, RTE_CACHE_LINE_SIZE);
	sad_sas_removed = rte_zmalloc("sad_sas_removed", sizeof(*sad_sas_removed) * max_sas,
				      RTE_CACHE_LINE_SIZE);
	sad.free_slots = rte_zmalloc("sad_free", sizeof(uint32_t) * max_sas, 0);
	sad.cleared = calloc(max_sas, sizeof(*sad.cleared));
	for (unsigned w = 0; w < n_workers; w++)
		sad_counters[w] = rte_zmalloc("sad_counters", sizeof(struct sa_counters) * max_sas,
					      RTE_CACHE_LINE_SIZE);
	sad.fast = hash_create("sad_fast", max_sas, sizeof(struct sad_key), true);
	sad.dq = rte_rcu_qsbr_dq_create(&dq_params);
	if (!sad_sas || !sad_sas_removed || !sad.free_slots || !sad.cleared || !sad.fast ||
	    !sad.dq || (n_workers && !sad_counters[n_workers - 1]) ||
	    path_mtu_init(max_sas) != 0) {
		sad_destroy();
		return -ENOMEM;
	}
	if (rte_hash_rcu_qsbr_add(sad.fast, &rcu_config) != 0) {
		sad_destroy();
		return -rte_errno;
	}
	for (uint32_t i = max_sas; i-- > 0;)
		sad.free_slots[sad.n_free++] = i;
	return 0;
}

/* Workers must be stopped: everything goes at once. */
void sad_destroy(void)
{
	for (uint32_t i = 0; sad_sas && i < sad_max; i++)
		if (sad_sas[i])
			sa_release(sad_sas[i]);
	if (sad.dq)
		rte_rcu_qsbr_dq_delete(sad.dq);
	rte_hash_free(sad.fast);
	path_mtu_destroy();
	rte_free(sad.free_slots);
	free(sad.cleared);
	rte_free(sad_sas);
	rte_free(sad_sas_removed);
	for (unsigned w = 0; w < ESPD_WORKERS_MAX; w++) {
		rte_free(sad_counters[w]);
		sad_counters[w] = NULL;
	}
	memset(&sad, 0, sizeof(sad));
	sad_sas = NULL;
	sad_sas_removed = NULL;
	sad_max = 0;
}

/* ---- Direction ---- */

static bool is_local(const struct ip_addr *addr)
{
	struct ip_prefix prefix = { .addr = *addr, .len = ip_addr_size(addr->family) * 8 };
	const struct fib_route *route;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return false;
	route = fib_route_find(&prefix);
	return route && route->nexthop.type == NEXTHOP_LOCAL;
}

static uint8_t direction_of(const struct sa *sa)
{
	if (is_local(&sa->rt.src))
		return SA_DIR_OUT;
	if (is_local(&sa->rt.dst))
		return SA_DIR_IN;
	return SA_DIR_UNUSED;
}

unsigned sad_refresh_directions(void)
{
	unsigned changed = 0;

	for (uint32_t i = 0; i < sad_max; i++) {
		struct sa *sa = sad_sas[i];
		uint8_t dir;

		if (!sa)
			continue;
		dir = direction_of(sa);
		if (dir == sa->rt.dir)
			continue;
		__atomic_store_n(&sa->rt.dir, dir, __ATOMIC_RELEASE);
		changed++;
	}
	if (changed)
		sad.generation++;
	sad_reclaim();
	return changed;
}

/* ---- Crypto ---- */

static void unsupported(struct sa *sa, const char *reason)
{
	sa->rt.state = SA_STATE_UNSUPPORTED;
	snprintf(sa->cfg.reason, sizeof(sa->cfg.reason), "%s", reason);
}

/* The line VyOS users search for; once per SA, never with key material. */
static void log_unsupported(struct sa *sa, const char *kind, const char *name, unsigned bits)
{
	if (sa->cfg.logged)
		return;
	sa->cfg.logged = true;
	fprintf(stderr, "linux-cp/ipsec: Invalid/Unsupported %s algo: %s keylen: %u\n", kind,
		name && *name ? name : "none", bits);
}

static void alg_record(struct sa_alg *alg, const struct sa_alg_params *p)
{
	if (!p->name)
		return;
	snprintf(alg->name, sizeof(alg->name), "%s", p->name);
	alg->key_bits = p->key_bits;
	alg->icv_bits = p->icv_bits;
}

static bool alg_find(struct sa *sa, enum esp_crypto_alg_type type, const struct sa_alg_params *a,
		     const struct esp_crypto_alg **alg)
{
	const char *kind = type == ESP_CRYPTO_ALG_AUTH ? "integ" : "crypto";

	if (!a->name || esp_crypto_alg_lookup(type, a->name, a->key_bits, alg) != 0) {
		log_unsupported(sa, kind, a->name, a->key_bits);
		unsupported(sa, "algorithm or key length not supported");
		return false;
	}
	return true;
}

/* Fill the crypto parameters; false (SA unsupported, logged) when espd
 * cannot run the SA's algorithms. */
static bool crypto_params(struct sa *sa, const struct sa_params *p, struct esp_crypto_params *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->esn = p->flags & SA_FLAG_ESN;
	cp->arch = ESP_CRYPTO_ARCH_AUTO;
	if (p->aead.name) {
		if (!alg_find(sa, ESP_CRYPTO_ALG_AEAD, &p->aead, &cp->aead))
			return false;
		cp->aead_key = p->aead.key;
		cp->aead_key_bits = p->aead.key_bits;
		cp->icv_bits = p->aead.icv_bits;
		return true;
	}
	if (!alg_find(sa, ESP_CRYPTO_ALG_ENC, &p->enc, &cp->enc) ||
	    !alg_find(sa, ESP_CRYPTO_ALG_AUTH, &p->auth, &cp->auth))
		return false;
	cp->enc_key = p->enc.key;
	cp->enc_key_bits = p->enc.key_bits;
	cp->auth_key = p->auth.key;
	cp->auth_key_bits = p->auth.key_bits;
	cp->icv_bits = p->auth.icv_bits;
	return true;
}

static void crypto_setup(struct sa *sa, const struct sa_params *p)
{
	struct esp_crypto_params cp;
	const struct sa_alg_params *cipher = p->aead.name ? &p->aead : &p->enc;
	int rc;

	alg_record(&sa->cfg.enc, &p->enc);
	alg_record(&sa->cfg.auth, &p->auth);
	alg_record(&sa->cfg.aead, &p->aead);
	if (p->id.proto != IPPROTO_ESP) {
		unsupported(sa, "not ESP");
		return;
	}
	if (p->mode != SA_MODE_TUNNEL && p->mode != SA_MODE_TRANSPORT) {
		unsupported(sa, "mode not supported");
		return;
	}
	if (!crypto_params(sa, p, &cp))
		return;
	rc = esp_crypto_init(&sa->crypto, p->engine, &cp);
	if (rc != 0) {
		log_unsupported(sa, "crypto", cipher->name, cipher->key_bits);
		unsupported(sa, rc == -ENOTSUP ? "algorithm not supported"
					       : "algorithm parameters refused");
		return;
	}
	sa->rt.crypto = &sa->crypto;
	/* Shown as ip xfrm state shows it: the truncation as given, which
	 * may leave bits of a byte the ICV does not use, or the default. */
	struct sa_alg *shown = p->aead.name ? &sa->cfg.aead : &sa->cfg.auth;
	if (!shown->icv_bits)
		shown->icv_bits = sa->crypto.icv_len * 8;
}

/* ---- Add, update, delete ---- */

static int params_check(const struct sa_params *p)
{
	uint8_t family = p->id.dst.family;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (p->src.family && p->src.family != family)
		return -EINVAL;
	if (p->replay_window > REPLAY_WINDOW_MAX)
		return -EINVAL;
	return 0;
}

static union sa_udp_ports udp_ports_of(const struct sa_encap *encap)
{
	return (union sa_udp_ports){ .sport_be = rte_cpu_to_be_16(encap->sport),
				     .dport_be = rte_cpu_to_be_16(encap->dport) };
}

/*
 * Workers count the packets of an espd SA with packet or byte limits
 * against them from now on; one that had none starts from its counters,
 * as the kernel's lifetime counts all along. A soft limit reached before
 * is forgotten, as xfrm_state_update clears km.dying.
 */
static void used_limits_set(struct sa *sa, const struct sa_lifetime *l)
{
	bool limited = (l->hard_packets & l->hard_bytes & l->soft_packets & l->soft_bytes) !=
		SA_LIMIT_NONE;

	if (sa->rt.origin != IPSEC_ORIGIN_CLI)
		return;
	if (!sa_limited(sa)) {
		struct sa_counters c;
		sad_sa_counters(sa->rt.index, &c);
		__atomic_store_n(&sa->used.packets, c.packets, __ATOMIC_RELAXED);
		__atomic_store_n(&sa->used.bytes, c.bytes, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&sa->used.hard_packets, l->hard_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->used.hard_bytes, l->hard_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->used.soft_packets, l->soft_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->used.soft_bytes, l->soft_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->used.soft_reached, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->rt.limited, limited, __ATOMIC_RELEASE);
}

static struct sa *sa_build(const struct sa_params *p, uint32_t index)
{
	struct sa *sa = rte_zmalloc("sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);

	if (!sa)
		return NULL;
	sa->rt.spi_be = rte_cpu_to_be_32(p->id.spi);
	sa->rt.index = index;
	sa->rt.reqid = p->reqid;
	sa->rt.mode = p->mode;
	sa->rt.proto = p->id.proto;
	sa->rt.flags = p->flags;
	sa->rt.family = p->id.dst.family;
	sa->rt.encap = p->encap.type != 0;
	sa->rt.origin = p->origin;
	sa->rt.extra_flags = p->extra_flags;
	sa->rt.encap_ports = udp_ports_of(&p->encap);
	sa->rt.src = p->src;
	sa->rt.dst = p->id.dst;
	sa->rt.path_mtu = path_mtu_get(&p->id.dst, NULL);
	sa->rt.sel = p->sel;
	sa->cfg.id = p->id;
	sa->cfg.id.mark_v &= p->id.mark_m;
	sa->cfg.encap = p->encap;
	sa->cfg.lifetime = p->lifetime;
	used_limits_set(sa, &p->lifetime);
	sa->cfg.replay_window = p->replay_window;
	sa->cfg.engine = p->engine;
	sa->cfg.add_time_s = sad_now_s();
	rte_spinlock_init(&sa->in.lock);
	sa->out.last = p->oseq;
	sa->out.limit = (p->flags & SA_FLAG_ESN) || (p->extra_flags & SA_XFLAG_OSEQ_MAY_WRAP) ?
			UINT64_MAX : UINT32_MAX;
	crypto_setup(sa, p);
	if (replay_init(&sa->in.w, p->replay_window, p->flags & SA_FLAG_ESN, p->iseq) != 0 &&
	    sa->rt.state == SA_STATE_VALID)
		unsupported(sa, "ESN without a replay window");
	sa->rt.dir = direction_of(sa);
	return sa;
}

/* Packets reach espd without a mark, and __xfrm_state_lookup compares
 * (mark & m) with v: an SA whose mark value is not 0 takes none of them. */
static bool takes_unmarked(const struct sa *sa)
{
	return (sa->cfg.id.mark_v & sa->cfg.id.mark_m) == 0;
}

/* The fast hash holds the SAs that take unmarked packets. No two share a
 * key: sad_sa_add refuses a second, which an unmarked lookup of the first
 * would find (xfrm_state_add's File exists). */
static void fast_insert(struct sa *sa)
{
	struct sad_key key;

	if (!takes_unmarked(sa))
		return;
	fast_key_of(sa, &key);
	sa->cfg.in_hash = rte_hash_add_key_data(sad.fast, &key,
						(void *)(uintptr_t)sa->rt.index) == 0;
}

static void fast_remove(struct sa *sa)
{
	struct sad_key key;

	if (!sa->cfg.in_hash)
		return;
	fast_key_of(sa, &key);
	rte_hash_del_key(sad.fast, &key);
}

static int slot_take(uint32_t *index)
{
	if (sad.n_free == 0)
		sad_reclaim();
	if (sad.n_free == 0)
		return -ENOSPC;
	*index = sad.free_slots[--sad.n_free];
	return 0;
}

int sad_sa_add(const struct sa_params *p, uint32_t *index)
{
	struct sa *sa;
	uint32_t slot;
	int rc = params_check(p);

	if (rc != 0)
		return rc;
	/* xfrm_state_add: one the new SA's own mark finds is there already. */
	if (sad_find(&p->id) != SAD_INDEX_NONE)
		return -EEXIST;
	rc = slot_take(&slot);
	if (rc != 0)
		return rc;
	sa = sa_build(p, slot);
	if (!sa) {
		sad.free_slots[sad.n_free++] = slot;
		return -ENOMEM;
	}
	sa->rt.uid = ++sad.next_uid;
	fast_insert(sa);
	__atomic_store_n(&sad_sas[slot], sa, __ATOMIC_RELEASE);
	sad.count++;
	sad.generation++;
	*index = slot;
	return 0;
}

int sad_sa_update_in_place(const struct sa_params *p)
{
	uint32_t index = sad_find(&p->id);
	struct sa *sa;

	if (index == SAD_INDEX_NONE)
		return -ESRCH;
	sa = sad_sas[index];
	if (p->encap.type != sa->cfg.encap.type)
		return -EINVAL;
	if (p->encap.type) {
		sa->cfg.encap = p->encap;
		__atomic_store_n(&sa->rt.encap_ports.both, udp_ports_of(&p->encap).both,
				 __ATOMIC_RELAXED);
	}
	sa->cfg.lifetime = p->lifetime;
	used_limits_set(sa, &p->lifetime);
	if (sa->cfg.soft_expired)
		sad.generation++; /* preferred again by out templates */
	sa->cfg.soft_expired = false;
	/* An if_id given is the SA's from now on (out templates compare it). */
	if (p->id.if_id && p->id.if_id != sa->cfg.id.if_id) {
		sa->cfg.id.if_id = p->id.if_id;
		sad.generation++;
	}
	return 0;
}

static void sa_remove(struct sa *sa)
{
	struct retired r = { .sa = sa };

	__atomic_store_n(&sad_sas_removed[sa->rt.index], sa, __ATOMIC_RELEASE);
	__atomic_store_n(&sad_sas[sa->rt.index], NULL, __ATOMIC_RELEASE);
	fast_remove(sa);
	sad.count--;
	sad.generation++;
	/* Keys are wiped when no worker can hold the SA any more. */
	if (rte_rcu_qsbr_dq_enqueue(sad.dq, &r) != 0) {
		rte_rcu_qsbr_synchronize(sad.rcu, RTE_QSBR_THRID_INVALID);
		sa_release(sa);
	}
}

int sad_sa_del(const struct sa_id *id)
{
	uint32_t index = sad_find(id);

	if (index == SAD_INDEX_NONE)
		return -ENOENT;
	sa_remove(sad_sas[index]);
	sad_reclaim();
	return 0;
}

void sad_flush(uint8_t origin)
{
	for (uint32_t i = 0; i < sad_max; i++)
		if (sad_sas[i] && sad_sas[i]->rt.origin == origin)
			sa_remove(sad_sas[i]);
	sad_reclaim();
}

/* ---- Lifetimes ---- */

uint64_t sad_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Whether the packet or the byte limit stopped the SA: the packet that
 * found a packet limit reached made the count pass it. */
static const char *used_which(const struct sa *sa, uint64_t packet_limit)
{
	return __atomic_load_n(&sa->used.packets, __ATOMIC_RELAXED) > packet_limit
		? "packet" : "byte";
}

/* Which hard (or soft) packet or byte limit a worker found reached, or NULL. */
static const char *used_up(const struct sa *sa, bool hard)
{
	if (hard)
		return __atomic_load_n(&sa->rt.state, __ATOMIC_RELAXED) ==
			SA_STATE_EXPIRED_LIFETIME ? used_which(sa, sa->used.hard_packets) : NULL;
	return __atomic_load_n(&sa->used.soft_reached, __ATOMIC_RELAXED)
		? used_which(sa, sa->used.soft_packets) : NULL;
}

/* A time limit of 0 is none. */
static bool time_limit_reached(uint64_t seconds, uint64_t limit)
{
	return limit && seconds >= limit;
}

/* Which of the SA's hard (or soft) limits was reached at now_s, or NULL;
 * the packet and byte limits are the workers'. */
static const char *limit_reached(const struct sa *sa, uint64_t now_s, bool hard)
{
	const struct sa_config *cfg = &sa->cfg;
	const struct sa_lifetime *l = &cfg->lifetime;
	uint64_t added = now_s - cfg->add_time_s;
	uint64_t used = cfg->use_time_s ? now_s - cfg->use_time_s : 0;
	const char *why = used_up(sa, hard);

	if (why)
		return why;
	if (time_limit_reached(added, hard ? l->hard_add_s : l->soft_add_s))
		return "time";
	if (time_limit_reached(used, hard ? l->hard_use_s : l->soft_use_s))
		return "time-use";
	return NULL;
}

/* Whether the SA saw a packet that passed the point where
 * xfrm_state_check_expire starts the kernel's use clock: after the replay
 * and encapsulation checks and the tunnel MTU, before decryption, so a
 * packet failing its ICV starts it too. */
static bool sa_used_yet(const struct sa_counters *c)
{
	uint64_t seen = c->packets;

	for (unsigned e = 0; e < SA_ERROR_MAX; e++)
		if (e != SA_ERROR_REPLAY && e != SA_ERROR_WINDOW_LEFT && e != SA_ERROR_SEQ_ZERO &&
		    e != SA_ERROR_ENCAP && e != SA_ERROR_MTU)
			seen += c->errors[e];
	return seen != 0;
}

enum lifetime_event {
	LIFETIME_NONE,
	LIFETIME_SOFT, /* a soft limit was reached just now */
	LIFETIME_HARD, /* the SA is to be removed */
};

static enum lifetime_event lifetime_check(struct sa *sa, uint64_t now_s)
{
	struct sa_counters c;
	const char *why;

	sad_sa_counters(sa->rt.index, &c);
	if (!sa->cfg.use_time_s && sa_used_yet(&c))
		sa->cfg.use_time_s = now_s;
	if ((why = limit_reached(sa, now_s, true)) != NULL) {
		fprintf(stderr, "espd: ipsec: SA spi 0x%08x expired (%s-hard limit): removed\n",
			sa->cfg.id.spi, why);
		return LIFETIME_HARD;
	}
	if (!sa->cfg.soft_expired && (why = limit_reached(sa, now_s, false)) != NULL) {
		sa->cfg.soft_expired = true;
		fprintf(stderr, "espd: ipsec: SA spi 0x%08x reached its %s-soft limit\n",
			sa->cfg.id.spi, why);
		return LIFETIME_SOFT;
	}
	return LIFETIME_NONE;
}

unsigned sad_expire(uint64_t now_s)
{
	unsigned changed = 0, removed = 0;

	for (uint32_t i = 0; i < sad_max; i++) {
		struct sa *sa = sad_sas[i];
		if (!sa || sa->rt.origin != IPSEC_ORIGIN_CLI)
			continue;
		switch (lifetime_check(sa, now_s)) {
		case LIFETIME_HARD:
			sa_remove(sa);
			removed++;
			changed++;
			break;
		case LIFETIME_SOFT:
			sad.generation++; /* resolved against by the SPD */
			changed++;
			break;
		case LIFETIME_NONE:
			break;
		}
	}
	if (removed)
		sad_reclaim();
	return changed;
}

/*
 * __xfrm_state_lookup: an SA of the id's SPI, protocol and destination
 * whose mask over the id's mark (value under its mask) gives the SA's
 * value; the if_id is not compared. The newest first, as the kernel's
 * chain puts the last added in front.
 */
uint32_t sad_find(const struct sa_id *id)
{
	uint32_t mark = id->mark_v & id->mark_m, found = SAD_INDEX_NONE;

	for (uint32_t i = 0; i < sad_max; i++) {
		const struct sa *sa = sad_sas[i];

		if (!sa || sa->cfg.id.spi != id->spi || sa->cfg.id.proto != id->proto ||
		    !ip_addr_equal(&sa->cfg.id.dst, &id->dst) ||
		    (mark & sa->cfg.id.mark_m) != sa->cfg.id.mark_v)
			continue;
		if (found == SAD_INDEX_NONE || sa->rt.uid > sad_sas[found]->rt.uid)
			found = i;
	}
	return found;
}

void sad_reclaim(void)
{
	if (sad.dq)
		rte_rcu_qsbr_dq_reclaim(sad.dq, UINT32_MAX, NULL, NULL, NULL);
}

uint32_t sad_generation(void)
{
	return sad.generation;
}

void sad_walk(int (*cb)(const struct sa *sa, void *arg), void *arg)
{
	for (uint32_t i = 0; i < sad_max; i++)
		if (sad_sas[i] && cb(sad_sas[i], arg))
			return;
}

size_t sad_count(void)
{
	return sad.count;
}

void sad_sa_counters(uint32_t index, struct sa_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (index >= sad_max)
		return;
	for (unsigned w = 0; w < sad.n_workers; w++) {
		const struct sa_counters *c = &sad_counters[w][index];
		sum->packets += c->packets;
		sum->bytes += c->bytes;
		for (unsigned e = 0; e < SA_ERROR_MAX; e++)
			sum->errors[e] += c->errors[e];
	}
}

void sad_sa_counters_shown(uint32_t index, struct sa_counters *sum)
{
	sad_sa_counters(index, sum);
	if (index >= sad_max)
		return;
	sum->packets -= sad.cleared[index].packets;
	sum->bytes -= sad.cleared[index].bytes;
	for (unsigned e = 0; e < SA_ERROR_MAX; e++)
		sum->errors[e] -= sad.cleared[index].errors[e];
}

void sad_sa_counters_clear(uint32_t index)
{
	if (index < sad_max)
		sad_sa_counters(index, &sad.cleared[index]);
}

/* ---- Fast path ---- */

uint32_t sad_lookup(const struct sad_key *key)
{
	void *data;

	if (rte_hash_lookup_data(sad.fast, key, &data) < 0)
		return SAD_INDEX_NONE;
	return (uint32_t)(uintptr_t)data;
}

void sad_lookup_bulk(const struct sad_key *const keys[], uint32_t *indexes, unsigned n)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits;

	for (unsigned base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
		unsigned count = RTE_MIN(n - base, (unsigned)RTE_HASH_LOOKUP_BULK_MAX);
		rte_hash_lookup_bulk_data(sad.fast, (const void **)(uintptr_t)(keys + base), count,
					  &hits, data);
		for (unsigned i = 0; i < count; i++)
			indexes[base + i] = hits & (1ull << i) ? (uint32_t)(uintptr_t)data[i]
							     : SAD_INDEX_NONE;
	}
}

/* ---- Names ---- */

const char *format_sa_dir(uint8_t dir)
{
	static const char *const names[] = { "unused", "in", "out" };
	return dir < RTE_DIM(names) ? names[dir] : "?";
}

const char *format_sa_state(uint8_t state)
{
	static const char *const names[] = { "valid", "expired(seq)", "unsupported",
					       "expired(lifetime)" };
	return state < RTE_DIM(names) ? names[state] : "?";
}

const char *format_sa_mode(uint8_t mode)
{
	static const char *const names[] = { "transport", "tunnel", "ro", "in_trigger", "beet" };
	return mode < RTE_DIM(names) ? names[mode] : "?";
}

const char *sa_error_name(enum sa_error why)
{
	static const char *const names[] = {
#define _(id, name, text) name,
		foreach_sa_error(_)
#undef _
	};
	return (unsigned)why < RTE_DIM(names) ? names[why] : "?";
}

const char *sa_error_text(enum sa_error why)
{
	static const char *const texts[] = {
#define _(id, name, text) text,
		foreach_sa_error(_)
#undef _
	};
	return (unsigned)why < RTE_DIM(texts) ? texts[why] : "?";
}
