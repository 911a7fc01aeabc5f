/* SPD: kernel ordering and matching, template resolution, inbound checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "ipsec_env.h"
#include "tables/fib.h"
#include "tables/sad.h"
#include "tables/spd.h"

static struct rte_rcu_qsbr *rcu;
static const uint8_t aead_key[20] = { 1, 2, 3 };

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	assert_int_equal(ip_addr_parse(text, &a), 0);
	return a;
}

static struct ip_prefix prefix(const char *text)
{
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(text, &p), 0);
	return p;
}

static struct spd_policy_params policy(const char *src, const char *dst, uint8_t dir,
				       uint32_t priority)
{
	struct spd_policy_params p = {
		.sel = { .src = prefix(src), .dst = prefix(dst) },
		.priority = priority,
		.dir = dir,
		.origin = IPSEC_ORIGIN_KERNEL,
	};
	p.sel.family = p.sel.src.addr.family;
	return p;
}

static void add_tmpl(struct spd_policy_params *p, const char *src, const char *dst,
		     uint32_t reqid, uint8_t mode)
{
	struct spd_tmpl *t = &p->tmpl[p->n_tmpl++];
	memset(t, 0, sizeof(*t));
	if (src)
		t->src = addr(src);
	if (dst)
		t->dst = addr(dst);
	t->proto = IPPROTO_ESP;
	t->reqid = reqid;
	t->mode = mode;
}

static uint32_t add_sa(const char *src, const char *dst, uint32_t spi, uint32_t reqid,
		       uint8_t mode)
{
	struct sa_params p = {
		.id = { .dst = addr(dst), .spi = spi, .proto = IPPROTO_ESP },
		.src = addr(src),
		.reqid = reqid,
		.mode = mode,
		.replay_window = 32,
		.aead = { .name = "rfc4106(gcm(aes))", .key = aead_key, .key_bits = 160,
			  .icv_bits = 128 },
		.lifetime = SA_LIFETIME_NONE,
	};
	uint32_t index;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	return index;
}

static struct spd_packet_key key(const char *src, const char *dst, uint8_t proto,
				 uint16_t sport, uint16_t dport)
{
	struct spd_packet_key k;
	struct ip_addr s = addr(src), d = addr(dst);

	memset(&k, 0, sizeof(k));
	k.family = s.family;
	k.proto = proto;
	k.sport = rte_cpu_to_be_16(sport);
	k.dport = rte_cpu_to_be_16(dport);
	memcpy(k.src, s.bytes, ip_addr_size(s.family));
	memcpy(k.dst, d.bytes, ip_addr_size(d.family));
	return k;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sad_init(rcu, 64, 1), 0);
	assert_int_equal(spd_init(rcu, 256), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	spd_destroy();
	sad_destroy();
	return 0;
}

static uint32_t found_priority(uint8_t dir, const struct spd_packet_key *k)
{
	const struct spd_policy *pol = spd_lookup(dir, k);
	return pol ? pol->p.priority : UINT32_MAX;
}

static void test_priority_order(void **state)
{
	struct spd_policy_params wide = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 100);
	struct spd_policy_params narrow = policy("0.0.0.0/0", "10.1.0.0/16", SPD_DIR_OUT, 200);
	struct spd_packet_key k = key("192.168.1.1", "10.1.2.3", IPPROTO_TCP, 1000, 80);

	(void)state;
	assert_false(spd_active(SPD_DIR_OUT));
	assert_int_equal(spd_policy_add(&narrow), 0);
	assert_int_equal(spd_policy_add(&wide), 0);
	assert_int_equal(spd_commit(), 0);
	assert_true(spd_active(SPD_DIR_OUT));
	assert_false(spd_active(SPD_DIR_IN));
	/* Lower value wins even when less specific (no longest match). */
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 100);
	k = key("192.168.1.1", "10.2.0.1", IPPROTO_TCP, 1000, 80);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 100);
	assert_null(spd_lookup(SPD_DIR_IN, &k));
	k = key("192.168.1.1", "11.0.0.1", IPPROTO_TCP, 1000, 80);
	assert_null(spd_lookup(SPD_DIR_OUT, &k));
}

static void test_equal_priority_first_wins(void **state)
{
	struct spd_policy_params a = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 50);
	struct spd_policy_params b = policy("10.0.0.0/8", "0.0.0.0/0", SPD_DIR_OUT, 50);
	struct spd_packet_key k = key("10.9.9.9", "10.1.1.1", IPPROTO_UDP, 1, 2);
	const struct spd_policy *pol;

	(void)state;
	a.action = SPD_ACTION_BLOCK;
	assert_int_equal(spd_policy_add(&a), 0);
	assert_int_equal(spd_policy_add(&b), 0);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_non_null(pol);
	assert_int_equal(pol->p.action, SPD_ACTION_BLOCK);
	assert_int_equal(pol->verdict, SPD_DISCARD);
	/* Replaced at the same priority, a keeps its place before b
	 * (xfrm_policy_insert_list puts it where the old one was). */
	assert_int_equal(spd_policy_update(&a), 0);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->p.action, SPD_ACTION_BLOCK);
	/* Moved to another priority and back, it is behind b. */
	a.priority = 60;
	assert_int_equal(spd_policy_update(&a), 0);
	a.priority = 50;
	assert_int_equal(spd_policy_update(&a), 0);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->p.action, SPD_ACTION_ALLOW);
	assert_int_equal(pol->verdict, SPD_BYPASS);
	assert_int_equal(spd_policy_add(&a), -EEXIST);
}

