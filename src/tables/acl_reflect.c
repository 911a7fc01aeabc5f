/*
 * Reflect sessions for permit-reflect: one rte_hash per worker, written
 * only by that worker and read lock-free by every worker (the two
 * directions of a flow may be polled by different workers). The last-seen
 * time of a session lives in an array indexed by the hash position, so any
 * worker refreshes a session with one plain store. Idle sessions are
 * removed by their owner, a few per burst; a deleted key's slot is only
 * reused after an RCU grace period (rte_hash's defer queue on the workers'
 * QSBR variable), so a reader never sees a slot change under it. An expired
 * session that has not been swept yet is treated as absent.
 */
#include "tables/acl_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#define FULL_SWEEP_BUDGET 256
#define RECLAIM_TRIGGER 32

/* The flow as the packet that may use it will show it. */
struct session_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport, dport;
	uint16_t iface;
	uint8_t proto;
	uint8_t family;    /* enum acl_family */
	uint8_t dir;       /* enum acl_dir */
	uint8_t pad[7];
};

_Static_assert(sizeof(struct session_key) == 48, "session key is a multiple of 16 bytes");

struct session_table {
	struct rte_hash *hash;
	uint64_t *last_seen;      /* TSC, by hash position; any worker stores */
	uint32_t capacity;        /* positions */
	uint32_t sweep_next;      /* next position the sweep looks at */
	uint64_t active, created, expired, full;
} __rte_cache_aligned;

static struct {
	struct session_table tables[ESPD_WORKERS_MAX];
	unsigned n_workers;
	uint64_t tcp_timeout, other_timeout; /* TSC cycles */
	bool ready;
} sessions;

static int table_create(struct session_table *table, unsigned worker, struct rte_rcu_qsbr *rcu)
{
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "aclsess%u", worker);
	struct rte_hash_parameters params = {
		.name = name,
		.entries = ACL_SESSIONS_PER_WORKER,
		.key_len = sizeof(struct session_key),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu_config = {
		.v = rcu,
		.mode = RTE_HASH_QSBR_MODE_DQ,
		.trigger_reclaim_limit = RECLAIM_TRIGGER,
	};

	table->hash = rte_hash_create(&params);
	if (!table->hash)
		return rte_errno ? -rte_errno : -ENOMEM;
	if (rte_hash_rcu_qsbr_add(table->hash, &rcu_config) != 0)
		return rte_errno ? -rte_errno : -EINVAL;
	table->capacity = (uint32_t)rte_hash_max_key_id(table->hash);
	table->last_seen = rte_zmalloc("acl_session_times", sizeof(uint64_t) * table->capacity,
				       RTE_CACHE_LINE_SIZE);
	return table->last_seen ? 0 : -ENOMEM;
}

void acl_sessions_fini(void)
{
	for (unsigned w = 0; w < ESPD_WORKERS_MAX; w++) {
		rte_hash_free(sessions.tables[w].hash);
		rte_free(sessions.tables[w].last_seen);
	}
	memset(&sessions, 0, sizeof(sessions));
}

int acl_sessions_init(unsigned n_workers, struct rte_rcu_qsbr *rcu, uint64_t tsc_hz)
{
	if (acl_sessions_ready())
		return 0;
	for (unsigned w = 0; w < n_workers; w++) {
		int rc = table_create(&sessions.tables[w], w, rcu);
		if (rc < 0) {
			acl_sessions_fini();
			return rc;
		}
	}
	sessions.n_workers = n_workers;
	sessions.tcp_timeout = ACL_TCP_TIMEOUT_S * tsc_hz;
	sessions.other_timeout = ACL_OTHER_TIMEOUT_S * tsc_hz;
	/* Published with the tables that first need them (release store). */
	__atomic_store_n(&sessions.ready, true, __ATOMIC_RELEASE);
	return 0;
}

bool acl_sessions_ready(void)
{
	return __atomic_load_n(&sessions.ready, __ATOMIC_ACQUIRE);
}

static inline uint64_t timeout_of(uint8_t proto)
{
	return proto == IPPROTO_TCP ? sessions.tcp_timeout : sessions.other_timeout;
}

/* Idle for longer than its timeout; another worker may have stored a
 * time a little later than this worker's now. */
static inline bool idle(uint64_t seen, uint64_t now, uint8_t proto)
{
	return now > seen && now - seen > timeout_of(proto);
}

#define ICMP_NO_REPLY 255 /* a type nothing sends */

/* The ICMP query reply type that answers type (RFC 792, RFC 4443), or
 * ICMP_NO_REPLY for messages that have no reply. */
static uint8_t icmp_reply_type(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMPV6)
		return type == 128 ? 129 : ICMP_NO_REPLY;
	switch (type) {
	case 8: return 0;   /* echo */
	case 13: return 14; /* timestamp */
	case 15: return 16; /* information */
	case 17: return 18; /* address mask */
	default: return ICMP_NO_REPLY;
	}
}

/* The flow as the packet that may use it shows it: reversed for the reply
 * a packet expects. ICMP flows are the query identifier and the type (the
 * key parser put them where ports are): an echo request expects an echo
 * reply with the same identifier, not another request. False when a
 * reversed flow has no reply to expect (ICMP errors), and for packets
 * whose transport header could not be read: a non-first fragment shows no
 * ports or identifier, so it neither makes nor matches a session (a flow
 * keyed on zero ports would let in any later fragment between the two
 * addresses). */
