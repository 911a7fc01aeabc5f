/*
 * Family-agnostic IP addresses and prefixes, shared by the config parser,
 * the tables and the netlink mirror so that IPv4 and IPv6 never need twin
 * code paths. Addresses are kept in network byte order.
 */
#ifndef ESPD_COMMON_ADDR_H
#define ESPD_COMMON_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

struct ip_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 when unset */
	uint8_t pad[3];
	union {
		uint8_t bytes[16];
		uint32_t v4; /* network order */
		struct in6_addr v6;
	};
};

struct ip_prefix {
	struct ip_addr addr;
	uint8_t len;
};

#define IP_ADDR_STRLEN 48
#define IP_PREFIX_STRLEN 52

/* Bytes of address for the family: 4 or 16 (0 if unset). */
static inline size_t ip_addr_size(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Inline with a constant length per family, as the inbound policy check
 * compares addresses per packet. */
static inline bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	if (a->family == AF_INET6)
		return memcmp(a->bytes, b->bytes, 16) == 0;
	return true;
}

static inline bool ip_addr_is_zero(const struct ip_addr *addr)
{
	static const uint8_t zero[16];
	return memcmp(addr->bytes, zero, sizeof(zero)) == 0;
}

/* An IPv6 link-local unicast address (fe80::/10). */
static inline bool ip_addr_is_link_local(const struct ip_addr *addr)
{
	return addr->family == AF_INET6 && addr->bytes[0] == 0xfe &&
	       (addr->bytes[1] & 0xc0) == 0x80;
}

/* Parse a dotted-quad or IPv6 literal. Returns 0 or -EINVAL. */
int ip_addr_parse(const char *text, struct ip_addr *addr);
/* Parse "A/len" or a bare address (full length). Host bits are cleared. */
int ip_prefix_parse(const char *text, struct ip_prefix *prefix);
/*
 * An address or prefix as iproute2's ip reads it (get_addr_1 and
 * get_prefix_1 of lib/utils.c), in family (0: either), for the ipsec
 * commands that take ip xfrm's words; the parsers above stay strict for
 * the config and the state file. IPv4 is one to four numbers in C's bases
 * (strtoul's), each at most 255, the missing ones 0: 10.8 is 10.8.0.0,
 * 0x0a.0.0.1 is 10.0.0.1. A prefix length is a number in C's bases or a
 * netmask (255.255.255.0); any, all and default are the zero prefix /0 of
 * family, which is 0 when none is given (the caller refuses it then, as
 * ip xfrm does). 0, -EINVAL, or -EAFNOSUPPORT for an address of the other
 * family than the one given.
 */
int ip_addr_parse_iproute2(const char *text, uint8_t family, struct ip_addr *addr);
int ip_prefix_parse_iproute2(const char *text, uint8_t family, struct ip_prefix *prefix);
void ip_addr_from_bytes(struct ip_addr *addr, uint8_t family, const void *bytes);
bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr);
bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);
void ip_prefix_mask(struct ip_prefix *prefix);
/* Orders for listings: IPv4 before IPv6, then numerically; a prefix
 * before the longer ones at the same address. */
int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b);
int ip_prefix_compare(const struct ip_prefix *a, const struct ip_prefix *b);
/* Format into buf and return buf, for use inside printf argument lists. */
const char *format_ip_addr(char *buf, size_t size, const struct ip_addr *addr);
const char *format_ip_prefix(char *buf, size_t size, const struct ip_prefix *prefix);

#endif