static void test_selector_fields(void **state)
{
	struct spd_policy_params udp = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_policy_params icmp = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 20);
	struct spd_policy_params v6 = policy("2001:db8:1::/48", "2001:db8:2::/48", SPD_DIR_OUT, 30);
	struct spd_policy_params any = policy("0.0.0.0/0", "0.0.0.0/0", SPD_DIR_OUT, 1000);
	struct spd_packet_key k;

	(void)state;
	udp.sel.proto = IPPROTO_UDP;
	udp.sel.dport = 53;
	udp.sel.dport_mask = 0xffff;
	icmp.sel.proto = IPPROTO_ICMP;
	icmp.sel.sport = 8; /* echo request: type in sport */
	icmp.sel.sport_mask = 0xffff;
	any.sel.family = AF_UNSPEC;
	any.sel.src.addr.family = any.sel.dst.addr.family = 0;
	assert_int_equal(spd_policy_add(&udp), 0);
	assert_int_equal(spd_policy_add(&icmp), 0);
	assert_int_equal(spd_policy_add(&v6), 0);
	assert_int_equal(spd_policy_add(&any), 0);
	assert_int_equal(spd_commit(), 0);

	k = key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 53);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 10);
	assert_true(spd_selector_match(&udp.sel, &k));
	k = key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 54);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1000);
	assert_false(spd_selector_match(&udp.sel, &k));
	k = key("10.0.0.5", "10.0.1.9", IPPROTO_TCP, 4000, 53);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1000);
	k = key("10.0.0.5", "10.0.1.9", IPPROTO_ICMP, 8, 0);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 20);
	k = key("10.0.0.5", "10.0.1.9", IPPROTO_ICMP, 0, 0);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1000);
	k = key("10.0.2.5", "10.0.1.9", IPPROTO_UDP, 4000, 53);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1000);
	k = key("2001:db8:1::5", "2001:db8:2:ff::1", IPPROTO_TCP, 1, 2);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 30);
	assert_true(spd_selector_match(&v6.sel, &k));
	k = key("2001:db8:1::5", "2001:db8:3::1", IPPROTO_TCP, 1, 2);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1000);
	assert_false(spd_selector_match(&v6.sel, &k));

	/* Bulk over both families. */
	struct spd_packet_key keys[3] = {
		key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 53),
		key("2001:db8:1::5", "2001:db8:2::1", IPPROTO_TCP, 1, 2),
		key("10.0.0.5", "10.0.1.9", IPPROTO_ICMP, 8, 0),
	};
	const struct spd_packet_key *ptrs[3] = { &keys[0], &keys[1], &keys[2] };
	const struct spd_policy *out[3];
	spd_lookup_bulk(SPD_DIR_OUT, ptrs, out, 3);
	assert_int_equal(out[0]->p.priority, 10);
	assert_int_equal(out[1]->p.priority, 30);
	assert_int_equal(out[2]->p.priority, 20);
}

static void test_mark_and_if_id(void **state)
{
	struct spd_policy_params marked = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 1);
	struct spd_policy_params xfrmi = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 2);
	struct spd_packet_key k = key("1.1.1.1", "10.0.0.1", IPPROTO_TCP, 1, 2);

	(void)state;
	marked.mark_v = 0x42;
	marked.mark_m = 0xff;
	xfrmi.if_id = 7;
	assert_int_equal(spd_policy_add(&marked), 0);
	assert_int_equal(spd_policy_add(&xfrmi), 0);
	assert_int_equal(spd_commit(), 0);
	assert_null(spd_lookup(SPD_DIR_OUT, &k));
	k.mark = rte_cpu_to_be_32(0x1142);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 1);
	k.mark = 0;
	k.if_id = rte_cpu_to_be_32(7);
	assert_int_equal(found_priority(SPD_DIR_OUT, &k), 2);
	/* The same policy is the same value and mask, not the same masked
	 * value (xfrm_policy_mark_match). */
	marked.mark_v = 0x142;
	assert_int_equal(spd_policy_del(&marked), -ENOENT);
}

/* SPD_SCAN_MAX out policies no test key matches (192.0.2.x host to host),
 * of priorities from first: past them a direction is classified, not
 * scanned. */
static void add_fillers(uint32_t first)
{
	for (unsigned i = 0; i < SPD_SCAN_MAX; i++) {
		char text[32];
		snprintf(text, sizeof(text), "192.0.2.%u/32", i);
		struct spd_policy_params filler = policy(text, text, SPD_DIR_OUT, first + i);
		assert_int_equal(spd_policy_add(&filler), 0);
	}
}

/* xfrm_policy_match compares (mark & m) with v as given: a value with bits
 * outside its mask matches no packet, scanned or classified. */
static void test_mark_outside_mask(void **state)
{
	struct spd_policy_params never = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 1);
	struct spd_policy_params any = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 9);
	struct spd_packet_key k = key("1.1.1.1", "10.0.0.1", IPPROTO_TCP, 1, 2);

	(void)state;
	never.mark_v = 2;
	never.mark_m = 1;
	assert_int_equal(spd_policy_add(&never), 0);
	assert_int_equal(spd_policy_add(&any), 0);
	for (unsigned round = 0; round < 2; round++) {
		assert_int_equal(spd_commit(), 0);
		for (uint32_t mark = 0; mark < 4; mark++) {
			k.mark = rte_cpu_to_be_32(mark);
			assert_int_equal(found_priority(SPD_DIR_OUT, &k), 9);
		}
		if (round == 0)
			add_fillers(100); /* past SPD_SCAN_MAX the classifier answers */
	}
}

static void lookup_all(const struct spd_packet_key *keys, const uint32_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(found_priority(SPD_DIR_OUT, &keys[i]), want[i]);
}

/*
 * A burst answers as each key alone, whether equal keys (a flow's packets)
 * come in runs, which share one lookup, or alternate with keys[0], from
 * which keys differ in a single field each (port, mark, if_id, address).
 */
static void lookup_all_bulk(const struct spd_packet_key *keys, const uint32_t *want, unsigned n)
{
	struct spd_packet_key copies[64];
	const struct spd_packet_key *burst[64];
	const struct spd_policy *out[64];
	uint32_t expect[64];
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++)
		for (unsigned r = 0; r <= i % 3; r++) {
			copies[count] = keys[i];
			expect[count++] = want[i];
		}
	for (unsigned i = 1; i < n; i++)
		for (unsigned r = 0; r < 2; r++) {
			copies[count] = keys[r ? i : 0];
			expect[count++] = want[r ? i : 0];
		}
	assert_true(count <= RTE_DIM(copies));
	for (unsigned k = 0; k < count; k++)
		burst[k] = &copies[k];
	spd_lookup_bulk(SPD_DIR_OUT, burst, out, count);
	for (unsigned k = 0; k < count; k++)
		assert_int_equal(out[k] ? out[k]->p.priority : UINT32_MAX, expect[k]);
}

