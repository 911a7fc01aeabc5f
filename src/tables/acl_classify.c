/*
 * The ACL fast path: read each frame's classification key once, then per
 * interface of the burst run the MAC ACL (input) and the IP ACL with one
 * rte_acl_classify call per address family (and one more for non-first
 * fragments, if any), count, and let reflect sessions rescue what the
 * lists deny. Workers only read the tables and write their own counter row.
 */
#include "tables/acl_private.h"

#include <netinet/in.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_prefetch.h>

#define SESSION_SWEEP_BUDGET 8
#define PREFETCH_AHEAD 4

struct chunk {
	struct acl_key keys[ACL_CHUNK];
	const uint8_t *src_mac[ACL_CHUNK];
	uint8_t fam[ACL_CHUNK];
	bool deny[ACL_CHUNK];
};

static inline uint16_t read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Ports and TCP flags, when the header is all there. ICMP has no ports;
 * its type and code (as dport) and identifier (as sport) go there for the
 * reflect sessions: rules name ports only with TCP or UDP, so no rule
 * matches on them. */
static void parse_l4(const uint8_t *l4, uint32_t len, struct acl_key *key)
{
	uint32_t need = key->proto == IPPROTO_TCP ? 14 : key->proto == IPPROTO_UDP ? 4 :
			is_icmp(key->proto) ? 8 : 0;

	if (len < need)
		return;
	if (is_icmp(key->proto)) {
		memcpy(&key->sport, l4 + 4, 2);
		memcpy(&key->dport, l4, 2);
	} else if (need) {
		memcpy(&key->sport, l4, 2);
		memcpy(&key->dport, l4 + 2, 2);
	}
	if (key->proto == IPPROTO_TCP)
		key->tcp_flags = l4[13];
	key->parsed = ACL_KEY_L4;
}

static enum acl_family parse_ip4(const uint8_t *ip, uint32_t len, struct acl_key *key)
{
	if (len < 20 || ip[0] >> 4 != 4)
		return ACL_FAM_BAD;
	uint32_t ihl = (ip[0] & 0xfu) * 4, total = read_be16(ip + 2);
	if (ihl < 20 || total < ihl || ihl > len)
		return ACL_FAM_BAD;
	if (total < len)
		len = total; /* Ethernet padding is not transport data */
	key->proto = ip[9];
	memcpy(key->src, ip + 12, 4);
	memcpy(key->dst, ip + 16, 4);
	/* RFC 791: a non-zero fragment offset means the transport header is
	 * in an earlier fragment. */
	if ((read_be16(ip + 6) & 0x1fff) == 0)
		parse_l4(ip + ihl, len - ihl, key);
	else
		key->parsed = ACL_KEY_LATER_FRAGMENT;
	return ACL_FAM_IP4;
}

/* Extension headers skipped to reach the transport protocol (RFC 8200
 * section 4, with the generic layout of RFC 6564), as the acl-plugin does. */
static bool ip6_skippable(uint8_t next)
{
	return next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140;
}

#define IP6_FRAGMENT 44
#define IP6_EXT_MAX 8

static enum acl_family parse_ip6(const uint8_t *ip, uint32_t len, struct acl_key *key)
{
	if (len < 40 || ip[0] >> 4 != 6)
		return ACL_FAM_BAD;
	uint32_t total = 40u + read_be16(ip + 4), off = 40;
	uint8_t next = ip[6];

	if (total < len)
		len = total;
	memcpy(key->src, ip + 8, 16);
	memcpy(key->dst, ip + 24, 16);
	for (int i = 0; i < IP6_EXT_MAX; i++) {
		if (next != IP6_FRAGMENT && !ip6_skippable(next))
			break;
		if (len < off + 8)
			return ACL_FAM_BAD;
		uint8_t following = ip[off];
		if (next == IP6_FRAGMENT) {
			bool later = (read_be16(ip + off + 2) & 0xfff8) != 0;
			off += 8;
			next = following;
			if (later) {
				key->proto = next;
				key->parsed = ACL_KEY_LATER_FRAGMENT;
				return ACL_FAM_IP6;
			}
			continue;
		}
		off += (ip[off + 1] + 1u) * 8;
		next = following;
	}
	key->proto = next;
	if (off <= len && !ip6_skippable(next) && next != IP6_FRAGMENT)
		parse_l4(ip + off, len - off, key);
	return ACL_FAM_IP6;
}

