/* Family-agnostic IP address and prefix helpers. */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

int ip_prefix_parse_unmasked(const char *text, struct ip_prefix *prefix)
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
	int rc = ip_prefix_parse_unmasked(text, prefix);

	if (rc == 0)
		ip_prefix_mask(prefix);
	return rc;
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
