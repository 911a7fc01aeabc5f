/*
 * Unit tests of the ACL tables and fast path: rules written as config
 * lines, frames built byte by byte, verdicts from acl_filter_burst_at with
 * an explicit clock. Runs DPDK EAL in memory without hugepages or PCI.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "control/cli.h"
#include "tables/acl_private.h"

#define IF_A 0
#define IF_B 1
#define WORKERS 2

static struct rte_mempool *pool;
static uint64_t now;

/* ---- frames ---- */

enum frag { WHOLE, FIRST_FRAGMENT, LATER_FRAGMENT };

struct spec {
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;    /* ICMP: identifier, type */
	uint8_t tcp_flags;
	enum frag frag;
	bool vlan;
	const uint8_t *mac;   /* source MAC; NULL: 02:00:00:00:00:01 */
	bool ip6_routing;     /* IPv6: a routing header before the transport */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t l4_write(uint8_t *p, const struct spec *s)
{
	memset(p, 0, 20);
	put16(p, s->sport);
	put16(p + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		p[12] = 5 << 4;
		p[13] = s->tcp_flags;
		return 20;
	}
	if (s->proto == IPPROTO_UDP)
		put16(p + 4, 8);
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		p[0] = (uint8_t)s->dport; /* type */
		p[1] = 0;
		put16(p + 4, s->sport);   /* identifier */
	}
	return 8;
}

static size_t ip4_write(uint8_t *p, const struct spec *s)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[8] = 64;
	p[9] = s->proto;
	inet_pton(AF_INET, s->src, p + 12);
	inet_pton(AF_INET, s->dst, p + 16);
	if (s->frag == FIRST_FRAGMENT)
		put16(p + 6, 0x2000);            /* MF, offset 0 */
	if (s->frag == LATER_FRAGMENT)
		put16(p + 6, 185);               /* offset 1480 bytes */
	size_t l4 = s->frag == LATER_FRAGMENT ? 8 : l4_write(p + 20, s);
	if (s->frag == LATER_FRAGMENT)
		memset(p + 20, 0xee, 8);         /* payload, not ports */
	put16(p + 2, (uint16_t)(20 + l4));
	return 20 + l4;
}

static size_t ip6_write(uint8_t *p, const struct spec *s)
{
	size_t off = 40;
	uint8_t *next = p + 6;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	inet_pton(AF_INET6, s->src, p + 8);
	inet_pton(AF_INET6, s->dst, p + 24);
	if (s->ip6_routing) {
		*next = 43;
		memset(p + off, 0, 8);
		next = p + off;
		off += 8;
	}
	if (s->frag != WHOLE) {
		*next = 44;
		memset(p + off, 0, 8);
		put16(p + off + 2, s->frag == LATER_FRAGMENT ? 1480 : 1); /* offset, M */
		next = p + off;
		off += 8;
	}
	*next = s->proto;
	if (s->frag == LATER_FRAGMENT) {
		memset(p + off, 0xee, 8);
		off += 8;
	} else {
		off += l4_write(p + off, s);
	}
	put16(p + 4, (uint16_t)(off - 40));
	return off;
}

static struct rte_mbuf *frame(const struct spec *s)
{
	static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0xaa };
	static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 200);
	assert_non_null(p);
	bool v6 = strchr(s->src, ':') != NULL;
	size_t off = 12;

	memcpy(p, dst_mac, 6);
	memcpy(p + 6, s->mac ? s->mac : src_mac, 6);
	if (s->vlan) {
		put16(p + off, 0x8100);
		put16(p + off + 2, 100);
		off += 4;
	}
	put16(p + off, v6 ? 0x86dd : 0x0800);
	off += 2;
	off += v6 ? ip6_write(p + off, s) : ip4_write(p + off, s);
	rte_pktmbuf_trim(m, (uint16_t)(200 - off));
	return m;
}

static struct rte_mbuf *arp_frame(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, 42));
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	memset(p, 0xff, 6);
	memset(p + 6, 0x02, 6);
	put16(p + 12, 0x0806);
	memset(p + 14, 0, 28);
	return m;
}

/* ---- utilities ---- */

static bool pass_on(unsigned worker, enum acl_dir dir, uint16_t iface, const struct spec *s)
{
	struct rte_mbuf *m = frame(s);
	uint16_t permitted = acl_filter_burst_at(now, worker, dir, &iface, &m, 1);
	rte_pktmbuf_free(m);
	return permitted == 1;
}

static bool pass(enum acl_dir dir, uint16_t iface, const struct spec *s)
{
	return pass_on(0, dir, iface, s);
}