/* Small directions are scanned, larger ones classified: same answers. */
static void test_scan_and_classifier_agree(void **state)
{
	struct spd_policy_params udp = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_policy_params v6 = policy("2001:db8:1::/48", "2001:db8:2::/48", SPD_DIR_OUT, 30);
	struct spd_policy_params marked = policy("0.0.0.0/0", "10.0.0.0/8", SPD_DIR_OUT, 5);
	struct spd_policy_params any = policy("0.0.0.0/0", "0.0.0.0/0", SPD_DIR_OUT, 1000);
	struct spd_packet_key keys[] = {
		key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 53),
		key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 54),
		key("10.0.0.5", "10.0.1.9", IPPROTO_TCP, 4000, 53),
		key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 53),
		key("10.0.0.5", "10.0.1.9", IPPROTO_UDP, 4000, 53),
		key("2001:db8:1::5", "2001:db8:2:ff::1", IPPROTO_TCP, 0x1234, 2),
		key("2001:db8:1::5", "2001:db8:2:ff::1", IPPROTO_TCP, 0x2234, 2),
		key("2001:db8:1::5", "2001:db8:3::1", IPPROTO_TCP, 0x1234, 2),
		key("10.0.2.5", "10.0.1.9", IPPROTO_UDP, 4000, 53),
	};
	const uint32_t want[RTE_DIM(keys)] = { 10, 1000, 1000, 5, UINT32_MAX, 30, 1000, 1000, 1000 };

	(void)state;
	udp.sel.proto = IPPROTO_UDP;
	udp.sel.dport = 53;
	udp.sel.dport_mask = 0xffff;
	v6.sel.sport = 0x1000;
	v6.sel.sport_mask = 0xf000;
	marked.mark_v = 0x42;
	marked.mark_m = 0xff;
	any.sel.family = AF_UNSPEC;
	any.sel.src.addr.family = any.sel.dst.addr.family = 0;
	keys[3].mark = rte_cpu_to_be_32(0x1142);
	keys[4].if_id = rte_cpu_to_be_32(7);
	assert_int_equal(spd_policy_add(&udp), 0);
	assert_int_equal(spd_policy_add(&v6), 0);
	assert_int_equal(spd_policy_add(&marked), 0);
	assert_int_equal(spd_policy_add(&any), 0);
	assert_int_equal(spd_commit(), 0);
	lookup_all(keys, want, RTE_DIM(keys));
	lookup_all_bulk(keys, want, RTE_DIM(keys));
	add_fillers(0);
	assert_int_equal(spd_commit(), 0);
	lookup_all(keys, want, RTE_DIM(keys));
	lookup_all_bulk(keys, want, RTE_DIM(keys));
	/* With no mark or if_id in any policy the classifier leaves both
	 * out: a marked packet matches as any other, one with an if_id
	 * matches nothing. */
	const uint32_t unmarked[RTE_DIM(keys)] = { 10, 1000, 1000, 10, UINT32_MAX, 30, 1000, 1000,
						  1000 };
	assert_int_equal(spd_policy_del(&marked), 0);
	assert_int_equal(spd_commit(), 0);
	lookup_all(keys, unmarked, RTE_DIM(keys));
	lookup_all_bulk(keys, unmarked, RTE_DIM(keys));
}

/*
 * A selector holds its addresses as given, host bits too, as the kernel's
 * struct xfrm_selector does; a packet matches on the prefix's bits only
 * (addr4_match, addr_match), scanned or classified alike. Of two such
 * selectors of one prefix at one priority, the first inserted wins.
 */
static void test_selector_host_bits(void **state)
{
	struct spd_policy_params v4 = policy("10.0.0.0/24", "10.0.1.0/23", SPD_DIR_OUT, 10);
	struct spd_policy_params v4_masked = policy("10.0.0.0/24", "10.0.0.0/23", SPD_DIR_OUT, 10);
	struct spd_policy_params v6 = policy("2001:db8:1::/47", "2001:db8:2::/64", SPD_DIR_OUT, 20);
	static const struct {
		const char *src, *dst;
		uint32_t priority; /* of the policy found */
	} packets[] = {
		{ "10.0.0.200", "10.0.1.9", 10 },
		{ "10.0.0.200", "10.0.0.9", 10 },
		{ "10.0.3.1", "10.0.1.9", UINT32_MAX },
		{ "2001:db8::5", "2001:db8:2::9", 20 },
		{ "2001:db8:1:ffff::5", "2001:db8:2:0:ffff::1", 20 },
		{ "2001:db8:2::5", "2001:db8:2::9", UINT32_MAX },
	};
	struct spd_packet_key keys[RTE_DIM(packets)];
	uint32_t want[RTE_DIM(packets)];

	for (unsigned i = 0; i < RTE_DIM(packets); i++) {
		keys[i] = key(packets[i].src, packets[i].dst, IPPROTO_UDP, 1, 2);
		want[i] = packets[i].priority;
	}
	(void)state;
	v4.sel.src.addr.bytes[3] = 0x01;  /* 10.0.0.1/24 */
	v4.sel.dst.addr.bytes[3] = 0xfe;  /* 10.0.1.254/23 */
	v4.action = SPD_ACTION_BLOCK;
	v6.sel.src.addr.bytes[7] = 0x77;  /* 2001:db8:1:77::/47 */
	v6.sel.src.addr.bytes[15] = 0x01;
	v6.sel.dst.addr.bytes[9] = 0xab;  /* 2001:db8:2:0:ab::/64 */
	assert_int_equal(spd_policy_add(&v4), 0);
	assert_int_equal(spd_policy_add(&v4_masked), 0);
	assert_int_equal(spd_policy_add(&v6), 0);
	for (unsigned round = 0; round < 2; round++) {
		assert_int_equal(spd_commit(), 0);
		lookup_all(keys, want, RTE_DIM(keys));
		lookup_all_bulk(keys, want, RTE_DIM(keys));
		assert_int_equal(spd_lookup(SPD_DIR_OUT, &keys[0])->p.action, SPD_ACTION_BLOCK);
		if (round == 0)
			add_fillers(100); /* past SPD_SCAN_MAX the classifier answers */
	}
	assert_true(spd_selector_match(&v4.sel, &keys[1]));
	assert_false(spd_selector_match(&v4.sel, &keys[2]));
	assert_true(spd_selector_match(&v6.sel, &keys[4]));
}

