/* The packet trace's one-line decodes of frame bytes (control/trace_decode.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "control/trace_decode.h"

static uint8_t frame[128];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Ethernet and an IPv4 header of total length len; returns its payload. */
static uint8_t *ip4(const char *src, const char *dst, uint8_t proto, uint16_t len)
{
	uint8_t *ip = frame + 14;

	memset(frame, 0, sizeof(frame));
	put16(frame + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, len);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	return ip + 20;
}

static uint8_t *ip6(const char *src, const char *dst, uint8_t proto, uint16_t payload_len)
{
	uint8_t *ip = frame + 14;

	memset(frame, 0, sizeof(frame));
	put16(frame + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, payload_len);
	ip[6] = proto;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	return ip + 40;
}

static uint8_t *udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, len);
	return p + 8;
}

static void expect(size_t len, const char *want)
{
	char buf[256];

	assert_string_equal(format_trace_frame(buf, sizeof(buf), frame, len), want);
}

static void test_ip4_icmp(void **state)
{
	(void)state;
	ip4("10.1.0.2", "10.3.0.2", 1, 84)[0] = 8;
	expect(98, "IP4 10.1.0.2 -> 10.3.0.2 ICMP echo request ttl 64 len 84");
	ip4("10.2.0.1", "10.1.0.2", 1, 56)[0] = 11;
	expect(70, "IP4 10.2.0.1 -> 10.1.0.2 ICMP time exceeded code 0 ttl 64 len 56");
}

static void test_ip6_udp(void **state)
{
	(void)state;
	udp(ip6("fd00:1::2", "fd00:2::2", 17, 9), 1234, 5678, 9);
	expect(63, "IP6 fd00:1::2 -> fd00:2::2 UDP 1234 -> 5678 hlim 64 len 49");
}

static void test_esp(void **state)
{
	uint8_t *esp = ip4("10.2.0.1", "10.2.0.2", 50, 100);

	(void)state;
	put32(esp, 0x1001);
	put32(esp + 4, 7);
	expect(96, "IP4 10.2.0.1 -> 10.2.0.2 ESP spi 0x1001 seq 7 ttl 64 len 100");
	esp = ip6("fd00:2::1", "fd00:2::2", 50, 60);
	put32(esp, 0x2001);
	put32(esp + 4, 1);
	expect(96, "IP6 fd00:2::1 -> fd00:2::2 ESP spi 0x2001 seq 1 hlim 64 len 100");
	/* Cut inside the ESP header: named, not read past. */
	expect(14 + 40 + 6, "IP6 fd00:2::1 -> fd00:2::2 ESP truncated hlim 64 len 100");
}

/* RFC 3948: ESP, IKE (non-ESP marker) and keepalives on the NAT-T port. */
static void test_nat_t(void **state)
{
	uint8_t *payload = udp(ip4("10.2.0.1", "10.2.0.2", 17, 100), 4500, 4500, 80);

	(void)state;
	put32(payload, 0x3001);
	put32(payload + 4, 9);
	expect(96, "IP4 10.2.0.1 -> 10.2.0.2 UDP 4500 -> 4500 ESP spi 0x3001 seq 9 ttl 64 len 100");
	put32(payload, 0);
	expect(96, "IP4 10.2.0.1 -> 10.2.0.2 UDP 4500 -> 4500 IKE ttl 64 len 100");
	payload = udp(ip4("10.2.0.1", "10.2.0.2", 17, 29), 4500, 4500, 9);
	payload[0] = 0xff;
	expect(43, "IP4 10.2.0.1 -> 10.2.0.2 UDP 4500 -> 4500 NAT-T keepalive ttl 64 len 29");
}

static void test_fragments(void **state)
{
	(void)state;
	ip4("10.1.0.2", "10.2.0.2", 17, 1500);
	put16(frame + 14 + 6, 185); /* offset 1480 */
	expect(96, "IP4 10.1.0.2 -> 10.2.0.2 fragment proto 17 off 1480 ttl 64 len 1500");
	udp(ip4("10.1.0.2", "10.2.0.2", 17, 1500), 68, 9999, 1480);
	put16(frame + 14 + 6, 0x2000);
	expect(96, "IP4 10.1.0.2 -> 10.2.0.2 UDP 68 -> 9999 ttl 64 len 1500 more fragments");
}

static void test_truncated_and_other(void **state)
{
	char small[16];

	(void)state;
	expect(10, "frame truncated");
	ip4("10.1.0.2", "10.2.0.2", 6, 40);
	expect(14 + 12, "IP4 truncated");
	put16(frame + 12, 0x0806);
	expect(42, "ARP");
	put16(frame + 12, 0x88cc);
	expect(60, "ethertype 0x88cc");
	/* A short buffer takes what fits, terminated. */
	ip4("10.1.0.2", "10.3.0.2", 1, 84)[0] = 8;
	assert_string_equal(format_trace_frame(small, sizeof(small), frame, 98), "IP4 10.1.0.2 ->");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_icmp),
		cmocka_unit_test(test_ip6_udp),
		cmocka_unit_test(test_esp),
		cmocka_unit_test(test_nat_t),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_truncated_and_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
