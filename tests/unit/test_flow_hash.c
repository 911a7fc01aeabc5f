/*
 * Unit tests of the multipath flow hash: which fields of a packet choose
 * its hop under each fib_multipath_hash_policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tables/flow_hash.h"

#define FLOWS 64

static uint8_t pkt[256];

static int setup(void **state)
{
	(void)state;
	flow_hash_init();
	memset(pkt, 0, sizeof(pkt));
	return 0;
}

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

/* An IPv4 header from src to dst at p; frag: the fragment field. */
static uint32_t ip4(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t frag)
{
	p[0] = 0x45;
	put16(p + 2, 100);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	return 20;
}

static uint32_t ip6(uint8_t *p, const char *src, const char *dst, uint8_t next, uint32_t label)
{
	p[0] = 0x60;
	p[1] = (uint8_t)(label >> 16 & 0x0f);
	put16(p + 2, (uint16_t)label);
	p[6] = next;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	return 40;
}

/* Ports, an SPI or an ICMP header's first four bytes. */
static uint32_t l4(uint8_t *p, uint16_t first, uint16_t second)
{
	put16(p, first);
	put16(p + 2, second);
	return 8;
}

static void policy(uint32_t value, uint32_t fields)
{
	flow_hash_confs[0] = (struct flow_hash_conf){ value, fields };
	flow_hash_confs[1] = (struct flow_hash_conf){ value, fields };
}

static uint32_t hash4(void)
{
	return flow_hash_packet(pkt, sizeof(pkt), AF_INET, false);
}

static uint32_t hash6(void)
{
	return flow_hash_packet(pkt, sizeof(pkt), AF_INET6, false);
}

/* Whether the packet's hash changes as the four bytes at pkt + at become
 * first and second. */
static bool moves(uint32_t (*hash)(void), uint32_t at, uint16_t first, uint16_t second)
{
	uint32_t before = hash();

	l4(pkt + at, first, second);
	return hash() != before;
}

/* How many different hashes FLOWS IPv4 UDP packets from 10.0.0.1 to 10.9.0.x
 * (dst_varies) or with source port 40000 + x give. */
static unsigned udp4_hashes(bool dst_varies)
{
	uint32_t seen[FLOWS];
	unsigned distinct = 0;

	for (unsigned x = 0; x < FLOWS; x++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "10.9.0.%u", dst_varies ? x : 1);
		l4(pkt + ip4(pkt, "10.0.0.1", dst, IPPROTO_UDP, 0),
		   (uint16_t)(40000 + (dst_varies ? 0 : x)), 7777);
		uint32_t hash = hash4();
		assert_true(hash < 1u << 31);
		bool known = false;
		for (unsigned k = 0; k < distinct; k++)
			known |= seen[k] == hash;
		if (!known)
			seen[distinct++] = hash;
	}
	return distinct;
}

/* Policy 0 (the default): addresses choose, ports do not. */
static void test_l3_by_default(void **state)
{
	uint32_t first;

	(void)state;
	assert_int_equal(flow_hash_confs[0].policy, 0);
	assert_int_equal(flow_hash_confs[1].fields, FLOW_HASH_FIELDS_DEFAULT);
	assert_int_equal(udp4_hashes(true), FLOWS);
	assert_int_equal(udp4_hashes(false), 1);

	l4(pkt + ip6(pkt, "fd00::1", "fd09::1", IPPROTO_UDP, 7), 40000, 7777);
	assert_false(moves(hash6, 40, 40001, 7777));
	first = hash6();
	ip6(pkt, "fd00::1", "fd09::1", IPPROTO_UDP, 8);
	assert_int_not_equal(hash6(), first);
}

/* Policy 1: ports (of ESP and AH the SPI) choose too; ICMP has none, and a
 * fragment none either, so a datagram's fragments stay together. */