static void test_template_resolution(void **state)
{
	struct spd_policy_params out = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_packet_key k = key("10.0.0.1", "10.0.1.1", IPPROTO_TCP, 1, 2);
	const struct spd_policy *pol;

	(void)state;
	add_tmpl(&out, "192.0.2.1", "198.51.100.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&out), 0);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->verdict, SPD_KERNEL);
	assert_null(spd_policy_sa(pol));

	/* An SA appears (espd's own source: outbound): the next commit uses it. */
	uint32_t old = add_sa("192.0.2.1", "198.51.100.1", 0x100, 5, SA_MODE_TUNNEL);
	add_sa("192.0.2.1", "198.51.100.1", 0x101, 6, SA_MODE_TUNNEL);  /* other reqid */
	add_sa("192.0.2.1", "198.51.100.2", 0x102, 5, SA_MODE_TUNNEL);  /* other peer */
	add_sa("192.0.2.1", "198.51.100.1", 0x103, 5, SA_MODE_TRANSPORT); /* other mode */
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->verdict, SPD_PROTECT);
	assert_int_equal(pol->sa[0].index, old);
	assert_ptr_equal(spd_policy_sa(pol), sad_sa(old));

	/* Rekey: the newer SA of the same template wins. */
	uint32_t newer = add_sa("192.0.2.1", "198.51.100.1", 0x200, 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->sa[0].index, newer);

	/* A reused index is not the policy's SA. */
	struct sa_id id = { .dst = addr("198.51.100.1"), .spi = 0x200, .proto = IPPROTO_ESP };
	assert_int_equal(sad_sa_del(&id), 0);
	uint32_t reused = add_sa("192.0.2.1", "203.0.113.1", 0x300, 9, SA_MODE_TUNNEL);
	assert_int_equal(reused, newer);
	assert_null(spd_policy_sa(pol));
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->sa[0].index, old);

	/* One that reached a soft limit gives way to an older one, as the
	 * kernel's km.dying; the rekey that follows is newer again. */
	struct sa_params soft = { .id = { .dst = addr("198.51.100.1"), .spi = 0x201,
					  .proto = IPPROTO_ESP },
				  .src = addr("192.0.2.1"), .reqid = 5, .mode = SA_MODE_TUNNEL,
				  .origin = IPSEC_ORIGIN_CLI,
				  .aead = { .name = "rfc4106(gcm(aes))", .key = aead_key,
					    .key_bits = 160, .icv_bits = 128 },
				  .lifetime = SA_LIFETIME_NONE };
	uint32_t dying;
	soft.lifetime.soft_packets = 1;
	assert_int_equal(sad_sa_add(&soft, &dying), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_lookup(SPD_DIR_OUT, &k)->sa[0].index, dying);
	/* The second packet finds the limit reached. */
	assert_true(sa_used_take(sad_sa(dying), 100));
	assert_true(sa_used_take(sad_sa(dying), 100));
	assert_int_equal(sad_expire(sad_now_s()), 1);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_lookup(SPD_DIR_OUT, &k)->sa[0].index, old);
}

/* An SA of reqid 5 to 198.51.100.1 with a selector of its own. */
static uint32_t add_sa_sel(uint32_t spi, struct spd_selector sel)
{
	struct sa_params p = {
		.id = { .dst = addr("198.51.100.1"), .spi = spi, .proto = IPPROTO_ESP },
		.src = addr("192.0.2.1"), .reqid = 5, .mode = SA_MODE_TUNNEL, .sel = sel,
		.aead = { .name = "rfc4106(gcm(aes))", .key = aead_key, .key_bits = 160,
			  .icv_bits = 128 },
		.lifetime = SA_LIFETIME_NONE,
	};
	uint32_t index;

	assert_int_equal(sad_sa_add(&p, &index), 0);
	assert_int_equal(spd_commit(), 0);
	return index;
}

/* Whether the policy's SA, newest of its template, must be matched to
 * each packet: an SA with sel, which xfrm_state_look_at skips for a packet
 * outside it. */
static bool sa_selector_checked(struct spd_policy_params *out, uint32_t spi,
				struct spd_selector sel)
{
	uint32_t index = add_sa_sel(spi, sel);
	const struct spd_policy *pol = spd_policy_find(out);
	assert_int_equal(pol->sa[0].index, index);
	return pol->sa_selector_check;
}

/* The SA for a flow of the policy's: the one spd_policy_sa_for gives. */
static uint32_t sa_for(const struct spd_policy_params *out, const char *src)
{
	struct spd_packet_key k = key(src, "10.0.1.1", IPPROTO_TCP, 1, 2);
	const struct sa *sa = spd_policy_sa_for(spd_policy_find(out), &k);

	return sa ? sa->rt.index : SAD_INDEX_NONE;
}

/* SAs of one template with selectors of their own each take the packets
 * inside theirs, the best first (xfrm_state_look_at); one covering the
 * policy's selector takes the rest, and none after it is kept. */