static inline enum acl_family key_parse(const struct rte_mbuf *m, struct acl_key *key,
					const uint8_t **src_mac)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off = RTE_ETHER_HDR_LEN;

	if (len < RTE_ETHER_HDR_LEN)
		return ACL_FAM_PASS; /* ethernet-input drops and counts runts */
	*src_mac = p + RTE_ETHER_ADDR_LEN;
	uint16_t type = read_be16(p + 12);
	for (int tags = 0; tags < 2 && (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ);
	     tags++) {
		if (len < off + 4)
			return ACL_FAM_PASS;
		type = read_be16(p + off + 2);
		off += 4;
	}
	if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6)
		return ACL_FAM_PASS;
	memset(key, 0, sizeof(*key));
	return type == RTE_ETHER_TYPE_IPV4 ? parse_ip4(p + off, len - off, key)
					   : parse_ip6(p + off, len - off, key);
}

static inline void count(struct acl_counter *counter, const struct rte_mbuf *m)
{
	counter->packets++;
	counter->bytes += m->pkt_len;
}

/* The chunk's undecided packets on one interface, by family; with
 * later_apart, the non-first IP fragments by family in later. */
struct split {
	uint16_t idx[ACL_FAM_BAD + 1][ACL_CHUNK];
	uint16_t n[ACL_FAM_BAD + 1];
	uint16_t later[ACL_FAM_IP6 + 1][ACL_CHUNK];
	uint16_t n_later[ACL_FAM_IP6 + 1];
};

static void split_iface(const struct chunk *c, const uint16_t *ifaces, uint16_t n,
			uint16_t iface, bool later_apart, struct split *sp)
{
	memset(sp->n, 0, sizeof(sp->n));
	memset(sp->n_later, 0, sizeof(sp->n_later));
	for (uint16_t j = 0; j < n; j++) {
		unsigned fam = c->fam[j];
		if (ifaces[j] != iface || fam == ACL_FAM_PASS || c->deny[j])
			continue;
		if (later_apart && fam <= ACL_FAM_IP6 &&
		    unlikely(c->keys[j].parsed & ACL_KEY_LATER_FRAGMENT))
			sp->later[fam][sp->n_later[fam]++] = j;
		else
			sp->idx[fam][sp->n[fam]++] = j;
	}
}

static void classify(const struct rte_acl_ctx *ctx, const uint8_t **data, uint32_t *results,
		     uint16_t k)
{
	if (ctx)
		rte_acl_classify(ctx, data, results, k, 1);
	else
		memset(results, 0, k * sizeof(*results));
}

/* MAC ACL of one input interface: a match decides permit or deny, no match
 * denies; permitted frames go on to the IP ACL. */