static int apply_text(const char *text)
{
	struct config cfg;
	char err[256] = "";
	config_init(&cfg);
	int rc = config_parse_string("test", text, &cfg, err, sizeof(err));
	if (rc < 0) {
		print_error("config: %s\n", err);
		return rc;
	}
	rc = acl_config_apply(&cfg, err, sizeof(err));
	if (rc < 0)
		print_message("apply: %s\n", err);
	config_free(&cfg);
	return rc;
}

static void apply(const char *text)
{
	assert_int_equal(apply_text(text), 0);
}

static struct acl_counter rule_count(const char *tag, uint32_t number)
{
	const struct acl_tables *t = acl_state.current;
	for (size_t i = 0; i < t->cfg.n_acls; i++) {
		if (strcmp(t->cfg.acls[i].name, tag) != 0)
			continue;
		for (size_t j = 0; j < t->cfg.acls[i].n_rules; j++)
			if (t->cfg.acls[i].rules[j].number == number)
				return acl_counter_total(
					t, &t->base->rules[t->views[i].first_counter + j]);
	}
	fail_msg("no rule %s %u", tag, number);
	return (struct acl_counter){ 0 };
}

static uint64_t default_denied(uint16_t iface, enum acl_dir dir)
{
	const struct acl_tables *t = acl_state.current;
	return acl_counter_total(t, &t->base->deny[iface][dir]).packets;
}

#define IN ACL_DIR_INPUT
#define OUT ACL_DIR_OUTPUT

/* ---- tests ---- */

static void test_protocols(void **state)
{
	(void)state;
	apply("set vpp settings interface r-a driver af-packet\n"
	      "set vpp acl ip tag-name P rule 10 action permit\n"
	      "set vpp acl ip tag-name P rule 10 protocol udp\n"
	      "set vpp acl ip tag-name P rule 10 destination port 500\n"
	      "set vpp acl ip tag-name P rule 20 action permit\n"
	      "set vpp acl ip tag-name P rule 20 protocol esp\n"
	      "set vpp acl ip tag-name P rule 30 action permit\n"
	      "set vpp acl ip tag-name P rule 30 protocol 47\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name P\n");
	struct spec s = { "10.1.0.2", "10.1.0.1", IPPROTO_UDP, 500, 500 };
	assert_true(pass(IN, IF_A, &s));
	s.proto = IPPROTO_TCP;
	assert_false(pass(IN, IF_A, &s));
	s.proto = 50;
	assert_true(pass(IN, IF_A, &s));
	s.proto = 47;
	assert_true(pass(IN, IF_A, &s));
	s.proto = IPPROTO_ICMP;
	assert_false(pass(IN, IF_A, &s));
	/* Other interfaces and directions have no lists. */
	assert_true(pass(OUT, IF_A, &s));
	assert_true(pass(IN, IF_B, &s));

	apply("set vpp acl ip tag-name ALL rule 1 action permit\n"
	      "set vpp acl ip tag-name ALL rule 1 protocol all\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name ALL\n");
	assert_true(pass(IN, IF_A, &s));
	s = (struct spec){ "fd00:1::2", "fd00:1::1", IPPROTO_TCP, 1, 2 };
	assert_true(pass(IN, IF_A, &s));
}

static void test_ports_and_ranges(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name R rule 10 action permit\n"
	      "set vpp acl ip tag-name R rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name R rule 10 destination port 1000-2000\n"
	      "set vpp acl ip tag-name R rule 20 action permit\n"
	      "set vpp acl ip tag-name R rule 20 protocol udp\n"
	      "set vpp acl ip tag-name R rule 20 source port 53\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name R\n");
	struct spec s = { "10.1.0.2", "10.2.0.2", IPPROTO_TCP, 40000, 999 };
	assert_false(pass(IN, IF_A, &s));
	s.dport = 1000;
	assert_true(pass(IN, IF_A, &s));
	s.dport = 2000;
	assert_true(pass(IN, IF_A, &s));
	s.dport = 2001;
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 53, 33000 };
	assert_true(pass(IN, IF_A, &s));
	s.sport = 54;
	assert_false(pass(IN, IF_A, &s));
	/* The range rule is TCP only. */
	s = (struct spec){ "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 40000, 1500 };
	assert_false(pass(IN, IF_A, &s));
}

