/*
 * The multipath flow hash (flow_hash.h). The headers are taken apart as the
 * kernel's flow dissector does for fib_multipath_hash: IPv4, IPv6 with its
 * extension headers, IP-in-IP and GRE version 0 (its Ethernet payload too),
 * the ports of the protocols proto_ports_offset knows.
 */
#include "tables/flow_hash.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_random.h>

#include "common/sysctl.h"
#include "esp/esp_packet.h"

/* Headers one dissection takes at most (MAX_FLOW_DISSECT_HDRS). */
#define DISSECT_HEADERS_MAX 15

#define GRE_CSUM 0x8000
#define GRE_ROUTING 0x4000
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000
#define GRE_VERSION 0x0007
#define ETHER_TYPE_IPV4 0x0800
#define ETHER_TYPE_IPV6 0x86dd
#define ETHER_TYPE_TEB 0x6558 /* transparent Ethernet bridging */
#define ETHER_HDR_LEN 14

#define FIELDS_L4 (FLOW_HASH_SRC_IP | FLOW_HASH_DST_IP | FLOW_HASH_IP_PROTO | \
		   FLOW_HASH_SRC_PORT | FLOW_HASH_DST_PORT)
#define FIELDS_ADDRS (FLOW_HASH_SRC_IP | FLOW_HASH_DST_IP)

struct flow_hash_conf flow_hash_confs[2];
static uint32_t flow_hash_seed;

/* What the kernel's struct flow_keys holds of one header, network order. */
struct flow_keys {
	uint8_t family;
	uint8_t proto;
	bool encapsulated; /* an IP-in-IP or GRE header was passed (FLOW_DIS_ENCAPSULATION) */
	uint32_t src[4], dst[4];
	uint32_t flow_label;
	uint16_t ports[2]; /* source, destination */
};

void flow_hash_init(void)
{
	flow_hash_seed = (uint32_t)rte_rand();
	for (unsigned i = 0; i < 2; i++)
		flow_hash_confs[i] = (struct flow_hash_conf){ 0, FLOW_HASH_FIELDS_DEFAULT, 0 };
}

static void conf_read(struct flow_hash_conf *conf, const char *family)
{
	char path[PATH_MAX];
	int value;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/fib_multipath_hash_policy", family);
	value = sysctl_read_or(path, -1);
	if (value >= 0 && value <= FLOW_HASH_POLICY_MAX)
		conf->policy = (uint32_t)value;
	snprintf(path, sizeof(path), "/proc/sys/net/%s/fib_multipath_hash_fields", family);
	value = sysctl_read_or(path, -1);
	if (value > 0 && (uint32_t)value >> FLOW_HASH_INNER_SHIFT <= FLOW_HASH_OUTER_MASK)
		conf->fields = (uint32_t)value;
	snprintf(path, sizeof(path), "/proc/sys/net/%s/fib_multipath_use_neigh", family);
	value = sysctl_read_or(path, -1);
	if (value == 0 || value == 1)
		conf->use_neigh = (uint32_t)value;
}

void flow_hash_refresh(void)
{
	conf_read(&flow_hash_confs[0], "ipv4");
	conf_read(&flow_hash_confs[1], "ipv6");
}

/* The fields of keys that fields names, hashed. */
static uint32_t keys_hash(const struct flow_keys *keys, uint32_t fields)
{
	uint32_t words[10], n = 0, addr_words = keys->family == AF_INET6 ? 4 : 1;
	bool label = keys->family == AF_INET6 && (fields & FLOW_HASH_FLOW_LABEL);

	for (uint32_t i = 0; i < addr_words; i++) {
		words[n++] = fields & FLOW_HASH_SRC_IP ? keys->src[i] : 0;
		words[n++] = fields & FLOW_HASH_DST_IP ? keys->dst[i] : 0;
	}
	words[n++] = (fields & FLOW_HASH_IP_PROTO ? keys->proto : 0u) |
		     (label ? keys->flow_label << 8 : 0u);
	words[n++] = (fields & FLOW_HASH_SRC_PORT ? keys->ports[0] : 0u) |
		     (fields & FLOW_HASH_DST_PORT ? (uint32_t)keys->ports[1] << 16 : 0u);
	return rte_jhash_32b(words, n, flow_hash_seed);
}

