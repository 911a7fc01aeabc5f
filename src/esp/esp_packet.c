/*
 * ESP packet layout helpers: trailer, tunnel and transport headers,
 * DSCP/ECN and MTU arithmetic, each with the kernel function it follows.
 */
#include "esp/esp_packet.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include "tables/sad.h"

#define ECN_MASK 3
#define ECN_NOT_ECT 0
#define ECN_ECT_0 2
#define ECN_CE 3
#define IP4_DF 0x4000

/* Ones' complement sum over the IPv6 pseudo-header and len bytes at l4. */
static uint16_t l4_checksum6(const struct rte_ipv6_hdr *ip, const void *l4, uint32_t len,
			     uint8_t proto)
{
	const struct {
		uint32_t len, proto;
	} pseudo = { rte_cpu_to_be_32(len), rte_cpu_to_be_32(proto) };
	uint32_t sum = __rte_raw_cksum(ip->src_addr, 2 * sizeof(ip->src_addr), 0);

	sum = __rte_raw_cksum(&pseudo, sizeof(pseudo), sum);
	sum = __rte_raw_cksum(l4, len, sum);
	return (uint16_t)~__rte_raw_cksum_reduce(sum);
}

uint32_t esp_inner_mtu(uint32_t link_mtu, uint32_t header_len, uint32_t icv_len, uint32_t align,
		       uint32_t net_adj)
{
	uint32_t fixed = header_len + icv_len + net_adj;

	if (link_mtu <= fixed + ESP_TRAILER_LEN + align)
		return 0;
	return ((link_mtu - fixed) & ~(align - 1)) + net_adj - ESP_TRAILER_LEN;
}

/* IPv4: the checksum updated for the new byte alone (RFC 1624 eqn. 3), as
 * ipv4_change_dsfield does, so a header that arrived with a bad checksum
 * keeps it and fails ip4-input's check, as ip_rcv's in the kernel. */
void esp_ip_dsfield_set(void *l3, uint8_t dsfield)
{
	uint8_t *ip = l3;

	if ((ip[0] >> 4) == 4) {
		struct rte_ipv4_hdr *h = l3;
		uint32_t sum = (uint16_t)~rte_be_to_cpu_16(h->hdr_checksum);

		if (h->type_of_service == dsfield)
			return;
		sum += (uint16_t)~h->type_of_service + (uint32_t)dsfield;
		h->hdr_checksum = rte_cpu_to_be_16((uint16_t)~__rte_raw_cksum_reduce(sum));
		h->type_of_service = dsfield;
		return;
	}
	ip[0] = (uint8_t)((ip[0] & 0xf0) | (dsfield >> 4));
	ip[1] = (uint8_t)((ip[1] & 0x0f) | (dsfield << 4));
}

/* INET_ECN_encapsulate: ECN of the inner packet, CE sent as ECT(0). */
uint8_t esp_encap_dsfield(uint8_t inner, uint8_t flags, uint32_t extra_flags)
{
	uint8_t ecn = (inner & ECN_MASK) == ECN_CE ? ECN_ECT_0 : inner & ECN_MASK;
	uint8_t dscp = (extra_flags & SA_XFLAG_DONT_ENCAP_DSCP) ? 0 : inner & ~ECN_MASK;

	if (flags & SA_FLAG_NOECN)
		ecn = 0;
	return (uint8_t)(dscp | ecn);
}

/* ipv4_copy_dscp and IP_ECN_set_ce (CE only on ECT(0) or ECT(1)). */
uint8_t esp_decap_dsfield(uint8_t outer, uint8_t inner, uint8_t flags)
{
	if (flags & SA_FLAG_DECAP_DSCP)
		inner = (uint8_t)((outer & ~ECN_MASK) | (inner & ECN_MASK));
	if (!(flags & SA_FLAG_NOECN) && (outer & ECN_MASK) == ECN_CE &&
	    (inner & ECN_MASK) != ECN_NOT_ECT)
		inner |= ECN_CE;
	return inner;
}

void esp_udp_write(void *at, uint16_t sport_be, uint16_t dport_be, uint32_t esp_len)
{
	struct rte_udp_hdr *udp = at;

	udp->src_port = sport_be;
	udp->dst_port = dport_be;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ESP_UDP_HDR_LEN + esp_len));
	udp->dgram_cksum = 0;
}

/*
 * Header checksum from the field values, not read back from the header
 * just written: those loads wait on stores of other widths still in
 * flight (failed store forwarding), ~20 cycles a packet. Host-order sums
 * give the same ones' complement result as rte_ipv4_cksum (RFC 1071 s.2).
 */