static void test_ip4_prefixes(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name V4 rule 10 action permit\n"
	      "set vpp acl ip tag-name V4 rule 10 source prefix 10.1.0.0/16\n"
	      "set vpp acl ip tag-name V4 rule 10 destination prefix 192.0.2.1/32\n"
	      "set vpp acl ip tag-name V4 rule 20 action permit\n"
	      "set vpp acl ip tag-name V4 rule 20 source prefix 172.16.0.0/12\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name V4\n");
	struct spec s = { "10.1.200.3", "192.0.2.1", IPPROTO_UDP, 1, 2 };
	assert_true(pass(IN, IF_A, &s));
	s.dst = "192.0.2.2";
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "10.2.0.1", "192.0.2.1", IPPROTO_UDP, 1, 2 };
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "172.31.255.255", "8.8.8.8", IPPROTO_ICMP };
	assert_true(pass(IN, IF_A, &s));
	s.src = "172.32.0.0";
	assert_false(pass(IN, IF_A, &s));
	/* IPv4 rules say nothing about IPv6: default deny. */
	s = (struct spec){ "fd00:1::2", "fd00:2::2", IPPROTO_UDP, 1, 2 };
	assert_false(pass(IN, IF_A, &s));
}

static void test_ip6_prefixes(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name V6 rule 10 action permit\n"
	      "set vpp acl ip tag-name V6 rule 10 source prefix fd00:1::/64\n"
	      "set vpp acl ip tag-name V6 rule 10 destination prefix fd00:2::2/128\n"
	      "set vpp acl ip tag-name V6 rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name V6 rule 10 destination port 443\n"
	      "set vpp acl ip tag-name V6 rule 20 action permit\n"
	      "set vpp acl ip tag-name V6 rule 20 source prefix 2001:db8:8000::/33\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name V6\n");
	struct spec s = { "fd00:1::abcd", "fd00:2::2", IPPROTO_TCP, 5000, 443 };
	assert_true(pass(IN, IF_A, &s));
	s.ip6_routing = true; /* the port is found behind an extension header */
	assert_true(pass(IN, IF_A, &s));
	s.dst = "fd00:2::3";
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "fd00:1:0:1::1", "fd00:2::2", IPPROTO_TCP, 5000, 443 };
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "2001:db8:ffff::1", "::1", IPPROTO_UDP, 1, 2 };
	assert_true(pass(IN, IF_A, &s));
	s.src = "2001:db8:7fff::1";
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 1, 2 };
	assert_false(pass(IN, IF_A, &s));
}

static void test_tcp_flags(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name F rule 10 action permit\n"
	      "set vpp acl ip tag-name F rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name F rule 10 tcp-flags is-set syn\n"
	      "set vpp acl ip tag-name F rule 10 tcp-flags is-not-set ack\n"
	      "set vpp acl ip tag-name F rule 20 action permit\n"
	      "set vpp acl ip tag-name F rule 20 protocol tcp\n"
	      "set vpp acl ip tag-name F rule 20 tcp-flags is-set fin rst\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name F\n");
	struct spec s = { "10.1.0.2", "10.2.0.2", IPPROTO_TCP, 1, 2, ACL_TCP_SYN };
	assert_true(pass(IN, IF_A, &s));
	s.tcp_flags = ACL_TCP_SYN | ACL_TCP_ACK;
	assert_false(pass(IN, IF_A, &s));
	s.tcp_flags = ACL_TCP_ACK;
	assert_false(pass(IN, IF_A, &s));
	s.tcp_flags = ACL_TCP_SYN | ACL_TCP_ECE | ACL_TCP_CWR;
	assert_true(pass(IN, IF_A, &s));
	s.tcp_flags = ACL_TCP_FIN | ACL_TCP_RST | ACL_TCP_ACK;
	assert_true(pass(IN, IF_A, &s));
	s.tcp_flags = ACL_TCP_FIN | ACL_TCP_ACK;
	assert_false(pass(IN, IF_A, &s));
}

static void test_rule_order(void **state)
{
	(void)state;
	/* Rule numbers, not line order, decide; the first match wins. */
	apply("set vpp acl ip tag-name O rule 20 action permit\n"
	      "set vpp acl ip tag-name O rule 10 action deny\n"
	      "set vpp acl ip tag-name O rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name O rule 10 destination port 22\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name O\n");
	struct spec s = { "10.1.0.2", "10.2.0.2", IPPROTO_TCP, 1000, 22 };
	assert_false(pass(IN, IF_A, &s));
	assert_int_equal(rule_count("O", 10).packets, 1);
	assert_int_equal(rule_count("O", 20).packets, 0);
	s.dport = 80;
	assert_true(pass(IN, IF_A, &s));
	assert_int_equal(rule_count("O", 20).packets, 1);

	/* A permit numbered first wins over a later deny. */
	apply("set vpp acl ip tag-name O rule 5 action permit\n"
	      "set vpp acl ip tag-name O rule 5 protocol tcp\n"
	      "set vpp acl ip tag-name O rule 10 action deny\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name O\n");
	s.dport = 22;
	assert_true(pass(IN, IF_A, &s));

	/* Several tags apply in acl-tag order as one list. */
	apply("set vpp acl ip tag-name A rule 10 action deny\n"
	      "set vpp acl ip tag-name A rule 10 protocol udp\n"
	      "set vpp acl ip tag-name B rule 1 action permit\n"
	      "set vpp acl ip interface r-a input acl-tag 2 tag-name B\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name A\n");
	s.proto = IPPROTO_UDP;
	assert_false(pass(IN, IF_A, &s));
	s.proto = IPPROTO_TCP;
	assert_true(pass(IN, IF_A, &s));
	apply("set vpp acl ip tag-name A rule 10 action deny\n"
	      "set vpp acl ip tag-name A rule 10 protocol udp\n"
	      "set vpp acl ip tag-name B rule 1 action permit\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name B\n"
	      "set vpp acl ip interface r-a input acl-tag 2 tag-name A\n");
	s.proto = IPPROTO_UDP;
	assert_true(pass(IN, IF_A, &s));
}