/* What policies 0 and 2 hash of a header of the family. */
static uint32_t fields_l3(uint8_t family)
{
	return family == AF_INET6 ? FIELDS_ADDRS | FLOW_HASH_FLOW_LABEL | FLOW_HASH_IP_PROTO :
				    FIELDS_ADDRS;
}

static void ip4_addrs(struct flow_keys *keys, const struct rte_ipv4_hdr *ip)
{
	keys->family = AF_INET;
	keys->src[0] = ip->src_addr;
	keys->dst[0] = ip->dst_addr;
	keys->proto = ip->next_proto_id;
}

static void ip6_addrs(struct flow_keys *keys, const struct rte_ipv6_hdr *ip6)
{
	keys->family = AF_INET6;
	memcpy(keys->src, ip6->src_addr, 16);
	memcpy(keys->dst, ip6->dst_addr, 16);
	keys->flow_label = rte_be_to_cpu_32(ip6->vtc_flow) & 0xfffff;
	keys->proto = ip6->proto;
}

/* The IPv4 header at l3 into keys. Returns its length when the header of
 * its protocol follows (not a fragment), else 0. */
static uint32_t ip4_keys(const uint8_t *l3, uint32_t room, struct flow_keys *keys)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t len;

	if (room < sizeof(*ip) || (len = rte_ipv4_hdr_len(ip)) < sizeof(*ip) || len > room)
		return 0;
	ip4_addrs(keys, ip);
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return 0;
	return len;
}

/* The IPv6 header at l3 and its extension headers into keys, each counted
 * in *headers. Returns their length when the header of keys->proto
 * follows (not a fragment), else 0. */
static uint32_t ip6_keys(const uint8_t *l3, uint32_t room, struct flow_keys *keys,
			 unsigned *headers)
{
	uint32_t len = sizeof(struct rte_ipv6_hdr);

	if (room < len)
		return 0;
	ip6_addrs(keys, (const struct rte_ipv6_hdr *)l3);
	for (; *headers < DISSECT_HEADERS_MAX; ++*headers) {
		switch (keys->proto) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (room < len + 2)
				return 0;
			keys->proto = l3[len];
			len += (l3[len + 1] + 1u) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (room >= len + 8)
				keys->proto = l3[len];
			return 0;
		default:
			return len <= room ? len : 0;
		}
	}
	return 0;
}

/* The length of the GRE header at gre (with an Ethernet header it carries),
 * when the dissector looks inside (version 0, no routing), else 0; *family
 * the IP version it carries, or 0. */
static uint32_t gre_len(const uint8_t *gre, uint32_t room, uint8_t *family)
{
	uint16_t flags, type;
	uint32_t len = 4;

	if (room < len)
		return 0;
	flags = (uint16_t)(gre[0] << 8 | gre[1]);
	type = (uint16_t)(gre[2] << 8 | gre[3]);
	if (flags & (GRE_VERSION | GRE_ROUTING))
		return 0;
	len += (flags & GRE_CSUM ? 4u : 0u) + (flags & GRE_KEY ? 4u : 0u) +
	       (flags & GRE_SEQ ? 4u : 0u);
	if (type == ETHER_TYPE_TEB && room >= len + ETHER_HDR_LEN) {
		type = (uint16_t)(gre[len + 12] << 8 | gre[len + 13]);
		len += ETHER_HDR_LEN;
	}
	*family = type == ETHER_TYPE_IPV4 ? AF_INET : type == ETHER_TYPE_IPV6 ? AF_INET6 : 0;
	return len <= room ? len : 0;
}

/* The ports of keys->proto's header at l4 (proto_ports_offset). */
static void ports_keys(struct flow_keys *keys, const uint8_t *l4, uint32_t room)
{
	uint32_t at;

	switch (keys->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_DCCP:
	case IPPROTO_ESP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		at = 0;
		break;
	case IPPROTO_AH:
		at = 4;
		break;
	default:
		return;
	}
	if (room >= at + 4)
		memcpy(keys->ports, l4 + at, 4);
}

/* The keys of the packet at l3 (__skb_flow_dissect): of its header and,
 * unless stop_at_encap, of each IP-in-IP or GRE header below it, the last
 * one's. */
