/* Unit tests of the ESP packet layout helpers (src/esp/esp_packet.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include "esp/esp_packet.h"
#include "tables/sad.h"

static void test_pad(void **state)
{
	(void)state;
	assert_int_equal(esp_align(16), 16);
	assert_int_equal(esp_align(1), 4);
	assert_int_equal(esp_pad_len(0, 4), 2);
	assert_int_equal(esp_pad_len(2, 4), 0);
	assert_int_equal(esp_pad_len(38, 16), 8);
	for (uint32_t len = 0; len < 64; len++) {
		assert_int_equal((len + esp_pad_len(len, 16) + 2) % 16, 0);
		assert_true(esp_pad_len(len, 16) < 16);
	}
}

static void test_trailer(void **state)
{
	uint8_t buf[64], next_header;
	uint32_t data_len;

	(void)state;
	memset(buf, 0xaa, 10);
	esp_trailer_write(buf + 10, 4, IPPROTO_UDP);
	assert_memory_equal(buf + 10, ((uint8_t[]){ 1, 2, 3, 4, 4, IPPROTO_UDP }), 6);
	assert_int_equal(esp_trailer_check(buf, 16, &data_len, &next_header), 0);
	assert_int_equal(data_len, 10);
	assert_int_equal(next_header, IPPROTO_UDP);

	esp_trailer_write(buf + 10, 0, ESP_NH_IPIP);
	assert_int_equal(esp_trailer_check(buf, 12, &data_len, &next_header), 0);
	assert_int_equal(data_len, 10);
	assert_int_equal(next_header, ESP_NH_IPIP);

	/* Padding not 1, 2, 3, ... */
	esp_trailer_write(buf + 10, 4, IPPROTO_UDP);
	buf[12] = 0;
	assert_int_equal(esp_trailer_check(buf, 16, &data_len, &next_header), -EBADMSG);
	/* Pad length leaving no data, or more than there is. */
	esp_trailer_write(buf, 14, IPPROTO_UDP);
	assert_int_equal(esp_trailer_check(buf, 16, &data_len, &next_header), -EINVAL);
	buf[14] = 200;
	assert_int_equal(esp_trailer_check(buf, 16, &data_len, &next_header), -EINVAL);
	assert_int_equal(esp_trailer_check(buf, 1, &data_len, &next_header), -EINVAL);
}

/* The kernel's xfrm_state_mtu for a few suites on a 1500-byte link. */
static void test_inner_mtu(void **state)
{
	(void)state;
	/* Tunnel IPv4, AES-CBC + HMAC-SHA1-96: 20 + 8 + 16 in front, 12 ICV. */
	assert_int_equal(esp_inner_mtu(1500, 44, 12, 16, 0), 1438);
	/* Tunnel IPv4, AES-GCM ICV 16: 20 + 8 + 8 in front. */
	assert_int_equal(esp_inner_mtu(1500, 36, 16, 4, 0), 1446);
	/* Tunnel IPv6 over NAT-T is not a thing here; tunnel IPv6 plain CBC. */
	assert_int_equal(esp_inner_mtu(1500, 64, 12, 16, 0), 1422);
	/* Transport IPv4, CBC: ESP header and IV in front, the IP header kept. */
	assert_int_equal(esp_inner_mtu(1500, 24, 12, 16, 20), 1458);
	assert_int_equal(esp_inner_mtu(40, 44, 12, 16, 0), 0);
}