static void test_out_sa_choices(void **state)
{
	struct spd_policy_params out = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_selector low = out.sel, high = out.sel, lowest = out.sel;
	const struct spd_policy *pol;

	(void)state;
	add_tmpl(&out, "192.0.2.1", "198.51.100.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&out), 0);
	low.src = prefix("10.0.0.0/25");
	high.src = prefix("10.0.0.128/25");
	uint32_t sa_low = add_sa_sel(0x700, low), sa_high = add_sa_sel(0x701, high);
	pol = spd_policy_find(&out);
	assert_true(pol->sa_selector_check);
	assert_int_equal(pol->n_sa, 2);
	assert_int_equal(pol->sa[0].index, sa_high);
	assert_int_equal(sa_for(&out, "10.0.0.1"), sa_low);
	assert_int_equal(sa_for(&out, "10.0.0.200"), sa_high);

	/* A newer SA without a selector of its own takes every packet. */
	uint32_t sa_all = add_sa_sel(0x702, (struct spd_selector){ .proto = 0 });
	pol = spd_policy_find(&out);
	assert_false(pol->sa_selector_check);
	assert_int_equal(pol->n_sa, 1);
	assert_int_equal(sa_for(&out, "10.0.0.1"), sa_all);

	/* A newer narrow one again: it first, the covering one for the rest. */
	lowest.src = prefix("10.0.0.0/26");
	uint32_t sa_lowest = add_sa_sel(0x703, lowest);
	pol = spd_policy_find(&out);
	assert_true(pol->sa_selector_check);
	assert_int_equal(pol->n_sa, 2);
	assert_int_equal(sa_for(&out, "10.0.0.1"), sa_lowest);
	assert_int_equal(sa_for(&out, "10.0.0.100"), sa_all);
	assert_int_equal(sa_for(&out, "10.0.0.200"), sa_all);

	/* The covering one gone: the narrow ones, and none for the rest. */
	struct sa_id id = { .dst = addr("198.51.100.1"), .spi = 0x702, .proto = IPPROTO_ESP };
	assert_int_equal(sad_sa_del(&id), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_policy_find(&out)->n_sa, 3);
	assert_int_equal(sa_for(&out, "10.0.0.1"), sa_lowest);
	assert_int_equal(sa_for(&out, "10.0.0.100"), sa_low);
	assert_int_equal(sa_for(&out, "10.0.0.200"), sa_high);
	assert_int_equal(sad_sa_del(&(struct sa_id){ .dst = addr("198.51.100.1"), .spi = 0x700,
						       .proto = IPPROTO_ESP }), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(sa_for(&out, "10.0.0.100"), SAD_INDEX_NONE);
}

static void test_out_sa_selector(void **state)
{
	struct spd_policy_params out = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_selector sel = out.sel;

	(void)state;
	add_tmpl(&out, "192.0.2.1", "198.51.100.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&out), 0);
	assert_false(sa_selector_checked(&out, 0x600, (struct spd_selector){ .proto = 0 }));
	assert_false(sa_selector_checked(&out, 0x601, sel));
	sel.src = prefix("10.0.0.0/16");
	sel.dst = prefix("0.0.0.0/0");
	assert_false(sa_selector_checked(&out, 0x602, sel));
	sel.src = prefix("10.0.0.1/32");
	assert_true(sa_selector_checked(&out, 0x603, sel));
	sel.src = out.sel.src;
	sel.proto = IPPROTO_TCP;
	assert_true(sa_selector_checked(&out, 0x604, sel));
	sel.dport = 443;
	sel.dport_mask = 0xffff;
	out.sel.proto = IPPROTO_TCP;
	assert_int_equal(spd_policy_update(&out), 0);
	assert_true(sa_selector_checked(&out, 0x605, sel));
	out.sel.dport = 443;
	out.sel.dport_mask = 0xffff;
	assert_int_equal(spd_policy_update(&out), 0);
	assert_false(sa_selector_checked(&out, 0x606, sel));
}

static void test_cli_policy_never_in_clear(void **state)
{
	struct spd_policy_params out = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_packet_key k = key("10.0.0.1", "10.0.1.1", IPPROTO_TCP, 1, 2);
	const struct spd_policy *pol;

	(void)state;
	out.origin = IPSEC_ORIGIN_CLI;
	add_tmpl(&out, "192.0.2.1", "198.51.100.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&out), 0);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->verdict, SPD_NO_SA);
	assert_string_equal(format_spd_verdict(pol->verdict), "no SA");

	/* An SA of the template that espd cannot use is no better. */
	struct sa_params p = {
		.id = { .dst = addr("198.51.100.1"), .spi = 0x400, .proto = IPPROTO_ESP },
		.src = addr("192.0.2.1"), .reqid = 5, .mode = SA_MODE_TUNNEL,
		.enc = { .name = "cbc(twofish)", .key = aead_key, .key_bits = 128 },
		.auth = { .name = "hmac(sha1)", .key = aead_key, .key_bits = 160 },
		.lifetime = SA_LIFETIME_NONE,
	};
	uint32_t index;
	int saved = dup(STDERR_FILENO);
	FILE *null = fopen("/dev/null", "w");
	dup2(fileno(null), STDERR_FILENO);
	assert_int_equal(sad_sa_add(&p, &index), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(null);
	assert_int_equal(spd_commit(), 0);
	pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->verdict, SPD_NO_SA);
	assert_int_equal(pol->sa[0].index, index);
}

static void test_optional_and_transport(void **state)
{
	struct spd_policy_params opt = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_policy_params host = policy("192.0.2.1/32", "198.51.100.7/32", SPD_DIR_OUT, 20);
	struct spd_packet_key k = key("10.0.0.1", "10.0.1.1", IPPROTO_TCP, 1, 2);

	(void)state;
	add_tmpl(&opt, "192.0.2.1", "198.51.100.1", 5, SA_MODE_TUNNEL);
	opt.tmpl[0].optional = 1;
	add_tmpl(&host, NULL, NULL, 3, SA_MODE_TRANSPORT);
	assert_int_equal(spd_policy_add(&opt), 0);
	assert_int_equal(spd_policy_add(&host), 0);
	uint32_t transport = add_sa("192.0.2.1", "198.51.100.7", 0x500, 3, SA_MODE_TRANSPORT);
	assert_int_equal(spd_commit(), 0);
	/* level use with no SA: sent as is. */
	assert_int_equal(spd_lookup(SPD_DIR_OUT, &k)->verdict, SPD_BYPASS);
	/* Transport mode on a host pair takes the endpoints from the selector. */
	k = key("192.0.2.1", "198.51.100.7", IPPROTO_UDP, 1, 2);
	const struct spd_policy *pol = spd_lookup(SPD_DIR_OUT, &k);
	assert_int_equal(pol->verdict, SPD_PROTECT);
	assert_int_equal(pol->sa[0].index, transport);
}

/* xfrm_state_find compares an out template's reqid exactly (0 takes only an
 * SA without one), the policy's mark under the SA's mask and the if_id, and
 * passes over SAs flagged wildrecv. */
static void test_out_template_identity(void **state)
{
	struct spd_policy_params plain = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_policy_params marked = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct sa_params p = {
		.id = { .dst = addr("198.51.100.1"), .spi = 0x600, .proto = IPPROTO_ESP },
		.src = addr("192.0.2.1"), .reqid = 0, .mode = SA_MODE_TUNNEL,
		.aead = { .name = "rfc4106(gcm(aes))", .key = aead_key, .key_bits = 160,
			  .icv_bits = 128 },
		.lifetime = SA_LIFETIME_NONE,
	};
	uint32_t index, wanted;

	(void)state;
	add_tmpl(&plain, "192.0.2.1", "198.51.100.1", 0, SA_MODE_TUNNEL);
	marked.mark_v = 0x10;
	marked.mark_m = 0xff;
	marked.if_id = 7;
	add_tmpl(&marked, "192.0.2.1", "198.51.100.1", 0, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&plain), 0);
	assert_int_equal(spd_policy_add(&marked), 0);
	add_sa("192.0.2.1", "198.51.100.1", 0x601, 4, SA_MODE_TUNNEL); /* a reqid */
	p.flags = SA_FLAG_WILDRECV;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	p.flags = 0;
	p.id.spi = 0x602;
	p.id.mark_v = 0x10;
	p.id.mark_m = 0xf0;
	assert_int_equal(sad_sa_add(&p, &index), 0); /* the mark, not the if_id */
	p.id.spi = 0x603;
	p.id.if_id = 7;
	assert_int_equal(sad_sa_add(&p, &wanted), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_policy_find(&plain)->verdict, SPD_KERNEL);
	assert_int_equal(spd_policy_find(&marked)->sa[0].index, wanted);
	index = add_sa("192.0.2.1", "198.51.100.1", 0x604, 0, SA_MODE_TUNNEL);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_policy_find(&plain)->sa[0].index, index);
	assert_int_equal(spd_policy_find(&marked)->sa[0].index, wanted);
}

/* The inbound check as spd-input makes it: lookup, then the policy check. */
static int spd_inbound_check(const struct sa *sa, const struct spd_packet_key *key,
			     enum spd_dir dir, unsigned *why)
{
	return spd_inbound_check_policy(sa, key, NULL, spd_lookup(dir, key), why);
}

/* Whether a plaintext packet meets a policy that requires IPsec. */
static bool spd_plaintext_check(const struct spd_packet_key *key, enum spd_dir dir)
{
	const struct spd_policy *pol = spd_lookup(dir, key);

	return pol && pol->requires_ipsec;
}

static void test_inbound_check(void **state)
{
	struct spd_policy_params fwd = policy("10.0.1.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	struct spd_policy_params blk = policy("10.0.1.66/32", "10.0.0.0/24", SPD_DIR_FWD, 5);
	struct spd_policy_params other = policy("10.0.3.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	struct spd_packet_key k = key("10.0.1.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	unsigned why = 99;

	(void)state;
	blk.action = SPD_ACTION_BLOCK;
	add_tmpl(&fwd, "198.51.100.1", "192.0.2.1", 5, SA_MODE_TUNNEL);
	add_tmpl(&other, "198.51.100.1", "192.0.2.1", 6, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&fwd), 0);
	assert_int_equal(spd_policy_add(&blk), 0);
	assert_int_equal(spd_policy_add(&other), 0);
	uint32_t index = add_sa("198.51.100.1", "192.0.2.1", 0x600, 5, SA_MODE_TUNNEL);
	struct sa *sa = sad_sa(index);
	assert_int_equal(spd_commit(), 0);

	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_FWD, &why), 0);
	/* No fwd policy for traffic addressed elsewhere: a tunnel SA fails. */
	k = key("10.0.1.1", "10.9.0.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_FWD, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_POLICY);
	k = key("10.0.1.66", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_FWD, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_POLICY_BLOCK);
	/* The policy for this traffic wants reqid 6. */
	k = key("10.0.3.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_FWD, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_TEMPLATE);
	/* Wrong tunnel source in the template also fails. */
	struct spd_policy_params wrong_src = policy("10.0.4.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	add_tmpl(&wrong_src, "198.51.100.99", "192.0.2.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&wrong_src), 0);
	assert_int_equal(spd_commit(), 0);
	k = key("10.0.4.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_FWD, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_TEMPLATE);
	/* in vs fwd are separate. */
	k = key("10.0.1.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sa, &k, SPD_DIR_IN, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_POLICY);
}

static void test_inbound_selector_and_transport(void **state)
{
	struct sa_params p = {
		.id = { .dst = addr("192.0.2.1"), .spi = 0x700, .proto = IPPROTO_ESP },
		.src = addr("198.51.100.1"), .reqid = 5, .mode = SA_MODE_TUNNEL,
		.replay_window = 32,
		.sel = { .src = prefix("10.0.1.0/24"), .dst = prefix("10.0.0.0/24"),
			 .family = AF_INET },
		.aead = { .name = "rfc4106(gcm(aes))", .key = aead_key, .key_bits = 160 },
		.lifetime = SA_LIFETIME_NONE,
	};
	struct spd_packet_key k = key("10.0.2.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	uint32_t index;
	unsigned why;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_equal(spd_inbound_check(sad_sa(index), &k, SPD_DIR_FWD, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_SELECTOR);
	/* A transport SA with no policy passes, as the kernel lets it. */
	uint32_t t = add_sa("198.51.100.1", "192.0.2.1", 0x701, 5, SA_MODE_TRANSPORT);
	k = key("198.51.100.1", "192.0.2.1", IPPROTO_TCP, 1, 2);
	assert_int_equal(spd_inbound_check(sad_sa(t), &k, SPD_DIR_IN, &why), 0);
}

static void test_plaintext_check(void **state)
{
	struct spd_policy_params req = policy("10.0.1.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	struct spd_policy_params use = policy("10.0.2.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	struct spd_policy_params allow = policy("10.0.3.0/24", "10.0.0.0/24", SPD_DIR_FWD, 10);
	struct spd_packet_key k;

	(void)state;
	add_tmpl(&req, "198.51.100.1", "192.0.2.1", 5, SA_MODE_TUNNEL);
	add_tmpl(&use, "198.51.100.1", "192.0.2.1", 5, SA_MODE_TUNNEL);
	use.tmpl[0].optional = 1;
	assert_int_equal(spd_policy_add(&use), 0);
	assert_int_equal(spd_policy_add(&allow), 0);
	assert_int_equal(spd_commit(), 0);
	assert_false(spd_plaintext_active());
	assert_int_equal(spd_policy_add(&req), 0);
	assert_int_equal(spd_commit(), 0);
	assert_true(spd_plaintext_active());
	k = key("10.0.1.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_true(spd_plaintext_check(&k, SPD_DIR_FWD));
	assert_false(spd_plaintext_check(&k, SPD_DIR_IN));
	k = key("10.0.2.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_false(spd_plaintext_check(&k, SPD_DIR_FWD));
	k = key("10.0.3.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_false(spd_plaintext_check(&k, SPD_DIR_FWD));
	k = key("10.0.9.1", "10.0.0.1", IPPROTO_TCP, 1, 2);
	assert_false(spd_plaintext_check(&k, SPD_DIR_FWD));
}

static void test_delete_and_flush(void **state)
{
	struct spd_policy_params a = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_OUT, 10);
	struct spd_policy_params b = policy("10.0.0.0/24", "10.0.1.0/24", SPD_DIR_IN, 10);
	struct spd_policy_params c = policy("10.0.0.0/24", "10.0.2.0/24", SPD_DIR_OUT, 10);

	(void)state;
	b.index = 0x41;
	c.origin = IPSEC_ORIGIN_CLI;
	assert_int_equal(spd_policy_add(&a), 0);
	assert_int_equal(spd_policy_add(&b), 0);
	assert_int_equal(spd_policy_add(&c), 0);
	assert_int_equal(spd_count(), 3);
	assert_int_equal(spd_policy_find(&c)->p.index & 7, SPD_DIR_OUT);
	assert_int_equal(spd_policy_del_index(0x41), 0);
	assert_int_equal(spd_policy_del_index(0x41), -ENOENT);
	assert_int_equal(spd_policy_del(&a), 0);
	assert_int_equal(spd_policy_del(&a), -ENOENT);
	assert_int_equal(spd_policy_add(&a), 0);
	spd_flush(IPSEC_ORIGIN_KERNEL);
	assert_int_equal(spd_count(), 1);
	assert_int_equal(spd_commit(), 0);
	assert_true(spd_active(SPD_DIR_OUT));
	spd_flush(IPSEC_ORIGIN_CLI);
	assert_int_equal(spd_commit(), 0);
	assert_false(spd_active(SPD_DIR_OUT));
	struct spd_packet_key k = key("10.0.0.1", "10.0.2.1", IPPROTO_TCP, 1, 2);
	assert_null(spd_lookup(SPD_DIR_OUT, &k));
}

static void test_packet_key_parse(void **state)
{
	/* IPv4 UDP 10.0.0.1:4000 -> 10.0.1.1:53 */
	uint8_t v4[28] = { 0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, IPPROTO_UDP, 0, 0,
			   10, 0, 0, 1, 10, 0, 1, 1, 0x0f, 0xa0, 0, 53, 0, 8, 0, 0 };
	/* IPv6 hop-by-hop, then TCP 443 -> 1234 */
	uint8_t v6[40 + 8 + 20] = { 0x60, 0, 0, 0, 0, 28, IPPROTO_HOPOPTS, 64 };
	struct spd_packet_key k;

	(void)state;
	assert_int_equal(spd_packet_key_parse(&k, v4, sizeof(v4)), 0);
	assert_int_equal(k.family, AF_INET);
	assert_int_equal(k.proto, IPPROTO_UDP);
	assert_int_equal(rte_be_to_cpu_16(k.sport), 4000);
	assert_int_equal(rte_be_to_cpu_16(k.dport), 53);
	assert_int_equal(k.dst[3], 1);
	/* A later fragment has no ports for the kernel. */
	v4[6] = 0x00;
	v4[7] = 0x10;
	assert_int_equal(spd_packet_key_parse(&k, v4, sizeof(v4)), 0);
	assert_int_equal(k.sport, 0);
	/* ICMP echo: type and code. */
	v4[6] = 0x40;
	v4[7] = 0;
	v4[9] = IPPROTO_ICMP;
	v4[20] = 8;
	v4[21] = 0;
	assert_int_equal(spd_packet_key_parse(&k, v4, sizeof(v4)), 0);
	assert_int_equal(rte_be_to_cpu_16(k.sport), 8);
	assert_int_equal(k.dport, 0);
	assert_int_equal(spd_packet_key_parse(&k, v4, 10), -EINVAL);

	v6[8 + 15] = 1;
	v6[24 + 15] = 2;
	v6[40] = IPPROTO_TCP; /* hop-by-hop: next header, length 0 (8 bytes) */
	v6[48] = 0x01;
	v6[49] = 0xbb;
	v6[50] = 0x04;
	v6[51] = 0xd2;
	assert_int_equal(spd_packet_key_parse(&k, v6, sizeof(v6)), 0);
	assert_int_equal(k.family, AF_INET6);
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(rte_be_to_cpu_16(k.sport), 443);
	assert_int_equal(rte_be_to_cpu_16(k.dport), 1234);
	assert_int_equal(k.dst[15], 2);
	assert_int_equal(spd_packet_key_parse(&k, v6, 44), -EINVAL);
}

/* An IPv4 ICMP error (type, code) from 172.16.0.1 to 10.2.0.2 quoting UDP
 * 10.2.0.2:7000 -> 10.1.0.2:53, the quote cut after quote_len bytes. */
static uint32_t icmp4_error(uint8_t *pkt, uint8_t type, uint32_t quote_len)
{
	static const uint8_t head[28] = { 0x45, 0, 0, 84, 0, 0, 0, 0, 64, IPPROTO_ICMP, 0, 0,
					  172, 16, 0, 1, 10, 2, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0 };
	static const uint8_t quoted[28] = { 0x45, 0, 0, 56, 0, 0, 0x40, 0, 63, IPPROTO_UDP, 0,
					    0, 10, 2, 0, 2, 10, 1, 0, 2, 0x1b, 0x58, 0, 53,
					    0, 36, 0, 0 };

	memcpy(pkt, head, sizeof(head));
	pkt[20] = type;
	memcpy(pkt + sizeof(head), quoted, quote_len);
	return (uint32_t)sizeof(head) + quote_len;
}

static void test_icmp_quote_key_parse(void **state)
{
	uint8_t pkt[64];
	struct spd_packet_key k, q;
	uint32_t len = icmp4_error(pkt, 3, 28);

	(void)state;
	assert_int_equal(spd_packet_key_parse(&k, pkt, len), 0);
	assert_true(spd_key_icmp_error(&k));
	k.mark = rte_cpu_to_be_32(9);
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, len), 0);
	struct spd_packet_key want = key("10.1.0.2", "10.2.0.2", IPPROTO_UDP, 53, 7000);
	want.mark = k.mark;
	assert_memory_equal(&q, &want, sizeof(want));
	/* Time exceeded too; not an echo request, a redirect or a parameter
	 * problem (icmp_err_packet). */
	icmp4_error(pkt, 11, 28);
	assert_int_equal(spd_packet_key_parse(&k, pkt, len), 0);
	assert_true(spd_key_icmp_error(&k));
	for (unsigned i = 0; i < 3; i++) {
		icmp4_error(pkt, (const uint8_t[]){ 8, 5, 12 }[i], 28);
		assert_int_equal(spd_packet_key_parse(&k, pkt, len), 0);
		assert_false(spd_key_icmp_error(&k));
	}
	/* A quote cut inside its IP header, or of the other family: none. */
	len = icmp4_error(pkt, 3, 19);
	assert_int_equal(spd_packet_key_parse(&k, pkt, len), 0);
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, len), -EINVAL);
	len = icmp4_error(pkt, 3, 28);
	pkt[28] = 0x65;
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, len), -EINVAL);
	/* Without its ports the quote is still a flow, as the kernel's. */
	len = icmp4_error(pkt, 3, 20);
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, len), 0);
	assert_int_equal(q.proto, IPPROTO_UDP);
	assert_int_equal(q.sport, 0);
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, 27), -EINVAL);
}

