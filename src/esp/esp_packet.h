/*
 * ESP packet layout (RFC 4303) around the crypto engine: padding and the
 * trailer, the tunnel header (IPv4 or IPv6, with the ESP-in-UDP header of
 * RFC 3948), where transport mode inserts ESP, the inner packet after
 * decryption, DSCP/ECN across the tunnel and the inner MTU. Everything
 * follows what the Linux kernel does (net/xfrm/xfrm_output.c,
 * xfrm_input.c, net/ipv4/esp4.c, net/ipv6/esp6.c).
 *
 * Functions work on plain buffers (l3 points at an IPv4 or IPv6 header),
 * so the graph nodes keep the mbuf handling and this module its unit test.
 */
#ifndef ESPD_ESP_ESP_PACKET_H
#define ESPD_ESP_ESP_PACKET_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include "common/addr.h"

#define ESP_IP4_HDR_LEN 20
#define ESP_IP6_HDR_LEN 40
#define ESP_IP6_MIN_MTU 1280 /* RFC 8200 s.5 */
#define ESP_UDP_HDR_LEN 8
#define ESP_TRAILER_LEN 2 /* pad length, next header */
#define ESP_NH_IPIP 4
#define ESP_NH_IPV6 41
/* RFC 3948 s.2.2: a NAT-keepalive is one byte 0xff; s.2.1: non-ESP marker. */
#define ESP_NATT_KEEPALIVE 0xff
#define ESP_NATT_PORT 4500 /* RFC 3948 */
#define ESP_NON_ESP_MARKER_LEN 4

/* RFC 4303 s.2.4: payload + padding + trailer is a multiple of the cipher
 * block and of 4 bytes. align is the larger of both (a power of two). */
static inline uint32_t esp_align(uint8_t block_size)
{
	return block_size > 4 ? block_size : 4;
}

/* A mask, not a division: align is a power of two, and two divisions
 * cost more than the rest of the header work of a packet. */
static inline uint32_t esp_pad_len(uint32_t payload_len, uint32_t align)
{
	return (0u - (payload_len + ESP_TRAILER_LEN)) & (align - 1);
}

/* Padding 1, 2, 3, ... (RFC 4303 s.2.4 default), pad length, next header. */
static inline void esp_trailer_write(uint8_t *pad, uint32_t pad_len, uint8_t next_header)
{
	for (uint32_t i = 0; i < pad_len; i++)
		pad[i] = (uint8_t)(i + 1);
	pad[pad_len] = (uint8_t)pad_len;
	pad[pad_len + 1] = next_header;
}

/*
 * After decryption: payload holds data, padding and the trailer (len bytes).
 * Returns 0 with the data length and next header, -EINVAL when the pad
 * length leaves no data (the kernel's esp_remove_trailer), or -EBADMSG when
 * the padding is not 1, 2, 3, ...
 */
static inline int esp_trailer_check(const uint8_t *payload, uint32_t len, uint32_t *data_len,
				    uint8_t *next_header)
{
	uint32_t pad_len;
	uint8_t bad = 0;

	if (len < ESP_TRAILER_LEN)
		return -EINVAL;
	pad_len = payload[len - 2];
	/* esp_remove_trailer: padlen + 2 >= payload leaves no data. */
	if (pad_len + ESP_TRAILER_LEN >= len)
		return -EINVAL;
	*data_len = len - ESP_TRAILER_LEN - pad_len;
	*next_header = payload[len - 1];
	for (uint32_t i = 0; i < pad_len; i++)
		bad |= (uint8_t)(payload[*data_len + i] ^ (uint8_t)(i + 1));
	return bad ? -EBADMSG : 0;
}

/*
 * Largest inner packet that fits a link MTU once protected, as the kernel's
 * xfrm_state_mtu: header_len is what precedes the payload (tunnel header,
 * UDP, ESP header, IV), net_adj the IP header transport mode keeps in front.
 */
uint32_t esp_inner_mtu(uint32_t link_mtu, uint32_t header_len, uint32_t icv_len, uint32_t align,
		       uint32_t net_adj);

/* DS field (DSCP and ECN) of an IPv4 or IPv6 header. */
static inline uint8_t esp_ip_dsfield(const void *l3)
{
	const uint8_t *ip = l3;

	if ((ip[0] >> 4) == 4)
		return ip[1];
	return (uint8_t)((ip[0] << 4) | (ip[1] >> 4));
}
/* Set it, fixing the IPv4 header checksum. */
void esp_ip_dsfield_set(void *l3, uint8_t dsfield);