static void test_dsfield(void **state)
{
	(void)state;
	/* Encapsulation: DSCP and ECN copied, CE sent as ECT(0). */
	assert_int_equal(esp_encap_dsfield(0xb9, 0, 0), 0xb9);
	assert_int_equal(esp_encap_dsfield(0xbb, 0, 0), 0xba);
	assert_int_equal(esp_encap_dsfield(0xb9, 0, SA_XFLAG_DONT_ENCAP_DSCP), 0x01);
	assert_int_equal(esp_encap_dsfield(0xb9, SA_FLAG_NOECN, 0), 0xb8);
	/* Decapsulation: CE onto ECT only; DSCP copied with decap-dscp. */
	assert_int_equal(esp_decap_dsfield(0x03, 0x02, 0), 0x03);
	assert_int_equal(esp_decap_dsfield(0x03, 0x01, 0), 0x03);
	assert_int_equal(esp_decap_dsfield(0x03, 0x00, 0), 0x00);
	assert_int_equal(esp_decap_dsfield(0x03, 0x02, SA_FLAG_NOECN), 0x02);
	assert_int_equal(esp_decap_dsfield(0xb8, 0x29, 0), 0x29);
	assert_int_equal(esp_decap_dsfield(0xb8, 0x29, SA_FLAG_DECAP_DSCP), 0xb9);
}

static bool ip4_checksum_ok(const struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

static void test_ip_dsfield(void **state)
{
	struct rte_ipv4_hdr ip4 = { .version_ihl = RTE_IPV4_VHL_DEF, .time_to_live = 64,
				    .total_length = RTE_BE16(20) };
	struct rte_ipv6_hdr ip6 = { .vtc_flow = RTE_BE32(6u << 28 | 0x12345) };

	(void)state;
	ip4.hdr_checksum = rte_ipv4_cksum(&ip4);
	esp_ip_dsfield_set(&ip4, 0xb9);
	assert_int_equal(esp_ip_dsfield(&ip4), 0xb9);
	assert_true(ip4_checksum_ok(&ip4));
	for (unsigned tos = 0; tos < 256; tos++) {
		esp_ip_dsfield_set(&ip4, (uint8_t)tos);
		assert_true(ip4_checksum_ok(&ip4));
	}
	/* A bad checksum stays bad (the kernel updates it incrementally). */
	ip4.hdr_checksum ^= RTE_BE16(0x0101);
	esp_ip_dsfield_set(&ip4, 0x03);
	assert_int_equal(esp_ip_dsfield(&ip4), 0x03);
	assert_false(ip4_checksum_ok(&ip4));
	esp_ip_dsfield_set(&ip6, 0xb9);
	assert_int_equal(esp_ip_dsfield(&ip6), 0xb9);
	assert_int_equal(rte_be_to_cpu_32(ip6.vtc_flow), 6u << 28 | 0xb9u << 20 | 0x12345);
}

static void test_outer4(void **state)
{
	uint8_t buf[64];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct esp_outer o = { .dsfield = 0xb8, .df = 1, .id_be = RTE_BE16(7),
			       .sport_be = RTE_BE16(4500), .dport_be = RTE_BE16(4501),
			       .ttl = 100 };

	(void)state;
	assert_int_equal(ip_addr_parse("10.2.0.1", &o.src), 0);
	assert_int_equal(ip_addr_parse("10.2.0.2", &o.dst), 0);
	esp_outer_write(buf, &o, 100);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 20 + 8 + 100);
	assert_int_equal(ip->next_proto_id, IPPROTO_UDP);
	assert_int_equal(ip->type_of_service, 0xb8);
	assert_int_equal(ip->fragment_offset, RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
	assert_int_equal(ip->time_to_live, 100);
	assert_int_equal(ip->src_addr, o.src.v4);
	assert_true(ip4_checksum_ok(ip));
	assert_int_equal(rte_be_to_cpu_16(udp->dgram_len), 108);
	assert_int_equal(udp->dgram_cksum, 0);
	assert_int_equal(udp->dst_port, RTE_BE16(4501));

	o.dport_be = 0;
	o.df = 0;
	esp_outer_write(buf, &o, 100);
	assert_int_equal(ip->next_proto_id, IPPROTO_ESP);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 120);
	assert_int_equal(ip->fragment_offset, 0);
	assert_true(ip4_checksum_ok(ip));
	/* The checksum computed from the fields is the one of the header. */
	for (unsigned i = 0; i < 4096; i++) {
		struct rte_ipv4_hdr copy;
		o.dsfield = (uint8_t)(i * 37);
		o.id_be = (uint16_t)(i * 7919);
		o.df = (uint8_t)(i & 1);
		o.ttl = (uint8_t)(i * 13 + 1);
		o.src.v4 = (uint32_t)i * 2654435761u;
		o.dst.v4 = ~o.src.v4 ^ i;
		esp_outer_write(buf, &o, i % 1500);
		memcpy(&copy, ip, sizeof(copy));
		copy.hdr_checksum = 0;
		assert_int_equal(ip->hdr_checksum, rte_ipv4_cksum(&copy));
	}
	assert_int_equal(esp_outer_len(AF_INET, true), 28);
	assert_int_equal(esp_outer_len(AF_INET6, false), 40);
}