static uint16_t outer4_checksum_be(const struct esp_outer *o, uint16_t total_len, uint8_t proto)
{
	uint32_t src = rte_be_to_cpu_32(o->src.v4), dst = rte_be_to_cpu_32(o->dst.v4);
	uint32_t sum = (uint32_t)RTE_IPV4_VHL_DEF << 8 | o->dsfield;

	sum += total_len + rte_be_to_cpu_16(o->id_be) + (o->df ? IP4_DF : 0u);
	sum += (uint32_t)o->ttl << 8 | proto;
	sum += (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
	return rte_cpu_to_be_16((uint16_t)~__rte_raw_cksum_reduce(sum));
}

void esp_outer_write(void *l3, const struct esp_outer *o, uint32_t esp_len)
{
	bool udp = o->dport_be != 0;
	uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_ESP;
	uint32_t payload = esp_len + (udp ? ESP_UDP_HDR_LEN : 0);

	if (o->dst.family == AF_INET) {
		struct rte_ipv4_hdr *ip = l3;
		uint16_t total_len = (uint16_t)(ESP_IP4_HDR_LEN + payload);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = o->dsfield;
		ip->total_length = rte_cpu_to_be_16(total_len);
		ip->packet_id = o->id_be;
		ip->fragment_offset = o->df ? RTE_BE16(IP4_DF) : 0;
		ip->time_to_live = o->ttl;
		ip->next_proto_id = proto;
		ip->src_addr = o->src.v4;
		ip->dst_addr = o->dst.v4;
		ip->hdr_checksum = outer4_checksum_be(o, total_len, proto);
		if (udp)
			esp_udp_write(ip + 1, o->sport_be, o->dport_be, esp_len);
		return;
	}
	struct rte_ipv6_hdr *ip = l3;
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)o->dsfield << 20 |
					(o->flow_label & 0xfffff));
	ip->payload_len = rte_cpu_to_be_16((uint16_t)payload);
	ip->proto = proto;
	ip->hop_limits = o->ttl;
	memcpy(ip->src_addr, o->src.bytes, 16);
	memcpy(ip->dst_addr, o->dst.bytes, 16);
	if (udp)
		esp_udp_write(ip + 1, o->sport_be, o->dport_be, esp_len);
}

void esp_udp6_checksum_set(void *l3, uint32_t udp_off)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)l3 + udp_off);
	uint16_t sum;

	udp->dgram_cksum = 0;
	sum = l4_checksum6(l3, udp, rte_be_to_cpu_16(udp->dgram_len), IPPROTO_UDP);
	/* RFC 768: a computed zero is sent as all ones. */
	udp->dgram_cksum = sum ? sum : 0xffff;
}

static bool ip6_ext_header(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS;
}

/* ip6_find_1stfragopt: hop-by-hop, routing, and destination options before
 * a routing header stay in front of ESP. */
static int ip6_split(const uint8_t *ip, uint32_t len, uint32_t *hdr_len, uint32_t *nh_off)
{
	uint32_t off = ESP_IP6_HDR_LEN, at = 6;
	bool routing = false;

	if (len < ESP_IP6_HDR_LEN)
		return -EINVAL;
	while (ip6_ext_header(ip[at])) {
		if (ip[at] == IPPROTO_DSTOPTS && routing)
			break;
		routing |= ip[at] == IPPROTO_ROUTING;
		if (len < off + 8)
			return -EINVAL;
		at = off;
		off += (ip[off + 1] + 1u) * 8;
		if (off > len)
			return -EINVAL;
	}
	*hdr_len = off;
	*nh_off = at;
	return 0;
}

int esp_transport_split(const void *l3, uint32_t len, uint32_t *hdr_len, uint32_t *nh_off)
{
	const uint8_t *ip = l3;

	if (len >= 1 && (ip[0] >> 4) == 4) {
		uint32_t ihl = (ip[0] & 0x0f) * 4u;
		if (ihl < ESP_IP4_HDR_LEN || ihl > len)
			return -EINVAL;
		*hdr_len = ihl;
		*nh_off = offsetof(struct rte_ipv4_hdr, next_proto_id);
		return 0;
	}
	if (len >= 1 && (ip[0] >> 4) == 6)
		return ip6_split(ip, len, hdr_len, nh_off);
	return -EINVAL;
}