/*
 * DS field of a tunnel header (xfrm4/6_tunnel_encap_add): the inner DSCP
 * unless the SA has dont-encap-dscp, ECN per RFC 6040 normal mode (CE is
 * sent as ECT(0)), cleared with noecn. flags are SA_FLAG_*, extra SA_XFLAG_*.
 */
uint8_t esp_encap_dsfield(uint8_t inner, uint8_t flags, uint32_t extra_flags);
/*
 * Inner DS field after decapsulation (xfrm4/6_remove_tunnel_encap): DSCP
 * copied from the outer header with decap-dscp; a CE mark carried over to an
 * ECN-capable inner packet unless noecn.
 */
uint8_t esp_decap_dsfield(uint8_t outer, uint8_t inner, uint8_t flags);

/* What a tunnel SA puts in front of the ESP header. */
struct esp_outer {
	struct ip_addr src, dst;
	uint16_t sport_be, dport_be; /* ESP in UDP when dport_be != 0 */
	uint8_t dsfield;
	uint8_t df;                  /* IPv4: set the DF bit */
	uint16_t id_be;              /* IPv4 identification */
	uint32_t flow_label;         /* IPv6 (host order, 20 bits) */
	uint8_t ttl;                 /* or IPv6 hop limit (iface_hop_limit) */
};

/* Bytes of tunnel header (+ UDP) for the family. */
static inline uint32_t esp_outer_len(uint8_t family, bool udp)
{
	uint32_t ip = family == AF_INET6 ? ESP_IP6_HDR_LEN : ESP_IP4_HDR_LEN;

	return ip + (udp ? ESP_UDP_HDR_LEN : 0);
}

/* Write the tunnel header and the UDP header (checksum 0) at l3; esp_len
 * is the whole ESP packet that follows (header, IV, payload, ICV). */
void esp_outer_write(void *l3, const struct esp_outer *o, uint32_t esp_len);
/* The UDP header of ESP in UDP (RFC 3948 s.2.1), checksum 0. */
void esp_udp_write(void *udp, uint16_t sport_be, uint16_t dport_be, uint32_t esp_len);

/*
 * ESP in UDP over IPv6 needs a real UDP checksum (RFC 8200 s.8.1; the
 * kernel's esp_output_encap_csum), computed once the ESP packet is final.
 * The UDP header is udp_off bytes after the IPv6 header's start.
 */
void esp_udp6_checksum_set(void *l3, uint32_t udp_off);

/*
 * Transport mode: the bytes of IP header ESP goes after (IPv4: the header;
 * IPv6: the header and the extension headers the kernel keeps in front,
 * ip6_find_1stfragopt) and the offset of the next-header byte to rewrite.
 * Returns 0 or -EINVAL (truncated headers).
 */
int esp_transport_split(const void *l3, uint32_t len, uint32_t *hdr_len, uint32_t *nh_off);

/*
 * Fix an IP header (hdr_len bytes, its next-header byte at nh_off) whose
 * payload is now payload_len bytes of protocol proto: lengths, protocol and
 * the IPv4 checksum.
 */
void esp_ip_header_fix(void *l3, uint32_t hdr_len, uint32_t nh_off, uint8_t proto,
		       uint32_t payload_len);

/*
 * Tunnel mode after decryption: the inner packet's family (AF_INET or
 * AF_INET6) if next_header announces it and the header is whole, with its
 * own length in *ip_len (at most len; shorter with RFC 4303 s.2.7 TFC
 * padding), or -EINVAL.
 */
int esp_inner_parse(const void *inner, uint32_t len, uint8_t next_header, uint32_t *ip_len);

/*
 * NAT-T transport mode after decryption: the TCP, UDP or ICMPv6 checksum
 * covers the peer's address before NAT, which the kernel stops checking
 * (esp_input_done2 marks it CHECKSUM_UNNECESSARY). The packet goes to the
 * kernel through a TAP, so the checksum is made right for the addresses it
 * now carries. A zero UDP checksum stays zero (IPv4: none; IPv6: udp6
 * drops it whatever the packet's checksum state); a header cut short of
 * its checksum (l4_len bytes after hdr_len) is left alone. IPv4's ICMP has
 * no pseudo-header, nothing to refresh.
 */
void esp_l4_checksum_refresh(void *l3, uint32_t hdr_len, uint8_t proto, uint32_t l4_len);