static void test_outer6_udp_checksum(void **state)
{
	uint8_t buf[40 + 8 + 37];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)buf;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct esp_outer o = { .dsfield = 0x02, .flow_label = 0xabcde,
			       .sport_be = RTE_BE16(4500), .dport_be = RTE_BE16(4500),
			       .ttl = 77 };

	(void)state;
	assert_int_equal(ip_addr_parse("fd00:2::1", &o.src), 0);
	assert_int_equal(ip_addr_parse("fd00:2::2", &o.dst), 0);
	for (unsigned i = 0; i < 37; i++)
		buf[48 + i] = (uint8_t)(i * 7 + 1);
	esp_outer_write(buf, &o, 37);
	assert_int_equal(rte_be_to_cpu_32(ip->vtc_flow), 6u << 28 | 0x02u << 20 | 0xabcde);
	assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 45);
	assert_int_equal(ip->proto, IPPROTO_UDP);
	assert_int_equal(ip->hop_limits, 77);
	esp_udp6_checksum_set(buf, 40);
	assert_int_not_equal(udp->dgram_cksum, 0);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, udp), 0);
}

static void test_transport_split(void **state)
{
	uint8_t v4[40] = { 0x45 }, v6[96] = { 0x60 };
	uint32_t hdr_len, nh_off;

	(void)state;
	assert_int_equal(esp_transport_split(v4, sizeof(v4), &hdr_len, &nh_off), 0);
	assert_int_equal(hdr_len, 20);
	assert_int_equal(nh_off, 9);
	v4[0] = 0x44;
	assert_int_equal(esp_transport_split(v4, sizeof(v4), &hdr_len, &nh_off), -EINVAL);

	v6[6] = IPPROTO_UDP;
	assert_int_equal(esp_transport_split(v6, sizeof(v6), &hdr_len, &nh_off), 0);
	assert_int_equal(hdr_len, 40);
	assert_int_equal(nh_off, 6);
	/* Hop-by-hop, routing: kept in front; destination options after a
	 * routing header: behind ESP (ip6_find_1stfragopt). */
	v6[6] = IPPROTO_HOPOPTS;
	v6[40] = IPPROTO_ROUTING;
	v6[48] = IPPROTO_DSTOPTS;
	v6[56] = IPPROTO_UDP;
	assert_int_equal(esp_transport_split(v6, sizeof(v6), &hdr_len, &nh_off), 0);
	assert_int_equal(hdr_len, 56);
	assert_int_equal(nh_off, 48);
	/* Destination options before a routing header stay in front. */
	v6[6] = IPPROTO_DSTOPTS;
	assert_int_equal(esp_transport_split(v6, sizeof(v6), &hdr_len, &nh_off), 0);
	assert_int_equal(hdr_len, 56);
	assert_int_equal(esp_transport_split(v6, 44, &hdr_len, &nh_off), -EINVAL);
}