static void test_icmp6_quote_key_parse(void **state)
{
	/* Packet too big fd00:9::1 -> fd00:2::2 quoting ICMPv6 echo request
	 * fd00:2::2 -> fd00:1::2: type and code do not swap. */
	uint8_t pkt[40 + 8 + 40 + 8] = { 0x60, 0, 0, 0, 0, 56, IPPROTO_ICMPV6, 64 };
	uint8_t *quoted = pkt + 48;
	struct spd_packet_key k, q;

	(void)state;
	memcpy(pkt + 8, addr("fd00:9::1").bytes, 16);
	memcpy(pkt + 24, addr("fd00:2::2").bytes, 16);
	pkt[40] = 2;
	quoted[0] = 0x60;
	quoted[5] = 8;
	quoted[6] = IPPROTO_ICMPV6;
	memcpy(quoted + 8, addr("fd00:2::2").bytes, 16);
	memcpy(quoted + 24, addr("fd00:1::2").bytes, 16);
	quoted[40] = 128;
	assert_int_equal(spd_packet_key_parse(&k, pkt, sizeof(pkt)), 0);
	assert_true(spd_key_icmp_error(&k));
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, sizeof(pkt)), 0);
	struct spd_packet_key want = key("fd00:1::2", "fd00:2::2", IPPROTO_ICMPV6, 128, 0);
	assert_memory_equal(&q, &want, sizeof(want));
	pkt[40] = 4; /* parameter problem */
	assert_int_equal(spd_packet_key_parse(&k, pkt, sizeof(pkt)), 0);
	assert_false(spd_key_icmp_error(&k));
	assert_int_equal(spd_icmp_quote_key_parse(&q, &k, pkt, 48 + 39), -EINVAL);
}

