/*
 * The path MTU table of the control thread and the ring of the workers'
 * reports (path_mtu.h).
 */
#include "tables/path_mtu.h"

#include <errno.h>
#include <stdio.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include "common/sysctl.h"
#include "tables/sad.h"

#define REPORTS_MAX 256 /* reports waiting for the control thread */

struct report {
	struct ip_addr dst;
	uint32_t mtu;
};

struct peer {
	struct ip_addr dst;
	uint32_t mtu;
	uint64_t expires_s;
	bool locked; /* IPv4, at min_pmtu from a report below it */
};

struct path_mtu_rules path_mtu_rules = { 552, { 600, 600 } };

static struct {
	struct rte_ring *reports;
	struct rte_hash *peers_by_dst;
	struct peer *peers; /* at the hash's key positions; mtu 0: free */
	uint32_t max_peers;
	uint64_t last_expiry_s;
	bool full_logged;
} table;

int path_mtu_init(uint32_t max_peers)
{
	struct rte_hash_parameters params = {
		.name = "path_mtu",
		.entries = max_peers,
		.key_len = sizeof(struct ip_addr),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
	};

	path_mtu_rules.ip4_min = sysctl_read_or("/proc/sys/net/ipv4/route/min_pmtu", 552);
	path_mtu_rules.expires_s[0] = sysctl_read_or("/proc/sys/net/ipv4/route/mtu_expires", 600);
	path_mtu_rules.expires_s[1] = sysctl_read_or("/proc/sys/net/ipv6/route/mtu_expires", 600);
	table.reports = rte_ring_create_elem("path_mtu_reports", sizeof(struct report), REPORTS_MAX,
					     SOCKET_ID_ANY, RING_F_SC_DEQ);
	table.peers_by_dst = rte_hash_create(&params);
	table.peers = rte_zmalloc("path_mtu_peers", sizeof(struct peer) * max_peers, 0);
	table.max_peers = max_peers;
	if (!table.reports || !table.peers_by_dst || !table.peers) {
		path_mtu_destroy();
		return -ENOMEM;
	}
	return 0;
}

void path_mtu_destroy(void)
{
	rte_ring_free(table.reports);
	rte_hash_free(table.peers_by_dst);
	rte_free(table.peers);
	memset(&table, 0, sizeof(table));
}

/* The hash key: the address with nothing past its family's bytes. */
static struct ip_addr key_of(const struct ip_addr *dst)
{
	struct ip_addr key;

	ip_addr_from_bytes(&key, dst->family, dst->bytes);
	return key;
}

bool path_mtu_report(const struct ip_addr *dst, uint32_t mtu)
{
	struct report r = { .dst = key_of(dst), .mtu = mtu };

	return rte_ring_mp_enqueue_elem(table.reports, &r, sizeof(r)) == 0;
}

/* Every SA toward dst carries mtu (0: none) from now on. */
static void sas_set(const struct ip_addr *dst, uint32_t mtu)
{
	for (uint32_t i = 0; i < sad_max; i++) {
		struct sa *sa = sad_sas[i];
		if (sa && ip_addr_equal(&sa->rt.dst, dst))
			__atomic_store_n(&sa->rt.path_mtu, mtu, __ATOMIC_RELAXED);
	}
}

/*
 * Whether a report of mtu, raised to the floor from what the error said
 * (r->mtu), renews peer's entry at now_s. Never to a higher MTU. As
 * __ip6_rt_update_pmtu, IPv6 takes only a lower one (mtu >= dst_mtu: the
 * report is ignored, and so its expiry stays). As __ip_rt_update_pmtu,
 * IPv4 takes the same again too, but renews its expiry only once less
 * than half of mtu_expires is left, or whenever the error said less than
 * min_pmtu: the kernel then locks the MTU at min_pmtu, and a locked one
 * takes no report at all until it expires (ip_mtu_locked).
 */
static bool renews(const struct peer *peer, const struct report *r, uint32_t mtu, uint64_t now_s)
{
	uint64_t ip4_life = path_mtu_rules.expires_s[0];

	if (!peer->mtu)
		return true;
	if (peer->locked)
		return false;
	if (mtu < peer->mtu)
		return true;
	if (r->dst.family == AF_INET6 || mtu > peer->mtu)
		return false;
	return r->mtu < path_mtu_rules.ip4_min || now_s + ip4_life / 2 >= peer->expires_s;
}

/* True if the MTU toward the report's peer changed. */
static bool apply(const struct report *r, uint64_t now_s)
{
	int32_t pos = rte_hash_lookup(table.peers_by_dst, &r->dst);
	uint32_t mtu = path_mtu_floor(r->dst.family, r->mtu);
	struct peer *peer;

	if (pos < 0) {
		pos = rte_hash_add_key(table.peers_by_dst, &r->dst);
		if (pos < 0) {
			if (!table.full_logged)
				fprintf(stderr, "espd: path MTU table full: report ignored\n");
			table.full_logged = true;
			return false;
		}
		table.peers[pos] = (struct peer){ .dst = r->dst };
	}
	peer = &table.peers[pos];
	if (!renews(peer, r, mtu, now_s))
		return false;
	peer->expires_s = now_s + path_mtu_rules.expires_s[r->dst.family == AF_INET6];
	peer->locked = r->dst.family == AF_INET && r->mtu < path_mtu_rules.ip4_min;
	if (peer->mtu == mtu)
		return false;
	peer->mtu = mtu;
	sas_set(&peer->dst, peer->mtu);
	return true;
}

static void forget(struct peer *peer)
{
	sas_set(&peer->dst, 0);
	rte_hash_del_key(table.peers_by_dst, &peer->dst);
	memset(peer, 0, sizeof(*peer));
}

/* now_s UINT64_MAX: all of them. */
static unsigned expire(uint64_t now_s)
{
	unsigned forgotten = 0;

	for (uint32_t pos = 0; pos < table.max_peers; pos++) {
		struct peer *peer = &table.peers[pos];
		if (!peer->mtu || peer->expires_s > now_s)
			continue;
		forget(peer);
		forgotten++;
	}
	return forgotten;
}

void path_mtu_flush(void)
{
	expire(UINT64_MAX);
}

void path_mtu_walk(void (*cb)(const struct ip_addr *dst, uint32_t mtu, uint64_t expires_s,
			      void *arg), void *arg)
{
	for (uint32_t pos = 0; pos < table.max_peers; pos++)
		if (table.peers[pos].mtu)
			cb(&table.peers[pos].dst, table.peers[pos].mtu, table.peers[pos].expires_s, arg);
}

unsigned path_mtu_poll(uint64_t now_s)
{
	struct report r;
	unsigned changed = 0;

	while (rte_ring_sc_dequeue_elem(table.reports, &r, sizeof(r)) == 0)
		changed += apply(&r, now_s);
	if (now_s != table.last_expiry_s) {
		table.last_expiry_s = now_s;
		changed += expire(now_s);
	}
	return changed;
}

uint32_t path_mtu_get(const struct ip_addr *dst, uint64_t *expires_s)
{
	struct ip_addr key = key_of(dst);
	int32_t pos = table.peers_by_dst ? rte_hash_lookup(table.peers_by_dst, &key) : -ENOENT;

	if (pos < 0)
		return 0;
	if (expires_s)
		*expires_s = table.peers[pos].expires_s;
	return table.peers[pos].mtu;
}