static void test_header_fix(void **state)
{
	struct rte_ipv4_hdr ip4 = { .version_ihl = RTE_IPV4_VHL_DEF, .next_proto_id = IPPROTO_UDP };
	uint8_t v6[56] = { 0x60, [6] = IPPROTO_HOPOPTS, [40] = IPPROTO_UDP };

	(void)state;
	esp_ip_header_fix(&ip4, 20, 9, IPPROTO_ESP, 100);
	assert_int_equal(ip4.next_proto_id, IPPROTO_ESP);
	assert_int_equal(rte_be_to_cpu_16(ip4.total_length), 120);
	assert_true(ip4_checksum_ok(&ip4));
	esp_ip_header_fix(v6, 48, 40, IPPROTO_ESP, 100);
	assert_int_equal(v6[40], IPPROTO_ESP);
	assert_int_equal(v6[6], IPPROTO_HOPOPTS);
	assert_int_equal(rte_be_to_cpu_16(((struct rte_ipv6_hdr *)v6)->payload_len), 108);
}

static void test_inner_parse(void **state)
{
	uint8_t buf[80] = { 0 };
	struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)buf;
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)buf;
	uint32_t ip_len;

	(void)state;
	ip4->version_ihl = RTE_IPV4_VHL_DEF;
	ip4->total_length = RTE_BE16(60);
	assert_int_equal(esp_inner_parse(buf, 80, ESP_NH_IPIP, &ip_len), AF_INET);
	assert_int_equal(ip_len, 60); /* TFC padding after it is not the packet's */
	assert_int_equal(esp_inner_parse(buf, 50, ESP_NH_IPIP, &ip_len), -EINVAL);
	assert_int_equal(esp_inner_parse(buf, 80, ESP_NH_IPV6, &ip_len), -EINVAL);
	assert_int_equal(esp_inner_parse(buf, 80, IPPROTO_UDP, &ip_len), -EINVAL);
	memset(buf, 0, sizeof(buf));
	ip6->vtc_flow = RTE_BE32(6u << 28);
	ip6->payload_len = RTE_BE16(20);
	assert_int_equal(esp_inner_parse(buf, 80, ESP_NH_IPV6, &ip_len), AF_INET6);
	assert_int_equal(ip_len, 60);
	assert_int_equal(esp_inner_parse(buf, 30, ESP_NH_IPV6, &ip_len), -EINVAL);
}

static void test_l4_checksum(void **state)
{
	uint8_t buf[20 + 20 + 10] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	(void)state;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->src_addr = RTE_BE32(0x0a020002);
	ip->dst_addr = RTE_BE32(0x0a020001);
	ip->total_length = RTE_BE16(20 + 8 + 10);
	udp->dgram_len = RTE_BE16(18);
	esp_l4_checksum_refresh(buf, 20, IPPROTO_UDP, 18);
	assert_int_equal(udp->dgram_cksum, 0); /* zero: no checksum, stays so */
	udp->dgram_cksum = 0x1234;
	esp_l4_checksum_refresh(buf, 20, IPPROTO_UDP, 18);
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);

	memset(buf + 20, 0x5a, 30);
	ip->total_length = RTE_BE16(50);
	tcp->data_off = 5 << 4;
	esp_l4_checksum_refresh(buf, 20, IPPROTO_TCP, 30);
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, tcp), 0);

	/* A TCP header cut before its checksum: nothing written past it. */
	memset(buf + 20, 0x5a, 30);
	tcp->data_off = 5 << 4;
	ip->total_length = RTE_BE16(20 + 16);
	esp_l4_checksum_refresh(buf, 20, IPPROTO_TCP, 16);
	assert_int_equal(buf[20 + 16], 0x5a);
	assert_int_equal(buf[20 + 17], 0x5a);
}

/* IPv6 has a pseudo-header for ICMPv6 too (the kernel would drop a ping
 * whose checksum covers the peer's address before NAT). */