static void mac_filter_iface(const struct acl_tables *t, struct acl_row *row, struct chunk *c,
			     const uint16_t *ifaces, struct rte_mbuf **pkts, uint16_t n,
			     uint16_t iface)
{
	const struct acl_attach *att = &t->mac[iface];
	struct acl_mac_key keys[ACL_CHUNK];
	const uint8_t *data[ACL_CHUNK];
	uint32_t results[ACL_CHUNK];
	struct split sp;

	split_iface(c, ifaces, n, iface, false, &sp);
	for (uint16_t i = 0; i < sp.n[ACL_FAM_BAD]; i++) {
		count(&row->mac_deny[iface], pkts[sp.idx[ACL_FAM_BAD][i]]);
		c->deny[sp.idx[ACL_FAM_BAD][i]] = true;
	}
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
		const uint16_t *idx = sp.idx[fam];
		uint16_t k = sp.n[fam];
		for (uint16_t i = 0; i < k; i++) {
			memset(&keys[i], 0, sizeof(keys[i]));
			memcpy(keys[i].mac, c->src_mac[idx[i]], RTE_ETHER_ADDR_LEN);
			memcpy(keys[i].src, c->keys[idx[i]].src, sizeof(keys[i].src));
			data[i] = (const uint8_t *)&keys[i];
		}
		classify(att->ctx[fam], data, results, k);
		for (uint16_t i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[idx[i]];
			if (!results[i]) {
				count(&row->mac_deny[iface], m);
				c->deny[idx[i]] = true;
				continue;
			}
			const struct acl_slot *slot = &att->slots[results[i] - 1];
			count(&row->rules[slot->counter], m);
			c->deny[idx[i]] = slot->action == ACL_ACTION_DENY;
		}
	}
}

/* The verdict on one packet given its rte_acl result (0: no rule matched). */
static bool ip_permits(const struct acl_attach *att, struct acl_row *row, unsigned worker,
		       enum acl_dir dir, uint16_t iface, const struct acl_key *key, unsigned fam,
		       uint32_t result, const struct rte_mbuf *m, uint64_t now)
{
	const struct acl_slot *slot = result ? &att->slots[result - 1] : NULL;

	if (slot && slot->action != ACL_ACTION_DENY) {
		count(&row->rules[slot->counter], m);
		if (slot->action == ACL_ACTION_PERMIT_REFLECT)
			acl_session_track(worker, key, fam, iface, dir, now);
		return true;
	}
	if (att->reflect && acl_session_hit(worker, key, fam, iface, dir, now)) {
		count(&row->session[iface][dir], m);
		return true;
	}
	count(slot ? &row->rules[slot->counter] : &row->deny[iface][dir], m);
	return false;
}

/* Classify the packets idx[0..k) of one family against ctx and decide. */
static void ip_decide(const struct acl_attach *att, const struct rte_acl_ctx *ctx,
		      struct acl_row *row, unsigned worker, enum acl_dir dir, uint16_t iface,
		      unsigned fam, struct chunk *c, struct rte_mbuf **pkts, const uint16_t *idx,
		      uint16_t k, uint64_t now)
{
	const uint8_t *data[ACL_CHUNK];
	uint32_t results[ACL_CHUNK];

	if (k == 0)
		return;
	for (uint16_t i = 0; i < k; i++)
		data[i] = (const uint8_t *)&c->keys[idx[i]];
	classify(ctx, data, results, k);
	for (uint16_t i = 0; i < k; i++) {
		uint16_t j = idx[i];
		c->deny[j] = !ip_permits(att, row, worker, dir, iface, &c->keys[j], fam,
					 results[i], pkts[j], now);
	}
}

/* Non-first fragments have no ports to compare: they go to the context
 * that matches on protocol and addresses only, where the rule order is
 * the same, so the first rule that could have matched decides. */
static void ip_filter_iface(const struct acl_tables *t, struct acl_row *row, unsigned worker,
			    enum acl_dir dir, struct chunk *c, const uint16_t *ifaces,
			    struct rte_mbuf **pkts, uint16_t n, uint16_t iface, uint64_t now)
{
	const struct acl_attach *att = &t->ip[iface][dir];
	struct split sp;

	split_iface(c, ifaces, n, iface, true, &sp);
	for (uint16_t i = 0; i < sp.n[ACL_FAM_BAD]; i++) {
		count(&row->deny[iface][dir], pkts[sp.idx[ACL_FAM_BAD][i]]);
		c->deny[sp.idx[ACL_FAM_BAD][i]] = true;
	}
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
		ip_decide(att, att->ctx[fam], row, worker, dir, iface, fam, c, pkts, sp.idx[fam],
			  sp.n[fam], now);
		ip_decide(att, att->later_ctx[fam], row, worker, dir, iface, fam, c, pkts,
			  sp.later[fam], sp.n_later[fam], now);
	}
}