static void dissect(const uint8_t *l3, uint32_t room, uint8_t family, bool stop_at_encap,
		    struct flow_keys *keys)
{
	for (unsigned headers = 0; headers++ < DISSECT_HEADERS_MAX;) {
		uint32_t len = family == AF_INET ? ip4_keys(l3, room, keys) :
						   ip6_keys(l3, room, keys, &headers);
		uint8_t inner = 0;

		if (len == 0)
			return;
		l3 += len;
		room -= len;
		if (keys->proto == IPPROTO_IPIP || keys->proto == IPPROTO_IPV6) {
			inner = keys->proto == IPPROTO_IPIP ? AF_INET : AF_INET6;
		} else if (keys->proto == IPPROTO_GRE) {
			len = gre_len(l3, room, &inner);
			if (len == 0)
				return;
			l3 += len;
			room -= len;
		} else {
			ports_keys(keys, l3, room);
			return;
		}
		keys->encapsulated = true;
		if (stop_at_encap || inner == 0)
			return;
		family = inner;
	}
}

/* Of an ICMP error at l3, the offset of the header it quotes, when whole;
 * else 0. */
static uint32_t icmp_error_quote(const uint8_t *l3, uint32_t room, uint8_t family)
{
	if (family == AF_INET) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		uint32_t len = rte_ipv4_hdr_len(ip);

		if (ip->next_proto_id != IPPROTO_ICMP ||
		    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) ||
		    room < len + 8 + sizeof(*ip) || !esp_icmp_type_is_error(false, l3[len]))
			return 0;
		return len + 8;
	}
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)l3;

	if (ip6->proto != IPPROTO_ICMPV6 || room < 2 * sizeof(*ip6) + 8 ||
	    !esp_icmp_type_is_error(true, l3[sizeof(*ip6)]))
		return 0;
	return sizeof(*ip6) + 8;
}

/* Policy 3: the outer fields, and the inner ones of an encapsulated packet. */
static uint32_t custom_hash(const uint8_t *l3, uint32_t room, uint8_t family, uint32_t fields)
{
	uint32_t inner_fields = fields >> FLOW_HASH_INNER_SHIFT & FLOW_HASH_OUTER_MASK;
	struct flow_keys outer = { 0 }, inner = { 0 };
	uint32_t outer_hash = 0, inner_hash = 0;

	dissect(l3, room, family, true, &outer);
	if (fields & FLOW_HASH_OUTER_MASK)
		outer_hash = keys_hash(&outer, fields & FLOW_HASH_OUTER_MASK);
	if (outer.encapsulated && inner_fields) {
		dissect(l3, room, family, false, &inner);
		inner_hash = keys_hash(&inner, inner_fields);
	}
	return rte_jhash_2words(outer_hash, inner_hash, flow_hash_seed);
}

static uint32_t packet_hash(const uint8_t *l3, uint32_t room, uint8_t family, uint32_t policy,
			    uint32_t fields)
{
	struct flow_keys keys = { 0 };

	switch (policy) {
	case 1:
		dissect(l3, room, family, true, &keys);
		return keys_hash(&keys, FIELDS_L4);
	case 2:
		dissect(l3, room, family, false, &keys);
		return keys_hash(&keys, fields_l3(keys.family));
	case 3:
		return custom_hash(l3, room, family, fields);
	default:
		if (family == AF_INET)
			ip4_addrs(&keys, (const struct rte_ipv4_hdr *)l3);
		else
			ip6_addrs(&keys, (const struct rte_ipv6_hdr *)l3);
		return keys_hash(&keys, fields_l3(family));
	}
}

uint32_t flow_hash_packet(const uint8_t *l3, uint32_t room, uint8_t family, bool own)
{
	const struct flow_hash_conf *conf = &flow_hash_confs[family == AF_INET6];
	uint32_t policy = conf->policy;
	uint32_t quote = own || policy == 0 ? icmp_error_quote(l3, room, family) : 0;

	l3 += quote;
	room -= quote;
	return packet_hash(l3, room, family, policy, conf->fields) >> 1;
}

uint32_t flow_hash_addrs(const struct ip_addr *src, const struct ip_addr *dst)
{
	const struct flow_hash_conf *conf = &flow_hash_confs[dst->family == AF_INET6];
	struct flow_keys keys = { .family = dst->family };
	size_t len = dst->family == AF_INET6 ? 16 : 4;

	memcpy(keys.src, src->bytes, len);
	memcpy(keys.dst, dst->bytes, len);
	return keys_hash(&keys, conf->policy == 3 ? conf->fields & FIELDS_ADDRS : FIELDS_ADDRS) >> 1;
}