static void test_l4_takes_ports(void **state)
{
	uint32_t first;

	(void)state;
	policy(1, FLOW_HASH_FIELDS_DEFAULT);
	assert_int_equal(udp4_hashes(false), FLOWS);
	assert_int_equal(udp4_hashes(true), FLOWS);

	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_ESP, 0), 0, 0x1000);
	assert_true(moves(hash4, 20, 0, 0x1001));
	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_AH, 0), 0x0400, 0);
	l4(pkt + 24, 0, 0x1000);
	assert_true(moves(hash4, 24, 0, 0x1001));

	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_ICMP, 0), 0x0800, 0);
	assert_false(moves(hash4, 20, 0x0800, 0x1234));

	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0x2000), 40000, 7777);
	assert_false(moves(hash4, 20, 40001, 7777));
	first = hash4();
	ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0x00b9);
	assert_int_equal(hash4(), first);
}

/* IPv6 under policy 1: ports past extension headers; a fragment has none. */
static void test_l4_past_extension_headers(void **state)
{
	uint32_t frag;

	(void)state;
	policy(1, FLOW_HASH_FIELDS_DEFAULT);
	ip6(pkt, "fd00::1", "fd09::1", IPPROTO_HOPOPTS, 0);
	pkt[40] = IPPROTO_DSTOPTS;
	pkt[48] = IPPROTO_UDP;
	pkt[49] = 1; /* 16 bytes */
	l4(pkt + 64, 40000, 7777);
	assert_true(moves(hash6, 64, 40001, 7777));

	memset(pkt, 0, sizeof(pkt));
	ip6(pkt, "fd00::1", "fd09::1", IPPROTO_FRAGMENT, 0);
	pkt[40] = IPPROTO_UDP;
	put16(pkt + 42, 1); /* first fragment, more follow */
	l4(pkt + 48, 40000, 7777);
	assert_false(moves(hash6, 48, 40001, 7777));
	frag = hash6();
	put16(pkt + 42, 0x00b8);
	assert_int_equal(hash6(), frag);
}

/* An ICMP error by the flow it quotes under policy 0, by its own header
 * under policy 1 unless it is the router's own (icmp_send hashes the
 * packet it answers). */
static void test_icmp_error_quote(void **state)
{
	uint32_t quoted, error, other_error;

	(void)state;
	for (uint32_t value = 0; value <= 1; value++) {
		policy(value, FLOW_HASH_FIELDS_DEFAULT);
		memset(pkt, 0, sizeof(pkt));
		l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0), 40000, 7777);
		quoted = hash4();
		memmove(pkt + 28, pkt, 28);
		ip4(pkt, "192.0.2.1", "10.0.0.1", IPPROTO_ICMP, 0);
		l4(pkt + 20, 0x0b00, 0);
		error = hash4();
		assert_int_equal(flow_hash_packet(pkt, 56, AF_INET, true), quoted);
		ip4(pkt + 28, "10.0.0.1", "10.9.0.2", IPPROTO_UDP, 0);
		other_error = hash4();
		if (value == 0) {
			assert_int_equal(error, quoted);
		} else {
			assert_int_not_equal(error, quoted);
			assert_int_equal(error, other_error);
		}
	}
	policy(0, FLOW_HASH_FIELDS_DEFAULT);
	memset(pkt, 0, sizeof(pkt));
	l4(pkt + ip6(pkt, "fd00::1", "fd09::1", IPPROTO_UDP, 5), 40000, 7777);
	quoted = hash6();
	memmove(pkt + 48, pkt, 48);
	ip6(pkt, "fd00::ff", "fd00::1", IPPROTO_ICMPV6, 0);
	l4(pkt + 40, 0x0300, 0);
	assert_int_equal(hash6(), quoted);
}