static inline uint32_t iface_bit(uint16_t iface)
{
	return iface < IFACE_MAX ? 1u << iface : 0;
}

/* Decide up to ACL_CHUNK packets into c->deny. */
static void filter_chunk(const struct acl_tables *t, unsigned worker, enum acl_dir dir,
			 const uint16_t *ifaces, struct rte_mbuf **pkts, uint16_t n,
			 struct chunk *c, uint64_t now)
{
	struct acl_row *row = t->rows[worker];
	uint32_t mac_active = dir == ACL_DIR_INPUT ? t->mac_active : 0;
	uint32_t active = t->ip_active[dir] | mac_active, present = 0;

	for (uint16_t j = 0; j < n; j++) {
		if (j + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[j + PREFETCH_AHEAD], void *));
		c->deny[j] = false;
		c->fam[j] = ACL_FAM_PASS;
		if (!(iface_bit(ifaces[j]) & active))
			continue;
		c->fam[j] = (uint8_t)key_parse(pkts[j], &c->keys[j], &c->src_mac[j]);
		if (c->fam[j] != ACL_FAM_PASS)
			present |= iface_bit(ifaces[j]);
	}
	for (uint32_t set = present & mac_active; set; set &= set - 1)
		mac_filter_iface(t, row, c, ifaces, pkts, n, (uint16_t)__builtin_ctz(set));
	for (uint32_t set = present & t->ip_active[dir]; set; set &= set - 1)
		ip_filter_iface(t, row, worker, dir, c, ifaces, pkts, n,
				(uint16_t)__builtin_ctz(set), now);
}

static uint32_t active_ifaces(const struct acl_tables *t, enum acl_dir dir)
{
	return t->ip_active[dir] | (dir == ACL_DIR_INPUT ? t->mac_active : 0);
}

uint32_t acl_active_ifaces(enum acl_dir dir)
{
	const struct acl_tables *t = acl_tables_current();
	return t ? active_ifaces(t, dir) : 0;
}

static bool burst_needs_filter(const struct acl_tables *t, enum acl_dir dir,
			       const uint16_t ifaces[], uint16_t n)
{
	uint32_t active = active_ifaces(t, dir);
	if (!active)
		return false;
	for (uint16_t i = 0; i < n; i++)
		if (iface_bit(ifaces[i]) & active)
			return true;
	return false;
}

uint16_t acl_filter_burst_at(uint64_t now, unsigned worker, enum acl_dir dir,
			     const uint16_t ifaces[], struct rte_mbuf *pkts[], uint16_t n)
{
	const struct acl_tables *t = acl_tables_current();
	struct rte_mbuf *denied[n ? n : 1];
	uint16_t kept = 0, n_denied = 0;
	struct chunk c;

	if (!t || !burst_needs_filter(t, dir, ifaces, n))
		return n;
	if (acl_sessions_ready())
		acl_sessions_sweep(worker, now, SESSION_SWEEP_BUDGET);
	for (uint16_t off = 0; off < n; off += ACL_CHUNK) {
		uint16_t m = RTE_MIN((uint16_t)(n - off), (uint16_t)ACL_CHUNK);
		filter_chunk(t, worker, dir, ifaces + off, pkts + off, m, &c, now);
		for (uint16_t j = 0; j < m; j++) {
			if (c.deny[j])
				denied[n_denied++] = pkts[off + j];
			else
				pkts[kept++] = pkts[off + j];
		}
	}
	memcpy(pkts + kept, denied, n_denied * sizeof(*denied));
	return kept;
}

uint16_t acl_filter_burst(unsigned worker, enum acl_dir dir, const uint16_t ifaces[],
			  struct rte_mbuf *pkts[], uint16_t n)
{
	return acl_filter_burst_at(rte_rdtsc(), worker, dir, ifaces, pkts, n);
}