static void test_default_deny(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name D rule 10 action permit\n"
	      "set vpp acl ip tag-name D rule 10 protocol udp\n"
	      "set vpp acl ip interface r-a output acl-tag 1 tag-name D\n"
	      "set vpp acl ip tag-name EMPTY description 'no rules'\n"
	      "set vpp acl ip interface r-b input acl-tag 1 tag-name EMPTY\n");
	struct spec s = { "10.2.0.2", "10.1.0.2", IPPROTO_ICMP };
	assert_int_equal(default_denied(IF_A, OUT), 0);
	assert_false(pass(OUT, IF_A, &s));
	assert_false(pass(OUT, IF_A, &s));
	assert_int_equal(default_denied(IF_A, OUT), 2);
	assert_true(pass(IN, IF_A, &s));
	/* A bound list without rules denies all IP. */
	s.proto = IPPROTO_UDP;
	assert_false(pass(IN, IF_B, &s));
	assert_int_equal(default_denied(IF_B, IN), 1);
	/* ARP is not subject to IP ACLs; VLAN-tagged IP is. */
	struct rte_mbuf *m = arp_frame();
	uint16_t iface = IF_B;
	assert_int_equal(acl_filter_burst_at(now, 0, IN, &iface, &m, 1), 1);
	rte_pktmbuf_free(m);
	s.vlan = true;
	assert_false(pass(IN, IF_B, &s));
	assert_true(pass(OUT, IF_A, &s));
	/* Packets without an interface are not filtered. */
	assert_true(pass(IN, IFACE_NONE, &s));
}

static const char fragment_config[] =
	"set vpp acl ip tag-name FR rule 5 action deny\n"
	"set vpp acl ip tag-name FR rule 5 protocol udp\n"
	"set vpp acl ip tag-name FR rule 5 source prefix 10.1.0.9/32\n"
	"set vpp acl ip tag-name FR rule 5 destination port 4500\n"
	"set vpp acl ip tag-name FR rule 6 action deny\n"
	"set vpp acl ip tag-name FR rule 6 protocol udp\n"
	"set vpp acl ip tag-name FR rule 6 source prefix fd00:1::9/128\n"
	"set vpp acl ip tag-name FR rule 6 destination port 4500\n"
	"set vpp acl ip tag-name FR rule 10 action permit\n"
	"set vpp acl ip tag-name FR rule 10 protocol udp\n"
	"set vpp acl ip tag-name FR rule 10 destination port 500\n"
	"set vpp acl ip interface r-a input acl-tag 1 tag-name FR\n"
	"set vpp acl ip tag-name NP rule 10 action permit\n"
	"set vpp acl ip tag-name NP rule 10 protocol udp\n"
	"set vpp acl ip tag-name NP rule 10 source prefix 10.1.0.2/32\n"
	"set vpp acl ip tag-name NP rule 20 action permit\n"
	"set vpp acl ip tag-name NP rule 20 protocol udp\n"
	"set vpp acl ip tag-name NP rule 20 source prefix fd00:1::2/128\n"
	"set vpp acl ip interface r-b input acl-tag 1 tag-name NP\n";

