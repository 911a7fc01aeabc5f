/*
 * Decodes of traced frames (trace_decode.h). Every read is checked against
 * the bytes the trace kept, which end at 96: a header cut there is named
 * as truncated rather than read past.
 */
#include "control/trace_decode.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define IP4_HDR_MIN 20
#define IP6_HDR_LEN 40
#define IP6_FRAG_HDR_LEN 8
#define NATT_PORT 4500

/* Text appended to a bounded buffer; what does not fit is cut. */
struct line {
	char *buf;
	size_t size, len;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len + 1 >= l->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < l->size ? l->len + (size_t)n : l->size - 1;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void esp(struct line *l, const uint8_t *p, size_t len)
{
	if (len < 8) {
		put(l, "ESP truncated");
		return;
	}
	put(l, "ESP spi 0x%x seq %u", be32(p), be32(p + 4));
}

static const char *icmp4_name(uint8_t type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "destination unreachable";
	case 8: return "echo request";
	case 11: return "time exceeded";
	default: return NULL;
	}
}

static const char *icmp6_name(uint8_t type)
{
	switch (type) {
	case 1: return "destination unreachable";
	case 2: return "packet too big";
	case 3: return "time exceeded";
	case 128: return "echo request";
	case 129: return "echo reply";
	case 133: return "router solicitation";
	case 134: return "router advertisement";
	case 135: return "neighbor solicitation";
	case 136: return "neighbor advertisement";
	default: return NULL;
	}
}

static void icmp(struct line *l, const char *proto, const uint8_t *p, size_t len, bool v6)
{
	const char *name;

	if (len < 2) {
		put(l, "%s truncated", proto);
		return;
	}
	name = v6 ? icmp6_name(p[0]) : icmp4_name(p[0]);
	if (name && (p[0] == 0 || p[0] == 8 || p[0] == 128 || p[0] == 129))
		put(l, "%s %s", proto, name);
	else if (name)
		put(l, "%s %s code %u", proto, name, p[1]);
	else
		put(l, "%s type %u code %u", proto, p[0], p[1]);
}

/* UDP, and on the NAT-T port what RFC 3948 puts after it: a keepalive
 * (one 0xff byte), IKE (a zero non-ESP marker) or ESP. */
static void udp(struct line *l, const uint8_t *p, size_t len)
{
	uint16_t sport, dport;

	if (len < 8) {
		put(l, "UDP truncated");
		return;
	}
	sport = be16(p);
	dport = be16(p + 2);
	if (sport != NATT_PORT && dport != NATT_PORT) {
		put(l, "UDP %u -> %u", sport, dport);
		return;
	}
	p += 8;
	len -= 8;
	if (be16(p - 4) == 9 && len >= 1 && p[0] == 0xff)
		put(l, "UDP %u -> %u NAT-T keepalive", sport, dport);
	else if (len >= 4 && be32(p) == 0)
		put(l, "UDP %u -> %u IKE", sport, dport);
	else {
		put(l, "UDP %u -> %u ", sport, dport);
		esp(l, p, len);
	}
}

static void l4(struct line *l, uint8_t proto, const uint8_t *p, size_t len)
{
	switch (proto) {
	case IPPROTO_ICMP:
		icmp(l, "ICMP", p, len, false);
		break;
	case IPPROTO_ICMPV6:
		icmp(l, "ICMP6", p, len, true);
		break;
	case IPPROTO_UDP:
		udp(l, p, len);
		break;
	case IPPROTO_TCP:
		if (len < 4)
			put(l, "TCP truncated");
		else
			put(l, "TCP %u -> %u", be16(p), be16(p + 2));
		break;
	case IPPROTO_ESP:
		esp(l, p, len);
		break;
	default:
		put(l, "proto %u", proto);
	}
}

static void ip4(struct line *l, const uint8_t *p, size_t len)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	size_t hdr_len;
	uint16_t frag;

	if (len < IP4_HDR_MIN) {
		put(l, "IP4 truncated");
		return;
	}
	hdr_len = (size_t)(p[0] & 0xf) * 4;
	frag = be16(p + 6);
	inet_ntop(AF_INET, p + 12, src, sizeof(src));
	inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
	put(l, "IP4 %s -> %s ", src, dst);
	if (frag & 0x1fff)
		put(l, "fragment proto %u off %u", p[9], (frag & 0x1fff) * 8u);
	else if (hdr_len < IP4_HDR_MIN || hdr_len > len)
		put(l, "proto %u", p[9]);
	else
		l4(l, p[9], p + hdr_len, len - hdr_len);
	put(l, " ttl %u len %u%s", p[8], be16(p + 2), frag & 0x2000 ? " more fragments" : "");
}

static void ip6(struct line *l, const uint8_t *p, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const uint8_t *next = p + IP6_HDR_LEN;
	uint8_t proto;
	size_t rest;

	if (len < IP6_HDR_LEN) {
		put(l, "IP6 truncated");
		return;
	}
	rest = len - IP6_HDR_LEN;
	proto = p[6];
	inet_ntop(AF_INET6, p + 8, src, sizeof(src));
	inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
	put(l, "IP6 %s -> %s ", src, dst);
	if (proto == IPPROTO_FRAGMENT && rest >= IP6_FRAG_HDR_LEN && (be16(next + 2) & 0xfff8))
		put(l, "fragment proto %u off %u", next[0], be16(next + 2) & 0xfff8u);
	else if (proto == IPPROTO_FRAGMENT && rest >= IP6_FRAG_HDR_LEN)
		l4(l, next[0], next + IP6_FRAG_HDR_LEN, rest - IP6_FRAG_HDR_LEN);
	else
		l4(l, proto, next, rest);
	put(l, " hlim %u len %u", p[7], IP6_HDR_LEN + be16(p + 4));
}

char *format_trace_frame(char *buf, size_t size, const uint8_t *frame, size_t len)
{
	struct line l = { .buf = buf, .size = size };
	size_t off = ETH_HDR_LEN;
	uint16_t type;

	if (size)
		buf[0] = '\0';
	if (len < ETH_HDR_LEN) {
		put(&l, "frame truncated");
		return buf;
	}
	type = be16(frame + 12);
	if ((type == 0x8100 || type == 0x88a8) && len >= ETH_HDR_LEN + VLAN_TAG_LEN) {
		put(&l, "VLAN %u ", be16(frame + 14) & 0xfff);
		type = be16(frame + 16);
		off += VLAN_TAG_LEN;
	}
	if (type == 0x0800)
		ip4(&l, frame + off, len - off);
	else if (type == 0x86dd)
		ip6(&l, frame + off, len - off);
	else if (type == 0x0806)
		put(&l, "ARP");
	else
		put(&l, "ethertype 0x%04x", type);
	return buf;
}