void esp_ip_header_fix(void *l3, uint32_t hdr_len, uint32_t nh_off, uint8_t proto,
		       uint32_t payload_len)
{
	uint8_t *ip = l3;

	ip[nh_off] = proto;
	if ((ip[0] >> 4) == 4) {
		struct rte_ipv4_hdr *h = l3;
		h->total_length = rte_cpu_to_be_16((uint16_t)(hdr_len + payload_len));
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
		return;
	}
	((struct rte_ipv6_hdr *)l3)->payload_len =
		rte_cpu_to_be_16((uint16_t)(hdr_len - ESP_IP6_HDR_LEN + payload_len));
}

int esp_inner_parse(const void *inner, uint32_t len, uint8_t next_header, uint32_t *ip_len)
{
	const uint8_t *ip = inner;
	uint32_t own;

	if (next_header == ESP_NH_IPIP) {
		const struct rte_ipv4_hdr *h = inner;
		if (len < ESP_IP4_HDR_LEN || (ip[0] >> 4) != 4)
			return -EINVAL;
		own = rte_be_to_cpu_16(h->total_length);
		if (own < rte_ipv4_hdr_len(h) || own > len)
			return -EINVAL;
		*ip_len = own;
		return AF_INET;
	}
	if (next_header == ESP_NH_IPV6) {
		const struct rte_ipv6_hdr *h = inner;
		if (len < ESP_IP6_HDR_LEN || (ip[0] >> 4) != 6)
			return -EINVAL;
		own = ESP_IP6_HDR_LEN + rte_be_to_cpu_16(h->payload_len);
		if (own > len)
			return -EINVAL;
		*ip_len = own;
		return AF_INET6;
	}
	return -EINVAL;
}

void esp_l4_checksum_refresh(void *l3, uint32_t hdr_len, uint8_t proto, uint32_t l4_len)
{
	uint8_t *l4 = (uint8_t *)l3 + hdr_len;
	bool v4 = ((uint8_t *)l3)[0] >> 4 == 4;
	uint32_t at;

	if (proto == IPPROTO_TCP)
		at = 16;
	else if (proto == IPPROTO_UDP)
		at = 6;
	else if (proto == IPPROTO_ICMPV6 && !v4)
		at = 2;
	else
		return;
	if (l4_len < at + 2)
		return;
	uint16_t *sum = (uint16_t *)(l4 + at);
	/* A zero UDP checksum is none over IPv4; over IPv6 udp6 drops it
	 * whatever esp_input_done2 marked, unless the socket allows it: the
	 * kernel behind the TAP decides, as it would have. */
	if (proto == IPPROTO_UDP && *sum == 0)
		return;
	if (v4) {
		*sum = 0;
		*sum = rte_ipv4_udptcp_cksum(l3, l4);
		return;
	}
	*sum = 0;
	*sum = l4_checksum6(l3, l4, l4_len, proto);
	if (proto == IPPROTO_UDP && *sum == 0)
		*sum = 0xffff; /* RFC 768: a computed zero is sent as all ones */
}

/* As icmp_send's header: precedence "internetwork control" over the
 * quoted packet's TOS bits, no DF (the kernel's ICMP socket does not
 * discover path MTUs). */