/* Non-first fragments match by addresses and protocol, ports ignored. */
static void fragments_of(const char *src, const char *other_src, const char *dst)
{
	struct spec s = { src, dst, IPPROTO_UDP, 40000, 500, 0, FIRST_FRAGMENT };
	struct acl_counter r10 = rule_count("FR", 10);
	uint64_t denied = default_denied(IF_A, IN);

	/* The first fragment has the ports: matched on everything. */
	assert_true(pass(IN, IF_A, &s));
	s.dport = 501;
	assert_false(pass(IN, IF_A, &s));
	s.frag = WHOLE;
	assert_false(pass(IN, IF_A, &s));
	assert_int_equal(default_denied(IF_A, IN), denied + 2);
	/* A later fragment is permitted by the udp port 500 rule, counted there. */
	s.frag = LATER_FRAGMENT;
	assert_true(pass(IN, IF_A, &s));
	assert_int_equal(rule_count("FR", 10).packets, r10.packets + 2);
	/* A later TCP or ICMP fragment is not matched by a udp rule. */
	s.proto = IPPROTO_TCP;
	assert_false(pass(IN, IF_A, &s));
	s.proto = strchr(src, ':') ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	assert_false(pass(IN, IF_A, &s));
	assert_int_equal(rule_count("FR", 10).packets, r10.packets + 2);
	assert_int_equal(default_denied(IF_A, IN), denied + 4);
	/* Rule order decides: the deny for port 4500 from other_src comes first
	 * and, ports ignored, takes that source's later fragments. */
	s = (struct spec){ other_src, dst, IPPROTO_UDP, 40000, 500, 0, LATER_FRAGMENT };
	assert_false(pass(IN, IF_A, &s));
	s.frag = WHOLE;
	assert_true(pass(IN, IF_A, &s));
	/* Lists without ports: one classifier serves both kinds of packet. */
	s = (struct spec){ src, dst, IPPROTO_UDP, 40000, 9, 0, LATER_FRAGMENT };
	assert_true(pass(IN, IF_B, &s));
	s.proto = IPPROTO_TCP;
	assert_false(pass(IN, IF_B, &s));
}

static void test_fragments(void **state)
{
	(void)state;
	apply(fragment_config);
	fragments_of("10.1.0.2", "10.1.0.9", "10.1.0.1");
	assert_int_equal(rule_count("FR", 5).packets, 1);
	fragments_of("fd00:1::2", "fd00:1::9", "fd00:1::1");
	assert_int_equal(rule_count("FR", 6).packets, 1);
	/* The fragment header found behind another extension header. */
	struct spec s = { "fd00:1::2", "fd00:1::1", IPPROTO_UDP, 0, 0, 0, LATER_FRAGMENT,
			  .ip6_routing = true };
	assert_true(pass(IN, IF_A, &s));

	/* TCP flags are ignored for later fragments, not for the first. */
	apply("set vpp acl ip tag-name SYN rule 10 action permit\n"
	      "set vpp acl ip tag-name SYN rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name SYN rule 10 tcp-flags is-set syn\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name SYN\n");
	for (int v6 = 0; v6 < 2; v6++) {
		s = (struct spec){ v6 ? "fd00:1::2" : "10.1.0.2", v6 ? "fd00:2::2" : "10.2.0.2",
				   IPPROTO_TCP, 40000, 443, ACL_TCP_ACK, FIRST_FRAGMENT };
		assert_false(pass(IN, IF_A, &s));
		s.frag = LATER_FRAGMENT;
		assert_true(pass(IN, IF_A, &s));
		s.proto = IPPROTO_UDP;
		assert_false(pass(IN, IF_A, &s));
	}
	assert_int_equal(rule_count("SYN", 10).packets, 2);
}

static const char reflect_config[] =
	"set vpp acl ip tag-name IN rule 10 action permit\n"
	"set vpp acl ip tag-name IN rule 10 protocol udp\n"
	"set vpp acl ip tag-name IN rule 10 destination port 500\n"
	"set vpp acl ip interface r-a input acl-tag 1 tag-name IN\n"
	"set vpp acl ip tag-name OUT rule 10 action permit-reflect\n"
	"set vpp acl ip interface r-a output acl-tag 1 tag-name OUT\n";