static void test_l4_checksum6(void **state)
{
	uint8_t buf[40 + 24] = { 0 };
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)buf;
	uint8_t *l4 = buf + 40;

	(void)state;
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(24);
	ip->src_addr[0] = 0xfd;
	ip->src_addr[15] = 2;
	ip->dst_addr[0] = 0xfd;
	ip->dst_addr[15] = 1;
	memset(l4, 0x33, 24);
	l4[0] = 128; /* echo request */
	ip->proto = IPPROTO_ICMPV6;
	esp_l4_checksum_refresh(buf, 40, IPPROTO_ICMPV6, 24);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, l4), 0);

	ip->proto = IPPROTO_UDP;
	l4[4] = 0;
	l4[5] = 24;
	esp_l4_checksum_refresh(buf, 40, IPPROTO_UDP, 24);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, l4), 0);
	/* A zero UDP checksum stays zero: IPv6 has no "none", and udp6 drops
	 * it (unless the socket set UDP_NO_CHECK6_RX) however the packet came. */
	l4[6] = 0;
	l4[7] = 0;
	esp_l4_checksum_refresh(buf, 40, IPPROTO_UDP, 24);
	assert_int_equal(l4[6], 0);
	assert_int_equal(l4[7], 0);

	memset(l4, 0x33, 24);
	esp_l4_checksum_refresh(buf, 40, IPPROTO_ICMPV6, 3);
	assert_int_equal(l4[2], 0x33); /* cut short of its checksum: left alone */
}

static void test_icmp_too_big(void **state)
{
	uint8_t buf[28 + 60] = { 0 }, v6[48 + 80] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_ipv4_hdr *quoted = (struct rte_ipv4_hdr *)(buf + 28);
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)v6;
	struct ip_addr src, src6;

	(void)state;
	assert_int_equal(esp_icmp_hdr_len(AF_INET), 28);
	assert_int_equal(esp_icmp_quote_max(AF_INET6), 1280 - 48);
	assert_int_equal(ip_addr_parse("10.2.0.1", &src), 0);
	quoted->version_ihl = RTE_IPV4_VHL_DEF;
	quoted->type_of_service = 0xb9; /* DSCP EF, ECN CE */
	quoted->src_addr = RTE_BE32(0x0a010002);
	esp_icmp_error_write(buf, &src, &(struct esp_icmp){ ESP_ICMP_TOO_BIG, 1438, RTE_BE16(7), 90 },
			     60);
	assert_int_equal(ip->time_to_live, 90);
	assert_true(ip4_checksum_ok(ip));
	/* icmp_send's header: precedence 6 over the quoted TOS bits, no DF. */
	assert_int_equal(ip->type_of_service, 0xc0 | (0xb9 & 0x1e));
	assert_int_equal(ip->fragment_offset, 0);
	assert_int_equal(ip->packet_id, RTE_BE16(7));
	assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
	assert_int_equal(ip->dst_addr, RTE_BE32(0x0a010002));
	assert_int_equal(ip->src_addr, src.v4);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 88);
	assert_int_equal(buf[20], 3);
	assert_int_equal(buf[21], 4);
	assert_int_equal(buf[26] << 8 | buf[27], 1438);
	assert_int_equal(rte_raw_cksum(buf + 20, 68), 0xffff);

	assert_int_equal(ip_addr_parse("fd00:2::1", &src6), 0);
	v6[48] = 0x60;
	v6[48 + 8] = 0xfd;
	v6[48 + 23] = 2;
	esp_icmp_error_write(v6, &src6, &(struct esp_icmp){ ESP_ICMP_TOO_BIG, 1422, 0, 33 }, 80);
	assert_int_equal(ip6->proto, IPPROTO_ICMPV6);
	assert_int_equal(ip6->hop_limits, 33);
	assert_int_equal(rte_be_to_cpu_16(ip6->payload_len), 88);
	assert_int_equal(ip6->dst_addr[0], 0xfd);
	assert_int_equal(ip6->dst_addr[15], 2);
	assert_int_equal(v6[40], 2);
	assert_int_equal(v6[44] << 24 | v6[45] << 16 | v6[46] << 8 | v6[47], 1422);
	/* The checksum verifies like any ICMPv6 one (same as UDP's sum). */
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip6, v6 + 40), 0);
}