static void icmp4_header_write(struct rte_ipv4_hdr *ip, const struct ip_addr *src,
			       const struct rte_ipv4_hdr *quoted, const struct esp_icmp *icmp,
			       uint32_t icmp_len)
{
	ip->dst_addr = quoted->src_addr;
	ip->src_addr = src->v4;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = (uint8_t)(IPTOS_PREC_INTERNETCONTROL |
					(quoted->type_of_service & IPTOS_TOS_MASK));
	ip->total_length = rte_cpu_to_be_16((uint16_t)(ESP_IP4_HDR_LEN + icmp_len));
	ip->packet_id = icmp->id_be;
	ip->fragment_offset = 0;
	ip->time_to_live = icmp->ttl;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* The first 8 bytes of an IPv4 ICMP message: type, code, and the word
 * after the checksum (the MTU, or the redirect's gateway). */
static void icmp4_head_write(uint8_t *msg, const struct esp_icmp *icmp)
{
	uint16_t mtu_be = rte_cpu_to_be_16((uint16_t)icmp->mtu);

	switch (icmp->what) {
	case ESP_ICMP_TOO_BIG:
		msg[0] = ICMP_DEST_UNREACH;
		msg[1] = ICMP_FRAG_NEEDED;
		memcpy(msg + 6, &mtu_be, 2);
		break;
	case ESP_ICMP_TIME_EXCEEDED:
		msg[0] = ICMP_TIME_EXCEEDED;
		msg[1] = ICMP_EXC_TTL;
		break;
	case ESP_ICMP_REDIRECT:
		msg[0] = ICMP_REDIRECT;
		msg[1] = ICMP_REDIR_HOST;
		memcpy(msg + 4, &icmp->gateway_be, 4);
		break;
	}
}

/* An IPv6 header of the router's own ICMPv6 message of len bytes. */
static void icmp6_header_write(struct rte_ipv6_hdr *ip, const uint8_t *src, const uint8_t *dst,
			       uint32_t len, uint8_t hop_limit)
{
	memcpy(ip->dst_addr, dst, 16);
	memcpy(ip->src_addr, src, 16);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = hop_limit;
}

void esp_icmp_error_write(void *l3, const struct ip_addr *src, const struct esp_icmp *icmp,
			  uint32_t quote_len)
{
	uint8_t *msg = (uint8_t *)l3 + esp_icmp_hdr_len(src->family) - 8;
	const uint8_t *quoted = msg + 8;
	uint32_t icmp_len = 8 + quote_len;
	bool too_big = icmp->what == ESP_ICMP_TOO_BIG;
	uint16_t sum;

	memset(msg, 0, 8);
	if (src->family == AF_INET) {
		/* The quoted header's source may sit at any alignment. */
		struct rte_ipv4_hdr quoted_hdr;

		memcpy(&quoted_hdr, quoted, sizeof(quoted_hdr));
		icmp4_header_write(l3, src, &quoted_hdr, icmp, icmp_len);
		icmp4_head_write(msg, icmp);
		sum = (uint16_t)~rte_raw_cksum(msg, icmp_len);
		memcpy(msg + 2, &sum, 2);
		return;
	}
	struct rte_ipv6_hdr *ip = l3;
	uint32_t mtu_be = rte_cpu_to_be_32(icmp->mtu);
	icmp6_header_write(ip, src->bytes, quoted + 8, icmp_len, icmp->ttl);
	msg[0] = too_big ? ICMP6_PACKET_TOO_BIG : ICMP6_TIME_EXCEEDED;
	if (too_big)
		memcpy(msg + 4, &mtu_be, 4);
	sum = l4_checksum6(ip, msg, icmp_len, IPPROTO_ICMPV6);
	memcpy(msg + 2, &sum, 2);
}

/* ndisc_send_redirect: the message, then ndisc_fill_redirect_addr_option
 * and ndisc_fill_redirect_hdr_option; ndisc_send_skb's header and sum. */
void esp_redirect6_write(void *l3, const struct esp_redirect6 *r, uint32_t quote_len)
{
	uint8_t *msg = (uint8_t *)l3 + ESP_IP6_HDR_LEN;
	uint8_t *option = msg + ESP_ND_REDIRECT_LEN;
	const uint8_t *quoted = (const uint8_t *)l3 + esp_redirect6_quote_at(r->has_mac);
	uint32_t len = (uint32_t)(quoted - msg) + quote_len;
	uint16_t sum;

	memset(msg, 0, 8);
	msg[0] = ND_REDIRECT;
	memcpy(msg + 8, r->target.bytes, 16);
	memcpy(msg + 24, quoted + 24, 16); /* the redirected packet's destination */
	if (r->has_mac) {
		option[0] = ND_OPT_TARGET_LINKADDR;
		option[1] = 1;
		memcpy(option + 2, r->mac, 6);
		option += ESP_ND_OPT_UNIT;
	}
	memset(option, 0, ESP_ND_OPT_UNIT);
	option[0] = ND_OPT_REDIRECTED_HEADER;
	option[1] = (uint8_t)((quote_len + ESP_ND_OPT_UNIT) / ESP_ND_OPT_UNIT);
	icmp6_header_write(l3, r->source.bytes, quoted + 8, len, 255);
	sum = l4_checksum6(l3, msg, len, IPPROTO_ICMPV6);
	memcpy(msg + 2, &sum, 2);
}

bool esp_icmp_may_answer(const void *l3, uint32_t len)
{
	const uint8_t *ip = l3;

	if ((ip[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *h = l3;
		uint32_t ihl = rte_ipv4_hdr_len(h);
		if (h->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
			return false;
		return h->next_proto_id != IPPROTO_ICMP || len <= ihl ||
		       !esp_icmp_type_is_error(false, ip[ihl]);
	}
	return !(ip[6] == IPPROTO_ICMPV6 && len > ESP_IP6_HDR_LEN &&
		 esp_icmp_type_is_error(true, ip[ESP_IP6_HDR_LEN]));
}