/*
 * The ICMP errors icmp-error sends, for SAs the kernel does not hold and
 * for packets the kernel cannot be handed: at l3, an IPv4 header and ICMP
 * "fragmentation needed" (type 3 code 4, RFC 1191) or "time exceeded in
 * transit" (type 11), or an IPv6 header and ICMPv6 "packet too big" (type
 * 2, RFC 8201) or "hop limit exceeded" (type 3), from src to the source of
 * the packet quoted right behind (quote_len bytes at l3 + esp_icmp_hdr_len,
 * at most esp_icmp_quote_max, as the kernel's icmp_send quotes up to 576 /
 * 1280 bytes in all). IPv4 only: the "redirect for host" (type 5 code 1,
 * RFC 792) icmp-redirect sends, which has the same layout.
 */
enum esp_icmp_error {
	ESP_ICMP_TOO_BIG,       /* reports mtu */
	ESP_ICMP_TIME_EXCEEDED,
	ESP_ICMP_REDIRECT,      /* IPv4: names gateway */
};

struct esp_icmp {
	enum esp_icmp_error what;
	uint32_t mtu;
	uint16_t id_be;      /* IPv4 identification */
	uint8_t ttl;         /* or IPv6 hop limit (iface_hop_limit) */
	uint32_t gateway_be; /* ESP_ICMP_REDIRECT: the better first hop */
};

static inline uint32_t esp_icmp_hdr_len(uint8_t family)
{
	return family == AF_INET6 ? ESP_IP6_HDR_LEN + 8 : ESP_IP4_HDR_LEN + 8;
}

static inline uint32_t esp_icmp_quote_max(uint8_t family)
{
	return (family == AF_INET6 ? ESP_IP6_MIN_MTU : 576) - esp_icmp_hdr_len(family);
}

void esp_icmp_error_write(void *l3, const struct ip_addr *src, const struct esp_icmp *icmp,
			  uint32_t quote_len);
/*
 * The ICMPv6 redirect (RFC 4861 s.4.5) icmp-redirect sends, laid out as
 * the kernel's ndisc_send_redirect lays it out: at l3, an IPv6 header from
 * the router's link-local address to the source of the redirected packet
 * (hop limit 255, traffic class 0), the message naming target and the
 * packet's destination, the target link-layer address option when the
 * target's MAC is known, and the Redirected Header option with as much of
 * the packet as keeps the whole within 1280 bytes, in 8-byte units
 * (quote_len bytes, already at l3 + esp_redirect6_quote_at).
 */
struct esp_redirect6 {
	struct ip_addr source; /* the router's link-local address on the link */
	struct ip_addr target; /* the better first hop */
	bool has_mac;
	uint8_t mac[6];        /* the target's, when has_mac */
};

#define ESP_ND_REDIRECT_LEN 40 /* type, code, checksum, reserved, target, destination */
#define ESP_ND_OPT_UNIT 8      /* an option's length unit; an Ethernet address's option */

static inline uint32_t esp_redirect6_quote_at(bool has_mac)
{
	return ESP_IP6_HDR_LEN + ESP_ND_REDIRECT_LEN + (has_mac ? ESP_ND_OPT_UNIT : 0) +
	       ESP_ND_OPT_UNIT;
}

/* Bytes of an ip_len-byte packet the Redirected Header carries. */
static inline uint32_t esp_redirect6_quote_len(bool has_mac, uint32_t ip_len)
{
	uint32_t room = ESP_IP6_MIN_MTU - ESP_IP6_HDR_LEN - ESP_ND_REDIRECT_LEN -
			(has_mac ? ESP_ND_OPT_UNIT : 0);
	uint32_t option = ip_len + ESP_ND_OPT_UNIT < room ? ip_len + ESP_ND_OPT_UNIT : room;

	return (option & ~(uint32_t)(ESP_ND_OPT_UNIT - 1)) - ESP_ND_OPT_UNIT;
}

void esp_redirect6_write(void *l3, const struct esp_redirect6 *r, uint32_t quote_len);

/* Whether an ICMP (ipv6 false) or ICMPv6 type is an error's: ICMP's
 * unreachable, source quench, redirect, time exceeded and parameter
 * problem (icmp_pointers[].error, icmp_is_err); ICMPv6's types below 128
 * (RFC 4443 s.2.1). */
static inline bool esp_icmp_type_is_error(bool ipv6, uint8_t type)
{
	if (ipv6)
		return type < 128;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Whether a packet may be answered with an ICMP error at all (RFC 1122
 * s.3.2.2, RFC 4443 s.2.4): not an ICMP error itself, nor a non-first
 * fragment. */
bool esp_icmp_may_answer(const void *l3, uint32_t len);

#endif