static void test_reflect(void **state)
{
	(void)state;
	apply(reflect_config);
	uint64_t hz = rte_get_tsc_hz();
	struct spec request = { "10.2.0.2", "10.1.0.2", IPPROTO_UDP, 40000, 53 };
	struct spec reply = { "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 53, 40000 };
	struct spec other = { "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 53, 40001 };

	assert_false(pass(IN, IF_A, &reply));
	assert_true(pass(OUT, IF_A, &request));
	assert_true(pass(IN, IF_A, &reply));
	assert_false(pass(IN, IF_A, &other));
	/* The session belongs to r-a only. */
	assert_true(pass(IN, IF_B, &reply));
	/* Another worker sees the session of worker 0. */
	assert_true(pass_on(1, IN, IF_A, &reply));
	const struct acl_tables *t = acl_state.current;
	assert_int_equal(acl_counter_total(t, &t->base->session[IF_A][IN]).packets, 2);

	struct acl_session_stats stats;
	acl_sessions_stats(&stats);
	assert_int_equal(stats.active, 1);
	/* Idle for longer than the UDP timeout: gone. */
	now += (ACL_OTHER_TIMEOUT_S + 1) * hz;
	assert_false(pass(IN, IF_A, &reply));
	acl_sessions_sweep(0, now, ACL_SESSIONS_PER_WORKER);
	acl_sessions_stats(&stats);
	assert_int_equal(stats.active, 0);

	/* TCP sessions live an hour; traffic either way keeps them alive. */
	struct spec syn = { "fd00:2::2", "fd00:1::2", IPPROTO_TCP, 40000, 443, ACL_TCP_SYN };
	struct spec synack = { "fd00:1::2", "fd00:2::2", IPPROTO_TCP, 443, 40000,
			       ACL_TCP_SYN | ACL_TCP_ACK };
	assert_true(pass(OUT, IF_A, &syn));
	now += (ACL_OTHER_TIMEOUT_S + 1) * hz;
	assert_true(pass_on(1, IN, IF_A, &synack));
	now += (ACL_TCP_TIMEOUT_S - 10) * hz;
	assert_true(pass(IN, IF_A, &synack));
	now += (ACL_TCP_TIMEOUT_S + 1) * hz;
	assert_false(pass(IN, IF_A, &synack));

	/* ICMP: an echo request lets its replies in, not the peer's requests. */
	struct spec echo = { "10.2.0.2", "10.1.0.2", IPPROTO_ICMP, 77, 8 };
	struct spec echo_reply = { "10.1.0.2", "10.2.0.2", IPPROTO_ICMP, 77, 0 };
	struct spec peer_echo = { "10.1.0.2", "10.2.0.2", IPPROTO_ICMP, 77, 8 };
	struct spec other_reply = { "10.1.0.2", "10.2.0.2", IPPROTO_ICMP, 78, 0 };
	assert_true(pass(OUT, IF_A, &echo));
	assert_true(pass(IN, IF_A, &echo_reply));
	assert_false(pass(IN, IF_A, &peer_echo));
	assert_false(pass(IN, IF_A, &other_reply));
	struct spec echo6 = { "fd00:2::2", "fd00:1::2", IPPROTO_ICMPV6, 5, 128 };
	struct spec echo6_reply = { "fd00:1::2", "fd00:2::2", IPPROTO_ICMPV6, 5, 129 };
	struct spec peer_echo6 = { "fd00:1::2", "fd00:2::2", IPPROTO_ICMPV6, 5, 128 };
	assert_true(pass(OUT, IF_A, &echo6));
	assert_true(pass(IN, IF_A, &echo6_reply));
	assert_false(pass(IN, IF_A, &peer_echo6));

	/* Sessions are consulted only where a permit-reflect rule is bound. */
	assert_true(pass(OUT, IF_A, &request));
	apply("set vpp acl ip tag-name IN rule 10 action permit\n"
	      "set vpp acl ip tag-name IN rule 10 protocol tcp\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name IN\n");
	assert_false(pass(IN, IF_A, &reply));
	apply(reflect_config);
	assert_true(pass(IN, IF_A, &reply));

	/* Later fragments show no ports: they neither make nor match a session. */
	apply("set vpp acl ip tag-name IN rule 10 action permit\n"
	      "set vpp acl ip tag-name IN rule 10 protocol tcp\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name IN\n"
	      "set vpp acl ip tag-name OUT rule 10 action permit-reflect\n"
	      "set vpp acl ip tag-name OUT rule 10 destination port 53\n"
	      "set vpp acl ip tag-name OUT rule 10 protocol udp\n"
	      "set vpp acl ip interface r-a output acl-tag 1 tag-name OUT\n");
	struct spec later_request = { "10.2.0.2", "10.1.0.2", IPPROTO_UDP, 0, 0, 0,
				      LATER_FRAGMENT };
	struct spec later_reply = { "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 0, 0, 0,
				    LATER_FRAGMENT };
	struct acl_session_stats before;
	acl_sessions_stats(&before);
	assert_true(pass(OUT, IF_A, &later_request));
	acl_sessions_stats(&stats);
	assert_int_equal(stats.created, before.created);
	assert_true(pass(OUT, IF_A, &request));
	assert_true(pass(IN, IF_A, &reply));
	assert_false(pass(IN, IF_A, &later_reply));
}

static void test_counters_and_reload(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name C rule 10 action permit\n"
	      "set vpp acl ip tag-name C rule 10 protocol udp\n"
	      "set vpp acl ip tag-name C rule 20 action deny\n"
	      "set vpp acl ip tag-name C rule 20 protocol tcp\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name C\n");
	struct spec udp = { "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 1, 2 };
	struct spec tcp = { "10.1.0.2", "10.2.0.2", IPPROTO_TCP, 1, 2 };
	struct spec icmp = { "10.1.0.2", "10.2.0.2", IPPROTO_ICMP };
	/* r-a input was bound before: its default-deny count carries on. */
	uint64_t denied = default_denied(IF_A, IN);
	for (int i = 0; i < 3; i++)
		assert_true(pass_on((unsigned)i % WORKERS, IN, IF_A, &udp));
	assert_false(pass(IN, IF_A, &tcp));
	assert_false(pass(IN, IF_A, &icmp));
	struct acl_counter c = rule_count("C", 10);
	assert_int_equal(c.packets, 3);
	assert_int_equal(c.bytes, 3 * (14 + 20 + 8));
	assert_int_equal(rule_count("C", 20).packets, 1);
	assert_int_equal(default_denied(IF_A, IN), denied + 1);

	/* Reload: rule 10 survives, rule 20 goes, rule 30 is new. */
	apply("set vpp acl ip tag-name C rule 10 action permit\n"
	      "set vpp acl ip tag-name C rule 10 protocol udp\n"
	      "set vpp acl ip tag-name C rule 30 action permit\n"
	      "set vpp acl ip tag-name C rule 30 protocol tcp\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name C\n");
	assert_int_equal(rule_count("C", 10).packets, 3);
	assert_int_equal(rule_count("C", 30).packets, 0);
	assert_int_equal(default_denied(IF_A, IN), denied + 1);
	assert_true(pass(IN, IF_A, &tcp));
	assert_true(pass(IN, IF_A, &udp));
	assert_int_equal(rule_count("C", 10).packets, 4);

	/* An error changes nothing: the interface is not espd's. */
	char err[256];
	struct config cfg;
	config_init(&cfg);
	static const char foreign[] =
		"set vpp acl ip tag-name X rule 1 action deny\n"
		"set vpp acl ip interface eth9 input acl-tag 1 tag-name X\n";
	assert_int_equal(config_parse_string("t", foreign, &cfg, err, sizeof(err)), 0);
	assert_true(acl_config_apply(&cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "eth9"));
	config_free(&cfg);
	assert_true(pass(IN, IF_A, &udp));
	assert_int_equal(rule_count("C", 10).packets, 5);

	/* show acl reports it. */
	char deny_json[64];
	snprintf(deny_json, sizeof(deny_json), "\"default_deny_packets\": %" PRIu64, denied + 1);
	struct cli_out out = { .json = true };
	format_acl(&out);
	assert_non_null(strstr(out.buf, "\"name\": \"C\""));
	assert_non_null(strstr(out.buf,
			       "\"number\": 10, \"action\": \"permit\", \"protocol\": \"udp\""));
	assert_non_null(strstr(out.buf, "\"packets\": 5"));
	assert_non_null(strstr(out.buf, deny_json));
	cli_out_free(&out);
	out = (struct cli_out){ .json = false };
	format_acl(&out);
	assert_non_null(strstr(out.buf, "bound to r-a input acl-tag 1"));
	cli_out_free(&out);

	/* clear counters: every total reads zero, then counts on from there. */
	acl_counters_clear();
	assert_int_equal(rule_count("C", 10).packets, 0);
	assert_int_equal(rule_count("C", 10).bytes, 0);
	assert_int_equal(default_denied(IF_A, IN), 0);
	assert_true(pass_on(1 % WORKERS, IN, IF_A, &udp));
	assert_false(pass(IN, IF_A, &icmp));
	assert_int_equal(rule_count("C", 10).packets, 1);
	assert_int_equal(rule_count("C", 10).bytes, 14 + 20 + 8);
	assert_int_equal(default_denied(IF_A, IN), 1);
}

static void test_burst_order(void **state)
{
	(void)state;
	apply("set vpp acl ip tag-name B rule 10 action permit\n"
	      "set vpp acl ip tag-name B rule 10 protocol udp\n"
	      "set vpp acl ip tag-name B rule 10 destination port 9\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name B\n"
	      "set vpp acl ip tag-name T rule 10 action permit\n"
	      "set vpp acl ip tag-name T rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name T rule 10 destination port 9\n"
	      "set vpp acl ip interface r-b input acl-tag 1 tag-name T\n");
	enum { N = 150 };
	struct rte_mbuf *pkts[N], *orig[N];
	uint16_t ifaces[N];
	unsigned expect = 0;
	for (unsigned i = 0; i < N; i++) {
		bool v4 = i % 3;
		/* Every seventh is a later fragment: no port 9 in it, permitted alike. */
		struct spec s = { v4 ? "10.1.0.2" : "fd00:1::2", v4 ? "10.2.0.2" : "fd00:2::2",
				  i % 2 ? IPPROTO_UDP : IPPROTO_TCP, (uint16_t)i, 9, 0,
				  i % 7 ? WHOLE : LATER_FRAGMENT };
		ifaces[i] = i % 5 ? IF_A : IF_B;
		pkts[i] = orig[i] = frame(&s);
		expect += (ifaces[i] == IF_A) == (s.proto == IPPROTO_UDP);
	}
	uint16_t permitted = acl_filter_burst_at(now, 0, IN, ifaces, pkts, N);
	assert_int_equal(permitted, expect);
	/* Permitted first, in their original order, then the denied ones. */
	unsigned k = 0, d = permitted;
	for (unsigned i = 0; i < N; i++) {
		bool udp = i % 2;
		bool ok = (ifaces[i] == IF_A) == udp;
		assert_ptr_equal(pkts[ok ? k++ : d++], orig[i]);
	}
	rte_pktmbuf_free_bulk(pkts, N);
}

static void test_mac(void **state)
{
	(void)state;
	static const uint8_t good[6] = { 0x00, 0x1b, 0x21, 0x12, 0x34, 0x56 };
	static const uint8_t vendor[6] = { 0x00, 0xe0, 0x4c, 0x01, 0x02, 0x03 };
	static const uint8_t other[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x07 };
	apply("set vpp acl mac tag-name M rule 10 action permit\n"
	      "set vpp acl mac tag-name M rule 10 mac-address 00:1b:21:12:34:56\n"
	      "set vpp acl mac tag-name M rule 10 prefix 10.1.0.2/32\n"
	      "set vpp acl mac tag-name M rule 20 action deny\n"
	      "set vpp acl mac tag-name M rule 20 mac-address 00:e0:4c:00:00:00\n"
	      "set vpp acl mac tag-name M rule 20 mac-mask ff:ff:ff:00:00:00\n"
	      "set vpp acl mac tag-name M rule 30 action permit\n"
	      "set vpp acl mac tag-name M rule 30 mac-address 02:00:00:00:00:00\n"
	      "set vpp acl mac tag-name M rule 30 mac-mask ff:00:00:00:00:00\n"
	      "set vpp acl mac tag-name M rule 30 prefix fd00:1::/64\n"
	      "set vpp acl mac interface r-a tag-name M\n"
	      "set vpp acl ip tag-name I rule 10 action deny\n"
	      "set vpp acl ip tag-name I rule 10 protocol tcp\n"
	      "set vpp acl ip tag-name I rule 20 action permit\n"
	      "set vpp acl ip interface r-a input acl-tag 1 tag-name I\n");
	struct spec s = { "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 1, 2, .mac = good };
	assert_true(pass(IN, IF_A, &s));
	s.src = "10.1.0.3";
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 1, 2, .mac = vendor };
	assert_false(pass(IN, IF_A, &s));
	s = (struct spec){ "fd00:1::9", "fd00:2::2", IPPROTO_UDP, 1, 2, .mac = other };
	assert_true(pass(IN, IF_A, &s));
	/* Permitted by the MAC ACL, still subject to the IP ACL. */
	s.proto = IPPROTO_TCP;
	assert_false(pass(IN, IF_A, &s));
	/* MAC ACLs are input only, and ARP passes. */
	s = (struct spec){ "10.1.0.2", "10.2.0.2", IPPROTO_UDP, 1, 2, .mac = vendor };
	assert_true(pass(OUT, IF_A, &s));
	const struct acl_tables *t = acl_state.current;
	assert_int_equal(acl_counter_total(t, &t->base->mac_deny[IF_A]).packets, 1);
	struct rte_mbuf *m = arp_frame();
	uint16_t iface = IF_A;
	assert_int_equal(acl_filter_burst_at(now, 0, IN, &iface, &m, 1), 1);
	rte_pktmbuf_free(m);
}

static int setup(void **state)
{
	char *argv[] = { "test_acl", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "--file-prefix", "acltest", "--log-level", "*:error" };
	(void)state;
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("acltest", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	size_t size = rte_rcu_qsbr_get_memsize(WORKERS);
	struct rte_rcu_qsbr *rcu = rte_zmalloc("acltest_rcu", size, RTE_CACHE_LINE_SIZE);
	if (!pool || !rcu || rte_rcu_qsbr_init(rcu, WORKERS) != 0)
		return -1;
	iface_table_init();
	iface_add("r-a");
	iface_add("r-b");
	now = rte_rdtsc();
	return acl_init(rcu);
}

static int teardown(void **state)
{
	(void)state;
	acl_fini();
	rte_mempool_free(pool);
	return rte_eal_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_ports_and_ranges),
		cmocka_unit_test(test_ip4_prefixes),
		cmocka_unit_test(test_ip6_prefixes),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_rule_order),
		cmocka_unit_test(test_default_deny),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_reflect),
		cmocka_unit_test(test_counters_and_reload),
		cmocka_unit_test(test_burst_order),
		cmocka_unit_test(test_mac),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