static void test_icmp_time_exceeded(void **state)
{
	uint8_t buf[28 + 60] = { 0 }, v6[48 + 80] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_ipv4_hdr *quoted = (struct rte_ipv4_hdr *)(buf + 28);
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)v6;
	const struct esp_icmp ttl = { ESP_ICMP_TIME_EXCEEDED, 1500, RTE_BE16(9), 64 };
	struct ip_addr src, src6;

	(void)state;
	assert_int_equal(ip_addr_parse("10.2.0.1", &src), 0);
	quoted->version_ihl = RTE_IPV4_VHL_DEF;
	quoted->src_addr = RTE_BE32(0x0a010002);
	memset(buf + 28 + 20, 0x77, 40);
	esp_icmp_error_write(buf, &src, &ttl, 60);
	assert_true(ip4_checksum_ok(ip));
	assert_int_equal(ip->dst_addr, RTE_BE32(0x0a010002));
	assert_int_equal(buf[20], 11); /* time exceeded */
	assert_int_equal(buf[21], 0);  /* in transit */
	/* The rest of the header is unused (zero): no MTU in it. */
	assert_int_equal(buf[24] | buf[25] | buf[26] | buf[27], 0);
	assert_int_equal(rte_raw_cksum(buf + 20, 68), 0xffff);
	assert_int_equal(buf[28 + 20], 0x77);

	assert_int_equal(ip_addr_parse("fd00:2::1", &src6), 0);
	v6[48] = 0x60;
	v6[48 + 8] = 0xfd;
	v6[48 + 23] = 2;
	esp_icmp_error_write(v6, &src6, &ttl, 80);
	assert_int_equal(v6[40], 3); /* time exceeded */
	assert_int_equal(v6[41], 0); /* hop limit exceeded in transit */
	assert_int_equal(v6[44] | v6[45] | v6[46] | v6[47], 0);
	assert_int_equal(ip6->dst_addr[15], 2);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip6, v6 + 40), 0);
}

static void test_icmp_redirect4(void **state)
{
	uint8_t buf[28 + 60] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_ipv4_hdr *quoted = (struct rte_ipv4_hdr *)(buf + 28);
	const struct esp_icmp redirect = { .what = ESP_ICMP_REDIRECT, .id_be = RTE_BE16(3),
					   .ttl = 64, .gateway_be = RTE_BE32(0x0a010003) };
	struct ip_addr src;

	(void)state;
	assert_int_equal(ip_addr_parse("10.1.0.1", &src), 0);
	quoted->version_ihl = RTE_IPV4_VHL_DEF;
	quoted->src_addr = RTE_BE32(0x0a010002);
	esp_icmp_error_write(buf, &src, &redirect, 60);
	assert_true(ip4_checksum_ok(ip));
	assert_int_equal(ip->dst_addr, RTE_BE32(0x0a010002));
	assert_int_equal(buf[20], 5); /* redirect */
	assert_int_equal(buf[21], 1); /* for the host */
	assert_memory_equal(buf + 24, ((uint8_t[]){ 10, 1, 0, 3 }), 4);
	assert_int_equal(rte_raw_cksum(buf + 20, 68), 0xffff);
}

/* As ndisc_send_redirect sizes the Redirected Header option: what fits
 * 1280 bytes, in 8-byte units, the option's own 8 included. */
static void test_redirect6_quote_len(void **state)
{
	(void)state;
	assert_int_equal(esp_redirect6_quote_at(false), 40 + 40 + 8);
	assert_int_equal(esp_redirect6_quote_at(true), 40 + 40 + 8 + 8);
	assert_int_equal(esp_redirect6_quote_len(true, 104), 104);
	assert_int_equal(esp_redirect6_quote_len(true, 101), 96);
	assert_int_equal(esp_redirect6_quote_len(true, 1500), 1280 - 96);
	assert_int_equal(esp_redirect6_quote_len(false, 1500), 1280 - 88);
	assert_int_equal(esp_redirect6_quote_len(false, 1185), 1184);
}

