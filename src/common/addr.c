/* Family-agnostic IP address and prefix helpers. */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "common/number.h"

int ip_addr_parse(const char *text, struct ip_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, text, addr->bytes) == 1) {
		addr->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr->bytes) == 1) {
		addr->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void ip_prefix_mask(struct ip_prefix *prefix)
{
	size_t size = ip_addr_size(prefix->addr.family);
	for (size_t i = 0; i < size; i++) {
		unsigned bits = prefix->len > i * 8 ? prefix->len - i * 8 : 0;
		if (bits < 8)
			prefix->addr.bytes[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static int prefix_parse_unmasked(const char *text, struct ip_prefix *prefix)
{
	char copy[IP_PREFIX_STRLEN];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);

	if (addr_len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, text, addr_len);
	copy[addr_len] = '\0';
	if (ip_addr_parse(copy, &prefix->addr) < 0)
		return -EINVAL;
	unsigned max = (unsigned)ip_addr_size(prefix->addr.family) * 8;
	prefix->len = (uint8_t)max;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		unsigned long len = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || len > max)
			return -EINVAL;
		prefix->len = (uint8_t)len;
	}
	return 0;
}

int ip_prefix_parse(const char *text, struct ip_prefix *prefix)
{
	int rc = prefix_parse_unmasked(text, prefix);

	if (rc == 0)
		ip_prefix_mask(prefix);
	return rc;
}

/* ---- iproute2's words (addr.h) ---- */

/* get_addr_1's words for the zero address of the family asked for. */
static bool zero_word(const char *text, size_t len)
{
	static const char *const words[] = { "default", "all", "any" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len && memcmp(text, words[i], len) == 0)
			return true;
	return false;
}

/* get_addr_ipv4 over text's first len characters: not inet_aton, whose
 * 10.8 is 10.0.0.8. strtoul skips blanks and takes a sign as ip does; it
 * stops at the '/' after len, so it never reads past it. */
static int ipv4_span(const char *text, size_t len, uint8_t *bytes)
{
	const char *at = text, *stop = text + len;

	for (int i = 0; i < 4; i++) {
		char *end;
		unsigned long n = strtoul(at, &end, 0);

		if (end == at || n > 255)
			return -EINVAL;
		bytes[i] = (uint8_t)n;
		if (end == stop)
			return 0;
		if (*end != '.')
			return -EINVAL;
		at = end + 1;
	}
	return -EINVAL;
}

/* No IPv6 text inet_pton takes is longer than INET6_ADDRSTRLEN. */
static int ipv6_span(const char *text, size_t len, uint8_t *bytes)
{
	char copy[INET6_ADDRSTRLEN + 1];

	if (len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return inet_pton(AF_INET6, copy, bytes) == 1 ? 0 : -EINVAL;
}

/* get_addr_1: a word with a ':' is IPv6, any other IPv4. */
static int addr_span(const char *text, size_t len, uint8_t family, struct ip_addr *addr,
		     bool *zero)
{
	uint8_t found = memchr(text, ':', len) ? AF_INET6 : AF_INET;
	int rc;

	memset(addr, 0, sizeof(*addr));
	*zero = zero_word(text, len);
	if (*zero) {
		addr->family = family;
		return 0;
	}
	rc = found == AF_INET6 ? ipv6_span(text, len, addr->bytes)
			       : ipv4_span(text, len, addr->bytes);
	if (rc)
		return rc;
	addr->family = found;
	return family && family != found ? -EAFNOSUPPORT : 0;
}

/* get_netmask: a number (get_unsigned), else an IPv4 netmask, whose zero
 * words are 0.0.0.0 too (mask2bits: ones, then zeros only). */
static int netmask_bits(const char *text, uint64_t *bits)
{
	struct ip_addr mask;
	bool zero;

	if (number_parse_negatable(text, 0, UINT32_MAX, bits) == 0)
		return 0;
	if (addr_span(text, strlen(text), AF_INET, &mask, &zero) != 0)
		return -EINVAL;
	uint32_t ones = ntohl(mask.v4), host = ~ones;
	if (host & (host + 1))
		return -EINVAL;
	*bits = (uint64_t)__builtin_popcount(ones);
	return 0;
}

int ip_addr_parse_iproute2(const char *text, uint8_t family, struct ip_addr *addr)
{
	bool zero;

	return addr_span(text, strlen(text), family, addr, &zero);
}

/* get_prefix_1: a zero word takes no length and is /0. */
int ip_prefix_parse_iproute2(const char *text, uint8_t family, struct ip_prefix *prefix)
{
	const char *slash = strchr(text, '/');
	bool zero;
	uint64_t bits;
	int rc = addr_span(text, slash ? (size_t)(slash - text) : strlen(text), family,
			   &prefix->addr, &zero);
	unsigned max = (unsigned)ip_addr_size(prefix->addr.family) * 8;

	if (rc)
		return rc;
	prefix->len = zero ? 0 : (uint8_t)max;
	if (!slash)
		return 0;
	if (zero || netmask_bits(slash + 1, &bits) != 0 || bits > max)
		return -EINVAL;
	prefix->len = (uint8_t)bits;
	return 0;
}

void ip_addr_from_bytes(struct ip_addr *addr, uint8_t family, const void *bytes)
{
	memset(addr, 0, sizeof(*addr));
	addr->family = family;
	memcpy(addr->bytes, bytes, ip_addr_size(family));
}

bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr)
{
	if (prefix->addr.family != addr->family)
		return false;
	unsigned full = prefix->len / 8, rest = prefix->len % 8;
	if (memcmp(prefix->addr.bytes, addr->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (prefix->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->len == b->len && ip_addr_equal(&a->addr, &b->addr);
}

int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, ip_addr_size(a->family));
}

int ip_prefix_compare(const struct ip_prefix *a, const struct ip_prefix *b)
{
	int order = ip_addr_compare(&a->addr, &b->addr);

	if (order != 0)
		return order;
	return (a->len > b->len) - (a->len < b->len);
}

const char *format_ip_addr(char *buf, size_t size, const struct ip_addr *addr)
{
	if (addr->family == 0 || !inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size))
		snprintf(buf, size, "-");
	return buf;
}

const char *format_ip_prefix(char *buf, size_t size, const struct ip_prefix *prefix)
{
	char text[IP_ADDR_STRLEN];
	snprintf(buf, size, "%s/%u", format_ip_addr(text, sizeof(text), &prefix->addr),
		 prefix->len);
	return buf;
}