/* Policy 2: the innermost addresses of IP-in-IP and GRE. */
static void test_inner_l3(void **state)
{
	uint32_t first;
	uint32_t at;

	(void)state;
	at = ip4(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_IPIP, 0);
	l4(pkt + at + ip4(pkt + at, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0), 1, 2);
	first = hash4();
	ip4(pkt + at, "10.0.0.1", "10.9.0.2", IPPROTO_UDP, 0);
	assert_int_equal(hash4(), first);
	policy(2, FLOW_HASH_FIELDS_DEFAULT);
	first = hash4();
	ip4(pkt + at, "10.0.0.1", "10.9.0.3", IPPROTO_UDP, 0);
	assert_int_not_equal(hash4(), first);

	/* GRE with key and sequence number, carrying IPv6 */
	memset(pkt, 0, sizeof(pkt));
	at = ip4(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_GRE, 0);
	put16(pkt + at, 0x3000);
	put16(pkt + at + 2, 0x86dd);
	at += 12;
	ip6(pkt + at, "fd00::1", "fd09::1", IPPROTO_UDP, 0);
	first = hash4();
	ip6(pkt + at, "fd00::1", "fd09::2", IPPROTO_UDP, 0);
	assert_int_not_equal(hash4(), first);

	/* GRE carrying Ethernet (transparent bridging), then IPv4 */
	memset(pkt, 0, sizeof(pkt));
	at = ip4(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_GRE, 0);
	put16(pkt + at + 2, 0x6558);
	put16(pkt + at + 4 + 12, 0x0800);
	at += 4 + 14;
	ip4(pkt + at, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0);
	first = hash4();
	ip4(pkt + at, "10.0.0.1", "10.9.0.2", IPPROTO_UDP, 0);
	assert_int_not_equal(hash4(), first);

	/* version 1 (PPTP) is not looked into */
	put16(pkt + 20, 0x0001);
	first = hash4();
	ip4(pkt + at, "10.0.0.1", "10.9.0.3", IPPROTO_UDP, 0);
	assert_int_equal(hash4(), first);
}

/* Policy 3: the fields fib_multipath_hash_fields names, outer and inner. */
static void test_custom_fields(void **state)
{
	uint32_t first, at;

	(void)state;
	policy(3, FLOW_HASH_DST_IP);
	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0), 40000, 7777);
	first = hash4();
	ip4(pkt, "10.0.0.2", "10.9.0.1", IPPROTO_UDP, 0);
	l4(pkt + 20, 40001, 7777);
	assert_int_equal(hash4(), first);
	ip4(pkt, "10.0.0.2", "10.9.0.2", IPPROTO_UDP, 0);
	assert_int_not_equal(hash4(), first);

	policy(3, FLOW_HASH_DST_PORT);
	assert_true(moves(hash4, 20, 40001, 7778));

	policy(3, FLOW_HASH_DST_IP << FLOW_HASH_INNER_SHIFT);
	memset(pkt, 0, sizeof(pkt));
	at = ip4(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_IPIP, 0);
	ip4(pkt + at, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0);
	first = hash4();
	ip4(pkt + at, "10.0.0.2", "10.9.0.1", IPPROTO_UDP, 0);
	assert_int_equal(hash4(), first);
	ip4(pkt + at, "10.0.0.2", "10.9.0.2", IPPROTO_UDP, 0);
	assert_int_not_equal(hash4(), first);
	ip4(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 0);
	first = hash4();
	ip4(pkt, "192.0.2.9", "192.0.2.9", IPPROTO_UDP, 0);
	assert_int_equal(hash4(), first);
}

/* The router's own flows of addresses alone: hashed as a forwarded packet
 * of those addresses under policy 0, and alike under policy 1 whatever
 * the ports of the packets sent. */
static void test_own_addresses(void **state)
{
	struct ip_addr src = { .family = AF_INET }, dst = { .family = AF_INET };
	uint32_t first;

	(void)state;
	inet_pton(AF_INET, "10.0.0.1", &src.v4);
	inet_pton(AF_INET, "10.9.0.1", &dst.v4);
	l4(pkt + ip4(pkt, "10.0.0.1", "10.9.0.1", IPPROTO_UDP, 0), 40000, 7777);
	assert_int_equal(flow_hash_addrs(&src, &dst), hash4());
	policy(1, FLOW_HASH_FIELDS_DEFAULT);
	first = flow_hash_addrs(&src, &dst);
	assert_int_not_equal(first, hash4());
	dst.v4 ^= htonl(1);
	assert_int_not_equal(flow_hash_addrs(&src, &dst), first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_l3_by_default, setup),
		cmocka_unit_test_setup(test_l4_takes_ports, setup),
		cmocka_unit_test_setup(test_l4_past_extension_headers, setup),
		cmocka_unit_test_setup(test_icmp_error_quote, setup),
		cmocka_unit_test_setup(test_inner_l3, setup),
		cmocka_unit_test_setup(test_custom_fields, setup),
		cmocka_unit_test_setup(test_own_addresses, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