/* xfrm_selector_inner_icmp_match: only an SA with flag icmp takes an ICMP
 * error outside its selector by the flow it quotes. */
static void test_inbound_icmp_selector(void **state)
{
	struct spd_policy_params fwd = policy("10.2.0.0/16", "10.1.0.0/16", SPD_DIR_FWD, 10);
	struct spd_packet_key k = key("172.16.0.1", "10.1.0.2", IPPROTO_ICMP, 3, 4);
	struct spd_packet_key inside = key("10.2.0.2", "10.1.0.2", IPPROTO_UDP, 53, 7000);
	struct spd_packet_key outside = key("10.3.0.2", "10.1.0.2", IPPROTO_UDP, 53, 7000);
	struct sa_params p = {
		.id = { .dst = addr("192.0.2.1"), .spi = 0x900, .proto = IPPROTO_ESP },
		.src = addr("192.0.2.2"), .reqid = 5, .mode = SA_MODE_TUNNEL,
		.replay_window = 32, .sel = fwd.sel,
		.aead = { .name = "rfc4106(gcm(aes))", .key = aead_key, .key_bits = 160,
			  .icv_bits = 128 },
		.lifetime = SA_LIFETIME_NONE,
	};
	uint32_t plain, flagged;
	unsigned why;

	(void)state;
	add_tmpl(&fwd, "192.0.2.2", "192.0.2.1", 5, SA_MODE_TUNNEL);
	assert_int_equal(spd_policy_add(&fwd), 0);
	assert_int_equal(sad_sa_add(&p, &plain), 0);
	p.id.spi = 0x901;
	p.flags = SA_FLAG_ICMP;
	assert_int_equal(sad_sa_add(&p, &flagged), 0);
	assert_int_equal(spd_commit(), 0);
	const struct spd_policy *pol = spd_lookup(SPD_DIR_FWD, &inside);
	assert_int_equal(spd_inbound_check_policy(sad_sa(plain), &k, &inside, pol, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_SELECTOR);
	assert_int_equal(spd_inbound_check_policy(sad_sa(flagged), &k, &inside, pol, &why), 0);
	assert_int_equal(spd_inbound_check_policy(sad_sa(flagged), &k, &outside, pol, &why),
			 -EACCES);
	assert_int_equal(why, SA_ERROR_SELECTOR);
	assert_int_equal(spd_inbound_check_policy(sad_sa(flagged), &k, NULL, pol, &why), -EACCES);
	assert_int_equal(why, SA_ERROR_SELECTOR);
}

int main(void)
{
	if (!(rcu = ipsec_env_start("test_spd", 1)))
		return 1;
	ipsec_env_local_route("192.0.2.1/32");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_priority_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equal_priority_first_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selector_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_and_if_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_outside_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_and_classifier_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selector_host_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_sa_choices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_sa_selector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_policy_never_in_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_and_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_template_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_selector_and_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plaintext_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packet_key_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_quote_key_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp6_quote_key_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_icmp_selector, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	ipsec_env_stop(rcu);
	return rc;
}