static void test_redirect6(void **state)
{
	uint8_t v6[96 + 48] = { 0 }, *quoted = v6 + 96, *msg = v6 + 40;
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)v6;
	struct esp_redirect6 r = { .has_mac = true, .mac = { 2, 0, 0, 0, 0, 3 } };

	(void)state;
	assert_int_equal(ip_addr_parse("fe80::1", &r.source), 0);
	assert_int_equal(ip_addr_parse("fe80::3", &r.target), 0);
	quoted[0] = 0x60;
	quoted[8] = 0xfd;  /* source fd00::2 */
	quoted[23] = 2;
	quoted[24] = 0xfd; /* destination fd00:3::5 */
	quoted[27] = 3;
	quoted[39] = 5;
	esp_redirect6_write(v6, &r, 48);
	assert_int_equal(ip6->proto, IPPROTO_ICMPV6);
	assert_int_equal(ip6->hop_limits, 255);
	assert_int_equal(rte_be_to_cpu_32(ip6->vtc_flow), 6u << 28);
	assert_int_equal(rte_be_to_cpu_16(ip6->payload_len), 40 + 8 + 8 + 48);
	assert_memory_equal(ip6->src_addr, r.source.bytes, 16);
	assert_memory_equal(ip6->dst_addr, quoted + 8, 16);
	assert_int_equal(msg[0], 137);
	assert_int_equal(msg[1], 0);
	assert_int_equal(msg[4] | msg[5] | msg[6] | msg[7], 0);
	assert_memory_equal(msg + 8, r.target.bytes, 16);
	assert_memory_equal(msg + 24, quoted + 24, 16);
	/* Target link-layer address, then the Redirected Header of 7 units. */
	assert_memory_equal(msg + 40, ((uint8_t[]){ 2, 1, 2, 0, 0, 0, 0, 3 }), 8);
	assert_memory_equal(msg + 48, ((uint8_t[]){ 4, 7, 0, 0, 0, 0, 0, 0 }), 8);
	assert_int_equal(quoted[0], 0x60);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip6, msg), 0);

	r.has_mac = false;
	memmove(v6 + 88, quoted, 48);
	esp_redirect6_write(v6, &r, 48);
	assert_int_equal(rte_be_to_cpu_16(ip6->payload_len), 40 + 8 + 48);
	assert_memory_equal(msg + 40, ((uint8_t[]){ 4, 7, 0, 0, 0, 0, 0, 0 }), 8);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip6, msg), 0);
}

static void test_icmp_may_answer(void **state)
{
	uint8_t v4[40] = { 0x45, [9] = IPPROTO_UDP }, v6[48] = { 0x60, [6] = IPPROTO_ICMPV6 };

	(void)state;
	assert_true(esp_icmp_may_answer(v4, sizeof(v4)));
	v4[9] = IPPROTO_ICMP;
	v4[20] = 8; /* echo request */
	assert_true(esp_icmp_may_answer(v4, sizeof(v4)));
	v4[20] = 3; /* an error */
	assert_false(esp_icmp_may_answer(v4, sizeof(v4)));
	v4[9] = IPPROTO_UDP;
	v4[7] = 0x10; /* non-first fragment */
	assert_false(esp_icmp_may_answer(v4, sizeof(v4)));
	v6[40] = 128; /* echo request */
	assert_true(esp_icmp_may_answer(v6, sizeof(v6)));
	v6[40] = 2;
	assert_false(esp_icmp_may_answer(v6, sizeof(v6)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pad),
		cmocka_unit_test(test_trailer),
		cmocka_unit_test(test_inner_mtu),
		cmocka_unit_test(test_dsfield),
		cmocka_unit_test(test_ip_dsfield),
		cmocka_unit_test(test_outer4),
		cmocka_unit_test(test_outer6_udp_checksum),
		cmocka_unit_test(test_transport_split),
		cmocka_unit_test(test_header_fix),
		cmocka_unit_test(test_inner_parse),
		cmocka_unit_test(test_l4_checksum),
		cmocka_unit_test(test_l4_checksum6),
		cmocka_unit_test(test_icmp_too_big),
		cmocka_unit_test(test_icmp_time_exceeded),
		cmocka_unit_test(test_icmp_redirect4),
		cmocka_unit_test(test_redirect6_quote_len),
		cmocka_unit_test(test_redirect6),
		cmocka_unit_test(test_icmp_may_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