static bool key_make(struct session_key *s, const struct acl_key *key, enum acl_family fam,
		     uint16_t iface, enum acl_dir dir, bool reverse)
{
	if (!(key->parsed & ACL_KEY_L4))
		return false;
	memset(s, 0, sizeof(*s));
	memcpy(s->src, reverse ? key->dst : key->src, sizeof(s->src));
	memcpy(s->dst, reverse ? key->src : key->dst, sizeof(s->dst));
	s->iface = iface;
	s->proto = key->proto;
	s->family = (uint8_t)fam;
	s->dir = (uint8_t)dir;
	if (key->proto == IPPROTO_ICMP || key->proto == IPPROTO_ICMPV6) {
		uint8_t type = ((const uint8_t *)&key->dport)[0];
		uint8_t *flow_type = (uint8_t *)&s->dport;
		s->sport = key->sport;
		flow_type[0] = reverse ? icmp_reply_type(key->proto, type) : type;
		return flow_type[0] != ICMP_NO_REPLY;
	}
	s->sport = reverse ? key->dport : key->sport;
	s->dport = reverse ? key->sport : key->dport;
	return true;
}

/* Refresh the session in table w if it is live; false if absent or idle. */
static bool refresh(const struct session_table *table, const struct session_key *s, uint64_t now)
{
	int32_t pos = rte_hash_lookup(table->hash, s);
	if (pos < 0)
		return false;
	uint64_t *seen = &table->last_seen[pos];
	if (idle(__atomic_load_n(seen, __ATOMIC_RELAXED), now, s->proto))
		return false;
	__atomic_store_n(seen, now, __ATOMIC_RELAXED);
	return true;
}

/* Own table first, then the other workers'. */
static bool refresh_any(unsigned worker, const struct session_key *s, uint64_t now)
{
	if (refresh(&sessions.tables[worker], s, now))
		return true;
	for (unsigned w = 0; w < sessions.n_workers; w++)
		if (w != worker && refresh(&sessions.tables[w], s, now))
			return true;
	return false;
}

/* Look at up to budget positions from the cursor and delete idle sessions.
 * A zero last-seen time marks a free position. */
static void sweep(struct session_table *table, uint64_t now, unsigned budget)
{
	for (unsigned i = 0; i < budget && table->active; i++) {
		uint32_t pos = table->sweep_next;
		table->sweep_next = pos + 1 == table->capacity ? 0 : pos + 1;
		uint64_t *seen = &table->last_seen[pos];
		uint64_t when = __atomic_load_n(seen, __ATOMIC_RELAXED);
		void *key;
		if (!when)
			continue;
		if (rte_hash_get_key_with_position(table->hash, (int32_t)pos, &key) < 0) {
			__atomic_store_n(seen, 0, __ATOMIC_RELAXED);
			continue;
		}
		const struct session_key *s = key;
		if (!idle(when, now, s->proto))
			continue;
		if (rte_hash_del_key(table->hash, s) >= 0) {
			table->active--;
			table->expired++;
		}
		__atomic_store_n(seen, 0, __ATOMIC_RELAXED);
	}
}

void acl_sessions_sweep(unsigned worker, uint64_t now, unsigned budget)
{
	sweep(&sessions.tables[worker], now, budget);
}

void acl_session_track(unsigned worker, const struct acl_key *key, enum acl_family fam,
		       uint16_t iface, enum acl_dir dir, uint64_t now)
{
	struct session_table *table = &sessions.tables[worker];
	struct session_key s;

	if (!acl_sessions_ready())
		return;
	if (!key_make(&s, key, fam, iface, dir == ACL_DIR_INPUT ? ACL_DIR_OUTPUT : ACL_DIR_INPUT,
		      true))
		return;
	int32_t pos = rte_hash_lookup(table->hash, &s);
	if (pos >= 0) {
		__atomic_store_n(&table->last_seen[pos], now, __ATOMIC_RELAXED);
		return;
	}
	if (refresh_any(worker, &s, now))
		return;
	pos = rte_hash_add_key(table->hash, &s);
	if (pos == -ENOSPC) {
		sweep(table, now, FULL_SWEEP_BUDGET);
		pos = rte_hash_add_key(table->hash, &s);
	}
	if (pos < 0) {
		table->full++;
		return;
	}
	__atomic_store_n(&table->last_seen[pos], now, __ATOMIC_RELAXED);
	table->active++;
	table->created++;
}

bool acl_session_hit(unsigned worker, const struct acl_key *key, enum acl_family fam,
		     uint16_t iface, enum acl_dir dir, uint64_t now)
{
	struct session_key s;

	if (!acl_sessions_ready())
		return false;
	return key_make(&s, key, fam, iface, dir, false) && refresh_any(worker, &s, now);
}

void acl_sessions_stats(struct acl_session_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (unsigned w = 0; w < sessions.n_workers; w++) {
		const struct session_table *table = &sessions.tables[w];
		stats->active += __atomic_load_n(&table->active, __ATOMIC_RELAXED);
		stats->created += __atomic_load_n(&table->created, __ATOMIC_RELAXED);
		stats->expired += __atomic_load_n(&table->expired, __ATOMIC_RELAXED);
		stats->full += __atomic_load_n(&table->full, __ATOMIC_RELAXED);
	}
}
